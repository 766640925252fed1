"""The listing of persons: its snapshot table, filters, facet counts, sorting and pages."""

import datetime as dt
import re

import psycopg
import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AnonymousUser, Group
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from events import services as ev
from events import synthetic
from events.models import CriminalArticle, CustodyPlacement, DetentionEpisode, Transfer
from events.selectors import Status, with_days_in_detention, with_status
from prisoners import listing
from prisoners.models import AtRiskFlag, Country, Person, PersonListing, Visibility
from prisoners.services import person_create, person_update
from prisoners.visibility import RESEARCHER_GROUP, Tier, visibility_tier
from tests.second_factor import pass_second_factor

pytestmark = pytest.mark.django_db

D = dt.date
DEMO_NAMES = {
    "Maryia Kalesnikava",
    "Ales Bialiatski",
    "Viktar Babaryka",
    "Maryna Zolatava",
    "Siarhei Tsikhanouski",
    "Julia Fenner",
}
DEAL_NAMES = {"Maryia Kalesnikava", "Ales Bialiatski", "Viktar Babaryka", "Maryna Zolatava"}


# --- helpers -------------------------------------------------------------------------------------


def derived(on: dt.date) -> dict[int, tuple]:
    """(status, country, place, days) of every person by events.selectors, from the records the
    tier of the person's own visibility sees (the rule of the listing rows)."""
    found: dict[int, tuple] = {}
    for visibility in Visibility.values:
        tier = visibility_tier(visibility)
        persons = Person.objects.filter(visibility=visibility)
        rows = with_days_in_detention(with_status(persons, on, tier), on, tier).values_list(
            "pk", "status", "status_country_id", "status_place_id", "days_in_detention"
        )
        found.update({pk: tuple(rest) for pk, *rest in rows})
    return found


def snapshot(today: dt.date) -> dict[int, tuple]:
    """The same from the listing table, as the pages read it."""
    listing.prepare(today)
    rows = PersonListing.objects.annotate(days=listing.days_in_detention(today)).values_list(
        "person_id", "status", "country_now_id", "place_now_id", "days"
    )
    return {pk: tuple(rest) for pk, *rest in rows}


def rows_on(on: dt.date) -> dict[int, tuple]:
    """The SQL rule of the snapshot (prisoners_listing_rows) for any day."""
    shift = (on - listing.DAYS_EPOCH).days
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT person_id, status, country_now_id, place_now_id,"
            " days_key + CASE WHEN growing THEN %s ELSE 0 END"
            " FROM prisoners_listing_rows(ARRAY(SELECT id FROM prisoners_person), %s)",
            [shift, on],
        )
        return {pk: tuple(rest) for pk, *rest in cursor.fetchall()}


def assert_snapshot_is_derived() -> None:
    today = timezone.localdate()
    assert snapshot(today) == derived(today)


def names(response) -> list[str]:
    """The names in the results table, in order."""
    body = response.content.decode()
    return re.findall(r'<th scope="row">(?:<a href="[^"]*">)?([^<]+)<', body)


def page(client, query: str = "", **headers):
    response = client.get(f"/persons/{query}", **headers)
    assert response.status_code == 200, response.content.decode()[:2000]
    return response


@pytest.fixture
def researcher():
    user = get_user_model().objects.create_user("listing-researcher", password="x" * 12)
    user.groups.add(Group.objects.get_or_create(name=RESEARCHER_GROUP)[0])
    return user


@pytest.fixture
def hidden(demo):
    """A draft person, a researcher-only one and a name-withheld one, each with an episode."""
    by = Country.objects.get(code="BY")
    made = {
        "draft": person_create(name="Draft Hidden"),
        "researcher": person_create(name="Researcher Only", visibility=Visibility.RESEARCHER),
        "withheld": person_create(
            name="Withheld Name", visibility=Visibility.PUBLIC, name_withheld=True
        ),
    }
    for who in made.values():
        ev.episode_open(person=who, country=by, arrested_on=D(2023, 5, 1))
    return made


# --- the snapshot is the derived status --------------------------------------------------------


def test_snapshot_equals_with_status_on_the_demo(demo):
    today = timezone.localdate()
    assert set(snapshot(today)) == set(Person.objects.values_list("pk", flat=True))
    assert_snapshot_is_derived()
    for day in (D(2019, 12, 31), D(2020, 8, 9), D(2025, 12, 12), D(2025, 12, 13), today):
        assert rows_on(day) == derived(day), day


def test_snapshot_equals_with_status_on_generated_data():
    today = timezone.localdate()
    synthetic.generate(persons=300, seed=11, batch=150, workers=1, today=today)
    assert Person.objects.count() >= 300
    assert_snapshot_is_derived()
    statuses = {row[0] for row in snapshot(today).values()}
    assert {Status.IMPRISONED, Status.RELEASED} <= statuses  # the data exercises the rules
    for day in (D(2012, 6, 1), D(2020, 8, 9), D(2021, 3, 15), D(2023, 1, 1), D(2024, 12, 31)):
        assert rows_on(day) == derived(day), day


