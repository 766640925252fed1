"""Correcting one field of a record from its staff page (issue 4, item 2: inline editing with
htmx, and the same without JavaScript), with a source and a reason in the history."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from events.models import Citation, CustodyPlacement, DetentionEpisode
from events.services import placement_add
from prisoners.audit import audit_context
from prisoners.models import Person
from prisoners.staff.entry import VALUE_UNCHANGED, editable_fields
from tests.events import factories as f
from tests.staff.helpers import make_user

pytestmark = pytest.mark.django_db

REASON = "The court record gives another authority"


@pytest.fixture
def episode() -> DetentionEpisode:
    with audit_context(reason="test setup"):
        return f.episode(f.person("Hanna Testava"), arrested_on=dt.date(2021, 3, 1))


def edit_url(obj: Any) -> str:
    return reverse("staff:entry-field-edit", args=[obj._meta.model_name, obj.pk])


def data(**overrides: Any) -> dict[str, Any]:
    values = {
        "field": "arresting_authority",
        "value": "GUBOPiK",
        "source": "",
        "source_url": "https://example.org/court-record",
        "source_title": "Court record",
        "source_kind": "court_document",
        "quote": "detained by GUBOPiK officers",
        "reason": REASON,
        "action": "save",
    }
    values.update(overrides)
    return values


def test_the_record_page_opens_the_form_in_place(editor_client, episode):
    page = editor_client.get(reverse("staff:review-detail", args=["detentionepisode", episode.pk]))
    assert f'hx-get="{edit_url(episode)}"'.encode() in page.content
    fragment = editor_client.get(edit_url(episode), HTTP_HX_REQUEST="true")
    assert fragment.status_code == 200
    assert b"<html" not in fragment.content
    assert b'name="value"' in fragment.content
    full = editor_client.get(edit_url(episode))
    assert b"<html" in full.content


def test_a_correction_is_saved_with_its_source_and_reason(editor_client, editor, episode):
    response = editor_client.post(edit_url(episode), data())
    assert response.status_code == 302, response.context["form"].errors
    episode.refresh_from_db()
    assert episode.arresting_authority == "GUBOPiK"
    citation = Citation.objects.for_object(episode).get(field_name="arresting_authority")
    assert citation.quote == "detained by GUBOPiK officers"
    update = DetentionEpisode.pgh_event_model.objects.get(pgh_obj_id=episode.pk, pgh_label="update")
    assert update.pgh_context.metadata["reason"] == REASON
    assert update.pgh_context.metadata["user"] == editor.pk
    assert update.pgh_context.metadata["source"] == citation.source_id


def test_with_htmx_a_save_reloads_the_record_page(editor_client, episode):
    response = editor_client.post(edit_url(episode), data(), HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert response["HX-Redirect"] == reverse(
        "staff:review-detail", args=["detentionepisode", episode.pk]
    )


def test_choosing_another_field_keeps_the_source_and_reason(editor_client, episode):
    response = editor_client.post(
        edit_url(episode), data(field="summary", action="choose", value="x")
    )
    assert response.status_code == 200
    form = response.context["form"]
    assert form.model_field.name == "summary"
    html = response.content.decode()
    assert REASON in html
    assert "https://example.org/court-record" in html


def test_an_unchanged_value_and_a_refusal_of_the_database_write_nothing(editor_client, episode):
    with audit_context(reason="test setup"):
        placement = placement_add(episode=episode, kind="pre_trial", started_on=dt.date(2021, 3, 2))
    same = editor_client.post(edit_url(episode), data(value=""))
    assert str(VALUE_UNCHANGED) in same.context["form"].errors["value"]
    before = CustodyPlacement.pgh_event_model.objects.count()
    refused = editor_client.post(
        edit_url(placement), data(field="ended_on", value="2020-01-01", quote="")
    )
    assert refused.status_code == 200
    assert refused.context["form"].errors
    assert 'value="2020-01-01"' in refused.content.decode()
    placement.refresh_from_db()
    assert placement.ended_on is None
    assert CustodyPlacement.pgh_event_model.objects.count() == before
    assert not Citation.objects.filter(quote="detained by GUBOPiK officers").exists()


def test_links_to_large_tables_and_names_are_not_editable_here():
    assert "person" not in editable_fields(CustodyPlacement)
    assert "facility" in editable_fields(CustodyPlacement)
    assert "photo" not in editable_fields(Person)
    assert "merged_into" not in editable_fields(Person)


def test_researchers_are_refused(episode):
    client = Client()
    client.force_login(make_user("rita", "researcher", device=False))
    assert client.post(edit_url(episode), data()).status_code == 403
    episode.refresh_from_db()
    assert episode.arresting_authority == ""


def test_only_reviewers_lift_name_withheld(editor_client, reviewer_client):
    with audit_context(reason="test setup"):
        person = f.person("Withheld Person")
    Person.objects.filter(pk=person.pk).update(name_withheld=True)
    values = data(field="name_withheld", value="")  # an unticked checkbox: False
    refused = editor_client.post(edit_url(person), values)
    assert refused.status_code == 200
    assert "Only reviewers may change this field" in refused.content.decode()
    assert Person.objects.get(pk=person.pk).name_withheld is True
    done = reviewer_client.post(edit_url(person), values)
    assert done.status_code == 302
    assert Person.objects.get(pk=person.pk).name_withheld is False


def test_with_four_eyes_an_editor_does_not_change_a_published_record(
    editor_client, reviewer_client, episode, settings
):
    settings.TRACKER_FOUR_EYES = True
    DetentionEpisode.objects.filter(pk=episode.pk).update(visibility="public")
    refused = editor_client.post(edit_url(episode), data())
    assert "a second person must review changes" in refused.content.decode()
    assert DetentionEpisode.objects.get(pk=episode.pk).arresting_authority == ""
    assert reviewer_client.post(edit_url(episode), data()).status_code == 302
    assert DetentionEpisode.objects.get(pk=episode.pk).arresting_authority == "GUBOPiK"
