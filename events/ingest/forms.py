"""Forms of the import pages: a URL, files, pasted text, a feed, deciding proposals."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from events.articles.extract import MAX_BYTES
from events.models import ReleaseDeal
from prisoners.models import Country, DatePrecision, Person

from .fetch import FetchError, check_url
from .models import Feed, Proposal
from .pipeline import MAX_UPLOAD_FILES

REASON_HELP = _("Kept in the history with your name.")
PARTIAL_DATE = re.compile(r"^\d{4}(-\d{2}(-\d{2})?)?$")


def _checked_url(value: str) -> str:
    try:
        check_url(value)
    except FetchError as error:
        raise forms.ValidationError(str(error)) from error
    return value


class UrlForm(forms.Form):
    url = forms.URLField(label=_("Address of the article"), max_length=1000, assume_scheme="https")

    def clean_url(self) -> str:
        return _checked_url(self.cleaned_data["url"])


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    widget = MultipleFileInput

    def clean(self, data: Any, initial: Any = None) -> Any:
        single = super().clean
        if isinstance(data, list | tuple):
            return [single(d, initial) for d in data]
        return [single(data, initial)]


class UploadForm(forms.Form):
    documents = MultipleFileField(
        label=_("HTML or text files"),
        help_text=_("Up to 50 files; a text file may start with Title:, Date:, URL: lines."),
    )

    def clean_documents(self) -> list[Any]:
        files = self.cleaned_data["documents"]
        if len(files) > MAX_UPLOAD_FILES:
            raise forms.ValidationError(
                _("At most %(count)d files at once.") % {"count": MAX_UPLOAD_FILES}
            )
        for upload in files:
            if upload.size > MAX_BYTES:
                raise forms.ValidationError(
                    _("%(name)s is larger than %(size)d bytes.")
                    % {"name": upload.name, "size": MAX_BYTES}
                )
        return files


class PasteForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=500, required=False)
    url = forms.URLField(
        label=_("Address (if any)"), max_length=1000, required=False, assume_scheme="https"
    )
    text = forms.CharField(
        label=_("Text of the article"),
        max_length=MAX_BYTES,
        widget=forms.Textarea(attrs={"rows": 12}),
    )


class FeedForm(forms.ModelForm):
    reason = forms.CharField(label=_("Reason"), max_length=500, help_text=REASON_HELP)

    class Meta:
        model = Feed
        fields = ["title", "url", "interval_minutes", "active"]

    url = forms.URLField(label=_("feed URL"), max_length=1000, assume_scheme="https")

    def clean_url(self) -> str:
        return _checked_url(self.cleaned_data["url"])


class ReasonForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=500, help_text=REASON_HELP)


class BulkForm(forms.Form):
    ACCEPT, REJECT = "accept", "reject"
    action = forms.ChoiceField(
        choices=[(ACCEPT, _("Accept")), (REJECT, _("Reject"))], widget=forms.HiddenInput
    )
    ids = forms.TypedMultipleChoiceField(coerce=int, choices=[])
    reason = forms.CharField(label=_("Reason"), max_length=500, help_text=REASON_HELP)

    def __init__(self, *args: Any, ids: list[int], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["ids"].choices = [(pk, pk) for pk in ids]  # type: ignore[attr-defined]


class ProposalForm(forms.Form):
    """Edit a proposal, then accept it (or reject it)."""

    candidate = forms.TypedChoiceField(
        label=_("The person meant"),
        coerce=int,
        required=False,
        widget=forms.RadioSelect,
        choices=[],
    )
    person = forms.IntegerField(
        label=_("Person (number)"),
        required=False,
        min_value=1,
        help_text=_("The number of the person's record; leave empty to create the named person."),
    )
    person_name = forms.CharField(label=_("Name in the article"), max_length=200, required=False)
    date = forms.CharField(
        label=_("Date"),
        max_length=10,
        required=False,
        help_text=_("YYYY-MM-DD, or YYYY-MM, or YYYY."),
    )
    from_country = forms.ModelChoiceField(
        label=_("From country"), queryset=Country.objects.all(), required=False
    )
    to_country = forms.ModelChoiceField(
        label=_("To country"), queryset=Country.objects.all(), required=False
    )
    count = forms.IntegerField(label=_("Number of persons"), min_value=1, required=False)
    term = forms.CharField(label=_("Term"), max_length=200, required=False)
    deal = forms.ModelChoiceField(
        label=_("Release deal"),
        queryset=ReleaseDeal.objects.order_by("-announced_on"),
        required=False,
    )
    reason = forms.CharField(label=_("Reason"), max_length=500, help_text=REASON_HELP)

    def __init__(self, *args: Any, proposal: Proposal | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        people = getattr(proposal, "candidate_people", None) or []
        if people:
            self.fields["candidate"].choices = [  # type: ignore[attr-defined]
                (c.pk, f"{c.name} (#{c.pk}{f', {c.birth_date:%Y}' if c.birth_date else ''})")
                for c in people
            ]
        else:
            del self.fields["candidate"]

    @staticmethod
    def initial_for(p: Proposal) -> dict[str, Any]:
        date = ""
        if p.date:
            date = {
                DatePrecision.YEAR: p.date.strftime("%Y"),
                DatePrecision.MONTH: p.date.strftime("%Y-%m"),
            }.get(p.date_precision, p.date.isoformat())  # type: ignore[call-overload]
        return {
            "person": p.person_id,
            "person_name": p.person_name,
            "date": date,
            "from_country": p.from_country_id,
            "to_country": p.to_country_id,
            "count": p.count,
            "term": p.term,
            "deal": p.deal_id,
        }

    def clean_person(self) -> Person | None:
        pk = self.cleaned_data.get("person")
        if pk is None:
            return None
        person = Person.objects.filter(pk=pk).first()
        if person is None:
            raise forms.ValidationError(_("There is no person with this number."))
        return person

    def clean_date(self) -> tuple[dt.date | None, str]:
        from .pipeline import parse_partial_date

        value = (self.cleaned_data.get("date") or "").strip()
        if not value:
            return None, DatePrecision.UNKNOWN
        day, precision = parse_partial_date(value) if PARTIAL_DATE.match(value) else (None, "")
        if day is None:
            raise forms.ValidationError(_("Give the date as YYYY-MM-DD, YYYY-MM or YYYY."))
        return day, precision

    def changes(self) -> dict[str, Any]:
        data = self.cleaned_data
        day, precision = data["date"]
        person = data["person"]
        if person is None and data.get("candidate"):
            person = Person.objects.filter(pk=data["candidate"]).first()
        return {
            "person": person,
            "person_name": data["person_name"],
            "date": day,
            "date_precision": precision,
            "from_country": data["from_country"],
            "to_country": data["to_country"],
            "count": data["count"],
            "term": data["term"],
            "deal": data["deal"],
        }
