"""Forms of the entry pages (see ``entry.py``).

Every form carries the source (one already entered, by number or URL, or a new one by URL and
title), an optional quote, the reason for the history and a one-time token. The fact forms are
model forms for their labels, widgets and choices; the model's own validation runs in the
services, whose refusals come back to the fields (``EntryError``).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import Any

from django import forms
from django.db import models
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from events.models import (
    Charge,
    Citation,
    CourtDecision,
    CriminalArticle,
    CustodyPlacement,
    DetentionEpisode,
    IncommunicadoPeriod,
    Release,
    ReleaseDeal,
    Reliability,
    Source,
    Transfer,
)
from prisoners.models import Country, DatePrecision, Person, Place

from .entry import VALUE_UNCHANGED, VariantChoice, editable_fields, variants_offered
from .forms import SourceReferenceMixin
from .history import current_display

HELD_IN = "BY"  # the country an episode is in unless the editor says otherwise
DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")

SOURCE_MISSING = _(
    "Give a source: pick one already entered, or give the URL and title of a new one."
)
SOURCE_BOTH = _("Give either a source already entered or a new one, not both.")
SOURCE_TITLE_MISSING = _("Give the title of the new source.")
SOURCE_URL_MISSING = _("Give the URL of the new source.")
PRECISION_NEEDED = _("A date is given: choose how precise it is.")
NAME_MISSING = _("Give the name, in Latin or Cyrillic script.")
NOT_CYRILLIC = _("Write this name in Cyrillic script.")
MAX_NAME = 200
NAME_TOO_LONG = _("A spelling is at most {max} characters long.")
TERM_MISSING = _("Give the term (years, months, days) or describe it as reported.")
MONTHS_MAX = _("At most 11 months: count whole years as years.")
DEAL_KIND = _("A release in a deal is of the kind “Deal or exchange” or “Pardon”.")
ENDS_BEFORE = _("The end cannot be before the start.")
NO_LEGS = _("Give at least one leg.")
LEG_SAME = _("Leg {number}: the countries from and to must differ.")
LEG_GAP = _("Leg {number} starts in {country}, but the leg before ends in {previous}.")
MAX_LEGS = 20
LEG_ORDER = _("Leg {number} is dated before the leg before it.")


def _date_widget(field: models.Field[Any, Any], **kwargs: Any) -> forms.Field | None:
    if isinstance(field, models.DateField):
        kwargs["widget"] = DATE
    return field.formfield(**kwargs)


class SourceFields(SourceReferenceMixin, forms.Form):
    """The source, quote, reason and token of every entry form."""

    source = forms.CharField(
        label=_("Source already entered"),
        max_length=1000,
        required=False,
        help_text=_("Its number or URL; find it with the search above. Or give a new source."),
    )
    source_url = forms.URLField(
        label=_("New source: URL"), max_length=1000, required=False, assume_scheme="https"
    )
    source_title = forms.CharField(label=_("New source: title"), max_length=500, required=False)
    source_kind = forms.ChoiceField(
        label=capfirst(Source._meta.get_field("kind").verbose_name),
        choices=Source.Kind.choices,
        initial=Source.Kind.ARTICLE,
        required=False,
    )
    quote = forms.CharField(
        label=_("Quote (optional)"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    reliability = forms.ChoiceField(
        label=capfirst(Citation._meta.get_field("reliability").verbose_name),
        choices=Reliability.choices,
        initial=Reliability.REPORTED,
        required=False,
    )
    reason = forms.CharField(
        label=_("Reason for this change"),
        max_length=500,
        required=False,
        help_text=_(
            "Recorded in the history with your name, e.g. 'Confirmed by the family on 3 May'."
        ),
        widget=forms.TextInput(attrs={"size": 60}),
    )
    token = forms.CharField(widget=forms.HiddenInput, required=False)

    SOURCE_FIELDS = ("source", "source_url", "source_title", "source_kind", "quote", "reliability")
    # (date field, precision field) pairs: a partial date is stored on the first day of its
    # period; no date means an unknown precision.
    PRECISIONS: tuple[tuple[str, str], ...] = ()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.source_obj: Source | None = None

    def fact_fields(self) -> list[forms.BoundField]:
        hidden = {*self.SOURCE_FIELDS, "reason", "token"}
        return [self[name] for name in self.fields if name not in hidden]

    def source_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in self.SOURCE_FIELDS]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if "source" in data:
            url = data.get("source_url", "")
            title = data.get("source_title", "").strip()
            if self.source_obj is not None and (url or title):
                self.add_error(None, SOURCE_BOTH)
            elif self.source_obj is None:
                if not url and not title:
                    self.add_error("source", SOURCE_MISSING)
                elif not title:
                    self.add_error("source_title", SOURCE_TITLE_MISSING)
                elif not url and "source_url" not in self.errors:
                    self.add_error("source_url", SOURCE_URL_MISSING)
        if not data.get("source_kind"):
            data["source_kind"] = Source.Kind.ARTICLE
        if not data.get("reliability"):
            data["reliability"] = Reliability.REPORTED
        for date_name, precision_name in self.PRECISIONS:
            if date_name not in data or precision_name not in data:
                continue
            day: dt.date | None = data[date_name]
            precision = data[precision_name]
            if day is None:
                data[precision_name] = DatePrecision.UNKNOWN
            elif precision == DatePrecision.UNKNOWN:
                self.add_error(precision_name, PRECISION_NEEDED)
            elif precision == DatePrecision.MONTH:
                data[date_name] = day.replace(day=1)
            elif precision == DatePrecision.YEAR:
                data[date_name] = day.replace(month=1, day=1)
        return data


class EntryModelForm(SourceFields, forms.ModelForm):  # type: ignore[misc]
    """A fact's fields from its model. The model's validation runs in the service."""

    def _post_clean(self) -> None:
        pass  # the service validates (full_clean and the database) and reports by field


class EpisodeChoiceField(forms.ModelChoiceField):  # type: ignore[type-arg]
    def label_from_instance(self, obj: Any) -> str:
        start = obj.arrested_on.isoformat() if obj.arrested_on else "?"
        end = obj.ended_on.isoformat() if obj.ended_on else "…"
        return f"{obj.country.code} {start} – {end} (#{obj.pk})"


class ArticleChoiceField(forms.ModelChoiceField):  # type: ignore[type-arg]
    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.code.short_name} {obj.number}" + (f" — {obj.title}" if obj.title else "")


class EpisodeFormMixin:
    """A fact inside one of the person's detention episodes (the latest first)."""

    fields: dict[str, forms.Field]

    def set_episodes(self, person: Person, queryset: Any = None) -> None:
        episodes = queryset if queryset is not None else DetentionEpisode.objects.all()
        field = EpisodeChoiceField(
            episodes.filter(person=person)
            .select_related("country")
            .order_by("-arrested_on", "-pk"),
            label=capfirst(DetentionEpisode._meta.verbose_name),
            empty_label=None,
        )
        self.fields = {"episode": field, **{k: v for k, v in self.fields.items() if k != "episode"}}


