"""Entry forms: a new person (``/staff/persons/new/``) and, from a person's record page, the
facts of that person (``/staff/persons/<id>/<fact>/new/``).

Every step is a POST of the whole form, so nothing typed is lost: ``source_search`` lists the
sources matching the search box, ``source_pick`` takes one of them, ``add_leg`` adds a row to a
transfer chain, and saving writes everything in one transaction (``entry.entry_save``). A
refused save re-renders the form with its values and the reasons. With htmx the source search
answers while typing and a leg is added without reloading the page; without JavaScript the
same buttons submit the form. A one-time token makes a second submit of the same form write
nothing.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, cast

from django import forms
from django.contrib import messages
from django.db import models
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _
from django_htmx.http import HttpResponseClientRedirect

from events.models import (
    Charge,
    CourtDecision,
    CustodyPlacement,
    DetentionEpisode,
    IncommunicadoPeriod,
    Release,
    Reliability,
    Source,
    Transfer,
)
from prisoners.models import Person, Visibility
from prisoners.search import person_search

from .. import entry
from ..entry_forms import (
    MAX_LEGS,
    BaseLegFormSet,
    ChargeEntryForm,
    EpisodeEntryForm,
    FieldEditForm,
    IncommunicadoEntryForm,
    LegForm,
    LegFormSet,
    PersonEntryForm,
    PlacementEntryForm,
    ReleaseEntryForm,
    SentenceEntryForm,
    SourceFields,
    TransferChainForm,
)
from ..records import kind_or_404
from ..roles import PUBLISH, READ, has_role, staff_view
from ..services import four_eyes_enabled

DONE_KEY = "staff_entry_done"  # token -> the address shown after the save, in the session
KEEP_TOKENS = 30
LEG_PREFIX = "leg"
SIMILAR_PERSONS = 5

SAVED = _("Saved as a draft: {record}.")
ALREADY = _("This form was already saved: nothing was written again.")
FIX = _("Nothing was saved: correct the entry and save again.")
NAMES_CHANGED = _("The names changed: check the generated spellings again, then confirm.")
NO_EPISODE = _("This person has no detention episode yet: enter it first.")
NO_OPEN_EPISODE = _("This person has no detention episode without a release or death.")


def _person_url(person: Person) -> str:
    return reverse("staff:review-detail", args=["person", person.pk])


def _token_done(request: HttpRequest, token: str) -> str | None:
    return request.session.get(DONE_KEY, {}).get(token) if token else None


def _remember(request: HttpRequest, token: str, url: str) -> None:
    if not token:
        return
    done = dict(request.session.get(DONE_KEY, {}))
    done[token] = url
    request.session[DONE_KEY] = dict(list(done.items())[-KEEP_TOKENS:])


def _source_query(request: HttpRequest) -> str:
    source = request.POST if request.method == "POST" else request.GET
    return str(source.get("source_q", ""))


def _source_results(request: HttpRequest) -> HttpResponse:
    """The sources matching the search box (htmx, while typing)."""
    query = _source_query(request)
    response = render(
        request,
        "staff/entry/_source_results.html",
        {"source_query": query, "source_hits": entry.source_search(query), "searched": True},
    )
    patch_vary_headers(response, ["HX-Request"])
    return response


def _prepare(request: HttpRequest) -> tuple[QueryDict, str]:
    """The posted data, with a token, and the action asked for (a picked source fills the
    source field and empties the new-source fields)."""
    data = request.POST.copy()
    if not data.get("token"):
        data["token"] = uuid.uuid4().hex
    action = str(data.get("action", "save"))
    picked = str(data.get("source_pick", ""))
    if picked.isdigit():
        data["source"] = picked
        data["source_url"] = ""
        data["source_title"] = ""
        action = "source_pick"
    return data, action


def _source_input(form: SourceFields) -> entry.SourceInput:
    data = form.cleaned_data
    return entry.SourceInput(
        source=form.source_obj,
        url=data.get("source_url", ""),
        title=data.get("source_title", ""),
        kind=data.get("source_kind") or Source.Kind.ARTICLE,
        quote=data.get("quote", ""),
        reliability=data.get("reliability") or Reliability.REPORTED,
    )


def _apply_errors(form: forms.BaseForm, error: entry.EntryError) -> None:
    """The refusal's messages on the form: next to their field where the form has it."""
    for text in error.errors:
        form.add_error(None, text)
    for name, texts in error.fields.items():
        for text in texts:
            if name in form.fields:
                form.add_error(name, text)
            else:
                label = error.labels.get(name, name)
                form.add_error(None, str(entry.REFUSED).format(message=f"{label}: {text}"))
    if not error.errors:
        form.add_error(None, FIX)


