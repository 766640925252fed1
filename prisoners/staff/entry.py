"""Staff entry of single facts: a person (with the name variants confirmed), and for a person a
detention episode, a charge, a sentence, a custody placement, an incommunicado period, a
release, or a chain of transfer legs.

Every entry is written by ``entry_save``: one transaction, inside ``audit_context`` with the
acting user, the reason and the source, so the history says who, why and from what. The
source is one already entered or a new one (URL and title, created as a draft). Every fact
written cites it, with the quote given. New facts are drafts: publication is the review page's
business. A refusal (a field the model rejects, a rule of the database) raises ``EntryError``
with readable messages, by field where the field is known, and nothing is written.

The writes themselves go through the services of ``events.services`` and
``prisoners.services``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.db import DataError, IntegrityError, models, transaction
from django.utils.translation import gettext_lazy as _

from events import services as ev
from events.models import (
    Charge,
    CourtDecision,
    CriminalArticle,
    CustodyPlacement,
    DetentionEpisode,
    IncommunicadoPeriod,
    Release,
    ReleaseDeal,
    Reliability,
    Source,
    Transfer,
)
from prisoners import translit
from prisoners.audit import audit_context
from prisoners.errors import ApplicationError
from prisoners.models import Country, DatePrecision, NameVariant, Person, Place, Visibility
from prisoners.services import name_variant_add, person_create, person_update

DRAFT = Visibility.DRAFT
REFUSED = _("Not saved: {message}")
# Refusals of the database, said plainly (by the constraint's name, or the text it gives).
PLAIN_REFUSALS = {
    "events_detentionepisode_no_overlap": _(
        "The person has another detention episode at that time: a new episode begins after the "
        "previous one ended (record its release first)."
    ),
    "events_custodyplacement_no_overlap": _(
        "The person is held in another placement at that time: placements cannot overlap "
        "(end the earlier one first)."
    ),
    "events_detentionepisode_ended_after_arrest": _(
        "The episode would end before the arrest: the date must be on or after the arrest."
    ),
    "range lower bound must be less than or equal to range upper bound": _(
        "The end cannot be before the start."
    ),
    "events_charge_unique": _("This charge is already recorded for the episode."),
}


class EntryError(Exception):
    """Nothing was written. ``errors``: messages of the whole entry; ``fields``: messages by
    model field name, with ``labels`` to show them where the form has no such field."""

    def __init__(
        self,
        errors: list[str],
        fields: dict[str, list[str]] | None = None,
        labels: dict[str, str] | None = None,
    ) -> None:
        self.errors = errors
        self.fields = fields or {}
        self.labels = labels or {}
        super().__init__("; ".join(self.messages()))

    def messages(self) -> list[str]:
        """Every message, those of fields with the field's name."""
        found = list(self.errors)
        for name, texts in self.fields.items():
            label = self.labels.get(name, name)
            found.extend(str(REFUSED).format(message=f"{label}: {text}") for text in texts)
        return found


@dataclass
class SourceInput:
    """The source of an entry: ``source`` already entered, or a new one from URL and title."""

    source: Source | None = None
    url: str = ""
    title: str = ""
    kind: str = Source.Kind.ARTICLE
    quote: str = ""
    reliability: str = Reliability.REPORTED


def _label(model: type[models.Model] | None, name: str) -> str:
    if model is None:
        return name
    try:
        return str(getattr(model._meta.get_field(name), "verbose_name", name))
    except FieldDoesNotExist:
        return name


def _plain(message: str) -> str:
    for key, plain in PLAIN_REFUSALS.items():
        if key in message:
            return str(plain)
    return message


def _entry_error(error: Exception, model: type[models.Model] | None) -> EntryError:
    """A refusal as readable messages: validation errors by field, database errors by the
    database's own message (a trigger's text, a constraint's name)."""
    if isinstance(error, ApplicationError):
        return EntryError([str(REFUSED).format(message=error.message)])
    if isinstance(error, ValidationError):
        if hasattr(error, "error_dict"):
            fields: dict[str, list[str]] = {}
            errors: list[str] = []
            for name, items in error.error_dict.items():
                texts = [str(m) for e in items for m in e.messages]
                if name == "__all__":
                    errors.extend(str(REFUSED).format(message=_plain(t)) for t in texts)
                else:
                    fields.setdefault(name, []).extend(texts)
            labels = {name: _label(model, name) for name in fields}
            return EntryError(errors, fields, labels)
        return EntryError([str(REFUSED).format(message=_plain(m)) for m in error.messages])
    diag = getattr(error.__cause__, "diag", None)
    message = getattr(diag, "message_primary", None) or str(error)
    return EntryError([str(REFUSED).format(message=_plain(message))])


