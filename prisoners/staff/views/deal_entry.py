"""A release deal in one go (``/staff/deals/new/``): enter, preview the matches, confirm.

One page, every step a POST of the whole form, so nothing typed is lost: ``search`` looks up
persons to pick (``add`` puts ``#id`` lines in the list), ``preview`` matches every line and
shows the decisions to take, ``confirm`` writes it all in one transaction
(``deal_entry.deal_entry_save``). Works without JavaScript; with htmx the search answers while
typing. A one-time token makes a second confirm of the same form write nothing.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from events.models import ReleaseDeal
from prisoners.models import Country
from prisoners.search import person_search

from ..deal_entry import (
    AMBIGUOUS,
    DROP,
    MATCHED,
    NEW,
    DealEntryError,
    Line,
    country_lookup,
    deal_entry_save,
    match_lines,
)
from ..deal_entry_forms import COUNTRY_UNKNOWN, DealEntryForm
from ..roles import PUBLISH, READ, has_role, staff_view

SEARCH_SIZE = 10
DONE_KEY = "staff_deal_entry_done"  # token -> deal id, in the session
KEEP_TOKENS = 20
DECIDE = _("Decide: pick one of the persons, create a new draft person, or drop the line.")
DATE_BAD = _("Give the date as YYYY-MM-DD.")
NO_DESTINATION = _("Give the destination (for every line, or for this one).")
PUBLISH_DENIED = _("Only reviewers may publish: untick “Publish now”.")
FIX_LINES = _("Some lines need attention: see below. Nothing was saved.")
SAVED = _("Saved: {deal}, {count} persons released.")
ALREADY = _("This form was already saved: nothing was written again.")


def _row_values(request: HttpRequest, lines_text: list[str]) -> dict[str, dict[int, Any]]:
    """The decisions and overrides posted for each line, kept only while its text is the same."""
    post = request.POST
    values: dict[str, dict[int, Any]] = {"choice": {}, "dest": {}, "date": {}}
    for number, text in enumerate(lines_text, start=1):
        if post.get(f"line-{number}-text") != text:
            continue
        for key in values:
            values[key][number] = post.get(f"line-{number}-{key}", "").strip()
    return values


def _lines(form: DealEntryForm, request: HttpRequest) -> list[Line]:
    texts = form.name_lines
    posted = _row_values(request, texts)
    destinations: dict[int, Country | None] = {}
    dates: dict[int, dt.date | None] = {}
    problems: dict[int, list[str]] = {}
    for number in range(1, len(texts) + 1):
        dest_text = posted["dest"].get(number, "")
        destinations[number] = form.destination_country
        if dest_text:
            destinations[number] = country_lookup(dest_text)
            if destinations[number] is None:
                problems.setdefault(number, []).append(str(COUNTRY_UNKNOWN).format(value=dest_text))
        date_text = posted["date"].get(number, "")
        dates[number] = form.cleaned_data.get("released_on")
        if date_text:
            try:
                dates[number] = dt.date.fromisoformat(date_text)
            except ValueError:
                dates[number] = None
                problems.setdefault(number, []).append(str(DATE_BAD))
    lines = match_lines(
        texts, request.user, choices=posted["choice"], destinations=destinations, dates=dates
    )
    for line in lines:
        line.errors.extend(problems.get(line.number, []))
        if line.dropped:
            continue
        if not line.resolved and not line.errors:
            line.errors.append(str(DECIDE))
        if line.destination is None and line.number not in problems:
            line.errors.append(str(NO_DESTINATION))
    # Remember what was shown, so that the page re-shows the overrides as typed.
    for line in lines:
        line.posted = {key: posted[key].get(line.number, "") for key in posted}
    return lines


def _context(
    request: HttpRequest, form: DealEntryForm, lines: list[Line] | None, **extra: Any
) -> dict[str, Any]:
    query = request.POST.get("q", "") if request.method == "POST" else request.GET.get("q", "")
    hits = []
    if query.strip():
        hits = person_search(
            query=query, viewer=request.user, page_size=SEARCH_SIZE, with_status=False
        ).hits
    return {
        "form": form,
        "lines": lines,
        "query": query,
        "hits": hits,
        "can_publish": has_role(request.user, PUBLISH),
        "MATCHED": MATCHED,
        "AMBIGUOUS": AMBIGUOUS,
        "NEW": NEW,
        "DROP": DROP,
        **extra,
    }


def _render(request: HttpRequest, context: dict[str, Any]) -> HttpResponse:
    if request.headers.get("HX-Request") and request.GET.get("q") is not None:
        return render(request, "staff/deal_entry_search.html", context)
    return render(request, "staff/deal_entry.html", context)


@staff_view(READ)
def deal_entry_view(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        initial: dict[str, Any] = {"token": uuid.uuid4().hex}
        deal_id = request.GET.get("deal", "")
        if deal_id.isdigit() and ReleaseDeal.objects.filter(pk=int(deal_id)).exists():
            initial["deal"] = int(deal_id)
        return _render(request, _context(request, DealEntryForm(initial=initial), None))

    action = request.POST.get("action", "preview")
    data = request.POST.copy()
    if not data.get("token"):
        data["token"] = uuid.uuid4().hex
    added = request.POST.get("add", "")
    if added.isdigit():
        names = data.get("names", "").rstrip()
        data["names"] = f"{names}\n#{added}".lstrip()
        action = "add"
    form = DealEntryForm(data)
    if action in ("search", "add"):
        # Only looking up persons: keep everything (the lines' decisions too), no form errors.
        form.is_valid()
        lines = _lines(form, request) if form.name_lines else None
        return _render(request, _context(request, form, lines, quiet=True))

    done = request.session.get(DONE_KEY, {})
    token = data["token"]
    if action == "confirm" and token in done:
        deal = ReleaseDeal.objects.filter(pk=done[token]).first()
        if deal is not None:
            messages.info(request, ALREADY)
            return redirect(reverse("staff:review-detail", args=["releasedeal", deal.pk]))

    valid = form.is_valid()
    lines = _lines(form, request) if form.name_lines else None
    if valid and form.cleaned_data["publish"] and not has_role(request.user, PUBLISH):
        form.add_error("publish", PUBLISH_DENIED)
        valid = False
    lines_ok = lines is not None and not any(line.errors for line in lines if not line.dropped)
    if action != "confirm" or not valid or not lines_ok:
        if action == "confirm" and valid and not lines_ok:
            form.add_error(None, FIX_LINES)
        ready = valid and lines_ok
        return _render(request, _context(request, form, lines, ready=ready))

    assert lines is not None
    assert form.deal_input is not None
    assert form.custody is not None
    try:
        saved = deal_entry_save(
            deal_input=form.deal_input,
            lines=lines,
            source=form.source_obj,
            new_source=(form.cleaned_data["source_url"], form.cleaned_data["source_title"]),
            quote=form.cleaned_data["quote"],
            user=request.user,
            reason=form.cleaned_data["reason"],
            publish=form.cleaned_data["publish"],
            mode=form.cleaned_data["mode"],
            new_person_country=form.custody,
        )
    except DealEntryError as error:
        for message in error.errors:
            form.add_error(None, message)
        for line in lines:
            line.errors.extend(error.line_errors.get(line.number, []))
        if error.line_errors:
            form.add_error(None, FIX_LINES)
        return _render(request, _context(request, form, lines, ready=False))
    done[token] = saved.deal.pk
    request.session[DONE_KEY] = dict(list(done.items())[-KEEP_TOKENS:])
    messages.success(request, str(SAVED).format(deal=saved.deal, count=len(saved.releases)))
    return redirect(reverse("staff:review-detail", args=["releasedeal", saved.deal.pk]))
