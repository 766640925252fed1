"""Likely duplicates (editors and above), dismissing a pair, and merging two persons
(reviewers and above)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext_lazy as _

from events.models import Citation, Claim, CustodyPlacement, Death, DetentionEpisode, Transfer
from prisoners.errors import ApplicationError
from prisoners.models import (
    Affiliation,
    AtRiskFlag,
    ExternalIdentifier,
    NameVariant,
    Person,
    PersonBiography,
    PersonCitizenship,
    Recognition,
)

from ..duplicates import duplicate_dismiss, likely_duplicates, pair_score
from ..forms import AuditForm
from ..merge import persons_merge
from ..roles import PUBLISH, READ, has_role, staff_view

NO_PERSON = _("No person has this number.")
SAME_TWICE = _("Choose two different persons.")
DISMISSED = _("The pair is dismissed: it will not be suggested again.")
MERGED = _("{merged} was merged into {survivor}. Its old address now leads here.")
KEPT = _("Left with the merged record (the survivor already has them): {records}.")
FILLED = _("Filled in from the merged record, where the survivor had nothing: {fields}.")

PERSON_RECORDS: tuple[tuple[type[Any], str], ...] = (
    (NameVariant, "person"),
    (ExternalIdentifier, "person"),
    (DetentionEpisode, "person"),
    (CustodyPlacement, "person"),
    (Death, "person"),
    (Transfer, "person"),
    (PersonBiography, "person"),
    (PersonCitizenship, "person"),
    (Recognition, "person"),
    (AtRiskFlag, "person"),
    (Affiliation, "person"),
)


class PairForm(AuditForm):
    """Two persons by number (filled in from the suggestion), and the reason."""

    field_order = ["a", "b", "reason"]

    a = forms.IntegerField(label=_("Person number"), min_value=1, widget=forms.NumberInput)
    b = forms.IntegerField(label=_("Other person number"), min_value=1, widget=forms.NumberInput)

    with_source = False

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not self.with_source:
            del self.fields["source"]

    def _person(self, name: str) -> Person:
        person = Person.objects.filter(pk=self.cleaned_data[name]).first()
        if person is None:
            raise forms.ValidationError(NO_PERSON)
        return person

    def clean_a(self) -> Person:
        return self._person("a")

    def clean_b(self) -> Person:
        return self._person("b")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        one, other = data.get("a"), data.get("b")
        if one is not None and other is not None and one.pk == other.pk:
            raise forms.ValidationError(SAME_TWICE)
        return data


class DismissForm(PairForm):
    pass


class MergeForm(PairForm):
    field_order = ["a", "b", "survivor", "reason", "source"]

    survivor = forms.ChoiceField(
        label=_("Keep as the survivor"),
        choices=[("a", _("The first person")), ("b", _("The second person"))],
        widget=forms.RadioSelect,
        help_text=_("The other record is merged into it: its records move, its address redirects."),
    )
    with_source = True


def _pair_initial(request: HttpRequest) -> dict[str, Any]:
    initial = {}
    for name in ("a", "b"):
        value = request.GET.get(name, "")
        if value.isdigit():
            initial[name] = int(value)
    return initial


def _pair_from_query(request: HttpRequest) -> tuple[Person, Person] | None:
    initial = _pair_initial(request)
    if len(initial) != 2 or initial["a"] == initial["b"]:
        return None
    found = Person.objects.filter(pk__in=initial.values()).in_bulk()
    if len(found) != 2:
        return None
    return found[initial["a"]], found[initial["b"]]


def _pair_query(one: Person, other: Person) -> str:
    return urlencode({"a": one.pk, "b": other.pk})


@staff_view(READ)
def duplicates_view(request: HttpRequest) -> HttpResponse:
    after = request.GET.get("after", "")[:200]
    page = likely_duplicates(after=after)
    can_merge = has_role(request.user, PUBLISH)
    rows = [
        {
            "pair": pair,
            "query": _pair_query(pair.one, pair.other),
        }
        for pair in page.pairs
    ]
    next_url = f"?{urlencode({'after': page.next_after})}" if page.next_after is not None else ""
    return render(
        request,
        "staff/duplicates.html",
        {"rows": rows, "can_merge": can_merge, "next_url": next_url, "after": after},
    )


@staff_view(READ)
def dismiss_view(request: HttpRequest) -> HttpResponse:
    form = DismissForm(request.POST or None, initial=_pair_initial(request))
    if request.method == "POST" and form.is_valid():
        try:
            duplicate_dismiss(
                one=form.cleaned_data["a"],
                other=form.cleaned_data["b"],
                user=request.user,
                reason=form.cleaned_data["reason"],
            )
        except (ApplicationError, ValidationError) as error:
            texts = [error.message] if isinstance(error, ApplicationError) else error.messages
            for text in texts:
                form.add_error(None, text)
        else:
            messages.success(request, str(DISMISSED))
            return redirect("staff:duplicates")
    return render(
        request,
        "staff/duplicates_dismiss.html",
        {"form": form, "pair": _pair_from_query(request)},
    )


def _side(person: Person) -> dict[str, Any]:
    """What the merge page shows of one person."""
    person_type = ContentType.objects.get_for_model(Person)
    counts = [
        (model._meta.verbose_name_plural, model._default_manager.filter(**{path: person}).count())
        for model, path in PERSON_RECORDS
    ]
    counts.append(
        (
            Citation._meta.verbose_name_plural,
            Citation.objects.filter(content_type=person_type, object_id=person.pk).count(),
        )
    )
    counts.append(
        (
            Claim._meta.verbose_name_plural,
            Claim.objects.filter(content_type=person_type, object_id=person.pk).count(),
        )
    )
    return {
        "person": person,
        "fields": [
            (Person._meta.get_field("visibility").verbose_name, person.get_visibility_display()),
            (Person._meta.get_field("name_withheld").verbose_name, person.name_withheld),
            (Person._meta.get_field("birth_date").verbose_name, person.birth_date or "—"),
            (Person._meta.get_field("gender").verbose_name, person.get_gender_display()),
            (Person._meta.get_field("occupation").verbose_name, person.occupation or "—"),
        ],
        "names": list(person.name_variants.order_by("language", "kind", "text")),
        "episodes": list(person.episodes.order_by("arrested_on", "pk")),
        "counts": counts,
    }


@staff_view(PUBLISH)
def merge_view(request: HttpRequest) -> HttpResponse:
    form = MergeForm(request.POST or None, initial=_pair_initial(request))
    if request.method == "POST" and form.is_valid():
        one, other = form.cleaned_data["a"], form.cleaned_data["b"]
        survivor, merged = (one, other) if form.cleaned_data["survivor"] == "a" else (other, one)
        try:
            result = persons_merge(
                merged=merged,
                survivor=survivor,
                user=request.user,
                reason=form.cleaned_data["reason"],
                source=form.cleaned_data["source"],
            )
        except ApplicationError as error:
            form.add_error(None, error.message)
        else:
            messages.success(
                request, str(MERGED).format(merged=result.merged, survivor=result.survivor)
            )
            if result.filled:
                messages.info(request, str(FILLED).format(fields=", ".join(result.filled)))
            if result.kept:
                records = ", ".join(f"{label}: {n}" for label, n in result.kept.items())
                messages.info(request, str(KEPT).format(records=records))
            return redirect(reverse("staff:review-detail", args=["person", result.survivor.pk]))
    pair = _pair_from_query(request)
    if pair is None and form.is_bound and form.is_valid():
        pair = (form.cleaned_data["a"], form.cleaned_data["b"])
    context: dict[str, Any] = {"form": form, "pair": pair}
    if pair is not None:
        context["sides"] = [_side(pair[0]), _side(pair[1])]
        context["score"] = pair_score(*pair)
    return render(request, "staff/merge.html", context)
