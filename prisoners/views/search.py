"""Search by any spelling (``/search/``) and suggestions while typing (``/search/suggest/``).

Both read ``prisoners.search.person_search``. The suggestion URL answers htmx requests with the
``_suggestions.html`` fragment and any other request with the full results page, so the header
box works without JavaScript too; its responses vary on ``HX-Request``.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.cache import patch_vary_headers
from django.utils.translation import get_language

from prisoners.search import SUGGEST_ROW_CAP, SUGGEST_SIZE, person_search
from prisoners.visibility import viewer_tier


def _page_number(request: HttpRequest) -> int:
    raw = request.GET.get("page", "1")
    return int(raw) if raw.isdigit() and len(raw) < 6 else 1


def search(request: HttpRequest) -> HttpResponse:
    """The results page: 20 persons a page, best match first, with a link to the next page."""
    results = person_search(
        query=request.GET.get("q", ""),
        viewer=viewer_tier(request.user),
        language=get_language(),
        page=_page_number(request),
    )
    return render(request, "prisoners/search.html", {"results": results})


def suggest(request: HttpRequest) -> HttpResponse:
    """A few persons for what is being typed in the header box (htmx), else the results page."""
    if getattr(request, "htmx", False):
        results = person_search(
            query=request.GET.get("q", ""),
            viewer=viewer_tier(request.user),
            language=get_language(),
            page_size=SUGGEST_SIZE,
            with_status=False,
            row_cap=SUGGEST_ROW_CAP,
        )
        response = render(request, "prisoners/_suggestions.html", {"results": results})
    else:
        response = search(request)
    patch_vary_headers(response, ["HX-Request"])
    return response
