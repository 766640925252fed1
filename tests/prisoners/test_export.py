"""CSV and JSON exports of the listing: same filters, streamed, fields by the viewer's tier."""

import csv
import datetime as dt
import io
import json

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from events import services as ev
from prisoners import listing
from prisoners.models import AtRiskFlag, Country, Person, Visibility
from prisoners.services import person_create, person_update
from prisoners.visibility import RESEARCHER_GROUP

pytestmark = pytest.mark.django_db

DEAL_NAMES = {"Maryia Kalesnikava", "Ales Bialiatski", "Viktar Babaryka", "Maryna Zolatava"}
SECRET_ADDRESS = "Калонія № 4, атрад 7"


def body(response) -> str:
    assert response.streaming
    return b"".join(response.streaming_content).decode()


def export_csv(client, query: str = "") -> list[dict[str, str]]:
    response = client.get(f"/persons/export.csv{query}")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    return list(csv.DictReader(io.StringIO(body(response))))


def export_json(client, query: str = "") -> list[dict]:
    response = client.get(f"/persons/export.json{query}")
    assert response.status_code == 200
    return json.loads(body(response))


@pytest.fixture
def researcher():
    user = get_user_model().objects.create_user("export-researcher", password="x" * 12)
    user.groups.add(Group.objects.get_or_create(name=RESEARCHER_GROUP)[0])
    return user


@pytest.fixture
def world(demo):
    """The demo, a researcher-tier address and risk on a public person, and hidden persons."""
    by = Country.objects.get(code="BY")
    fenner = Person.objects.get(name="Julia Fenner")
    person_update(person=fenner, letter_address=SECRET_ADDRESS)
    AtRiskFlag.objects.create(person=fenner, kind="serious_illness", visibility="researcher")
    hidden = {
        "draft": person_create(name="Draft Hidden"),
        "researcher": person_create(name="Researcher Only", visibility=Visibility.RESEARCHER),
        "withheld": person_create(
            name="Withheld Name", visibility=Visibility.PUBLIC, name_withheld=True
        ),
    }
    for who in hidden.values():
        ev.episode_open(person=who, country=by, arrested_on=dt.date(2023, 5, 1))
    return hidden


def test_csv_has_a_header_and_the_public_rows(client, world):
    rows = export_csv(client)
    assert list(rows[0]) == list(listing.PUBLIC_COLUMNS)
    assert {row["name"] for row in rows} == {
        "Maryia Kalesnikava",
        "Ales Bialiatski",
        "Viktar Babaryka",
        "Maryna Zolatava",
        "Siarhei Tsikhanouski",
        "Julia Fenner",
    }
    kalesnikava = next(row for row in rows if row["name"] == "Maryia Kalesnikava")
    assert kalesnikava["name_be"] == "Марыя Калеснікава"
    assert kalesnikava["status"] == "released_expelled"
    assert kalesnikava["country_now"] == "UA"
    assert kalesnikava["deals"] == "belarus-2025-12-13-potash"
    assert kalesnikava["detained_on"] == "2020-01-01"
    assert kalesnikava["detained_on_precision"] == "year"


def test_hidden_persons_and_researcher_fields_never_reach_the_public(client, world):
    for text in (
        json.dumps(export_json(client), ensure_ascii=False),
        "\n".join(",".join(row.values()) for row in export_csv(client)),
    ):
        for name in ("Draft Hidden", "Researcher Only", "Withheld Name"):
            assert name not in text
        for who in world.values():
            assert f"/persons/{who.pk}/" not in text
        assert SECRET_ADDRESS not in text
        assert "letter_address" not in text
        assert "serious_illness" not in text


def test_researchers_get_researcher_columns(client, world, researcher):
    client.force_login(researcher)
    rows = export_json(client)
    assert {row["name"] for row in rows} >= {"Researcher Only"}
    assert "Draft Hidden" not in {row["name"] for row in rows}
    assert "Withheld Name" not in {row["name"] for row in rows}
    fenner = next(row for row in rows if row["name"] == "Julia Fenner")
    assert fenner["letter_address"] == SECRET_ADDRESS
    assert fenner["at_risk"] == ["serious_illness"]
    assert "staff_notes" not in fenner
    header = list(export_csv(client)[0])
    assert header[-5:] == [*listing.RESEARCHER_COLUMNS, "at_risk"]


def test_exports_take_the_same_filters_and_sort(client, world):
    deal = "?deal=belarus-2025-12-13-potash"
    assert {row["name"] for row in export_json(client, deal)} == DEAL_NAMES
    assert [row["name"] for row in export_csv(client, deal + "&sort=-name")] == sorted(
        DEAL_NAMES, reverse=True
    )
    on = export_json(client, "?status=imprisoned&on=2025-12-12")
    assert len(on) == 6
    assert {row["status_on"] for row in on} == {"imprisoned"}
    assert {row["status_on_date"] for row in on} == {"2025-12-12"}
    assert [row["name"] for row in export_json(client, "?status=imprisoned")] == ["Julia Fenner"]
    by_days = export_json(client, "?sort=-days")
    days = [row["days_in_detention"] for row in by_days]
    assert days == sorted(days, reverse=True)


def test_an_empty_result_is_an_empty_array_and_a_header(client, world):
    assert export_json(client, "?year=1990") == []
    response = client.get("/persons/export.csv?year=1990")
    assert body(response).strip().split(",")[0] == "id"


@pytest.mark.parametrize(
    "query", ["?status=nonsense", "?on=yesterday", "?sort=%27%22", "?deal=no-such-deal"]
)
def test_bad_parameters_answer_400(client, world, query):
    response = client.get(f"/persons/export.json{query}")
    assert response.status_code == 400
    assert "errors" in response.json()
    response = client.get(f"/persons/export.csv{query}")
    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/plain")


def test_text_that_a_spreadsheet_would_run_is_quoted(client, demo):
    person_create(name="=HYPERLINK(1)", visibility=Visibility.PUBLIC)
    names = [row["name"] for row in export_csv(client)]
    assert "'=HYPERLINK(1)" in names
    assert listing.csv_cell(["a", "b"]) == "a; b"
    assert listing.csv_cell(None) == ""
