"""The kinds of record staff review and the records whose history they read.

A *reviewable* kind is a curated model with a ``visibility`` (persons, their names and
identifiers, every event, deals, sources, citations): it can be published and unpublished. A
*tracked* model is any curated model of ``prisoners`` or ``events`` (pghistory events exist for
each): its records have a history page. Both are read from the models, not listed by hand, so a
new model is covered when it is added.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

from django.apps import apps
from django.db import models
from django.http import Http404

from prisoners.audit import is_derived
from prisoners.visibility import PERSON_PATHS

CURATED_APPS = ("prisoners", "events")
VISIBILITY_FIELD = "visibility"

# Extra joins the ``__str__`` of a kind needs, beyond its own foreign keys.
EXTRA_RELATED: dict[str, tuple[str, ...]] = {
    "events.Charge": ("article__code",),
    "events.Citation": ("content_type",),
}

# Fields the database sets from other records (the release or death ending an episode, and who
# may see that end): a change to them is undone by changing that record, never by writing them
# back. A name listed here that a model lacks is ignored.
DATABASE_SET_FIELDS: dict[str, frozenset[str]] = {
    "events.DetentionEpisode": frozenset({"ended_on", "end_reason", "end_level"}),
}
# Bookkeeping that changes with every write: not shown as a change, never reverted.
BOOKKEEPING_FIELDS = frozenset({"updated_at"})


@dataclass(frozen=True)
class Kind:
    model: type[models.Model]

    @property
    def slug(self) -> str:
        return str(self.model._meta.model_name)

    @property
    def label(self) -> str:
        return str(self.model._meta.label)

    @property
    def name(self) -> str:
        return str(self.model._meta.verbose_name)

    @property
    def name_plural(self) -> str:
        return str(self.model._meta.verbose_name_plural)

    @property
    def person_path(self) -> str | None:
        if self.label == "prisoners.Person":
            return None
        return PERSON_PATHS.get(self.label)

    @property
    def related(self) -> list[str]:
        own = [f.name for f in self.model._meta.concrete_fields if f.is_relation]
        extra = list(EXTRA_RELATED.get(self.label, ()))
        if self.person_path:
            extra.append(self.person_path)
        return own + extra

    def queryset(self) -> models.QuerySet[Any]:
        return self.model._default_manager.select_related(*self.related)


def tracked_models() -> list[type[models.Model]]:
    return [
        model
        for app in CURATED_APPS
        for model in apps.get_app_config(app).get_models()
        if hasattr(model, "pgh_event_model") and not is_derived(model)
    ]


@cache
def reviewable_kinds() -> dict[str, Kind]:
    """slug -> kind, for every curated model with a visibility, in app and model order."""
    kinds: dict[str, Kind] = {}
    for model in tracked_models():
        names = {f.name for f in model._meta.concrete_fields}
        if VISIBILITY_FIELD in names:
            kind = Kind(model)
            kinds[kind.slug] = kind
    return kinds


def kind_or_404(slug: str) -> Kind:
    kind = reviewable_kinds().get(slug)
    if kind is None:
        raise Http404
    return kind


def tracked_model_or_404(app_label: str, model_name: str) -> type[models.Model]:
    if app_label not in CURATED_APPS:
        raise Http404
    try:
        model = apps.get_model(app_label, model_name)
    except LookupError as error:
        raise Http404 from error
    if model not in tracked_models():
        raise Http404
    return model


def person_of(obj: models.Model) -> Any:
    """The person a record belongs to (itself for a person), or ``None``."""
    label = obj._meta.label
    if label == "prisoners.Person":
        return obj
    path = PERSON_PATHS.get(label)
    if not path:
        return None
    value: Any = obj
    for part in path.split("__"):
        value = getattr(value, part, None)
        if value is None:
            return None
    return value
