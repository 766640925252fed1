"""The staff admin: every model registered, pages render, search by any spelling, audited writes."""

from __future__ import annotations

import datetime as dt
import re
from html.parser import HTMLParser
from typing import Any

import pghistory.models
import pytest
from django.apps import apps
from django.contrib import admin
from django.db import connection
from django.db.models import Model
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from events import services as event_services
from events.models import (
    Charge,
    Claim,
    CriminalArticle,
    CustodyPlacement,
    DetentionEpisode,
    Release,
    ReleaseDeal,
    Source,
)
from prisoners.admin import AUDIT_FIELD, DELETE_REASON
from prisoners.audit import audit_context, is_derived
from prisoners.models import (
    AtRiskFlag,
    Country,
    ExternalIdentifier,
    NameVariant,
    Organisation,
    Person,
    PersonCitizenship,
    Place,
    Recognition,
)
from prisoners.services import person_create

pytestmark = pytest.mark.django_db

APPS = ("prisoners", "events")


def project_models() -> list[type[Model]]:
    """Every model of both apps except the history tables (shown by pghistory.admin)."""
    return [
        model
        for app in APPS
        for model in apps.get_app_config(app).get_models()
        if not issubclass(model, pghistory.models.Event) and not is_derived(model)
    ]


def admin_url(model: type[Model] | Model, view: str, *args: Any) -> str:
    opts = model._meta
    return reverse(f"admin:{opts.app_label}_{opts.model_name}_{view}", args=args)


class FormScraper(HTMLParser):
    """What a browser would submit from the page's main form (``<model>_form``)."""

    def __init__(self, form_id: str) -> None:
        super().__init__(convert_charrefs=True)
        self.form_id = form_id
        self.inside = False
        self.data: dict[str, list[str]] = {}
        self.select: str | None = None
        self.select_first: str | None = None
        self.select_chosen = False
        self.textarea: str | None = None
        self.text: list[str] = []

    def add(self, name: str, value: str) -> None:
        if "__prefix__" not in name:  # the hidden template row of an inline
            self.data.setdefault(name, []).append(value)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {key: value or "" for key, value in attrs}
        if tag == "form":
            self.inside = a.get("id") == self.form_id
            return
        name = a.get("name")
        if not self.inside:
            return
        if tag == "input" and name:
            kind = a.get("type", "text").lower()
            if kind in ("submit", "button", "image", "reset", "file"):
                return
            if kind in ("checkbox", "radio") and "checked" not in a:
                return
            self.add(name, a.get("value", "on" if kind == "checkbox" else ""))
        elif tag == "select" and name:
            self.select, self.select_first, self.select_chosen = name, None, False
        elif tag == "option" and self.select:
            value = a.get("value", "")
            if self.select_first is None:
                self.select_first = value
            if "selected" in a:
                self.select_chosen = True
                self.add(self.select, value)
        elif tag == "textarea" and name:
            self.textarea, self.text = name, []

    def handle_data(self, data: str) -> None:
        if self.textarea:
            self.text.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self.inside = False
        elif tag == "select" and self.select:
            if not self.select_chosen and self.select_first is not None:
                self.add(self.select, self.select_first)
            self.select = None
        elif tag == "textarea" and self.textarea:
            self.add(self.textarea, "".join(self.text).removeprefix("\n"))
            self.textarea = None


def form_data(client: Any, url: str, model: type[Model]) -> dict[str, list[str]]:
    response = client.get(url)
    assert response.status_code == 200
    scraper = FormScraper(f"{model._meta.model_name}_form")
    scraper.feed(response.content.decode())
    assert "csrfmiddlewaretoken" in scraper.data  # the main form was found
    return scraper.data


def person_events(person: Person) -> Any:
    return pghistory.models.Events.objects.filter(
        pgh_obj_model="prisoners.Person", pgh_obj_id=str(person.pk)
    ).order_by("pgh_created_at")


@pytest.fixture
def kalesnikava() -> Person:
    with audit_context(reason="test setup"):
        return person_create(
            name="Maryia Kalesnikava", name_be="Марыя Калеснікава", name_ru="Мария Колесникова"
        )


