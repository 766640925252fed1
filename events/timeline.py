"""Reads for the person profile and the release-deal pages, each in a fixed number of queries.

``person_profile`` loads one person with everything the profile shows in 19 queries at most,
whatever the number of events: the person (1); the derived status, place, days in detention and
expected end of term (``events.selectors.person_status``: 2 for the public, from the person's
listing row; 1 otherwise); names, recognitions, affiliations, biographies, identifiers,
episodes, transfer legs, death and, for researchers, at-risk flags (8 or 9); the charges, court
decisions, placements, incommunicado periods and releases of the person's episodes (5, none
without episodes); then the citations (1) and the claims (1) of all these records at once
(``evidence_for``). Each is a statement compiled once per tier (``prisoners.statements``):
building and compiling a queryset costs the ORM about as long as PostgreSQL takes to run it.

``deal_list`` and ``deal_page`` do the same for release deals.

The visibility rule (``prisoners.visibility``) decides everything: records come through
``Model.objects.visible_to``, citations and claims also need a visible source and a visible
field, and only the fields in ``visible_fields`` are turned into the facts the templates show.
Pass a ``Tier`` (``viewer_tier(request.user)``) rather than a user, so that the researcher check
runs once per request and not once per queryset.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import FieldDoesNotExist
from django.core.paginator import Page, Paginator
from django.db import connection, models
from django.db.models import Count, F, OuterRef, Prefetch, Q, Subquery
from django.db.models.expressions import RawSQL
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.formats import date_format
from django.utils.translation import get_language, get_language_info, gettext, ngettext

from prisoners.models import (
    Affiliation as AffiliationModel,
)
from prisoners.models import (
    AtRiskFlag,
    Country,
    DatePrecision,
    ExternalIdentifier,
    NameVariant,
    Person,
    PersonBiography,
    Place,
    Recognition,
)
from prisoners.selectors import localized_name, names_prefetch, person_urls
from prisoners.statements import KEY, Statement, kept, statement
from prisoners.visibility import (
    Tier,
    cited_source_filter,
    merged_filter,
    profile_filter,
    redact,
    viewer_tier,
    visible_fields,
)

from .models import (
    Charge,
    Citation,
    Claim,
    CourtDecision,
    CustodyPlacement,
    DealDestination,
    DealListing,
    DealOnwardCountry,
    DealParty,
    Death,
    DetentionEpisode,
    IncommunicadoPeriod,
    Release,
    ReleaseDeal,
    Transfer,
)
from .selectors import (
    IN_CUSTODY,
    PersonStatus,
    episode_records,
    person_status,
    placement_end_seen,
)

DEAL_PERSONS_PER_PAGE = 100
MERGE_CHAIN_LIMIT = 20


# --- Small display helpers -------------------------------------------------------------------


def partial_date(value: dt.date | None, precision: str = DatePrecision.DAY) -> str:
    """A date as much as it is known, in the active language: '2020', 'March 2024', ..."""
    if value is None or precision == DatePrecision.UNKNOWN:
        return gettext("date unknown")
    if precision == DatePrecision.YEAR:
        return str(value.year)
    if precision == DatePrecision.MONTH:
        return date_format(value, "YEAR_MONTH_FORMAT")
    if precision == DatePrecision.ON_OR_BEFORE:
        return gettext("on or before %(date)s") % {"date": date_format(value, "DATE_FORMAT")}
    return date_format(value, "DATE_FORMAT")


@functools.lru_cache(maxsize=4096)
def partial_date_in(value: dt.date | None, precision: str, language: str) -> str:
    """``partial_date`` in ``language``, kept per process: a page of a hundred releases formats
    a hundred dates, and the same dates come back on every page."""
    with translation.override(language):
        return partial_date(value, precision)


def period(
    start: dt.date | None,
    end: dt.date | None,
    start_precision: str = DatePrecision.DAY,
) -> str:
    """'from X until Y', 'from X', 'until Y' or 'dates unknown'."""
    known_start = start is not None and start_precision != DatePrecision.UNKNOWN
    if known_start and end is not None:
        return gettext("from %(start)s until %(end)s") % {
            "start": partial_date(start, start_precision),
            "end": partial_date(end),
        }
    if known_start:
        return gettext("from %(start)s") % {"start": partial_date(start, start_precision)}
    if end is not None:
        return gettext("until %(end)s") % {"end": partial_date(end)}
    return gettext("dates unknown")


def iso(value: dt.date | None, precision: str = DatePrecision.DAY) -> str:
    """A machine-readable date for ``<time datetime>``: as precise as it is known."""
    if value is None or precision == DatePrecision.UNKNOWN:
        return ""
    if precision == DatePrecision.YEAR:
        return f"{value.year:04d}"
    if precision == DatePrecision.MONTH:
        return f"{value.year:04d}-{value.month:02d}"
    return value.isoformat()


def place_name(place: Place | None, language: str) -> str:
    if place is None:
        return ""
    return str(getattr(place, f"name_{language}", "") or place.name)


def country_name(country: Country | None, language: str) -> str:
    return country.name_in(language) if country is not None else ""


def term_text(decision: CourtDecision, fields: set[str]) -> str:
    """The term of a court decision as far as this viewer may see it."""
    parts = []
    for name, singular, plural in (
        ("term_years", "%(n)d year", "%(n)d years"),
        ("term_months", "%(n)d month", "%(n)d months"),
        ("term_days", "%(n)d day", "%(n)d days"),
    ):
        value = getattr(decision, name)
        if name in fields and value:
            parts.append(ngettext(singular, plural, value) % {"n": value})
    if parts:
        return " ".join(parts)
    if "term_description" in fields:
        return decision.term_description
    return ""


class FieldRule:
    """``visible_fields`` per model for one tier, computed once per model."""

    def __init__(self, tier: Tier) -> None:
        self.tier = tier
        self._cache: dict[str, set[str]] = {}

    def __call__(self, model: type[models.Model] | models.Model) -> set[str]:
        label = model._meta.label
        if label not in self._cache:
            self._cache[label] = visible_fields(model, self.tier)
        return self._cache[label]


# --- Citations and claims of many records at once --------------------------------------------


@dataclass
class ClaimView:
    claim: Claim
    value: str


@dataclass
class ClaimSet:
    """The claims of several sources about one field of one record, side by side."""

    field_name: str
    label: str
    claims: list[ClaimView]

    @property
    def disagree(self) -> bool:
        return len({c.value for c in self.claims}) > 1

    @property
    def accepted(self) -> ClaimView | None:
        return next((c for c in self.claims if c.claim.accepted), None)


def _key(obj: models.Model) -> tuple[str, int]:
    return (obj._meta.label_lower, int(obj.pk))


def _claim_value(model: type[models.Model], field_name: str, value: Any) -> str:
    try:
        model_field = model._meta.get_field(field_name)
    except FieldDoesNotExist:  # a field removed since the claim was made
        return str(value)
    choices = dict(getattr(model_field, "flatchoices", None) or ())
    if choices and value in choices:
        return str(choices[value])
    if value is None:
        return gettext("(none)")
    return str(value)


def _field_label(model: type[models.Model], field_name: str) -> str:
    try:
        return str(model._meta.get_field(field_name).verbose_name)  # type: ignore[union-attr]
    except FieldDoesNotExist:
        return field_name


@dataclass
class Evidence:
    """Citations and claims keyed by record; only what the viewer may see is kept."""

    citations: dict[tuple[str, int], list[Citation]] = field(default_factory=dict)
    claims: dict[tuple[str, int], list[ClaimSet]] = field(default_factory=dict)

    def citations_of(
        self, obj: models.Model | None, field_name: str | None = None
    ) -> list[Citation]:
        """Citations of ``obj``: all of them, or only those of one field ('' = whole record)."""
        if obj is None:
            return []
        found = self.citations.get(_key(obj), [])
        if field_name is None:
            return found
        return [c for c in found if c.field_name == field_name]

    def claims_of(self, obj: models.Model | None) -> list[ClaimSet]:
        return [] if obj is None else self.claims.get(_key(obj), [])

    def sources(self) -> list[tuple[Any, list[Citation]]]:
        """Every source cited, once, with its citations, in order of first appearance."""
        by_source: dict[int, tuple[Any, list[Citation]]] = {}
        for group in self.citations.values():
            for citation in group:
                by_source.setdefault(citation.source_id, (citation.source, []))[1].append(citation)
        return list(by_source.values())


def _about_targets(model: type[Citation | Claim]) -> RawSQL:
    """A condition on citations or claims: about one of the records given as three arrays (app
    labels, model names, ids; the placeholders ``KEY``, ``KEY - 1``, ``KEY - 2``), so that the
    statement has one shape whatever the number of records."""
    table = model._meta.db_table  # a model's own table name, not input
    return RawSQL(  # noqa: S611
        f'("{table}"."content_type_id", "{table}"."object_id") IN ('  # noqa: S608
        "SELECT ct.id, target.object_id"
        " FROM unnest(%s::text[], %s::text[], %s::bigint[])"
        " AS target(app_label, model, object_id)"
        " JOIN django_content_type ct"
        " ON ct.app_label = target.app_label AND ct.model = target.model)",
        (KEY, KEY - 1, KEY - 2),
        output_field=models.BooleanField(),
    )


def evidence_for(objects: Iterable[models.Model | None], viewer: Any) -> Evidence:
    """The citations and claims of all ``objects`` in two queries (none if there is nothing).

    The caller passes only records the viewer may see. A citation needs its own visibility and
    a visible source; a citation or claim about one field needs that field to be visible.
    """
    tier = viewer_tier(viewer)
    targets: dict[str, set[int]] = defaultdict(set)
    for obj in objects:
        if obj is not None and obj.pk is not None:
            targets[obj._meta.label_lower].add(int(obj.pk))
    if not targets:
        return Evidence()
    keys: tuple[list[str], list[str], list[int]] = ([], [], [])
    for label, ids in sorted(targets.items()):
        app_label, model_name = label.split(".")
        for pk in sorted(ids):
            keys[0].append(app_label)
            keys[1].append(model_name)
            keys[2].append(pk)
    fields = FieldRule(tier)
    evidence = Evidence()
    citations = statement(
        ("evidence.citations", tier),
        lambda: (
            Citation.objects.visible_to(tier)
            .filter(cited_source_filter(tier))
            .filter(_about_targets(Citation))
            .select_related("source", "content_type")
            .order_by("content_type_id", "object_id", "id")
        ),
        keys=3,
    ).objects(*keys)
    for citation in citations:
        model = citation.content_type.model_class()
        if model is None or (citation.field_name and citation.field_name not in fields(model)):
            continue
        key = (model._meta.label_lower, citation.object_id)
        evidence.citations.setdefault(key, []).append(citation)
    claims = statement(
        ("evidence.claims", tier),
        lambda: (
            Claim.objects.filter(cited_source_filter(tier))
            .filter(_about_targets(Claim))
            .select_related("source", "content_type")
            .order_by("content_type_id", "object_id", "field_name", "-accepted", "id")
        ),
        keys=3,
    ).objects(*keys)
    for claim in claims:
        model = claim.content_type.model_class()
        if model is None or claim.field_name not in fields(model):
            continue
        sets = evidence.claims.setdefault((model._meta.label_lower, claim.object_id), [])
        if not sets or sets[-1].field_name != claim.field_name:
            sets.append(ClaimSet(claim.field_name, _field_label(model, claim.field_name), []))
        sets[-1].claims.append(ClaimView(claim, _claim_value(model, claim.field_name, claim.value)))
    return evidence


# --- The profile ------------------------------------------------------------------------------


@dataclass
class Fact:
    label: str
    value: str
    url: str = ""


@dataclass
class DealLink:
    title: str
    url: str


@dataclass
class ChainStop:
    country: str
    code: str
    place: str = ""
    when: str = ""
    when_iso: str = ""
    mode: str = ""

    @property
    def label(self) -> str:
        return f"{self.country} ({self.place})" if self.place else self.country


@dataclass
class Chain:
    """A movement across borders: the countries in order, e.g. Belarus → Ukraine → Poland."""

    stops: list[ChainStop]

    @property
    def summary(self) -> str:
        return " → ".join(stop.country for stop in self.stops)


@dataclass
class Entry:
    """One event on the timeline, with its sources and the claims about it."""

    kind: str
    anchor: str
    title: str
    when: str
    when_iso: str = ""
    facts: list[Fact] = field(default_factory=list)
    citations: list[Citation] = field(default_factory=list)
    claims: list[ClaimSet] = field(default_factory=list)
    isolation: bool = False
    note: str = ""
    deal: DealLink | None = None
    chain: Chain | None = None
    sort_key: tuple[Any, ...] = ()


@dataclass
class EpisodeBlock:
    anchor: str
    title: str
    entries: list[Entry]


@dataclass
class NameView:
    text: str
    kind: str
    primary: bool
    schemes: list[str]


@dataclass
class NameGroup:
    language: str
    language_name: str
    script: str
    script_name: str
    variants: list[NameView]


@dataclass
class Profile:
    pk: int
    name: str
    facts: list[Fact]
    photo_url: str
    names: list[NameGroup]
    name_citations: list[Citation]
    person_citations: list[Citation]
    person_claims: list[ClaimSet]
    recognitions: list[Entry]
    affiliations: list[Fact]
    biography: tuple[str, str] | None
    identifiers: list[Fact]
    risks: list[Fact]
    status: PersonStatus
    status_label: str
    where_country: str
    where_place: str
    in_custody: bool
    days_in_detention: int | None
    days_partial: bool
    expected_end: str
    expected_end_iso: str
    letter_address: str | None
    letters_reach: str | None
    episodes: list[EpisodeBlock]
    other_entries: list[Entry]
    chains: list[Chain]
    isolation: list[Entry]

    @property
    def url(self) -> str:
        return reverse("prisoners:detail", args=[self.pk])


def _person_records(tier: Tier) -> dict[str, models.QuerySet[Any]]:
    """The records of a person ``tier`` sees, by the attribute the profile keeps them in."""
    records: dict[str, models.QuerySet[Any]] = {
        "shown_variants": NameVariant.objects.visible_to(tier).order_by(
            "language", "script", "kind", "text"
        ),
        "shown_recognitions": Recognition.objects.visible_to(tier)
        .select_related("organisation")
        .order_by(F("recognised_on").asc(nulls_last=True), "id"),
        "shown_affiliations": AffiliationModel.objects.visible_to(tier)
        .select_related("organisation")
        .order_by("id"),
        "shown_biographies": PersonBiography.objects.visible_to(tier).order_by("language"),
        "shown_identifiers": ExternalIdentifier.objects.visible_to(tier).order_by(
            "scheme", "value"
        ),
        "shown_episodes": DetentionEpisode.objects.visible_to(tier)
        .select_related("country", "arrest_place")
        .order_by(F("arrested_on").asc(nulls_first=True), "id"),
        "shown_transfers": Transfer.objects.visible_to(tier)
        .select_related("from_country", "to_country", "from_place", "to_place")
        .order_by(F("release_id").asc(nulls_last=True), "sequence", "id"),
        "shown_death": Death.objects.visible_to(tier).select_related("place"),
    }
    if "kind" in visible_fields(AtRiskFlag, tier):
        records["shown_risks"] = AtRiskFlag.objects.visible_to(tier).order_by("kind", "id")
    return records


def _profile_statements(
    tier: Tier,
) -> tuple[Statement, dict[str, Statement], dict[str, Statement]]:
    """The statements of ``load_profile_person`` for one tier: the person, their records, the
    records of their episodes."""
    person = (
        Person.objects.filter(profile_filter(tier)).select_related("home_region").filter(pk=KEY)
    )
    return (
        Statement(person),
        {
            attribute: Statement(queryset.filter(person_id=KEY))
            for attribute, queryset in _person_records(tier).items()
        },
        {
            attribute: Statement(queryset.filter(episode__person_id=KEY))
            for attribute, (_relation, queryset) in episode_records(tier).items()
        },
    )


def load_profile_person(pk: int, tier: Tier) -> Any:
    """Person ``pk`` if ``tier`` may open their profile, with every record of theirs it sees, in
    the attributes of ``_person_records`` and, on each episode, of ``episode_records``; None
    otherwise.

    Each query is a ``prisoners.statements`` statement, compiled once per tier: one for the
    person, one per kind of record (all of the person's, by ``person_id``, or through their
    episodes). Records of episodes the tier does not see are dropped here."""
    person_statement, person_records, episode_statements = kept(
        ("profile", tier), lambda: _profile_statements(tier)
    )
    found = person_statement.objects(pk)
    if not found:
        return None
    person = found[0]
    for attribute, records in person_records.items():
        rows = records.objects(pk)
        person_field = rows[0]._meta.get_field("person") if rows else None
        for row in rows:
            person_field.set_cached_value(row, person)  # type: ignore[union-attr]
        if attribute == "shown_death":
            setattr(person, attribute, rows[0] if rows else None)
        else:
            setattr(person, attribute, rows)
    episodes = {episode.pk: episode for episode in person.shown_episodes}
    for episode in episodes.values():
        episode.shown_release = None
    for attribute, records in episode_statements.items() if episodes else ():
        single = attribute == "shown_release"
        if not single:
            for episode in episodes.values():
                setattr(episode, attribute, [])
        rows = records.objects(pk)
        for row in rows:
            episode = episodes.get(row.episode_id)
            if episode is None:  # an episode this tier does not see
                continue
            row._meta.get_field("episode").set_cached_value(row, episode)
            if single:
                episode.shown_release = row
            else:
                getattr(episode, attribute).append(row)
    return person


def merged_target(*, pk: int, viewer: Any) -> int | None:
    """Where the old URL of a merged person leads: the end of its ``merged_into`` chain, if the
    viewer may see both the merged record (as it was) and the profile it ends in."""
    tier = viewer_tier(viewer)
    target = (
        Person.objects.filter(merged_filter(tier), pk=pk)
        .values_list("merged_into_id", flat=True)
        .first()
    )
    seen = {pk}
    for _ in range(MERGE_CHAIN_LIMIT):
        if target is None or target in seen:
            return None
        seen.add(target)
        onward = Person.objects.filter(pk=target).values_list("merged_into_id", flat=True).first()
        if onward is None:
            break
        target = onward
    else:
        return None
    return target if Person.objects.filter(profile_filter(tier), pk=target).exists() else None


class _Builder:
    """Turns the loaded person into a ``Profile``: only visible fields become facts."""

    def __init__(self, person: Any, tier: Tier, language: str, evidence: Evidence) -> None:
        self.person = person
        self.tier = tier
        self.language = language
        self.evidence = evidence
        self.fields = FieldRule(tier)

    def entry(self, obj: models.Model, kind: str, **values: Any) -> Entry:
        return Entry(
            kind=kind,
            anchor=f"{kind}-{obj.pk}",
            citations=self.evidence.citations_of(obj),
            claims=self.evidence.claims_of(obj),
            **values,
        )

    # Episodes and what happens in them.

    def arrest(self, episode: DetentionEpisode) -> Entry:
        f = self.fields(DetentionEpisode)
        facts = []
        if "country" in f:
            facts.append(Fact(gettext("Held by"), country_name(episode.country, self.language)))
        if "arrest_place" in f and episode.arrest_place:
            facts.append(Fact(gettext("Place"), place_name(episode.arrest_place, self.language)))
        if "arresting_authority" in f and episode.arresting_authority:
            facts.append(Fact(gettext("Arresting authority"), episode.arresting_authority))
        if "summary" in f and episode.summary:
            facts.append(Fact(gettext("Case summary"), episode.summary))
        shown = "arrested_on" in f
        return self.entry(
            episode,
            "arrest",
            title=gettext("Arrest"),
            when=partial_date(
                episode.arrested_on if shown else None, episode.arrested_on_precision
            ),
            when_iso=iso(episode.arrested_on, episode.arrested_on_precision) if shown else "",
            facts=facts,
            sort_key=(0, dt.date.min, 0, episode.pk),
        )

    def charge(self, charge: Charge) -> Entry:
        f = self.fields(Charge)
        article = charge.article
        label = ""
        if "article" in f:
            title = (
                getattr(article, f"title_{self.language}", "") if self.language != "en" else ""
            ) or article.title
            label = gettext("%(code)s, article %(number)s") % {
                "code": article.code.short_name,
                "number": article.number,
            }
            if "part" in f and charge.part:
                label += " " + gettext("part %(part)s") % {"part": charge.part}
            if title:
                label += f": {title}"
        charged_on = charge.charged_on if "charged_on" in f else None
        return self.entry(
            charge,
            "charge",
            title=gettext("Charge"),
            when=partial_date(charged_on),
            when_iso=iso(charged_on),
            facts=[Fact(gettext("Article"), label)] if label else [],
            sort_key=(1, charged_on or dt.date.max, 1, charge.pk),
        )

    def decision(self, decision: CourtDecision) -> Entry:
        f = self.fields(CourtDecision)
        facts = []
        if "court" in f and decision.court:
            facts.append(Fact(gettext("Court"), decision.court))
        if "judge" in f and decision.judge:
            facts.append(Fact(gettext("Judge"), decision.judge))
        term = term_text(decision, f)
        if term:
            facts.append(Fact(gettext("Term"), term))
        if "regime" in f and decision.regime:
            facts.append(Fact(gettext("Regime"), str(decision.get_regime_display())))
        decided_on = decision.decided_on if "decided_on" in f else None
        return self.entry(
            decision,
            "decision",
            title=str(decision.get_kind_display()) if "kind" in f else gettext("Court decision"),
            when=partial_date(decided_on, decision.decided_on_precision),
            when_iso=iso(decided_on, decision.decided_on_precision),
            facts=facts,
            sort_key=(1, decided_on or dt.date.max, 2, decision.pk),
        )

    def placement(self, placement: CustodyPlacement) -> Entry:
        f = self.fields(CustodyPlacement)
        facts = []
        if "facility" in f and placement.facility:
            facts.append(Fact(gettext("Facility"), place_name(placement.facility, self.language)))
        started = placement.started_on if "started_on" in f else None
        precision = placement.started_on_precision
        # An end cut by a release or death this viewer does not see is not shown either.
        ended = placement_end_seen(placement, self.tier) if "ended_on" in f else None
        return self.entry(
            placement,
            "placement",
            title=str(placement.get_kind_display()) if "kind" in f else gettext("Placement"),
            when=period(started, ended, precision),
            when_iso=iso(started, precision),
            facts=facts,
            sort_key=(1, started or dt.date.max, 3, placement.pk),
        )

    def isolation(self, item: IncommunicadoPeriod) -> Entry:
        f = self.fields(IncommunicadoPeriod)
        started = item.started_on if "started_on" in f else None
        ended = item.ended_on if "ended_on" in f else None
        return self.entry(
            item,
            "isolation",
            title=str(item.get_kind_display()) if "kind" in f else gettext("Incommunicado"),
            when=period(started, ended, item.started_on_precision),
            when_iso=iso(started, item.started_on_precision),
            isolation=True,
            note=gettext("Held alone, apart from other prisoners.")
            if item.kind == IncommunicadoPeriod.Kind.SOLITARY
            else gettext("No contact with family, lawyers or letters."),
            sort_key=(1, started or dt.date.max, 4, item.pk),
        )

    def release(self, release: Any, chain: Chain | None) -> Entry:
        f = self.fields(Release)
        facts = []
        kind = str(release.get_kind_display()) if "kind" in f else ""
        if kind:
            facts.append(Fact(gettext("Kind"), kind))
        if "place" in f and release.place:
            facts.append(Fact(gettext("Place"), place_name(release.place, self.language)))
        deal = None
        if "deal" in f and release.deal_id and release.deal_shown:
            deal = DealLink(release.deal.title, release.deal.get_absolute_url())
        shown = "released_on" in f
        return self.entry(
            release,
            "release",
            title=gettext("Release: %(kind)s") % {"kind": kind} if kind else gettext("Release"),
            when=partial_date(
                release.released_on if shown else None, release.released_on_precision
            ),
            when_iso=iso(release.released_on, release.released_on_precision) if shown else "",
            facts=facts,
            deal=deal,
            chain=chain,
            sort_key=(2, release.released_on, 5, release.pk),
        )

    def transfer(self, leg: Transfer) -> Entry:
        f = self.fields(Transfer)
        origin = country_name(leg.from_country, self.language) if "from_country" in f else "?"
        destination = country_name(leg.to_country, self.language) if "to_country" in f else "?"
        facts = []
        if "from_place" in f and leg.from_place:
            facts.append(Fact(gettext("From"), place_name(leg.from_place, self.language)))
        if "to_place" in f and leg.to_place:
            facts.append(Fact(gettext("To"), place_name(leg.to_place, self.language)))
        if "mode" in f:
            facts.append(Fact(gettext("Mode"), str(leg.get_mode_display())))
        if "documents" in f:
            facts.append(Fact(gettext("Documents"), str(leg.get_documents_display())))
        on = leg.transferred_on if "transferred_on" in f else None
        return self.entry(
            leg,
            "transfer",
            title=gettext("Transfer: %(from)s → %(to)s") % {"from": origin, "to": destination},
            when=partial_date(on, leg.transferred_on_precision),
            when_iso=iso(on, leg.transferred_on_precision),
            facts=facts,
            sort_key=(3, on or dt.date.max, leg.sequence, leg.pk),
        )

    def death(self, death: Death) -> Entry:
        f = self.fields(Death)
        in_custody = "in_custody" in f and death.in_custody
        on = death.died_on if "died_on" in f else None
        return self.entry(
            death,
            "death",
            title=gettext("Died in custody") if in_custody else gettext("Death"),
            when=partial_date(on, death.died_on_precision),
            when_iso=iso(on, death.died_on_precision),
            sort_key=(2, on or dt.date.max, 6, death.pk),
        )

    def chain(self, legs: list[Transfer]) -> Chain:
        f = self.fields(Transfer)
        first = legs[0]
        stops = [
            ChainStop(
                country=country_name(first.from_country, self.language),
                code=first.from_country.code,
                place=place_name(first.from_place, self.language) if "from_place" in f else "",
            )
        ]
        for number, leg in enumerate(legs):
            if number and stops[-1].code != leg.from_country.code:  # a gap in the chain
                stops.append(
                    ChainStop(country_name(leg.from_country, self.language), leg.from_country.code)
                )
            on = leg.transferred_on if "transferred_on" in f else None
            stops.append(
                ChainStop(
                    country=country_name(leg.to_country, self.language),
                    code=leg.to_country.code,
                    place=place_name(leg.to_place, self.language) if "to_place" in f else "",
                    when=partial_date(on, leg.transferred_on_precision) if on else "",
                    when_iso=iso(on, leg.transferred_on_precision),
                    mode=str(leg.get_mode_display())
                    if "mode" in f and leg.mode != Transfer.Mode.UNKNOWN
                    else "",
                )
            )
        return Chain(stops)

    def episode_title(self, episode: DetentionEpisode) -> str:
        f = self.fields(DetentionEpisode)
        country = country_name(episode.country, self.language) if "country" in f else ""
        if "arrested_on" in f and episode.arrested_on:
            start = partial_date(episode.arrested_on, episode.arrested_on_precision)
            text = gettext("Detention from %(start)s") % {"start": start}
        else:
            text = gettext("Detention, date of arrest unknown")
        return f"{text} ({country})" if country else text


def person_profile(
    *, pk: int, viewer: Any, language: str | None = None, on: dt.date | None = None
) -> Profile | None:
    """Everything the profile page of person ``pk`` shows to ``viewer``; None if they may not
    open it (unpublished for them, name withheld, merged, or no such person)."""
    tier = viewer_tier(viewer)
    language = (language or get_language() or "en")[:2]
    on = on or timezone.localdate()
    person: Any = load_profile_person(pk, tier)
    if person is None:
        return None
    episodes: list[Any] = person.shown_episodes
    transfers: list[Transfer] = person.shown_transfers
    death: Death | None = person.shown_death
    records: list[models.Model | None] = [
        person,
        *person.shown_variants,
        *person.shown_recognitions,
        *person.shown_affiliations,
        *episodes,
        *transfers,
        death,
    ]
    for episode in episodes:
        records += [
            *episode.shown_charges,
            *episode.shown_decisions,
            *episode.shown_placements,
            *episode.shown_isolation,
            episode.shown_release,
        ]
    evidence = evidence_for(records, tier)
    build = _Builder(person, tier, language, evidence)

    # Transfer legs: one chain per release (legs without a release form their own chain).
    legs_by_release: dict[int | None, list[Transfer]] = defaultdict(list)
    for leg in transfers:
        legs_by_release[leg.release_id].append(leg)
    chains = {release_id: build.chain(legs) for release_id, legs in legs_by_release.items()}
    shown_release_ids = {e.shown_release.pk for e in episodes if e.shown_release is not None}

    blocks = []
    for episode in episodes:
        entries = [build.arrest(episode)]
        entries += [build.charge(c) for c in episode.shown_charges]
        entries += [build.decision(d) for d in episode.shown_decisions]
        entries += [build.placement(p) for p in episode.shown_placements]
        entries += [build.isolation(i) for i in episode.shown_isolation]
        release = episode.shown_release
        if release is not None:
            entries.append(build.release(release, chains.get(release.pk)))
            entries += [build.transfer(leg) for leg in legs_by_release.get(release.pk, [])]
        if death is not None and death.episode_id == episode.pk:
            entries.append(build.death(death))
        entries.sort(key=lambda e: e.sort_key)
        blocks.append(EpisodeBlock(f"episode-{episode.pk}", build.episode_title(episode), entries))
    other = [
        build.transfer(leg)
        for release_id, legs in legs_by_release.items()
        if release_id not in shown_release_ids
        for leg in legs
    ]
    if death is not None and death.episode_id not in {e.pk for e in episodes}:
        other.append(build.death(death))
    other.sort(key=lambda e: (e.sort_key[1], e.sort_key[2:]))

    # Names, grouped by language and script; the primary ones give the localised name.
    variants: list[NameVariant] = person.shown_variants
    person.shown_names = [v for v in variants if v.kind == NameVariant.Kind.PRIMARY]
    groups: dict[tuple[str, str], NameGroup] = {}
    for variant in sorted(variants, key=lambda v: (v.language, v.script, v.kind != "primary")):
        group = groups.get((variant.language, variant.script))
        if group is None:
            group = groups[(variant.language, variant.script)] = NameGroup(
                variant.language,
                _language_name(variant.language),
                variant.script,
                str(variant.get_script_display()),
                [],
            )
        group.variants.append(
            NameView(
                variant.text,
                str(variant.get_kind_display()),
                variant.kind == NameVariant.Kind.PRIMARY,
                list(variant.schemes),
            )
        )
    name_citations = evidence.citations_of(person, "name")
    for variant in variants:
        name_citations += evidence.citations_of(variant)

    status = person_status(person=person.pk, on=on, tier=tier)
    return Profile(
        pk=person.pk,
        name=localized_name(person, language, tier),
        facts=_person_facts(person, build),
        photo_url=_photo_url(person, build),
        names=list(groups.values()),
        name_citations=_unique(name_citations),
        person_citations=[c for c in evidence.citations_of(person) if c.field_name != "name"],
        person_claims=evidence.claims_of(person),
        recognitions=[_recognition(r, build) for r in person.shown_recognitions],
        affiliations=_affiliations(person, build),
        biography=_biography(person, language),
        identifiers=_identifiers(person, build),
        risks=_risks(person, build),
        status=status,
        status_label=status.label,
        **_where_now(status, episodes, transfers, language),
        in_custody=status.status in IN_CUSTODY,
        days_in_detention=status.days_in_detention
        if any(e.arrested_on for e in episodes)
        else None,
        days_partial=any(e.arrested_on_precision != DatePrecision.DAY for e in episodes),
        expected_end=partial_date(status.expected_end) if status.expected_end else "",
        expected_end_iso=iso(status.expected_end),
        letter_address=person.letter_address if "letter_address" in build.fields(Person) else None,
        letters_reach=str(person.get_letters_reach_display())
        if "letters_reach" in build.fields(Person)
        else None,
        episodes=blocks,
        other_entries=other,
        chains=[chains[key] for key in legs_by_release],
        isolation=[e for block in blocks for e in block.entries if e.isolation],
    )


def _language_name(code: str) -> str:
    try:
        return str(get_language_info(code)["name_translated"])
    except KeyError:
        return code


def _unique(citations: list[Citation]) -> list[Citation]:
    seen: set[tuple[int, str]] = set()
    result = []
    for citation in citations:
        key = (citation.source_id, citation.quote)
        if key not in seen:
            seen.add(key)
            result.append(citation)
    return result


def _person_facts(person: Any, build: _Builder) -> list[Fact]:
    data = redact(person, build.tier)
    facts = []
    if "birth_date" in data and person.birth_date:
        facts.append(
            Fact(gettext("Born"), partial_date(person.birth_date, person.birth_date_precision))
        )
    elif data.get("birth_year"):
        facts.append(Fact(gettext("Born"), str(data["birth_year"])))
    if "gender" in data and person.gender != Person.Gender.UNKNOWN:
        facts.append(Fact(gettext("Gender"), str(person.get_gender_display())))
    if data.get("occupation"):
        facts.append(Fact(gettext("Occupation"), person.occupation))
    if data.get("home_region"):
        region = person.home_region
        name = getattr(region, f"name_{build.language}", "") or region.name
        facts.append(Fact(gettext("Home region"), name))
    return facts


def _photo_url(person: Person, build: _Builder) -> str:
    if "photo" in build.fields(Person) and person.photo_consent and person.photo:
        return str(person.photo.url)
    return ""


def _recognition(recognition: Recognition, build: _Builder) -> Entry:
    f = build.fields(Recognition)
    since = recognition.recognised_on if "recognised_on" in f else None
    facts = []
    if "withdrawn_on" in f and recognition.withdrawn_on:
        facts.append(Fact(gettext("Withdrawn"), partial_date(recognition.withdrawn_on)))
    return build.entry(
        recognition,
        "recognition",
        title=recognition.organisation.name if "organisation" in f else "",
        when=partial_date(since, recognition.recognised_on_precision) if since else "",
        when_iso=iso(since, recognition.recognised_on_precision),
        facts=facts,
    )


def _affiliations(person: Any, build: _Builder) -> list[Fact]:
    f = build.fields(AffiliationModel)
    result = []
    for affiliation in person.shown_affiliations:
        if "organisation" in f:
            role = affiliation.role if "role" in f else ""
            result.append(Fact(role or gettext("Member"), affiliation.organisation.name))
    return result


def _biography(person: Any, language: str) -> tuple[str, str] | None:
    """The biography in the interface language, else English, else any: (language, text)."""
    by_language = {b.language: b.text for b in person.shown_biographies}
    for candidate in (language, "en", *by_language):
        if candidate in by_language:
            return candidate, by_language[candidate]
    return None


def _identifiers(person: Any, build: _Builder) -> list[Fact]:
    f = build.fields(ExternalIdentifier)
    if "value" not in f:
        return []
    return [
        Fact(
            str(i.get_scheme_display()) if "scheme" in f else "",
            i.value,
            i.url if "url" in f else "",
        )
        for i in person.shown_identifiers
    ]


def _risks(person: Any, build: _Builder) -> list[Fact]:
    f = build.fields(AtRiskFlag)
    if "kind" not in f:
        return []
    return [
        Fact(
            str(flag.get_kind_display()),
            gettext("since %(date)s") % {"date": partial_date(flag.since)}
            if "since" in f and flag.since
            else "",
        )
        for flag in getattr(person, "shown_risks", [])
        if flag.until is None
    ]


def _where_now(
    status: PersonStatus, episodes: list[Any], transfers: list[Transfer], language: str
) -> dict[str, str]:
    """Country and place now, named only when a record the viewer sees names them."""
    countries: dict[int, Country] = {}
    places: dict[int, Place] = {}
    for episode in episodes:
        countries[episode.country_id] = episode.country
        for placement in episode.shown_placements:
            if placement.facility is not None:
                places[placement.facility.pk] = placement.facility
    for leg in transfers:
        countries[leg.to_country_id] = leg.to_country
        if leg.to_place is not None:
            places[leg.to_place.pk] = leg.to_place
    country = countries.get(status.country_id) if status.country_id else None
    place = places.get(status.place_id) if status.place_id else None
    return {
        "where_country": country_name(country, language),
        "where_place": place_name(place, language),
    }


# --- Release deals ----------------------------------------------------------------------------


def flush_listing() -> None:
    """Bring the deal listing up to date with this transaction's own writes (others' writes
    are in it once they commit): ``prisoners_listing_flush`` of the persons' listing."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT prisoners_listing_flush()")


