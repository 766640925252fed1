"""The read-only open-data API: only what the visibility rule allows, for each kind of viewer.

On the demo plus sentinel records: a draft person, a researcher-only person, a public person
whose name is withheld, staff-only and researcher-only field values, a draft spelling.
"""

import datetime as dt
import json

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.test import Client

from events import services as event_services
from events.demo import DEAL_SLUG
from events.models import Release, ReleaseDeal, Transfer
from prisoners.models import AtRiskFlag, Country, NameVariant, Person, Visibility
from prisoners.services import name_variant_add, person_create, person_update
from prisoners.visibility import NAME_WITHHELD, RESEARCHER_GROUP
from tests.second_factor import pass_second_factor

pytestmark = pytest.mark.django_db

STAFF_NOTE = "STAFF-NOTE-SENTINEL"
LETTER = "LETTER-ADDRESS-SENTINEL"
AUTHORITY = "AUTHORITY-SENTINEL"
DRAFT_NAME = "Draftina Sentinelova"
RESEARCH_NAME = "Researcha Sentinelova"
WITHHELD_NAME = "Withheldo Sentinelov"
WITHHELD_BE = "Утоены Сентынелаў"
DRAFT_SPELLING = "Kalesnikava-Draft-Spelling"


def _released_in_deal(person: Person, deal: ReleaseDeal, visibility: str) -> Release:
    by, ua = Country.objects.get(code="BY"), Country.objects.get(code="UA")
    episode = event_services.episode_open(
        person=person,
        country=by,
        arrested_on=dt.date(2021, 3, 1),
        arresting_authority=AUTHORITY,
        visibility=visibility,
    )
    release = event_services.release_record(
        episode=episode,
        released_on=dt.date(2025, 12, 13),
        kind=Release.Kind.DEAL,
        deal=deal,
        visibility=visibility,
    )
    event_services.transfer_add(
        person=person,
        release=release,
        from_country=by,
        to_country=ua,
        transferred_on=dt.date(2025, 12, 13),
        documents=Transfer.Documents.TAKEN,
        visibility=visibility,
    )
    return release


@pytest.fixture
def world(demo, audited):
    """The demo with sentinels; returns the persons by role."""
    deal = demo
    kalesnikava = Person.objects.get(name="Maryia Kalesnikava")
    person_update(
        person=kalesnikava,
        staff_notes=STAFF_NOTE,
        letter_address=LETTER,
        birth_date=dt.date(1982, 4, 24),
        birth_date_precision="day",
    )
    Transfer.objects.filter(person=kalesnikava).update(documents=Transfer.Documents.TAKEN)
    AtRiskFlag.objects.create(
        person=kalesnikava, kind=AtRiskFlag.Kind.SERIOUS_ILLNESS, visibility=Visibility.PUBLIC
    )
    name_variant_add(
        person=kalesnikava, text=DRAFT_SPELLING, language="en", visibility=Visibility.DRAFT
    )
    fenner = Person.objects.get(name="Julia Fenner")
    fenner.episodes.update(arresting_authority=AUTHORITY)

    draft = person_create(name=DRAFT_NAME, name_be="Чарнавік Сентынелава")
    _released_in_deal(draft, deal, Visibility.PUBLIC)
    researcher_only = person_create(name=RESEARCH_NAME, visibility=Visibility.RESEARCHER)
    withheld = person_create(
        name=WITHHELD_NAME, name_be=WITHHELD_BE, visibility=Visibility.PUBLIC, name_withheld=True
    )
    _released_in_deal(withheld, deal, Visibility.PUBLIC)
    return {
        "deal": deal,
        "kalesnikava": kalesnikava,
        "fenner": fenner,
        "draft": draft,
        "researcher_only": researcher_only,
        "withheld": withheld,
    }


@pytest.fixture
def researcher_client():
    user = get_user_model().objects.create_user("reader", password="x" * 16)
    user.groups.add(Group.objects.get_or_create(name=RESEARCHER_GROUP)[0])
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def staff_client(admin_user):
    return pass_second_factor(Client(), admin_user)


API_URLS = [
    "/api/persons/",
    "/api/persons/?limit=200",
    "/api/events/?limit=200",
    "/api/deals/",
    f"/api/deals/{DEAL_SLUG}/",
    "/api/statistics/",
    "/api/schema/",
]


def _json(response):
    assert response.status_code == 200, response.content
    return json.loads(response.content)


def _all_urls(world):
    k = world["kalesnikava"]
    return [
        *API_URLS,
        f"/api/persons/{k.pk}/",
        f"/api/persons/{world['fenner'].pk}/",
        f"/api/events/?person={k.pk}",
    ]


