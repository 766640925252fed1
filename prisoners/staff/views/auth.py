"""Staff sign-in in two steps: password, then a code from an authenticator app (RFC 6238).

1. ``/staff/login/``: username and password. Right: the user is remembered in the session as
   *pending* (not signed in) for ``PENDING_SECONDS``.
2. ``/staff/login/code/``: the code; or, the first time, ``/staff/login/enrol/``: the secret is
   shown (text, ``otpauth://`` URI and a QR code made on the server) and one code confirms it.

Only then is the user signed in, with the session marked as verified. Wrong passwords and wrong
codes count towards the lockout of the username (``security.py``).
"""

from __future__ import annotations

import time
from typing import Any

from django.contrib import messages
from django.contrib.auth import (
    BACKEND_SESSION_KEY,
    REDIRECT_FIELD_NAME,
    authenticate,
    get_user_model,
    login,
    logout,
)
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _

from .. import security, totp
from ..forms import CodeForm, SignInForm
from ..models import LoginFailure, TOTPDevice
from ..roles import PUBLIC, READ, VERIFIED_SESSION_KEY, staff_view, user_roles

PENDING_KEY = "staff_pending"
ENROL_KEY = "staff_enrol"
PENDING_SECONDS = 300
ISSUER = "Prisoner tracker"

WRONG_PASSWORD = _("Wrong username or password.")
WRONG_CODE = _("Wrong code. Check the time on your phone and try the next code.")
LOCKED = _("Too many failed sign-ins: this account is locked until {until}.")
NO_STAFF_ROLE = _("This account has no staff role. Researchers sign in on the researcher page.")
SIGN_IN_FIRST = _("Sign in with your username and password first.")
SIGNED_OUT = _("You are signed out.")


def _next_url(request: HttpRequest) -> str:
    candidate = request.POST.get(REDIRECT_FIELD_NAME) or request.GET.get(REDIRECT_FIELD_NAME, "")
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return ""


def _ip(request: HttpRequest) -> str | None:
    return request.META.get("REMOTE_ADDR") or None


def _locked_message(until: Any) -> str:
    return str(LOCKED).format(until=timezone.localtime(until).strftime("%Y-%m-%d %H:%M %Z"))


def _pending(request: HttpRequest) -> tuple[Any, dict[str, Any]] | None:
    """The user who gave the right password in this session, if recently enough."""
    data = request.session.get(PENDING_KEY)
    if not isinstance(data, dict) or time.time() - data.get("at", 0) > PENDING_SECONDS:
        request.session.pop(PENDING_KEY, None)
        return None
    user = (
        get_user_model()._default_manager.filter(pk=data.get("user") or 0, is_active=True).first()
    )
    if user is None or not user_roles(user):
        request.session.pop(PENDING_KEY, None)
        return None
    return user, data


def _abandon(request: HttpRequest, message: str) -> HttpResponse:
    request.session.pop(PENDING_KEY, None)
    request.session.pop(ENROL_KEY, None)
    messages.error(request, message)
    return redirect("staff:login")


def _complete(
    request: HttpRequest, user: Any, data: dict[str, Any], device: TOTPDevice
) -> HttpResponse:
    login(request, user, backend=data["backend"])
    request.session[VERIFIED_SESSION_KEY] = device.pk
    request.session.pop(PENDING_KEY, None)
    security.login_failures_clear(username=user.get_username())
    return redirect(data.get("next") or "staff:dashboard")


