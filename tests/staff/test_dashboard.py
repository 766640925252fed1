"""The staff dashboard: drafts, facts without a source, terms ending this month, incommunicado
for more than six months."""

import datetime as dt

import pytest
import time_machine
from django.urls import reverse

from events import services as ev
from events.models import Source
from prisoners.audit import audit_context
from prisoners.models import Visibility
from prisoners.services import person_create
from prisoners.staff.selectors import dashboard, month_bounds
from tests.events.factories import episode

pytestmark = pytest.mark.django_db

TODAY = dt.date(2026, 3, 10)
NOW = dt.datetime(2026, 3, 10, 12, 0, tzinfo=dt.UTC)


@pytest.fixture
def world(db):
    with time_machine.travel(NOW, tick=False), audit_context(reason="dashboard fixture"):
        ending = person_create(name="Term Ends In March", name_ru="Тест Мартов")
        ep = episode(ending, arrested_on=dt.date(2023, 3, 15))
        ev.court_decision_add(
            episode=ep, kind="sentence", decided_on=dt.date(2023, 6, 1), term_years=3
        )
        later = person_create(name="Term Ends In April", visibility=Visibility.PUBLIC)
        ep = episode(later, arrested_on=dt.date(2023, 4, 2), visibility=Visibility.PUBLIC)
        ev.court_decision_add(
            episode=ep, kind="sentence", decided_on=dt.date(2023, 6, 1), term_years=3
        )
        # An appeal replaces the term: it now ends this month, not next year.
        appealed = person_create(name="Appeal Shortened")
        ep = episode(appealed, arrested_on=dt.date(2022, 3, 20))
        first = ev.court_decision_add(
            episode=ep, kind="sentence", decided_on=dt.date(2022, 6, 1), term_years=5
        )
        ev.court_decision_add(
            episode=ep,
            kind="appeal",
            decided_on=dt.date(2022, 9, 1),
            term_years=4,
            amends=first,
        )

        isolated = person_create(name="Held Incommunicado")
        ep = episode(isolated, arrested_on=dt.date(2025, 1, 10))
        ev.incommunicado_add(episode=ep, started_on=dt.date(2025, 9, 1))  # 190 days
        recent = person_create(name="Recently Isolated")
        ep = episode(recent, arrested_on=dt.date(2025, 1, 10))
        ev.incommunicado_add(episode=ep, started_on=dt.date(2025, 10, 1))  # 160 days
        ev.incommunicado_add(
            episode=ep, started_on=dt.date(2025, 1, 20), ended_on=dt.date(2025, 5, 1)
        )
        ev.incommunicado_add(episode=ep, started_on=None, kind="solitary")  # unknown start

        source = Source.objects.create(title="Court record", kind="court_document")
        ev.cite(obj=ending, source=source, quote="three years")
    return {"ending": ending, "appealed": appealed, "isolated": isolated}


def test_month_bounds():
    assert month_bounds(dt.date(2026, 12, 31)) == (dt.date(2026, 12, 1), dt.date(2027, 1, 1))
    assert month_bounds(dt.date(2026, 2, 1)) == (dt.date(2026, 2, 1), dt.date(2026, 3, 1))


def test_dashboard_counts(world):
    board = dashboard(on=TODAY)
    drafts = {item.kind.slug: item.count for item in board.drafts}
    assert drafts["person"] == 4  # all but the published one
    assert drafts["detentionepisode"] == 4
    assert drafts["courtdecision"] == 3  # follow their episode; the public one too
    assert drafts["incommunicadoperiod"] == 4
    assert drafts["releasedeal"] == 0
    unsourced = {item.kind.slug: item.count for item in board.unsourced}
    assert unsourced["person"] == 4  # one of the five cites a source
    assert unsourced["detentionepisode"] == 5
    # Every name typed in (one per person, and the Russian primary) but not the generated
    # spellings, which follow their cited primary name.
    assert unsourced["namevariant"] == 6
    assert "citation" not in unsourced
    assert "source" not in unsourced
    assert board.terms_ending == 2
    assert board.incommunicado == 1


def test_dashboard_page_shows_counts_with_links(world, editor_client):
    with time_machine.travel(NOW, tick=False):
        response = editor_client.get(reverse("staff:dashboard"))
    assert response.status_code == 200
    body = response.content.decode()
    board = response.context["board"]
    assert f'id="count-drafts">{board.drafts_total}<' in body
    assert f'id="count-unsourced">{board.unsourced_total}<' in body
    assert 'id="count-terms-ending">2<' in body
    assert 'id="count-incommunicado">1<' in body
    assert 'id="drafts-person">4<' in body
    assert reverse("staff:review-list", args=["person"]) + "?visibility=draft" in body
    assert reverse("staff:review-list", args=["person"]) + "?unsourced=on" in body
    assert reverse("staff:terms-ending") in body
    assert reverse("staff:incommunicado") in body
    assert 'id="count-proposals">0<' in body
    assert reverse("staff:proposals") in body


def test_terms_ending_this_month_page(world, editor_client):
    with time_machine.travel(NOW, tick=False):
        response = editor_client.get(reverse("staff:terms-ending"))
    persons = list(response.context["page_obj"].object_list)
    assert [(p.name, p.expected_end) for p in persons] == [
        ("Term Ends In March", dt.date(2026, 3, 15)),
        ("Appeal Shortened", dt.date(2026, 3, 20)),
    ]
    assert "March 2026" in response.content.decode()


def test_incommunicado_page(world, editor_client):
    with time_machine.travel(NOW, tick=False):
        response = editor_client.get(reverse("staff:incommunicado"))
    rows = response.context["rows"]
    assert [(r["period"].episode.person.name, r["days"]) for r in rows] == [
        ("Held Incommunicado", 190)
    ]
    # On the 184th day it counts; on the 183rd not yet.
    assert dashboard(on=dt.date(2025, 9, 1) + dt.timedelta(days=184)).incommunicado == 1
    assert dashboard(on=dt.date(2025, 9, 1) + dt.timedelta(days=183)).incommunicado == 0


def test_dashboard_queries_do_not_grow_with_records(
    world, editor_client, django_assert_max_num_queries
):
    with time_machine.travel(NOW, tick=False), django_assert_max_num_queries(60):
        editor_client.get(reverse("staff:dashboard"))
