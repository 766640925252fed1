"""The history of one record (every change, field by field) and the revert of one change."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext_lazy as _

from prisoners.errors import ApplicationError

from .. import services
from ..forms import RevertForm
from ..history import current_display, record_changes, revert_fields
from ..records import person_of, reviewable_kinds, tracked_model_or_404
from ..roles import PUBLISH, READ, has_role, staff_view
from .review import history_url, review_url

PER_PAGE = 50

REVERTED = _("The change was reverted. The revert is recorded in the history.")
RESTORED = _("The record was restored. The restore is recorded in the history.")


def _record(app_label: str, model_name: str, pk: int) -> tuple[Any, Any]:
    model = tracked_model_or_404(app_label, model_name)
    obj = model._default_manager.filter(pk=pk).first()
    return model, obj


def _links(model: Any, obj: Any) -> dict[str, Any]:
    person = person_of(obj) if obj is not None else None
    return {
        "review_url": review_url(obj)
        if obj is not None and model._meta.model_name in reviewable_kinds()
        else "",
        "person": person if person is not None and person is not obj else None,
        "person_history_url": history_url(person) if person is not None else "",
    }


@staff_view(READ)
def history_view(request: HttpRequest, app_label: str, model_name: str, pk: int) -> HttpResponse:
    model, obj = _record(app_label, model_name, pk)
    changes = record_changes(model, pk, exists=obj is not None)
    if not changes and obj is None:
        raise Http404
    page = Paginator(list(reversed(changes)), PER_PAGE).get_page(request.GET.get("page"))
    context = {
        "model": model,
        "meta": model._meta,
        "pk": pk,
        "obj": obj,
        "page_obj": page,
        "can_revert": has_role(request.user, PUBLISH),
        **_links(model, obj),
    }
    return render(request, "staff/history.html", context)


@staff_view(PUBLISH)
def revert_view(
    request: HttpRequest, app_label: str, model_name: str, pk: int, event_id: int
) -> HttpResponse:
    model, obj = _record(app_label, model_name, pk)
    changes = record_changes(model, pk, exists=obj is not None)
    change = next((c for c in changes if c.pgh_id == event_id), None)
    if change is None:
        raise Http404
    form = RevertForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.change_revert(
                model=model,
                pk=pk,
                event_id=event_id,
                user=request.user,
                reason=form.cleaned_data["reason"],
                source=form.cleaned_data["source"],
            )
        except (ApplicationError, ValidationError) as error:
            texts = [error.message] if isinstance(error, ApplicationError) else error.messages
            for text in texts:
                form.add_error(None, text)
        else:
            messages.success(request, str(RESTORED if change.label == "delete" else REVERTED))
            return redirect(history_url(model, pk))
    rows = []
    for item in revert_fields(change) if change.revertible else []:
        current = current_display(obj, item.field) if obj is not None else ""
        rows.append(
            {
                "item": item,
                "current": current,
                "changed_since": obj is not None and current != item.new_display,
            }
        )
    context = {
        "meta": model._meta,
        "pk": pk,
        "obj": obj,
        "change": change,
        "rows": rows,
        "form": form,
        "history_url": history_url(model, pk),
        "four_eyes": services.four_eyes_enabled(),
        **_links(model, obj),
    }
    return render(request, "staff/revert.html", context)