@staff_view(PUBLIC)
def login_view(request: HttpRequest) -> HttpResponse:
    form = SignInForm(request.POST or None)
    next_url = _next_url(request)
    if request.method == "POST" and form.is_valid():
        username = form.cleaned_data["username"]
        until = security.locked_until(username)
        if until is not None:
            form.add_error(None, _locked_message(until))
        else:
            user = authenticate(request, username=username, password=form.cleaned_data["password"])
            if user is None:
                until = security.login_failure_record(
                    username=username, stage=LoginFailure.Stage.PASSWORD, ip_address=_ip(request)
                )
                form.add_error(None, _locked_message(until) if until else str(WRONG_PASSWORD))
            elif not user_roles(user):
                form.add_error(None, str(NO_STAFF_ROLE))
            else:
                request.session.cycle_key()
                request.session[PENDING_KEY] = {
                    "user": user.pk,
                    "backend": getattr(user, "backend", None)
                    or request.session.get(BACKEND_SESSION_KEY),
                    "at": time.time(),
                    "next": next_url,
                }
                confirmed = TOTPDevice.objects.filter(user=user, confirmed_at__isnull=False)
                return redirect("staff:verify" if confirmed.exists() else "staff:enrol")
    return render(request, "staff/login.html", {"form": form, "next": next_url})


def _code_failure(request: HttpRequest, user: Any, form: CodeForm) -> HttpResponse | None:
    until = security.login_failure_record(
        username=user.get_username(), stage=LoginFailure.Stage.CODE, ip_address=_ip(request)
    )
    if until is not None:
        return _abandon(request, _locked_message(until))
    form.add_error("code", str(WRONG_CODE))
    return None


@staff_view(PUBLIC)
def verify_view(request: HttpRequest) -> HttpResponse:
    pending = _pending(request)
    if pending is None:
        return _abandon(request, str(SIGN_IN_FIRST))
    user, data = pending
    device = TOTPDevice.objects.filter(user=user, confirmed_at__isnull=False).first()
    if device is None:
        return redirect("staff:enrol")
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        until = security.locked_until(user.get_username())
        if until is not None:
            return _abandon(request, _locked_message(until))
        if security.device_verify(device=device, code=form.cleaned_data["code"]):
            return _complete(request, user, data, device)
        response = _code_failure(request, user, form)
        if response is not None:
            return response
    return render(request, "staff/verify.html", {"form": form, "pending_user": user})


def _enrol_secret(request: HttpRequest, user: Any) -> str:
    """The secret offered to ``user`` in this session (kept in the session, sealed, until
    confirmed)."""
    offered = request.session.get(ENROL_KEY)
    if isinstance(offered, dict) and offered.get("user") == user.pk and offered.get("sealed"):
        try:
            return totp.unseal(str(offered["sealed"]))
        except totp.UnsealError:
            pass  # sealed under a key since changed: offer a new one
    secret = totp.new_secret()
    request.session[ENROL_KEY] = {"user": user.pk, "sealed": totp.seal(secret)}
    return secret


@staff_view(PUBLIC)
def enrol_view(request: HttpRequest) -> HttpResponse:
    pending = _pending(request)
    if pending is None:
        return _abandon(request, str(SIGN_IN_FIRST))
    user, data = pending
    if TOTPDevice.objects.filter(user=user, confirmed_at__isnull=False).exists():
        return redirect("staff:verify")
    secret = _enrol_secret(request, user)
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        until = security.locked_until(user.get_username())
        if until is not None:
            return _abandon(request, _locked_message(until))
        device = security.device_enrol(user=user, secret=secret, code=form.cleaned_data["code"])
        if device is not None:
            request.session.pop(ENROL_KEY, None)
            return _complete(request, user, data, device)
        response = _code_failure(request, user, form)
        if response is not None:
            return response
    uri = totp.provisioning_uri(secret, account=user.get_username(), issuer=ISSUER)
    context = {
        "form": form,
        "pending_user": user,
        "secret": totp.grouped(secret),
        "uri": uri,
        "qr_svg": mark_safe(totp.qr_svg(uri)),  # noqa: S308 (SVG made here from our own URI)
        "step_seconds": totp.STEP_SECONDS,
        "digits": totp.DIGITS,
    }
    return render(request, "staff/enrol.html", context)


@staff_view(READ)
def logout_view(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        logout(request)
        messages.success(request, str(SIGNED_OUT))
        return redirect(reverse("staff:login"))
    return render(request, "staff/logout.html")
