"""Review and publication: lists of records per kind, one record, and its visibility form."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db import models, transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from events.models import Citation, Claim, Source
from events.services import claim_accept, claim_add, source_get_or_create
from prisoners.audit import audit_context
from prisoners.errors import ApplicationError
from prisoners.models import Person, Visibility

from .. import services
from ..forms import ClaimAcceptForm, ClaimForm, ReviewFilterForm, VisibilityForm
from ..history import (
    current_display,
    event_model,
    last_content_editor,
    record_changes,
    tracked_fields,
)
from ..records import Kind, kind_or_404, person_of, reviewable_kinds
from ..roles import PUBLISH, READ, has_role, staff_view
from ..selectors import review_list

PER_PAGE = 50
RECENT_CHANGES = 5

VISIBILITY_SET = _("Visibility of {record} set to “{visibility}”.")
NAMES_TOO = _("{count} name variants changed with it.")
CLAIM_ADDED = _("Claim about “{field}” added.")
CLAIM_ACCEPTED = _("Claim about “{field}” accepted: the record now says “{value}”.")


def history_url(obj: models.Model | type[models.Model], pk: Any = None) -> str:
    meta = obj._meta
    return reverse(
        "staff:history",
        args=[meta.app_label, meta.model_name, pk if pk is not None else obj.pk],
    )


def review_url(obj: models.Model) -> str:
    return reverse("staff:review-detail", args=[obj._meta.model_name, obj.pk])


@staff_view(READ)
def review_list_view(request: HttpRequest, kind: str) -> HttpResponse:
    record_kind = kind_or_404(kind)
    form = ReviewFilterForm(request.GET or None)
    filters: dict[str, Any] = {}
    if form.is_valid():
        filters = {
            "visibility": form.cleaned_data["visibility"],
            "unsourced": form.cleaned_data["unsourced"],
            "query": form.cleaned_data["q"],
        }
    page = Paginator(review_list(kind=record_kind, **filters), PER_PAGE).get_page(
        request.GET.get("page")
    )
    rows = [
        {
            "obj": obj,
            "person": person_of(obj) if record_kind.person_path else None,
            "review_url": review_url(obj),
            "history_url": history_url(obj),
        }
        for obj in page.object_list
    ]
    return render(
        request,
        "staff/review_list.html",
        {
            "kind": record_kind,
            "kinds": reviewable_kinds().values(),
            "form": form,
            "page_obj": page,
            "rows": rows,
        },
    )


def _fields(obj: models.Model) -> list[tuple[str, str]]:
    return [(str(f.verbose_name), current_display(obj, f)) for f in tracked_fields(type(obj))]


def _person_records(person: Person) -> list[dict[str, Any]]:
    """The records of a person, per kind, with links (shown on the person's page)."""
    groups = []
    for kind in reviewable_kinds().values():
        if not kind.person_path:
            continue
        records = list(
            kind.queryset().filter(**{kind.person_path: person}).order_by("pk")[:PER_PAGE]
        )
        if records:
            groups.append(
                {
                    "kind": kind,
                    "rows": [
                        {"obj": r, "review_url": review_url(r), "history_url": history_url(r)}
                        for r in records
                    ],
                }
            )
    return groups


def _record_context(request: HttpRequest, kind: Kind, obj: models.Model) -> dict[str, Any]:
    person = person_of(obj)
    editor_id = last_content_editor(type(obj), obj.pk)
    changes = record_changes(type(obj), obj.pk, exists=True)
    return {
        "kind": kind,
        "obj": obj,
        "person": person if person is not obj else None,
        "fields": _fields(obj),
        "citations": Citation.objects.for_object(obj).select_related("source").order_by("pk"),
        "recent_changes": list(reversed(changes))[:RECENT_CHANGES],
        "history_url": history_url(obj),
        "visibility_url": reverse("staff:review-visibility", args=[kind.slug, obj.pk]),
        "can_publish": has_role(request.user, PUBLISH),
        "four_eyes": services.four_eyes_enabled(),
        "last_editor_is_me": editor_id is not None and editor_id == request.user.pk,
    }


def _claim_groups(obj: models.Model) -> list[dict[str, Any]]:
    """The claims about the record, per field (in the model's field order), side by side: the
    accepted one first, each with who entered it and when."""
    claims = list(Claim.objects.for_object(obj).select_related("source"))
    if not claims:
        return []
    inserts = (
        event_model(Claim)
        .objects.filter(pgh_obj_id__in=[c.pk for c in claims], pgh_label="insert")
        .select_related("pgh_context")
    )
    added_by = {
        e.pgh_obj_id: (e.pgh_context.metadata.get("username", "") if e.pgh_context_id else "")
        for e in inserts
    }
    fields = {f.name: f for f in type(obj)._meta.concrete_fields}
    groups: dict[str, dict[str, Any]] = {}
    for claim in claims:
        claim.added_by = added_by.get(claim.pk, "")  # type: ignore[attr-defined]
        group = groups.get(claim.field_name)
        if group is None:
            field = fields.get(claim.field_name)
            group = groups[claim.field_name] = {
                "field_name": claim.field_name,
                "name": str(field.verbose_name) if field else claim.field_name,
                "current": current_display(obj, field) if field else "",
                "claims": [],
            }
        group["claims"].append(claim)
    order = list(fields)
    return sorted(
        groups.values(),
        key=lambda g: order.index(g["field_name"]) if g["field_name"] in order else len(order),
    )


def _detail(
    request: HttpRequest,
    kind: Kind,
    obj: models.Model,
    *,
    claim_form: ClaimForm | None = None,
    accept_form: ClaimAcceptForm | None = None,
) -> HttpResponse:
    context = _record_context(request, kind, obj)
    if isinstance(obj, Person):
        context["person_records"] = _person_records(obj)
    context["claim_groups"] = _claim_groups(obj)
    context["claim_form"] = claim_form or ClaimForm(model=type(obj))
    context["accept_form"] = accept_form
    context["claim_add_url"] = reverse("staff:review-claim-add", args=[kind.slug, obj.pk])
    context["claim_accept_url"] = reverse("staff:review-claim-accept", args=[kind.slug, obj.pk])
    return render(request, "staff/review_detail.html", context)


def _error_messages(error: ApplicationError | ValidationError) -> list[str]:
    message = error.message if isinstance(error, ApplicationError) else error.messages
    return [message] if isinstance(message, str) else [str(m) for m in message]


@staff_view(READ)
def review_detail_view(request: HttpRequest, kind: str, pk: int) -> HttpResponse:
    record_kind = kind_or_404(kind)
    obj = get_object_or_404(record_kind.queryset(), pk=pk)
    return _detail(request, record_kind, obj)


@staff_view(READ)
def claim_add_view(request: HttpRequest, kind: str, pk: int) -> HttpResponse:
    """Add what a source says a field's value is; the record is not changed until a reviewer
    accepts a claim."""
    record_kind = kind_or_404(kind)
    obj = get_object_or_404(record_kind.queryset(), pk=pk)
    form = ClaimForm(request.POST if request.method == "POST" else None, model=type(obj))
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            with transaction.atomic():
                source: Source | None = data["source"]
                if source is None:
                    with audit_context(user=request.user, reason=data["reason"]):
                        source = source_get_or_create(
                            title=data["new_source_title"].strip(),
                            url=data["new_source_url"],
                            kind=Source.Kind.OTHER,
                            visibility=Visibility.DRAFT,
                        )
                with audit_context(user=request.user, reason=data["reason"], source=source):
                    claim_add(
                        obj=obj,
                        field_name=data["field_name"],
                        value=data["value"],
                        source=source,
                        quote=data["quote"].strip(),
                    )
        except (ApplicationError, ValidationError) as error:
            for text in _error_messages(error):
                form.add_error(None, text)
        else:
            label = form.model_fields[data["field_name"]].verbose_name
            messages.success(request, str(CLAIM_ADDED).format(field=label))
            return redirect(review_url(obj) + "#claims")
    return _detail(request, record_kind, obj, claim_form=form)


@staff_view(PUBLISH)
def claim_accept_view(request: HttpRequest, kind: str, pk: int) -> HttpResponse:
    """Accept one claim: the record takes its value; the other claims stay beside it."""
    record_kind = kind_or_404(kind)
    obj = get_object_or_404(record_kind.queryset(), pk=pk)
    form = ClaimAcceptForm(
        request.POST if request.method == "POST" else None,
        claims=Claim.objects.for_object(obj).select_related("source", "content_type"),
    )
    if request.method == "POST" and form.is_valid():
        claim: Claim = form.cleaned_data["claim"]
        try:
            with audit_context(
                user=request.user, reason=form.cleaned_data["reason"], source=claim.source
            ):
                claim_accept(claim=claim)
        except (ApplicationError, ValidationError) as error:
            for text in _error_messages(error):
                form.add_error(None, text)
        else:
            field = type(obj)._meta.get_field(claim.field_name)
            messages.success(
                request,
                str(CLAIM_ACCEPTED).format(field=field.verbose_name, value=claim.value),
            )
            return redirect(review_url(obj) + "#claims")
    return _detail(request, record_kind, obj, accept_form=form)


@staff_view(PUBLISH)
def visibility_view(request: HttpRequest, kind: str, pk: int) -> HttpResponse:
    record_kind = kind_or_404(kind)
    obj = get_object_or_404(record_kind.queryset(), pk=pk)
    is_person = isinstance(obj, Person)
    current = str(getattr(obj, "visibility", ""))
    form = VisibilityForm(request.POST or None, person=is_person, current=current)
    if request.method == "POST" and form.is_valid():
        try:
            changed = services.record_visibility_set(
                obj=obj,
                visibility=form.cleaned_data["visibility"],
                user=request.user,
                reason=form.cleaned_data["reason"],
                source=form.cleaned_data["source"],
                with_names=bool(form.cleaned_data.get("with_names")),
            )
        except (ApplicationError, ValidationError) as error:
            message = error.message if isinstance(error, ApplicationError) else error.messages
            for text in [message] if isinstance(message, str) else message:
                form.add_error(None, text)
        else:
            label = Visibility(form.cleaned_data["visibility"]).label
            messages.success(request, str(VISIBILITY_SET).format(record=obj, visibility=label))
            if len(changed) > 1:
                messages.info(request, str(NAMES_TOO).format(count=len(changed) - 1))
            return redirect(review_url(obj))
    context = _record_context(request, record_kind, obj)
    context["form"] = form
    if is_person:
        assert isinstance(obj, Person)
        context["names_to_change"] = obj.name_variants.count()
    return render(request, "staff/visibility_form.html", context)
