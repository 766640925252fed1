"""A release deal in one go at /staff/deals/new/ (issue 4, items 3 and 9)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from events.models import (
    Citation,
    DealDestination,
    DealParty,
    DetentionEpisode,
    Release,
    ReleaseDeal,
    Source,
    Transfer,
)
from prisoners.audit import audit_context
from prisoners.models import Person, Visibility
from prisoners.staff.deal_entry import AMBIGUOUS, MATCHED, UNKNOWN
from tests.events import factories as f
from tests.staff.helpers import make_user

pytestmark = pytest.mark.django_db

URL = "/staff/deals/new/"
DAY = dt.date(2025, 12, 13)
REASON = "Entered from the report of 14 Dec 2025"


@pytest.fixture
def held() -> dict[str, Person]:
    """Three persons held in Belarus, with open episodes."""
    with audit_context(reason="test setup"):
        persons = {
            name: f.person(name) for name in ("Hanna Testava", "Barys Probny", "Mikola Zrazok")
        }
        for person in persons.values():
            f.episode(person, arrested_on=dt.date(2021, 3, 1))
    return persons


def deal_data(**overrides: Any) -> dict[str, Any]:
    data = {
        "title": "Release of three in December",
        "slug": "test-2025-12-13",
        "announced_on": "2025-12-13",
        "completed_on": "2025-12-13",
        "mediators": "John Coale | Special envoy of the US President",
        "consideration": "Sanctions on potash lifted.",
        "summary": "",
        "reported_total": "123",
        "destinations": "UA 114 PL LT\nLT 9",
        "source": "",
        "source_url": "https://example.org/report-14-dec",
        "source_title": "Belarus releases 123 prisoners",
        "quote": "Belarus has released 123 prisoners.",
        "names": "Hanna Testava\nBarys Probny\nMikola Zrazok",
        "destination": "UA",
        "released_on": "",
        "mode": "handover",
        "custody_country": "BY",
        "reason": REASON,
        "token": "t-1",
    }
    data.update(overrides)
    return data


def post(client: Client, data: dict[str, Any], action: str, rows: dict[str, str] | None = None):
    return client.post(URL, {**data, **(rows or {}), "action": action})


def rows_for(lines: list[str], **extra: str) -> dict[str, str]:
    """The hidden text of every line (what the preview page posts back) and extra fields."""
    rows = {f"line-{n}-text": text for n, text in enumerate(lines, start=1)}
    rows.update(extra)
    return rows


def counts() -> tuple[int, ...]:
    return (
        ReleaseDeal.objects.count(),
        Release.objects.count(),
        Transfer.objects.count(),
        Citation.objects.count(),
        Source.objects.count(),
        Person.objects.count(),
    )


def lines_of(response: Any) -> list[Any]:
    return list(response.context["lines"] or [])


def test_the_deal_with_three_persons_in_one_go(editor_client, editor, held):
    names = list(held)
    data = deal_data()
    rows = rows_for(names, **{"line-3-dest": "LT"})
    preview = post(editor_client, data, "preview", rows)
    assert preview.status_code == 200
    lines = lines_of(preview)
    assert [line.status for line in lines] == [MATCHED] * 3
    assert [line.person for line in lines] == list(held.values())
    assert preview.context["ready"]
    assert b'value="confirm"' in preview.content
    assert ReleaseDeal.objects.filter(slug="test-2025-12-13").count() == 0  # preview writes none

    response = post(editor_client, data, "confirm", rows)
    assert response.status_code == 302, response.context and response.context["form"].errors
    deal = ReleaseDeal.objects.get(slug="test-2025-12-13")
    assert response["Location"] == reverse("staff:review-detail", args=["releasedeal", deal.pk])
    assert deal.visibility == Visibility.DRAFT
    assert deal.reported_total == 123
    assert DealParty.objects.get(deal=deal).name == "John Coale"
    destinations = {d.country.code: d for d in DealDestination.objects.filter(deal=deal)}
    assert destinations["UA"].reported_count == 114
    assert {c.code for c in destinations["UA"].onward_countries.all()} == {"PL", "LT"}
    assert destinations["LT"].reported_count == 9

    source = Source.objects.get(url="https://example.org/report-14-dec")
    releases = list(Release.objects.filter(deal=deal).order_by("episode__person__name"))
    assert len(releases) == 3
    legs = {}
    for release in releases:
        assert release.kind == Release.Kind.DEAL
        assert release.released_on == DAY
        assert release.visibility == Visibility.DRAFT
        episode = DetentionEpisode.objects.get(pk=release.episode_id)
        assert episode.ended_on == DAY
        assert episode.end_reason == "release"
        leg = Transfer.objects.get(release=release)
        assert leg.sequence == 1
        assert leg.from_country.code == "BY"
        assert leg.transferred_on == DAY
        assert leg.mode == "handover"
        legs[episode.person.name] = leg.to_country.code
        for obj in (release, leg):
            citation = Citation.objects.for_object(obj).get()
            assert citation.source == source
            assert citation.quote == "Belarus has released 123 prisoners."
    assert legs == {"Hanna Testava": "UA", "Barys Probny": "UA", "Mikola Zrazok": "LT"}
    assert Citation.objects.for_object(deal).get().source == source

    # History: every write carries the user, the reason and the source.
    for model, pk in [(ReleaseDeal, deal.pk), *((Release, r.pk) for r in releases)]:
        event = model.pgh_event_model.objects.filter(pgh_obj_id=pk).get()  # type: ignore[attr-defined]
        context = event.pgh_context.metadata
        assert context["reason"] == REASON
        assert context["user"] == editor.pk
        assert context["source"] == source.pk
    leg_events = Transfer.pgh_event_model.objects.filter(  # type: ignore[attr-defined]
        pgh_obj_id__in=Transfer.objects.filter(release__deal=deal).values("pk")
    )
    assert leg_events.count() == 3
    assert all(e.pgh_context.metadata["user"] == editor.pk for e in leg_events)


def test_the_confirm_twice_creates_nothing_twice(editor_client, held):
    data = deal_data()
    rows = rows_for(list(held))
    assert post(editor_client, data, "confirm", rows).status_code == 302
    before = counts()
    again = post(editor_client, data, "confirm", rows)
    assert again.status_code == 302
    assert counts() == before
    # Even without the token, the same form saves nothing again (slug taken, episodes ended).
    other = post(editor_client, {**data, "token": "t-2"}, "confirm", rows)
    assert other.status_code == 200
    assert counts() == before


def test_a_reviewer_publishes_now_an_editor_may_not(editor_client, reviewer_client, held):
    names = list(held)
    data = deal_data(publish="on")
    refused = post(editor_client, data, "confirm", rows_for(names))
    assert refused.status_code == 200
    assert refused.context["form"].errors["publish"]
    assert not ReleaseDeal.objects.filter(slug="test-2025-12-13").exists()
    assert post(reviewer_client, data, "confirm", rows_for(names)).status_code == 302
    deal = ReleaseDeal.objects.get(slug="test-2025-12-13")
    assert deal.visibility == Visibility.PUBLIC
    assert {r.visibility for r in Release.objects.filter(deal=deal)} == {Visibility.PUBLIC}
    assert {t.visibility for t in Transfer.objects.filter(release__deal=deal)} == {"public"}


def test_a_pasted_list_in_mixed_spellings_is_matched(editor_client, demo):
    names = ["Kolesnikova", "Бяляцкі", "Babaryko"]
    response = post(editor_client, deal_data(names="\n".join(names)), "preview")
    lines = lines_of(response)
    assert [line.status for line in lines] == [MATCHED] * 3
    assert [line.person.name for line in lines] == [
        "Maryia Kalesnikava",
        "Ales Bialiatski",
        "Viktar Babaryka",
    ]
    # The demo already released them: each line says so, and nothing can be confirmed.
    assert all("no open detention episode" in " ".join(line.errors) for line in lines)
    assert not response.context["ready"]
    before = counts()
    refused = post(editor_client, deal_data(names="\n".join(names)), "confirm", rows_for(names))
    assert refused.status_code == 200
    assert counts() == before


def test_ambiguous_and_unknown_lines_need_a_decision(editor_client, held):
    with audit_context(reason="test setup"):
        twins = [f.person("Ivan Dvoinik"), f.person("Ivan Dvoinik")]
        for twin in twins:
            f.episode(twin)
    names = ["Hanna Testava", "Ivan Dvoinik", "Zyzzyx Qwertovich", "Barys Probny"]
    data = deal_data(names="\n".join(names))
    preview = post(editor_client, data, "preview", rows_for(names))
    lines = lines_of(preview)
    assert [line.status for line in lines] == [MATCHED, AMBIGUOUS, UNKNOWN, MATCHED]
    assert {c.person.pk for c in lines[1].candidates} == {t.pk for t in twins}
    assert lines[1].errors
    assert lines[2].errors
    assert not preview.context["ready"]
    assert "Ambiguous" in preview.content.decode()

    before = counts()
    refused = post(editor_client, data, "confirm", rows_for(names))
    assert refused.status_code == 200
    assert counts() == before

    decided = rows_for(
        names,
        **{
            "line-2-choice": str(twins[1].pk),
            "line-3-choice": "new",
            "line-4-choice": "drop",
            "line-3-dest": "LT",
        },
    )
    assert post(editor_client, data, "preview", decided).context["ready"]
    assert post(editor_client, data, "confirm", decided).status_code == 302
    deal = ReleaseDeal.objects.get(slug="test-2025-12-13")
    released = set(Release.objects.filter(deal=deal).values_list("episode__person_id", flat=True))
    new = Person.objects.get(name="Zyzzyx Qwertovich")
    assert new.visibility == Visibility.DRAFT
    assert released == {held["Hanna Testava"].pk, twins[1].pk, new.pk}
    assert Transfer.objects.get(person=new).to_country.code == "LT"
    assert DetentionEpisode.objects.get(person=held["Barys Probny"]).ended_on is None


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"source_url": "", "source_title": ""}, "source"),
        ({"source": "99999", "source_url": "", "source_title": ""}, "source"),
        ({"reason": "  "}, "reason"),
        ({"announced_on": "2025-13-45"}, "announced_on"),
        ({"completed_on": "2025-12-01"}, "completed_on"),
        ({"destination": "XX"}, "destination"),
        ({"destinations": "Atlantis 3"}, "destinations"),
        ({"title": ""}, "title"),
        ({"names": ""}, "names"),
    ],
)
def test_bad_input_is_shown_and_writes_nothing(editor_client, held, overrides, field):
    names = list(held)
    data = deal_data(**overrides)
    before = counts()
    response = post(editor_client, data, "confirm", rows_for(names))
    assert response.status_code == 200
    assert response.context["form"].errors[field]
    assert counts() == before
    # Everything typed is shown again.
    page = response.content.decode()
    assert "Release of three in December" in page or field == "title"
    assert "Hanna Testava" in page or field == "names"


def test_a_bad_line_override_is_flagged(editor_client, held):
    names = list(held)
    rows = rows_for(names, **{"line-2-dest": "Narnia", "line-3-date": "13/12/2025"})
    before = counts()
    response = post(editor_client, deal_data(), "confirm", rows)
    assert response.status_code == 200
    lines = lines_of(response)
    assert "Narnia" in " ".join(lines[1].errors)
    assert "YYYY-MM-DD" in " ".join(lines[2].errors)
    assert counts() == before
    page = response.content.decode()
    assert 'value="Narnia"' in page
    assert 'value="13/12/2025"' in page


def test_a_person_without_an_open_episode_is_a_line_error(editor_client, held):
    with audit_context(reason="test setup"):
        f.person("Piotra Svabodny")
    names = [*held, "Piotra Svabodny"]
    before = counts()
    response = post(editor_client, deal_data(names="\n".join(names)), "confirm", rows_for(names))
    assert response.status_code == 200
    errors = lines_of(response)[3].errors
    assert any("no open detention episode" in e for e in errors)
    assert counts() == before


def test_search_and_add_keep_everything_typed(editor_client, held):
    data = deal_data(names="Hanna Testava", q="Probny")
    response = post(editor_client, data, "search")
    page = response.content.decode()
    person = held["Barys Probny"]
    assert f'name="add" value="{person.pk}"' in page
    assert "Release of three in December" in page
    assert not response.context["form"].is_bound or response.context.get("quiet")
    # A decision taken on a preview survives adding a person.
    with_rows = {**data, **rows_for(["Hanna Testava"], **{"line-1-date": "2025-12-14"})}
    added = editor_client.post(URL, {**with_rows, "add": str(person.pk)})
    assert 'name="line-1-date" value="2025-12-14"' in added.content.decode()
    assert f"#{person.pk}" in added.context["form"].data["names"]
    typed = {k: v for k, v in added.context["form"].data.items() if k != "add"}
    lines = lines_of(post(editor_client, typed, "preview"))
    assert [line.person for line in lines] == [held["Hanna Testava"], person]
    # The htmx suggestions: the results only.
    fragment = editor_client.get(URL, {"q": "Probny"}, headers={"HX-Request": "true"})
    assert fragment.content.decode().startswith('<div id="deal-search-results"')


def test_more_persons_for_an_existing_deal(editor_client, held):
    assert (
        post(
            editor_client, deal_data(names="Hanna Testava"), "confirm", rows_for(["Hanna Testava"])
        ).status_code
        == 302
    )
    deal = ReleaseDeal.objects.get(slug="test-2025-12-13")
    page = editor_client.get(URL, {"deal": deal.pk})
    assert page.context["form"].initial["deal"] == deal.pk
    data = deal_data(deal=str(deal.pk), title="", slug="", names="Barys Probny", token="t-9")
    response = post(editor_client, data, "confirm", rows_for(["Barys Probny"]))
    assert response.status_code == 302
    assert ReleaseDeal.objects.count() == 1
    assert Release.objects.filter(deal=deal).count() == 2


def test_roles(held):
    anonymous = Client().get(URL)
    assert anonymous.status_code == 302
    assert anonymous["Location"].startswith("/staff/login/")
    researcher = Client()
    researcher.force_login(make_user("rita", "researcher", device=False))
    assert researcher.get(URL).status_code == 403
    before = counts()
    assert researcher.post(URL, {**deal_data(), "action": "confirm"}).status_code == 403
    assert Client().post(URL, {**deal_data(), "action": "confirm"}).status_code == 302
    assert counts() == before


def test_a_refused_line_rolls_everything_back(editor_client, held):
    """A release before the arrest and a destination that is the custody country: per-line
    errors at confirm, and not even the deal is written."""
    names = list(held)
    rows = rows_for(names, **{"line-1-date": "2020-01-01", "line-2-dest": "BY"})
    before = counts()
    response = post(editor_client, deal_data(), "confirm", rows)
    assert response.status_code == 200
    lines = lines_of(response)
    assert "before the arrest of Hanna Testava (2021-03-01)" in " ".join(lines[0].errors)
    assert "another country" in " ".join(lines[1].errors)
    assert not lines[2].errors
    assert "Nothing was saved" in response.content.decode()
    assert counts() == before
    assert not ReleaseDeal.objects.filter(slug="test-2025-12-13").exists()
    assert not DetentionEpisode.objects.filter(ended_on__isnull=False).exists()


def test_a_release_between_preview_and_save_is_a_line_error(editor, held):
    """The service checks again when it writes (another editor may have released a person
    meanwhile): the line gets the error and nothing is written."""
    from events import services as ev
    from prisoners.models import Country
    from prisoners.staff.deal_entry import DealEntryError, DealInput, deal_entry_save, match_lines

    ukraine = Country.objects.get(code="UA")
    names = list(held)
    lines = match_lines(
        names,
        editor,
        destinations=dict.fromkeys(range(1, 4), ukraine),
        dates=dict.fromkeys(range(1, 4), DAY),
    )
    assert not any(line.errors for line in lines)
    with audit_context(reason="meanwhile"):
        episode = DetentionEpisode.objects.get(person=held["Barys Probny"])
        ev.release_record(episode=episode, released_on=DAY, kind=Release.Kind.PARDON)
    before = counts()
    deal_input = DealInput(title="T", slug="race-1", announced_on=DAY)
    with pytest.raises(DealEntryError) as raised:
        deal_entry_save(
            deal_input=deal_input,
            lines=lines,
            source=None,
            new_source=("https://example.org/race", "Race"),
            quote="",
            user=editor,
            reason="race",
            publish=False,
            mode="unknown",
            new_person_country=Country.objects.get(code="BY"),
        )
    assert list(raised.value.line_errors) == [2]
    assert "no open detention episode" in raised.value.line_errors[2][0]
    assert counts() == before
