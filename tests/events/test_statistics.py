"""The statistics page and the counts behind it.

The counts are kept by database triggers (events/migrations/0005_statistics.py). Three checks
hold them honest: the demo story gives the numbers the report gives; after every kind of write
(services, bulk updates, raw SQL, deletes) the tables equal a full rebuild; and the figures equal
counts made independently through the ORM with ``visibility.statistics_filter``, for every tier.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import Group, User
from django.db import connection, transaction
from django.db.models import Case, Count, DateField, F, Q, When
from django.db.models.functions import Coalesce, TruncMonth
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from events import services
from events.models import (
    Charge,
    CriminalArticle,
    CustodyPlacement,
    Death,
    DetentionEpisode,
    Release,
    StatsDelta,
    StatsFact,
    StatsPending,
    Transfer,
)
from events.selectors import count_in_custody, episodes_seen, held_on, placement_open_on
from events.statistics import (
    AS_OF_FUTURE,
    AS_OF_INVALID,
    AS_OF_TOO_EARLY,
    AsOfError,
    Flow,
    parse_as_of,
    sankey,
    statistics_on,
    stats_flush,
    stats_rebuild,
)
from prisoners.models import Person, Place, Region
from prisoners.visibility import (
    RESEARCHER_GROUP,
    Tier,
    own_visibility_filter,
    statistics_filter,
    visibility_tier,
)
from tests.events import factories
from tests.second_factor import pass_second_factor

pytestmark = pytest.mark.django_db

URL = reverse("events:statistics")
DEAL_DAY = dt.date(2025, 12, 13)
TIERS = (Tier.PUBLIC, Tier.RESEARCHER, Tier.STAFF)


# --- Helpers ---------------------------------------------------------------------------------


def tables() -> tuple[Counter[tuple[Any, ...]], Counter[tuple[Any, ...]]]:
    stats_flush()  # count this transaction's writes, as a commit would
    facts = Counter(
        StatsFact.objects.values_list(
            "person_id", "figure", "level", "sign", "start", "stop", "key", "key2", "kind"
        )
    )
    deltas = Counter(
        StatsDelta.objects.values_list(
            "figure", "grain", "level", "key", "key2", "kind", "bucket", "n"
        )
    )
    return facts, deltas


def assert_incremental_equals_rebuild() -> None:
    incremental = tables()
    assert not StatsDelta.objects.filter(n=0).exists()
    stats_rebuild()
    assert tables() == incremental


def orm_figures(on: dt.date, tier: Tier) -> dict[str, Any]:
    """The figures counted straight from the events through the ORM, without the tables."""
    dead_by = Death.objects.filter(statistics_filter(Death, tier), died_on__lte=on)
    # An episode's end counts for a tier only if it sees the release or death (selectors).
    episodes = (
        episodes_seen(tier)
        .filter(statistics_filter(DetentionEpisode, tier))
        .filter(held_on(on))
        .exclude(person__in=dead_by.values("person"))
    )
    facilities = (
        CustodyPlacement.objects.filter(statistics_filter(CustodyPlacement, tier))
        .filter(episode__in=episodes.values("pk"), started_on__lte=on, facility__isnull=False)
        .filter(placement_open_on(on, tier))
        .values("facility")
        .annotate(n=Count("person", distinct=True))
    )
    articles = (
        Charge.objects.filter(statistics_filter(Charge, tier), episode__in=episodes.values("pk"))
        .values("article")
        .annotate(n=Count("episode__person", distinct=True))
    )
    regions = (
        episodes.filter(person__home_region__isnull=False)
        .values("person__home_region")
        .annotate(n=Count("person", distinct=True))
    )
    releases = (
        Release.objects.filter(statistics_filter(Release, tier), released_on__lte=on)
        .annotate(month=TruncMonth("released_on"))
        .values("month", "kind")
        .annotate(n=Count("id"))
    )
    # A leg without a date of its own counts on its release's day for the tiers that see it.
    release_day = (
        Case(
            When(own_visibility_filter(tier, "release__"), then=F("release__released_on")),
            output_field=DateField(),
        )
        if tier < Tier.STAFF
        else F("release__released_on")
    )
    transfers = (
        Transfer.objects.filter(statistics_filter(Transfer, tier))
        .annotate(day=Coalesce("transferred_on", release_day))
        .filter(Q(day__isnull=True) | Q(day__lte=on))
        .values("from_country__code", "to_country__code")
        .annotate(n=Count("id"))
    )
    return {
        "in_custody": episodes.values("person").distinct().count(),
        "facilities": {r["facility"]: r["n"] for r in facilities},
        "articles": {r["article"]: r["n"] for r in articles},
        "regions": {r["person__home_region"]: r["n"] for r in regions},
        "releases": {(r["month"], r["kind"]): r["n"] for r in releases},
        "transfers": {(r["from_country__code"], r["to_country__code"]): r["n"] for r in transfers},
    }


def _code(label: str) -> str:
    """The country code of a flow label such as "Belarus (BY)"."""
    return label.rsplit("(", 1)[1].rstrip(")")


def page_figures(on: dt.date, tier: Tier) -> dict[str, Any]:
    stats = statistics_on(as_of=on, tier=tier)
    return {
        "in_custody": stats.in_custody,
        "facilities": {row.key: row.count for row in stats.facilities},
        "articles": {row.key: row.count for row in stats.articles},
        "regions": {row.key: row.count for row in stats.regions},
        "releases": {
            (month.month, kind): count
            for month in stats.release_months
            for (kind, _label), count in zip(stats.release_kinds, month.counts, strict=True)
            if count
        },
        "transfers": {(_code(f.source), _code(f.target)): f.count for f in stats.flows},
    }


CHECK_DAYS = (
    dt.date(2019, 6, 1),
    dt.date(2020, 1, 1),
    dt.date(2021, 3, 15),
    dt.date(2023, 12, 31),
    dt.date(2024, 1, 1),
    dt.date(2024, 6, 30),
    dt.date(2025, 12, 12),
    DEAL_DAY,
    dt.date(2025, 12, 14),
    dt.date(2026, 1, 1),
)


def assert_matches_orm() -> None:
    for tier in TIERS:
        for day in CHECK_DAYS:
            assert page_figures(day, tier) == orm_figures(day, tier), (tier, day)


def viewer(tier: Tier) -> Client:
    client = Client()
    if tier == Tier.PUBLIC:
        return client
    user = User.objects.create_user(f"user-{tier.name.lower()}", is_staff=tier == Tier.STAFF)
    if tier == Tier.RESEARCHER:
        user.groups.add(Group.objects.get_or_create(name=RESEARCHER_GROUP)[0])
    return pass_second_factor(client, user)


def held(
    name: str,
    *,
    visibility: str = "public",
    arrested_on: dt.date | None = dt.date(2021, 3, 1),
    **person: Any,
) -> DetentionEpisode:
    who = factories.person(name, visibility=visibility, **person)
    return factories.episode(who, arrested_on=arrested_on, visibility=visibility)


@pytest.fixture
def catalogue() -> dict[str, Any]:
    return {
        "facility": Place.objects.filter(kind__in=Place.FACILITY_KINDS).order_by("id").first(),
        "other_facility": Place.objects.filter(kind__in=Place.FACILITY_KINDS)
        .order_by("-id")
        .first(),
        "article": CriminalArticle.objects.get(number="342"),
        "other_article": CriminalArticle.objects.exclude(number="342").order_by("id").first(),
        "region": Region.objects.order_by("id").first(),
        "other_region": Region.objects.order_by("-id").first(),
    }


# --- The demo story --------------------------------------------------------------------------


def test_demo_in_custody(demo):
    assert statistics_on(as_of=dt.date(2025, 12, 12), tier=Tier.PUBLIC).in_custody == 6
    assert statistics_on(as_of=DEAL_DAY, tier=Tier.PUBLIC).in_custody == 2
    # Tsikhanouski was released "on or before 14 Dec": on the 14th only Fenner is held.
    assert statistics_on(as_of=dt.date(2025, 12, 14), tier=Tier.PUBLIC).in_custody == 1
    # The selectors' rule gives the same numbers.
    public = Person.objects.visible_to(None)
    for day in CHECK_DAYS:
        assert statistics_on(as_of=day, tier=Tier.PUBLIC).in_custody == count_in_custody(
            on=day, persons=public, tier=Tier.PUBLIC
        ), day


def test_demo_releases_by_month_and_kind(demo):
    stats = statistics_on(as_of=dt.date(2025, 12, 31), tier=Tier.PUBLIC)
    december = {m.month: m for m in stats.release_months}[dt.date(2025, 12, 1)]
    by_kind = dict(zip([kind for kind, _ in stats.release_kinds], december.counts, strict=True))
    assert by_kind == {"deal": 4, "other": 1}
    assert stats.releases_total == 5


def test_demo_transfers(demo):
    stats = statistics_on(as_of=dt.date(2025, 12, 31), tier=Tier.PUBLIC)
    assert {(f.source, f.target): f.count for f in stats.flows} == {
        ("Belarus (BY)", "Ukraine (UA)"): 1,
        ("Belarus (BY)", "Lithuania (LT)"): 1,
    }


def test_demo_custody_series(demo):
    series = dict(statistics_on(as_of=dt.date(2025, 12, 12), tier=Tier.PUBLIC).custody_series)
    # Two held since an unknown date, two from 2020 (year only), one from 9 Aug 2020 (on or
    # before), Fenner from March 2024 (month only).
    assert series[dt.date(2020, 1, 31)] == 4
    assert series[dt.date(2020, 8, 31)] == 5
    assert series[dt.date(2024, 2, 29)] == 5
    assert series[dt.date(2024, 3, 31)] == 6
    assert series[dt.date(2025, 12, 12)] == 6
    assert list(series)[-1] == dt.date(2025, 12, 12)


def test_an_earlier_date_changes_the_figures(demo):
    before = statistics_on(as_of=dt.date(2024, 2, 15), tier=Tier.PUBLIC)
    assert before.in_custody == 5  # Fenner not yet detained
    assert before.release_months == []
    assert before.flows == []
    assert before.custody_series[-1] == (dt.date(2024, 2, 15), 5)
    after = statistics_on(as_of=dt.date(2025, 12, 14), tier=Tier.PUBLIC)
    assert after.in_custody == 1
    assert after.releases_total == 5
    assert after.transfers_total == 2


def test_demo_figures_match_the_orm(demo):
    assert_matches_orm()


# --- Who is counted --------------------------------------------------------------------------


def test_draft_person_counted_for_staff_only(demo):
    held("Draft Person", visibility="draft")
    day = dt.date(2025, 12, 14)
    assert statistics_on(as_of=day, tier=Tier.PUBLIC).in_custody == 1
    assert statistics_on(as_of=day, tier=Tier.RESEARCHER).in_custody == 1
    assert statistics_on(as_of=day, tier=Tier.STAFF).in_custody == 2


def test_researcher_person_counted_for_researchers_and_staff(demo):
    held("Researcher Person", visibility="researcher")
    day = dt.date(2025, 12, 14)
    assert statistics_on(as_of=day, tier=Tier.PUBLIC).in_custody == 1
    assert statistics_on(as_of=day, tier=Tier.RESEARCHER).in_custody == 2
    assert statistics_on(as_of=day, tier=Tier.STAFF).in_custody == 2


def test_name_withheld_person_is_counted_for_the_public(demo):
    held("Withheld Person", name_withheld=True)
    assert statistics_on(as_of=dt.date(2025, 12, 14), tier=Tier.PUBLIC).in_custody == 2
    response = Client().get(URL, {"as_of": "2025-12-14"})
    assert "Withheld Person" not in response.content.decode()


def test_draft_episode_of_a_public_person_is_not_counted_for_the_public(demo):
    who = factories.person("Public Person", visibility="public")
    factories.episode(who, arrested_on=dt.date(2021, 3, 1), visibility="draft")
    day = dt.date(2025, 12, 14)
    assert statistics_on(as_of=day, tier=Tier.PUBLIC).in_custody == 1
    assert statistics_on(as_of=day, tier=Tier.STAFF).in_custody == 2


def test_merged_person_is_not_counted_even_for_staff(demo):
    duplicate = held("Duplicate").person
    survivor = factories.person("Survivor", visibility="public")
    day = dt.date(2025, 12, 14)
    assert statistics_on(as_of=day, tier=Tier.STAFF).in_custody == 2
    Person.objects.filter(pk=duplicate.pk).update(merged_into=survivor)
    for tier in TIERS:
        assert statistics_on(as_of=day, tier=tier).in_custody == 1
    assert_incremental_equals_rebuild()


def test_the_page_shows_each_tier_its_counts(demo):
    held("Draft Person", visibility="draft")
    held("Researcher Person", visibility="researcher")
    expected = {Tier.PUBLIC: 1, Tier.RESEARCHER: 2, Tier.STAFF: 3}
    for tier, count in expected.items():
        response = viewer(tier).get(URL, {"as_of": "2025-12-14"})
        assert response.status_code == 200
        assert response.context["stats"].in_custody == count
        assert re.search(rf"<dd>{count}</dd>", response.content.decode())


def test_visibility_tier_matches_record_filter(demo):
    # The SQL of the triggers maps visibility to a tier; the Python rule must say the same.
    for value in ("public", "researcher", "draft"):
        episode = held(f"Person {value}", visibility=value)
        for tier in TIERS:
            seen = DetentionEpisode.objects.filter(
                statistics_filter(DetentionEpisode, tier), pk=episode.pk
            ).exists()
            assert seen == (visibility_tier(value) <= tier), (value, tier)


# --- Deaths ----------------------------------------------------------------------------------


def test_death_in_custody_ends_custody(demo):
    episode = held("Died In Custody")
    services.death_record(person=episode.person, died_on=dt.date(2024, 5, 1), episode=episode)
    assert statistics_on(as_of=dt.date(2024, 4, 30), tier=Tier.PUBLIC).in_custody == 7
    assert statistics_on(as_of=dt.date(2024, 5, 1), tier=Tier.PUBLIC).in_custody == 6
    assert_incremental_equals_rebuild()
    assert_matches_orm()


def test_death_outside_an_open_episode_ends_custody_for_the_tiers_that_see_it(demo, catalogue):
    episode = held("Died Elsewhere", home_region=catalogue["region"])
    services.placement_add(
        episode=episode,
        kind="colony",
        started_on=dt.date(2022, 1, 1),
        facility=catalogue["facility"],
    )
    services.charge_add(episode=episode, article=catalogue["article"])
    services.death_record(person=episode.person, died_on=dt.date(2024, 5, 1), visibility="draft")
    day = dt.date(2024, 6, 1)
    public = statistics_on(as_of=day, tier=Tier.PUBLIC)
    staff = statistics_on(as_of=day, tier=Tier.STAFF)
    assert public.in_custody == staff.in_custody + 1
    assert [row.count for row in public.facilities] == [1]
    assert staff.facilities == []
    assert_incremental_equals_rebuild()
    assert_matches_orm()


# --- Breakdowns on a day ---------------------------------------------------------------------


def test_facility_article_and_region_on_a_day(demo, catalogue):
    episode = held("Moved Around", home_region=catalogue["region"])
    services.charge_add(episode=episode, article=catalogue["article"])
    services.charge_add(episode=episode, article=catalogue["other_article"], visibility="draft")
    services.placement_add(
        episode=episode,
        kind="pre_trial",
        started_on=dt.date(2021, 3, 1),
        ended_on=dt.date(2022, 1, 1),
        facility=catalogue["facility"],
    )
    services.placement_add(
        episode=episode,
        kind="colony",
        started_on=dt.date(2022, 1, 1),
        facility=catalogue["other_facility"],
    )
    early = statistics_on(as_of=dt.date(2021, 6, 1), tier=Tier.PUBLIC)
    late = statistics_on(as_of=dt.date(2023, 6, 1), tier=Tier.PUBLIC)
    assert {r.key: r.count for r in early.facilities} == {catalogue["facility"].pk: 1}
    assert {r.key: r.count for r in late.facilities} == {catalogue["other_facility"].pk: 1}
    assert {r.key: r.count for r in late.articles} == {catalogue["article"].pk: 1}
    staff = statistics_on(as_of=dt.date(2023, 6, 1), tier=Tier.STAFF)
    assert {r.key: r.count for r in staff.articles} == {
        catalogue["article"].pk: 1,
        catalogue["other_article"].pk: 1,
    }
    assert {r.key: r.count for r in late.regions} == {catalogue["region"].pk: 1}
    assert late.region_unknown == late.in_custody - 1
    assert late.facility_unknown == late.in_custody - 1
    before = statistics_on(as_of=dt.date(2021, 2, 28), tier=Tier.PUBLIC)
    assert before.facilities == []
    assert before.articles == []
    assert before.regions == []
    assert_matches_orm()


# --- Incremental equals rebuild, after every kind of write -----------------------------------


def test_rebuild_of_the_demo_changes_nothing(demo):
    stats_flush()
    assert StatsFact.objects.exists()
    assert_incremental_equals_rebuild()


def test_service_writes(demo, catalogue):
    episode = held("Service Writes", home_region=catalogue["region"])
    assert_incremental_equals_rebuild()
    services.charge_add(episode=episode, article=catalogue["article"])
    services.placement_add(
        episode=episode,
        kind="pre_trial",
        started_on=dt.date(2021, 3, 2),
        facility=catalogue["facility"],
    )
    assert_incremental_equals_rebuild()
    release = services.release_record(
        episode=episode, released_on=dt.date(2024, 9, 1), kind="pardon"
    )
    assert_incremental_equals_rebuild()
    services.transfer_add(
        person=episode.person,
        release=release,
        from_country=factories.country("BY"),
        to_country=factories.country("PL"),
    )
    assert_incremental_equals_rebuild()
    again = factories.episode(episode.person, arrested_on=dt.date(2025, 1, 5), visibility="public")
    services.death_record(person=episode.person, died_on=dt.date(2025, 6, 1), episode=again)
    assert_incremental_equals_rebuild()
    assert_matches_orm()


def test_bulk_updates(demo, catalogue):
    episodes = [held(f"Bulk {i}", arrested_on=dt.date(2022, 1, i + 1)) for i in range(4)]
    ids = [e.person_id for e in episodes]
    Person.objects.filter(pk__in=ids[:2]).update(visibility="researcher")
    assert_incremental_equals_rebuild()
    Person.objects.filter(pk__in=ids).update(home_region=catalogue["other_region"])
    assert_incremental_equals_rebuild()
    DetentionEpisode.objects.filter(pk__in=[e.pk for e in episodes]).update(
        arrested_on=dt.date(2022, 5, 5)
    )
    assert_incremental_equals_rebuild()
    for e in episodes:
        e.visibility = "draft"
    DetentionEpisode.objects.bulk_update(episodes[1:], ["visibility"])
    assert_incremental_equals_rebuild()
    Release.objects.filter(deal__isnull=False).update(released_on=dt.date(2025, 11, 30))
    assert_incremental_equals_rebuild()
    Transfer.objects.update(visibility="researcher")
    assert_incremental_equals_rebuild()
    assert_matches_orm()


def test_raw_sql(demo, catalogue):
    fenner = Person.objects.get(name="Julia Fenner")
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE events_detentionepisode SET arrested_on = '2024-04-02' WHERE person_id = %s",
            [fenner.pk],
        )
        cursor.execute(
            "INSERT INTO events_charge (episode_id, article_id, part, note, visibility,"
            " created_at, updated_at) SELECT id, %s, '', '', 'public', now(), now()"
            " FROM events_detentionepisode WHERE person_id = %s",
            [catalogue["article"].pk, fenner.pk],
        )
        cursor.execute(
            "UPDATE prisoners_person SET visibility = 'draft' WHERE id = %s", [fenner.pk]
        )
    assert_incremental_equals_rebuild()
    assert statistics_on(as_of=dt.date(2025, 12, 14), tier=Tier.PUBLIC).in_custody == 0
    assert statistics_on(as_of=dt.date(2025, 12, 14), tier=Tier.STAFF).in_custody == 1
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM events_charge WHERE article_id = %s", [catalogue["article"].pk])
        cursor.execute(
            "UPDATE prisoners_person SET visibility = 'public' WHERE id = %s", [fenner.pk]
        )
    assert_incremental_equals_rebuild()
    assert_matches_orm()


def test_deletes(demo):
    # Deleting a release reopens its episode: the person is held again.
    release = Release.objects.get(episode__person__name="Viktar Babaryka")
    Transfer.objects.filter(release=release).delete()
    release.delete()
    assert statistics_on(as_of=dt.date(2025, 12, 14), tier=Tier.PUBLIC).in_custody == 2
    assert_incremental_equals_rebuild()
    Transfer.objects.all().delete()
    assert statistics_on(as_of=dt.date(2025, 12, 31), tier=Tier.PUBLIC).flows == []
    assert_incremental_equals_rebuild()
    episode = held("Short Lived")
    episode.delete()
    assert_incremental_equals_rebuild()
    assert_matches_orm()


def test_truncate_rebuilds(demo):
    stats_flush()
    StatsDelta.objects.all().delete()  # the counts are now wrong
    assert statistics_on(as_of=dt.date(2025, 12, 12), tier=Tier.PUBLIC).in_custody == 0
    with connection.cursor() as cursor:
        # (A table written earlier in the same transaction cannot be truncated: deaths were not.)
        cursor.execute("TRUNCATE events_death")
    assert statistics_on(as_of=dt.date(2025, 12, 12), tier=Tier.PUBLIC).in_custody == 6
    assert_incremental_equals_rebuild()


def test_counted_at_commit_without_a_read():
    """The writes are noted, then counted by a deferred trigger: at commit, or, as here, when
    the deferred constraints are checked (a test transaction never commits)."""
    episode = held("Committed Person")
    assert StatsPending.objects.exists()
    assert not StatsFact.objects.filter(person_id=episode.person_id).exists()
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS events_stats_flush IMMEDIATE")
    assert not StatsPending.objects.exists()
    assert StatsFact.objects.filter(person_id=episode.person_id, figure="custody").count() == 1
    assert_incremental_equals_rebuild()


class _Rollback(Exception):
    pass


def rolled_back(work: Callable[[], object]) -> None:
    """Run ``work`` in a savepoint, then roll the savepoint back."""
    try:
        with transaction.atomic():
            work()
            raise _Rollback
    except _Rollback:
        pass


def test_rolled_back_savepoints(demo):
    day = dt.date(2025, 12, 14)

    def in_custody() -> int:
        return statistics_on(as_of=day, tier=Tier.PUBLIC).in_custody

    rolled_back(lambda: held("Rolled Back"))
    assert in_custody() == 1
    inside: list[int] = []
    rolled_back(lambda: (held("Counted Then Rolled Back"), inside.append(in_custody())))
    assert inside == [2]  # counted inside the savepoint
    assert in_custody() == 1
    held("Kept")
    rolled_back(lambda: inside.append(in_custody()))
    assert inside == [2, 2]
    # The count made inside was undone with its savepoint: the write is still to count, and is.
    assert in_custody() == 2
    assert_incremental_equals_rebuild()


def test_unrelated_writes_leave_the_counts_alone(demo):
    before = tables()
    Person.objects.update(occupation="Changed")
    DetentionEpisode.objects.update(summary="Changed")
    assert tables() == before


# --- The page --------------------------------------------------------------------------------


def test_page_on_the_demo(demo):
    response = Client().get(URL, {"as_of": "2025-12-12"})
    assert response.status_code == 200
    html = response.content.decode()
    assert re.search(r"<dd>6</dd>", html)
    # Every chart has its table, in the HTML, with a caption; the data for the charts is inline.
    full = Client().get(URL, {"as_of": "2025-12-31"}).content.decode()
    assert full.count("<caption>") == 5  # custody, releases, transfers, facilities, regions
    assert 'id="statistics-data"' in html
    assert "vendor/chartjs/chart.umd.min.js" in html
    assert "js/statistics.js" in html
    # No request to a third party: every src and href stays on this site.
    for url in re.findall(r'(?:src|href)="([^"]+)"', html):
        assert url.startswith(("/", "#")), url
    flows = Client().get(URL, {"as_of": "2025-12-31"}).content.decode()
    assert "<svg" in flows
    assert "Belarus (BY) → Ukraine (UA): 1" in flows


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("bad", AS_OF_INVALID),
        ("2025-02-30", AS_OF_INVALID),
        ("2025-1-1", AS_OF_INVALID),
        ("1899-12-31", AS_OF_TOO_EARLY),
        ("9999-12-31", None),
        ("x" * 500, AS_OF_INVALID),
    ],
)
def test_bad_as_of_is_a_400_page(demo, value, message):
    response = Client().get(URL, {"as_of": value})
    assert response.status_code == 400
    html = response.content.decode()
    assert 'role="alert"' in html
    if message is not None:
        assert str(message) in html
    else:
        assert "no later than today" in html
    shown = re.search(r'name="as_of" value="([^"]*)"', html)
    assert shown is not None
    assert len(shown[1]) <= 40  # what was typed comes back, cut short


def test_parse_as_of():
    today = dt.date(2026, 1, 10)
    assert parse_as_of(None, today=today) == today
    assert parse_as_of("", today=today) == today
    assert parse_as_of(" 2025-12-13 ", today=today) == DEAL_DAY
    assert parse_as_of("2026-01-10", today=today) == today
    with pytest.raises(AsOfError):
        parse_as_of("2026-01-11", today=today)
    assert str(AS_OF_FUTURE % {"today": "2026-01-10"}).endswith("(2026-01-10).")


def _populate(count: int, catalogue: dict[str, Any]) -> None:
    for i in range(count):
        arrested_on = dt.date(2021, 1 + i % 12, 1 + i)
        episode = held(
            f"Extra {i}",
            arrested_on=arrested_on,
            home_region=catalogue["region" if i % 2 else "other_region"],
        )
        services.charge_add(
            episode=episode, article=catalogue["article" if i % 2 else "other_article"]
        )
        services.placement_add(
            episode=episode,
            kind="colony",
            started_on=arrested_on,
            facility=catalogue["facility" if i % 3 else "other_facility"],
        )
        if i % 4 == 0:
            release = services.release_record(
                episode=episode, released_on=dt.date(2023, 1 + i % 12, 2), kind="pardon"
            )
            services.transfer_add(
                person=episode.person,
                release=release,
                from_country=factories.country("BY"),
                to_country=factories.country("LT" if i % 8 else "PL"),
            )


@pytest.mark.parametrize("tier", TIERS)
def test_fixed_number_of_queries(demo, catalogue, django_assert_num_queries, tier):
    client = viewer(tier)
    with CaptureQueriesContext(connection) as small:
        client.get(URL, {"as_of": "2025-12-12"})
    statistics_queries = [q for q in small.captured_queries if "events_statsdelta" in q["sql"]]
    assert len(statistics_queries) == 3
    assert sum("events_stats_flush" in q["sql"] for q in small.captured_queries) == 1
    _populate(20, catalogue)
    with django_assert_num_queries(len(small.captured_queries)):
        response = client.get(URL, {"as_of": "2025-12-12"})
    stats = response.context["stats"]
    assert stats.facilities
    assert stats.articles
    assert stats.regions
    assert stats.flows


# --- The flow diagram ------------------------------------------------------------------------


def test_sankey_layout():
    diagram = sankey(
        [
            Flow("Belarus (BY)", "Ukraine (UA)", 114),
            Flow("Belarus (BY)", "Lithuania (LT)", 9),
            Flow("Ukraine (UA)", "Poland (PL)", 50),
        ]
    )
    sources = [n for n in diagram.nodes if n.side == "source"]
    targets = [n for n in diagram.nodes if n.side == "target"]
    assert [n.label for n in sources] == ["Belarus (BY)", "Ukraine (UA)"]
    assert [n.label for n in targets] == ["Ukraine (UA)", "Poland (PL)", "Lithuania (LT)"]
    assert sources[0].height > sources[1].height > 0
    assert len(diagram.links) == 3
    # Bands of one node stack without overlapping, and everything fits in the drawing.
    for node in diagram.nodes:
        assert node.y >= 0
        assert node.y + node.height <= diagram.height
    assert sankey([]).nodes == ()
