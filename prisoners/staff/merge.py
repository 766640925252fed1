"""Merging two records of one person: everything moves to the survivor, in one transaction.

``persons_merge`` runs inside ``audit_context`` (user, reason, source), so every moved record has
an update in its history with the reason. What moves to the survivor: detention episodes (their
charges, court decisions, incommunicado periods and release go with them, being the episode's),
custody placements, the death, transfer legs, name variants, identifiers in other lists,
biographies, citizenships, recognitions, at-risk flags, affiliations, the citations and claims
about the person, and the persons merged into the merged one before. The merged person keeps its
row with ``merged_into`` set: hidden everywhere (``prisoners.visibility``), its old address
redirects to the survivor.

The survivor's own fields are kept; those it leaves empty (birth date, gender, home region,
occupation, photo with its consent, letter address, whether letters reach them) are filled from
the merged record, and the merged record's staff notes are added to the survivor's, marked as
such (``MergeResult.filled``).

A record the survivor already has in the same form (the same spelling in the same language, the
same citizenship, a biography in the same language, ...) stays with the merged record, where the
history keeps it; a merged primary name in a language the survivor has one in moves as a common
spelling; a claim accepted on both sides moves as not accepted. A rule of the database (episodes
or placements of one person overlapping, the order of transfer legs) may refuse the merge: the
whole merge is then rolled back and the database's message is given.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db import DataError, IntegrityError, InternalError, models, transaction
from django.db.models import F, Max
from django.utils.translation import gettext_lazy as _

from events.models import Citation, Claim, CustodyPlacement, Death, DetentionEpisode, Transfer
from prisoners.audit import audit_context
from prisoners.errors import ApplicationError
from prisoners.models import (
    Affiliation,
    AtRiskFlag,
    DatePrecision,
    ExternalIdentifier,
    NameVariant,
    Person,
    PersonBiography,
    PersonCitizenship,
    Recognition,
)
from prisoners.services import person_update

MERGE_SELF = _("A person cannot be merged into itself.")
MERGE_MERGED = _("{person} was already merged into another record.")
MERGE_TWO_DEATHS = _(
    "Both records have a death recorded. Delete the wrong one first, then merge again."
)
MERGE_REFUSED = _("The database refused the merge, nothing was changed: {message}")


@dataclass
class MergeResult:
    survivor: Person
    merged: Person
    moved: dict[str, int] = field(default_factory=dict)
    kept: dict[str, int] = field(default_factory=dict)  # left with the merged record
    filled: list[str] = field(default_factory=list)  # survivor's fields taken from the merged

    def count(self, model: type[models.Model], moved: int, kept: int = 0) -> None:
        label = str(model._meta.verbose_name_plural)
        if moved:
            self.moved[label] = self.moved.get(label, 0) + moved
        if kept:
            self.kept[label] = self.kept.get(label, 0) + kept


def _move_unique(
    result: MergeResult,
    model: type[models.Model],
    key: tuple[str, ...],
    *,
    only: dict[str, Any] | None = None,
) -> None:
    """Move the merged person's rows of ``model``, except those whose ``key`` the survivor has
    (among its rows matching ``only``, the condition of a partial unique constraint)."""
    manager = model._default_manager
    condition = only or {}
    taken = set(manager.filter(person=result.survivor, **condition).values_list(*key))
    moving, kept = [], 0
    for pk, *values in manager.filter(person=result.merged).values_list("pk", *key):
        matches_condition = not condition or manager.filter(pk=pk, **condition).exists()
        if matches_condition and tuple(values) in taken:
            kept += 1
        else:
            moving.append(pk)
    if moving:
        manager.filter(pk__in=moving).update(person=result.survivor)
    result.count(model, len(moving), kept)


def _move_names(result: MergeResult) -> None:
    survivor, merged = result.survivor, result.merged
    spellings = set(NameVariant.objects.filter(person=survivor).values_list("text", "language"))
    primaries = set(
        NameVariant.objects.filter(person=survivor, kind=NameVariant.Kind.PRIMARY).values_list(
            "language", flat=True
        )
    )
    moved = kept = 0
    for variant in NameVariant.objects.filter(person=merged).order_by("pk"):
        if (variant.text, variant.language) in spellings:
            kept += 1
            continue
        values: dict[str, Any] = {"person": survivor}
        if variant.kind == NameVariant.Kind.PRIMARY and variant.language in primaries:
            values["kind"] = NameVariant.Kind.COMMON
        NameVariant.objects.filter(pk=variant.pk).update(**values)
        moved += 1
    result.count(NameVariant, moved, kept)


def _move_transfers(result: MergeResult) -> None:
    """Transfer legs move with their person; legs after no recorded release continue the
    survivor's own (numbered after them)."""
    survivor, merged = result.survivor, result.merged
    last = (
        Transfer.objects.filter(person=survivor, release__isnull=True).aggregate(m=Max("sequence"))[
            "m"
        ]
        or 0
    )
    free = Transfer.objects.filter(person=merged, release__isnull=True)
    moved = free.update(person=survivor, sequence=F("sequence") + last)
    moved += Transfer.objects.filter(person=merged).update(person=survivor)
    result.count(Transfer, moved)


