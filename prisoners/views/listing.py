"""The listing of persons (``/persons/``) and its CSV and JSON exports, with the same filters.

Views parse the request and render; ``prisoners.listing`` (selectors) and
``prisoners.filters`` do the work. Bad parameters answer 400 with the form's errors.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from typing import Any

from django.conf import settings
from django.core.paginator import InvalidPage
from django.core.serializers.json import DjangoJSONEncoder
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    JsonResponse,
    StreamingHttpResponse,
)
from django.http.response import HttpResponseBase
from django.shortcuts import render
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views import View

from prisoners import listing
from prisoners.filters import PersonListingFilter
from prisoners.visibility import viewer_tier

BAD_PAGE = "Page numbers are whole numbers from 1."
BAD_PAGE_SIZE = "The page size is a whole number from 1 to {maximum}."


def _positive(value: str | None, default: int, maximum: int | None = None) -> int | None:
    """A whole number >= 1 (and <= maximum), ``default`` when absent, None when invalid."""
    if value in (None, ""):
        return default
    assert value is not None
    if not value.isdigit() or int(value) < 1 or (maximum is not None and int(value) > maximum):
        return None
    return int(value)


class PersonListView(View):
    """The listing. Its facet counts may be left for later (``listing.listing_page``):
    ``?counts=all`` counts them whatever it costs; asked so by htmx, the answer is only the
    filters with their counts, the number of persons and the page links
    (``_listing_counts.html``)."""

    template_name = "prisoners/person_list.html"
    counts_template_name = "prisoners/_listing_counts.html"

    def get_paginate_by(self) -> int | None:
        """Rows per page: ``settings.PAGE_SIZE``, or ``per_page`` up to ``PAGE_SIZE_MAX``."""
        return _positive(
            self.request.GET.get("per_page"), settings.PAGE_SIZE, settings.PAGE_SIZE_MAX
        )

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        tier = viewer_tier(request.user)
        today = timezone.localdate()
        listing.prepare(today)
        filterset = PersonListingFilter(
            request.GET, queryset=listing.listed(tier), request=request, tier=tier, today=today
        )
        context: dict[str, Any] = {"filter": filterset, "today": today, "tier": tier}
        errors: list[str] = []
        per_page = self.get_paginate_by()
        page_number = _positive(request.GET.get("page"), 1)
        if per_page is None:
            errors.append(_(BAD_PAGE_SIZE).format(maximum=settings.PAGE_SIZE_MAX))
        if page_number is None:
            errors.append(_(BAD_PAGE))
        if errors or not filterset.is_valid():
            context["errors"] = errors
            return render(request, self.template_name, context, status=400)
        assert per_page is not None
        assert page_number is not None
        count_all = request.GET.get("counts") == "all"
        try:
            context["result"] = listing.listing_page(
                filterset,
                viewer=tier,
                language=get_language() or settings.LANGUAGE_CODE,
                page_number=page_number,
                per_page=per_page,
                today=today,
                count_all=count_all,
            )
        except InvalidPage as error:
            raise Http404(str(error)) from error
        context["export_query"] = listing.export_query(request.GET)
        if count_all and request.headers.get("HX-Request") == "true":
            response = render(request, self.counts_template_name, context)
        else:
            response = render(request, self.template_name, context)
        patch_vary_headers(response, ["HX-Request"])
        return response


person_list = PersonListView.as_view()


# --- Exports -----------------------------------------------------------------------------------


class Echo:
    """A file-like object whose ``write`` returns what it was given, for csv.writer."""

    def write(self, value: str) -> str:
        return value


def _export_filterset(request: HttpRequest) -> tuple[PersonListingFilter, Any, Any]:
    tier = viewer_tier(request.user)
    today = timezone.localdate()
    listing.prepare(today)
    filterset = PersonListingFilter(
        request.GET, queryset=listing.listed(tier), request=request, tier=tier, today=today
    )
    return filterset, tier, today


def export_csv(request: HttpRequest) -> HttpResponseBase:
    filterset, tier, today = _export_filterset(request)
    if not filterset.is_valid():
        errors = "\n".join(
            f"{field}: {' '.join(messages)}" for field, messages in filterset.errors.items()
        )
        return HttpResponse(errors, status=400, content_type="text/plain; charset=utf-8")
    export = listing.Export(
        filterset, viewer=tier, language=get_language() or settings.LANGUAGE_CODE, today=today
    )
    writer = csv.writer(Echo())

    def lines() -> Iterator[str]:
        yield writer.writerow(export.columns)
        for row in export.rows():
            yield writer.writerow([listing.csv_cell(row[column]) for column in export.columns])

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="persons.csv"'
    return response


def export_json(request: HttpRequest) -> HttpResponseBase:
    filterset, tier, today = _export_filterset(request)
    if not filterset.is_valid():
        return JsonResponse({"errors": filterset.errors.get_json_data()}, status=400)
    export = listing.Export(
        filterset, viewer=tier, language=get_language() or settings.LANGUAGE_CODE, today=today
    )
    encoder = DjangoJSONEncoder(ensure_ascii=False)

    def chunks() -> Iterator[str]:
        yield "["
        separator = "\n"
        for row in export.rows():
            yield separator + encoder.encode(row)
            separator = ",\n"
        yield "\n]\n"

    response = StreamingHttpResponse(chunks(), content_type="application/json; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="persons.json"'
    return response
