"""The one visibility rule: default deny for records and fields."""

import pytest
from django.apps import apps
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from events.models import DetentionEpisode
from prisoners.models import NameVariant, Person, Visibility
from prisoners.services import person_create
from prisoners.visibility import (
    FIELD_TIERS,
    NAME_WITHHELD,
    PERSON_PATHS,
    RESEARCHER_GROUP,
    Tier,
    display_name,
    redact,
    viewer_tier,
    visible_fields,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def people():  # type: ignore[no-untyped-def]
    return {
        "draft": person_create(name="Draft Person", name_be="Чарнавік Асоба"),
        "researcher": person_create(name="Research Person", visibility=Visibility.RESEARCHER),
        "public": person_create(
            name="Public Person", name_be="Публічная Асоба", visibility=Visibility.PUBLIC
        ),
        "withheld": person_create(
            name="Secret Name",
            name_be="Тайнае Імя",
            visibility=Visibility.PUBLIC,
            name_withheld=True,
        ),
    }


@pytest.fixture
def researcher():  # type: ignore[no-untyped-def]
    user = get_user_model().objects.create_user("researcher", password="x" * 12)
    user.groups.add(Group.objects.create(name=RESEARCHER_GROUP))
    return user


def test_new_records_are_drafts():
    assert person_create(name="New Person").visibility == Visibility.DRAFT


def test_viewer_tiers(researcher, admin_user):
    from django.contrib.auth.models import AnonymousUser

    assert viewer_tier(AnonymousUser()) == Tier.PUBLIC
    assert viewer_tier(researcher) == Tier.RESEARCHER
    assert viewer_tier(admin_user) == Tier.STAFF


def test_records_per_tier(people, researcher, admin_user):
    from django.contrib.auth.models import AnonymousUser

    names = lambda viewer: set(Person.objects.visible_to(viewer).values_list("name", flat=True))  # noqa: E731
    assert names(AnonymousUser()) == {"Public Person", "Secret Name"}
    assert names(researcher) == {"Public Person", "Secret Name", "Research Person"}
    assert names(admin_user) == {p.name for p in people.values()}


def test_withheld_names_never_leak_through_name_variants(people):
    from django.contrib.auth.models import AnonymousUser

    public_texts = set(
        NameVariant.objects.visible_to(AnonymousUser()).values_list("text", flat=True)
    )
    assert "Публічная Асоба" in public_texts
    assert not any("Secret" in t or "Тайнае" in t or "Taina" in t for t in public_texts)
    assert display_name(people["withheld"], AnonymousUser()) == NAME_WITHHELD
    assert redact(people["withheld"], AnonymousUser())["name"] == NAME_WITHHELD


def test_fields_default_to_staff_only(people, researcher):
    from django.contrib.auth.models import AnonymousUser

    person = people["public"]
    person.staff_notes = "informant: do not publish"
    person.letter_address = "Калонія № 4"
    public = redact(person, AnonymousUser())
    assert "staff_notes" not in public
    assert "letter_address" not in public
    assert public["name"] == "Public Person"
    assert redact(person, researcher)["letter_address"] == "Калонія № 4"
    assert "staff_notes" not in redact(person, researcher)
    assert "staff_notes" in visible_fields(person, Tier.STAFF)


def test_tier_declarations_name_real_fields_and_children_reach_their_person():
    for label, fields in FIELD_TIERS.items():
        model = apps.get_model(label)
        names = {f.name for f in model._meta.get_fields()} | {"birth_year"}
        assert set(fields) <= names, f"{label} declares unknown fields {set(fields) - names}"
    for label, path in PERSON_PATHS.items():
        model = apps.get_model(label)
        model._default_manager.filter(**{f"{path}__isnull": False}).exists()  # the path resolves


def test_child_records_follow_their_person(people):
    from django.contrib.auth.models import AnonymousUser

    from events.services import episode_open
    from prisoners.models import Country

    by = Country.objects.get(code="BY")
    episode_open(person=people["draft"], country=by, arrested_on=None, visibility=Visibility.PUBLIC)
    episode_open(
        person=people["public"], country=by, arrested_on=None, visibility=Visibility.PUBLIC
    )
    visible = DetentionEpisode.objects.visible_to(AnonymousUser())
    assert list(visible.values_list("person__name", flat=True)) == ["Public Person"]