def entry_save(
    *,
    user: Any,
    reason: str,
    source: SourceInput,
    write: Callable[[], Sequence[models.Model]],
    model: type[models.Model] | None = None,
    field_name: str = "",
) -> tuple[list[models.Model], Source]:
    """Run ``write`` in one transaction inside ``audit_context``; cite ``source`` for every
    record it returns (for its field ``field_name``, if given). Returns the records and the
    source. ``EntryError`` writes nothing."""
    try:
        with transaction.atomic():
            found = source.source
            if found is None:
                with audit_context(user=user, reason=reason):
                    found = ev.source_get_or_create(
                        title=source.title.strip(),
                        url=source.url.strip(),
                        kind=source.kind,
                        visibility=DRAFT,
                    )
            with audit_context(user=user, reason=reason, source=found):
                records = list(write())
                for record in records:
                    ev.cite(
                        obj=record,
                        source=found,
                        quote=source.quote.strip(),
                        reliability=source.reliability,
                        field_name=field_name,
                    )
    except (ApplicationError, ValidationError, IntegrityError, DataError) as error:
        raise _entry_error(error, model) from error
    return records, found


# --- Persons and the spellings of their names ---------------------------------------------------


@dataclass(frozen=True)
class VariantChoice:
    """One generated spelling offered for confirmation."""

    text: str
    language: str
    schemes: tuple[str, ...]

    @property
    def key(self) -> str:
        return f"{self.language}|{self.text}"


def variants_offered(*, name_be: str = "", name_ru: str = "") -> list[VariantChoice]:
    """The Latin spellings the generator makes of the Belarusian and Russian names, as
    ``prisoners.services.name_variants_generate`` would store them."""
    offered: list[VariantChoice] = []
    seen: set[str] = set()
    for text, language in ((name_be, "be"), (name_ru, "ru")):
        text = " ".join(text.split())
        if not text:
            continue
        for latin, schemes in translit.variants(text, language):
            choice = VariantChoice(" ".join(latin.split()), language, tuple(schemes))
            if choice.text and choice.key not in seen:
                seen.add(choice.key)
                offered.append(choice)
    return offered


@dataclass
class PersonInput:
    name: str
    name_be: str = ""
    name_ru: str = ""
    fields: dict[str, Any] = field(default_factory=dict)  # other fields of Person
    variants: list[VariantChoice] = field(default_factory=list)  # the confirmed spellings
    other_names: list[str] = field(default_factory=list)  # spellings added by hand


def person_enter(data: PersonInput) -> list[models.Model]:
    """Create a draft person with the primary names and only the confirmed spellings."""
    person = person_create(name=data.name, visibility=DRAFT, **data.fields)
    for text, language in ((data.name_be, "be"), (data.name_ru, "ru")):
        if text.strip():
            name_variant_add(
                person=person, text=text, language=language, kind=NameVariant.Kind.PRIMARY
            )
    for choice in data.variants:
        name_variant_add(
            person=person,
            text=choice.text,
            language=choice.language,
            kind=NameVariant.Kind.TRANSLITERATION,
            schemes=list(choice.schemes),
            generated=True,
        )
    for text in data.other_names:
        name_variant_add(person=person, text=text, language=spelling_language(text))
    return [person]


def spelling_language(text: str) -> str:
    """The language of a spelling added by hand: Belarusian or Russian for Cyrillic (Russian
    when the letters do not tell), English for Latin."""
    if any("\u0400" <= ch <= "\u04ff" for ch in text):
        return translit.detect_language(text) or "ru"
    return "en"


# --- Facts of a person --------------------------------------------------------------------------


def episode_enter(
    *,
    person: Person,
    country: Country,
    arrested_on: dt.date | None,
    arrested_on_precision: str,
    arrest_place: Place | None = None,
    arresting_authority: str = "",
    summary: str = "",
) -> list[models.Model]:
    return [
        ev.episode_open(
            person=person,
            country=country,
            arrested_on=arrested_on,
            arrested_on_precision=arrested_on_precision,
            arrest_place=arrest_place,
            arresting_authority=arresting_authority,
            summary=summary,
            visibility=DRAFT,
        )
    ]


def charge_enter(
    *, episode: DetentionEpisode, article: CriminalArticle, part: str = "", **fields: Any
) -> list[models.Model]:
    charge: Charge = ev.charge_add(
        episode=episode, article=article, part=part, visibility=DRAFT, **fields
    )
    return [charge]


def sentence_enter(*, episode: DetentionEpisode, **fields: Any) -> list[models.Model]:
    decision: CourtDecision = ev.court_decision_add(
        episode=episode, kind=CourtDecision.Kind.SENTENCE, visibility=DRAFT, **fields
    )
    return [decision]