# --- A person -------------------------------------------------------------------------------


def _cyrillic(text: str) -> bool:
    return any("\u0400" <= ch <= "\u04ff" for ch in text)


class PersonEntryForm(EntryModelForm):
    name_be = forms.CharField(
        label=capfirst(_("name in Belarusian")), max_length=200, required=False
    )
    name_ru = forms.CharField(label=capfirst(_("name in Russian")), max_length=200, required=False)
    other_names = forms.CharField(
        label=_("Other spellings (optional)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("One per line, as the press writes the name, e.g. Maria Kolesnikova."),
    )
    variants = forms.MultipleChoiceField(
        label=_("Generated spellings to keep"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    previewed = forms.CharField(widget=forms.HiddenInput, required=False)

    PRECISIONS = (("birth_date", "birth_date_precision"),)
    field_order = ["name", "name_be", "name_ru", "other_names"]

    class Meta:
        model = Person
        fields = [
            "name",
            "name_be",
            "name_ru",
            "other_names",
            "name_withheld",
            "gender",
            "birth_date",
            "birth_date_precision",
            "occupation",
            "home_region",
        ]
        formfield_callback = _date_widget

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["name"].required = False
        self.offered: list[VariantChoice] = variants_offered(
            name_be=str(self._raw("name_be")), name_ru=str(self._raw("name_ru"))
        )
        variants: Any = self.fields["variants"]
        variants.choices = [(v.key, v.text) for v in self.offered]

    def _raw(self, name: str) -> Any:
        if self.is_bound:
            return self.data.get(self.add_prefix(name), "")
        return self.initial.get(name, "")

    @property
    def names_signature(self) -> str:
        """A digest of the Cyrillic names the spellings were generated from (kept in a hidden
        field: a confirm after the names changed shows the new spellings first)."""
        names = "\n".join(" ".join(str(self._raw(n)).split()) for n in ("name_be", "name_ru"))
        return hashlib.sha256(names.encode()).hexdigest()[:16]

    def fact_fields(self) -> list[forms.BoundField]:
        return [b for b in super().fact_fields() if b.name not in ("variants", "previewed")]

    def _clean_cyrillic(self, name: str) -> str:
        value = " ".join(self.cleaned_data[name].split())
        if value and not _cyrillic(value):
            raise forms.ValidationError(NOT_CYRILLIC)
        return value

    def clean_other_names(self) -> list[str]:
        lines = [" ".join(line.split()) for line in self.cleaned_data["other_names"].splitlines()]
        found: list[str] = []
        for line in lines:
            if line and line not in found:
                if len(line) > MAX_NAME:
                    raise forms.ValidationError(str(NAME_TOO_LONG).format(max=MAX_NAME))
                found.append(line)
        return found

    def clean_name_be(self) -> str:
        return self._clean_cyrillic("name_be")

    def clean_name_ru(self) -> str:
        return self._clean_cyrillic("name_ru")

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        name = " ".join(data.get("name", "").split())
        if not name and self.offered:
            name = self.offered[0].text
        if not name and "name" not in self.errors:
            self.add_error("name", NAME_MISSING)
        data["name"] = name
        return data

    def confirmed_variants(self) -> list[VariantChoice]:
        keys = set(self.cleaned_data.get("variants") or [])
        return [v for v in self.offered if v.key in keys]


# --- Facts of a person ---------------------------------------------------------------------------


class EpisodeEntryForm(EntryModelForm):
    PRECISIONS = (("arrested_on", "arrested_on_precision"),)

    class Meta:
        model = DetentionEpisode
        fields = [
            "country",
            "arrested_on",
            "arrested_on_precision",
            "arrest_place",
            "arresting_authority",
            "summary",
        ]
        formfield_callback = _date_widget
        widgets = {"summary": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args: Any, person: Person, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.person = person
        country: Any = self.fields["country"]
        country.queryset = Country.objects.order_by("name")
        if not self.is_bound and "country" not in self.initial:
            self.initial["country"] = (
                Country.objects.filter(code=HELD_IN).values_list("pk", flat=True).first()
            )
        place: Any = self.fields["arrest_place"]
        place.queryset = Place.objects.select_related("country").order_by("country__name", "name")


class ChargeEntryForm(EpisodeFormMixin, EntryModelForm):
    article = ArticleChoiceField(
        CriminalArticle.objects.select_related("code").order_by("code__short_name", "pk"),
        label=capfirst(CriminalArticle._meta.verbose_name),
    )

    class Meta:
        model = Charge
        fields = ["article", "part", "charged_on", "note"]
        formfield_callback = _date_widget
        widgets = {"note": forms.Textarea(attrs={"rows": 2})}

    def __init__(self, *args: Any, person: Person, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.set_episodes(person)


class SentenceEntryForm(EpisodeFormMixin, EntryModelForm):
    PRECISIONS = (("decided_on", "decided_on_precision"),)

    class Meta:
        model = CourtDecision
        fields = [
            "decided_on",
            "decided_on_precision",
            "court",
            "judge",
            "term_years",
            "term_months",
            "term_days",
            "term_description",
            "term_starts_on",
            "regime",
            "note",
        ]
        formfield_callback = _date_widget
        widgets = {"note": forms.Textarea(attrs={"rows": 2})}

    def __init__(self, *args: Any, person: Person, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.set_episodes(person)

    def clean_term_months(self) -> int | None:
        months: int | None = self.cleaned_data["term_months"]
        if months is not None and months > 11:
            raise forms.ValidationError(MONTHS_MAX)
        return months

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        names = ("term_years", "term_months", "term_days", "term_description")
        given = [data[n] for n in names if n in data]
        if len(given) == len(names) and not any(v or v == 0 for v in given):
            self.add_error(None, TERM_MISSING)
        return data


class PeriodFormMixin:
    """A fact with ``started_on`` and an optional ``ended_on``, which cannot come first."""

    def clean(self) -> dict[str, Any]:
        data: dict[str, Any] = super().clean()  # type: ignore[misc]
        start, end = data.get("started_on"), data.get("ended_on")
        if start and end and end < start:
            self.add_error("ended_on", ENDS_BEFORE)  # type: ignore[attr-defined]
        return data


class PlacementEntryForm(PeriodFormMixin, EpisodeFormMixin, EntryModelForm):
    PRECISIONS = (("started_on", "started_on_precision"),)

    def clean_started_on_precision(self) -> str:
        return str(self.cleaned_data.get("started_on_precision") or DatePrecision.DAY)

    class Meta:
        model = CustodyPlacement
        fields = ["facility", "kind", "started_on", "started_on_precision", "ended_on"]
        formfield_callback = _date_widget

    def __init__(self, *args: Any, person: Person, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.set_episodes(person)
        self.fields["started_on_precision"].required = False  # a day, unless said otherwise
        facility: Any = self.fields["facility"]
        facility.queryset = (
            Place.objects.filter(kind__in=Place.FACILITY_KINDS)
            .select_related("country")
            .order_by("country__name", "name")
        )


class IncommunicadoEntryForm(PeriodFormMixin, EpisodeFormMixin, EntryModelForm):
    PRECISIONS = (("started_on", "started_on_precision"),)

    class Meta:
        model = IncommunicadoPeriod
        fields = ["kind", "started_on", "started_on_precision", "ended_on", "note"]
        formfield_callback = _date_widget
        widgets = {"note": forms.Textarea(attrs={"rows": 2})}

    def __init__(self, *args: Any, person: Person, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.set_episodes(person)


class ReleaseEntryForm(EpisodeFormMixin, EntryModelForm):
    PRECISIONS = (("released_on", "released_on_precision"),)

    class Meta:
        model = Release
        fields = ["kind", "released_on", "released_on_precision", "deal", "conditions"]
        formfield_callback = _date_widget
        widgets = {"conditions": forms.Textarea(attrs={"rows": 2})}

    def __init__(self, *args: Any, person: Person, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.set_episodes(
            person, DetentionEpisode.objects.filter(release__isnull=True, death__isnull=True)
        )
        precision: Any = self.fields["released_on_precision"]
        precision.choices = [c for c in DatePrecision.choices if c[0] != DatePrecision.UNKNOWN]
        deal: Any = self.fields["deal"]
        deal.queryset = ReleaseDeal.objects.order_by("-announced_on", "-pk")

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("deal") and data.get("kind") not in (
            Release.Kind.DEAL,
            Release.Kind.PARDON,
            None,
        ):
            self.add_error("kind", DEAL_KIND)
        return data


class TransferChainForm(SourceFields):
    release = forms.ModelChoiceField(
        Release.objects.none(),
        label=capfirst(Release._meta.verbose_name),
        required=False,
        help_text=_("The release the chain follows, if any."),
    )

    def __init__(self, *args: Any, person: Person, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        release: Any = self.fields["release"]
        release.queryset = Release.objects.filter(episode__person=person).order_by(
            "-released_on", "-pk"
        )
        self.fields = {"release": self.fields.pop("release"), **self.fields}


class LegForm(forms.ModelForm):  # type: ignore[type-arg]
    class Meta:
        model = Transfer
        fields = [
            "from_country",
            "to_country",
            "transferred_on",
            "transferred_on_precision",
            "mode",
            "documents",
        ]
        formfield_callback = _date_widget

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name in ("from_country", "to_country"):
            field: Any = self.fields[name]
            field.queryset = Country.objects.order_by("name")
        for bound in self.fields.values():  # a row of a table: the column header is the label
            bound.widget.attrs.setdefault("aria-label", str(bound.label))

    def _post_clean(self) -> None:
        pass

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        day, precision = data.get("transferred_on"), data.get("transferred_on_precision")
        if day is None and "transferred_on" in data:
            data["transferred_on_precision"] = DatePrecision.UNKNOWN
        elif day is not None and precision == DatePrecision.UNKNOWN:
            self.add_error("transferred_on_precision", PRECISION_NEEDED)
        elif day is not None and precision == DatePrecision.MONTH:
            data["transferred_on"] = day.replace(day=1)
        elif day is not None and precision == DatePrecision.YEAR:
            data["transferred_on"] = day.replace(month=1, day=1)
        return data


class BaseLegFormSet(forms.BaseFormSet):  # type: ignore[type-arg]
    def legs(self) -> list[dict[str, Any]]:
        return [
            form.cleaned_data
            for form in self.forms
            if form.is_valid() and form.cleaned_data and form.has_changed()
        ]

    def clean(self) -> None:
        if any(self.errors):
            return
        legs = self.legs()
        if not legs:
            raise forms.ValidationError(str(NO_LEGS))
        problems = []
        previous: dict[str, Any] | None = None
        for number, leg in enumerate(legs, start=1):
            if leg["from_country"] == leg["to_country"]:
                problems.append(str(LEG_SAME).format(number=number))
            if previous is not None:
                if leg["from_country"] != previous["to_country"]:
                    problems.append(
                        str(LEG_GAP).format(
                            number=number,
                            country=leg["from_country"],
                            previous=previous["to_country"],
                        )
                    )
                before, day = previous["transferred_on"], leg["transferred_on"]
                if before and day and day < before:
                    problems.append(str(LEG_ORDER).format(number=number))
            previous = leg
        if problems:
            raise forms.ValidationError(problems)


LegFormSet = forms.formset_factory(
    LegForm, formset=BaseLegFormSet, extra=1, min_num=1, max_num=MAX_LEGS
)


# --- Correcting one field of a record -------------------------------------------------------------


class FieldEditForm(SourceFields):
    """A new value for one field of a record, with its source and the reason."""

    field = forms.ChoiceField(label=_("Field"))

    def __init__(self, *args: Any, obj: models.Model, field_name: str, **kwargs: Any) -> None:
        kwargs.setdefault("auto_id", "edit_%s")  # the record page has the claim form's ids too
        super().__init__(*args, **kwargs)
        self.obj = obj
        self.editable = editable_fields(type(obj))
        choice: Any = self.fields["field"]
        choice.choices = [(n, capfirst(f.verbose_name)) for n, f in self.editable.items()]
        self.model_field = self.editable[field_name]
        value = _date_widget(self.model_field)
        if value is None:  # pragma: no cover - every editable field has a form field
            value = forms.CharField()
        value.label = _("New value")
        value.initial = self.model_field.value_from_object(obj)
        value.help_text = self.model_field.help_text
        self.fields = {"field": self.fields.pop("field"), "value": value, **self.fields}

    @property
    def current(self) -> Any:
        return getattr(self.obj, self.model_field.name)

    @property
    def current_display(self) -> str:
        return current_display(self.obj, self.model_field)

    def clean_value(self) -> Any:
        value = self.cleaned_data["value"]
        if value == self.current or (value in ("", None) and self.current in ("", None)):
            raise forms.ValidationError(VALUE_UNCHANGED)
        return value
