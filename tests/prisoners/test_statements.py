"""Statements: a queryset compiled once gives, for any key, what the queryset itself gives."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.test.utils import CaptureQueriesContext

from events.models import Charge, DetentionEpisode
from prisoners.models import NameVariant, Person
from prisoners.statements import KEY, Statement, StatementError, forget, kept, statement

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh() -> None:
    forget()


def _fields(obj: object) -> dict[str, object]:
    return {f.attname: getattr(obj, f.attname) for f in obj._meta.concrete_fields}  # type: ignore[attr-defined]


def test_objects_equal_the_querysets_for_every_key(demo):
    def build(pk: int) -> QuerySet[DetentionEpisode]:
        return (
            DetentionEpisode.objects.filter(person_id=pk)
            .select_related("person", "country", "arrest_place")
            .annotate(
                charges_count=Count("charges"),
                has_charges=Exists(Charge.objects.filter(episode_id=OuterRef("pk"))),
            )
            .order_by("arrested_on", "id")
        )

    compiled = Statement(build(KEY))
    persons = list(
        Person.objects.filter(episodes__isnull=False).distinct().values_list("pk", flat=True)
    )
    assert len(persons) > 3
    for pk in persons:
        expected = list(build(pk))
        got = compiled.objects(pk)
        assert [_fields(e) for e in got] == [_fields(e) for e in expected]
        for mine, theirs in zip(got, expected, strict=True):
            assert mine.charges_count == theirs.charges_count
            assert mine.has_charges == theirs.has_charges
            assert _fields(mine.person) == _fields(theirs.person)  # select_related, no query
            assert mine.country.code == theirs.country.code
            assert (mine.arrest_place is None) == (theirs.arrest_place is None)
            assert mine._state.adding is False
            assert mine._state.db == "default"


def test_related_objects_come_without_queries(demo):
    pk = Person.objects.get(name="Maryia Kalesnikava").pk
    compiled = Statement(
        DetentionEpisode.objects.filter(person_id=KEY).select_related("person", "country")
    )
    with CaptureQueriesContext(connection) as queries:
        episodes = compiled.objects(pk)
        names = [(e.person.name, e.country.code) for e in episodes]
    assert names
    assert all(name == "Maryia Kalesnikava" for name, _code in names)
    assert len(queries.captured_queries) == 1  # the statement's own, seen by Django's cursor


def test_values_statements_give_dicts(demo):
    compiled = Statement(
        NameVariant.objects.filter(person_id=KEY).order_by("id").values("text", "language")
    )
    pk = Person.objects.get(name="Maryia Kalesnikava").pk
    assert compiled.dicts(pk) == list(
        NameVariant.objects.filter(person_id=pk).order_by("id").values("text", "language")
    )
    with pytest.raises(TypeError):
        Statement(Person.objects.filter(pk=KEY)).dicts(pk)


def test_several_keys(demo):
    compiled = Statement(
        Person.objects.filter(Q(pk=KEY) | Q(pk=KEY - 1)).order_by("id").only("id"), keys=2
    )
    first, second, third = Person.objects.order_by("id").values_list("pk", flat=True)[:3]
    assert [p.pk for p in compiled.objects(third, first)] == [first, third]
    assert [p.pk for p in compiled.objects(second, second)] == [second]
    with pytest.raises(TypeError):
        compiled.objects(first)


def test_a_queryset_without_its_placeholder_is_refused(db):
    with pytest.raises(StatementError):
        Statement(Person.objects.filter(pk=1))
    with pytest.raises(StatementError):
        Statement(Person.objects.filter(pk=KEY), keys=2)


def test_kept_builds_once_per_name(db):
    calls: list[int] = []

    def build() -> QuerySet[Person]:
        calls.append(1)
        return Person.objects.filter(pk=KEY)

    first = statement("a", build)
    assert statement("a", build) is first
    assert len(calls) == 1
    assert statement("b", build) is not first
    assert len(calls) == 2
    assert kept("c", lambda: "anything") == "anything"
    forget()
    assert statement("a", build) is not first
    assert len(calls) == 3
