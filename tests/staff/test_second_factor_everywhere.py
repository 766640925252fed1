"""A staff account's powers need the second factor wherever it signed in (issue 4, item 1)."""

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse

from prisoners.services import person_create
from tests.second_factor import pass_second_factor

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_member():  # type: ignore[no-untyped-def]
    return get_user_model().objects.create_user(
        "password-only", password="x" * 16, is_staff=True, is_superuser=True
    )


def test_a_staff_session_without_the_second_factor_sees_only_what_the_public_sees(staff_member):
    draft = person_create(name="Draft Sentinel Person")
    url = reverse("prisoners:detail", args=[draft.pk])
    password_only = Client()
    assert password_only.login(username="password-only", password="x" * 16)  # researcher page
    assert password_only.get(url).status_code == 404
    api = password_only.get(f"/api/persons/{draft.pk}/")
    assert api.status_code == 404
    verified = pass_second_factor(Client(), staff_member)
    assert verified.get(url).status_code == 200
    assert verified.get(f"/api/persons/{draft.pk}/").status_code == 200


def test_the_admin_opens_only_after_the_second_factor(staff_member):
    password_only = Client()
    password_only.force_login(staff_member)
    response = password_only.get(reverse("admin:index"), follow=True)
    final_url, _status = response.redirect_chain[-1]
    assert final_url.startswith(reverse("staff:login"))
    assert pass_second_factor(Client(), staff_member).get(reverse("admin:index")).status_code == 200


def test_the_admin_password_page_sends_to_the_staff_sign_in():
    response = Client().get(reverse("admin:login"), {"next": "/admin/prisoners/person/"})
    assert response.status_code == 302
    assert response["Location"] == (
        reverse("staff:login") + "?next=%2Fadmin%2Fprisoners%2Fperson%2F"
    )
