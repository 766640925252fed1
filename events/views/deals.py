"""Release deals: the list (``/deals/``) and one deal (``/deals/<slug>/``)."""

from __future__ import annotations

from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import get_language
from django.views import View
from django.views.generic import ListView

from events.timeline import deal_list, deal_page, deal_rows
from prisoners.visibility import viewer_tier

DEALS_PER_PAGE = 50


class DealListView(ListView):  # type: ignore[type-arg]
    template_name = "events/deal_list.html"
    context_object_name = "deals"

    def get_paginate_by(self, queryset: Any) -> int:
        return DEALS_PER_PAGE

    def get_queryset(self) -> Any:
        self.tier = viewer_tier(self.request.user)
        return deal_list(viewer=self.tier)

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["rows"] = deal_rows(context["deals"], viewer=self.tier, language=get_language())
        return context


class DealDetailView(View):
    template_name = "events/deal_detail.html"

    def get(self, request: HttpRequest, slug: str, *args: Any, **kwargs: Any) -> HttpResponse:
        page = deal_page(
            slug=slug,
            viewer=viewer_tier(request.user),
            page=request.GET.get("page", 1),
            language=get_language(),
        )
        if page is None:
            raise Http404
        return render(
            request,
            self.template_name,
            {"page": page, "deal": page.deal, "canonical_url": request.build_absolute_uri()},
        )


deal_list_view = DealListView.as_view()
deal_detail_view = DealDetailView.as_view()