def deal_listing(deal: Any, tier: Tier) -> models.QuerySet[DealListing]:
    """The rows of ``deal``'s releases this tier sees (``DealListing.level``: the visibility
    rule, kept by the database; withheld names included)."""
    return DealListing.objects.filter(deal=deal, level__lte=int(tier))


def _identified(tier: Tier) -> Any:
    """Subquery: the releases of a deal this viewer may see (withheld names included)."""
    return Coalesce(
        Subquery(
            deal_listing(OuterRef("pk"), tier)
            .order_by()
            .values("deal")
            .annotate(n=Count("pk"))
            .values("n")
        ),
        0,
    )


def _destinations_prefetch() -> Prefetch[Any]:
    return Prefetch(
        "destinations",
        queryset=DealDestination.objects.select_related("country")
        .prefetch_related(
            Prefetch(
                "onward_links",
                queryset=DealOnwardCountry.objects.select_related("country").order_by(
                    "country__name"
                ),
                to_attr="shown_onward",
            )
        )
        .order_by(F("reported_count").desc(nulls_last=True), "country__name"),
        to_attr="shown_destinations",
    )


def deal_list(*, viewer: Any) -> models.QuerySet[ReleaseDeal]:
    """The deals ``viewer`` may see, newest first, with ``identified`` (releases the viewer may
    see) and their reported destinations."""
    tier = viewer_tier(viewer)
    flush_listing()
    return (
        ReleaseDeal.objects.visible_to(tier)
        .annotate(identified=_identified(tier))
        .prefetch_related(_destinations_prefetch())
        .order_by("-announced_on", "-id")
    )


