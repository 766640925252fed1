"""History of a record, field by field, and the revert of a change (itself audited)."""

import pghistory.models
import pytest
from django.urls import reverse
from django.utils.html import escape

from prisoners.audit import audit_context
from prisoners.models import NameVariant, Person, PersonBiography
from prisoners.services import name_variant_add, person_create, person_update
from prisoners.staff.forms import REASON_REQUIRED
from prisoners.staff.history import NOT_REVERTIBLE_INSERT, record_changes
from tests.staff.helpers import make_user, verified_client

pytestmark = pytest.mark.django_db


def history_url(obj_or_model, pk=None):
    meta = obj_or_model._meta
    return reverse("staff:history", args=[meta.app_label, meta.model_name, pk or obj_or_model.pk])


def events_of(obj):
    return list(type(obj).pgh_event_model.objects.filter(pgh_obj_id=obj.pk).order_by("pgh_id"))


def revert_url(obj_or_model, pk, event):
    meta = obj_or_model._meta
    return reverse("staff:revert", args=[meta.app_label, meta.model_name, pk, event.pgh_id])


@pytest.fixture
def person(editor):
    with audit_context(user=editor, reason="entered from the list"):
        who = person_create(name="Ihar Losik", occupation="blogger")
    with audit_context(user=editor, reason="the list said journalist"):
        person_update(person=who, occupation="journalist", gender="male")
    return who


def test_history_lists_every_change_with_who_when_why_field_by_field(editor_client, person):
    response = editor_client.get(history_url(person))
    assert response.status_code == 200
    changes = list(response.context["page_obj"].object_list)
    assert [c.label for c in changes] == ["update", "insert"]  # newest first
    update = changes[0]
    assert update.username == "edna"
    assert update.reason == "the list said journalist"
    assert {(c.field.name, c.old_display, c.new_display) for c in update.fields} == {
        ("occupation", "blogger", "journalist"),
        ("gender", "Unknown", "Male"),
    }
    body = response.content.decode()
    for text in ("edna", "the list said journalist", "entered from the list", "blogger"):
        assert text in body
    # Editors read the history but are not offered reverts.
    assert "Revert this change" not in body


def test_changes_made_outside_the_staff_pages_are_in_the_history(editor_client, person):
    with audit_context(reason="bulk fix by a script"):
        Person.objects.filter(pk=person.pk).update(occupation="blogger and journalist")
    response = editor_client.get(history_url(person))
    latest = response.context["page_obj"].object_list[0]
    assert latest.username == ""
    assert latest.reason == "bulk fix by a script"
    assert [(c.field.name, c.old, c.new) for c in latest.fields] == [
        ("occupation", "journalist", "blogger and journalist")
    ]
    assert "the system (no user)" in response.content.decode()


def test_revert_restores_the_previous_values_and_is_itself_audited(
    reviewer, reviewer_client, person
):
    update = events_of(person)[-1]
    url = revert_url(person, person.pk, update)
    page = reviewer_client.get(url)
    assert page.status_code == 200
    assert [row["item"].field.name for row in page.context["rows"]] == ["gender", "occupation"]
    # A reason is required; nothing changes without it, and what was typed stays.
    refused = reviewer_client.post(url, {"reason": " ", "source": ""})
    assert str(REASON_REQUIRED) in refused.content.decode()
    person.refresh_from_db()
    assert person.occupation == "journalist"

    done = reviewer_client.post(url, {"reason": "wrong person in the list"})
    assert done.status_code == 302
    assert done["Location"] == history_url(person)
    person.refresh_from_db()
    assert person.occupation == "blogger"
    assert person.gender == "unknown"
    revert = (
        pghistory.models.Events.objects.across(Person.pgh_event_model)
        .tracks(person)
        .order_by("-pgh_id")
        .first()
    )
    assert revert.pgh_context["user"] == reviewer.pk
    assert revert.pgh_context["reason"] == "wrong person in the list"
    assert revert.pgh_context["reverted"] == update.pgh_id
    assert revert.pgh_diff["occupation"] == ["journalist", "blogger"]
    # The revert is a change like any other: it can be reverted in turn.
    last = record_changes(Person, person.pk)[-1]
    assert last.revertible


