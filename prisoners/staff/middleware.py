"""Staff powers need the second factor, wherever the staff member signed in.

A staff account can also sign in on the researcher page (``/accounts/login/``) or be signed in
by other means; until its session has passed the staff sign-in's second factor, it is marked
``two_factor_pending``: ``prisoners.visibility.viewer_tier`` then gives it no staff tier on
public pages, the API and exports, and the Django admin does not open (``StaffConfig.ready``).
The check reads the session only (no query): resetting a staff member's authenticator ends
their sessions (``prisoners.staff.services``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse

from .roles import VERIFIED_SESSION_KEY

PENDING_ATTRIBUTE = "two_factor_pending"


def two_factor_pending(request: HttpRequest) -> bool:
    user: Any = getattr(request, "user", None)
    if user is None or not user.is_authenticated or not (user.is_staff or user.is_superuser):
        return False
    return not request.session.get(VERIFIED_SESSION_KEY)


class StaffTwoFactorMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if two_factor_pending(request):
            setattr(request.user, PENDING_ATTRIBUTE, True)
        return self.get_response(request)