def test_snapshot_follows_every_kind_of_write(demo):
    by, ua = Country.objects.get(code="BY"), Country.objects.get(code="UA")
    who = person_create(name="Written Person", visibility=Visibility.PUBLIC)
    assert_snapshot_is_derived()  # a new person: unknown
    episode = ev.episode_open(person=who, country=by, arrested_on=D(2022, 2, 2))
    assert_snapshot_is_derived()
    assert PersonListing.objects.get(person=who).status == Status.IMPRISONED
    ev.charge_add(episode=episode, article=CriminalArticle.objects.first())
    assert_snapshot_is_derived()
    assert PersonListing.objects.get(person=who).status == Status.PRE_TRIAL
    ev.placement_add(episode=episode, kind="house_arrest", started_on=D(2022, 3, 1))
    assert_snapshot_is_derived()
    assert PersonListing.objects.get(person=who).status == Status.HOUSE_ARREST
    # A bulk update, as an import or a data fix would do.
    CustodyPlacement.objects.filter(episode=episode).update(kind="colony")
    assert_snapshot_is_derived()
    assert PersonListing.objects.get(person=who).status == Status.PRE_TRIAL
    ev.court_decision_add(episode=episode, kind="sentence", decided_on=D(2022, 9, 1))
    assert_snapshot_is_derived()
    assert PersonListing.objects.get(person=who).status == Status.IMPRISONED
    release = ev.release_record(episode=episode, released_on=D(2025, 12, 13), kind="pardon")
    assert_snapshot_is_derived()
    assert PersonListing.objects.get(person=who).status == Status.RELEASED
    ev.transfer_add(
        person=who, release=release, from_country=by, to_country=ua, transferred_on=D(2025, 12, 13)
    )
    assert_snapshot_is_derived()
    row = PersonListing.objects.get(person=who)
    assert (row.status, row.country_now_id) == (Status.EXPELLED, ua.pk)
    Transfer.objects.filter(person=who).delete()
    assert_snapshot_is_derived()
    # Raw SQL too.
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE events_detentionepisode SET country_id = %s WHERE id = %s", [ua.pk, episode.pk]
        )
    assert_snapshot_is_derived()
    assert PersonListing.objects.get(person=who).country_now_id == ua.pk
    person_update(person=who, visibility=Visibility.DRAFT)
    listing.prepare(timezone.localdate())
    assert not listing.listed(AnonymousUser()).filter(person=who).exists()
    assert listing.listed(Tier.STAFF).filter(person=who).exists()


def test_rows_with_a_future_event_are_refreshed_when_its_day_comes(demo):
    today = timezone.localdate()
    who = person_create(name="Future Release", visibility=Visibility.PUBLIC)
    episode = ev.episode_open(
        person=who, country=Country.objects.get(code="BY"), arrested_on=today - dt.timedelta(9)
    )
    ev.release_record(episode=episode, released_on=today + dt.timedelta(5), kind="end_of_term")
    listing.prepare(today)
    row = PersonListing.objects.get(person=who)
    assert (row.status, row.valid_until) == (Status.IMPRISONED, today + dt.timedelta(5))
    later = today + dt.timedelta(6)
    listing.prepare(later)
    row = PersonListing.objects.annotate(days=listing.days_in_detention(later)).get(person=who)
    assert (row.status, row.days, row.valid_until) == (Status.RELEASED, 14, None)


def test_merged_and_deleted_persons_leave_the_listing(demo):
    kept = Person.objects.get(name="Julia Fenner")
    duplicate = person_create(name="Julia Fener", visibility=Visibility.PUBLIC)
    listing.prepare(timezone.localdate())
    assert listing.listed(AnonymousUser()).filter(person=duplicate).exists()
    person_update(person=duplicate, merged_into=kept)
    listing.prepare(timezone.localdate())
    assert not listing.listed(Tier.STAFF).filter(person=duplicate).exists()
    other = person_create(name="Deleted Person")
    listing.prepare(timezone.localdate())
    other.delete()
    listing.prepare(timezone.localdate())
    assert not PersonListing.objects.filter(person_id=other.pk).exists()


# --- facets and counts ---------------------------------------------------------------------------


def test_facet_counts_on_the_demo(demo):
    today = timezone.localdate()
    listing.prepare(today)
    counts = listing.facet_counts(
        listing.listed(AnonymousUser()), viewer=AnonymousUser(), today=today
    )
    assert counts.total == 6
    assert not counts.approximate
    assert counts.of("status") == {"released_expelled": 2, "released": 3, "imprisoned": 1}
    by, ua, lt = (Country.objects.get(code=c).pk for c in ("BY", "UA", "LT"))
    assert counts.of("country_now") == {by: 4, ua: 1, lt: 1}
    assert counts.of("custody_country") == {by: 6}
    assert counts.of("gender") == {"female": 3, "male": 3}
    assert counts.of("deal") == {demo.pk: 4}
    assert counts.of("year") == {2020: 3, 2024: 1}
    assert counts.by_age == {"unknown": 6}


def test_counts_follow_the_filters_and_the_day(client, demo):
    body = page(client, f"?deal={demo.slug}").content.decode()
    assert re.search(
        r'value="released_expelled"> Released and expelled abroad</label> '
        r'<span class="count">2<',
        body,
    )
    assert re.search(r'value="released"> Released</label> <span class="count">2<', body)
    assert 'value="imprisoned"' not in body
    body = page(client, "?on=2025-12-12").content.decode()
    assert re.search(r'value="imprisoned"> Imprisoned</label> <span class="count">6<', body)


def test_filter_by_the_deal_lists_the_four(client, demo):
    assert set(names(page(client, f"?deal={demo.slug}"))) == DEAL_NAMES


