"""The Atom feed of recent releases and transfers: public records only, never a hidden name."""

import datetime as dt
import xml.etree.ElementTree as ET

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from events import services
from events.models import Release, ReleaseDeal
from prisoners.models import Country, NameVariant, Person, Visibility
from prisoners.services import person_create

pytestmark = pytest.mark.django_db

ATOM = "{http://www.w3.org/2005/Atom}"
DRAFT_NAME = "Draftina Feedova"
WITHHELD_NAME = "Withheldo Feedov"
RESEARCH_NAME = "Researcha Feedova"


def _released(person, deal, *, visibility=Visibility.PUBLIC, on=dt.date(2025, 12, 13)):
    by, ua = Country.objects.get(code="BY"), Country.objects.get(code="UA")
    episode = services.episode_open(
        person=person, country=by, arrested_on=dt.date(2021, 5, 1), visibility=visibility
    )
    release = services.release_record(
        episode=episode, released_on=on, kind=Release.Kind.DEAL, deal=deal, visibility=visibility
    )
    services.transfer_add(
        person=person,
        release=release,
        from_country=by,
        to_country=ua,
        transferred_on=on,
        visibility=visibility,
    )
    return release


@pytest.fixture
def hidden(demo):
    deal = demo
    return [
        _released(person_create(name=DRAFT_NAME, name_be="Чарнавік Фідава"), deal),
        _released(
            person_create(
                name=WITHHELD_NAME,
                name_be="Утоены Фідаў",
                visibility=Visibility.PUBLIC,
                name_withheld=True,
            ),
            deal,
        ),
        _released(person_create(name=RESEARCH_NAME, visibility=Visibility.RESEARCHER), deal),
        # a draft release of a public person
        _released(
            person_create(name="Public Person", visibility=Visibility.PUBLIC),
            deal,
            visibility=Visibility.DRAFT,
        ),
    ]


def _entries(client):
    response = client.get(reverse("events:feed"))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/atom+xml")
    return response, ET.fromstring(response.content).findall(f"{ATOM}entry")


def test_feed_has_kalesnikava_release_and_transfer(client, demo):
    kalesnikava = Person.objects.get(name="Maryia Kalesnikava")
    _response, entries = _entries(client)
    titles = [entry.findtext(f"{ATOM}title") for entry in entries]
    assert "Maryia Kalesnikava released (Deal or exchange)" in titles
    assert "Maryia Kalesnikava taken from Belarus to Ukraine" in titles
    release = next(e for e in entries if e.findtext(f"{ATOM}title").endswith("(Deal or exchange)"))
    summary = release.findtext(f"{ATOM}summary")
    assert "Deal or exchange" in summary
    assert "Release of 123 prisoners for the lifting of US sanctions on potash" in summary
    links = {e.find(f"{ATOM}link").get("href") for e in entries}
    assert f"http://testserver/persons/{kalesnikava.pk}/" in links
    assert len({e.findtext(f"{ATOM}id") for e in entries}) == len(entries)  # unique ids
    published = [e.findtext(f"{ATOM}published") for e in entries]
    assert published == sorted(published, reverse=True)  # newest first
    assert published[0].startswith("2025-12-14")  # Tsikhanouski, on or before 14 Dec


def test_feed_never_names_hidden_or_withheld_persons(client, hidden):
    response, entries = _entries(client)
    text = response.content.decode()
    hidden_people = [release.episode.person for release in hidden[:3]]
    spellings = NameVariant.objects.filter(person__in=hidden_people).values_list("text", flat=True)
    for name in [*spellings, DRAFT_NAME, WITHHELD_NAME, RESEARCH_NAME, "Name withheld"]:
        assert name not in text
    assert "Public Person" not in text  # its release is a draft
    assert len(entries) == 7  # the demo's five releases and two legs; nothing hidden


def test_feed_leaves_out_an_unpublished_deal(client, demo):
    ReleaseDeal.objects.filter(pk=demo.pk).update(visibility=Visibility.DRAFT)
    response, _ = _entries(client)
    assert "potash" not in response.content.decode()


def _selects(client):
    """The queries of one feed request that read data (not the savepoints of ATOMIC_REQUESTS
    nor the audit context that pghistory's middleware sets)."""
    with CaptureQueriesContext(connection) as captured:
        _response, entries = _entries(client)
    return [q["sql"] for q in captured.captured_queries if " FROM " in q["sql"]], entries


def test_feed_runs_two_queries_whatever_its_length(client, demo):
    queries, entries = _selects(client)
    assert len(queries) == 2
    assert len(entries) == 7
    for i in range(5):
        _released(person_create(name=f"Extra {i}", visibility=Visibility.PUBLIC), demo)
    queries, entries = _selects(client)
    assert len(queries) == 2
    assert len(entries) == 7 + 5 * 2  # a release and a leg each
