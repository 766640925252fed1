"""A new person at /staff/persons/new/ (issue 4, item 2): the names, a preview of the generated
spellings to confirm (an unticked one is not stored), then a draft person citing the source,
with the reason in the history."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from events.models import Citation, Source
from prisoners.audit import audit_context
from prisoners.models import NameVariant, Person, Visibility
from prisoners.staff.entry import variants_offered
from prisoners.staff.entry_forms import NAME_MISSING, NOT_CYRILLIC
from prisoners.staff.forms import REASON_REQUIRED
from prisoners.staff.views.entry import NAMES_CHANGED
from tests.events import factories as f
from tests.staff.helpers import make_user

pytestmark = pytest.mark.django_db

URL = "/staff/persons/new/"
REASON = "Named in the report of 14 Dec 2025"


def person_data(**overrides: Any) -> dict[str, Any]:
    data = {
        "name": "Maryia Testava",
        "name_be": "Марыя Тэстава",
        "name_ru": "Мария Тестова",
        "gender": "female",
        "birth_date": "1982-04-24",
        "birth_date_precision": "year",
        "occupation": "musician",
        "home_region": "",
        "other_names": "Maria Testova\n\nMaria Testova",
        "source": "",
        "source_url": "https://example.org/report",
        "source_title": "Belarus releases 123 prisoners",
        "source_kind": "article",
        "quote": "Maryia Testava, a musician",
        "reason": REASON,
        "token": "p-1",
    }
    data.update(overrides)
    return data


def test_url_is_the_one_in_the_issue():
    assert reverse("staff:entry-person") == URL


def test_preview_shows_the_generated_spellings_then_confirm_saves_the_ticked_ones(
    editor_client, editor
):
    data = person_data()
    preview = editor_client.post(URL, {**data, "action": "preview"})
    assert preview.status_code == 200
    assert preview.context["ready"]
    offered = variants_offered(name_be=data["name_be"], name_ru=data["name_ru"])
    assert {v.language for v in offered} == {"be", "ru"}
    html = preview.content.decode()
    for variant in offered:
        assert f'value="{variant.key}"' in html
        assert "checked" in html
    assert 'value="confirm"' in html
    assert "Maria Testova · added by hand" in html
    assert not Person.objects.filter(name="Maryia Testava").exists()  # a preview writes none

    wrong = next(v for v in offered if v.language == "ru" and v.text != "Mariya Testova")
    kept = [v.key for v in offered if v != wrong]
    previewed = preview.context["form"]["previewed"].value()
    response = editor_client.post(
        URL, {**data, "action": "confirm", "previewed": previewed, "variants": kept}
    )
    assert response.status_code == 302, response.context["form"].errors
    person = Person.objects.get(name="Maryia Testava")
    assert response["Location"] == reverse("staff:review-detail", args=["person", person.pk])
    assert person.visibility == Visibility.DRAFT
    assert (person.gender, person.occupation) == ("female", "musician")
    assert str(person.birth_date) == "1982-01-01"  # year only: stored on the first day
    assert person.birth_date_precision == "year"
    texts = {(v.text, v.language): v for v in person.name_variants.all()}
    assert texts[("Марыя Тэстава", "be")].kind == NameVariant.Kind.PRIMARY
    assert texts[("Мария Тестова", "ru")].kind == NameVariant.Kind.PRIMARY
    assert (wrong.text, "ru") not in texts
    by_hand = texts[("Maria Testova", "en")]  # added by hand, once
    assert (by_hand.kind, by_hand.generated) == (NameVariant.Kind.COMMON, False)
    for key in kept:
        language, text = key.split("|", 1)
        variant = texts[(text, language)]
        assert variant.generated
        assert variant.schemes
        assert variant.visibility == Visibility.DRAFT
    citation = Citation.objects.for_object(person).get()
    assert citation.source.url == "https://example.org/report"
    assert citation.quote == "Maryia Testava, a musician"
    for obj in [person, *person.name_variants.all()]:
        event = type(obj).pgh_event_model.objects.get(pgh_obj_id=obj.pk, pgh_label="insert")
        assert event.pgh_context.metadata["reason"] == REASON
        assert event.pgh_context.metadata["user"] == editor.pk
    # The same form again writes nothing.
    again = editor_client.post(
        URL, {**data, "action": "confirm", "previewed": previewed, "variants": kept}
    )
    assert again.status_code == 302
    assert Person.objects.filter(name="Maryia Testava").count() == 1


def test_changed_names_need_a_new_preview(editor_client):
    data = person_data()
    preview = editor_client.post(URL, {**data, "action": "preview"})
    previewed = preview.context["form"]["previewed"].value()
    response = editor_client.post(
        URL,
        {
            **data,
            "name_ru": "Мария Тестовая",
            "action": "confirm",
            "previewed": previewed,
            "variants": [],
        },
    )
    assert response.status_code == 200
    assert str(NAMES_CHANGED) in response.context["form"].non_field_errors()
    assert not Person.objects.filter(name="Maryia Testava").exists()
    # The new spellings are offered, every one ticked.
    html = response.content.decode()
    assert "Mariya Testovaya" in html or "Mariia Testovaia" in html


def test_the_latin_name_may_be_left_to_the_generator(editor_client):
    data = person_data(name="", name_ru="")
    preview = editor_client.post(URL, {**data, "action": "preview"})
    form = preview.context["form"]
    assert form.cleaned_data["name"] == "Maryia Testava"
    response = editor_client.post(
        URL,
        {
            **data,
            "action": "confirm",
            "previewed": form["previewed"].value(),
            "variants": [v.key for v in form.offered],
        },
    )
    assert response.status_code == 302
    assert Person.objects.filter(name="Maryia Testava").exists()


def test_bad_input_keeps_every_value_and_writes_nothing(editor_client):
    before = (Person.objects.count(), NameVariant.objects.count(), Source.objects.count())
    data = person_data(
        name="", name_be="Maryia", name_ru="", birth_date="24.04", reason="", source_url=""
    )
    response = editor_client.post(URL, {**data, "action": "confirm"})
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert str(NOT_CYRILLIC) in errors["name_be"]
    assert "birth_date" in errors
    assert str(REASON_REQUIRED) in errors["reason"]
    assert "source_url" in errors
    html = response.content.decode()
    for value in ('value="Maryia"', 'value="24.04"', "musician", "Belarus releases 123"):
        assert value in html
    assert (Person.objects.count(), NameVariant.objects.count(), Source.objects.count()) == before


def test_a_name_is_required(editor_client):
    response = editor_client.post(
        URL, {**person_data(name="", name_be="", name_ru=""), "action": "preview"}
    )
    assert str(NAME_MISSING) in response.context["form"].errors["name"]


def test_similar_persons_are_shown_in_the_preview(editor_client):
    with audit_context(reason="test setup"):
        existing = f.person("Maryia Testava", name_be="Марыя Тэстава")
    preview = editor_client.post(URL, {**person_data(), "action": "preview"})
    assert [hit.person for hit in preview.context["similar"]] == [existing]


def test_the_dashboard_links_to_the_form(editor_client):
    assert URL.encode() in editor_client.get("/staff/").content


def test_anonymous_and_researchers_are_refused():
    response = Client().post(URL, {**person_data(), "action": "confirm"})
    assert response.status_code == 302
    assert response["Location"].startswith("/staff/login/")
    client = Client()
    client.force_login(make_user("rita", "researcher", device=False))
    assert client.get(URL).status_code == 403
    assert client.post(URL, {**person_data(), "action": "confirm"}).status_code == 403
    assert not Person.objects.filter(name="Maryia Testava").exists()
