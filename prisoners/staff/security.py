"""Staff sign-in security: lockout after repeated failures, authenticators, accounts and roles.

Lockout: ``MAX_FAILURES`` failed sign-ins (wrong password or wrong code) for one username within
``FAILURE_WINDOW`` lock that username for ``LOCKOUT``. While locked, the password is not even
checked. Failures are rows in the database, so every web process counts them; concurrent
failures for one username are serialised by a transaction-level advisory lock.
"""

from __future__ import annotations

import datetime as dt
import secrets
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from prisoners.errors import ApplicationError
from prisoners.visibility import RESEARCHER_GROUP

from . import totp
from .models import LoginFailure, LoginLockout, TOTPDevice
from .roles import ROLE_GROUPS, Role

MAX_FAILURES = 5
FAILURE_WINDOW = dt.timedelta(minutes=15)
LOCKOUT = dt.timedelta(minutes=15)
PASSWORD_BYTES = 18  # 24 URL-safe characters

USER_EXISTS = _("A user with this username already exists.")
OWN_ADMIN_ROLE = _("You cannot take the admin role away from yourself.")
OWN_ACCOUNT_INACTIVE = _("You cannot deactivate your own account.")
NO_DEVICE = _("This account has no authenticator to reset.")

RESEARCHER = "researcher"
ACCOUNT_ROLES: dict[str, str] = {
    RESEARCHER: RESEARCHER_GROUP,
    **{str(role): group for role, group in ROLE_GROUPS.items()},
}


def username_key(username: str) -> str:
    """The key failures are counted under: the username as typed, trimmed and case-folded."""
    return username.strip().casefold()[:150]


# --- Lockout ------------------------------------------------------------------------------------


def locked_until(username: str) -> dt.datetime | None:
    """When the lockout of ``username`` ends, if it is locked now."""
    return (
        LoginLockout.objects.filter(
            username=username_key(username), locked_until__gt=timezone.now()
        )
        .values_list("locked_until", flat=True)
        .first()
    )


def _serialise(key: str) -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", ["staff-login:" + key])


@transaction.atomic
def login_failure_record(
    *, username: str, stage: str, ip_address: str | None = None
) -> dt.datetime | None:
    """Record a failed sign-in; lock the username if it reached the limit. Returns the end of
    the lockout, if this failure (or an earlier one) locked it."""
    key = username_key(username)
    _serialise(key)
    now = timezone.now()
    failure = LoginFailure(username=key, stage=stage, ip_address=ip_address or None)
    failure.full_clean()
    failure.save()
    recent = LoginFailure.objects.filter(
        username=key, cleared=False, created_at__gt=now - FAILURE_WINDOW
    ).count()
    if recent >= MAX_FAILURES:
        until = now + LOCKOUT
        LoginLockout.objects.update_or_create(username=key, defaults={"locked_until": until})
        return until
    return locked_until(key)


@transaction.atomic
def login_failures_clear(*, username: str) -> None:
    """After a successful sign-in, or when an admin unlocks: earlier failures no longer count."""
    key = username_key(username)
    _serialise(key)
    LoginFailure.objects.filter(username=key, cleared=False).update(cleared=True)
    LoginLockout.objects.filter(username=key).delete()


# --- Authenticators -------------------------------------------------------------------------------


@transaction.atomic
def device_enrol(
    *, user: Any, secret: str, code: str, at: float | None = None
) -> TOTPDevice | None:
    """Confirm the secret shown to ``user`` with a code from their app; store it as their
    authenticator. ``None`` if the code is wrong (nothing is stored)."""
    step = totp.matching_step(secret, code, last_step=0, at=at)
    if step is None:
        return None
    TOTPDevice.objects.filter(user=user).delete()
    device = TOTPDevice(user=user, confirmed_at=timezone.now(), last_step=step)
    device.secret = secret  # sealed
    device.full_clean()
    device.save()
    return device


