"""Conflicting claims on the staff record page: what each source says a field's value is, side
by side; editors add claims, reviewers accept one (the record takes its value) for a reason."""

from __future__ import annotations

import pghistory.models
import pytest
from django.urls import reverse

from events.models import Claim, Source
from events.services import claim_add, source_get_or_create
from prisoners.audit import audit_context
from prisoners.services import person_create
from prisoners.staff.forms import (
    CLAIM_SOURCE_MISSING,
    CLAIM_UNKNOWN,
    REASON_REQUIRED,
    SOURCE_UNKNOWN,
)
from tests.staff.helpers import make_user

pytestmark = pytest.mark.django_db


def detail_url(obj):
    return reverse("staff:review-detail", args=[obj._meta.model_name, obj.pk])


def add_url(obj):
    return reverse("staff:review-claim-add", args=[obj._meta.model_name, obj.pk])


def accept_url(obj):
    return reverse("staff:review-claim-accept", args=[obj._meta.model_name, obj.pk])


@pytest.fixture
def person(editor):
    with audit_context(user=editor, reason="entered"):
        return person_create(name="Ihar Losik", occupation="journalist")


@pytest.fixture
def sources():
    with audit_context(reason="sources"):
        return (
            source_get_or_create(title="Viasna list", url="https://viasna.example/1"),
            source_get_or_create(title="Zerkalo article", url="https://zerkalo.example/2"),
        )


@pytest.fixture
def two_claims(person, sources):
    with audit_context(reason="claims"):
        return (
            claim_add(obj=person, field_name="occupation", value="blogger", source=sources[0]),
            claim_add(
                obj=person,
                field_name="occupation",
                value="radio host",
                source=sources[1],
                quote="He worked as a radio host",
            ),
        )


def test_two_claims_from_two_sources_are_shown_side_by_side(editor_client, person, two_claims):
    body = editor_client.get(detail_url(person)).content.decode()
    assert "blogger" in body
    assert "radio host" in body
    assert "Viasna list" in body
    assert "Zerkalo article" in body
    assert "He worked as a radio host" in body
    # An editor sees no accept button.
    assert "Accept this claim" not in body


def test_an_editor_adds_a_claim_with_a_new_source(editor, editor_client, person, sources):
    response = editor_client.post(
        add_url(person),
        {
            "field_name": "occupation",
            "value": "teacher",
            "new_source_url": "https://nn.example/3",
            "new_source_title": "Nasha Niva",
            "quote": "a teacher from Baranavichy",
            "reason": "read in Nasha Niva",
        },
    )
    assert response.status_code == 302
    claim = Claim.objects.get(value="teacher")
    assert claim.source.title == "Nasha Niva"
    assert claim.quote == "a teacher from Baranavichy"
    assert not claim.accepted
    person.refresh_from_db()
    assert person.occupation == "journalist"  # unchanged until a claim is accepted
    event = pghistory.models.Events.objects.across(Claim.pgh_event_model).tracks(claim).get()
    assert event.pgh_context["reason"] == "read in Nasha Niva"
    assert event.pgh_context["user"] == editor.pk
    assert event.pgh_context["source"] == claim.source.pk
    # By an existing source's number, too.
    response = editor_client.post(
        add_url(person),
        {"field_name": "occupation", "value": "poet", "source": sources[0].pk, "reason": "x"},
    )
    assert response.status_code == 302
    assert Claim.objects.get(value="poet").source == sources[0]
    body = editor_client.get(detail_url(person)).content.decode()
    assert "teacher" in body
    assert "poet" in body
    assert "edna" in body


def test_accepting_a_claim_sets_the_value_and_records_who_and_why(
    reviewer, reviewer_client, person, two_claims
):
    first, second = two_claims
    response = reviewer_client.post(
        accept_url(person), {"claim": second.pk, "reason": "confirmed by the family"}
    )
    assert response.status_code == 302
    person.refresh_from_db()
    assert person.occupation == "radio host"
    first.refresh_from_db()
    second.refresh_from_db()
    assert second.accepted
    assert not first.accepted
    assert Claim.objects.for_object(person).count() == 2  # the other claim stays
    for obj in (person, second):
        event = (
            pghistory.models.Events.objects.across(type(obj).pgh_event_model)
            .tracks(obj)
            .order_by("-pgh_id")
            .first()
        )
        assert event.pgh_label == "update"
        assert event.pgh_context["reason"] == "confirmed by the family"
        assert event.pgh_context["user"] == reviewer.pk
        assert event.pgh_context["username"] == "rene"
        assert event.pgh_context["source"] == second.source_id
        if obj is person:
            assert event.pgh_diff["occupation"] == ["journalist", "radio host"]
    # Accepting the other one moves the acceptance; both stay on the page.
    reviewer_client.post(accept_url(person), {"claim": first.pk, "reason": "court record"})
    person.refresh_from_db()
    first.refresh_from_db()
    second.refresh_from_db()
    assert person.occupation == "blogger"
    assert first.accepted
    assert not second.accepted
    body = reviewer_client.get(detail_url(person)).content.decode()
    assert "radio host" in body
    assert "blogger" in body