def _render(request: HttpRequest, template: str, context: dict[str, Any]) -> HttpResponse:
    query = _source_query(request)
    context.setdefault("source_query", query)
    context.setdefault("source_hits", entry.source_search(query) if query.strip() else [])
    context.setdefault("searched", bool(query.strip()))
    response = render(request, template, context)
    patch_vary_headers(response, ["HX-Request"])
    return response


# --- A person -------------------------------------------------------------------------------


@staff_view(READ)
def person_entry_view(request: HttpRequest) -> HttpResponse:
    """A new person: the names and fields, then the generated spellings to confirm."""
    template = "staff/entry/person.html"
    if request.method != "POST":
        if request.headers.get("HX-Request") and "source_q" in request.GET:
            return _source_results(request)
        form = PersonEntryForm(initial={"token": uuid.uuid4().hex})
        return _render(request, template, {"form": form})

    data, action = _prepare(request)
    if (url := _token_done(request, str(data["token"]))) and action in ("preview", "confirm"):
        messages.info(request, ALREADY)
        return redirect(url)
    offered = entry.variants_offered(
        name_be=str(data.get("name_be", "")), name_ru=str(data.get("name_ru", ""))
    )
    probe = PersonEntryForm(data)
    signature = probe.names_signature
    names_changed = data.get("previewed", "") != signature
    if names_changed and action in ("preview", "confirm", "save"):
        data.setlist("variants", [v.key for v in offered])  # a new preview: all ticked
    if action not in ("preview", "confirm", "save"):
        form = PersonEntryForm(data)
        form.is_valid()  # only to show the source picked; errors wait for a preview
        return _render(request, template, {"form": form, "quiet": True})
    data["previewed"] = signature
    form = PersonEntryForm(data)
    valid = form.is_valid()
    if action != "confirm" or names_changed or not valid:
        if action == "confirm" and names_changed and valid:
            form.add_error(None, NAMES_CHANGED)
            valid = False
        similar = []
        name = (form.cleaned_data.get("name") if valid else "") or data.get("name", "")
        if str(name).strip():
            similar = person_search(
                query=str(name), viewer=request.user, page_size=SIMILAR_PERSONS, with_status=False
            ).hits
        return _render(
            request,
            template,
            {"form": form, "preview": True, "ready": valid, "similar": similar},
        )

    cleaned = form.cleaned_data
    person_input = entry.PersonInput(
        name=cleaned["name"],
        name_be=cleaned["name_be"],
        name_ru=cleaned["name_ru"],
        fields={
            name: cleaned[name]
            for name in (
                "name_withheld",
                "gender",
                "birth_date",
                "birth_date_precision",
                "occupation",
                "home_region",
            )
        },
        variants=form.confirmed_variants(),
        other_names=cleaned["other_names"],
    )
    try:
        records, _source = entry.entry_save(
            user=request.user,
            reason=cleaned["reason"],
            source=_source_input(form),
            write=lambda: entry.person_enter(person_input),
            model=Person,
        )
    except entry.EntryError as error:
        _apply_errors(form, error)
        return _render(request, template, {"form": form, "preview": True, "ready": True})
    person = records[0]
    assert isinstance(person, Person)
    url = _person_url(person)
    _remember(request, str(data["token"]), url)
    messages.success(request, str(SAVED).format(record=person))
    return redirect(url)


# --- Facts of a person ---------------------------------------------------------------------------


def _pick(data: dict[str, Any], *names: str) -> dict[str, Any]:
    return {name: data[name] for name in names}


