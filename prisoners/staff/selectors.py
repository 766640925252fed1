"""Reads of the staff pages: what waits for review, facts without a source, terms ending this
month, long incommunicado periods. Staff see every record, drafts included."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import Exists, OuterRef, Q

from events.models import Citation, CourtDecision, IncommunicadoPeriod
from events.selectors import with_expected_end
from prisoners.models import Person, Visibility

from .records import Kind, reviewable_kinds

INCOMMUNICADO_DAYS = 183  # "more than six months"
# A source is the evidence and a citation the link to it: neither needs a citation itself.
NOT_FACTS = frozenset({"events.Source", "events.Citation"})
# Records derived from a cited one need no citation of their own: the Latin spellings generated
# from a primary name.
DERIVED_FACTS: dict[str, Q] = {"prisoners.NameVariant": Q(generated=True)}


def uncited(kind: Kind) -> Q:
    """The records of ``kind`` that should cite a source and cite none."""
    condition = ~Q(cited(kind.model))
    derived = DERIVED_FACTS.get(kind.label)
    return condition & ~derived if derived is not None else condition


def cited(model: type[models.Model]) -> Exists:
    """True for the rows of ``model`` that some citation points to."""
    content_type = ContentType.objects.get_for_model(model)
    return Exists(Citation.objects.filter(content_type=content_type, object_id=OuterRef("pk")))


def _base(kind: Kind) -> models.QuerySet[Any]:
    qs = kind.queryset()
    if kind.model is Person:
        qs = qs.filter(merged_into__isnull=True)
    return qs


def fact_kinds() -> list[Kind]:
    return [kind for kind in reviewable_kinds().values() if kind.label not in NOT_FACTS]


def review_list(
    *, kind: Kind, visibility: str = "", unsourced: bool = False, query: str = ""
) -> models.QuerySet[Any]:
    """Records of one kind for review, most recently changed first."""
    qs = _base(kind)
    if visibility:
        qs = qs.filter(visibility=visibility)
    if unsourced:
        qs = qs.filter(uncited(kind))
    if query.strip():
        from prisoners.admin import matching_persons

        persons = matching_persons(query)
        if kind.model is Person:
            qs = qs.filter(pk__in=persons)
        elif kind.person_path:
            qs = qs.filter(**{f"{kind.person_path}__in": persons})
        else:
            qs = qs.none()
    return qs.order_by("-updated_at", "-pk")


@dataclass(frozen=True)
class KindCount:
    kind: Kind
    count: int


def draft_counts() -> list[KindCount]:
    return [
        KindCount(kind, _base(kind).filter(visibility=Visibility.DRAFT).count())
        for kind in reviewable_kinds().values()
    ]


def unsourced_counts() -> list[KindCount]:
    return [KindCount(kind, _base(kind).filter(uncited(kind)).count()) for kind in fact_kinds()]


def month_bounds(on: dt.date) -> tuple[dt.date, dt.date]:
    """The first day of ``on``'s month and of the next month."""
    start = on.replace(day=1)
    following = (start + dt.timedelta(days=32)).replace(day=1)
    return start, following


def terms_ending(*, on: dt.date) -> models.QuerySet[Any]:
    """Persons whose expected end of term (``events.selectors.with_expected_end``) falls in the
    month of ``on``, soonest first."""
    start, following = month_bounds(on)
    sentenced = CourtDecision.objects.filter(
        episode__person=OuterRef("pk"),
        kind__in=(CourtDecision.Kind.SENTENCE, CourtDecision.Kind.APPEAL),
    ).filter(
        Q(term_years__isnull=False) | Q(term_months__isnull=False) | Q(term_days__isnull=False)
    )
    persons = Person.objects.current().filter(Exists(sentenced))
    return (
        with_expected_end(persons)
        .filter(expected_end__gte=start, expected_end__lt=following)
        .order_by("expected_end", "name", "pk")
    )


def long_incommunicado(*, on: dt.date) -> models.QuerySet[IncommunicadoPeriod]:
    """Incommunicado or solitary periods still open that began more than six months before
    ``on``, longest first. Periods with an unknown start are not counted (their length is not
    known)."""
    return (
        IncommunicadoPeriod.objects.filter(
            ended_on__isnull=True,
            started_on__lt=on - dt.timedelta(days=INCOMMUNICADO_DAYS),
            episode__person__merged_into__isnull=True,
        )
        .select_related("episode__person")
        .order_by("started_on", "pk")
    )


@dataclass(frozen=True)
class Dashboard:
    on: dt.date
    drafts: list[KindCount]
    unsourced: list[KindCount]
    terms_ending: int
    incommunicado: int
    proposals: int

    @property
    def drafts_total(self) -> int:
        return sum(item.count for item in self.drafts)

    @property
    def unsourced_total(self) -> int:
        return sum(item.count for item in self.unsourced)


def dashboard(*, on: dt.date) -> Dashboard:
    return Dashboard(
        on=on,
        drafts=draft_counts(),
        unsourced=unsourced_counts(),
        terms_ending=terms_ending(on=on).count(),
        incommunicado=long_incommunicado(on=on).count(),
        proposals=pending_proposals(),
    )


def pending_proposals() -> int:
    """Proposals from imported articles waiting for a decision."""
    from events.ingest.models import Proposal

    return Proposal.objects.filter(status=Proposal.Status.PENDING).count()