def _move_facts(result: MergeResult) -> None:
    """Citations and claims about the merged person become about the survivor."""
    person_type = ContentType.objects.get_for_model(Person)
    merged = {"content_type": person_type, "object_id": result.merged.pk}
    survivor = {"content_type": person_type, "object_id": result.survivor.pk}
    cited = set(Citation.objects.filter(**survivor).values_list("source_id", "field_name"))
    moved = kept = 0
    for pk, source_id, field_name in Citation.objects.filter(**merged).values_list(
        "pk", "source_id", "field_name"
    ):
        if (source_id, field_name) in cited:
            kept += 1
        else:
            Citation.objects.filter(pk=pk).update(object_id=result.survivor.pk)
            moved += 1
    result.count(Citation, moved, kept)
    claimed = set(Claim.objects.filter(**survivor).values_list("field_name", "source_id"))
    accepted = set(
        Claim.objects.filter(**survivor, accepted=True).values_list("field_name", flat=True)
    )
    moved = kept = 0
    for claim in Claim.objects.filter(**merged).order_by("pk"):
        if (claim.field_name, claim.source_id) in claimed:
            kept += 1
            continue
        values: dict[str, Any] = {"object_id": result.survivor.pk}
        if claim.accepted and claim.field_name in accepted:
            values["accepted"] = False
        Claim.objects.filter(pk=claim.pk).update(**values)
        moved += 1
    result.count(Claim, moved, kept)


# Fields of a person that go together, and when the survivor's are empty: filled together
# from the merged record when the merged record's are not.
FILLED_FIELDS: tuple[tuple[tuple[str, ...], Any], ...] = (
    (
        ("birth_date", "birth_date_precision"),
        lambda p: p.birth_date is None or p.birth_date_precision == DatePrecision.UNKNOWN,
    ),
    (("gender",), lambda p: p.gender == Person.Gender.UNKNOWN),
    (("home_region",), lambda p: p.home_region_id is None),
    (("occupation",), lambda p: not p.occupation),
    (("photo", "photo_consent"), lambda p: not p.photo),  # a photo only with its consent
    (("letter_address",), lambda p: not p.letter_address),
    (("letters_reach",), lambda p: p.letters_reach == Person.LettersReach.UNKNOWN),
)
MERGED_NOTES = _("From the merged record #{pk}:")


def _label(name: str) -> str:
    return str(getattr(Person._meta.get_field(name), "verbose_name", name))


def _fill_empty(result: MergeResult) -> None:
    survivor, merged = result.survivor, result.merged
    changed: dict[str, Any] = {}
    for names, empty in FILLED_FIELDS:
        if empty(survivor) and not empty(merged):
            changed.update({name: getattr(merged, name) for name in names})
            result.filled.append(_label(names[0]))
    notes = merged.staff_notes.strip()
    if notes and notes not in survivor.staff_notes:
        heading = str(MERGED_NOTES).format(pk=merged.pk)
        changed["staff_notes"] = "\n\n".join(
            part for part in (survivor.staff_notes.strip(), f"{heading}\n{notes}") if part
        )
        result.filled.append(_label("staff_notes"))
    if changed:
        person_update(person=survivor, **changed)


def _refusal(error: Exception) -> ApplicationError:
    diag = getattr(error.__cause__, "diag", None)
    message = getattr(diag, "message_primary", None) or str(error)
    detail = getattr(diag, "message_detail", None)
    if detail:
        message = f"{message} ({detail})"
    return ApplicationError(str(MERGE_REFUSED).format(message=message))


@transaction.atomic
def persons_merge(
    *, merged: Person, survivor: Person, user: Any, reason: str, source: Any = None
) -> MergeResult:
    """Merge ``merged`` into ``survivor`` (see the module's description). Refusals raise
    ``ApplicationError``; nothing is then changed."""
    if merged.pk == survivor.pk:
        raise ApplicationError(str(MERGE_SELF))
    locked = Person.objects.select_for_update().filter(pk__in=[merged.pk, survivor.pk]).in_bulk()
    merged, survivor = locked[merged.pk], locked[survivor.pk]
    for person in (merged, survivor):
        if person.merged_into_id is not None:
            raise ApplicationError(str(MERGE_MERGED).format(person=person))
    if (
        Death.objects.filter(person=merged).exists()
        and Death.objects.filter(person=survivor).exists()
    ):
        raise ApplicationError(str(MERGE_TWO_DEATHS))
    result = MergeResult(survivor=survivor, merged=merged)
    try:
        with (
            transaction.atomic(),
            audit_context(
                user=user, reason=reason, source=source, merged=merged.pk, survivor=survivor.pk
            ),
        ):
            # Episodes first: their placements, death and transfers check their episode's person.
            moved = DetentionEpisode.objects.filter(person=merged).update(person=survivor)
            result.count(DetentionEpisode, moved)
            moved = CustodyPlacement.objects.filter(person=merged).update(person=survivor)
            result.count(CustodyPlacement, moved)
            result.count(Death, Death.objects.filter(person=merged).update(person=survivor))
            _move_transfers(result)
            _move_names(result)
            moved = ExternalIdentifier.objects.filter(person=merged).update(person=survivor)
            result.count(ExternalIdentifier, moved)
            _move_unique(result, PersonBiography, ("language",))
            _move_unique(result, PersonCitizenship, ("country_id",))
            _move_unique(result, Recognition, ("organisation_id",))
            _move_unique(result, Affiliation, ("organisation_id", "role"))
            _move_unique(result, AtRiskFlag, ("kind",), only={"until__isnull": True})
            _move_facts(result)
            _fill_empty(result)
            moved = Person.objects.filter(merged_into=merged).update(merged_into=survivor)
            result.count(Person, moved)
            merged.merged_into = survivor
            merged.save(update_fields=["merged_into", "updated_at"])
    except (IntegrityError, DataError, InternalError) as error:
        raise _refusal(error) from error
    return result