@dataclass(frozen=True)
class FactPage:
    form: type[SourceFields]
    title: Any
    enter: Callable[..., Sequence[models.Model]]  # the ``prisoners.staff.entry`` service
    model: type[models.Model]
    needs_episode: bool = True
    open_episode: bool = False

    def write(self, person: Person, data: dict[str, Any]) -> Sequence[models.Model]:
        """Enter the fact with the fields its form asks for (``Meta.fields``): in the episode
        chosen, or, for an episode, of the person."""
        fields = _pick(data, *self.form.Meta.fields)  # type: ignore[attr-defined]
        if self.needs_episode:
            return self.enter(episode=data["episode"], **fields)
        return self.enter(person=person, **fields)


PAGES: dict[str, FactPage] = {
    "episode": FactPage(
        EpisodeEntryForm,
        _("Enter a detention episode"),
        entry.episode_enter,
        DetentionEpisode,
        needs_episode=False,
    ),
    "charge": FactPage(ChargeEntryForm, _("Enter a charge"), entry.charge_enter, Charge),
    "sentence": FactPage(
        SentenceEntryForm, _("Enter a sentence"), entry.sentence_enter, CourtDecision
    ),
    "placement": FactPage(
        PlacementEntryForm,
        _("Enter a custody placement"),
        entry.placement_enter,
        CustodyPlacement,
    ),
    "incommunicado": FactPage(
        IncommunicadoEntryForm,
        _("Enter an incommunicado period"),
        entry.incommunicado_enter,
        IncommunicadoPeriod,
    ),
    "release": FactPage(
        ReleaseEntryForm, _("Enter a release"), entry.release_enter, Release, open_episode=True
    ),
}


def _fact_form(page: FactPage, person: Person, data: Any = None, **kwargs: Any) -> SourceFields:
    form_class: Any = page.form
    return form_class(data, person=person, **kwargs)  # type: ignore[no-any-return]


def _fact_view(request: HttpRequest, person_id: int, slug: str) -> HttpResponse:
    page = PAGES[slug]
    person = get_object_or_404(Person.objects.current(), pk=person_id)
    template = "staff/entry/fact.html"
    context: dict[str, Any] = {"person": person, "title": page.title, "slug": slug}
    if request.method != "POST":
        if request.headers.get("HX-Request") and "source_q" in request.GET:
            return _source_results(request)
        initial: dict[str, Any] = {"token": uuid.uuid4().hex}
        episode = request.GET.get("episode", "")
        if episode.isdigit():
            initial["episode"] = int(episode)
        form = _fact_form(page, person, initial=initial)
        return _render(request, template, {**context, "form": form, **_notice(page, form)})

    data, action = _prepare(request)
    form = _fact_form(page, person, data)
    context.update(_notice(page, form))
    if action != "save":
        form.is_valid()  # only to show the source picked; errors wait for a save
        return _render(request, template, {**context, "form": form, "quiet": True})
    if url := _token_done(request, str(data["token"])):
        messages.info(request, ALREADY)
        return redirect(url)
    if not form.is_valid():
        return _render(request, template, {**context, "form": form})
    cleaned = form.cleaned_data
    try:
        records, _source = entry.entry_save(
            user=request.user,
            reason=cleaned["reason"],
            source=_source_input(form),
            write=lambda: page.write(person, cleaned),
            model=page.model,
        )
    except entry.EntryError as error:
        _apply_errors(form, error)
        return _render(request, template, {**context, "form": form})
    url = _person_url(person)
    _remember(request, str(data["token"]), url)
    messages.success(request, str(SAVED).format(record=records[0]))
    return redirect(url)


def _notice(page: FactPage, form: SourceFields) -> dict[str, Any]:
    """Say so when the person has no episode the fact could belong to."""
    if not page.needs_episode:
        return {}
    episode: Any = form.fields.get("episode")
    if episode is not None and not episode.queryset.exists():
        return {"notice": NO_OPEN_EPISODE if page.open_episode else NO_EPISODE}
    return {}


@staff_view(READ)
def episode_entry_view(request: HttpRequest, person_id: int) -> HttpResponse:
    return _fact_view(request, person_id, "episode")


@staff_view(READ)
def charge_entry_view(request: HttpRequest, person_id: int) -> HttpResponse:
    return _fact_view(request, person_id, "charge")


@staff_view(READ)
def sentence_entry_view(request: HttpRequest, person_id: int) -> HttpResponse:
    return _fact_view(request, person_id, "sentence")


@staff_view(READ)
def placement_entry_view(request: HttpRequest, person_id: int) -> HttpResponse:
    return _fact_view(request, person_id, "placement")


