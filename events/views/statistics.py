"""The statistics page: figures on a day (today, or ``?as_of=YYYY-MM-DD``), charts and tables."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import get_language
from django.views import View

from prisoners.visibility import Tier, viewer_tier

from ..statistics import AsOfError, parse_as_of, statistics_on

TEMPLATE = "events/statistics.html"


class StatisticsView(View):
    def get(self, request: HttpRequest) -> HttpResponse:
        today = timezone.localdate()
        raw = request.GET.get("as_of", "")
        try:
            as_of = parse_as_of(raw, today=today)
        except AsOfError as error:
            context = {"error": str(error), "as_of_value": raw[:40], "today": today}
            return render(request, TEMPLATE, context, status=400)
        tier = viewer_tier(request.user)
        stats = statistics_on(as_of=as_of, tier=tier, language=get_language() or "en")
        context = {
            "stats": stats,
            "charts": stats.chart_data(),
            "today": today,
            "as_of_value": "" if as_of == today else as_of.isoformat(),
            "is_today": as_of == today,
            "tier": tier,
            "Tier": Tier,
        }
        return render(request, TEMPLATE, context)


statistics = StatisticsView.as_view()
