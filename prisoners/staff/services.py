"""Writes of the staff pages: publication and reverts of changes. Every write is audited.

Each service runs inside ``audit_context`` with the acting user, the reason given and the source
(if any), so the history says who, when, why and from what. A refusal (a rule of the database,
a validation error, the four-eyes rule) raises ``ValidationError`` or ``ApplicationError`` and
leaves nothing half-written: the service's savepoint is rolled back.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.db import DataError, IntegrityError, models, transaction
from django.utils.translation import gettext_lazy as _

from prisoners.audit import audit_context
from prisoners.errors import ApplicationError
from prisoners.models import Person, Visibility

from .history import Change, last_content_editor, record_changes, revert_fields
from .records import VISIBILITY_FIELD

PUBLISHED = (Visibility.RESEARCHER, Visibility.PUBLIC)

VISIBILITY_UNCHANGED = _("The record already has this visibility.")
FOUR_EYES = _(
    "Four-eyes rule: you made the last change to this record, so another reviewer must publish it."
)
CHANGE_NOT_REVERTIBLE = _("This change cannot be reverted: {why}")
CHANGE_NOT_FOUND = _("This change is not in the history of the record.")
REFUSED = _("Not saved: {message}")
INVALID_VISIBILITY = _("Choose a valid visibility.")


def four_eyes_enabled() -> bool:
    return bool(getattr(settings, "TRACKER_FOUR_EYES", False))


def four_eyes_check(*, obj: models.Model, user: Any, visibility: str) -> None:
    """Refuse to let the last editor of a record publish it, when the four-eyes rule is on."""
    if not four_eyes_enabled() or visibility not in PUBLISHED:
        return
    if getattr(obj, VISIBILITY_FIELD) in PUBLISHED and visibility != Visibility.PUBLIC:
        return  # narrowing public to researchers only is not publishing
    editor = last_content_editor(type(obj), obj.pk)
    if editor is not None and editor == getattr(user, "pk", None):
        raise ApplicationError(str(FOUR_EYES))


def _field_label(obj: models.Model, name: str) -> str:
    try:
        field = obj._meta.get_field(name)
    except FieldDoesNotExist:
        return name
    return str(getattr(field, "verbose_name", name))


def _refusal(obj: models.Model, error: Exception) -> ValidationError:
    """One readable message for a refusal: field errors by their label, database errors by
    the database's own message (a trigger's text, a constraint's name)."""
    if isinstance(error, ValidationError):
        if hasattr(error, "error_dict"):
            parts = []
            for name, errors in error.error_dict.items():
                text = " ".join(m for e in errors for m in e.messages)
                parts.append(text if name == "__all__" else f"{_field_label(obj, name)}: {text}")
            return ValidationError(str(REFUSED).format(message=" ".join(parts)))
        return ValidationError(str(REFUSED).format(message=" ".join(error.messages)))
    diag = getattr(error.__cause__, "diag", None)
    message = getattr(diag, "message_primary", None) or str(error)
    return ValidationError(str(REFUSED).format(message=message))


def _save(obj: models.Model, *, fields: list[str] | None = None, insert: bool = False) -> None:
    """Validate and save in a savepoint; any refusal becomes one readable ``ValidationError``."""
    try:
        obj.full_clean()
        with transaction.atomic():
            if insert:
                obj.save(force_insert=True)
            else:
                names = list(fields or [])
                if any(f.name == "updated_at" for f in obj._meta.concrete_fields):
                    names.append("updated_at")
                obj.save(update_fields=names)
    except (ValidationError, IntegrityError, DataError) as error:
        raise _refusal(obj, error) from error


@transaction.atomic
def record_visibility_set(
    *,
    obj: models.Model,
    visibility: str,
    user: Any,
    reason: str,
    source: Any = None,
    with_names: bool = False,
) -> list[models.Model]:
    """Publish (to researchers or everyone) or unpublish a record, for a reason.

    ``with_names``: for a person, apply the same visibility to their name variants that do not
    have it yet. Returns the records changed.
    """
    if visibility not in Visibility.values:
        raise ValidationError({"visibility": str(INVALID_VISIBILITY)})
    model = type(obj)
    record = model._default_manager.select_for_update().get(pk=obj.pk)
    if getattr(record, VISIBILITY_FIELD) == visibility:
        raise ApplicationError(str(VISIBILITY_UNCHANGED))
    records = [record]
    if with_names and isinstance(record, Person):
        records += list(
            record.name_variants.select_for_update().exclude(visibility=visibility).order_by("pk")
        )
    for item in records:
        four_eyes_check(obj=item, user=user, visibility=visibility)
    with audit_context(user=user, reason=reason, source=source):
        for item in records:
            setattr(item, VISIBILITY_FIELD, visibility)
            _save(item, fields=[VISIBILITY_FIELD])
    return records


@transaction.atomic
def change_revert(
    *,
    model: type[models.Model],
    pk: int,
    event_id: int,
    user: Any,
    reason: str,
    source: Any = None,
) -> models.Model:
    """Undo one change of a record: write back the values its fields had before it.

    An update is undone field by field (fields set by the database from other records are left
    alone); a delete is undone by restoring the record as it was. The revert is itself a change
    in the history, with its own user and reason.
    """
    changes = record_changes(model, pk)
    change = next((c for c in changes if c.pgh_id == event_id), None)
    if change is None:
        raise ApplicationError(str(CHANGE_NOT_FOUND))
    if not change.revertible:
        raise ApplicationError(str(CHANGE_NOT_REVERTIBLE).format(why=change.why_not))
    with audit_context(user=user, reason=reason, source=source, reverted=change.pgh_id):
        if change.label == "delete":
            return _restore(model, change, user=user)
        return _undo_update(model, pk, change, user=user)


def _undo_update(model: type[models.Model], pk: int, change: Change, *, user: Any) -> models.Model:
    record = model._default_manager.select_for_update().get(pk=pk)
    fields = revert_fields(change)
    restored = {item.field.name: item.old for item in fields}
    if VISIBILITY_FIELD in restored:
        four_eyes_check(obj=record, user=user, visibility=restored[VISIBILITY_FIELD])
    for item in fields:
        setattr(record, item.field.attname, item.old)
    _save(record, fields=[item.field.name for item in fields])
    return record


def _restore(model: type[models.Model], change: Change, *, user: Any) -> models.Model:
    values = {item.field.attname: item.old for item in change.fields}
    for name in ("created_at", "updated_at"):
        if any(f.name == name for f in model._meta.concrete_fields):
            values[name] = getattr(change.event, name)
    record = model(pk=change.event.pgh_obj_id, **values)
    if getattr(record, VISIBILITY_FIELD, None) in PUBLISHED:
        # A restored record comes back as it was, but publishing it again is a reviewer's call.
        four_eyes_check(obj=record, user=user, visibility=getattr(record, VISIBILITY_FIELD))
    _save(record, insert=True)
    return record