def test_anonymous_sees_no_sentinel_anywhere(client, world):
    hidden = [world["draft"], world["researcher_only"], world["withheld"]]
    forbidden = {STAFF_NOTE, LETTER, AUTHORITY, DRAFT_SPELLING, "1982-04-24"}
    forbidden |= set(NameVariant.objects.filter(person__in=hidden).values_list("text", flat=True))
    forbidden |= {person.name for person in hidden}
    assert WITHHELD_BE in forbidden
    restricted_keys = ['"letter_address"', '"birth_date"', '"documents"', '"risk_flags"']
    restricted_keys.append('"arresting_authority"')
    for url in _all_urls(world):
        text = client.get(url).content.decode()
        for sentinel in forbidden:
            assert sentinel not in text, (url, sentinel)
        if url != "/api/schema/":  # the schema names the researcher fields, as optional
            for key in restricted_keys:
                assert key not in text, (url, key)


def test_hidden_persons_have_no_record(client, world):
    for key in ("draft", "researcher_only", "withheld"):
        assert client.get(f"/api/persons/{world[key].pk}/").status_code == 404
        assert _json(client.get(f"/api/events/?person={world[key].pk}"))["count"] == 0
    assert client.get(f"/api/persons/{world['kalesnikava'].pk}/").status_code == 200


def test_person_list_is_the_published_persons_by_name(client, world):
    data = _json(client.get("/api/persons/"))
    names = [row["name"] for row in data["results"]]
    assert names == sorted(names)
    assert data["count"] == 6 == len(names)
    assert "Maryia Kalesnikava" in names
    assert NAME_WITHHELD not in names
    row = next(r for r in data["results"] if r["name"] == "Maryia Kalesnikava")
    assert row["status"] == "released_expelled"
    assert row["status_country"] == "UA"
    assert row["birth_year"] == 1982
    assert {n["text"] for n in row["names"]} == {"Марыя Калеснікава", "Мария Колесникова"}
    assert row["url"].endswith(f"/persons/{world['kalesnikava'].pk}/")


def test_public_person_fields_are_exactly_the_public_ones(client, world):
    row = _json(client.get("/api/persons/?q=Kolesnikova"))["results"][0]
    assert set(row) == {
        "id",
        "url",
        "name",
        "names",
        "gender",
        "occupation",
        "home_region",
        "birth_year",
        "photo",
        "status",
        "status_country",
    }
    detail = _json(client.get(f"/api/persons/{world['kalesnikava'].pk}/"))
    assert "risk_flags" not in detail
    assert "letter_address" not in detail
    assert "documents" not in detail["transfers"][0]
    assert [leg["to_country"] for leg in detail["transfers"]] == ["UA"]
    spellings = {n["text"] for n in detail["names"]}
    assert "Maria Kolesnikova" in spellings
    assert DRAFT_SPELLING not in spellings


def test_researcher_sees_researcher_fields_and_records(researcher_client, world):
    data = _json(researcher_client.get("/api/persons/"))
    names = {row["name"] for row in data["results"]}
    assert RESEARCH_NAME in names
    assert DRAFT_NAME not in names
    assert WITHHELD_NAME not in names
    assert NAME_WITHHELD not in names
    k = world["kalesnikava"]
    row = _json(researcher_client.get(f"/api/persons/?q={k.name}"))["results"][0]
    assert row["letter_address"] == LETTER
    assert row["birth_date"] == "1982-04-24"
    assert row["letters_reach"] == "unknown"
    detail = _json(researcher_client.get(f"/api/persons/{k.pk}/"))
    assert detail["risk_flags"] == [{"kind": "serious_illness", "since": None}]
    assert detail["transfers"][0]["documents"] == "taken"
    assert STAFF_NOTE not in json.dumps(detail)
    events = _json(researcher_client.get(f"/api/events/?person={world['fenner'].pk}"))
    assert events["results"][0]["arresting_authority"] == AUTHORITY


def test_staff_never_get_staff_only_fields_from_the_api(staff_client, world):
    detail = staff_client.get(f"/api/persons/{world['kalesnikava'].pk}/").content.decode()
    assert STAFF_NOTE not in detail
    assert LETTER in detail
    withheld = _json(staff_client.get(f"/api/persons/{world['withheld'].pk}/"))
    assert withheld["name"] == WITHHELD_NAME


def test_person_filters(client, world):
    def names(query):
        return {row["name"] for row in _json(client.get(f"/api/persons/?{query}"))["results"]}

    assert names("q=Калеснікава") == {"Maryia Kalesnikava"}
    assert names("q=kolesnikova maria") == {"Maryia Kalesnikava"}
    assert names("q=Draft-Spelling") == set()
    assert names("q=Sentinelova") == set()
    assert names("gender=female") == {"Maryia Kalesnikava", "Maryna Zolatava", "Julia Fenner"}
    assert names(f"deal={DEAL_SLUG}") == {
        "Maryia Kalesnikava",
        "Ales Bialiatski",
        "Viktar Babaryka",
        "Maryna Zolatava",
    }
    assert names("deal=no-such-deal") == set()


