"""Reads over the audit trail: every change of one record, field by field, with who and why.

The trail is written by the pghistory triggers of ``prisoners.audit.tracked``: one event row per
insert, update and delete, holding the whole row as it was after the change, and the context
(``user``, ``username``, ``reason``, ``source``, and the URL when made through a page). A change
is the difference between an event and the one before it.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth import get_user_model
from django.db import models
from django.utils.translation import gettext_lazy as _

from .records import BOOKKEEPING_FIELDS, DATABASE_SET_FIELDS, VISIBILITY_FIELD

EMPTY = "—"
NOT_REVERTIBLE_INSERT = _("A record's creation is not reverted here: unpublish the record instead.")
NOT_REVERTIBLE_DATABASE = _(
    "These fields are set by the database from another record (the release or death that "
    "ends an episode): change that record instead."
)
NOT_REVERTIBLE_DELETED = _("The record has been deleted since: restore it first.")
NOT_REVERTIBLE_EXISTS = _("The record exists again: it cannot be restored twice.")
NOT_REVERTIBLE_NOTHING = _("Nothing to revert in this change.")


def event_model(model: type[models.Model]) -> Any:
    return model.pgh_event_model  # type: ignore[attr-defined]


def tracked_fields(model: type[models.Model]) -> list[models.Field[Any, Any]]:
    """The fields of ``model`` the history shows (every concrete field but the primary key)."""
    return [f for f in model._meta.concrete_fields if not f.primary_key]


@dataclass
class FieldChange:
    field: models.Field[Any, Any]
    old: Any
    new: Any
    old_display: str = ""
    new_display: str = ""
    database_set: bool = False

    @property
    def name(self) -> str:
        return str(self.field.verbose_name)


@dataclass
class Change:
    event: Any
    previous: Any
    label: str
    at: dt.datetime
    context: dict[str, Any]
    fields: list[FieldChange] = field(default_factory=list)
    username: str = ""
    source: Any = None
    revertible: bool = False
    why_not: str = ""

    @property
    def pgh_id(self) -> int:
        return int(self.event.pgh_id)

    @property
    def user_id(self) -> int | None:
        value = self.context.get("user")
        return int(value) if isinstance(value, int | str) and str(value).isdigit() else None

    @property
    def reason(self) -> str:
        return str(self.context.get("reason", ""))

    @property
    def url(self) -> str:
        return str(self.context.get("url", ""))

    @property
    def source_id(self) -> int | None:
        value = self.context.get("source")
        return int(value) if isinstance(value, int | str) and str(value).isdigit() else None

    @property
    def content_fields(self) -> list[FieldChange]:
        """The fields changed other than the visibility (for the four-eyes rule)."""
        return [c for c in self.fields if c.field.name != VISIBILITY_FIELD]


def _value(event: Any, model_field: models.Field[Any, Any]) -> Any:
    return getattr(event, model_field.attname)


def record_events(model: type[models.Model], pk: int) -> models.QuerySet[Any]:
    return (
        event_model(model)
        .objects.filter(pgh_obj_id=pk)
        .select_related("pgh_context")
        .order_by("pgh_id")
    )


def _diff(model: type[models.Model], event: Any, previous: Any) -> list[FieldChange]:
    fields = tracked_fields(model)
    database_set = DATABASE_SET_FIELDS.get(model._meta.label, frozenset())
    changes = []
    for model_field in fields:
        if model_field.name in BOOKKEEPING_FIELDS:
            continue
        new = _value(event, model_field)
        if previous is None or event.pgh_label == "delete":
            if event.pgh_label == "delete":
                changes.append(FieldChange(model_field, new, None))
            elif new not in (None, "", []):
                changes.append(FieldChange(model_field, None, new))
            continue
        old = _value(previous, model_field)
        if old != new:
            changes.append(
                FieldChange(model_field, old, new, database_set=model_field.name in database_set)
            )
    return changes


def record_changes(
    model: type[models.Model], pk: int, *, exists: bool | None = None
) -> list[Change]:
    """Every change of the record, oldest first, with values ready to show."""
    if exists is None:
        exists = model._default_manager.filter(pk=pk).exists()
    events = list(record_events(model, pk))
    changes: list[Change] = []
    previous = None
    for event in events:
        context = dict(event.pgh_context.metadata) if event.pgh_context_id else {}
        change = Change(
            event=event,
            previous=previous,
            label=event.pgh_label,
            at=event.pgh_created_at,
            context=context,
            fields=_diff(model, event, previous),
        )
        previous = event
        changes.append(change)
    _mark_revertible(changes, exists=exists)
    _fill_display(changes)
    return changes


def _mark_revertible(changes: list[Change], *, exists: bool) -> None:
    for index, change in enumerate(changes):
        later_delete = any(c.label == "delete" for c in changes[index + 1 :])
        if change.label == "insert":
            change.why_not = str(NOT_REVERTIBLE_INSERT)
        elif change.label == "delete":
            restored_since = index + 1 < len(changes)
            if exists or restored_since:
                change.why_not = str(NOT_REVERTIBLE_EXISTS)
            else:
                change.revertible = True
        elif not exists or later_delete:
            change.why_not = str(NOT_REVERTIBLE_DELETED)
        elif not change.fields:
            change.why_not = str(NOT_REVERTIBLE_NOTHING)
        elif all(c.database_set for c in change.fields):
            change.why_not = str(NOT_REVERTIBLE_DATABASE)
        else:
            change.revertible = True


def revert_fields(change: Change) -> list[FieldChange]:
    """The fields a revert of ``change`` writes back (their ``old`` values)."""
    if change.label == "delete":
        return change.fields
    return [c for c in change.fields if not c.database_set]


# --- Display -----------------------------------------------------------------------------------


def _fill_display(changes: list[Change]) -> None:
    """Human-readable values: choices by label, related records by name, users by username."""
    wanted: dict[type[models.Model], set[Any]] = defaultdict(set)
    for change in changes:
        for item in change.fields:
            if item.field.is_relation and item.field.related_model is not None:
                related: Any = item.field.related_model
                for value in (item.old, item.new):
                    if value is not None:
                        wanted[related].add(value)
    user_model = get_user_model()
    for change in changes:
        if change.user_id is not None:
            wanted[user_model].add(change.user_id)
        if change.source_id is not None:
            from events.models import Source

            wanted[Source].add(change.source_id)
    found: dict[type[models.Model], dict[Any, Any]] = {
        related: related._default_manager.in_bulk(sorted(ids)) for related, ids in wanted.items()
    }
    users: dict[Any, Any] = found.get(user_model, {})
    for change in changes:
        user = users.get(change.user_id)
        change.username = (
            user.get_username() if user is not None else str(change.context.get("username", ""))
        )
        if change.source_id is not None:
            from events.models import Source

            change.source = found.get(Source, {}).get(change.source_id)
        for item in change.fields:
            item.old_display = display_value(item.field, item.old, found)
            item.new_display = display_value(item.field, item.new, found)


def display_value(
    model_field: models.Field[Any, Any],
    value: Any,
    found: dict[type[models.Model], dict[Any, Any]] | None = None,
) -> str:
    if value is None or value == "" or value == []:
        return EMPTY
    if model_field.is_relation and model_field.related_model is not None:
        related_model: Any = model_field.related_model
        related = (found or {}).get(related_model, {}).get(value)
        return f"{related} (#{value})" if related is not None else f"#{value}"
    if model_field.choices:
        labels = dict(model_field.flatchoices)
        return str(labels.get(value, value))
    if isinstance(value, bool):
        return str(_("yes") if value else _("no"))
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value)
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def current_display(obj: models.Model, model_field: models.Field[Any, Any]) -> str:
    value = getattr(obj, model_field.attname)
    if model_field.is_relation and value is not None:
        related = getattr(obj, model_field.name, None)
        return f"{related} (#{value})" if related is not None else f"#{value}"
    return display_value(model_field, value)


def last_content_editor(model: type[models.Model], pk: int) -> int | None:
    """The user who last changed the record's content (its visibility aside), if known.

    Used by the four-eyes rule: that user may not publish the record.
    """
    events = list(record_events(model, pk).reverse()[:200])
    events.reverse()
    previous = None
    editor: int | None = None
    for event in events:
        changed = _diff(model, event, previous)
        previous = event
        if event.pgh_label == "insert" or any(
            c.field.name != VISIBILITY_FIELD for c in changed if event.pgh_label == "update"
        ):
            context = event.pgh_context.metadata if event.pgh_context_id else {}
            value = context.get("user")
            editor = int(value) if value is not None and str(value).isdigit() else None
    return editor
