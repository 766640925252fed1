"""Audit trail: every write to a curated model is recorded by database triggers.

``tracked`` installs django-pghistory triggers (insert, update, delete) on a model, so bulk
writes and raw SQL are recorded too. ``audit_context`` attaches who, why and from which source
to every event written inside it; services and commands wrap their writes in it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pghistory
from django.db import models

MISSING_REASON = "Every write needs a reason for the audit trail."


def tracked() -> Any:
    """Class decorator: record every insert, update and delete of the model."""
    return pghistory.track(
        pghistory.InsertEvent(),
        pghistory.UpdateEvent(),
        pghistory.DeleteEvent(),
        append_only=True,
    )


DERIVED_ATTRIBUTE = "derived_from_events"


def derived(model: Any) -> Any:
    """Class decorator for tables the database computes from curated ones (listing, statistics).

    They are rewritten by triggers, never curated: no history of their own (the history of the
    facts they come from is the audit) and no admin.
    """
    setattr(model, DERIVED_ATTRIBUTE, True)
    return model


def is_derived(model: Any) -> bool:
    return bool(getattr(model, DERIVED_ATTRIBUTE, False))


@contextmanager
def audit_context(
    *,
    reason: str,
    user: Any = None,
    source: Any = None,
    **extra: Any,
) -> Iterator[None]:
    """Attach the acting user, the reason and the source to the history events written inside."""
    if not reason or not reason.strip():
        raise ValueError(MISSING_REASON)
    context: dict[str, Any] = {"reason": reason.strip()}
    if user is not None and getattr(user, "pk", None) is not None:
        context["user"] = user.pk
        context["username"] = user.get_username()
    if source is not None:
        context["source"] = source.pk if isinstance(source, models.Model) else source
    context.update(extra)
    with pghistory.context(**context):
        yield