@pytest.fixture
def world(demo: ReleaseDeal) -> ReleaseDeal:
    """The seed story plus one record of each model the story leaves empty."""
    with audit_context(reason="test setup"):
        by = Country.objects.get(code="BY")
        person = Person.objects.get(name="Julia Fenner")
        episode = DetentionEpisode.objects.get(person=person)
        article = CriminalArticle.objects.get(code__short_name="BY-CC", number="342")
        event_services.charge_add(episode=episode, article=article)
        event_services.placement_add(
            episode=episode,
            kind=CustodyPlacement.Kind.PRE_TRIAL,
            started_on=dt.date(2024, 3, 20),
            facility=Place.objects.filter(kind=Place.Kind.PRE_TRIAL).first(),
        )
        viasna = Organisation.objects.create(name="Viasna", kind="human_rights")
        Recognition.objects.create(person=person, organisation=viasna)
        AtRiskFlag.objects.create(person=person, kind=AtRiskFlag.Kind.FAMILY)
        ExternalIdentifier.objects.create(person=person, scheme="viasna", value="V-123")
        PersonCitizenship.objects.create(person=person, country=Country.objects.get(code="DE"))
        other = person_create(name="Vitold Ashurak", name_be="Вітольд Ашурак")
        ashurak_episode = event_services.episode_open(
            person=other, country=by, arrested_on=dt.date(2020, 8, 18)
        )
        event_services.death_record(
            person=other, died_on=dt.date(2021, 5, 21), episode=ashurak_episode
        )
        event_services.claim_add(
            obj=person, field_name="occupation", value="Nurse", source=Source.objects.earliest("id")
        )
    return demo


# --- Registration and pages -------------------------------------------------------------------


def test_every_model_of_both_apps_is_registered():
    missing = [m._meta.label for m in project_models() if not admin.site.is_registered(m)]
    assert missing == []


@pytest.mark.parametrize("model", project_models(), ids=lambda m: m._meta.label)
def test_changelist_and_add_page_render(admin_client, model):
    assert admin_client.get(admin_url(model, "changelist")).status_code == 200
    assert admin_client.get(admin_url(model, "add")).status_code == 200


def test_change_page_of_every_model_renders_with_the_story(admin_client, world):
    for model in project_models():
        obj = model._default_manager.order_by("pk").first()
        assert obj is not None, f"no {model._meta.label} in the test data"
        response = admin_client.get(admin_url(model, "change", obj.pk))
        assert response.status_code == 200, model._meta.label


def test_changelists_with_rows_and_search_render(admin_client, world):
    for model in project_models():
        url = admin_url(model, "changelist")
        assert admin_client.get(url).status_code == 200, model._meta.label
        assert admin_client.get(url, {"q": "Kalesnikava"}).status_code == 200, model._meta.label


# --- Search by any spelling -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "term", ["Kalesnikava", "Колесникова", "Калеснікава", "kolesnikova", "Kalieśnikava"]
)
def test_person_found_once_by_any_spelling(admin_client, kalesnikava, term):
    person_create(name="Maryia Someone Else")
    response = admin_client.get(admin_url(Person, "changelist"), {"q": term})
    assert response.status_code == 200
    assert list(response.context["cl"].result_list) == [kalesnikava]


def test_person_search_needs_every_word_and_finds_identifiers(admin_client, kalesnikava):
    ExternalIdentifier.objects.create(person=kalesnikava, scheme="wikidata", value="Q56229425")
    url = admin_url(Person, "changelist")

    def found(term: str) -> list[Person]:
        return list(admin_client.get(url, {"q": term}).context["cl"].result_list)

    assert found("kalesnikava maryia") == [kalesnikava]
    assert found("Kalesnikava Bialiatski") == []
    assert found("Q56229425") == [kalesnikava]
    assert found(str(kalesnikava.pk)) == [kalesnikava]


def test_person_autocomplete_uses_the_spelling_search(admin_client, kalesnikava):
    response = admin_client.get(
        reverse("admin:autocomplete"),
        {
            "term": "Колесникова",
            "app_label": "events",
            "model_name": "detentionepisode",
            "field_name": "person",
        },
    )
    assert response.status_code == 200
    assert [r["id"] for r in response.json()["results"]] == [str(kalesnikava.pk)]