def test_filter_by_status_on_a_day_and_now(client, demo):
    assert names(page(client, "?status=imprisoned")) == ["Julia Fenner"]
    assert set(names(page(client, "?status=imprisoned&on=2025-12-12"))) == DEMO_NAMES
    on_13 = set(names(page(client, "?status=imprisoned&on=2025-12-13")))
    assert on_13 == {"Siarhei Tsikhanouski", "Julia Fenner"}
    expelled = set(names(page(client, "?status=released_expelled&on=2025-12-13")))
    assert expelled == {"Maryia Kalesnikava", "Ales Bialiatski"}
    # Today given as the day is the same as no day.
    today = timezone.localdate().isoformat()
    assert names(page(client, f"?status=imprisoned&on={today}")) == ["Julia Fenner"]


def test_other_filters(client, demo):
    assert set(names(page(client, "?country_now=UA&country_now=LT"))) == {
        "Maryia Kalesnikava",
        "Ales Bialiatski",
    }
    assert set(names(page(client, "?gender=female&year=2020"))) == {"Maryia Kalesnikava"}
    assert set(names(page(client, "?custody_country=BY&age=unknown"))) == DEMO_NAMES
    assert names(page(client, "?year=2019")) == []


def test_article_facility_region_and_recognition_filters(client, demo):
    from prisoners.models import Organisation, Place, Recognition, Region

    fenner = Person.objects.get(name="Julia Fenner")
    episode = DetentionEpisode.objects.get(person=fenner)
    article = CriminalArticle.objects.first()
    ev.charge_add(episode=episode, article=article)
    colony = Place.objects.filter(kind="colony").first() or Place.objects.create(
        kind="colony", name="Colony 4", country=Country.objects.get(code="BY")
    )
    ev.placement_add(episode=episode, kind="colony", started_on=D(2024, 6, 1), facility=colony)
    region = Region.objects.first() or Region.objects.create(
        country=Country.objects.get(code="BY"), name="Minsk Region"
    )
    person_update(person=fenner, home_region=region)
    viasna = Organisation.objects.create(name="Viasna", kind="human_rights")
    Recognition.objects.create(person=fenner, organisation=viasna, visibility=Visibility.PUBLIC)
    for query in (
        f"?article={article.pk}",
        f"?facility={colony.pk}",
        f"?region={region.pk}",
        f"?recognised_by={viasna.pk}",
    ):
        assert names(page(client, query)) == ["Julia Fenner"], query
    body = page(client).content.decode()
    assert f"{article.code.short_name} {article.number}" in body
    assert "Colony" in body or colony.name in body


def test_a_draft_fact_is_not_a_public_filter(client, demo):
    fenner = Person.objects.get(name="Julia Fenner")
    episode = DetentionEpisode.objects.get(person=fenner)
    article = CriminalArticle.objects.first()
    ev.charge_add(episode=episode, article=article, visibility=Visibility.DRAFT)
    assert names(page(client, f"?article={article.pk}")) == []
    assert f"{article.code.short_name} {article.number}" not in page(client).content.decode()


def test_at_risk_filter_is_for_researchers_only(client, demo, researcher):
    fenner = Person.objects.get(name="Julia Fenner")
    AtRiskFlag.objects.create(person=fenner, kind="over_60", visibility=Visibility.RESEARCHER)
    public = page(client, "?at_risk=over_60")
    assert set(names(public)) == DEMO_NAMES  # the parameter does not exist for the public
    assert 'name="at_risk"' not in public.content.decode()
    client.force_login(researcher)
    assert names(page(client, "?at_risk=over_60")) == ["Julia Fenner"]
    assert 'name="at_risk"' in page(client).content.decode()


# --- who is listed -------------------------------------------------------------------------------


def test_draft_researcher_only_and_withheld_persons_are_not_listed_for_the_public(
    client, hidden, researcher, admin_user
):
    listed = set(names(page(client, "?per_page=200")))
    assert listed == DEMO_NAMES
    body = page(client, "?status=imprisoned").content.decode()
    for who in hidden.values():
        assert f"/persons/{who.pk}/" not in body
    assert "Withheld" not in body
    client.force_login(researcher)
    assert set(names(page(client))) == DEMO_NAMES | {"Researcher Only"}
    pass_second_factor(client, admin_user)
    assert set(names(page(client))) == DEMO_NAMES | {
        "Researcher Only",
        "Draft Hidden",
        "Withheld Name",
    }


# --- sorting and pages ---------------------------------------------------------------------------


def test_sorting(client, demo):
    by_name = names(page(client))
    assert by_name == sorted(DEMO_NAMES)
    assert names(page(client, "?sort=-name")) == sorted(DEMO_NAMES, reverse=True)
    most_days = names(page(client, "?sort=-days"))
    days = dict(
        with_days_in_detention(Person.objects.all(), timezone.localdate()).values_list(
            "name", "days_in_detention"
        )
    )
    assert [days[n] for n in most_days] == sorted(days.values(), reverse=True)
    assert most_days[0] == "Maryia Kalesnikava" or days[most_days[0]] == days["Maryia Kalesnikava"]
    fewest = names(page(client, "?sort=days"))
    assert [days[n] for n in fewest] == sorted(days.values())
    recent = names(page(client, "?sort=-detained"))
    assert recent[0] == "Julia Fenner"
    assert set(recent[-2:]) == {"Ales Bialiatski", "Maryna Zolatava"}  # unknown dates last


