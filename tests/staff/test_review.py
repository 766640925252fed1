"""Publication: a reviewer publishes or unpublishes a record for a reason; the history says who,
when and why; with the four-eyes rule on, the last editor of a record cannot publish it."""

import re

import pghistory.models
import pytest
from django.urls import reverse

from events.models import Source
from prisoners.audit import audit_context
from prisoners.models import NameVariant, Person, Visibility
from prisoners.services import person_create, person_update
from prisoners.staff.forms import REASON_REQUIRED, SOURCE_UNKNOWN
from prisoners.staff.records import reviewable_kinds
from prisoners.staff.services import FOUR_EYES, VISIBILITY_UNCHANGED
from tests.events.factories import episode
from tests.staff.helpers import make_user, verified_client

pytestmark = pytest.mark.django_db


def visibility_url(obj):
    return reverse("staff:review-visibility", args=[obj._meta.model_name, obj.pk])


def last_event(obj):
    return (
        pghistory.models.Events.objects.across(type(obj).pgh_event_model)
        .tracks(obj)
        .order_by("-pgh_id")
        .first()
    )


@pytest.fixture
def draft_person(editor):
    with audit_context(user=editor, reason="entered from the Viasna list"):
        return person_create(name="Ihar Losik", name_be="Ігар Лосік")


def test_publish_with_a_reason_is_in_the_history_with_user_and_reason(
    reviewer, reviewer_client, draft_person
):
    page = reviewer_client.get(visibility_url(draft_person))
    assert page.status_code == 200
    source = Source.objects.create(title="Viasna list", kind="ngo_list", url="https://x.example/")
    response = reviewer_client.post(
        visibility_url(draft_person),
        {"visibility": "public", "reason": "Family agreed to publication", "source": source.pk},
    )
    assert response.status_code == 302
    draft_person.refresh_from_db()
    assert draft_person.visibility == Visibility.PUBLIC
    event = last_event(draft_person)
    assert event.pgh_diff["visibility"] == ["draft", "public"]
    assert event.pgh_context["user"] == reviewer.pk
    assert event.pgh_context["username"] == "rene"
    assert event.pgh_context["reason"] == "Family agreed to publication"
    assert event.pgh_context["source"] == source.pk
    # The history page says it, field by field.
    history = reviewer_client.get(
        reverse("staff:history", args=["prisoners", "person", draft_person.pk])
    )
    body = history.content.decode()
    assert "Family agreed to publication" in body
    assert "rene" in body
    assert "Viasna list" in body
    assert "Draft (staff only)" in body
    assert "Published" in body
    # Unpublished again, with another reason.
    reviewer_client.post(
        visibility_url(draft_person), {"visibility": "draft", "reason": "Family asked to withdraw"}
    )
    draft_person.refresh_from_db()
    assert draft_person.visibility == Visibility.DRAFT
    event = last_event(draft_person)
    assert event.pgh_diff["visibility"] == ["public", "draft"]
    assert event.pgh_context["reason"] == "Family asked to withdraw"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"visibility": "public", "reason": "   "}, REASON_REQUIRED),
        ({"visibility": "public", "reason": "ok", "source": "999999"}, SOURCE_UNKNOWN),
        ({"visibility": "secret", "reason": "ok"}, "Select a valid choice"),
    ],
)
def test_bad_input_is_explained_and_nothing_is_lost(reviewer_client, draft_person, data, message):
    response = reviewer_client.post(visibility_url(draft_person), data)
    assert response.status_code == 200
    body = response.content.decode()
    assert str(message) in body
    form = response.context["form"]
    assert form.data["visibility"] == data["visibility"]
    if data["reason"].strip():
        assert f'value="{data["reason"]}"' in body
    if data["visibility"] == "public":
        assert re.search(r'<input type="radio" name="visibility" value="public"[^>]*checked', body)
    draft_person.refresh_from_db()
    assert draft_person.visibility == Visibility.DRAFT


def test_the_current_visibility_is_not_offered_again(reviewer_client, draft_person):
    form = reviewer_client.get(visibility_url(draft_person)).context["form"]
    assert [v for v, _ in form.fields["visibility"].choices] == ["researcher", "public"]
    from prisoners.staff.services import record_visibility_set

    with pytest.raises(Exception, match=str(VISIBILITY_UNCHANGED)):
        record_visibility_set(obj=draft_person, visibility="draft", user=None, reason="x")


def test_an_editor_may_not_publish(editor_client, draft_person):
    assert editor_client.get(visibility_url(draft_person)).status_code == 403
    response = editor_client.post(
        visibility_url(draft_person), {"visibility": "public", "reason": "x"}
    )
    assert response.status_code == 403
    draft_person.refresh_from_db()
    assert draft_person.visibility == Visibility.DRAFT
    # The record page has no publication button for them.
    page = editor_client.get(reverse("staff:review-detail", args=["person", draft_person.pk]))
    assert visibility_url(draft_person) not in page.content.decode()


def test_every_main_record_type_can_be_published(reviewer_client, demo):
    from events.models import DetentionEpisode, Release, ReleaseDeal, Transfer

    for model in (Person, DetentionEpisode, Release, Transfer, ReleaseDeal):
        obj = model.objects.order_by("pk").first()
        target = "researcher" if obj.visibility != "researcher" else "draft"
        response = reviewer_client.post(
            visibility_url(obj), {"visibility": target, "reason": f"review of {model.__name__}"}
        )
        assert response.status_code == 302, model
        obj.refresh_from_db()
        assert obj.visibility == target
        assert last_event(obj).pgh_context["reason"] == f"review of {model.__name__}"