def test_a_later_change_of_the_same_field_is_shown_before_reverting(
    reviewer_client, person, editor
):
    update = events_of(person)[-1]
    with audit_context(user=editor, reason="more precise"):
        person_update(person=person, occupation="video blogger")
    rows = reviewer_client.get(revert_url(person, person.pk, update)).context["rows"]
    occupation = next(r for r in rows if r["item"].field.name == "occupation")
    assert occupation["current"] == "video blogger"
    assert occupation["changed_since"]


def test_a_revert_the_database_refuses_is_explained_and_loses_nothing(reviewer_client, editor):
    with audit_context(user=editor, reason="names"):
        who = person_create(name="Name Test")
        variant = name_variant_add(person=who, text="Spelling One", language="en")
    with audit_context(user=editor, reason="typo"):
        NameVariant.objects.filter(pk=variant.pk).update(text="Spelling Two")
    with audit_context(user=editor, reason="another spelling"):
        name_variant_add(person=who, text="Spelling One", language="en")
    update = events_of(variant)[-1]
    url = revert_url(NameVariant, variant.pk, update)
    response = reviewer_client.post(url, {"reason": "undo the typo"})
    assert response.status_code == 200
    body = response.content.decode()
    assert "Not saved:" in body
    assert "already exists" in body
    assert 'value="undo the typo"' in body
    variant.refresh_from_db()
    assert variant.text == "Spelling Two"
    assert events_of(variant)[-1].pgh_id == update.pgh_id  # nothing written


def test_a_deleted_record_can_be_restored(reviewer_client, editor, person):
    with audit_context(user=editor, reason="bio"):
        bio = PersonBiography.objects.create(
            person=person, language="en", text="Blogger from Homel."
        )
    pk = bio.pk
    with audit_context(user=editor, reason="removed by mistake"):
        bio.delete()
    page = reviewer_client.get(history_url(PersonBiography, pk))
    assert page.status_code == 200
    assert "This record has been deleted." in page.content.decode()
    deletion = events_of(PersonBiography(pk=pk))[-1]
    assert deletion.pgh_label == "delete"
    response = reviewer_client.post(
        revert_url(PersonBiography, pk, deletion), {"reason": "deleted by mistake"}
    )
    assert response.status_code == 302
    restored = PersonBiography.objects.get(pk=pk)
    assert restored.text == "Blogger from Homel."
    last = events_of(restored)[-1]
    assert last.pgh_label == "insert"
    assert last.pgh_context.metadata["reason"] == "deleted by mistake"
    # Restoring twice is refused.
    again = reviewer_client.post(revert_url(PersonBiography, pk, deletion), {"reason": "again"})
    assert again.status_code == 200
    assert PersonBiography.objects.filter(pk=pk).count() == 1


def test_a_creation_is_not_reverted(reviewer_client, person):
    insert = events_of(person)[0]
    url = revert_url(person, person.pk, insert)
    page = reviewer_client.get(url)
    assert escape(str(NOT_REVERTIBLE_INSERT)) in page.content.decode()
    reviewer_client.post(url, {"reason": "try"})
    assert Person.objects.filter(pk=person.pk).exists()


def test_four_eyes_also_applies_to_a_revert_that_publishes(settings, reviewer, reviewer_client):
    settings.TRACKER_FOUR_EYES = True
    with audit_context(user=reviewer, reason="entered"):
        who = person_create(name="Revert Eyes", visibility="public")
    with audit_context(user=reviewer, reason="hide"):
        person_update(person=who, visibility="draft")
    hide = events_of(who)[-1]
    response = reviewer_client.post(revert_url(who, who.pk, hide), {"reason": "show again"})
    assert response.status_code == 200
    assert "Four-eyes rule" in response.content.decode()
    other = verified_client(make_user("ruth", "reviewer"))
    assert other.post(revert_url(who, who.pk, hide), {"reason": "show again"}).status_code == 302
    who.refresh_from_db()
    assert who.visibility == "public"


def test_unknown_records_and_models_are_not_found(editor_client):
    assert (
        editor_client.get(
            reverse("staff:history", args=["prisoners", "person", 999999])
        ).status_code
        == 404
    )
    assert editor_client.get(reverse("staff:history", args=["auth", "user", 1])).status_code == 404
    assert (
        editor_client.get(reverse("staff:history", args=["prisoners", "nothing", 1])).status_code
        == 404
    )
    assert (
        editor_client.get(
            reverse("staff:history", args=["prisoners", "personlisting", 1])
        ).status_code
        == 404
    )
