"""Accounts and roles (admins only): list, create, change roles, reset two-factor, unlock."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.admin.models import LogEntry
from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from prisoners.errors import ApplicationError

from .. import security
from ..forms import AccountCreateForm, AccountUpdateForm, ConfirmForm
from ..models import LoginFailure, LoginLockout, TOTPDevice
from ..roles import MANAGE, staff_view

PER_PAGE = 50

ACCOUNT_SAVED = _("The account {username} was saved.")
DEVICE_RESET = _(
    "The authenticator of {username} was removed: they set up a new one at their next sign-in."
)
UNLOCKED = _("{username} may sign in again.")


def _users() -> Any:
    return get_user_model()._default_manager.prefetch_related("groups").order_by("username", "pk")


def _account(user: Any) -> dict[str, Any]:
    return {
        "account_user": user,
        "roles": security.account_roles(user),
        "has_device": TOTPDevice.objects.filter(user=user, confirmed_at__isnull=False).exists(),
        "locked_until": security.locked_until(user.get_username()),
    }


@staff_view(MANAGE)
def user_list_view(request: HttpRequest) -> HttpResponse:
    page = Paginator(_users(), PER_PAGE).get_page(request.GET.get("page"))
    users = list(page.object_list)
    with_device = set(
        TOTPDevice.objects.filter(user__in=users, confirmed_at__isnull=False).values_list(
            "user_id", flat=True
        )
    )
    locked = set(
        LoginLockout.objects.filter(
            username__in=[security.username_key(u.get_username()) for u in users],
            locked_until__gt=timezone.now(),
        ).values_list("username", flat=True)
    )
    group_roles = {group: role for role, group in security.ACCOUNT_ROLES.items()}
    rows = [
        {
            "user": user,
            "roles": [group_roles[g.name] for g in user.groups.all() if g.name in group_roles],
            "has_device": user.pk in with_device,
            "locked": security.username_key(user.get_username()) in locked,
        }
        for user in users
    ]
    return render(request, "staff/users/list.html", {"page_obj": page, "rows": rows})


@staff_view(MANAGE)
def user_create_view(request: HttpRequest) -> HttpResponse:
    form = AccountCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            user, password = security.staff_user_create(
                username=form.cleaned_data["username"],
                email=form.cleaned_data["email"],
                roles=form.cleaned_data["roles"],
                by=request.user,
            )
        except ValidationError as error:
            for field, errors in error.message_dict.items():
                for text in errors:
                    form.add_error(field if field in form.fields else None, text)
        else:
            # Shown once, on this page only: never put in a message, a cookie or a redirect.
            return render(
                request,
                "staff/users/created.html",
                {"account": _account(user), "password": password},
            )
    return render(request, "staff/users/create.html", {"form": form})


@staff_view(MANAGE)
def user_detail_view(request: HttpRequest, pk: int) -> HttpResponse:
    user = get_object_or_404(_users(), pk=pk)
    initial = {"roles": security.account_roles(user), "is_active": user.is_active}
    form = AccountUpdateForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            security.staff_user_update(
                user=user,
                by=request.user,
                roles=form.cleaned_data["roles"],
                is_active=form.cleaned_data["is_active"],
            )
        except ApplicationError as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, str(ACCOUNT_SAVED).format(username=user.get_username()))
            return redirect("staff:user-detail", pk=user.pk)
    log = LogEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(user), object_id=str(user.pk)
    ).select_related("user")[:20]
    failures = LoginFailure.objects.filter(
        username=security.username_key(user.get_username())
    ).order_by("-created_at", "-pk")[:10]
    context = {"form": form, "log": log, "failures": failures, **_account(user)}
    return render(request, "staff/users/detail.html", context)


def _account_action(
    request: HttpRequest,
    pk: int,
    *,
    action: Any,
    done: Any,
    title: Any,
    explanation: Any,
) -> HttpResponse:
    user = get_object_or_404(_users(), pk=pk)
    form = ConfirmForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            action(user=user, by=request.user, reason=form.cleaned_data["reason"])
        except ApplicationError as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, str(done).format(username=user.get_username()))
            return redirect("staff:user-detail", pk=user.pk)
    context = {"form": form, "title": title, "explanation": explanation, **_account(user)}
    return render(request, "staff/users/confirm.html", context)


@staff_view(MANAGE)
def user_reset_device_view(request: HttpRequest, pk: int) -> HttpResponse:
    return _account_action(
        request,
        pk,
        action=security.device_reset,
        done=DEVICE_RESET,
        title=_("Reset two-factor sign-in"),
        explanation=_(
            "The account's authenticator is removed and its staff sessions end. At the next "
            "sign-in the user sets up a new authenticator. Do this when a phone is lost."
        ),
    )


@staff_view(MANAGE)
def user_unlock_view(request: HttpRequest, pk: int) -> HttpResponse:
    return _account_action(
        request,
        pk,
        action=security.account_unlock,
        done=UNLOCKED,
        title=_("Lift the sign-in lockout"),
        explanation=_(
            "The earlier failed sign-ins of this username no longer count, and it may sign in "
            "at once."
        ),
    )