def test_a_person_can_be_published_with_their_names(reviewer_client, draft_person):
    names = draft_person.name_variants.count()
    assert names >= 3
    reviewer_client.post(
        visibility_url(draft_person),
        {"visibility": "researcher", "reason": "vetted", "with_names": "on"},
    )
    assert NameVariant.objects.filter(person=draft_person, visibility="researcher").count() == names
    assert {
        e.pgh_context["reason"]
        for e in pghistory.models.Events.objects.across(NameVariant.pgh_event_model).filter(
            pgh_label="update"
        )
    } == {"vetted"}


def test_a_child_record_of_a_draft_person_warns(reviewer_client, draft_person):
    with audit_context(reason="test"):
        record = episode(draft_person, visibility="public")
    page = reviewer_client.get(reverse("staff:review-detail", args=["detentionepisode", record.pk]))
    assert "The person is a draft" in page.content.decode()


# --- Four eyes -----------------------------------------------------------------------------------


def test_with_four_eyes_the_last_editor_cannot_publish(settings, reviewer, reviewer_client):
    settings.TRACKER_FOUR_EYES = True
    with audit_context(user=reviewer, reason="entered by the reviewer"):
        person = person_create(name="Four Eyes")
    response = reviewer_client.post(
        visibility_url(person), {"visibility": "public", "reason": "looks right"}
    )
    assert response.status_code == 200
    assert str(FOUR_EYES) in response.content.decode()
    assert 'value="looks right"' in response.content.decode()  # the reason is kept
    person.refresh_from_db()
    assert person.visibility == Visibility.DRAFT
    # The page warns before the attempt.
    assert "Four-eyes rule" in reviewer_client.get(visibility_url(person)).content.decode()
    # Another reviewer may.
    other = make_user("ruth", "reviewer")
    response = verified_client(other).post(
        visibility_url(person), {"visibility": "public", "reason": "second pair of eyes"}
    )
    assert response.status_code == 302
    person.refresh_from_db()
    assert person.visibility == Visibility.PUBLIC


def test_four_eyes_looks_at_the_last_content_change_only(settings, reviewer, reviewer_client):
    settings.TRACKER_FOUR_EYES = True
    other = make_user("ruth", "reviewer")
    with audit_context(user=reviewer, reason="entered"):
        person = person_create(name="Four Eyes")
    with audit_context(user=other, reason="corrected"):
        person_update(person=person, occupation="teacher")
    # Ruth made the last change: she may not publish, the first reviewer may.
    assert (
        verified_client(other)
        .post(visibility_url(person), {"visibility": "public", "reason": "x"})
        .status_code
        == 200
    )
    assert (
        reviewer_client.post(
            visibility_url(person), {"visibility": "public", "reason": "x"}
        ).status_code
        == 302
    )
    # Unpublishing is always allowed, and a change of visibility is not a change of content.
    assert (
        verified_client(other)
        .post(visibility_url(person), {"visibility": "draft", "reason": "withdrawn"})
        .status_code
        == 302
    )
    assert (
        reviewer_client.post(
            visibility_url(person), {"visibility": "public", "reason": "again"}
        ).status_code
        == 302
    )


def test_without_four_eyes_the_last_editor_may_publish(settings, reviewer, reviewer_client):
    settings.TRACKER_FOUR_EYES = False
    with audit_context(user=reviewer, reason="entered by the reviewer"):
        person = person_create(name="Two Eyes")
    response = reviewer_client.post(
        visibility_url(person), {"visibility": "public", "reason": "checked"}
    )
    assert response.status_code == 302
    person.refresh_from_db()
    assert person.visibility == Visibility.PUBLIC


def test_review_lists_filter_drafts_and_unsourced(editor_client, draft_person, demo):
    url = reverse("staff:review-list", args=["person"])
    drafts = editor_client.get(url, {"visibility": "draft"})
    assert list(drafts.context["page_obj"].object_list) == [draft_person]
    unsourced = editor_client.get(url, {"unsourced": "on"})
    assert draft_person in unsourced.context["page_obj"].object_list
    cited = Person.objects.get(name="Maryia Kalesnikava")
    assert cited not in unsourced.context["page_obj"].object_list
    by_name = editor_client.get(url, {"q": "Лосік"})
    assert list(by_name.context["page_obj"].object_list) == [draft_person]
    assert editor_client.get(reverse("staff:review-list", args=["nothing"])).status_code == 404


@pytest.mark.parametrize("slug", sorted(reviewable_kinds()))
def test_review_pages_query_counts_do_not_grow_with_rows(
    demo, editor_client, slug, django_assert_max_num_queries
):
    """Every row's name, person and links come from the list's own joins."""
    kind = reviewable_kinds()[slug]
    with django_assert_max_num_queries(12):
        response = editor_client.get(reverse("staff:review-list", args=[slug]))
    assert response.status_code == 200
    obj = kind.model._default_manager.order_by("pk").first()
    if obj is not None:
        with django_assert_max_num_queries(45):
            detail = editor_client.get(reverse("staff:review-detail", args=[slug, obj.pk]))
        assert detail.status_code == 200
        meta = kind.model._meta
        with django_assert_max_num_queries(15):
            history = editor_client.get(
                reverse("staff:history", args=[meta.app_label, meta.model_name, obj.pk])
            )
        assert history.status_code == 200
