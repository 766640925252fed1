"""Staff sign-in: password, then a code (RFC 6238); enrolment the first time; lockout."""

import datetime as dt

import pytest
import time_machine
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from prisoners.staff.forms import CODE_FORMAT
from prisoners.staff.models import LoginFailure, LoginLockout, TOTPDevice
from prisoners.staff.security import MAX_FAILURES
from prisoners.staff.views.auth import NO_STAFF_ROLE, SIGN_IN_FIRST, WRONG_CODE, WRONG_PASSWORD
from tests.staff.helpers import PASSWORD, make_user, next_code, wrong_code

pytestmark = pytest.mark.django_db

LOGIN = reverse("staff:login")
VERIFY = reverse("staff:verify")
ENROL = reverse("staff:enrol")
DASHBOARD = reverse("staff:dashboard")


def password_step(client, username="edna", password=PASSWORD, **extra):
    return client.post(LOGIN, {"username": username, "password": password, **extra})


def content(response):
    return response.content.decode()


def test_first_sign_in_sets_up_the_authenticator_then_signs_in():
    user = make_user("edna", "editor", device=False)
    client = Client()
    response = password_step(client)
    assert response.status_code == 302
    assert response["Location"] == ENROL
    # Not signed in yet: the staff pages send back to the sign-in.
    assert client.get(DASHBOARD)["Location"].startswith(LOGIN)

    page = client.get(ENROL)
    assert page.status_code == 200
    secret = page.context["secret"].replace(" ", "")
    body = content(page)
    assert page.context["secret"] in body
    assert f"otpauth://totp/Prisoner%20tracker:edna?secret={secret}" in body.replace("&amp;", "&")
    assert "<svg" in body
    assert not TOTPDevice.objects.filter(user=user).exists()  # nothing stored before confirmed
    assert secret not in str(dict(client.session))  # the session holds it sealed
    # The page shows the same key until it is confirmed.
    assert client.get(ENROL).context["secret"].replace(" ", "") == secret

    refused = client.post(ENROL, {"code": wrong_code(secret)})
    assert refused.status_code == 200
    assert str(WRONG_CODE) in content(refused)
    assert not TOTPDevice.objects.filter(user=user).exists()

    done = client.post(ENROL, {"code": next_code(secret)})
    assert done.status_code == 302
    assert done["Location"] == DASHBOARD
    assert TOTPDevice.objects.get(user=user).secret == secret
    assert client.get(DASHBOARD).status_code == 200


def test_sign_in_with_password_and_code():
    user = make_user("edna", "editor")
    client = Client()
    response = password_step(client)
    assert response["Location"] == VERIFY
    assert client.get(ENROL)["Location"] == VERIFY  # enrolled already: no new key shown
    code = next_code(user.totp_device.secret)
    done = client.post(VERIFY, {"code": code})
    assert done["Location"] == DASHBOARD
    page = client.get(DASHBOARD)
    assert page.status_code == 200
    assert page["Cache-Control"] == "private, no-store"
    # The same code is not accepted a second time (replay).
    other = Client()
    password_step(other)
    replay = other.post(VERIFY, {"code": code})
    assert replay.status_code == 200
    assert str(WRONG_CODE) in content(replay)


def test_sign_in_returns_to_the_page_asked_for():
    user = make_user("edna", "editor")
    client = Client()
    wanted = reverse("staff:review-list", args=["person"])
    redirect = client.get(wanted)
    assert redirect["Location"] == f"{LOGIN}?next=%2Fstaff%2Freview%2Fperson%2F"
    password_step(client, next=wanted)
    done = client.post(VERIFY, {"code": next_code(user.totp_device.secret)})
    assert done["Location"] == wanted
    # Another site is never a target.
    client = Client()
    password_step(client, next="https://evil.example/")
    user.totp_device.refresh_from_db()
    code = next_code(user.totp_device.secret, after_step=user.totp_device.last_step)
    assert client.post(VERIFY, {"code": code})["Location"] == DASHBOARD


def test_wrong_password_and_bad_code_are_explained_and_keep_the_username():
    make_user("edna", "editor")
    client = Client()
    response = password_step(client, password="wrong")
    assert response.status_code == 200
    body = content(response)
    assert str(WRONG_PASSWORD) in body
    assert 'value="edna"' in body
    assert PASSWORD not in body
    password_step(client)
    malformed = client.post(VERIFY, {"code": "12ab"})
    assert str(CODE_FORMAT) in content(malformed)
    assert LoginFailure.objects.filter(stage="password").count() == 1
    assert LoginFailure.objects.filter(stage="code").count() == 0  # malformed: not an attempt


def test_code_step_needs_the_password_step_first_and_expires():
    user = make_user("edna", "editor")
    client = Client()
    response = client.get(VERIFY)
    assert response["Location"] == LOGIN
    assert str(SIGN_IN_FIRST) in content(client.get(LOGIN))
    password_step(client)
    with time_machine.travel(timezone.now() + dt.timedelta(minutes=6)):
        late = client.post(VERIFY, {"code": next_code(user.totp_device.secret)})
    assert late["Location"] == LOGIN


def test_a_researcher_or_an_account_without_role_cannot_use_the_staff_sign_in():
    make_user("rita", "researcher", device=False)
    make_user("nobody", device=False)
    for username in ("rita", "nobody"):
        client = Client()
        response = password_step(client, username=username)
        assert response.status_code == 200
        assert str(NO_STAFF_ROLE) in content(response)
        assert client.get(VERIFY)["Location"] == LOGIN