def test_names_and_sort_in_the_interface_language(client, demo):
    shown = names(page(client, HTTP_ACCEPT_LANGUAGE="be"))
    cyrillic = [name for name in shown if re.match("[А-Яа-яІіЎў]", name)]
    # Belarusian names in Belarusian alphabetical order (і after и-less з, ў after у).
    assert cyrillic == [
        "Алесь Бяляцкі",
        "Віктар Бабарыка",
        "Марына Золатава",
        "Марыя Калеснікава",
        "Сяргей Ціханоўскі",
    ]
    assert "Julia Fenner" in shown  # no Belarusian name: the Latin one
    assert "Мария Колесникова" in names(page(client, HTTP_ACCEPT_LANGUAGE="ru"))


def test_days_sort_merges_held_and_released_across_pages(client, demo):
    ids = []
    for number in (1, 2, 3):
        response = page(client, f"?sort=-days&per_page=2&page={number}")
        ids += names(response)
    assert ids == names(page(client, "?sort=-days&per_page=10"))


def test_pagination_keeps_the_filters(client, demo):
    response = page(client, "?status=released&status=released_expelled&per_page=2&page=2")
    body = response.content.decode()
    assert len(names(response)) == 2
    prev = re.search(r'<a rel="prev" href="([^"]+)"', body).group(1)
    nxt = re.search(r'<a rel="next" href="([^"]+)"', body).group(1)
    for link in (prev, nxt):
        link = link.replace("&amp;", "&")
        assert "status=released&status=released_expelled" in link
        assert "per_page=2" in link
    assert "page=1" in prev
    assert "page=3" in nxt
    assert '<link rel="next"' in body
    assert '<link rel="prev"' in body
    last = names(page(client, nxt.replace("&amp;", "&")))
    assert len(last) == 1


def test_a_fixed_number_of_queries_for_1_or_30_rows(client, demo, django_assert_num_queries):
    by = Country.objects.get(code="BY")
    article = CriminalArticle.objects.first()
    for number in range(30):
        who = person_create(name=f"Person {number:02}", visibility=Visibility.PUBLIC)
        episode = ev.episode_open(person=who, country=by, arrested_on=D(2021, 1, 1 + number))
        ev.charge_add(episode=episode, article=article)
    query = f"?status=pre_trial&article={article.pk}&sort=-days"
    with CaptureQueriesContext(connection) as one:
        assert len(names(page(client, query + "&per_page=1"))) == 1
    cache.clear()
    with django_assert_num_queries(len(one)):
        assert len(names(page(client, query + "&per_page=30"))) == 30
    cache.clear()
    with django_assert_num_queries(len(one)):
        assert len(names(page(client, query.replace("-days", "name") + "&per_page=30"))) == 30


@pytest.mark.parametrize(
    "query",
    [
        "?sort=%27%22",
        "?status=nonsense",
        "?on=not-a-date",
        "?on=1850-01-01",
        "?on=2999-01-01",
        "?page=abc",
        "?page=0",
        "?page=-1",
        "?per_page=0",
        "?per_page=100000",
        "?deal=no-such-deal",
        "?country_now=XX",
        "?article=abc",
        "?year=1200",
        "?age=old",
    ],
)
def test_bad_parameters_answer_400(client, demo, query):
    response = client.get(f"/persons/{query}")
    assert response.status_code == 400
    assert "not valid" in response.content.decode()


def test_a_page_past_the_end_is_404(client, demo):
    assert client.get("/persons/?page=99").status_code == 404


# --- cached counts --------------------------------------------------------------------------------


def committed_change() -> None:
    """Commit a write to the listing from another connection, as another writer would."""
    settings = connection.settings_dict
    with psycopg.connect(
        dbname=settings["NAME"],
        user=settings["USER"],
        host=settings["HOST"],
        port=settings["PORT"] or 5432,
        password=settings["PASSWORD"] or None,
        autocommit=True,
    ) as other:
        other.execute(
            "INSERT INTO prisoners_personlisting_change (xid) VALUES (pg_current_xact_id())"
        )


def facet_queries(captured) -> int:
    return sum("prisoners_listing_facets" in q["sql"] for q in captured.captured_queries)


# Two facets: counted from the rows (one facet or none is read from the kept counts).
TWO_FACETS = "?gender=female&gender=male&custody_country=BY"


def test_counts_are_cached_until_a_write_commits(client):
    # No write in this test's transaction: what it counts may be cached.
    with CaptureQueriesContext(connection) as first:
        page(client, TWO_FACETS)
    with CaptureQueriesContext(connection) as second:
        page(client, TWO_FACETS)
    assert (facet_queries(first), facet_queries(second)) == (1, 0)
    committed_change()
    with CaptureQueriesContext(connection) as third:
        page(client, TWO_FACETS)
    assert facet_queries(third) == 1


def test_counts_are_not_cached_by_a_transaction_that_wrote(client, demo):
    page(client, TWO_FACETS)
    with CaptureQueriesContext(connection) as again:
        page(client, TWO_FACETS)
    assert facet_queries(again) == 1  # its own writes are not for others to see


def test_large_results_are_counted_from_a_sample(client, demo, settings):
    settings.LISTING_EXACT_COUNT_LIMIT = 0
    settings.LISTING_SAMPLE_ROWS = 0
    # A page counts few rows only, and those exactly: the sample is for counting many.
    assert "About" not in page(client, TWO_FACETS).content.decode()
    response = page(client, TWO_FACETS + "&counts=all")
    assert "About" in response.content.decode()
    assert set(names(response)) == DEMO_NAMES  # the rows themselves are never sampled


# --- counts kept by the database (one facet or none) ----------------------------------------------

