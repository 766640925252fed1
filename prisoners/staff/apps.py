from typing import Any

from django.apps import AppConfig


class StaffConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "prisoners.staff"
    label = "staff"
    verbose_name = "Staff curation"

    def ready(self) -> None:
        guard_admin_site()


def guard_admin_site() -> None:
    """The Django admin opens only to a session that passed the staff second factor; its own
    password-only sign-in page sends to the staff sign-in."""
    from django.contrib import admin
    from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
    from django.shortcuts import resolve_url
    from django.utils.http import urlencode

    from .middleware import two_factor_pending

    site = admin.site
    if getattr(site, "_staff_two_factor_guard", False):
        return
    allowed = site.has_permission

    def has_permission(request: HttpRequest) -> bool:
        return bool(allowed(request)) and not two_factor_pending(request)

    def login(request: HttpRequest, extra_context: Any = None) -> HttpResponse:
        target = request.GET.get("next") or resolve_url("admin:index")
        return HttpResponseRedirect(f"{resolve_url('staff:login')}?{urlencode({'next': target})}")

    site.has_permission = has_permission  # type: ignore[method-assign]
    site.login = login  # type: ignore[method-assign]
    site._staff_two_factor_guard = True  # type: ignore[attr-defined]