@transaction.atomic
def device_verify(*, device: TOTPDevice, code: str, at: float | None = None) -> bool:
    """Check a code; on success remember its time step, so that it is never accepted again."""
    locked = TOTPDevice.objects.select_for_update().get(pk=device.pk)
    secret = locked.secret
    step = totp.matching_step(secret, code, last_step=locked.last_step, at=at)
    if step is None:
        return False
    locked.last_step = step
    locked.secret = secret  # sealed again, under the current key (after a key change)
    locked.save(update_fields=["last_step", "sealed_secret", "updated_at"])
    device.refresh_from_db()
    return True


@transaction.atomic
def device_reset(*, user: Any, by: Any, reason: str) -> None:
    """Remove the user's authenticator: they enrol a new one at their next sign-in, and every
    session verified with the old one loses its staff access."""
    deleted, _count = TOTPDevice.objects.filter(user=user).delete()
    if not deleted:
        raise ApplicationError(str(NO_DEVICE))
    account_log(by=by, user=user, message=f"Authenticator reset: {reason}")


# --- Accounts and roles -------------------------------------------------------------------------


def account_log(*, by: Any, user: Any, message: str, added: bool = False) -> None:
    """Note a change to an account in the admin log (shown on the account's staff page)."""
    from django.contrib.admin.models import ADDITION, CHANGE, LogEntry

    LogEntry.objects.log_actions(
        user_id=by.pk,
        queryset=[user],
        action_flag=ADDITION if added else CHANGE,
        change_message=message,
        single_object=True,
    )


def account_roles(user: Any) -> list[str]:
    names = set(user.groups.values_list("name", flat=True))
    return [role for role, group in ACCOUNT_ROLES.items() if group in names]


def _set_roles(user: Any, roles: list[str]) -> None:
    wanted = {ACCOUNT_ROLES[role] for role in roles}
    groups = {
        group.name: group
        for group in Group.objects.filter(name__in=ACCOUNT_ROLES.values()).order_by("name")
    }
    for name in ACCOUNT_ROLES.values():
        if name not in groups:
            groups[name] = Group.objects.create(name=name)
    user.groups.remove(*[groups[name] for name in ACCOUNT_ROLES.values() if name not in wanted])
    user.groups.add(*[groups[name] for name in wanted])
    user.is_staff = any(role != RESEARCHER for role in roles) or user.is_superuser
    user.save(update_fields=["is_staff"])


@transaction.atomic
def staff_user_create(
    *, username: str, email: str = "", roles: list[str], by: Any
) -> tuple[Any, str]:
    """Create an account with these roles; return it with its generated password (shown once).

    A staff account sets up its authenticator at its first sign-in on ``/staff/login/``.
    """
    user_model = get_user_model()
    if user_model._default_manager.filter(username__iexact=username).exists():
        raise ValidationError({"username": str(USER_EXISTS)})
    password = secrets.token_urlsafe(PASSWORD_BYTES)
    user = user_model(username=username, email=email)
    user.set_password(password)
    user.full_clean()
    user.save()
    _set_roles(user, roles)
    account_log(
        by=by, user=user, message=f"Created with roles: {', '.join(roles) or '-'}", added=True
    )
    return user, password


@transaction.atomic
def staff_user_update(*, user: Any, by: Any, roles: list[str], is_active: bool) -> Any:
    """Change an account's roles and whether it may sign in."""
    if user.pk == by.pk:
        if Role.ADMIN not in roles and not user.is_superuser:
            raise ApplicationError(str(OWN_ADMIN_ROLE))
        if not is_active:
            raise ApplicationError(str(OWN_ACCOUNT_INACTIVE))
    before = (account_roles(user), user.is_active)
    user.is_active = is_active
    user.save(update_fields=["is_active"])
    _set_roles(user, roles)
    after = (account_roles(user), user.is_active)
    if after != before:
        account_log(
            by=by,
            user=user,
            message=f"Roles: {', '.join(after[0]) or '-'}; active: {'yes' if is_active else 'no'}",
        )
    return user


@transaction.atomic
def account_unlock(*, user: Any, by: Any, reason: str) -> None:
    """Lift a lockout of the account's username and forget its earlier failures."""
    login_failures_clear(username=user.get_username())
    account_log(by=by, user=user, message=f"Sign-in lockout lifted: {reason}")