ONE_FACET_QUERIES = [
    "",
    "?status=imprisoned",
    "?status=released&status=released_expelled",
    "?gender=female",
    "?age=unknown",
    "?age=30-39&age=70-",
    "?country_now=BY",
    "?country_now=UA&country_now=LT",
    "?custody_country=BY",
    "?year=2020",
    "?on={today}",  # today is no other day
]


def pairs_recounted() -> set[tuple]:
    """``prisoners_listingpair`` as migration 0010 computes it from every listing row."""
    from importlib import import_module

    migration = import_module("prisoners.migrations.0010_listing_facet_pairs")
    rows = "SELECT 1 AS sign, r.* FROM prisoners_personlisting r"
    with connection.cursor() as cursor:
        cursor.execute(migration.PAIRS.format(rows=rows))
        return set(cursor.fetchall())


def pairs_kept() -> set[tuple]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT fa, va, fb, vb, lvl, n FROM prisoners_listingpair WHERE n <> 0")
        return set(cursor.fetchall())


def counted_from_rows(query: str, tier: Tier) -> listing.FacetCounts:
    from django.http import QueryDict

    from prisoners.filters import PersonListingFilter

    today = timezone.localdate()
    filterset = PersonListingFilter(QueryDict(query.lstrip("?")), listing.listed(tier), tier=tier)
    assert filterset.is_valid()
    return listing.facet_counts(filterset.qs, viewer=tier, today=today)


def kept_counts(query: str, tier: Tier) -> listing.FacetCounts:
    from django.http import QueryDict

    from prisoners.filters import PersonListingFilter

    today = timezone.localdate()
    filterset = PersonListingFilter(QueryDict(query.lstrip("?")), listing.listed(tier), tier=tier)
    assert filterset.is_valid()
    one = filterset.one_facet()
    assert one is not None, query
    return listing.pair_counts(one, viewer=tier, today=today)


@pytest.mark.parametrize("tier", list(Tier))
def test_kept_counts_are_the_counts_of_the_rows(demo, hidden, tier):
    today = timezone.localdate()
    listing.prepare(today)
    deal_query = f"?deal={demo.slug}"
    article = CriminalArticle.objects.first()
    for episode in DetentionEpisode.objects.order_by("id")[:3]:
        ev.charge_add(episode=episode, article=article)
    queries = [q.format(today=today) for q in ONE_FACET_QUERIES]
    queries += [deal_query, f"?article={article.pk}"]
    for query in queries:
        kept, counted = kept_counts(query, tier), counted_from_rows(query, tier)
        assert (kept.counts, kept.total, kept.by_age) == (
            counted.counts,
            counted.total,
            counted.by_age,
        ), query
    assert kept_counts("", tier).total == listing.listed(tier).count()


def test_several_facets_or_values_of_a_list_are_counted_from_the_rows(demo):
    from django.http import QueryDict

    from prisoners.filters import PersonListingFilter

    def one(query: str):
        filterset = PersonListingFilter(QueryDict(query), listing.listed(Tier.PUBLIC))
        filterset.is_valid()
        return filterset.one_facet()

    assert one("") == (None, ())
    assert one("status=imprisoned&sort=-days") == ("status", [2])
    assert one("year=2020&year=2024") is None  # a row may be in both years
    assert one("gender=male&year=2020") is None
    assert one("status=imprisoned&on=2025-12-12") is None


def test_kept_text_values_are_the_choices():
    from importlib import import_module

    migration = import_module("prisoners.migrations.0010_listing_facet_pairs")
    assert listing.PAIR_TEXT_VALUES["status"] == migration.STATUSES
    assert listing.PAIR_TEXT_VALUES["gender"] == migration.GENDERS
    assert set(migration.STATUSES) == set(Status.values)
    assert set(migration.GENDERS) == set(Person.Gender.values)


def test_kept_counts_follow_every_write_in_the_same_transaction(demo, hidden):
    today = timezone.localdate()
    listing.prepare(today)
    assert pairs_kept() == pairs_recounted()
    before = kept_counts("?gender=female", Tier.PUBLIC)
    who = person_create(name="Counted Person", visibility=Visibility.PUBLIC, gender="female")
    episode = ev.episode_open(
        person=who, country=Country.objects.get(code="BY"), arrested_on=D(2022, 3, 1)
    )
    ev.charge_add(episode=episode, article=CriminalArticle.objects.first())
    listing.prepare(today)  # what every page does first: no commit needed
    after = kept_counts("?gender=female", Tier.PUBLIC)
    assert after.total == before.total + 1
    assert after.of("year").get(2022, 0) == before.of("year").get(2022, 0) + 1
    assert pairs_kept() == pairs_recounted()
    person_update(person=hidden["researcher"], visibility=Visibility.PUBLIC)
    person_update(person=who, name_withheld=True)
    listing.prepare(today)
    assert kept_counts("", Tier.PUBLIC).total == listing.listed(Tier.PUBLIC).count()
    assert pairs_kept() == pairs_recounted()
    person_update(person=hidden["draft"], merged_into=who)
    listing.prepare(today)
    assert kept_counts("", Tier.STAFF).total == listing.listed(Tier.STAFF).count()
    assert pairs_kept() == pairs_recounted()


def test_one_facet_is_counted_without_counting_rows(client, demo):
    with CaptureQueriesContext(connection) as captured:
        body = page(client, f"?deal={demo.slug}").content.decode()
    assert facet_queries(captured) == 0
    assert sum("prisoners_listingpair" in q["sql"] for q in captured.captured_queries) == 1
    assert re.search(r'value="released"> Released</label> <span class="count">2<', body)


