"""Reads over events: derived status, place, days in detention, expected end of term, counts.

Nothing here is typed in by staff. Every figure is computed in SQL from the events as they stood
on the date asked for, so a count for a past date can be reproduced and explained.

Rules (for person P on date D):

- *deceased*: a death on or before D.
- In custody on D: an episode with arrest on or before D (or an unknown arrest date, counted as
  an unknown earlier date) that had not ended by D (an episode ends on its release day). Then:
  *house arrest* if the placement on D is house arrest; *imprisoned* if a sentence (or appeal
  or extension) had been decided by D; *pre-trial detention* if the placement on D is pre-trial
  or temporary holding, or the episode has charges; otherwise *imprisoned* (held, stage not
  known).
- Not in custody, with an ended episode: *house arrest* if that release was a move to house
  arrest; *released and expelled* if the last transfer leg by D took them to another country
  than the one that held them; otherwise *released*.
- Episodes, none begun by D: *not detained*. No episode at all: *unknown*.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db import models
from django.db.models import (
    Case,
    CharField,
    Exists,
    F,
    Func,
    IntegerField,
    OuterRef,
    Q,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.expressions import RawSQL
from django.db.models.functions import Coalesce, Least
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from prisoners.models import Person

from .models import (
    CourtDecision,
    CustodyPlacement,
    Death,
    DetentionEpisode,
    Release,
    Transfer,
)

# Querysets carrying annotations the type stubs cannot see.
Annotated = models.QuerySet[Any]


class Status(models.TextChoices):
    PRE_TRIAL = "pre_trial", _("In pre-trial detention")
    IMPRISONED = "imprisoned", _("Imprisoned")
    HOUSE_ARREST = "house_arrest", _("Under house arrest")
    RELEASED = "released", _("Released")
    EXPELLED = "released_expelled", _("Released and expelled abroad")
    DECEASED = "deceased", _("Deceased")
    NOT_DETAINED = "not_detained", _("Not detained")
    UNKNOWN = "unknown", _("Unknown")


IN_CUSTODY = (Status.PRE_TRIAL, Status.IMPRISONED, Status.HOUSE_ARREST)


def _episodes_active_on(on: dt.date, person_ref: Any) -> models.QuerySet[DetentionEpisode]:
    return DetentionEpisode.objects.filter(person=person_ref).filter(
        Q(arrested_on__isnull=True) | Q(arrested_on__lte=on),
        Q(ended_on__isnull=True) | Q(ended_on__gt=on),
    )


def _placement_on(on: dt.date) -> models.QuerySet[CustodyPlacement]:
    return (
        CustodyPlacement.objects.filter(episode=OuterRef("custody_episode_id"), started_on__lte=on)
        .filter(Q(ended_on__isnull=True) | Q(ended_on__gt=on))
        .order_by("-started_on", "-id")
    )


def _leg_date() -> Any:
    return Coalesce("transferred_on", "release__released_on")


def with_status(queryset: models.QuerySet[Person], on: dt.date) -> Annotated:
    """Annotate persons with ``status``, ``status_country_id`` and ``status_place_id`` on ``on``."""
    sentenced = CourtDecision.objects.filter(
        episode=OuterRef("custody_episode_id"), kind__in=CourtDecision.TERM_KINDS
    ).filter(Q(decided_on__isnull=True) | Q(decided_on__lte=on))
    last_episode = DetentionEpisode.objects.filter(
        person=OuterRef("pk"), ended_on__lte=on
    ).order_by("-ended_on", "-id")
    last_leg = (
        Transfer.objects.filter(person=OuterRef("pk"))
        .annotate(leg_on=_leg_date())
        .filter(leg_on__lte=on, leg_on__gte=OuterRef("last_ended_on"))
        .order_by("-leg_on", "-sequence", "-id")
    )
    placement = _placement_on(on)
    qs = queryset.annotate(
        custody_episode_id=Subquery(
            _episodes_active_on(on, OuterRef("pk")).order_by().values("id")[:1]
        ),
        last_episode_id=Subquery(last_episode.values("id")[:1]),
        last_ended_on=Subquery(last_episode.values("ended_on")[:1]),
        last_episode_country_id=Subquery(last_episode.values("country_id")[:1]),
        last_release_kind=Subquery(
            Release.objects.filter(episode=OuterRef("last_episode_id")).values("kind")[:1]
        ),
        leg_country_id=Subquery(last_leg.values("to_country_id")[:1]),
        leg_place_id=Subquery(last_leg.values("to_place_id")[:1]),
        placement_kind=Subquery(placement.values("kind")[:1]),
        placement_facility_id=Subquery(placement.values("facility_id")[:1]),
    )
    in_custody = Q(custody_episode_id__isnull=False)
    expelled = Q(leg_country_id__isnull=False) & ~Q(leg_country_id=F("last_episode_country_id"))
    return qs.annotate(
        status=Case(
            When(
                Exists(Death.objects.filter(person=OuterRef("pk"), died_on__lte=on)),
                then=Value(Status.DECEASED),
            ),
            When(
                in_custody & Q(placement_kind=CustodyPlacement.Kind.HOUSE_ARREST),
                then=Value(Status.HOUSE_ARREST),
            ),
            When(in_custody & Exists(sentenced), then=Value(Status.IMPRISONED)),
            When(
                in_custody
                & (
                    Q(
                        placement_kind__in=[
                            CustodyPlacement.Kind.PRE_TRIAL,
                            CustodyPlacement.Kind.TEMPORARY,
                        ]
                    )
                    | Exists(
                        DetentionEpisode.objects.filter(
                            pk=OuterRef("custody_episode_id"), charges__isnull=False
                        )
                    )
                ),
                then=Value(Status.PRE_TRIAL),
            ),
            When(in_custody, then=Value(Status.IMPRISONED)),
            When(
                Q(last_episode_id__isnull=False) & Q(last_release_kind=Release.Kind.HOUSE_ARREST),
                then=Value(Status.HOUSE_ARREST),
            ),
            When(Q(last_episode_id__isnull=False) & expelled, then=Value(Status.EXPELLED)),
            When(last_episode_id__isnull=False, then=Value(Status.RELEASED)),
            When(
                Exists(DetentionEpisode.objects.filter(person=OuterRef("pk"))),
                then=Value(Status.NOT_DETAINED),
            ),
            default=Value(Status.UNKNOWN),
            output_field=CharField(),
        ),
        status_country_id=Case(
            When(
                in_custody,
                # order_by(): the default ordering joins the person table, and that join
                # would capture the person reference inside custody_episode_id.
                then=Subquery(
                    DetentionEpisode.objects.filter(pk=OuterRef("custody_episode_id"))
                    .order_by()
                    .values("country_id")[:1]
                ),
            ),
            When(expelled, then=F("leg_country_id")),
            default=F("last_episode_country_id"),
            output_field=models.BigIntegerField(),
        ),
        status_place_id=Case(
            When(in_custody, then=F("placement_facility_id")),
            When(expelled, then=F("leg_place_id")),
            default=Value(None),
            output_field=models.BigIntegerField(),
        ),
    )


def with_days_in_detention(queryset: models.QuerySet[Person], on: dt.date) -> Annotated:
    """Annotate ``days_in_detention``: days held across all episodes up to ``on``.

    Episodes with an unknown arrest date are left out (their length is unknown); partial dates
    count from the first day of their month or year.
    """
    held = (
        DetentionEpisode.objects.filter(person=OuterRef("pk"), arrested_on__lte=on)
        .annotate(
            days=Func(
                Least(Coalesce("ended_on", Value(on)), Value(on)),
                F("arrested_on"),
                template="(%(expressions)s)",
                arg_joiner=" - ",
                output_field=IntegerField(),
            )
        )
        .values("person")
        .annotate(total=Sum("days"))
        .values("total")
    )
    return queryset.annotate(days_in_detention=Coalesce(Subquery(held), Value(0)))


EXPECTED_END_SQL = """
SELECT (COALESCE(d.term_starts_on, e.arrested_on)
        + make_interval(years => COALESCE(d.term_years, 0)::int,
                        months => COALESCE(d.term_months, 0)::int,
                        days => COALESCE(d.term_days, 0)::int)
        + COALESCE((SELECT sum(make_interval(years => COALESCE(x.term_years, 0)::int,
                                             months => COALESCE(x.term_months, 0)::int,
                                             days => COALESCE(x.term_days, 0)::int))
                    FROM events_courtdecision x
                    WHERE x.episode_id = e.id AND x.kind = 'extension'), interval '0'))::date
