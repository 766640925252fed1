"""Accounts and roles, managed by admins: create, change roles, reset two-factor, unlock."""

import re

import pytest
from django.contrib.admin.models import LogEntry
from django.contrib.auth import authenticate, get_user_model
from django.contrib.auth.models import Group
from django.urls import reverse

from prisoners.staff.forms import REASON_REQUIRED
from prisoners.staff.models import LoginLockout, TOTPDevice
from prisoners.staff.roles import Role, user_roles
from prisoners.staff.security import (
    MAX_FAILURES,
    OWN_ADMIN_ROLE,
    locked_until,
    login_failure_record,
)
from prisoners.visibility import Tier, viewer_tier
from tests.staff.helpers import make_user, verified_client

pytestmark = pytest.mark.django_db


def test_the_role_groups_exist_after_migrating():
    assert set(Group.objects.values_list("name", flat=True)) >= {"editors", "reviewers", "admins"}


def test_roles_of_accounts():
    assert user_roles(make_user("edna", "editor")) == {Role.EDITOR}
    assert user_roles(make_user("two", "editor", "reviewer")) == {Role.EDITOR, Role.REVIEWER}
    assert user_roles(make_user("rita", "researcher")) == frozenset()
    assert user_roles(make_user("root", is_superuser=True)) == set(Role)
    assert user_roles(make_user("gone", "admin", is_active=False)) == frozenset()


def test_an_admin_creates_an_account_and_sees_the_password_once(admin_user, admin_client_staff):
    url = reverse("staff:user-create")
    response = admin_client_staff.post(
        url, {"username": "nadia", "email": "nadia@example.org", "roles": ["editor", "reviewer"]}
    )
    assert response.status_code == 200
    password = re.search(r'id="new-password">([^<]+)<', response.content.decode()).group(1)
    user = get_user_model().objects.get(username="nadia")
    assert authenticate(username="nadia", password=password) == user
    assert user_roles(user) == {Role.EDITOR, Role.REVIEWER}
    assert user.is_staff
    assert viewer_tier(user) == Tier.STAFF
    assert not TOTPDevice.objects.filter(user=user).exists()  # set up at the first sign-in
    entry = LogEntry.objects.get(object_id=str(user.pk))
    assert entry.user == admin_user
    assert "editor, reviewer" in entry.change_message
    # The account page does not show the password again.
    page = admin_client_staff.get(reverse("staff:user-detail", args=[user.pk]))
    assert password not in page.content.decode()


def test_a_researcher_account_is_not_staff(admin_client_staff):
    admin_client_staff.post(
        reverse("staff:user-create"), {"username": "rosa", "roles": ["researcher"]}
    )
    user = get_user_model().objects.get(username="rosa")
    assert not user.is_staff
    assert viewer_tier(user) == Tier.RESEARCHER


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        (
            {"username": "not valid!", "email": "a@example.org"},
            "username",
            "Enter a valid username",
        ),
        ({"username": "EDNA", "email": "a@example.org"}, "username", "already exists"),
        ({"username": "nadia", "email": "not-an-email"}, "email", "valid email"),
        ({"username": "nadia", "roles": ["king"]}, "roles", "Select a valid choice"),
    ],
)
def test_bad_account_input_is_explained_and_kept(editor, admin_client_staff, data, field, message):
    response = admin_client_staff.post(reverse("staff:user-create"), data)
    assert response.status_code == 200
    assert any(message in error for error in response.context["form"].errors[field])
    body = response.content.decode()
    if data.get("email"):
        assert f'value="{data["email"]}"' in body
    assert not get_user_model().objects.filter(username="nadia").exists()


def test_an_admin_changes_roles_but_not_their_own_admin_role(
    admin_user, admin_client_staff, editor
):
    url = reverse("staff:user-detail", args=[editor.pk])
    response = admin_client_staff.post(url, {"roles": ["reviewer"], "is_active": "on"})
    assert response.status_code == 302
    assert user_roles(editor) == {Role.REVIEWER}
    response = admin_client_staff.post(url, {"roles": [], "is_active": ""})
    editor.refresh_from_db()
    assert not editor.is_active
    assert not editor.is_staff
    own = admin_client_staff.post(
        reverse("staff:user-detail", args=[admin_user.pk]), {"roles": ["editor"], "is_active": "on"}
    )
    assert own.status_code == 200
    assert str(OWN_ADMIN_ROLE) in own.content.decode()
    admin_user.refresh_from_db()
    assert admin_user.groups.filter(name="admins").exists()


def test_resetting_two_factor_ends_the_staff_sessions_of_the_account(admin_client_staff, editor):
    editor_client = verified_client(editor)
    assert editor_client.get(reverse("staff:dashboard")).status_code == 200
    url = reverse("staff:user-reset-device", args=[editor.pk])
    assert admin_client_staff.get(url).status_code == 200
    refused = admin_client_staff.post(url, {"reason": ""})
    assert str(REASON_REQUIRED) in refused.content.decode()
    assert TOTPDevice.objects.filter(user=editor).exists()
    done = admin_client_staff.post(url, {"reason": "phone lost"})
    assert done.status_code == 302
    assert not TOTPDevice.objects.filter(user=editor).exists()
    assert editor_client.get(reverse("staff:dashboard"))["Location"].startswith("/staff/login/")
    assert "phone lost" in LogEntry.objects.get(object_id=str(editor.pk)).change_message


def test_an_admin_lifts_a_lockout(admin_client_staff, editor):
    for _ in range(MAX_FAILURES):
        login_failure_record(username="edna", stage="password")
    assert locked_until("edna") is not None
    page = admin_client_staff.get(reverse("staff:user-detail", args=[editor.pk]))
    assert "locked until" in page.content.decode()
    response = admin_client_staff.post(
        reverse("staff:user-unlock", args=[editor.pk]), {"reason": "it was me, typing badly"}
    )
    assert response.status_code == 302
    assert locked_until("edna") is None
    assert not LoginLockout.objects.exists()


def test_account_pages_are_for_admins_only(reviewer_client):
    assert reviewer_client.get(reverse("staff:user-list")).status_code == 403