# --- counts left for later (many rows, several facets) --------------------------------------------


def filterset_for(query: str, tier: Tier):
    from django.http import QueryDict

    from prisoners.filters import PersonListingFilter

    filterset = PersonListingFilter(QueryDict(query.lstrip("?")), listing.listed(tier), tier=tier)
    assert filterset.is_valid(), filterset.errors
    return filterset


TWO_FACET_QUERIES = [
    "?gender=female&custody_country=BY",
    "?gender=female&gender=male&custody_country=BY",
    "?status=released&status=released_expelled&country_now=UA&country_now=LT",
    "?age=unknown&year=2020",
    "?country_now=BY&year=2024",
    "?status=imprisoned&custody_country=BY",
    "?country_now=LT&custody_country=BY",
]


@pytest.mark.parametrize("tier", list(Tier))
def test_the_number_of_rows_of_two_facets_is_read_from_the_kept_counts(demo, hidden, tier):
    today = timezone.localdate()
    article = CriminalArticle.objects.first()
    for episode in DetentionEpisode.objects.order_by("id")[:3]:
        ev.charge_add(episode=episode, article=article)
    listing.prepare(today)
    queries = [
        *TWO_FACET_QUERIES,
        f"?deal={demo.slug}&gender=female",
        f"?article={article.pk}&deal={demo.slug}",
        f"?article={article.pk}&status=released&status=imprisoned",
    ]
    for query in queries:
        filterset = filterset_for(query, tier)
        kept = filterset.kept_facets()
        assert kept is not None, query
        assert len(kept) == 2, query
        assert listing.pair_total(kept, viewer=tier) == filterset.qs.count(), query
    assert filterset_for("?year=2020&year=2024&gender=male", tier).kept_facets() is None


@pytest.fixture
def few_inline(settings):
    """Pages count the facets of one row at most themselves: the demo's filters are many."""
    settings.LISTING_INLINE_COUNT_LIMIT = 1


def test_a_page_of_many_rows_leaves_the_counts_for_later(client, demo, few_inline):
    query = "?gender=female&gender=male&custody_country=BY"
    with CaptureQueriesContext(connection) as captured:
        response = page(client, query)
    body = response.content.decode()
    assert set(names(response)) == DEMO_NAMES
    assert "6 persons" in body  # exact: from the kept counts of the two facets
    assert 'class="count"' not in body  # no number beside the values yet
    assert 'value="female" checked' in body
    assert 'value="BY" checked' in body
    # htmx asks for the counts once the page has loaded; without it, a link does.
    assert 'hx-trigger="load"' in body
    assert body.count("counts=all") == 2
    assert "counts=all" not in re.search(r'href="(/persons/export\.csv[^"]*)"', body)[1]
    assert "facet-counts-pending" in body
    # Nothing was counted: the kept counts say the rows are too many.
    assert sum("prisoners_listing_facets" in q["sql"] for q in captured.captured_queries) == 0

    fragment = page(client, query + "&counts=all", HTTP_HX_REQUEST="true")
    html = fragment.content.decode()
    assert "HX-Request" in fragment["Vary"]
    assert "<html" not in html
    assert "<table" not in html
    assert 'id="listing-facets"' in html
    assert 'hx-trigger="load"' not in html
    assert re.search(r'<div id="listing-total" hx-swap-oob="true">', html)
    assert re.search(r'value="released"> Released</label> <span class="count">3<', html)
    assert re.search(r'value="imprisoned"> Imprisoned</label> <span class="count">1<', html)
    assert "6 persons" in html
    # The same as a page that counts: without JavaScript, the link.
    full = page(client, query + "&counts=all").content.decode()
    assert re.search(r'value="released"> Released</label> <span class="count">3<', full)
    assert "<table" in full
    assert 'hx-trigger="load"' not in full


def test_counts_once_counted_are_shown_by_the_page(client, settings):
    # No write in this test's transaction (no demo): what the fragment counts is cached, and
    # the pages that follow show it. A limit below zero leaves even no rows for later.
    settings.LISTING_INLINE_COUNT_LIMIT = -1
    assert "facet-counts-pending" in page(client, TWO_FACETS).content.decode()
    page(client, TWO_FACETS + "&counts=all", HTTP_HX_REQUEST="true")
    with CaptureQueriesContext(connection) as again:
        body = page(client, TWO_FACETS).content.decode()
    assert "facet-counts-pending" not in body
    assert facet_queries(again) == 0
    committed_change()
    assert "facet-counts-pending" in page(client, TWO_FACETS).content.decode()


