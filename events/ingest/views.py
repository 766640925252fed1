"""Staff pages of the import (under ``/staff/imports/`` and ``/staff/proposals/``).

Editors, reviewers and admins submit articles and decide proposals; admins manage feeds. Every
page works without JavaScript; with htmx the run page's progress bar refreshes itself.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from events.models import Death, DetentionEpisode, Release
from prisoners.models import Person
from prisoners.staff.roles import MANAGE, READ, has_role, staff_view

from . import pipeline
from .forms import BulkForm, FeedForm, PasteForm, ProposalForm, ReasonForm, UploadForm, UrlForm
from .models import Article, Feed, ImportRun, Proposal
from .review import ReviewError, proposal_accept, proposal_reject, proposals_decide

PAGE_SIZE = 50
RUNS_SHOWN = 20
STARTED = _("Import started: follow its progress here.")
FEED_SAVED = _("Feed saved: it is polled every {minutes} minutes.")
FEED_DELETED = _("Feed deleted.")
POLL_STARTED = _("The feed is being polled now.")
ACCEPTED = _("Accepted: {proposal}.")
REJECTED = _("Rejected: {proposal}. It will not be proposed again.")
BULK_DONE = _("{accepted} accepted, {rejected} rejected.")
BULK_NONE = _("Tick at least one proposal.")
RECORDED_RELEASE = _("released on {day}")
RECORDED_HELD = _("held since {day}")
RECORDED_DEATH = _("died on {day}")


@staff_view(READ)
def imports_view(request: HttpRequest) -> HttpResponse:
    url_form = UrlForm(prefix="url")
    upload_form = UploadForm(prefix="upload")
    paste_form = PasteForm(prefix="paste")
    if request.method == "POST":
        action = request.POST.get("action")
        run = None
        if action == "url":
            url_form = UrlForm(request.POST, prefix="url")
            if url_form.is_valid():
                run = pipeline.run_for_url(url=url_form.cleaned_data["url"], user=request.user)
        elif action == "upload":
            upload_form = UploadForm(request.POST, request.FILES, prefix="upload")
            if upload_form.is_valid():
                files = [(f.name, f.read()) for f in upload_form.cleaned_data["documents"]]
                run = pipeline.run_for_files(files=files, user=request.user)
        elif action == "paste":
            paste_form = PasteForm(request.POST, prefix="paste")
            if paste_form.is_valid():
                data = paste_form.cleaned_data
                run = pipeline.run_for_text(
                    text=data["text"], title=data["title"], url=data["url"], user=request.user
                )
        if run is not None:
            messages.success(request, STARTED)
            return redirect("staff:import-run", pk=run.pk)
    runs = ImportRun.objects.select_related("feed", "started_by")[:RUNS_SHOWN]
    return render(
        request,
        "staff/imports/imports.html",
        {
            "url_form": url_form,
            "upload_form": upload_form,
            "paste_form": paste_form,
            "runs": runs,
            "feeds": Feed.objects.all(),
            "pending": Proposal.objects.filter(status=Proposal.Status.PENDING).count(),
        },
    )


def _run_context(run: ImportRun) -> dict[str, Any]:
    items = run.items.select_related("article").order_by("position", "pk")
    return {"run": run, "items": items}


@staff_view(READ)
def run_view(request: HttpRequest, pk: int) -> HttpResponse:
    run = get_object_or_404(ImportRun.objects.select_related("feed", "started_by"), pk=pk)
    return render(request, "staff/imports/run.html", _run_context(run))


@staff_view(READ)
def run_progress_view(request: HttpRequest, pk: int) -> HttpResponse:
    run = get_object_or_404(ImportRun.objects.select_related("feed", "started_by"), pk=pk)
    return render(request, "staff/imports/_progress.html", _run_context(run))


def _feeds_page(request: HttpRequest, form: FeedForm | None) -> HttpResponse:
    feeds = Feed.objects.annotate(run_count=Count("runs")).order_by("title")
    return render(request, "staff/imports/feeds.html", {"form": form, "feeds": feeds})


@staff_view(READ)
def feeds_view(request: HttpRequest) -> HttpResponse:
    return _feeds_page(request, FeedForm() if has_role(request.user, MANAGE) else None)


@staff_view(MANAGE)
def feed_create_view(request: HttpRequest) -> HttpResponse:
    form = FeedForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        feed = pipeline.feed_save(
            feed=form.save(commit=False), user=request.user, reason=form.cleaned_data["reason"]
        )
        messages.success(request, str(FEED_SAVED).format(minutes=feed.interval_minutes))
        return redirect("staff:import-feeds")
    return _feeds_page(request, form)


@staff_view(MANAGE)
def feed_view(request: HttpRequest, pk: int) -> HttpResponse:
    feed = get_object_or_404(Feed, pk=pk)
    form = FeedForm(request.POST or None, instance=feed)
    delete_form = ReasonForm(prefix="delete")
    if request.method == "POST":
        if request.POST.get("action") == "delete":
            delete_form = ReasonForm(request.POST, prefix="delete")
            if delete_form.is_valid():
                pipeline.feed_delete(
                    feed=feed, user=request.user, reason=delete_form.cleaned_data["reason"]
                )
                messages.success(request, FEED_DELETED)
                return redirect("staff:import-feeds")
        elif form.is_valid():
            feed = pipeline.feed_save(
                feed=form.save(commit=False), user=request.user, reason=form.cleaned_data["reason"]
            )
            messages.success(request, str(FEED_SAVED).format(minutes=feed.interval_minutes))
            return redirect("staff:import-feeds")
    runs = feed.runs.order_by("-created_at")[:RUNS_SHOWN]
    return render(
        request,
        "staff/imports/feed.html",
        {"feed": feed, "form": form, "delete_form": delete_form, "runs": runs},
    )


@staff_view(READ)
def feed_poll_view(request: HttpRequest, pk: int) -> HttpResponse:
    """GET asks for confirmation; POST enqueues a poll now (the per-feed lock keeps a poll
    that is already running from running twice)."""
    feed = get_object_or_404(Feed, pk=pk)
    if request.method != "POST":
        return render(request, "staff/imports/feed_poll.html", {"feed": feed})
    run = pipeline.run_for_feed(feed=feed, user=request.user)
    messages.success(request, POLL_STARTED)
    return redirect("staff:import-run", pk=run.pk)


@staff_view(READ)
def article_view(request: HttpRequest, pk: int) -> HttpResponse:
    article = get_object_or_404(Article.objects.select_related("feed", "source"), pk=pk)
    root = article.near_duplicate_of_id or article.pk
    group = (
        Article.objects.filter(Q(pk=root) | Q(near_duplicate_of_id=root))
        .exclude(pk=article.pk)
        .only("id", "title", "url", "canonical_url", "publisher", "created_at")
    )
    related = ("person", "deal", "from_country", "to_country")
    ordered = article.proposals.select_related(*related).order_by("position", "pk")
    proposals = _with_people(list(ordered))
    return render(
        request,
        "staff/imports/article.html",
        {"article": article, "group": group, "proposals": proposals},
    )


def _with_people(proposals: list[Proposal]) -> list[Proposal]:
    """Attach ``candidate_people`` and ``recorded`` (what the records already say of the
    person: their releases, their open detention, their death) to each proposal, in a fixed
    number of queries for the page."""
    ids = {pk for p in proposals for pk in p.candidates}
    people = {p.pk: p for p in Person.objects.filter(pk__in=ids).only("id", "name", "birth_date")}
    persons = {p.person_id for p in proposals if p.person_id}
    releases: dict[int, list[Any]] = {}
    for person_id, day in Release.objects.filter(episode__person_id__in=persons).values_list(
        "episode__person_id", "released_on"
    ):
        releases.setdefault(person_id, []).append(day)
    held = dict(
        DetentionEpisode.objects.filter(person_id__in=persons, ended_on__isnull=True).values_list(
            "person_id", "arrested_on"
        )
    )
    deaths = dict(Death.objects.filter(person_id__in=persons).values_list("person_id", "died_on"))
    for p in proposals:
        p.candidate_people = [people[pk] for pk in p.candidates if pk in people]  # type: ignore[attr-defined]
        recorded = []
        if p.person_id in deaths:
            recorded.append(str(RECORDED_DEATH).format(day=deaths[p.person_id]))
        for day in sorted(releases.get(p.person_id or 0, [])):
            recorded.append(str(RECORDED_RELEASE).format(day=day))
        if p.person_id in held:
            recorded.append(str(RECORDED_HELD).format(day=held[p.person_id] or "?"))
        p.recorded = recorded  # type: ignore[attr-defined]
    return proposals


def _queue(request: HttpRequest) -> tuple[Any, dict[str, str]]:
    status = request.GET.get("status") or Proposal.Status.PENDING
    if status not in Proposal.Status.values:
        status = Proposal.Status.PENDING
    filters = {"status": status}
    queryset = Proposal.objects.filter(status=status)
    kind = request.GET.get("kind", "")
    if kind in Proposal.Kind.values:
        queryset = queryset.filter(kind=kind)
        filters["kind"] = kind
    for key, field in (("run", "article__items__run_id"), ("article", "article_id")):
        value = request.GET.get(key, "")
        if value.isdigit():
            queryset = queryset.filter(**{field: int(value)})
            filters[key] = value
    queryset = queryset.select_related(
        "article", "person", "deal", "from_country", "to_country"
    ).order_by("-article__created_at", "article_id", "position", "pk")
    return queryset.distinct() if "run" in filters else queryset, filters


@staff_view(READ)
def proposals_view(request: HttpRequest) -> HttpResponse:
    queryset, filters = _queue(request)
    page = Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))
    rows = _with_people(list(page.object_list))
    form = BulkForm(ids=[p.pk for p in rows])
    if request.method == "POST":
        posted_ids = [int(v) for v in request.POST.getlist("ids") if v.isdigit()]
        form = BulkForm(request.POST, ids=posted_ids)
        if not posted_ids:
            form.add_error(None, BULK_NONE)
        elif form.is_valid():
            outcome = proposals_decide(
                ids=form.cleaned_data["ids"],
                accept=form.cleaned_data["action"] == BulkForm.ACCEPT,
                user=request.user,
                reason=form.cleaned_data["reason"],
            )
            messages.success(
                request,
                str(BULK_DONE).format(
                    accepted=len(outcome.accepted), rejected=len(outcome.rejected)
                ),
            )
            for pk, error in outcome.errors.items():
                messages.error(request, f"#{pk}: {error}")
            return redirect(request.get_full_path())
    query = "&".join(f"{k}={v}" for k, v in filters.items())
    return render(
        request,
        "staff/imports/proposals.html",
        {
            "page_obj": page,
            "rows": rows,
            "form": form,
            "filters": filters,
            "query": query,
            "kinds": Proposal.Kind.choices,
            "statuses": Proposal.Status.choices,
        },
    )


@staff_view(READ)
def proposal_view(request: HttpRequest, pk: int) -> HttpResponse:
    proposal = get_object_or_404(
        Proposal.objects.select_related(
            "article", "person", "deal", "from_country", "to_country", "decided_by"
        ),
        pk=pk,
    )
    _with_people([proposal])
    form = ProposalForm(initial=ProposalForm.initial_for(proposal), proposal=proposal)
    if request.method == "POST":
        action = request.POST.get("action")
        form = ProposalForm(request.POST, proposal=proposal)
        if action == "reject":
            form.fields["reason"].required = True
            reason = request.POST.get("reason", "").strip()
            try:
                proposal_reject(proposal_id=proposal.pk, user=request.user, reason=reason)
            except ReviewError as error:
                form.is_valid()
                form.add_error(None, str(error))
            else:
                messages.success(request, str(REJECTED).format(proposal=proposal))
                return redirect(_next(request))
        elif form.is_valid():
            try:
                proposal = proposal_accept(
                    proposal_id=proposal.pk,
                    user=request.user,
                    reason=form.cleaned_data["reason"],
                    changes=form.changes(),
                )
            except ReviewError as error:
                form.add_error(None, str(error))
            else:
                messages.success(request, str(ACCEPTED).format(proposal=proposal))
                return redirect(_next(request))
    return render(
        request,
        "staff/imports/proposal.html",
        {"proposal": proposal, "form": form, "result": proposal.result},
    )


def _next(request: HttpRequest) -> str:
    target = request.POST.get("next", "")
    if target.startswith("/staff/") and "//" not in target:
        return target
    return reverse("staff:proposals")