@staff_view(READ)
def incommunicado_entry_view(request: HttpRequest, person_id: int) -> HttpResponse:
    return _fact_view(request, person_id, "incommunicado")


@staff_view(READ)
def release_entry_view(request: HttpRequest, person_id: int) -> HttpResponse:
    return _fact_view(request, person_id, "release")


# --- A chain of transfer legs ---------------------------------------------------------------------


def _leg_initial(person: Person) -> list[dict[str, Any]]:
    """The first leg starts in the country of the person's latest detention."""
    latest = (
        DetentionEpisode.objects.filter(person=person)
        .order_by("-arrested_on", "-pk")
        .values_list("country_id", flat=True)
        .first()
    )
    return [{"from_country": latest}] if latest else []


def _add_leg(data: QueryDict) -> None:
    """One more row: with the defaults of a new leg, starting where the last row ends."""
    key = f"{LEG_PREFIX}-TOTAL_FORMS"
    total = str(data.get(key, "1"))
    count = int(total) if total.isdigit() else 1
    if count >= MAX_LEGS:
        return
    data[key] = str(count + 1)
    row = f"{LEG_PREFIX}-{count}-"
    for name, field in LegForm.base_fields.items():
        if field.initial is not None:
            data.setdefault(row + name, str(field.initial))
    if count:
        data.setdefault(
            row + "from_country", str(data.get(f"{LEG_PREFIX}-{count - 1}-to_country", ""))
        )


@staff_view(READ)
def transfers_entry_view(request: HttpRequest, person_id: int) -> HttpResponse:
    """A chain of legs in one submit: rows in order, each the next leg of the chain."""
    person = get_object_or_404(Person.objects.current(), pk=person_id)
    template = "staff/entry/fact.html"
    context: dict[str, Any] = {
        "person": person,
        "title": _("Enter a transfer chain"),
        "slug": "transfers",
    }
    if request.method != "POST":
        if request.headers.get("HX-Request") and "source_q" in request.GET:
            return _source_results(request)
        initial: dict[str, Any] = {"token": uuid.uuid4().hex}
        release = request.GET.get("release", "")
        if release.isdigit():
            initial["release"] = int(release)
        form = TransferChainForm(initial=initial, person=person)
        legs = LegFormSet(prefix=LEG_PREFIX, initial=_leg_initial(person))
        return _render(request, template, {**context, "form": form, "legs": legs})

    data, action = _prepare(request)
    if action == "add_leg":
        _add_leg(data)
    form = TransferChainForm(data, person=person)
    legs = cast(BaseLegFormSet, LegFormSet(data, prefix=LEG_PREFIX))
    if action != "save":
        form.is_valid()  # only to show the source picked; errors wait for a save
        return _render(request, template, {**context, "form": form, "legs": legs, "quiet": True})
    if url := _token_done(request, str(data["token"])):
        messages.info(request, ALREADY)
        return redirect(url)
    valid = form.is_valid()
    legs_valid = legs.is_valid()
    if not (valid and legs_valid):
        return _render(request, template, {**context, "form": form, "legs": legs})
    chain = [
        entry.Leg(
            **_pick(
                leg,
                "from_country",
                "to_country",
                "transferred_on",
                "transferred_on_precision",
                "mode",
                "documents",
            )
        )
        for leg in legs.legs()
    ]
    release = form.cleaned_data["release"]
    try:
        records, _source = entry.entry_save(
            user=request.user,
            reason=form.cleaned_data["reason"],
            source=_source_input(form),
            write=lambda: entry.transfers_enter(person=person, legs=chain, release=release),
            model=Transfer,
        )
    except entry.EntryError as error:
        _apply_errors(form, error)
        return _render(request, template, {**context, "form": form, "legs": legs})
    url = _person_url(person)
    _remember(request, str(data["token"]), url)
    chain_text = " → ".join([records[0].from_country.code] + [r.to_country.code for r in records])  # type: ignore[attr-defined]
    messages.success(request, str(SAVED).format(record=chain_text))
    return redirect(url)


# --- Correcting one field of a record (inline on the record page with htmx) -----------------------

