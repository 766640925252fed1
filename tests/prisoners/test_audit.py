"""Every write to a curated model is recorded with who, why and from which source."""

import pghistory.models
import pytest
from django.apps import apps
from django.contrib.auth import get_user_model
from django.db import connection

from events.models import Source
from prisoners.audit import MISSING_REASON, audit_context, is_derived
from prisoners.models import Person
from prisoners.services import person_create

pytestmark = pytest.mark.django_db


def person_events(person_id: int):  # type: ignore[no-untyped-def]
    return pghistory.models.Events.objects.filter(
        pgh_obj_model="prisoners.Person", pgh_obj_id=str(person_id)
    ).order_by("pgh_created_at")


def test_every_curated_model_is_tracked():
    tracked = {m.pgh_tracked_model for m in apps.get_models() if hasattr(m, "pgh_tracked_model")}
    for app in ("prisoners", "events"):
        for model in apps.get_app_config(app).get_models():
            if hasattr(model, "pgh_tracked_model") or is_derived(model):
                continue
            assert model in tracked, f"{model._meta.label} has no history"


def test_service_writes_carry_user_reason_and_source():
    user = get_user_model().objects.create_user("editor", password="x" * 12)
    source = Source.objects.create(title="A list", kind="ngo_list")
    with audit_context(user=user, reason="entered from the list", source=source):
        person = person_create(name="Ihar Losik", name_be="Ігар Лосік")
    events = list(person_events(person.pk))
    assert [e.pgh_label for e in events] == ["insert"]
    context = events[0].pgh_context
    assert context["reason"] == "entered from the list"
    assert context["user"] == user.pk
    assert context["username"] == "editor"
    assert context["source"] == source.pk
    # The generated name variants are recorded with the same context.
    variant_events = pghistory.models.Events.objects.filter(pgh_obj_model="prisoners.NameVariant")
    assert variant_events.count() == person.name_variants.count() >= 2
    assert {e.pgh_context["reason"] for e in variant_events} == {"entered from the list"}


def test_bulk_update_bulk_create_raw_sql_and_delete_are_recorded_with_context():
    with audit_context(reason="setup"):
        people = Person.objects.bulk_create([Person(name=f"Bulk {i}") for i in range(3)])
    with audit_context(reason="bulk publish"):
        Person.objects.filter(name__startswith="Bulk").update(visibility="public")
    with audit_context(reason="raw fix"), connection.cursor() as cursor:
        cursor.execute(
            "UPDATE prisoners_person SET occupation = 'teacher' WHERE id = %s", [people[0].pk]
        )
    with audit_context(reason="duplicate removed"):
        Person.objects.filter(pk=people[2].pk).delete()
    labels = [(e.pgh_label, e.pgh_context["reason"]) for e in person_events(people[0].pk)]
    assert labels == [("insert", "setup"), ("update", "bulk publish"), ("update", "raw fix")]
    deleted = [(e.pgh_label, e.pgh_context["reason"]) for e in person_events(people[2].pk)]
    assert deleted[-1] == ("delete", "duplicate removed")


def test_history_keeps_the_old_and_new_values_field_by_field():
    with audit_context(reason="create"):
        person = person_create(name="Field Test")
    with audit_context(reason="correct the occupation"):
        Person.objects.filter(pk=person.pk).update(occupation="journalist")
    update = person_events(person.pk).filter(pgh_label="update").get()
    assert update.pgh_diff == {"occupation": ["", "journalist"]} or update.pgh_diff[
        "occupation"
    ] == ["", "journalist"]


def test_a_reason_is_required():
    with pytest.raises(ValueError, match=MISSING_REASON), audit_context(reason="  "):
        pass  # pragma: no cover


def test_a_new_primary_name_that_was_a_variant_becomes_primary():
    from prisoners.models import NameVariant
    from prisoners.services import name_variant_add, person_set_names

    with audit_context(reason="names"):
        person = person_create(name="Test Name", name_ru="Тест Имя")
        name_variant_add(person=person, text="Тест Імя", language="be")
        person_set_names(person=person, name_be="Тест Імя")
    assert person.name_variants.get(language="be", kind=NameVariant.Kind.PRIMARY).text == "Тест Імя"
