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

One visibility rule, also for derived facts: every function takes the viewer's ``tier``
(default staff: every record) and reads only the records that tier sees (their own visibility,
``prisoners.visibility.own_visibility_filter``; the person is the caller's business). An
episode's end counts only for a tier that sees the release or death that ended it
(``DetentionEpisode.end_level``); for the others the episode lasts until the next arrest they
see, or is still open (``episode_end``), and a placement cut by that end is open too
(``placement_open_on``).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db import connection, models
from django.db.models import (
    Case,
    CharField,
    Exists,
    F,
    Func,
    IntegerField,
    OuterRef,
    Prefetch,
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
from prisoners.statements import KEY, Statement, statement
from prisoners.visibility import Tier, own_visibility_filter

from .models import (
    Charge,
    CourtDecision,
    CustodyPlacement,
    Death,
    DetentionEpisode,
    IncommunicadoPeriod,
    Release,
    ReleaseDeal,
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


def _visible(tier: Tier, prefix: str = "") -> Q:
    return own_visibility_filter(tier, prefix)


def episode_end(tier: Tier = Tier.STAFF) -> Any:
    """The end of a ``DetentionEpisode`` row as ``tier`` sees it (an expression).

    Its ``ended_on`` when the tier sees the release or death that ended it; otherwise the next
    arrest of the person that the tier sees (a later arrest implies a release before it), else
    none: still open for that tier.
    """
    if tier >= Tier.STAFF:
        return F("ended_on")
    next_arrest = (
        DetentionEpisode.objects.filter(
            _visible(tier),
            person=OuterRef("person_id"),
            arrested_on__gt=Coalesce(OuterRef("arrested_on"), Value(dt.date.min)),
        )
        .order_by()
        .values("person")
        .annotate(first=models.Min("arrested_on"))
        .values("first")
    )
    return Case(
        When(ended_on__isnull=True, then=Value(None)),
        When(end_level__lte=int(tier), then=F("ended_on")),
        default=Subquery(next_arrest),
        output_field=models.DateField(),
    )


def episodes_seen(tier: Tier = Tier.STAFF) -> Annotated:
    """The episodes ``tier`` sees, with ``end_seen``: their end as the tier sees it."""
    return DetentionEpisode.objects.filter(_visible(tier)).annotate(end_seen=episode_end(tier))


def held_on(on: dt.date) -> Q:
    """On ``episodes_seen``: begun by ``on`` (or an unknown arrest date) and not ended by it."""
    return Q(Q(arrested_on__isnull=True) | Q(arrested_on__lte=on)) & Q(
        Q(end_seen__isnull=True) | Q(end_seen__gt=on)
    )


def placement_open_on(on: dt.date, tier: Tier = Tier.STAFF) -> Q:
    """On ``CustodyPlacement``: not ended by ``on`` as ``tier`` sees it. A placement cut by its
    episode's end (``ended_on`` the same day) is open for a tier that does not see that end."""
    condition = Q(ended_on__isnull=True) | Q(ended_on__gt=on)
    if tier < Tier.STAFF:
        condition |= Q(ended_on=F("episode__ended_on"), episode__end_level__gt=int(tier))
    return condition


def placement_end_seen(placement: CustodyPlacement, tier: Tier) -> dt.date | None:
    """A loaded placement's end as ``tier`` sees it (see ``placement_open_on``)."""
    episode = placement.episode
    if (
        placement.ended_on is not None
        and placement.ended_on == episode.ended_on
        and episode.end_level is not None
        and episode.end_level > tier
    ):
        return None
    return placement.ended_on


def episode_end_seen(episode: DetentionEpisode, tier: Tier) -> bool:
    """Whether ``tier`` sees the end of a loaded episode (its ``ended_on`` and ``end_reason``)."""
    return episode.end_level is not None and episode.end_level <= tier


def _episodes_active_on(
    on: dt.date, person_ref: Any, tier: Tier
) -> models.QuerySet[DetentionEpisode]:
    # One at most for staff (episodes of a person never overlap); for a lower tier an episode
    # whose end it does not see lasts until the next arrest it sees: the latest arrest first.
    return (
        episodes_seen(tier)
        .filter(person=person_ref)
        .filter(held_on(on))
        .order_by(F("arrested_on").desc(nulls_last=True), "-id")
    )


def _placement_on(on: dt.date, tier: Tier) -> models.QuerySet[CustodyPlacement]:
    return (
        CustodyPlacement.objects.filter(_visible(tier))
        .filter(episode=OuterRef("custody_episode_id"), started_on__lte=on)
        .filter(placement_open_on(on, tier))
        .order_by("-started_on", "-id")
    )


def _leg_date(tier: Tier) -> Any:
    """A transfer leg's day: its own, else its release's (if the tier sees the release)."""
    if tier >= Tier.STAFF:
        return Coalesce("transferred_on", "release__released_on")
    return Coalesce(
        "transferred_on",
        Case(
            When(_visible(tier, "release__"), then=F("release__released_on")),
            default=Value(None),
            output_field=models.DateField(),
        ),
    )


def with_status(
    queryset: models.QuerySet[Person], on: dt.date, tier: Tier = Tier.STAFF
) -> Annotated:
    """Annotate persons with ``status``, ``status_country_id`` and ``status_place_id`` on ``on``,
    from the records ``tier`` sees."""
    sentenced = (
        CourtDecision.objects.filter(_visible(tier))
        .filter(episode=OuterRef("custody_episode_id"), kind__in=CourtDecision.TERM_KINDS)
        .filter(Q(decided_on__isnull=True) | Q(decided_on__lte=on))
    )
    last_episode = (
        episodes_seen(tier)
        .filter(person=OuterRef("pk"), end_seen__lte=on)
        .order_by("-end_seen", "-id")
    )
    last_leg = (
        Transfer.objects.filter(_visible(tier))
        .filter(person=OuterRef("pk"))
        .annotate(leg_on=_leg_date(tier))
        .filter(leg_on__lte=on, leg_on__gte=OuterRef("last_ended_on"))
        .order_by("-leg_on", "-sequence", "-id")
    )
    placement = _placement_on(on, tier)
    qs = queryset.annotate(
        custody_episode_id=Subquery(_episodes_active_on(on, OuterRef("pk"), tier).values("id")[:1]),
        last_episode_id=Subquery(last_episode.values("id")[:1]),
        last_ended_on=Subquery(last_episode.values("end_seen")[:1]),
        last_episode_country_id=Subquery(last_episode.values("country_id")[:1]),
        last_release_kind=Subquery(
            Release.objects.filter(_visible(tier))
            .filter(episode=OuterRef("last_episode_id"))
            .values("kind")[:1]
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
                Exists(
                    Death.objects.filter(_visible(tier)).filter(
                        person=OuterRef("pk"), died_on__lte=on
                    )
                ),
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
                        Charge.objects.filter(_visible(tier)).filter(
                            episode=OuterRef("custody_episode_id")
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
                Exists(
                    DetentionEpisode.objects.filter(_visible(tier)).filter(person=OuterRef("pk"))
                ),
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


def with_days_in_detention(
    queryset: models.QuerySet[Person], on: dt.date, tier: Tier = Tier.STAFF
) -> Annotated:
    """Annotate ``days_in_detention``: days held across all episodes up to ``on``, as ``tier``
    sees them.

    Episodes with an unknown arrest date are left out (their length is unknown); partial dates
    count from the first day of their month or year.
    """
    held = (
        episodes_seen(tier)
        .filter(person=OuterRef("pk"), arrested_on__lte=on)
        .annotate(
            days=Func(
                Least(Coalesce("end_seen", Value(on)), Value(on)),
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
                    WHERE x.episode_id = e.id AND x.kind = 'extension'{x}), interval '0'))::date
FROM events_detentionepisode e
JOIN events_courtdecision d ON d.episode_id = e.id
WHERE e.person_id = prisoners_person.id
  AND d.kind IN ('sentence', 'appeal')
  AND COALESCE(d.term_starts_on, e.arrested_on) IS NOT NULL
  AND (d.term_years IS NOT NULL OR d.term_months IS NOT NULL OR d.term_days IS NOT NULL){e}{d}
ORDER BY e.arrested_on DESC NULLS LAST, d.decided_on DESC NULLS LAST, d.id DESC
LIMIT 1
"""

# The visibilities each tier sees, for the constant SQL above (staff: no condition).
_SEEN_VISIBILITIES = {Tier.PUBLIC: "('public')", Tier.RESEARCHER: "('public', 'researcher')"}


def _expected_end_sql(tier: Tier) -> str:
    seen = _SEEN_VISIBILITIES.get(tier)
    if seen is None:
        return EXPECTED_END_SQL.format(x="", e="", d="")
    return EXPECTED_END_SQL.format(
        x=f" AND x.visibility IN {seen}",
        e=f"\n  AND e.visibility IN {seen}",
        d=f" AND d.visibility IN {seen}",
    )


def with_expected_end(queryset: models.QuerySet[Person], tier: Tier = Tier.STAFF) -> Annotated:
    """Annotate ``expected_end``: the end of term of the latest sentenced episode ``tier`` sees.

    Term = the last sentence or appeal decision (an appeal replaces the term) plus every later
    extension, counted from ``term_starts_on`` or else from the arrest.
    """
    return queryset.annotate(
        # A constant statement (one per tier), no parameters.
        expected_end=RawSQL(f"({_expected_end_sql(tier)})", (), output_field=models.DateField())  # noqa: S611
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


# The derived status of one person is one large statement (``with_status`` and the two
# annotations after it): building and compiling it costs Django more CPU than running it. Its
# SQL depends only on the day and the tier, so it is a statement compiled once per day and tier
# (per process, ``prisoners.statements``), run with the person's id as its key.
_STATUS_COLUMNS = (
    "status",
    "status_country_id",
    "status_place_id",
    "days_in_detention",
    "expected_end",
)


def _status_statement(on: dt.date, tier: Tier) -> Statement:
    def build() -> models.QuerySet[Any]:
        persons = Person.objects.filter(pk=KEY)
        query = with_expected_end(
            with_days_in_detention(with_status(persons, on, tier), on, tier), tier
        )
        return query.values(*_STATUS_COLUMNS)

    return statement(("person_status", on, tier), build)


# Today's status of a published person, for the public: the person's listing row
# (``prisoners.PersonListing``) holds it, derived from the records of the tier of the person's
# own visibility, which for a published person is the public one; ``prisoners_listing_prepare``
# first brings the row up to date (this transaction's own writes, a dated event whose day has
# come). Days in detention as ``prisoners.listing.days_in_detention`` reads them.
_PUBLISHED_STATUS_SQL = """
SELECT l.status AS status, l.country_now_id AS status_country_id,
       l.place_now_id AS status_place_id,
       l.days_key + CASE WHEN l.growing THEN %s ELSE 0 END AS days_in_detention,
       ({expected_end}) AS expected_end
FROM prisoners_personlisting l JOIN prisoners_person ON prisoners_person.id = l.person_id
WHERE l.person_id = %s AND l.visibility = 'public' AND l.merged_into_id IS NULL
"""
_DAYS_EPOCH = dt.date(2000, 1, 1)  # prisoners.listing.DAYS_EPOCH


def _published_status(pk: int, on: dt.date) -> dict[str, Any] | None:
    """Today's status of ``pk`` for the public from its listing row; None if the person is not
    published (their row is derived for another tier)."""
    sql = _PUBLISHED_STATUS_SQL.format(expected_end=_expected_end_sql(Tier.PUBLIC))
    with connection.cursor() as cursor:
        cursor.execute("SELECT prisoners_listing_prepare(%s)", [on])
        cursor.execute(sql, [(on - _DAYS_EPOCH).days, pk])
        names = [column.name for column in cursor.description or ()]
        row = cursor.fetchone()
    return dict(zip(names, row, strict=True)) if row is not None else None


def person_status(
    *, person: Person | int, on: dt.date | None = None, tier: Tier = Tier.STAFF
) -> PersonStatus:
    """Status, place, days in detention and expected end of term of one person on a date, from
    the records ``tier`` sees: the rule of ``with_status``, ``with_days_in_detention`` and
    ``with_expected_end``.

    For the public today, a published person's status is read from their listing row (two
    small queries; the same rule, kept by the database); otherwise it is computed by the
    precompiled statement (one query)."""
    today = timezone.localdate()
    on = on or today
    tier = Tier(tier)
    pk = person if isinstance(person, int) else person.pk
    row = _published_status(pk, on) if tier == Tier.PUBLIC and on == today else None
    if row is None:
        found = _status_statement(on, tier).dicts(pk)
        if not found:
            raise Person.DoesNotExist(pk)
        row = found[0]
    return PersonStatus(
        status=row["status"],
        country_id=row["status_country_id"],
        place_id=row["status_place_id"],
        days_in_detention=row["days_in_detention"],
        expected_end=row["expected_end"],
    )


def episode_records(tier: Tier) -> dict[str, tuple[str, models.QuerySet[Any]]]:
    """The records of an episode that ``tier`` sees, by the attribute they are kept in on the
    episode: (the relation from the episode, the queryset, in date order). ``shown_release``
    holds one release or None, with ``deal_shown``: whether the tier sees its deal."""
    return {
        "shown_charges": (
            "charges",
            Charge.objects.visible_to(tier)
            .select_related("article__code")
            .order_by(F("charged_on").asc(nulls_last=True), "id"),
        ),
        "shown_decisions": (
            "court_decisions",
            CourtDecision.objects.visible_to(tier).order_by(
                F("decided_on").asc(nulls_last=True), "id"
            ),
        ),
        "shown_placements": (
            "placements",
            CustodyPlacement.objects.visible_to(tier)
            .select_related("facility__country")
            .order_by("started_on", "id"),
        ),
        "shown_isolation": (
            "incommunicado_periods",
            IncommunicadoPeriod.objects.visible_to(tier).order_by(
                F("started_on").asc(nulls_last=True), "id"
            ),
        ),
        "shown_release": (
            "release",
            Release.objects.visible_to(tier)
            .select_related("deal", "place__country")
            .annotate(
                deal_shown=Exists(
                    ReleaseDeal.objects.visible_to(tier).filter(pk=OuterRef("deal_id"))
                )
            ),
        ),
    }


def episode_prefetches(tier: Tier, *, through: str = "") -> list[Prefetch[Any]]:
    """``episode_records`` prefetched into ``shown_charges``, ``shown_decisions``,
    ``shown_placements``, ``shown_isolation`` (lists) and ``shown_release`` (the release or
    None). ``through``: the path from the prefetched objects to the episodes, e.g.
    ``"shown_episodes__"`` for persons whose episodes are prefetched into ``shown_episodes``."""
    return [
        Prefetch(f"{through}{relation}", queryset=queryset, to_attr=attribute)
        for attribute, (relation, queryset) in episode_records(tier).items()
    ]


def count_in_custody(
    *,
    on: dt.date,
    persons: models.QuerySet[Person] | None = None,
    tier: Tier = Tier.STAFF,
) -> int:
    """How many persons were in custody (pre-trial, imprisoned, house arrest) on ``on``, as
    ``tier`` sees their events.

    Dead persons are not counted; ``persons`` restricts the count (e.g. to what a viewer may see,
    name-withheld persons included).
    """
    dead = Death.objects.filter(_visible(tier)).filter(died_on__lte=on).values("person_id")
    episodes = episodes_seen(tier).filter(held_on(on)).exclude(person__in=dead)
    if persons is not None:
        episodes = episodes.filter(person__in=persons)
    return episodes.values("person").distinct().count()


def statuses_on(
    *,
    on: dt.date,
    persons: models.QuerySet[Person] | None = None,
    tier: Tier = Tier.STAFF,
) -> dict[str, int]:
    """Number of persons per status on a date, as ``tier`` sees their events."""
    qs = with_status(persons if persons is not None else Person.objects.current(), on, tier)
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
    "episode_end",
    "episode_end_seen",
    "episode_prefetches",
    "episode_records",
    "episodes_seen",
    "held_on",
    "person_status",
    "placement_end_seen",
    "placement_open_on",
    "statuses_on",
    "with_days_in_detention",
    "with_expected_end",
    "with_status",
]