def test_more_rows_than_a_page_counts_are_at_least_that_many(client, demo, few_inline):
    # Three facets: no kept count says how many rows; a page counts up to its limit only.
    query = "?gender=female&gender=male&custody_country=BY&age=unknown"
    body = page(client, query + "&per_page=2").content.decode()
    assert "More than 2 persons" in body
    assert 'class="count"' not in body
    assert len(names(page(client, query + "&per_page=2&page=3"))) == 2  # further on: counted on
    response = page(client, query + "&counts=all&per_page=2", HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert "6 persons" in html
    assert "More than" not in html
    assert re.search(r'<div id="listing-pages" hx-swap-oob="true">', html)
    assert "page=3" in html
    assert client.get(f"/persons/{query}&per_page=2&page=4").status_code == 404


def test_a_page_leaving_counts_for_later_runs_a_fixed_number_of_queries(
    client, demo, few_inline, django_assert_num_queries
):
    by = Country.objects.get(code="BY")
    for number in range(40):  # more than a page of 30: the counts are left for later
        who = person_create(name=f"Person {number:02}", visibility=Visibility.PUBLIC)
        arrested = D(2021, 1, 1) + dt.timedelta(days=number)
        ev.episode_open(person=who, country=by, arrested_on=arrested)
    for query in (
        "?status=imprisoned&custody_country=BY",
        "?status=imprisoned&year=2021&gender=unknown",
    ):
        with CaptureQueriesContext(connection) as one:
            body = page(client, query + "&per_page=1").content.decode()
        assert "facet-counts-pending" in body, query
        with django_assert_num_queries(len(one)):
            assert len(names(page(client, query + "&per_page=30"))) == 30


def test_a_day_without_a_status_filter_leaves_its_counts_for_later_too(client, demo, few_inline):
    # The day filters nothing but the status: the rows are those of the other facets, whose
    # number the kept counts give; their statuses on that day are counted after the page.
    query = "?on=2025-12-12&gender=female&gender=male&custody_country=BY"
    body = page(client, query).content.decode()
    assert set(names(page(client, query))) == DEMO_NAMES
    assert "facet-counts-pending" in body
    assert "6 persons" in body
    html = page(client, query + "&counts=all", HTTP_HX_REQUEST="true").content.decode()
    # On 12 December 2025 all six were imprisoned (today three are released).
    assert re.search(r'value="imprisoned"> Imprisoned</label> <span class="count">6<', html)
    # One facet besides the day: its kept counts give the number of rows and the values shown,
    # read once.
    with CaptureQueriesContext(connection) as captured:
        body = page(client, "?on=2025-12-12&gender=female&gender=male").content.decode()
    assert "facet-counts-pending" in body
    assert "6 persons" in body
    assert sum("prisoners_listingpair" in q["sql"] for q in captured.captured_queries) == 1
    # With a status on that day among the filters, the page counts as before.
    with_status = page(client, query + "&status=imprisoned").content.decode()
    assert "facet-counts-pending" not in with_status
    assert re.search(
        r'value="imprisoned" checked> Imprisoned</label> <span class="count">6<', with_status
    )


def test_detention_dates_as_much_as_known_in_the_page_language(client, audited):
    day = dt.date(2021, 5, 1)
    assert listing.detained_label(day, "day", "en") == "May 1, 2021"
    assert listing.detained_label(day, "month", "en") == "May 2021"
    assert listing.detained_label(day, "year", "en") == "2021"
    assert listing.detained_label(day, "before", "en") == "by May 1, 2021"
    # Kept per language: the Russian label is not the English one served again.
    assert listing.detained_label(day, "day", "ru") == "1 мая 2021 г."
    assert listing.detained_label(day, "before", "ru").endswith("1 мая 2021 г.")
    assert listing.detained_label(day, "before", "ru") != "by May 1, 2021"
    assert listing.detained_label(None, "unknown", "en") == ""
    who = person_create(name="Dated Person", visibility=Visibility.PUBLIC)
    ev.episode_open(
        person=who,
        country=Country.objects.get(code="BY"),
        arrested_on=day,
        arrested_on_precision="before",
        visibility=Visibility.PUBLIC,
    )
    html = client.get("/persons/").content.decode()
    assert '<time datetime="2021-05-01">by May 1, 2021</time>' in html


# --- what the page is built from -------------------------------------------------------------------


def test_facet_values_are_escaped_and_marked_as_the_template_did():
    group = listing.FacetGroup(
        "region",
        "Region",
        [
            listing.Option('a"b', "<Minsk> & around", 12, True),
            listing.Option("c", "Brest", None, False),
        ],
        [listing.Option("d", "Homel", 3, False)],
        approximate=True,
    )
    html = str(group.options_html)
    assert html.splitlines() == [
        '<li><label><input type="checkbox" name="region" value="a&quot;b" checked>'
        ' &lt;Minsk&gt; &amp; around</label> <span class="count">≈12</span></li>',
        '<li><label><input type="checkbox" name="region" value="c"> Brest</label> </li>',
    ]
    assert str(group.more_html) == (
        '<li><label><input type="checkbox" name="region" value="d"> Homel</label>'
        ' <span class="count">≈3</span></li>'
    )
    group.approximate = False
    assert '<span class="count">3</span>' in str(group.more_html)


def test_estimated_counts_are_marked_on_the_page(client, demo, settings):
    settings.LISTING_EXACT_COUNT_LIMIT = 0  # counted from a sample (as in
    settings.LISTING_SAMPLE_ROWS = 0  # test_large_results_are_counted_from_a_sample)
    body = page(client, TWO_FACETS + "&counts=all").content.decode()
    assert "About" in body
    counts = re.findall(r'<span class="count">([^<]*)</span>', body)
    assert counts
    assert all(count.startswith("≈") for count in counts), counts


def test_person_urls_are_the_persons_addresses(demo):
    from prisoners.selectors import person_urls

    url_of = person_urls()
    for person in Person.objects.all():
        assert url_of(person.pk) == person.get_absolute_url()


def test_an_empty_choice_of_records_is_not_asked_of_the_database():
    from prisoners.filters import is_chosen
    from prisoners.models import Region

    with CaptureQueriesContext(connection) as captured:
        assert not is_chosen(Region.objects.none())
        assert not is_chosen(None)
        assert not is_chosen([])
        assert is_chosen(["2024"])
        assert is_chosen(Region.objects.filter(pk__in=[1]))
    assert captured.captured_queries == []


# --- years of detention sorted by the earliest detention (migration 0013) --------------------------


def years_recounted() -> dict[tuple[int, int], dt.date]:
    """``prisoners_listingyear`` as migration 0013 computes it from every listing row."""
    from importlib import import_module

    migration = import_module("prisoners.migrations.0013_listing_year_bounds")
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TEMPORARY TABLE recount (LIKE prisoners_listingyear INCLUDING INDEXES)"
        )
        sql = migration.LOWER.format(rows="prisoners_personlisting")
        cursor.execute(sql.replace("prisoners_listingyear", "recount"))
        cursor.execute("SELECT year, lvl, earliest FROM recount")
        found = {(year, lvl): earliest for year, lvl, earliest in cursor.fetchall()}
        cursor.execute("DROP TABLE recount")
    return found


