"""Writes for persons and their names. Callers wrap them in ``audit_context``."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction

from . import translit
from .models import DatePrecision, NameVariant, Person, Visibility

CYRILLIC_LANGUAGES = ("be", "ru", "uk")


def script_of(text: str) -> str:
    has_cyrillic = any("\u0400" <= ch <= "\u04ff" for ch in text)
    return NameVariant.Script.CYRILLIC if has_cyrillic else NameVariant.Script.LATIN


@transaction.atomic
def name_variant_add(
    *,
    person: Person,
    text: str,
    language: str,
    kind: str = NameVariant.Kind.COMMON,
    schemes: list[str] | None = None,
    generated: bool = False,
    visibility: str | None = None,
) -> NameVariant:
    """Add a spelling of the person's name, or return the one already stored."""
    text = " ".join(text.split())
    existing = NameVariant.objects.filter(person=person, text=text, language=language).first()
    if existing is not None:
        changed = []
        if schemes and not set(schemes) <= set(existing.schemes):
            existing.schemes = sorted(set(existing.schemes) | set(schemes))
            changed.append("schemes")
        if kind == NameVariant.Kind.PRIMARY and existing.kind != kind:
            existing.kind = kind
            changed.append("kind")
        if changed:
            existing.save(update_fields=[*changed, "updated_at"])
        return existing
    variant = NameVariant(
        person=person,
        text=text,
        search_key=translit.search_key(text),
        language=language,
        script=script_of(text),
        kind=kind,
        schemes=schemes or [],
        generated=generated,
        visibility=visibility or person.visibility,
    )
    variant.full_clean()
    variant.save()
    return variant


@transaction.atomic
def name_variants_generate(*, person: Person) -> list[NameVariant]:
    """Generate the Latin spellings of every Cyrillic primary name, in every common scheme.

    Idempotent: spellings already stored are kept (their scheme list is completed).
    """
    created: list[NameVariant] = []
    primaries = person.name_variants.filter(
        script=NameVariant.Script.CYRILLIC, kind=NameVariant.Kind.PRIMARY
    )
    for primary in primaries:
        for text, schemes in translit.variants(primary.text, primary.language):
            created.append(
                name_variant_add(
                    person=person,
                    text=text,
                    language=primary.language,
                    kind=NameVariant.Kind.TRANSLITERATION,
                    schemes=schemes,
                    generated=True,
                    visibility=primary.visibility,
                )
            )
    return created


@transaction.atomic
def person_create(
    *,
    name: str,
    name_be: str = "",
    name_ru: str = "",
    gender: str = Person.Gender.UNKNOWN,
    birth_date: dt.date | None = None,
    birth_date_precision: str = DatePrecision.UNKNOWN,
    visibility: str = Visibility.DRAFT,
    name_withheld: bool = False,
    **fields: Any,
) -> Person:
    """Create a person with their primary names and the generated Latin spellings."""
    if birth_date is not None and birth_date_precision == DatePrecision.UNKNOWN:
        birth_date_precision = DatePrecision.DAY
    person = Person(
        name=" ".join(name.split()),
        gender=gender,
        birth_date=birth_date,
        birth_date_precision=birth_date_precision,
        visibility=visibility,
        name_withheld=name_withheld,
        **fields,
    )
    person.full_clean()
    person.save()
    person_set_names(person=person, name=person.name, name_be=name_be, name_ru=name_ru)
    return person


@transaction.atomic
def person_set_names(
    *,
    person: Person,
    name: str = "",
    name_be: str = "",
    name_ru: str = "",
    visibility: str | None = None,
) -> None:
    """Store the primary names (Latin, Belarusian, Russian) and regenerate their spellings.

    New names take ``visibility`` (default: the person's); their generated spellings follow.
    """
    for text, language in ((name_be, "be"), (name_ru, "ru")):
        text = " ".join(text.split())
        if not text:
            continue
        current = person.name_variants.filter(
            language=language, kind=NameVariant.Kind.PRIMARY
        ).first()
        if current is not None and current.text != text:
            current.kind = NameVariant.Kind.FORMER
            current.save(update_fields=["kind", "updated_at"])
        name_variant_add(
            person=person,
            text=text,
            language=language,
            kind=NameVariant.Kind.PRIMARY,
            visibility=visibility,
        )
    name_variants_generate(person=person)
    name = " ".join(name.split())
    if name and not person.name_variants.filter(text=name).exists():
        name_variant_add(
            person=person,
            text=name,
            language="en",
            kind=NameVariant.Kind.COMMON,
            visibility=visibility,
        )


@transaction.atomic
def person_update(*, person: Person, **fields: Any) -> Person:
    """Change fields of a person; only the fields given are written."""
    for field, value in fields.items():
        setattr(person, field, value)
    person.full_clean()
    person.save(update_fields=[*fields, "updated_at"])
    return person


def person_from_name(text: str, *, visibility: str = Visibility.DRAFT) -> Person:
    """A new person from a name as written (a pasted line, an article): Cyrillic is taken as
    their Belarusian or Russian name and the Latin name generated; Latin is the name itself."""
    language = translit.detect_language(text) or (
        "ru" if any("\u0400" <= ch <= "\u04ff" for ch in text) else ""
    )
    if language:
        latin = translit.variants(text, language)[0][0]
        return person_create(
            name=latin,
            name_be=text if language == "be" else "",
            name_ru=text if language != "be" else "",
            visibility=visibility,
        )
    return person_create(name=text, visibility=visibility)