def test_name_search_uses_the_trigram_index():
    from prisoners.admin import person_filter
    from prisoners.translit import search_key

    names = [f"Filler Person {i}" for i in range(2000)]
    names[42] = "Maryia Kalesnikava"
    people = Person.objects.bulk_create([Person(name=name) for name in names])
    NameVariant.objects.bulk_create(
        NameVariant(
            person=p,
            text=p.name,
            search_key=search_key(p.name),
            language="en",
            script="Latn",
            kind="common",
        )
        for p in people
    )
    with connection.cursor() as cursor:
        cursor.execute("SELECT gin_clean_pending_list('prisoners_namevariant_trgm')")
        cursor.execute("ANALYZE prisoners_namevariant")
        cursor.execute("ANALYZE prisoners_person")
        # At this size a sequential scan, or a nested loop probing each person's variants, is still
        # cheaper than the index: forbid both so the plan shows whether the trigram index can serve.
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_nestloop = off")
        sql, params = Person.objects.filter(person_filter("kalesnikava")).query.sql_with_params()
        cursor.execute(f"EXPLAIN {sql}", params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "Bitmap Index Scan on prisoners_namevariant_trgm" in plan, plan
    assert list(Person.objects.filter(person_filter("KALESNIKAVA maryia"))) == [people[42]]


# --- Derived facts --------------------------------------------------------------------------------


def test_person_changelist_computes_status_in_one_query(admin_client, demo):
    url = admin_url(Person, "changelist")
    admin_client.get(url)  # warm the session and content types
    with CaptureQueriesContext(connection) as few:
        response = admin_client.get(url, {"q": "Kalesnikava"})
    assert response.status_code == 200
    assert "Released and expelled abroad" in response.content.decode()
    with CaptureQueriesContext(connection) as many:
        response = admin_client.get(url)
    assert len(response.context["cl"].result_list) >= 6
    assert len(many) == len(few)


def test_person_change_page_shows_derived_facts(admin_client, demo):
    person = Person.objects.get(name="Maryia Kalesnikava")
    page = admin_client.get(admin_url(Person, "change", person.pk)).content.decode()
    assert "Released and expelled abroad" in page
    assert "Ukraine" in page
    assert "days in detention" in page.lower()


def test_where_today_is_each_person_s_own_custody_country(admin_client):
    with audit_context(reason="test setup"):
        held = {}
        for code, name in (("BY", "Held In Belarus"), ("RU", "Held In Russia")):
            person = person_create(name=name)
            event_services.episode_open(
                person=person,
                country=Country.objects.get(code=code),
                arrested_on=dt.date(2024, 1, 1),
            )
            held[code] = person
    for code, person in held.items():
        page = admin_client.get(admin_url(Person, "change", person.pk)).content.decode()
        country = Country.objects.get(code=code).name
        assert f'<div class="readonly">{country}</div>' in page


def test_deal_pages_show_reported_and_identified_numbers(admin_client, demo):
    identified = Release.objects.filter(deal=demo).count()
    expected = f'123 reported, <a href="{admin_url(Release, "changelist")}?deal__id__exact='
    for url in (admin_url(ReleaseDeal, "changelist"), admin_url(ReleaseDeal, "change", demo.pk)):
        page = admin_client.get(url).content.decode()
        assert expected in page
        assert f"{identified} identified</a>" in page
        onward = re.search(r"114 → Ukraine \(then ([^)]*)\); 9 → Lithuania", page)
        assert onward is not None
        assert set(onward.group(1).split(", ")) == {"Poland", "Lithuania"}
    linked = admin_client.get(admin_url(Release, "changelist"), {"deal__id__exact": demo.pk})
    assert linked.status_code == 200
    assert {r.pk for r in linked.context["cl"].result_list} == set(
        Release.objects.filter(deal=demo).values_list("pk", flat=True)
    )


def test_episode_end_is_read_only(admin_client, demo):
    episode = DetentionEpisode.objects.filter(ended_on__isnull=False).first()
    assert episode is not None
    data = form_data(admin_client, admin_url(episode, "change", episode.pk), DetentionEpisode)
    assert "ended_on" not in data
    assert "end_reason" not in data


# --- Audit ------------------------------------------------------------------------------------------


def test_change_without_reason_shows_the_error_and_writes_nothing(admin_client, kalesnikava):
    url = admin_url(Person, "change", kalesnikava.pk)
    data = form_data(admin_client, url, Person)
    assert data[AUDIT_FIELD] == [""]
    data["occupation"] = ["Musician"]
    before = person_events(kalesnikava).count()

    response = admin_client.post(url, data)

    assert response.status_code == 200
    assert response.context["adminform"].form.errors[AUDIT_FIELD]
    assert person_events(kalesnikava).count() == before
    kalesnikava.refresh_from_db()
    assert kalesnikava.occupation == ""


def test_change_with_reason_records_reason_and_user(admin_client, admin_user, kalesnikava):
    url = admin_url(Person, "change", kalesnikava.pk)
    data = form_data(admin_client, url, Person)
    data["occupation"] = ["Musician"]
    data[AUDIT_FIELD] = ["Occupation from the Viasna profile"]
    before = person_events(kalesnikava).count()

    response = admin_client.post(url, data)

    assert response.status_code == 302, response.context["adminform"].form.errors
    kalesnikava.refresh_from_db()
    assert kalesnikava.occupation == "Musician"
    events = list(person_events(kalesnikava))
    assert len(events) == before + 1
    assert events[-1].pgh_label == "update"
    context = events[-1].pgh_context
    assert context["reason"] == "Occupation from the Viasna profile"
    assert context["user"] == admin_user.pk


def test_inline_changes_carry_the_reason(admin_client, admin_user, kalesnikava):
    url = admin_url(Person, "change", kalesnikava.pk)
    data = form_data(admin_client, url, Person)
    prefix = "name_variants"
    n = int(data[f"{prefix}-TOTAL_FORMS"][0])
    data[f"{prefix}-TOTAL_FORMS"] = [str(n + 1)]
    data.update(
        {
            f"{prefix}-{n}-text": ["  Masha   Kalesnikava "],
            f"{prefix}-{n}-language": ["en"],
            f"{prefix}-{n}-kind": ["pseudonym"],
            f"{prefix}-{n}-script": [""],
            f"{prefix}-{n}-visibility": ["draft"],
        }
    )
    data[AUDIT_FIELD] = ["Name used by friends"]

    response = admin_client.post(url, data)

    assert response.status_code == 302, response.context["inline_admin_formsets"]
    variant = NameVariant.objects.get(person=kalesnikava, text="Masha Kalesnikava")
    assert (variant.search_key, variant.script) == ("masha kalesnikava", "Latn")
    event = pghistory.models.Events.objects.get(
        pgh_obj_model="prisoners.NameVariant", pgh_obj_id=str(variant.pk)
    )
    assert event.pgh_context["reason"] == "Name used by friends"
    assert event.pgh_context["user"] == admin_user.pk


def test_person_added_in_the_admin_gets_its_spellings(admin_client):
    url = admin_url(Person, "add")
    data = form_data(admin_client, url, Person)
    data.update(
        {
            "name": ["Ales Bialiatski"],
            "name_variants-TOTAL_FORMS": ["1"],
            "name_variants-0-text": ["Алесь Бяляцкі"],
            "name_variants-0-language": ["be"],
            "name_variants-0-kind": ["primary"],
            "name_variants-0-visibility": ["draft"],
            AUDIT_FIELD: ["Entered from the 13 December report"],
        }
    )
    response = admin_client.post(url, data)
    assert response.status_code == 302
    person = Person.objects.get(name="Ales Bialiatski")
    spellings = set(person.name_variants.values_list("text", flat=True))
    assert {"Алесь Бяляцкі", "Ales Bialiatski"} <= spellings
    assert person.name_variants.filter(generated=True).exists()
    found = admin_client.get(admin_url(Person, "changelist"), {"q": "Бяляцкі"})
    assert list(found.context["cl"].result_list) == [person]


def test_database_refusal_is_a_form_error_and_writes_nothing(admin_client, world):
    placement = CustodyPlacement.objects.get()
    episode = placement.episode
    url = admin_url(episode, "change", episode.pk)
    data = form_data(admin_client, url, DetentionEpisode)
    prefix = "placements"
    index = next(
        key.split("-")[1]
        for key, value in data.items()
        if key.startswith(f"{prefix}-") and key.endswith("-id") and value == [str(placement.pk)]
    )
    data[f"{prefix}-{index}-started_on"] = ["2020-01-01"]  # before the arrest: a trigger refuses
    data[AUDIT_FIELD] = ["Wrong date on purpose"]

    response = admin_client.post(url, data)

    assert response.status_code == 200
    page = response.content.decode()
    assert "A placement cannot start before the arrest." in page
    assert 'value="2020-01-01"' in page  # what was entered is still there
    placement.refresh_from_db()
    assert placement.started_on == dt.date(2024, 3, 20)


def test_delete_records_who_deleted(admin_client, admin_user, world):
    charge = Charge.objects.get()
    response = admin_client.post(admin_url(charge, "delete", charge.pk), {"post": "yes"})
    assert response.status_code == 302
    assert not Charge.objects.filter(pk=charge.pk).exists()
    event = pghistory.models.Events.objects.get(
        pgh_obj_model="events.Charge", pgh_obj_id=str(charge.pk), pgh_label="delete"
    )
    assert event.pgh_context["reason"] == DELETE_REASON.format(user=admin_user.get_username())
    assert event.pgh_context["user"] == admin_user.pk


def test_bulk_delete_records_who_deleted(admin_client, admin_user, world):
    claim = Claim.objects.get()
    response = admin_client.post(
        admin_url(Claim, "changelist"),
        {"action": "delete_selected", "_selected_action": [str(claim.pk)], "post": "yes"},
    )
    assert response.status_code == 302
    assert not Claim.objects.exists()
    event = pghistory.models.Events.objects.get(pgh_obj_model="events.Claim", pgh_label="delete")
    assert event.pgh_context["reason"] == DELETE_REASON.format(user=admin_user.get_username())


def test_import_link_on_the_person_changelist(admin_client):
    page = admin_client.get(admin_url(Person, "changelist")).content.decode()
    assert reverse("admin:prisoners_person_import") in page
    assert "Import CSV" in page
