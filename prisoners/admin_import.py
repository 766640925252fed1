"""The admin page that imports a prisoner list from CSV (the same import as ``import_prisoners``).

Wired into ``PersonAdmin.get_urls`` as ``admin:prisoners_person_import``. Staff with the
permission to add persons upload a file, give a reason (recorded in the audit trail) and may
tick "dry run"; the page then shows what was (or would be) created, updated and left unchanged,
and every error with its line number.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.contrib import admin
from django.contrib.admin.views.decorators import staff_member_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods

from .imports import COLUMNS, person_csv_import
from .models import ExternalIdentifier, Person

PERMISSION = "prisoners.add_person"
TEMPLATE = "admin/prisoners/person/import.html"


class PersonImportForm(forms.Form):
    file = forms.FileField(
        label=_("CSV file"),
        help_text=_("UTF-8, comma or semicolon separated, with a header row."),
    )
    reason = forms.CharField(
        label=_("Reason"),
        max_length=500,
        help_text=_("Recorded with every change, e.g. 'Viasna list of 1 December 2025'."),
    )
    dry_run = forms.BooleanField(
        label=_("Dry run"),
        required=False,
        initial=True,
        help_text=_("Check the file and show what would change, without writing anything."),
    )
    id_scheme = forms.ChoiceField(
        label=_("external_id belongs to"),
        choices=ExternalIdentifier.Scheme.choices,
        initial=ExternalIdentifier.Scheme.IMPORT,
    )
    source_title = forms.CharField(
        label=_("Source title"),
        max_length=500,
        required=False,
        help_text=_("Default: the file name."),
    )
    source_url = forms.URLField(
        label=_("Source URL"),
        max_length=1000,
        assume_scheme="https",
        required=False,
        help_text=_("Where the list was published, if anywhere."),
    )


def _url(name: str, **kwargs: Any) -> str | None:
    try:
        return reverse(name, kwargs=kwargs or None)
    except NoReverseMatch:
        return None


@staff_member_required
@require_http_methods(["GET", "POST"])
def csv_import_view(request: HttpRequest) -> HttpResponse:
    """Upload form; on POST, run the import and show its report."""
    if not request.user.has_perm(PERMISSION):
        raise PermissionDenied
    report = None
    if request.method == "POST":
        form = PersonImportForm(request.POST, request.FILES)
        if form.is_valid():
            upload = form.cleaned_data["file"]
            report = person_csv_import(
                data=upload.read(),
                filename=upload.name or "upload.csv",
                reason=form.cleaned_data["reason"],
                user=request.user,
                dry_run=form.cleaned_data["dry_run"],
                id_scheme=form.cleaned_data["id_scheme"],
                source_title=form.cleaned_data["source_title"],
                source_url=form.cleaned_data["source_url"],
            )
    else:
        form = PersonImportForm()
    context = {
        **admin.site.each_context(request),
        "title": _("Import persons from a CSV file"),
        "opts": Person._meta,
        "app_list_url": _url("admin:app_list", app_label="prisoners"),
        "changelist_url": _url("admin:prisoners_person_changelist"),
        "source_url": (
            _url("admin:events_source_change", object_id=report.source_id)
            if report is not None and report.source_id
            else None
        ),
        "form": form,
        "report": report,
        "columns": COLUMNS,
        "max_rows": settings.IMPORT_MAX_ROWS,
    }
    return render(request, TEMPLATE, context)
