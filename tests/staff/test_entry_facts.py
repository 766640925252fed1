"""Entry forms of a person's facts (issue 4, item 2): episode, charge, sentence, placement,
incommunicado period, release, and a chain of transfer legs; each with a source, a quote and
a reason, in the history, as drafts; bad input loses nothing and writes nothing."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from events.models import (
    Charge,
    Citation,
    CourtDecision,
    CriminalArticle,
    CustodyPlacement,
    DetentionEpisode,
    IncommunicadoPeriod,
    Release,
    Source,
    Transfer,
)
from events.services import placement_add, release_record, source_get_or_create
from prisoners.audit import audit_context
from prisoners.models import Country, Person, Place, Visibility
from prisoners.staff.entry import PLAIN_REFUSALS, REFUSED
from prisoners.staff.entry_forms import (
    LEG_GAP,
    SOURCE_MISSING,
    TERM_MISSING,
)
from prisoners.staff.forms import REASON_REQUIRED
from tests.events import factories as f
from tests.second_factor import pass_second_factor
from tests.staff.helpers import make_user

pytestmark = pytest.mark.django_db

REASON = "From the Viasna list of 1 May"
URL_NEW = "https://example.org/viasna-list"


@pytest.fixture
def held() -> Person:
    with audit_context(reason="test setup"):
        person = f.person("Hanna Testava")
        f.episode(person, arrested_on=dt.date(2021, 3, 1))
    return person


def url(name: str, person: Person) -> str:
    return reverse(f"staff:entry-{name}", args=[person.pk])


def source_data(**overrides: Any) -> dict[str, Any]:
    data = {
        "source": "",
        "source_url": URL_NEW,
        "source_title": "Viasna: list of political prisoners",
        "source_kind": "ngo_list",
        "quote": "Hanna Testava, detained on 1 March 2021",
        "reason": REASON,
        "token": "",
        "action": "save",
    }
    data.update(overrides)
    return data


def counts() -> tuple[int, ...]:
    return (
        DetentionEpisode.objects.count(),
        Charge.objects.count(),
        CourtDecision.objects.count(),
        CustodyPlacement.objects.count(),
        IncommunicadoPeriod.objects.count(),
        Release.objects.count(),
        Transfer.objects.count(),
        Citation.objects.count(),
        Source.objects.count(),
    )


def insert_context(obj: Any) -> dict[str, Any]:
    event = type(obj).pgh_event_model.objects.get(pgh_obj_id=obj.pk, pgh_label="insert")
    return event.pgh_context.metadata


def assert_entered(obj: Any, editor: Any, quote: str = "") -> Source:
    """A draft, citing the source given, with the user and the reason in its history."""
    assert obj.visibility == Visibility.DRAFT
    citation = Citation.objects.for_object(obj).get()
    if quote:
        assert citation.quote == quote
    context = insert_context(obj)
    assert context["reason"] == REASON
    assert context["user"] == editor.pk
    assert context["source"] == citation.source_id
    return citation.source


def test_episode_with_a_new_source(editor_client, editor, held):
    data = source_data(
        country=str(Country.objects.get(code="BY").pk),
        arrested_on="2024-03-17",
        arrested_on_precision="month",
        arrest_place="",
        arresting_authority="KGB",
        summary="Detained when entering Belarus.",
    )
    with audit_context(reason="test setup"):  # the first episode ended, so a new one may open
        release_record(episode=held.episodes.get(), released_on=dt.date(2022, 1, 1), kind="pardon")
    response = editor_client.post(url("episode", held), data)
    assert response.status_code == 302, response.context["form"].errors
    assert response["Location"] == reverse("staff:review-detail", args=["person", held.pk])
    new = DetentionEpisode.objects.filter(person=held).order_by("-pk").first()
    assert new.arrested_on == dt.date(2024, 3, 1)  # a month is stored on its first day
    assert new.arrested_on_precision == "month"
    assert new.arresting_authority == "KGB"
    source = assert_entered(new, editor, quote=data["quote"])
    assert source.url == URL_NEW
    assert source.visibility == Visibility.DRAFT
    assert source.kind == "ngo_list"
    assert insert_context(source)["reason"] == REASON


def test_charge_with_an_existing_source_and_the_article_picker(editor_client, editor, held):
    with audit_context(reason="test setup"):
        source = source_get_or_create(title="Court report", url="https://example.org/court")
    article = CriminalArticle.objects.get(code__short_name="BY-CC", number="342")
    episode = held.episodes.get()
    page = editor_client.get(url("charge", held))
    assert page.status_code == 200
    assert "342" in page.content.decode()
    data = source_data(
        source=str(source.pk),
        source_url="",
        source_title="",
        episode=str(episode.pk),
        article=str(article.pk),
        part="1",
        charged_on="2021-03-05",
        note="",
    )
    response = editor_client.post(url("charge", held), data)
    assert response.status_code == 302, response.context["form"].errors
    charge = Charge.objects.get(episode=episode)
    assert (charge.article, charge.part) == (article, "1")
    assert assert_entered(charge, editor) == source
    assert Source.objects.count() == 1


def test_sentence(editor_client, editor, held):
    episode = held.episodes.get()
    data = source_data(
        reliability="confirmed",
        episode=str(episode.pk),
        decided_on="2022-05-10",
        decided_on_precision="day",
        court="Minsk Regional Court",
        judge="",
        term_years="8",
        term_months="6",
        term_days="",
        term_description="",
        term_starts_on="",
        regime="strict",
        note="",
    )
    response = editor_client.post(url("sentence", held), data)
    assert response.status_code == 302, response.context["form"].errors
    decision = CourtDecision.objects.get(episode=episode)
    assert decision.kind == CourtDecision.Kind.SENTENCE
    assert (decision.term_years, decision.term_months, decision.regime) == (8, 6, "strict")
    assert_entered(decision, editor)
    assert Citation.objects.for_object(decision).get().reliability == "confirmed"


def test_a_sentence_needs_a_term_or_its_description(editor_client, held):
    episode = held.episodes.get()
    data = source_data(
        episode=str(episode.pk), decided_on="", decided_on_precision="day", regime=""
    )
    before = counts()
    response = editor_client.post(url("sentence", held), data)
    assert response.status_code == 200
    assert str(TERM_MISSING) in response.content.decode()
    assert counts() == before


def test_placement_in_a_facility(editor_client, editor, held):
    episode = held.episodes.get()
    facility = Place.objects.filter(kind="colony").order_by("pk").first()
    data = source_data(
        episode=str(episode.pk),
        facility=str(facility.pk),
        kind="colony",
        started_on="2022-06-01",
        started_on_precision="day",
        ended_on="",
    )
    response = editor_client.post(url("placement", held), data)
    assert response.status_code == 302, response.context["form"].errors
    placement = CustodyPlacement.objects.get(episode=episode)
    assert placement.facility == facility
    assert_entered(placement, editor)


def test_a_placement_known_to_the_month_is_shown_so(editor_client, editor, held):
    """A transfer to a colony known as "in June 2022": stored on the first, shown as a month."""
    from django.utils import translation

    from events.timeline import partial_date

    episode = held.episodes.get()
    data = source_data(
        episode=str(episode.pk),
        kind="colony",
        started_on="2022-06-17",
        started_on_precision="month",
        ended_on="",
    )
    response = editor_client.post(url("placement", held), data)
    assert response.status_code == 302, response.context["form"].errors
    placement = CustodyPlacement.objects.get(episode=episode)
    assert (placement.started_on, placement.started_on_precision) == (dt.date(2022, 6, 1), "month")
    profile = editor_client.get(reverse("prisoners:detail", args=[held.pk])).content.decode()
    with translation.override("en"):
        month = partial_date(dt.date(2022, 6, 1), "month")
    assert f"from {month}" in profile
    assert "1 June 2022" not in profile
    # Not a day unknown: a placement's start is known at least to the year.
    data["started_on_precision"] = "unknown"
    refused = editor_client.post(url("placement", held), data)
    assert refused.status_code == 200
    assert "started_on_precision" in refused.context["form"].errors


def test_incommunicado_period(editor_client, editor, held):
    episode = held.episodes.get()
    data = source_data(
        episode=str(episode.pk),
        kind="incommunicado",
        started_on="2023-02-01",
        started_on_precision="year",
        ended_on="",
        note="No letters since February.",
    )
    response = editor_client.post(url("incommunicado", held), data)
    assert response.status_code == 302, response.context["form"].errors
    period = IncommunicadoPeriod.objects.get(episode=episode)
    assert (period.started_on, period.started_on_precision) == (dt.date(2023, 1, 1), "year")
    assert_entered(period, editor)


def test_release_with_a_deal(editor_client, editor, held, demo):
    episode = held.episodes.get()
    data = source_data(
        episode=str(episode.pk),
        kind="deal",
        released_on="2025-12-13",
        released_on_precision="day",
        deal=str(demo.pk),
        conditions="",
    )
    response = editor_client.post(url("release", held), data)
    assert response.status_code == 302, response.context["form"].errors
    release = Release.objects.get(episode=episode)
    assert release.deal == demo
    assert_entered(release, editor)
    episode.refresh_from_db()
    assert episode.ended_on == dt.date(2025, 12, 13)


def test_a_release_before_the_arrest_is_refused_by_the_database_and_nothing_is_lost(
    editor_client, held
):
    episode = held.episodes.get()
    data = source_data(
        episode=str(episode.pk),
        kind="pardon",
        released_on="2020-01-01",
        released_on_precision="day",
        deal="",
        conditions="",
    )
    before = counts()
    response = editor_client.post(url("release", held), data)
    assert response.status_code == 200
    form = response.context["form"]
    assert form.non_field_errors()
    assert counts() == before  # not even the new source
    html = response.content.decode()
    assert 'value="2020-01-01"' in html
    assert URL_NEW in html
    assert REASON in html


def test_an_overlapping_placement_is_refused_in_plain_words(editor_client, held):
    episode = held.episodes.get()
    with audit_context(reason="test setup"):
        placement_add(episode=episode, kind="pre_trial", started_on=dt.date(2021, 3, 2))
    data = source_data(
        episode=str(episode.pk), facility="", kind="colony", started_on="2021-05-01", ended_on=""
    )
    before = counts()
    response = editor_client.post(url("placement", held), data)
    assert response.status_code == 200
    expected = str(REFUSED).format(message=PLAIN_REFUSALS["events_custodyplacement_no_overlap"])
    assert expected in response.context["form"].non_field_errors()
    assert counts() == before


def test_transfer_chain_of_three_legs_in_order(editor_client, editor, held):
    code = {c.code: str(c.pk) for c in Country.objects.filter(code__in=["BY", "UA", "PL", "LT"])}
    with audit_context(reason="test setup"):
        release = release_record(
            episode=held.episodes.get(), released_on=dt.date(2025, 12, 13), kind="pardon"
        )
    page = editor_client.get(url("transfers", held))
    assert page.status_code == 200
    legs = {
        "leg-TOTAL_FORMS": "3",
        "leg-INITIAL_FORMS": "0",
        "leg-MIN_NUM_FORMS": "1",
        "leg-MAX_NUM_FORMS": "20",
    }
    rows = [("BY", "UA", "2025-12-13", "handover"), ("UA", "PL", "2025-12-14", "voluntary")]
    rows.append(("PL", "LT", "2025-12-20", "voluntary"))
    for i, (a, b, day, mode) in enumerate(rows):
        legs.update(
            {
                f"leg-{i}-from_country": code[a],
                f"leg-{i}-to_country": code[b],
                f"leg-{i}-transferred_on": day,
                f"leg-{i}-transferred_on_precision": "day",
                f"leg-{i}-mode": mode,
                f"leg-{i}-documents": "taken" if i == 0 else "unknown",
            }
        )
    response = editor_client.post(
        url("transfers", held), {**source_data(release=str(release.pk)), **legs}
    )
    assert response.status_code == 302, (
        response.context["form"].errors,
        response.context["legs"].errors,
        response.context["legs"].non_form_errors(),
    )
    chain = list(Transfer.objects.filter(person=held).order_by("sequence"))
    assert [(t.sequence, t.from_country.code, t.to_country.code) for t in chain] == [
        (1, "BY", "UA"),
        (2, "UA", "PL"),
        (3, "PL", "LT"),
    ]
    assert all(t.release == release for t in chain)
    assert chain[0].documents == "taken"
    for leg in chain:
        assert_entered(leg, editor)


def test_a_leg_is_added_without_losing_anything(editor_client, held):
    code = {c.code: str(c.pk) for c in Country.objects.filter(code__in=["BY", "UA"])}
    data = {
        **source_data(action="add_leg", release=""),
        "leg-TOTAL_FORMS": "1",
        "leg-INITIAL_FORMS": "0",
        "leg-MIN_NUM_FORMS": "1",
        "leg-MAX_NUM_FORMS": "20",
        "leg-0-from_country": code["BY"],
        "leg-0-to_country": code["UA"],
        "leg-0-transferred_on": "2025-12-13",
        "leg-0-transferred_on_precision": "day",
        "leg-0-mode": "handover",
        "leg-0-documents": "unknown",
    }
    response = editor_client.post(url("transfers", held), data)
    assert response.status_code == 200
    assert len(response.context["legs"].forms) == 2
    added = response.context["legs"].forms[1]
    assert added["from_country"].value() == code["UA"]  # where the leg before ends
    assert added["mode"].value() == "unknown"
    assert 'value="2025-12-13"' in response.content.decode()
    assert not Transfer.objects.exists()
    # htmx gets the same page; it swaps in the legs only.
    response = editor_client.post(url("transfers", held), data, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert 'id="legs"' in response.content.decode()


def test_a_gap_in_the_chain_is_refused(editor_client, held):
    code = {c.code: str(c.pk) for c in Country.objects.filter(code__in=["BY", "UA", "PL", "LT"])}
    data = {
        **source_data(release=""),
        "leg-TOTAL_FORMS": "2",
        "leg-INITIAL_FORMS": "0",
        "leg-0-from_country": code["BY"],
        "leg-0-to_country": code["UA"],
        "leg-0-transferred_on": "",
        "leg-0-transferred_on_precision": "day",
        "leg-0-mode": "unknown",
        "leg-0-documents": "unknown",
        "leg-1-from_country": code["PL"],
        "leg-1-to_country": code["LT"],
        "leg-1-transferred_on": "",
        "leg-1-transferred_on_precision": "day",
        "leg-1-mode": "unknown",
        "leg-1-documents": "unknown",
    }
    response = editor_client.post(url("transfers", held), data)
    assert response.status_code == 200
    expected = str(LEG_GAP).format(number=2, country="Poland", previous="Ukraine")
    assert expected in response.context["legs"].non_form_errors()
    assert not Transfer.objects.exists()


def test_a_source_is_required(editor_client, held):
    episode = held.episodes.get()
    data = source_data(
        source_url="",
        source_title="",
        episode=str(episode.pk),
        kind="incommunicado",
        started_on="2023-02-01",
        started_on_precision="day",
    )
    before = counts()
    response = editor_client.post(url("incommunicado", held), data)
    assert response.status_code == 200
    assert str(SOURCE_MISSING) in response.context["form"].errors["source"]
    assert counts() == before
    assert 'value="2023-02-01"' in response.content.decode()


def test_a_reason_is_required(editor_client, held):
    episode = held.episodes.get()
    data = source_data(
        reason="  ",
        episode=str(episode.pk),
        kind="incommunicado",
        started_on="2023-02-01",
        started_on_precision="day",
    )
    before = counts()
    response = editor_client.post(url("incommunicado", held), data)
    assert response.status_code == 200
    assert str(REASON_REQUIRED) in response.context["form"].errors["reason"]
    assert counts() == before


def test_bad_input_keeps_every_value_and_writes_nothing(editor_client, held):
    episode = held.episodes.get()
    data = source_data(
        episode=str(episode.pk),
        decided_on="not a date",
        decided_on_precision="day",
        court="Homiel Regional Court",
        term_years="3",
        term_months="14",
        regime="general",
    )
    before = counts()
    response = editor_client.post(url("sentence", held), data)
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert "decided_on" in errors
    assert "term_months" in errors
    html = response.content.decode()
    for value in ("not a date", "Homiel Regional Court", 'value="14"', URL_NEW, REASON):
        assert value in html
    assert counts() == before


def test_a_second_submit_of_the_same_form_writes_nothing(editor_client, held):
    episode = held.episodes.get()
    data = source_data(
        token="once",
        episode=str(episode.pk),
        kind="solitary",
        started_on="2023-02-01",
        started_on_precision="day",
    )
    assert editor_client.post(url("incommunicado", held), data).status_code == 302
    assert editor_client.post(url("incommunicado", held), data).status_code == 302
    assert IncommunicadoPeriod.objects.filter(episode=episode).count() == 1


def test_source_search_and_pick_without_javascript_and_with_htmx(editor_client, held):
    with audit_context(reason="test setup"):
        source = source_get_or_create(title="Nasha Niva report", url="https://nn.example/1")
    target = url("incommunicado", held)
    found = editor_client.get(target, {"source_q": "nasha"}, HTTP_HX_REQUEST="true")
    assert found.status_code == 200
    assert "Nasha Niva report" in found.content.decode()
    assert "<html" not in found.content.decode()
    assert "HX-Request" in found["Vary"]
    searched = editor_client.post(target, source_data(action="source_search", source_q="niva"))
    assert searched.status_code == 200
    assert f'name="source_pick" value="{source.pk}"' in searched.content.decode()
    picked = editor_client.post(target, source_data(source_pick=str(source.pk)))
    assert picked.status_code == 200
    assert picked.context["form"]["source"].value() == str(source.pk)
    assert picked.context["form"]["source_url"].value() == ""
    assert "Citing" in picked.content.decode()
    assert 'role="alert"' not in picked.content.decode()


def test_the_record_pages_link_to_the_forms(editor_client, held):
    page = editor_client.get(reverse("staff:review-detail", args=["person", held.pk])).content
    for name in ("episode", "charge", "sentence", "placement", "incommunicado", "release"):
        assert url(name, held).encode() in page
    assert url("transfers", held).encode() in page
    episode = held.episodes.get()
    page = editor_client.get(reverse("staff:review-detail", args=["detentionepisode", episode.pk]))
    assert f"{url('charge', held)}?episode={episode.pk}".encode() in page.content


@pytest.mark.parametrize("role", ["reviewer", "admin"])
def test_reviewers_and_admins_may_enter(role, held):
    client = pass_second_factor(Client(), make_user(f"u-{role}", role))
    assert client.get(url("charge", held)).status_code == 200


def test_anonymous_and_researchers_are_refused(held):
    anonymous = Client().get(url("episode", held))
    assert anonymous.status_code == 302
    assert anonymous["Location"].startswith("/staff/login/")
    researcher = Client()
    researcher.force_login(make_user("rita", "researcher", device=False))
    for name in ("episode", "charge", "transfers"):
        assert researcher.get(url(name, held)).status_code == 403
        assert researcher.post(url(name, held), source_data()).status_code == 403
    assert researcher.get(reverse("staff:entry-person")).status_code == 403


@pytest.mark.parametrize("kind", ["placement", "incommunicado"])
def test_a_period_cannot_end_before_it_starts(editor_client, held, kind):
    episode = held.episodes.get()
    data = source_data(
        episode=str(episode.pk),
        kind="colony" if kind == "placement" else "incommunicado",
        started_on="2023-02-01",
        ended_on="2023-01-15",
    )
    before = counts()
    response = editor_client.post(url(kind, held), data)
    assert response.status_code == 200
    assert "The end cannot be before the start." in response.context["form"].errors["ended_on"]
    assert counts() == before
