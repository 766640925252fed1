"""Helpers of the staff tests: accounts, codes, signed-in clients."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.test import Client
from django.utils import timezone

from prisoners.staff import totp
from prisoners.staff.models import TOTPDevice
from prisoners.staff.roles import VERIFIED_SESSION_KEY
from prisoners.visibility import RESEARCHER_GROUP

PASSWORD = "correct horse battery staple"

ROLE_GROUPS = {
    "researcher": RESEARCHER_GROUP,
    "editor": "editors",
    "reviewer": "reviewers",
    "admin": "admins",
}


def make_user(username: str, *roles: str, device: bool = True, **fields: Any) -> Any:
    user = get_user_model().objects.create_user(
        username,
        password=PASSWORD,
        is_staff=any(role != "researcher" for role in roles),
        **fields,
    )
    for role in roles:
        user.groups.add(Group.objects.get_or_create(name=ROLE_GROUPS[role])[0])
    if device:
        TOTPDevice.objects.create(
            user=user, sealed_secret=totp.seal(totp.new_secret()), confirmed_at=timezone.now()
        )
    return user


def next_code(secret: str, *, after_step: int = 0) -> str:
    """A code the server accepts now: for the current step, or the next one if that was used."""
    now = totp.time_step()
    step = next(s for s in (now, now + 1) if s > after_step)
    return totp.hotp(totp.secret_bytes(secret), step)


def wrong_code(secret: str) -> str:
    valid = {totp.hotp(totp.secret_bytes(secret), totp.time_step() + d) for d in (-1, 0, 1)}
    return next(c for c in ("000000", "111111", "222222", "333333") if c not in valid)


def verified_client(user: Any) -> Client:
    """A client signed in as ``user`` whose session passed the second factor."""
    client = Client()
    client.force_login(user)
    session = client.session
    session[VERIFIED_SESSION_KEY] = user.totp_device.pk
    session.save()
    return client