def placement_enter(
    *,
    episode: DetentionEpisode,
    kind: str,
    started_on: dt.date,
    facility: Place | None = None,
    ended_on: dt.date | None = None,
    started_on_precision: str = DatePrecision.DAY,
) -> list[models.Model]:
    placement: CustodyPlacement = ev.placement_add(
        episode=episode,
        kind=kind,
        started_on=started_on,
        started_on_precision=started_on_precision,
        facility=facility,
        ended_on=ended_on,
        visibility=DRAFT,
    )
    return [placement]


def incommunicado_enter(
    *, episode: DetentionEpisode, started_on: dt.date | None, **fields: Any
) -> list[models.Model]:
    period: IncommunicadoPeriod = ev.incommunicado_add(
        episode=episode, started_on=started_on, visibility=DRAFT, **fields
    )
    return [period]


def release_enter(
    *,
    episode: DetentionEpisode,
    released_on: dt.date,
    released_on_precision: str,
    kind: str,
    deal: ReleaseDeal | None = None,
    conditions: str = "",
) -> list[models.Model]:
    release: Release = ev.release_record(
        episode=episode,
        released_on=released_on,
        released_on_precision=released_on_precision,
        kind=kind,
        deal=deal,
        conditions=conditions,
        visibility=DRAFT,
    )
    return [release]


@dataclass
class Leg:
    from_country: Country
    to_country: Country
    transferred_on: dt.date | None = None
    transferred_on_precision: str = "day"
    mode: str = Transfer.Mode.UNKNOWN
    documents: str = Transfer.Documents.UNKNOWN
    note: str = ""


def transfers_enter(
    *, person: Person, legs: list[Leg], release: Release | None = None
) -> list[models.Model]:
    """The legs in order, each the next of the person's chain (after ``release``, if given)."""
    return [
        ev.transfer_add(
            person=person,
            release=release,
            from_country=leg.from_country,
            to_country=leg.to_country,
            transferred_on=leg.transferred_on,
            transferred_on_precision=leg.transferred_on_precision,
            mode=leg.mode,
            documents=leg.documents,
            note=leg.note,
            visibility=DRAFT,
        )
        for leg in legs
    ]


# --- Finding a source to cite --------------------------------------------------------------------

SOURCE_HITS = 10


def source_search(query: str) -> list[Source]:
    """Sources whose title or URL contains ``query`` (or with that number), newest first."""
    text = " ".join(query.split())
    if not text:
        return []
    found = models.Q(title__icontains=text) | models.Q(url__icontains=text)
    if text.lstrip("#").isdigit():
        found |= models.Q(pk=int(text.lstrip("#")))
    return list(Source.objects.filter(found).order_by("-pk")[:SOURCE_HITS])


# --- Correcting one field of a record ------------------------------------------------------------

# Small reference tables a corrected field may point to (a select of every row is fine).
EDITABLE_RELATIONS = frozenset(
    {
        "prisoners.Country",
        "prisoners.Place",
        "prisoners.Region",
        "prisoners.Organisation",
        "events.CriminalArticle",
        "events.ReleaseDeal",
    }
)
# Names are entered with the person (their search keys and spellings follow the text).
NOT_EDITABLE_MODELS = frozenset({"prisoners.NameVariant"})
# What a citation or claim points to is not corrected: it is cited anew.
NOT_EDITABLE_FIELDS = frozenset({"object_id", "content_type"})
# Fields that decide what is shown of a person: only reviewers (who may publish) change them.
PUBLISHER_ONLY_FIELDS = frozenset({"name_withheld", "photo_consent"})
VALUE_UNCHANGED = _("The value is unchanged.")
NOT_EDITABLE = _("This field cannot be corrected here.")


def editable_fields(model: type[models.Model]) -> dict[str, models.Field[Any, Any]]:
    """The fields of ``model`` staff may correct here: those a claim may be about, without
    files and without links to large tables (persons, episodes, sources)."""
    from .forms import claimable_fields

    if model._meta.label in NOT_EDITABLE_MODELS:
        return {}
    found = {}
    for f in claimable_fields(model):
        if isinstance(f, models.FileField) or f.name in NOT_EDITABLE_FIELDS:
            continue
        if f.is_relation:
            related = f.related_model
            if related is None or isinstance(related, str):
                continue
            if related._meta.label not in EDITABLE_RELATIONS:
                continue
        found[f.name] = f
    return found


def fact_field_set(*, obj: models.Model, field_name: str, value: Any) -> list[models.Model]:
    """Correct one field of a record (validated, and checked by the database)."""
    if field_name not in editable_fields(type(obj)):
        raise ApplicationError(str(NOT_EDITABLE))
    field = obj._meta.get_field(field_name)
    current = getattr(obj, field.name)
    if current == value:
        raise ApplicationError(str(VALUE_UNCHANGED))
    if isinstance(obj, Person):
        return [person_update(person=obj, **{field.name: value})]
    setattr(obj, field.name, value)
    return [ev.save_checked(obj)]