def test_five_wrong_passwords_lock_the_username_for_fifteen_minutes():
    user = make_user("edna", "editor")
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        for attempt in range(1, MAX_FAILURES + 1):
            response = password_step(Client(), username="Edna", password=f"wrong {attempt}")
            body = content(response)
            if attempt < MAX_FAILURES:
                assert str(WRONG_PASSWORD) in body
            else:
                assert "locked until" in body
        # Locked, in the database: another client (another process) is refused too, even with
        # the right password, which is not even checked.
        client = Client()
        refused = password_step(client)
        assert refused.status_code == 200
        assert "locked until" in content(refused)
        assert client.get(VERIFY)["Location"] == LOGIN
    assert LoginFailure.objects.filter(username="edna").count() == MAX_FAILURES
    assert LoginLockout.objects.get(username="edna").locked_until == start + dt.timedelta(
        minutes=15
    )
    with time_machine.travel(start + dt.timedelta(minutes=14), tick=False):
        assert "locked until" in content(password_step(Client()))
    with time_machine.travel(start + dt.timedelta(minutes=15, seconds=1), tick=False):
        client = Client()
        assert password_step(client)["Location"] == VERIFY
        done = client.post(VERIFY, {"code": next_code(user.totp_device.secret)})
        assert done["Location"] == DASHBOARD
    # A successful sign-in clears the earlier failures.
    assert not LoginFailure.objects.filter(username="edna", cleared=False).exists()
    assert not LoginLockout.objects.exists()


def test_failures_spread_over_more_than_fifteen_minutes_do_not_lock():
    make_user("edna", "editor")
    start = timezone.now()
    for attempt in range(MAX_FAILURES + 2):
        with time_machine.travel(start + dt.timedelta(minutes=4 * attempt), tick=False):
            body = content(password_step(Client(), password="wrong"))
            assert "locked until" not in body
    assert not LoginLockout.objects.exists()


def test_wrong_codes_count_towards_the_lockout():
    user = make_user("edna", "editor")
    client = Client()
    password_step(client)
    secret = user.totp_device.secret
    for _attempt in range(MAX_FAILURES - 1):
        response = client.post(VERIFY, {"code": wrong_code(secret)})
        assert str(WRONG_CODE) in content(response)
    locked = client.post(VERIFY, {"code": wrong_code(secret)})
    assert locked["Location"] == LOGIN
    assert "locked until" in content(client.get(LOGIN))
    # The right code no longer helps: the pending sign-in was dropped and the name is locked.
    assert client.post(VERIFY, {"code": next_code(secret)})["Location"] == LOGIN
    assert "locked until" in content(password_step(Client()))
    assert LoginFailure.objects.filter(username="edna", stage="code").count() == MAX_FAILURES


def test_sign_out():
    user = make_user("edna", "editor")
    client = Client()
    password_step(client)
    client.post(VERIFY, {"code": next_code(user.totp_device.secret)})
    assert client.get(reverse("staff:logout")).status_code == 200  # a confirmation only
    assert client.get(DASHBOARD).status_code == 200
    response = client.post(reverse("staff:logout"))
    assert response["Location"] == LOGIN
    assert client.get(DASHBOARD)["Location"].startswith(LOGIN)


def test_a_staff_member_signed_in_without_the_second_factor_is_sent_to_the_staff_sign_in():
    user = make_user("edna", "editor")
    client = Client()
    client.force_login(user)  # e.g. through the researcher sign-in page
    assert client.get(DASHBOARD)["Location"].startswith(LOGIN)


# --- Secrets at rest --------------------------------------------------------------------------


def stored_secret_column(user) -> str:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM staff_totpdevice WHERE user_id = %s", [user.pk])
        return " ".join(str(value) for value in cursor.fetchone())


def test_the_secret_is_stored_sealed():
    from prisoners.staff import totp
    from prisoners.staff.models import SECRET_FORMAT

    user = make_user("edna", "editor")
    device = TOTPDevice.objects.get(user=user)
    secret = device.secret
    assert SECRET_FORMAT.fullmatch(secret)
    row = stored_secret_column(user)
    assert secret not in row  # not in any column of the row
    assert device.sealed_secret.startswith("fernet:")
    # Each sealing differs (a random IV), and only this project's key opens it.
    assert totp.seal(secret) != totp.seal(secret)
    with pytest.raises(ValueError, match="base32"):
        device.secret = "not base32!"


def test_a_changed_key_opens_old_secrets_through_the_fallbacks_and_seals_them_again(settings):
    from prisoners.staff import totp

    user = make_user("edna", "editor")
    old_key = settings.SECRET_KEY
    secret = TOTPDevice.objects.get(user=user).secret
    settings.SECRET_KEY = "a-new-key-" + "x" * 50
    settings.SECRET_KEY_FALLBACKS = []
    with pytest.raises(totp.UnsealError):
        TOTPDevice.objects.get(user=user).secret  # noqa: B018
    settings.SECRET_KEY_FALLBACKS = [old_key]
    assert TOTPDevice.objects.get(user=user).secret == secret
    client = Client()
    password_step(client)
    assert client.post(VERIFY, {"code": next_code(secret)}).status_code == 302
    # Signed in once: now sealed under the new key alone.
    settings.SECRET_KEY_FALLBACKS = []
    assert TOTPDevice.objects.get(user=user).secret == secret
