"""Filters of the listing of persons (pages and exports share them).

Every filter reads ``PersonListing`` (see ``prisoners.listing``). The choices a viewer may pick
follow the visibility rule: deals they may see, and the at-risk filter for researchers and staff
only (for anyone else it does not exist, so its parameter is ignored).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import django_filters
from django import forms
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from events.models import CriminalArticle, ReleaseDeal
from events.selectors import Status

from . import listing
from .models import AtRiskFlag, Country, Organisation, Person, PersonListing, Place, Region
from .visibility import Tier, viewer_tier

EARLIEST_DATE = dt.date(1900, 1, 1)
FIRST_YEAR = 1960
DATE_TOO_EARLY = _("Choose a date after 1 January 1900.")
DATE_IN_FUTURE = _("Choose a date no later than today.")


def is_chosen(value: Any) -> bool:
    """Whether a cleaned value of the form chooses something. An empty choice of records is
    ``queryset.none()``, which would be compiled to be found empty: asked without a query."""
    if isinstance(value, models.QuerySet):
        return not value.query.is_empty()
    return value not in (None, "", [], ())


def birth_years(bands: list[str], today: dt.date) -> list[int]:
    """The birth years of age ``bands`` (``listing.age_condition``) as the counts the database
    keeps store them (``listing.UNKNOWN_BIRTH_YEAR`` for unknown)."""
    years: list[int] = []
    for key, _label, low, high in listing.AGE_BANDS:
        if key not in bands:
            continue
        if key == "unknown":
            years.append(listing.UNKNOWN_BIRTH_YEAR)
            continue
        oldest = today.year - high if high is not None else dt.date.min.year
        years += range(oldest, today.year - low + 1)
    return years


class PersonListingFilter(django_filters.FilterSet):
    on = django_filters.DateFilter(
        label=_("Status on"), method="keep", help_text=_("Leave empty for today.")
    )
    status = django_filters.MultipleChoiceFilter(
        label=_("Status"),
        choices=Status.choices,
        method="filter_status",
        widget=forms.CheckboxSelectMultiple,
    )
    custody_country = django_filters.ModelMultipleChoiceFilter(
        label=_("Country holding them"),
        queryset=Country.objects.all(),
        to_field_name="code",
        method="filter_in",
        field_name="custody_country",
        widget=forms.CheckboxSelectMultiple,
    )
    country_now = django_filters.ModelMultipleChoiceFilter(
        label=_("Country where they are now"),
        queryset=Country.objects.all(),
        to_field_name="code",
        method="filter_in",
        field_name="country_now",
        widget=forms.CheckboxSelectMultiple,
    )
    region = django_filters.ModelMultipleChoiceFilter(
        label=_("Home region"),
        queryset=Region.objects.all(),
        field_name="home_region",
        method="filter_in",
        widget=forms.CheckboxSelectMultiple,
    )
    gender = django_filters.MultipleChoiceFilter(
        label=_("Gender"),
        choices=Person.Gender.choices,
        method="filter_in",
        widget=forms.CheckboxSelectMultiple,
    )
    age = django_filters.MultipleChoiceFilter(
        label=_("Age"),
        choices=[(key, label) for key, label, _low, _high in listing.AGE_BANDS],
        method="filter_age",
        widget=forms.CheckboxSelectMultiple,
    )
    article = django_filters.ModelMultipleChoiceFilter(
        label=_("Criminal-code article"),
        queryset=CriminalArticle.objects.all(),
        method="filter_article",
        widget=forms.CheckboxSelectMultiple,
    )
    facility = django_filters.ModelMultipleChoiceFilter(
        label=_("Facility now"),
        queryset=Place.objects.filter(kind__in=Place.FACILITY_KINDS),
        method="filter_facility",
        widget=forms.CheckboxSelectMultiple,
    )
    deal = django_filters.ModelMultipleChoiceFilter(
        label=_("Release deal"),
        queryset=ReleaseDeal.objects.none(),
        to_field_name="slug",
        method="filter_deal",
        widget=forms.CheckboxSelectMultiple,
    )
    year = django_filters.MultipleChoiceFilter(
        label=_("Year of detention"),
        choices=[],
        method="filter_year",
        widget=forms.CheckboxSelectMultiple,
    )
    recognised_by = django_filters.ModelMultipleChoiceFilter(
        label=_("Recognised as a political prisoner by"),
        queryset=Organisation.objects.all(),
        method="filter_recognised_by",
        widget=forms.CheckboxSelectMultiple,
    )
    at_risk = django_filters.MultipleChoiceFilter(
        label=_("At risk"),
        choices=AtRiskFlag.Kind.choices,
        method="filter_at_risk",
        widget=forms.CheckboxSelectMultiple,
    )
    sort = django_filters.ChoiceFilter(
        label=_("Sort by"), choices=listing.SORTS, method="keep", empty_label=None
    )

    class Meta:
        model = PersonListing
        fields: list[str] = []

    def __init__(
        self,
        data: Any = None,
        queryset: models.QuerySet[PersonListing] | None = None,
        *,
        request: Any = None,
        tier: Tier | None = None,
        today: dt.date | None = None,
        **kwargs: Any,
    ) -> None:
        self.tier = tier if tier is not None else viewer_tier(getattr(request, "user", None))
        self.today = today or timezone.localdate()
        super().__init__(data, queryset, request=request, **kwargs)
        if self.tier < Tier.RESEARCHER:
            # At-risk flags are researcher-tier: for the public the filter does not exist.
            del self.filters["at_risk"]
        self.filters["deal"].queryset = ReleaseDeal.objects.visible_to(self.tier)
        self.filters["year"].extra["choices"] = [
            (str(year), str(year)) for year in range(self.today.year, FIRST_YEAR - 1, -1)
        ]
        self.filters["on"].extra.update(
            widget=forms.DateInput(attrs={"type": "date", "max": self.today.isoformat()}),
            validators=[
                MinValueValidator(EARLIEST_DATE, message=DATE_TOO_EARLY),
                MaxValueValidator(self.today, message=DATE_IN_FUTURE),
            ],
        )

    # --- what the form says ----------------------------------------------------------------

    @property
    def on_date(self) -> dt.date | None:
        """The day asked for, or None for today."""
        on = self.form.cleaned_data.get("on") if self.is_bound and self.is_valid() else None
        return None if on == self.today else on

    @property
    def sort_key(self) -> str:
        sort = self.form.cleaned_data.get("sort") if self.is_bound and self.is_valid() else None
        return sort or "name"

    def picked(self, name: str) -> list[Any]:
        """The values chosen for the filter ``name``: ``[]`` when none (``is_chosen``)."""
        data = self.form.cleaned_data if self.is_bound and self.is_valid() else {}
        value = data.get(name)
        return list(value) if value is not None and is_chosen(value) else []

    def kept_facets(self) -> list[tuple[str, list[int]]] | None:
        """The facets the rows are filtered on, each with its values as the counts the database
        keeps store them (``listing.pair_counts``, ``listing.pair_total``), in the order of
        ``listing.PAIR_FACETS``: ``[]`` when nothing is filtered; None when the kept counts
        cannot say (a status on another day, or several values of a list facet, whose rows
        may hold more than one). The day itself (``on``) filters nothing but the status."""
        if self.is_bound:
            self.errors  # noqa: B018 (validates the form, as ``qs`` does)
        data = self.form.cleaned_data if self.is_bound else {}
        if self.on_date is not None and data.get("status"):
            return None
        chosen = {
            name: value
            for name, value in data.items()
            if name not in ("on", "sort") and name in self.filters and is_chosen(value)
        }
        kept: list[tuple[str, list[int]]] = []
        for name, value in chosen.items():
            if name in ("status", "gender"):
                kept.append((name, [listing.pair_value(name, v) for v in value]))
            elif name in ("custody_country", "country_now", "region", "facility"):
                kept.append((name, [v.pk for v in value]))
            elif name == "age":
                kept.append(("birth_year", birth_years(value, self.today)))
            elif len(value) > 1:
                return None
            else:
                (one,) = value
                if name == "at_risk":
                    kept.append((name, [listing.risk_code(one)]))
                elif name == "year":
                    kept.append((name, [int(one)]))
                else:
                    kept.append((name, [one.pk]))
        return sorted(kept, key=lambda facet: listing.PAIR_FACETS.index(facet[0]))

    def one_facet(self) -> listing.OneFacet | None:
        """The one facet the rows are filtered on (``kept_facets``): ``(None, ())`` when
        nothing is filtered; None when the counts must be made from the rows (a status on
        another day, several facets, or several values of a list facet)."""
        kept = self.kept_facets()
        if kept is None or len(kept) > 1 or self.on_date is not None:
            return None
        return kept[0] if kept else (None, ())

    def filter_queryset(self, queryset: models.QuerySet[PersonListing]) -> Any:
        # The status last: on another day it is computed for the rows the others leave.
        data = self.form.cleaned_data
        for name, value in data.items():
            if name != "status" and is_chosen(value):
                queryset = self.filters[name].filter(queryset, value)
        self.candidates = queryset  # what the status on another day is computed for
        return self.filters["status"].filter(queryset, data.get("status"))

    # --- filter methods ----------------------------------------------------------------------

    def keep(self, queryset: Any, name: str, value: Any) -> Any:
        """Parameters read elsewhere (the day, the sort order)."""
        return queryset

    def filter_in(self, queryset: Any, name: str, value: Any) -> Any:
        """One of the values chosen (a plain ``IN``: no join, no DISTINCT)."""
        if not value:
            return queryset
        values = [v.pk if isinstance(v, models.Model) else v for v in value]
        return queryset.filter(**{f"{name}__in": values})

    def filter_status(self, queryset: Any, name: str, value: list[str]) -> Any:
        return listing.status_filter(queryset, value, self.on_date) if value else queryset

    def filter_age(self, queryset: Any, name: str, value: list[str]) -> Any:
        return queryset.filter(listing.age_condition(value, self.today)) if value else queryset

    def _overlap(self, queryset: Any, column: str, ids: list[int]) -> Any:
        if not ids:
            return queryset
        return queryset.filter(**{f"{column}__overlap": listing.codes(ids, self.tier)})

    def filter_article(self, queryset: Any, name: str, value: Any) -> Any:
        return self._overlap(queryset, "article_codes", [a.pk for a in value or ()])

    def filter_deal(self, queryset: Any, name: str, value: Any) -> Any:
        return self._overlap(queryset, "deal_codes", [d.pk for d in value or ()])

    def filter_recognised_by(self, queryset: Any, name: str, value: Any) -> Any:
        return self._overlap(queryset, "recogniser_codes", [o.pk for o in value or ()])

    def filter_year(self, queryset: Any, name: str, value: list[str]) -> Any:
        return self._overlap(queryset, "year_codes", [int(year) for year in value or ()])

    def filter_at_risk(self, queryset: Any, name: str, value: list[str]) -> Any:
        kinds = [listing.risk_code(kind) for kind in value or ()]
        return self._overlap(queryset, "risk_codes", kinds)

    def filter_facility(self, queryset: Any, name: str, value: Any) -> Any:
        if not value:
            return queryset
        return queryset.filter(
            facility__in=[place.pk for place in value], place_level__lte=int(self.tier)
        )