FROM events_detentionepisode e
JOIN events_courtdecision d ON d.episode_id = e.id
WHERE e.person_id = prisoners_person.id
  AND d.kind IN ('sentence', 'appeal')
  AND COALESCE(d.term_starts_on, e.arrested_on) IS NOT NULL
  AND (d.term_years IS NOT NULL OR d.term_months IS NOT NULL OR d.term_days IS NOT NULL)
ORDER BY e.arrested_on DESC NULLS LAST, d.decided_on DESC NULLS LAST, d.id DESC
LIMIT 1
"""


def with_expected_end(queryset: models.QuerySet[Person]) -> Annotated:
    """Annotate ``expected_end``: the end of term of the latest sentenced episode.

    Term = the last sentence or appeal decision (an appeal replaces the term) plus every later
    extension, counted from ``term_starts_on`` or else from the arrest.
    """
    return queryset.annotate(
        # A constant statement, no parameters.
        expected_end=RawSQL(f"({EXPECTED_END_SQL})", (), output_field=models.DateField())  # noqa: S611
    )


@dataclass(frozen=True)
class PersonStatus:
    status: str
    country_id: int | None
    place_id: int | None
    days_in_detention: int
    expected_end: dt.date | None

    @property
    def label(self) -> str:
        return str(Status(self.status).label)


def person_status(*, person: Person | int, on: dt.date | None = None) -> PersonStatus:
    """Status, place, days in detention and expected end of term of one person on a date."""
    on = on or timezone.localdate()
    pk = person if isinstance(person, int) else person.pk
    row = (
        with_expected_end(with_days_in_detention(with_status(Person.objects.filter(pk=pk), on), on))
        .values(
            "status", "status_country_id", "status_place_id", "days_in_detention", "expected_end"
        )
        .get()
    )
    return PersonStatus(
        status=row["status"],
        country_id=row["status_country_id"],
        place_id=row["status_place_id"],
        days_in_detention=row["days_in_detention"],
        expected_end=row["expected_end"],
    )


def count_in_custody(*, on: dt.date, persons: models.QuerySet[Person] | None = None) -> int:
    """How many persons were in custody (pre-trial, imprisoned, house arrest) on ``on``.

    Dead persons are not counted; ``persons`` restricts the count (e.g. to what a viewer may see,
    name-withheld persons included).
    """
    episodes = DetentionEpisode.objects.filter(
        Q(arrested_on__isnull=True) | Q(arrested_on__lte=on),
        Q(ended_on__isnull=True) | Q(ended_on__gt=on),
    ).exclude(person__death__died_on__lte=on)
    if persons is not None:
        episodes = episodes.filter(person__in=persons)
    return episodes.values("person").distinct().count()


def statuses_on(*, on: dt.date, persons: models.QuerySet[Person] | None = None) -> dict[str, int]:
    """Number of persons per status on a date."""
    qs = with_status(persons if persons is not None else Person.objects.current(), on)
    counts = {
        row["status"]: row["n"]
        for row in qs.order_by().values("status").annotate(n=models.Count("id"))
    }
    return {status: counts.get(status, 0) for status in Status.values}


__all__ = [
    "IN_CUSTODY",
    "PersonStatus",
    "Status",
    "count_in_custody",
    "person_status",
    "statuses_on",
    "with_days_in_detention",
    "with_expected_end",
    "with_status",
]