FIELD_SAVED = _("{field} of {record} corrected.")
NOTHING_EDITABLE = _("No field of this record can be corrected here.")
PUBLISHERS_ONLY = _("Only reviewers may change this field: it decides what is shown.")
FOUR_EYES_PUBLISHED = _(
    "This record is published and a second person must review changes: add a claim with "
    "the new value instead, or ask a reviewer."
)


def _field_form(edit_url: str, *args: Any, **kwargs: Any) -> FieldEditForm:
    """The form; with htmx, choosing another field reloads the form for it in place."""
    form = FieldEditForm(*args, **kwargs)
    form.fields["field"].widget.attrs.update(
        {
            "hx-post": edit_url,
            "hx-trigger": "change",
            "hx-vals": '{"action": "choose"}',
            "hx-target": "#field-edit",
            "hx-swap": "innerHTML",
        }
    )
    return form


@staff_view(READ)
def field_edit_view(request: HttpRequest, kind: str, pk: int) -> HttpResponse:
    """One field of a record, corrected with a source and a reason. With htmx the form opens
    under the record's fields and a save reloads the record page; without, it is a page."""
    record_kind = kind_or_404(kind)
    obj = get_object_or_404(record_kind.queryset(), pk=pk)
    record_url = reverse("staff:review-detail", args=[record_kind.slug, obj.pk])
    fragment = bool(request.headers.get("HX-Request"))
    template = "staff/entry/_field_edit.html" if fragment else "staff/entry/field_edit.html"
    context: dict[str, Any] = {
        "kind": record_kind,
        "obj": obj,
        "record_url": record_url,
        "edit_url": reverse("staff:entry-field-edit", args=[record_kind.slug, obj.pk]),
    }
    editable = entry.editable_fields(type(obj))
    if not editable:
        return _render(request, template, {**context, "notice": NOTHING_EDITABLE})
    source = request.POST if request.method == "POST" else request.GET
    field_name = str(source.get("field", ""))
    if field_name not in editable:
        field_name = next(iter(editable))
    if request.method != "POST":
        if fragment and "source_q" in request.GET:
            return _source_results(request)
        form = _field_form(
            context["edit_url"],
            initial={"token": uuid.uuid4().hex, "field": field_name},
            obj=obj,
            field_name=field_name,
        )
        return _render(request, template, {**context, "form": form})

    data, action = _prepare(request)
    if action == "choose":
        names = (*SourceFields.SOURCE_FIELDS, "reason", "token")
        initial = {name: data.get(name, "") for name in names}
        form = _field_form(
            context["edit_url"],
            initial={**initial, "field": field_name},
            obj=obj,
            field_name=field_name,
        )
        return _render(request, template, {**context, "form": form})
    form = _field_form(context["edit_url"], data, obj=obj, field_name=field_name)
    if action != "save":
        form.is_valid()  # only to show the source picked; errors wait for a save
        return _render(request, template, {**context, "form": form, "quiet": True})
    if not form.is_valid():
        return _render(request, template, {**context, "form": form})
    if field_name in entry.PUBLISHER_ONLY_FIELDS and not has_role(request.user, PUBLISH):
        # Lifting "name withheld" or the photo consent publishes what was kept back.
        form.add_error("value", PUBLISHERS_ONLY)
        return _render(request, template, {**context, "form": form})
    published = getattr(obj, "visibility", Visibility.DRAFT) != Visibility.DRAFT
    if published and four_eyes_enabled() and not has_role(request.user, PUBLISH):
        # With the four-eyes rule an editor's change is seen only after a reviewer's review.
        form.add_error(None, FOUR_EYES_PUBLISHED)
        return _render(request, template, {**context, "form": form})
    cleaned = form.cleaned_data
    try:
        entry.entry_save(
            user=request.user,
            reason=cleaned["reason"],
            source=_source_input(form),
            write=lambda: entry.fact_field_set(
                obj=obj, field_name=field_name, value=cleaned["value"]
            ),
            model=type(obj),
            field_name=field_name,
        )
    except entry.EntryError as error:
        if field_name in error.fields:
            error.fields["value"] = error.fields.pop(field_name)
        _apply_errors(form, error)
        return _render(request, template, {**context, "form": form})
    label = capfirst(editable[field_name].verbose_name)
    messages.success(request, str(FIELD_SAVED).format(field=label, record=obj))
    if fragment:
        return HttpResponseClientRedirect(record_url)
    return redirect(record_url)