def test_events_show_the_release_and_the_chain(client, world):
    k = world["kalesnikava"]
    data = _json(client.get(f"/api/events/?person={k.pk}"))
    (episode,) = data["results"]
    assert episode["person"] == {
        "id": k.pk,
        "name": k.name,
        "url": f"http://testserver/persons/{k.pk}/",
    }
    assert episode["arrested_on"] == "2020-01-01"
    assert episode["arrested_on_precision"] == "year"
    assert episode["release"]["kind"] == "deal"
    assert episode["release"]["deal"] == DEAL_SLUG
    assert [(t["from_country"], t["to_country"]) for t in episode["release"]["transfers"]] == [
        ("BY", "UA")
    ]
    deal_events = _json(client.get(f"/api/events/?deal={DEAL_SLUG}"))
    assert deal_events["count"] == 4  # the draft and the withheld person's releases are not shown
    fenner = _json(client.get(f"/api/events/?person={world['fenner'].pk}"))["results"][0]
    assert fenner["court_decisions"][0]["term_description"] == "A long jail term"
    assert fenner["release"] is None
    assert _json(client.get("/api/events/?open=true&country=by"))["count"] == 1


def test_draft_deal_is_not_named_on_a_public_release(client, world):
    ReleaseDeal.objects.filter(pk=world["deal"].pk).update(visibility=Visibility.DRAFT)
    k = world["kalesnikava"]
    episode = _json(client.get(f"/api/events/?person={k.pk}"))["results"][0]
    assert episode["release"]["deal"] is None
    assert client.get(f"/api/deals/{DEAL_SLUG}/").status_code == 404
    assert _json(client.get("/api/deals/"))["count"] == 0


def test_deal_counts_identified_persons_including_withheld_ones(client, researcher_client, world):
    deal = _json(client.get(f"/api/deals/{DEAL_SLUG}/"))
    assert deal["reported_total"] == 123
    # four named in the demo, plus the public person whose name is withheld; not the draft one
    assert deal["identified"] == 5
    assert [(d["country"], d["reported_count"]) for d in deal["destinations"]] == [
        ("UA", 114),
        ("LT", 9),
    ]
    assert deal["destinations"][0]["onward_countries"] == ["LT", "PL"]
    assert {p["name"] for p in deal["parties"] if p["role"] == "mediator"} == {"John Coale"}
    assert [s["title"] for s in deal["sources"]] == [
        "Belarus Releases 123 Prisoners Amid US Sanctions Relief"
    ]
    listed = _json(client.get("/api/deals/"))["results"][0]
    assert listed["identified"] == 5
    assert "destinations" not in listed


def test_statistics_on_a_day_count_withheld_but_not_draft_persons(client, world):
    before = _json(client.get("/api/statistics/?as_of=2025-12-01"))
    # six demo persons, plus the withheld one (arrested 2021); not the draft one
    assert before["as_of"] == "2025-12-01"
    assert before["in_custody"] == 7
    assert before["releases_by_month"] == []
    after = _json(client.get("/api/statistics/?as_of=2025-12-20"))
    assert after["in_custody"] == 1  # Julia Fenner
    assert after["in_custody_by_month"][-1] == {"on": "2025-12-20", "in_custody": 1}
    (december,) = after["releases_by_month"]
    assert december["month"] == "2025-12-01"
    # five demo releases, plus the withheld person's (counted, never named)
    assert december["total"] == 6
    assert december["by_kind"] == {"deal": 5, "other": 1}
    flows = {(f["origin"], f["destination"]): f["count"] for f in after["transfers"]}
    assert flows == {("Belarus (BY)", "Ukraine (UA)"): 2, ("Belarus (BY)", "Lithuania (LT)"): 1}
    assert WITHHELD_NAME not in json.dumps(after)


def test_statistics_for_researchers_count_researcher_records(client, researcher_client, world):
    public = _json(client.get("/api/statistics/?as_of=2025-12-01"))["in_custody"]
    event_services.episode_open(
        person=world["researcher_only"],
        country=Country.objects.get(code="BY"),
        arrested_on=dt.date(2024, 1, 1),
        visibility=Visibility.RESEARCHER,
    )
    assert _json(client.get("/api/statistics/?as_of=2025-12-01"))["in_custody"] == public
    researcher = _json(researcher_client.get("/api/statistics/?as_of=2025-12-01"))
    assert researcher["in_custody"] == public + 1