@dataclass
class DestinationSummary:
    country: str
    reported: int | None
    onward: list[str]


@dataclass
class DealRow:
    title: str
    url: str
    announced: str
    announced_iso: str
    completed: str
    completed_iso: str
    reported: int | None
    identified: int
    destinations: list[DestinationSummary]


def deal_rows(deals: Iterable[Any], *, viewer: Any, language: str | None = None) -> list[DealRow]:
    """The rows of the deal list, from deals loaded by ``deal_list`` (no further query)."""
    fields = FieldRule(viewer_tier(viewer))
    language = (language or get_language() or "en")[:2]
    f, fd = fields(ReleaseDeal), fields(DealDestination)
    rows = []
    for deal in deals:
        completed = deal.completed_on if "completed_on" in f else None
        rows.append(
            DealRow(
                title=deal.title,
                url=deal.get_absolute_url(),
                announced=partial_date(deal.announced_on) if "announced_on" in f else "",
                announced_iso=iso(deal.announced_on) if "announced_on" in f else "",
                completed=partial_date(completed) if completed else "",
                completed_iso=iso(completed),
                reported=deal.reported_total if "reported_total" in f else None,
                identified=deal.identified,
                destinations=[
                    DestinationSummary(
                        country_name(d.country, language) if "country" in fd else "",
                        d.reported_count if "reported_count" in fd else None,
                        [country_name(link.country, language) for link in d.shown_onward]
                        if "onward_countries" in fd
                        else [],
                    )
                    for d in deal.shown_destinations
                ],
            )
        )
    return rows


