"""Writes for events, deals, sources and citations. Callers wrap them in ``audit_context``.

Every service validates (``full_clean``, which also checks the database constraints Django
knows) and saves; rules only the database knows (chronology triggers) come back as a
``ValidationError`` with the trigger's message, never as a bare database error.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import Any, TypeVar

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import IntegrityError, models, transaction

from prisoners.errors import ApplicationError
from prisoners.models import Country, DatePrecision, Person, Place, Visibility

from .models import (
    Charge,
    Citation,
    Claim,
    CourtDecision,
    CriminalArticle,
    CustodyPlacement,
    DealDestination,
    DealOnwardCountry,
    DealParty,
    Death,
    DetentionEpisode,
    IncommunicadoPeriod,
    Release,
    ReleaseDeal,
    Reliability,
    Source,
    Transfer,
)

M = TypeVar("M", bound=models.Model)

CLAIM_FIELD_UNKNOWN = "The claimed field does not exist on this record."


def save_checked(obj: M, *, validate: bool = True) -> M:
    """Validate and save; a database rule's refusal becomes a ``ValidationError``."""
    if validate:
        obj.full_clean()
    try:
        with transaction.atomic():
            obj.save()
    except IntegrityError as error:
        diag = getattr(error.__cause__, "diag", None)
        message = getattr(diag, "message_primary", None) or str(error)
        raise ValidationError(message) from error
    return obj


def record_upsert(model: type[M], lookup: dict[str, Any], values: dict[str, Any]) -> tuple[M, bool]:
    """Find the row by ``lookup``; create it, or update the fields that differ.

    Returns the row and whether anything was written. Writing nothing when nothing differs
    keeps re-runs (demo data, imports) out of the history.
    """
    obj = model._default_manager.filter(**lookup).first()
    if obj is None:
        return save_checked(model(**lookup, **values)), True
    changed = [name for name, value in values.items() if getattr(obj, name) != value]
    if not changed:
        return obj, False
    for name in changed:
        setattr(obj, name, values[name])
    return save_checked(obj), True


# --- Sources, citations, claims -----------------------------------------------------------------


def content_hash(text: str) -> str:
    return hashlib.sha256(" ".join(text.split()).encode()).hexdigest() if text.strip() else ""


@transaction.atomic
def source_get_or_create(
    *,
    title: str,
    kind: str = Source.Kind.ARTICLE,
    url: str = "",
    publisher: str = "",
    published_on: dt.date | None = None,
    language: str = "",
    text: str = "",
    visibility: str = Visibility.PUBLIC,
) -> Source:
    """The source with this URL (or this text), created if new."""
    digest = content_hash(text)
    existing = None
    if url:
        existing = Source.objects.filter(url=url).first()
    if existing is None and digest:
        existing = Source.objects.filter(content_hash=digest).first()
    if existing is not None:
        return existing
    return save_checked(
        Source(
            title=title,
            kind=kind,
            url=url,
            publisher=publisher,
            published_on=published_on,
            language=language,
            text=text,
            content_hash=digest,
            visibility=visibility,
        )
    )


def _target(obj: models.Model) -> dict[str, Any]:
    return {"content_type": ContentType.objects.get_for_model(obj), "object_id": obj.pk}


@transaction.atomic
def cite(
    *,
    obj: models.Model,
    source: Source,
    quote: str = "",
    reliability: str = Reliability.REPORTED,
    field_name: str = "",
) -> Citation:
    """Cite ``source`` for the fact ``obj`` (or one of its fields)."""
    citation, _ = record_upsert(
        Citation,
        {**_target(obj), "source": source, "field_name": field_name},
        {"quote": quote, "reliability": reliability},
    )
    return citation


@transaction.atomic
def claim_add(
    *,
    obj: models.Model,
    field_name: str,
    value: Any,
    source: Source,
    quote: str = "",
    reliability: str = Reliability.REPORTED,
) -> Claim:
    """Record what a source says a field's value is, beside any other claims."""
    if field_name not in {f.name for f in obj._meta.concrete_fields}:
        raise ValidationError({"field_name": CLAIM_FIELD_UNKNOWN})
    claim, _ = record_upsert(
        Claim,
        {**_target(obj), "field_name": field_name, "source": source},
        {"value": value, "quote": quote, "reliability": reliability},
    )
    return claim


@transaction.atomic
def claim_accept(*, claim: Claim) -> Claim:
    """Accept one claim for its field: the record takes its value, the others stay beside it."""
    Claim.objects.filter(
        content_type=claim.content_type,
        object_id=claim.object_id,
        field_name=claim.field_name,
        accepted=True,
    ).exclude(pk=claim.pk).update(accepted=False)
    target = claim.content_type.get_object_for_this_type(pk=claim.object_id)
    field = target._meta.get_field(claim.field_name)
    setattr(target, field.attname, field.to_python(claim.value))  # type: ignore[union-attr]
    save_checked(target)
    claim.accepted = True
    return save_checked(claim)


# --- Episodes and what happens inside them --------------------------------------------------


def open_episode(person: Person) -> DetentionEpisode | None:
    """The person's open episode (the latest, should the data hold several), locked for the
    writing transaction."""
    return (
        DetentionEpisode.objects.select_for_update()
        .filter(person=person)
        .open()
        .order_by("-arrested_on", "-pk")
        .first()
    )