def years_kept() -> dict[tuple[int, int], dt.date]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT year, lvl, earliest FROM prisoners_listingyear")
        return {(year, lvl): earliest for year, lvl, earliest in cursor.fetchall()}


def plain_page(queryset, sort: str, offset: int, limit: int) -> list[int]:
    ordered = queryset.order_by(*listing.sort_order(sort, "en"))
    return list(ordered.values_list("person_id", flat=True)[offset : offset + limit])


def test_earliest_detention_of_each_year_is_kept_and_only_lowered():
    today = timezone.localdate()
    synthetic.generate(persons=300, seed=5, batch=150, workers=1, today=today)
    listing.prepare(today)
    kept = years_kept()
    assert kept == years_recounted()
    assert {lvl for _year, lvl in kept} >= {0}
    row = PersonListing.objects.exclude(year_codes=[]).exclude(detained_on=None).first()
    year = row.year_codes[0] // 4
    # A row whose date comes earlier (entered out of order) lowers the years it has ...
    PersonListing.objects.filter(pk=row.pk).update(detained_on=D(1990, 1, 2))
    lowered = years_kept()
    assert min(on for (y, _lvl), on in lowered.items() if y == year) == D(1990, 1, 2)
    assert lowered == years_recounted()
    # ... and one that goes away, or later, leaves it: still no later than any row's date.
    PersonListing.objects.filter(pk=row.pk).update(detained_on=D(2030, 1, 1))
    assert years_kept() == lowered
    recounted = years_recounted()
    assert all(lowered[key] <= on for key, on in recounted.items())
    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE prisoners_personlisting")
    assert years_kept() == {}


@pytest.mark.parametrize("tier", list(Tier))
def test_pages_of_a_year_by_the_earliest_detention_are_the_plain_order(tier):
    from django.http import QueryDict

    from prisoners.filters import PersonListingFilter

    today = timezone.localdate()
    synthetic.generate(persons=300, seed=7, batch=150, workers=1, today=today)
    listing.prepare(today)
    # Rows the bound must not lose: a date older than its years, and dates unknown.
    rows = PersonListing.objects.exclude(year_codes=[]).exclude(detained_on=None)
    # The early one among the rows this tier sees, with a year it sees.
    early = next(
        row
        for row in listing.listed(tier).exclude(year_codes=[]).exclude(detained_on=None)
        if any(code % 4 <= tier for code in row.year_codes)
    )
    early_year = next(code // 4 for code in early.year_codes if code % 4 <= tier)
    unknown = list(rows.exclude(pk=early.pk).order_by("person_id")[:3])
    PersonListing.objects.filter(pk=early.pk).update(detained_on=D(2001, 5, 5))
    PersonListing.objects.filter(pk__in=[r.pk for r in unknown]).update(detained_on=None)
    years = sorted(
        {code // 4 for codes in rows.values_list("year_codes", flat=True) for code in codes}
    )
    assert len(years) > 3
    for chosen in [[year] for year in years] + [years[:2], years[-2:]]:
        query = "&".join(f"year={year}" for year in chosen) + "&sort=detained"
        filterset = PersonListingFilter(QueryDict(query), listing.listed(tier), tier=tier)
        assert filterset.is_valid()
        total = filterset.qs.count()
        for offset in (0, 10, max(total - 5, 0)):
            expected = plain_page(filterset.qs, "detained", offset, 10)
            found = listing.page_ids(
                filterset.qs,
                sort="detained",
                language="en",
                today=today,
                offset=offset,
                limit=10,
                years=chosen,
                tier=tier,
            )
            assert found == expected, (chosen, offset)
    # The rows above were in the pages they belong to.
    filterset = PersonListingFilter(
        QueryDict(f"year={early_year}&sort=detained"), listing.listed(tier), tier=tier
    )
    assert filterset.is_valid()
    assert filterset.qs.filter(pk=early.pk).exists()
    first = listing.page_ids(
        filterset.qs,
        sort="detained",
        language="en",
        today=today,
        offset=0,
        limit=1,
        years=[early_year],
        tier=tier,
    )
    assert first == [early.person_id]


def test_a_year_sorted_by_the_earliest_detention_on_the_page(client, demo):
    assert names(page(client, "?year=2020&sort=detained")) == names(
        page(client, "?year=2020&sort=detained&per_page=200")
    )
    shown = names(page(client, "?year=2020&sort=detained"))
    assert set(shown) == set(names(page(client, "?year=2020")))