@dataclass
class DestinationView:
    country: str
    code: str
    reported: int | None
    onward: list[str]
    note: str
    identified: int
    citations: list[Citation]
    claims: list[ClaimSet]


@dataclass
class PartyView:
    name: str
    description: str
    country: str
    organisation: str
    citations: list[Citation]


@dataclass
class PartyGroup:
    role: str
    label: str
    parties: list[PartyView]


@dataclass
class IdentifiedPerson:
    name: str
    url: str
    released_on: str
    released_on_iso: str
    chain: str


@dataclass
class DealPage:
    deal: ReleaseDeal
    reported: int | None
    identified: int
    named: int
    withheld: int
    persons: Page[Any]
    destinations: list[DestinationView]
    parties: list[PartyGroup]
    reported_citations: list[Citation]
    consideration_citations: list[Citation]
    deal_citations: list[Citation]
    claims: list[ClaimSet]
    sources: list[tuple[Any, list[Citation]]]


def deal_page(
    *, slug: str, viewer: Any, page: Any = 1, language: str | None = None
) -> DealPage | None:
    """Everything the page of deal ``slug`` shows to ``viewer`` in a fixed number of queries.

    Identified = the deal's releases the viewer may see (for the public: published releases of
    published persons). Outside staff, persons whose name is withheld are counted, never named.
    """
    tier = viewer_tier(viewer)
    language = (language or get_language() or "en")[:2]
    deal: Any = (
        ReleaseDeal.objects.visible_to(tier)
        .filter(slug=slug)
        .prefetch_related(
            _destinations_prefetch(),
            Prefetch(
                "parties",
                queryset=DealParty.objects.select_related("country", "organisation").order_by(
                    "role", "name", "id"
                ),
                to_attr="shown_parties",
            ),
        )
        .first()
    )
    if deal is None:
        return None
    fields = FieldRule(tier)
    # Counted, sorted and grouped on the deal listing (one row per release, with its person's
    # name and the visibility level kept by the database), not on every release of the deal
    # joined to its episode and person.
    flush_listing()
    listed = deal_listing(deal, tier)
    hide_withheld = tier < Tier.STAFF
    counts = listed.aggregate(
        identified=Count("pk"),
        withheld=Count("pk", filter=Q(name_withheld=True)),
    )
    # (Not also ``deal=deal`` on the release: the planner would take the two for independent
    # conditions, expect few rows, and read the deal's releases in parallel instead of the
    # first rows of the name index.)
    named = Release.objects.visible_to(tier).filter(
        deal_listing__deal=deal, deal_listing__level__lte=int(tier)
    )
    if hide_withheld:
        named = named.filter(deal_listing__name_withheld=False)
    # Only what a row of the page shows (``_identified_person``): a hundred releases, episodes
    # and persons a page, built without the columns nobody reads.
    paginator = Paginator(
        named.select_related("episode__person")
        .only(
            "id",
            "released_on",
            "released_on_precision",
            "episode__id",
            "episode__person__id",
            "episode__person__name",
            "episode__person__name_withheld",
        )
        .order_by("deal_listing__name", "id"),
        DEAL_PERSONS_PER_PAGE,
    )
    # The aggregate above already counted them: spare the paginator its own count.
    paginator.__dict__["count"] = counts["identified"] - (
        counts["withheld"] if hide_withheld else 0
    )
    persons_page = paginator.get_page(page)
    page_releases: list[Any] = list(persons_page.object_list)
    persons = [r.episode.person for r in page_releases]
    models.prefetch_related_objects(persons, names_prefetch(tier))
    legs: dict[int, list[Transfer]] = defaultdict(list)
    # What ``_identified_person`` reads of a hundred legs; their few countries once each.
    page_legs = list(
        Transfer.objects.visible_to(tier)
        .filter(release__in=[r.pk for r in page_releases])
        .select_related("to_place")
        .only(
            "id",
            "release_id",
            "sequence",
            "from_country_id",
            "to_country_id",
            *(f"to_place__{name}" for name in ("name", "name_be", "name_ru")),
        )
        .order_by("release_id", "sequence", "id")
    )
    countries = Country.objects.only("id", "name", "name_be", "name_ru", "name_uk").in_bulk(
        {leg.from_country_id for leg in page_legs} | {leg.to_country_id for leg in page_legs}
    )
    for leg in page_legs:
        leg.from_country = countries[leg.from_country_id]
        leg.to_country = countries[leg.to_country_id]
        legs[leg.release_id].append(leg)
    # The first legs of the releases this tier sees, where the tier sees the leg too.
    identified_by_country = dict(
        listed.filter(leg_country__isnull=False, leg_level__lte=int(tier))
        .order_by()
        .values("leg_country")
        .annotate(n=Count("person", distinct=True))
        .values_list("leg_country", "n")
    )
    destinations: list[DealDestination] = deal.shown_destinations
    parties: list[DealParty] = deal.shown_parties
    evidence = evidence_for([deal, *destinations, *parties], tier)

    url_of = person_urls()
    persons_page.object_list = [
        _identified_person(release, legs.get(release.pk, []), tier, language, fields, url_of)
        for release in page_releases
    ]
    return DealPage(
        deal=deal,
        reported=deal.reported_total if "reported_total" in fields(ReleaseDeal) else None,
        identified=counts["identified"],
        named=paginator.count,
        withheld=counts["withheld"] if hide_withheld else 0,
        persons=persons_page,
        destinations=[
            _destination(d, evidence, fields, language, identified_by_country) for d in destinations
        ],
        parties=_party_groups(parties, evidence, fields, language),
        reported_citations=evidence.citations_of(deal, "reported_total"),
        consideration_citations=evidence.citations_of(deal, "consideration"),
        deal_citations=[
            c
            for c in evidence.citations_of(deal)
            if c.field_name not in ("reported_total", "consideration")
        ],
        claims=evidence.claims_of(deal),
        sources=evidence.sources(),
    )


