"""Reads about persons shared by the pages, the API and the exports."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db.models import Prefetch
from django.urls import reverse

from .models import NameVariant, Person
from .visibility import NAME_WITHHELD, Tier, viewer_tier

# The name shown in each interface language: the primary variant of the first language found.
NAME_LANGUAGES = {"be": ("be", "ru"), "ru": ("ru", "be"), "uk": ("uk", "be", "ru")}


def names_prefetch(viewer: Any) -> Prefetch[Any]:
    """Prefetch the primary names a viewer may see, into ``person.shown_names`` (their
    language and text only: ``localized_name`` reads nothing else)."""
    return Prefetch(
        "name_variants",
        queryset=NameVariant.objects.visible_to(viewer)
        .filter(kind=NameVariant.Kind.PRIMARY)
        .order_by("language", "id")
        .only("id", "person_id", "language", "text"),
        to_attr="shown_names",
    )


def localized_name(person: Person, language: str, viewer: Any) -> str:
    """The person's name for an interface language, as this viewer may see it.

    English (and any language without a variant) gets ``Person.name``; Belarusian, Russian and
    Ukrainian get the primary Cyrillic name of that language, falling back to the nearest one.
    Uses ``names_prefetch`` when it was applied; a withheld name is never shown outside staff.
    """
    if person.name_withheld and viewer_tier(viewer) < Tier.STAFF:
        return NAME_WITHHELD
    names = getattr(person, "shown_names", None)
    if names is None:
        names = list(
            NameVariant.objects.visible_to(viewer).filter(
                person=person, kind=NameVariant.Kind.PRIMARY
            )
        )
    by_language = {variant.language: variant.text for variant in names}
    for candidate in NAME_LANGUAGES.get(language[:2], ()):
        if candidate in by_language:
            return by_language[candidate]
    return person.name


_URL_PK = 918_273_645_546_372_819  # a key no person has, replaced in the reversed address


def person_urls() -> Callable[[int], str]:
    """``Person.get_absolute_url`` for the persons of one page: the address is reversed once
    (a ``reverse`` per row costs more than the rest of a listing row)."""
    head, tail = reverse("prisoners:detail", args=[_URL_PK]).split(str(_URL_PK))
    return lambda pk: f"{head}{pk}{tail}"