@transaction.atomic
def episode_open(
    *,
    person: Person,
    country: Country,
    arrested_on: dt.date | None,
    arrested_on_precision: str = DatePrecision.DAY,
    arrest_place: Place | None = None,
    arresting_authority: str = "",
    summary: str = "",
    visibility: str | None = None,
) -> DetentionEpisode:
    if arrested_on is None:
        arrested_on_precision = DatePrecision.UNKNOWN
    return save_checked(
        DetentionEpisode(
            person=person,
            country=country,
            arrested_on=arrested_on,
            arrested_on_precision=arrested_on_precision,
            arrest_place=arrest_place,
            arresting_authority=arresting_authority,
            summary=summary,
            visibility=visibility or person.visibility,
        )
    )


@transaction.atomic
def charge_add(
    *, episode: DetentionEpisode, article: CriminalArticle, part: str = "", **fields: Any
) -> Charge:
    fields.setdefault("visibility", episode.visibility)
    return save_checked(Charge(episode=episode, article=article, part=part, **fields))


@transaction.atomic
def court_decision_add(*, episode: DetentionEpisode, kind: str, **fields: Any) -> CourtDecision:
    fields.setdefault("visibility", episode.visibility)
    if fields.get("decided_on") is None:
        fields["decided_on_precision"] = DatePrecision.UNKNOWN
    return save_checked(CourtDecision(episode=episode, kind=kind, **fields))


@transaction.atomic
def placement_add(
    *,
    episode: DetentionEpisode,
    kind: str,
    started_on: dt.date,
    facility: Place | None = None,
    ended_on: dt.date | None = None,
    visibility: str | None = None,
    started_on_precision: str = DatePrecision.DAY,
) -> CustodyPlacement:
    return save_checked(
        CustodyPlacement(
            episode=episode,
            person_id=episode.person_id,
            facility=facility,
            kind=kind,
            started_on=started_on,
            started_on_precision=started_on_precision,
            ended_on=ended_on,
            visibility=visibility or episode.visibility,
        )
    )


@transaction.atomic
def incommunicado_add(
    *, episode: DetentionEpisode, started_on: dt.date | None, **fields: Any
) -> IncommunicadoPeriod:
    fields.setdefault("visibility", episode.visibility)
    if started_on is None:
        fields["started_on_precision"] = DatePrecision.UNKNOWN
    return save_checked(IncommunicadoPeriod(episode=episode, started_on=started_on, **fields))


RELEASE_EXISTS = "This episode already ended with a release."


@transaction.atomic
def release_record(
    *,
    episode: DetentionEpisode,
    released_on: dt.date,
    kind: str,
    released_on_precision: str = DatePrecision.DAY,
    deal: ReleaseDeal | None = None,
    place: Place | None = None,
    conditions: str = "",
    visibility: str | None = None,
) -> Release:
    """Record the release that ends an episode (the database then closes the episode)."""
    if Release.objects.filter(episode=episode).exists():
        raise ApplicationError(RELEASE_EXISTS)
    release = save_checked(
        Release(
            episode=episode,
            released_on=released_on,
            released_on_precision=released_on_precision,
            kind=kind,
            deal=deal,
            place=place,
            conditions=conditions,
            visibility=visibility or episode.visibility,
        )
    )
    episode.refresh_from_db(fields=["ended_on", "end_reason", "end_level"])
    return release


@transaction.atomic
def death_record(
    *,
    person: Person,
    died_on: dt.date,
    episode: DetentionEpisode | None = None,
    **fields: Any,
) -> Death:
    fields.setdefault("visibility", person.visibility)
    death = save_checked(
        Death(
            person=person,
            died_on=died_on,
            episode=episode,
            in_custody=episode is not None,
            **fields,
        )
    )
    if episode is not None:
        episode.refresh_from_db(fields=["ended_on", "end_reason", "end_level"])
    return death


@transaction.atomic
def transfer_add(
    *,
    person: Person,
    from_country: Country,
    to_country: Country,
    release: Release | None = None,
    sequence: int | None = None,
    transferred_on: dt.date | None = None,
    **fields: Any,
) -> Transfer:
    """Add the next leg of a movement across a border (after ``release``, if given)."""
    if sequence is None:
        last = (
            Transfer.objects.filter(person=person, release=release)
            .order_by("-sequence")
            .values_list("sequence", flat=True)
            .first()
        )
        sequence = (last or 0) + 1
    if transferred_on is None:
        fields["transferred_on_precision"] = DatePrecision.UNKNOWN
    fields.setdefault("visibility", release.visibility if release else person.visibility)
    return save_checked(
        Transfer(
            person=person,
            release=release,
            sequence=sequence,
            transferred_on=transferred_on,
            from_country=from_country,
            to_country=to_country,
            **fields,
        )
    )


# --- Deals ------------------------------------------------------------------------------------


@transaction.atomic
def deal_create(*, title: str, slug: str, announced_on: dt.date, **fields: Any) -> ReleaseDeal:
    return save_checked(ReleaseDeal(title=title, slug=slug, announced_on=announced_on, **fields))


@transaction.atomic
def deal_party_add(*, deal: ReleaseDeal, role: str, name: str, **fields: Any) -> DealParty:
    party, _ = record_upsert(DealParty, {"deal": deal, "role": role, "name": name}, fields)
    return party


@transaction.atomic
def deal_destination_set(
    *,
    deal: ReleaseDeal,
    country: Country,
    reported_count: int | None,
    onward: list[Country] | None = None,
    note: str = "",
) -> DealDestination:
    """Set the reported number taken to ``country`` and where they were to go next."""
    destination, _ = record_upsert(
        DealDestination,
        {"deal": deal, "country": country},
        {"reported_count": reported_count, "note": note},
    )
    wanted = {c.pk for c in onward or []}
    destination.onward_links.exclude(country_id__in=wanted).delete()
    have = set(destination.onward_links.values_list("country_id", flat=True))
    for country_id in sorted(wanted - have):
        save_checked(DealOnwardCountry(destination=destination, country_id=country_id))
    return destination
