"""The staff dashboard (``/staff/``) and the lists it links to that are not review lists."""

from __future__ import annotations

from typing import Any

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from events.models import IncommunicadoPeriod

from ..roles import READ, staff_view
from ..selectors import (
    INCOMMUNICADO_DAYS,
    dashboard,
    long_incommunicado,
    month_bounds,
    terms_ending,
)

PER_PAGE = 50


@staff_view(READ)
def dashboard_view(request: HttpRequest) -> HttpResponse:
    return render(request, "staff/dashboard.html", {"board": dashboard(on=timezone.localdate())})


def _page(request: HttpRequest, queryset: Any) -> Any:
    return Paginator(queryset, PER_PAGE).get_page(request.GET.get("page"))


@staff_view(READ)
def terms_ending_view(request: HttpRequest) -> HttpResponse:
    today = timezone.localdate()
    start, _following = month_bounds(today)
    page = _page(request, terms_ending(on=today))
    return render(
        request,
        "staff/terms_ending.html",
        {"page_obj": page, "month": start, "today": today},
    )


@staff_view(READ)
def incommunicado_view(request: HttpRequest) -> HttpResponse:
    today = timezone.localdate()
    page = _page(request, long_incommunicado(on=today))
    periods: list[IncommunicadoPeriod] = list(page.object_list)
    rows = [
        {"period": period, "days": (today - period.started_on).days if period.started_on else None}
        for period in periods
    ]
    return render(
        request,
        "staff/incommunicado.html",
        {"page_obj": page, "rows": rows, "threshold": INCOMMUNICADO_DAYS},
    )
