"""Querysets compiled once per process and run again with other keys.

Building a queryset and compiling it into SQL costs the ORM about as long as PostgreSQL takes to
run a small indexed query. A page that runs the same shapes on every request (the profile: one
person and the records under them) compiles each shape once. A ``Statement`` keeps the SQL, its
parameters with the positions where placeholders stood (``KEY``, ``KEY - 1``, ...), and the
compiler that turns rows into what the queryset would have given: model instances with their
``select_related`` objects and annotations, or the dicts of ``.values()``. Each run puts the
request's keys where the placeholders were; nothing else changes.

So anything else a statement depends on (the viewer's tier, a date) must be part of the name it
is kept under (``statement(name, build)``). The SQL still goes through Django's cursor, so query
counting, logging and execute wrappers see it as any other query.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable, Sequence
from typing import Any, TypeVar, cast

from django.db import connections, models
from django.db.models.expressions import RawSQL
from django.db.models.query import get_related_populators  # type: ignore[attr-defined]

KEY = -987_654_321_987  # a placeholder: no id is negative
MAX_KEPT = 256  # statements kept per process; a full cache starts again


T = TypeVar("T")


class StatementError(RuntimeError):
    """A queryset that cannot become a statement (a placeholder went missing)."""


class Sql:
    """SQL with its parameters, ``keys`` of which are placeholders (``KEY``, ``KEY - 1``, ...)
    that each run replaces."""

    def __init__(self, sql: str, params: Sequence[Any], keys: int = 1) -> None:
        self.sql = sql
        self.params = tuple(params)
        self.slots: list[tuple[int, ...]] = []
        for number in range(keys):
            placeholder = KEY - number
            slots = tuple(i for i, value in enumerate(self.params) if value == placeholder)
            if not slots:
                raise StatementError(f"placeholder {placeholder} is not a parameter of: {sql}")
            self.slots.append(slots)

    def bind(self, keys: Sequence[Any]) -> list[Any]:
        """The parameters with ``keys`` in place of the placeholders."""
        if len(keys) != len(self.slots):
            raise TypeError(f"this statement takes {len(self.slots)} keys, not {len(keys)}")
        params = list(self.params)
        for slots, value in zip(self.slots, keys, strict=True):
            for slot in slots:
                params[slot] = value
        return params

    def fetchall(self, *keys: Any) -> list[tuple[Any, ...]]:
        """The rows, as the database driver gives them."""
        with connections["default"].cursor() as cursor:
            cursor.execute(self.sql, self.bind(keys))
            return cursor.fetchall()


class Statement(Sql):
    """``queryset`` compiled once, with ``keys`` placeholders (``KEY``, ``KEY - 1``, ...)."""

    def __init__(self, queryset: models.QuerySet[Any], keys: int = 1) -> None:
        self.alias = queryset.db
        self.model = queryset.model
        query = queryset.query
        compiler = query.get_compiler(using=self.alias)
        sql, params = compiler.as_sql()
        super().__init__(sql, params, keys)
        self.compiler = compiler
        self.values_names: list[str] | None = None
        if queryset._fields is not None:  # type: ignore[attr-defined]  # .values()
            self.values_names = [
                *query.extra_select,
                *query.values_select,
                *query.annotation_select,
            ]
            return
        select, klass_info = compiler.select, compiler.klass_info
        assert klass_info is not None
        start, end = klass_info["select_fields"][0], klass_info["select_fields"][-1] + 1
        self.model_slice = slice(start, end)
        self.init_list = [column[0].target.attname for column in select[start:end]]
        self.populators = get_related_populators(klass_info, select, self.alias)
        self.annotations = dict(compiler.annotation_col_map or {})

    def _rows(self, keys: Sequence[Any]) -> list[Any]:
        compiler = self.compiler
        with connections[self.alias].cursor() as cursor:
            cursor.execute(self.sql, self.bind(keys))
            rows = cursor.fetchall()
        if compiler.has_extra_select:
            rows = [row[: compiler.col_count] for row in rows]
        return list(compiler.results_iter(results=[rows]))

    def objects(self, *keys: Any) -> list[Any]:
        """The model instances the queryset would give for these keys."""
        found = []
        for row in self._rows(keys):
            obj = self.model.from_db(self.alias, self.init_list, row[self.model_slice])
            for populator in self.populators:
                populator.populate(row, obj)
            for name, position in self.annotations.items():
                setattr(obj, name, row[position])
            found.append(obj)
        return found

    def dicts(self, *keys: Any) -> list[dict[str, Any]]:
        """The rows of a ``.values()`` queryset, as dicts."""
        if self.values_names is None:
            raise TypeError("dicts() is for a .values() queryset")
        return [dict(zip(self.values_names, row, strict=True)) for row in self._rows(keys)]


def one_of(
    model: type[models.Model], column: str, placeholder: int = KEY, sql_type: str = "bigint"
) -> RawSQL:
    """A condition on ``model``: its ``column`` is one of the values of an array key (a list
    given for ``placeholder``), so that a statement keeps one shape whatever their number."""
    if not column.isidentifier() or not sql_type.replace(" ", "").isalpha():
        raise ValueError(f"not a column and type: {column!r}, {sql_type!r}")
    table = model._meta.db_table  # a model's own table: not input
    return RawSQL(  # noqa: S611
        f'"{table}"."{column}" = ANY(%s::{sql_type}[])',
        (placeholder,),
        output_field=models.BooleanField(),
    )


_kept: dict[Hashable, Any] = {}
_lock = threading.Lock()


def kept(name: Hashable, build: Callable[[], T]) -> T:
    """What ``build()`` gives (statements, or a structure of them), built the first time and
    kept under ``name`` for the life of the process."""
    try:
        return cast(T, _kept[name])
    except KeyError:
        pass
    made = build()
    with _lock:
        if len(_kept) >= MAX_KEPT:
            _kept.clear()
        _kept[name] = made
    return made


def statement(
    name: Hashable, build: Callable[[], models.QuerySet[Any]], *, keys: int = 1
) -> Statement:
    """The statement kept under ``name``, compiled from ``build()`` the first time."""
    return kept(name, lambda: Statement(build(), keys))


def forget() -> None:
    """Drop everything kept (after a schema change, in tests)."""
    with _lock:
        _kept.clear()
