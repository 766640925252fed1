"""Staff roles and the one decorator every staff view uses.

Roles are Django groups (created by migration ``staff.0002_groups``):

| role | group | may |
|---|---|---|
| editor | ``editors`` | see the staff pages: dashboard, review lists, records, history |
| reviewer | ``reviewers`` | as editor, and publish, unpublish and revert changes |
| admin | ``admins`` | everything, and manage accounts and roles |

A superuser has every role. Researchers (``prisoners.visibility.RESEARCHER_GROUP``) have no
staff role. A staff page is open only to a signed-in user with one of its roles who passed the
second factor in this session (``two_factor_verified``).
"""

from __future__ import annotations

from collections.abc import Callable
from enum import StrEnum
from functools import wraps
from typing import Any

from django.contrib.auth import REDIRECT_FIELD_NAME
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import resolve_url
from django.utils.http import urlencode
from django.utils.translation import gettext_lazy as _


class Role(StrEnum):
    EDITOR = "editor"
    REVIEWER = "reviewer"
    ADMIN = "admin"


ROLE_GROUPS: dict[Role, str] = {
    Role.EDITOR: "editors",
    Role.REVIEWER: "reviewers",
    Role.ADMIN: "admins",
}
ROLE_LABELS = {
    Role.EDITOR: _("Editor"),
    Role.REVIEWER: _("Reviewer"),
    Role.ADMIN: _("Admin"),
}

# The role sets views declare.
READ = frozenset(Role)  # every staff role
PUBLISH = frozenset({Role.REVIEWER, Role.ADMIN})
MANAGE = frozenset({Role.ADMIN})
PUBLIC: frozenset[Role] = frozenset()  # sign-in pages: open to anyone

VERIFIED_SESSION_KEY = "staff_two_factor"  # the device id verified in this session
ROLES_ATTRIBUTE = "staff_roles"


def user_roles(user: Any) -> frozenset[Role]:
    """The staff roles of ``user`` (none for anonymous, inactive or researcher accounts)."""
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return frozenset()
    if user.is_superuser:
        return READ
    cached = getattr(user, "_staff_roles", None)
    if cached is None:
        names = set(
            user.groups.filter(name__in=ROLE_GROUPS.values()).values_list("name", flat=True)
        )
        cached = frozenset(role for role, group in ROLE_GROUPS.items() if group in names)
        user._staff_roles = cached
    return cached


def has_role(user: Any, roles: frozenset[Role]) -> bool:
    return bool(user_roles(user) & roles)


def two_factor_verified(request: HttpRequest) -> bool:
    """Did this session pass the second factor with the user's current authenticator?"""
    from .models import TOTPDevice

    device_id = request.session.get(VERIFIED_SESSION_KEY)
    if not device_id or not request.user.is_authenticated:
        return False
    return TOTPDevice.objects.filter(
        pk=device_id, user=request.user, confirmed_at__isnull=False
    ).exists()


def _to_login(request: HttpRequest) -> HttpResponse:
    url = resolve_url("staff:login")
    return HttpResponseRedirect(
        f"{url}?{urlencode({REDIRECT_FIELD_NAME: request.get_full_path()})}"
    )


ViewFunc = Callable[..., HttpResponse]


def staff_view(roles: frozenset[Role]) -> Callable[[ViewFunc], ViewFunc]:
    """Declare the roles a staff view is open to; ``PUBLIC`` for the sign-in pages.

    Anonymous visitors, and staff who have not passed the second factor in this session, are
    sent to the staff sign-in; a signed-in user without one of ``roles`` gets 403. The roles
    are kept on the view (``staff_roles``) so that tests can check every URL declares some.
    """

    def decorator(view: ViewFunc) -> ViewFunc:
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if roles:
                user = request.user
                if not user.is_authenticated:
                    return _to_login(request)
                mine = user_roles(user)
                if not mine:
                    raise PermissionDenied
                if not two_factor_verified(request):
                    return _to_login(request)
                if not mine & roles:
                    raise PermissionDenied
            response = view(request, *args, **kwargs)
            if not response.has_header("Cache-Control"):
                response["Cache-Control"] = "private, no-store"
            return response

        setattr(wrapped, ROLES_ATTRIBUTE, roles)
        return wrapped

    return decorator