def test_an_editor_may_add_but_not_accept(editor_client, person, two_claims):
    response = editor_client.post(accept_url(person), {"claim": two_claims[0].pk, "reason": "x"})
    assert response.status_code == 403
    assert not Claim.objects.filter(accepted=True).exists()
    person.refresh_from_db()
    assert person.occupation == "journalist"


@pytest.mark.parametrize("viewer", ["anonymous", "researcher"])
def test_researchers_and_visitors_are_denied(client, person, two_claims, viewer, sources):
    if viewer == "researcher":
        client.force_login(make_user("rita2", "researcher", device=False))
    before = Claim.objects.count()
    for url, data in (
        (
            add_url(person),
            {"field_name": "occupation", "value": "x", "source": sources[0].pk, "reason": "x"},
        ),
        (accept_url(person), {"claim": two_claims[0].pk, "reason": "x"}),
    ):
        response = client.post(url, data)
        assert response.status_code in (302, 403)
        if response.status_code == 302:
            assert response["Location"].startswith("/staff/login/")
    assert Claim.objects.count() == before
    assert not Claim.objects.filter(accepted=True).exists()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            {"field_name": "occupation", "value": "x", "source": "1", "reason": "  "},
            REASON_REQUIRED,
        ),
        (
            {"field_name": "no_such_field", "value": "x", "source": "1", "reason": "r"},
            "Select a valid choice",
        ),
        ({"field_name": "visibility", "value": "public", "source": "1", "reason": "r"}, "Select"),
        (
            {"field_name": "occupation", "value": "x", "source": "999999", "reason": "r"},
            SOURCE_UNKNOWN,
        ),
        (
            {"field_name": "occupation", "value": "x", "source": "https://nowhere.example/"},
            SOURCE_UNKNOWN,
        ),
        ({"field_name": "occupation", "value": "x", "reason": "r"}, CLAIM_SOURCE_MISSING),
        (
            {
                "field_name": "occupation",
                "value": "x",
                "new_source_url": "not a url",
                "new_source_title": "t",
                "reason": "r",
            },
            "Enter a valid URL",
        ),
        (
            {"field_name": "birth_date", "value": "someday", "source": "1", "reason": "r"},
            "valid date",
        ),
    ],
)
def test_bad_claims_are_explained_and_nothing_is_written(
    editor_client, person, sources, data, message
):
    data = {k: (str(sources[0].pk) if v == "1" and k == "source" else v) for k, v in data.items()}
    sources_before, claims_before = Source.objects.count(), Claim.objects.count()
    response = editor_client.post(add_url(person), data)
    assert response.status_code == 200
    body = response.content.decode()
    assert str(message) in body
    form = response.context["claim_form"]
    assert not form.is_valid()
    assert f'value="{data["value"]}"' in body or data["value"] in body  # the input is kept
    assert Source.objects.count() == sources_before
    assert Claim.objects.count() == claims_before


def test_the_claimable_fields_follow_the_model(editor_client, person):
    form = editor_client.get(detail_url(person)).context["claim_form"]
    names = [name for name, _ in form.fields["field_name"].choices]
    assert "occupation" in names
    assert not {"id", "visibility", "created_at", "updated_at"} & set(names)


def test_bad_accepts_are_explained_and_nothing_is_written(
    reviewer_client, person, two_claims, sources
):
    response = reviewer_client.post(accept_url(person), {"claim": two_claims[0].pk, "reason": " "})
    assert response.status_code == 200
    assert str(REASON_REQUIRED) in response.content.decode()
    response = reviewer_client.post(accept_url(person), {"claim": 999999, "reason": "r"})
    assert response.status_code == 200
    assert str(CLAIM_UNKNOWN) in response.content.decode()
    assert not Claim.objects.filter(accepted=True).exists()
    person.refresh_from_db()
    assert person.occupation == "journalist"


def test_a_claim_the_record_refuses_is_explained_and_the_reason_kept(
    reviewer_client, person, sources
):
    with audit_context(reason="claims"):
        claim = claim_add(obj=person, field_name="occupation", value="x" * 300, source=sources[0])
    response = reviewer_client.post(accept_url(person), {"claim": claim.pk, "reason": "too long"})
    assert response.status_code == 200
    body = response.content.decode()
    assert "at most 200 characters" in body
    assert 'value="too long"' in body
    claim.refresh_from_db()
    assert not claim.accepted
    person.refresh_from_db()
    assert person.occupation == "journalist"