def _identified_person(
    release: Any,
    legs: list[Transfer],
    tier: Tier,
    language: str,
    fields: FieldRule,
    url_of: Callable[[int], str],
) -> IdentifiedPerson:
    person = release.episode.person
    f = fields(Release)
    shown = "released_on" in f
    chain = ""
    if legs and {"from_country", "to_country"} <= fields(Transfer):
        names = [country_name(legs[0].from_country, language)]
        names += [country_name(leg.to_country, language) for leg in legs]
        last_place = (
            place_name(legs[-1].to_place, language) if "to_place" in fields(Transfer) else ""
        )
        chain = " → ".join(names) + (f" ({last_place})" if last_place else "")
    return IdentifiedPerson(
        name=localized_name(person, language, tier),
        url=url_of(person.pk),
        released_on=partial_date_in(
            release.released_on if shown else None, release.released_on_precision, language
        ),
        released_on_iso=iso(release.released_on, release.released_on_precision) if shown else "",
        chain=chain,
    )


def _destination(
    destination: Any,
    evidence: Evidence,
    fields: FieldRule,
    language: str,
    identified_by_country: dict[int, int],
) -> DestinationView:
    f = fields(DealDestination)
    return DestinationView(
        country=country_name(destination.country, language) if "country" in f else "",
        code=destination.country.code if "country" in f else "",
        reported=destination.reported_count if "reported_count" in f else None,
        onward=[country_name(link.country, language) for link in destination.shown_onward]
        if "onward_countries" in f
        else [],
        note=destination.note if "note" in f else "",
        identified=identified_by_country.get(destination.country_id, 0),
        citations=evidence.citations_of(destination),
        claims=evidence.claims_of(destination),
    )


def _party_groups(
    parties: list[DealParty], evidence: Evidence, fields: FieldRule, language: str
) -> list[PartyGroup]:
    f = fields(DealParty)
    if not {"role", "name"} <= f:
        return []
    headings = {
        DealParty.Role.MEDIATOR: gettext("Mediators"),
        DealParty.Role.PARTY: gettext("Parties"),
        DealParty.Role.RECEIVING: gettext("Receiving states"),
        DealParty.Role.GUARANTOR: gettext("Guarantors"),
    }
    groups = {role: PartyGroup(role, headings.get(role, str(role.label)), []) for role in headings}
    groups.update(
        {
            role: PartyGroup(role, str(role.label), [])
            for role in DealParty.Role
            if role not in groups
        }
    )
    for party in parties:
        groups[DealParty.Role(party.role)].parties.append(
            PartyView(
                name=party.name,
                description=party.description if "description" in f else "",
                country=country_name(party.country, language)
                if "country" in f and party.country and party.country.name != party.name
                else "",
                organisation=party.organisation.name
                if "organisation" in f and party.organisation
                else "",
                citations=evidence.citations_of(party),
            )
        )
    return [group for group in groups.values() if group.parties]
