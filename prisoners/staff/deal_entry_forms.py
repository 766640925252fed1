"""The form of the deal-entry page (see ``deal_entry.py``): the deal, the source, the list."""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from events.models import ReleaseDeal, Source, TransferMode
from prisoners.models import Country

from .deal_entry import MAX_LINES, DealInput, country_lookup
from .forms import SourceReferenceMixin

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
REQUIRED_FOR_NEW = _("Required for a new deal.")
SLUG_TAKEN = _("A deal with this slug already exists.")
COMPLETED_BEFORE = _("The deal cannot be completed before it was announced.")
NO_SOURCE = _("Choose a source already entered, or give the title (and URL) of a new one.")
COUNTRY_UNKNOWN = _("Unknown country: “{value}”. Use a two-letter code such as UA or LT.")
DESTINATION_LINE = _("Line {number}: {error}")
NO_NAMES = _("Give at least one person: paste names or pick them from the search.")
TOO_MANY = _("At most {max} lines at once.")
NO_DATE = _("Give the release date, or the date the deal was completed.")


def _lines(text: str) -> list[str]:
    return [" ".join(line.split()) for line in text.splitlines() if line.strip()]


class DealEntryForm(SourceReferenceMixin, forms.Form):
    deal = forms.ModelChoiceField(
        ReleaseDeal.objects.order_by("-announced_on", "-pk"),
        label=_("Add to an existing deal"),
        required=False,
        empty_label=_("— no: a new deal —"),
        help_text=_("When chosen, the fields of a new deal below are not used."),
    )
    title = forms.CharField(label=_("Title"), max_length=300, required=False)
    slug = forms.SlugField(
        label=_("Slug"),
        max_length=120,
        required=False,
        help_text=_("The deal's address: /deals/<slug>/, e.g. belarus-2025-12-13."),
    )
    announced_on = forms.DateField(label=_("Announced on"), required=False, widget=DATE)
    completed_on = forms.DateField(label=_("Completed on"), required=False, widget=DATE)
    mediators = forms.CharField(
        label=_("Mediators"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("One per line: name | description (optional)."),
    )
    consideration = forms.CharField(
        label=_("Given in return"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    summary = forms.CharField(
        label=_("Summary"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    reported_total = forms.IntegerField(
        label=_("Reported number released"), required=False, min_value=0
    )
    destinations = forms.CharField(
        label=_("Reported destinations"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_(
            "One per line: country, reported number (or ?), then the onward countries, "
            "e.g. “UA 114 PL LT” and “LT 9”."
        ),
    )
    source = forms.CharField(
        label=_("Source already entered"),
        max_length=1000,
        required=False,
        help_text=_("Its number or URL. Or give a new source below."),
    )
    source_url = forms.URLField(
        label=_("New source: URL"), max_length=1000, required=False, assume_scheme="https"
    )
    source_title = forms.CharField(label=_("New source: title"), max_length=500, required=False)
    quote = forms.CharField(
        label=_("Quote (optional)"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    names = forms.CharField(
        label=_("Persons released, one per line"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 8}),
        help_text=_("Any spelling or script. “#123” names the person with that number."),
    )
    destination = forms.CharField(
        label=_("Destination of every line"),
        max_length=100,
        required=False,
        help_text=_("Country code or name, e.g. UA or LT; a line may override it."),
    )
    released_on = forms.DateField(
        label=_("Release date of every line"),
        required=False,
        widget=DATE,
        help_text=_("Empty: the date the deal was completed. A line may override it."),
    )
    mode = forms.ChoiceField(
        label=_("First leg"), choices=TransferMode.choices, initial=TransferMode.UNKNOWN
    )
    custody_country = forms.CharField(
        label=_("Held in (for new persons)"), max_length=100, initial="BY"
    )
    reason = forms.CharField(
        label=_("Reason for this change"),
        max_length=500,
        required=False,
        widget=forms.TextInput(attrs={"size": 60}),
    )
    publish = forms.BooleanField(
        label=_("Publish now (reviewers)"),
        required=False,
        help_text=_("Otherwise every record is created as a draft."),
    )
    token = forms.CharField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.deal_input: DealInput | None = None
        self.source_obj: Source | None = None
        self.destination_country: Country | None = None
        self.custody: Country | None = None
        self.name_lines: list[str] = []

    def clean_mediators(self) -> list[tuple[str, str]]:
        found = []
        for line in _lines(self.cleaned_data["mediators"]):
            name, _sep, description = line.partition("|")
            if name.strip():
                found.append((name.strip()[:200], description.strip()[:300]))
        return found

    def clean_destinations(self) -> list[tuple[Country, int | None, list[Country]]]:
        found = []
        errors = []
        for number, line in enumerate(_lines(self.cleaned_data["destinations"]), start=1):
            words = [w for w in re.split(r"[\s,;→>-]+", line) if w]
            country = country_lookup(words[0])
            if country is None:
                message = str(COUNTRY_UNKNOWN).format(value=words[0])
                errors.append(str(DESTINATION_LINE).format(number=number, error=message))
                continue
            count: int | None = None
            rest = words[1:]
            if rest and (rest[0].isdigit() or rest[0] == "?"):
                count = int(rest[0]) if rest[0].isdigit() else None
                rest = rest[1:]
            onward = []
            for word in rest:
                other = country_lookup(word)
                if other is None:
                    message = str(COUNTRY_UNKNOWN).format(value=word)
                    errors.append(str(DESTINATION_LINE).format(number=number, error=message))
                else:
                    onward.append(other)
            found.append((country, count, onward))
        if errors:
            raise forms.ValidationError(errors)
        return found

    def clean_names(self) -> str:
        lines = _lines(self.cleaned_data["names"])
        if not lines:
            raise forms.ValidationError(NO_NAMES)
        if len(lines) > MAX_LINES:
            raise forms.ValidationError(str(TOO_MANY).format(max=MAX_LINES))
        self.name_lines = lines
        return str(self.cleaned_data["names"])

    def clean_destination(self) -> str:
        value = self.cleaned_data["destination"].strip()
        if value:
            self.destination_country = country_lookup(value)
            if self.destination_country is None:
                raise forms.ValidationError(str(COUNTRY_UNKNOWN).format(value=value))
        return value

    def clean_custody_country(self) -> str:
        value = self.cleaned_data["custody_country"].strip()
        self.custody = country_lookup(value)
        if self.custody is None:
            raise forms.ValidationError(str(COUNTRY_UNKNOWN).format(value=value))
        return value

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        deal = data.get("deal")
        if deal is None:
            for name in ("title", "slug", "announced_on"):
                if name in data and not data[name]:
                    self.add_error(name, REQUIRED_FOR_NEW)
            slug = data.get("slug")
            if slug and ReleaseDeal.objects.filter(slug=slug).exists():
                self.add_error("slug", SLUG_TAKEN)
            announced, completed = data.get("announced_on"), data.get("completed_on")
            if announced and completed and completed < announced:
                self.add_error("completed_on", COMPLETED_BEFORE)
        if "source" in data and self.source_obj is None and not data.get("source_title"):
            self.add_error("source", NO_SOURCE)
        if not data.get("released_on"):
            default = (
                (deal.completed_on or deal.announced_on)
                if deal is not None
                else (data.get("completed_on") or data.get("announced_on"))
            )
            if default is not None:
                data["released_on"] = default
            elif "released_on" in data and "announced_on" not in self.errors:
                self.add_error("released_on", NO_DATE)
        if not self.errors:
            self.deal_input = DealInput(
                title=data["title"],
                slug=data["slug"],
                announced_on=data["announced_on"],
                completed_on=data["completed_on"],
                summary=data["summary"],
                consideration=data["consideration"],
                reported_total=data["reported_total"],
                mediators=data["mediators"],
                destinations=data["destinations"],
                deal=deal,
            )
        return data