@pytest.mark.parametrize(
    ("url", "field"),
    [
        ("/api/statistics/?as_of=2025-13-01", "as_of"),
        ("/api/statistics/?as_of=yesterday", "as_of"),
        ("/api/statistics/?as_of=1899-12-31", "as_of"),
        ("/api/statistics/?as_of=9999-01-01", "as_of"),
        ("/api/persons/?gender=robot", "gender"),
        ("/api/persons/?q=%00", "q"),
        ("/api/persons/?offset=100000000000000000000000", "offset"),
        ("/api/events/?person=abc", "person"),
        ("/api/events/?person=99999999999999999999999", "person"),
        ("/api/events/?arrested_after=2020-02-30", "arrested_after"),
        ("/api/events/?open=maybe", "open"),
        ("/api/events/?country=BYR", "country"),
    ],
)
def test_bad_parameters_are_400_with_a_json_body(client, url, field):
    response = client.get(url)
    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    assert field in json.loads(response.content)


@pytest.mark.parametrize(
    "url",
    [
        "/api/persons/0/",
        "/api/persons/99999999999999999999999/",
        "/api/persons/abc/",
        "/api/events/123456/",
        "/api/deals/no-such-deal/",
    ],
)
def test_unknown_records_are_404_with_a_json_body(client, db, url):
    response = client.get(url)
    assert response.status_code == 404
    assert "detail" in json.loads(response.content)


def test_pagination_limits(client, world):
    data = _json(client.get("/api/persons/?limit=2"))
    assert len(data["results"]) == 2
    assert data["next"].endswith("limit=2&offset=2")
    assert len(_json(client.get("/api/persons/?limit=100000"))["results"]) == 6


# --- A fixed number of queries, whatever the length of the page ---------------------------------


def _more_persons(count):
    by, lt = Country.objects.get(code="BY"), Country.objects.get(code="LT")
    deal = ReleaseDeal.objects.get(slug=DEAL_SLUG)
    for i in range(count):
        person = person_create(
            name=f"Extra Person {i:02d}", name_be=f"Дадатковы {i:02d}", visibility="public"
        )
        episode = event_services.episode_open(
            person=person, country=by, arrested_on=dt.date(2021, 1, 1)
        )
        event_services.court_decision_add(episode=episode, kind="sentence", term_years=3)
        release = event_services.release_record(
            episode=episode, released_on=dt.date(2025, 12, 13), kind="deal", deal=deal
        )
        event_services.transfer_add(person=person, release=release, from_country=by, to_country=lt)


def _queries(client, url):
    """The queries of one request, once caches (content types) are warm."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.get(url)
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


@pytest.mark.parametrize(
    "url",
    [
        "/api/persons/?limit=200",
        "/api/events/?limit=200",
        "/api/deals/",
        f"/api/deals/{DEAL_SLUG}/",
    ],
)
@pytest.mark.parametrize("who", ["anonymous", "researcher"])
def test_query_count_does_not_grow_with_the_page(
    client, researcher_client, demo, audited, url, who, django_assert_num_queries
):
    viewer = client if who == "anonymous" else researcher_client
    few = _queries(viewer, url.replace("limit=200", "limit=1"))
    _more_persons(8)
    with django_assert_num_queries(few):
        response = viewer.get(url)
    data = json.loads(response.content)
    if "results" in data and "limit=200" in url:
        assert len(data["results"]) > 8


def test_person_detail_query_count_is_fixed(client, demo, audited, django_assert_num_queries):
    k = Person.objects.get(name="Maryia Kalesnikava")
    url = f"/api/persons/{k.pk}/"
    few = _queries(client, url)
    by, ua = Country.objects.get(code="BY"), Country.objects.get(code="UA")
    for i in range(4):
        name_variant_add(person=k, text=f"Kalesnikava Variant {i}", language="en")
        event_services.transfer_add(
            person=k,
            from_country=ua if i % 2 == 0 else by,
            to_country=by if i % 2 == 0 else ua,
            transferred_on=dt.date(2025, 12, 14 + i),
        )
    with django_assert_num_queries(few):
        response = client.get(url)
    assert len(json.loads(response.content)["transfers"]) == 5


def test_name_variant_kinds_are_in_the_schema(client, db):
    schema = client.get("/api/schema/?format=json")
    assert schema.status_code == 200
    spec = json.loads(schema.content)
    assert set(spec["paths"]) >= {
        "/api/persons/",
        "/api/persons/{id}/",
        "/api/events/",
        "/api/events/{id}/",
        "/api/deals/",
        "/api/deals/{slug}/",
        "/api/statistics/",
    }
    person = spec["components"]["schemas"]["Person"]
    assert "letter_address" in person["properties"]
    assert "letter_address" not in person["required"]
    assert "name" in person["required"]
    assert set(spec["components"]["schemas"]["NameVariantKindEnum"]["enum"]) == set(
        NameVariant.Kind.values
    )
