"""The listing of persons: the rows it filters on, facet counts, sorting, pages and exports.

Reads go through ``PersonListing``, one row per person kept current by the database (migration
``prisoners/0005_listing``): status today, where the person is, detention dates and days, and the
lists of facts (articles, deals, recognitions, years of detention, risks) a facet filters on.
Nothing here writes it, except ``prepare``, which every read calls first: it refreshes the
persons written earlier in the same transaction and the rows whose ``valid_until`` has come.

The status on another day than today (``on=``) is computed with ``prisoners_listing_status``
(the SQL form of ``events.selectors.with_status``) for the rows the other filters leave, one
person at a time; see ``status_on``.

Derived facts follow the one visibility rule: a row is shared by every viewer who may see the
person listed, so its status, places, dates and days are computed from the records that the
lowest such tier sees, the tier of the person's own visibility (migration
``prisoners/0006_listing_tiers``). A published person's row is the public derivation for every
viewer, researchers and staff included; they see their own tier's derivation on the profile and
in the API. Lists of facts (articles, deals, ...) keep a level per fact and are read per tier.

Facet counts of the whole listing, or of the listing filtered on one facet (any values of a
facet a row has one value of, or one value of a list), are read from the counts the database
keeps (``pair_counts``, table ``prisoners_listingpair``, migration ``prisoners/0010``): exact,
one small query, never stale. Other filters (several facets, a status on another day) are
counted over the filtered rows by one SQL statement (``facet_counts``), cached until a write
to the events or persons commits; above ``LISTING_EXACT_COUNT_LIMIT`` expected rows the counts
are estimated from a sample of the table (shown with "≈").
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import json
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from django.conf import settings
from django.contrib.postgres.expressions import ArraySubquery
from django.contrib.postgres.fields import ArrayField
from django.core.cache import cache
from django.core.paginator import Paginator
from django.db import connection, models
from django.db.models import Case, F, Func, OuterRef, Q, Value, When
from django.db.models.expressions import RawSQL
from django.utils import translation
from django.utils.formats import date_format
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from events.models import CriminalArticle, ReleaseDeal
from events.selectors import Status
from events.timeline import partial_date

from .models import (
    AtRiskFlag,
    Country,
    DatePrecision,
    Organisation,
    Person,
    PersonListing,
    Place,
    Region,
)
from .selectors import localized_name, names_prefetch, person_urls
from .statements import KEY, Sql, kept, one_of, statement
from .visibility import Tier, listing_filter, viewer_tier

# Days in detention are ``days_key`` + (today - DAYS_EPOCH) while ``growing`` (see the model).
DAYS_EPOCH = dt.date(2000, 1, 1)
# At-risk kinds as numbered in the database (``array_position`` in prisoners_listing_rows).
RISK_KINDS = ("serious_illness", "over_60", "disability", "family", "other")
# A listed fact is stored as ``id * LEVELS + level``; level 0 public, 1 researchers, 2 staff.
LEVELS = 4

# Counting over the filtered rows (several facets, or a status on another day) costs a few
# microseconds a row, read at random from the table: above EXACT_COUNT_LIMIT expected rows the
# counts are made from a sample of the table's blocks, about SAMPLE_ROWS of the rows, read from
# at most SAMPLE_MAX_PERCENT of the blocks (a sample of a narrow filter reads many blocks for
# few rows: it is capped, and is then smaller).
EXACT_COUNT_LIMIT = 5_000
SAMPLE_ROWS = 2_000
SAMPLE_MAX_PERCENT = 5.0
SAMPLE_ROWS_ON_DATE = 1_500
# A page of the listing counts the facets of several facets itself up to INLINE_COUNT_LIMIT
# filtered rows (and caches them); above, it shows the rows, their number and the facets'
# values, and leaves the counts to the facets fragment (``listing_counts``).
INLINE_COUNT_LIMIT = 1_000
CACHE_SECONDS = 3600
CACHE_PREFIX = "listing-facets:v2:"

# Age bands, by the age a person reaches this year (birth dates may be known to the year only).
AGE_BANDS: tuple[tuple[str, Any, int, int | None], ...] = (
    ("0-17", _("Under 18"), 0, 17),
    ("18-29", _("18 to 29"), 18, 29),
    ("30-39", _("30 to 39"), 30, 39),
    ("40-49", _("40 to 49"), 40, 49),
    ("50-59", _("50 to 59"), 50, 59),
    ("60-69", _("60 to 69"), 60, 69),
    ("70-", _("70 and over"), 70, None),
    ("unknown", _("Unknown"), -1, -1),
)

# Sort orders: the order_by of each, by interface language for names.
SORTS = (
    ("name", _("Name, A to Z")),
    ("-name", _("Name, Z to A")),
    ("-detained", _("Detained most recently")),
    ("detained", _("Detained longest ago")),
    ("-days", _("Most days in detention")),
    ("days", _("Fewest days in detention")),
)
SORT_NAME_FIELDS = {"be": "sort_name_be", "ru": "sort_name_ru", "uk": "sort_name_uk"}

# Facets counted: scalar columns (grouped) and lists (unnested), in the order of the SQL.
SCALAR_FACETS = (
    "status",
    "gender",
    "birth_year",
    "region",
    "country_now",
    "custody_country",
    "facility",
)
LIST_FACETS = ("article", "deal", "recognised_by", "year", "at_risk")
LIST_COLUMNS = ("article_codes", "deal_codes", "recogniser_codes", "year_codes", "risk_codes")


# --- Encoding ----------------------------------------------------------------------------------


def codes(ids: Iterable[int], tier: Tier) -> list[int]:
    """The stored codes that mean ``ids`` for a viewer of ``tier`` (every level it sees)."""
    return [int(i) * LEVELS + level for i in ids for level in range(int(tier) + 1)]


def decode(values: Iterable[int], tier: Tier) -> list[int]:
    """The ids in a stored list that a viewer of ``tier`` may see."""
    return [int(v) // LEVELS for v in values if int(v) % LEVELS <= tier]


def risk_code(kind: str) -> int:
    return RISK_KINDS.index(kind) + 1


def age_band(birth_year: int | None, today: dt.date) -> str:
    if birth_year is None:
        return "unknown"
    age = today.year - birth_year
    for key, _label, low, high in AGE_BANDS:
        if key != "unknown" and age >= low and (high is None or age <= high):
            return key
    return "unknown"


def age_condition(bands: Iterable[str], today: dt.date) -> Q:
    condition = Q(pk__in=[])
    for key, _label, low, high in AGE_BANDS:
        if key not in bands:
            continue
        if key == "unknown":
            condition |= Q(birth_year__isnull=True)
            continue
        years = Q(birth_year__lte=today.year - low)
        if high is not None:
            years &= Q(birth_year__gte=today.year - high)
        condition |= years
    return condition


# --- Reading the snapshot ----------------------------------------------------------------------


def prepare(today: dt.date) -> None:
    """Bring the snapshot up to date for this transaction: refresh the persons written earlier
    in it (others' writes are refreshed when they commit) and the rows due on ``today``."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT prisoners_listing_prepare(%s)", [today])


def listed(viewer: Any) -> models.QuerySet[PersonListing]:
    """The rows of the persons ``viewer`` may see in a list or an export."""
    return PersonListing.objects.filter(listing_filter(viewer))


def days_in_detention(today: dt.date) -> Any:
    """The expression for days in detention on ``today``."""
    return _days_after(Value((today - DAYS_EPOCH).days))


def _days_after(shift: Any) -> Any:
    """Days in detention ``shift`` days after ``DAYS_EPOCH``."""
    return F("days_key") + Case(
        When(growing=True, then=shift),
        default=Value(0),
        output_field=models.IntegerField(),
    )


# The status on a day of the row's person, by the SQL form of with_status (one call per row).
STATUS_ON_SQL = (
    "(SELECT s.status FROM prisoners_listing_status("
    'ARRAY["prisoners_personlisting"."person_id"], %s::date) AS s)'
)


def status_on(on: dt.date) -> RawSQL:
    """The status of the row's person on ``on``, from the records of the row's tier.

    ``prisoners_listing_status`` is ``events.selectors.with_status`` written as one set-based
    query (the snapshot's own rule; tests compare both on many days); per person it costs a
    tenth of the ORM form, which repeats its subqueries in every branch of its Case.
    """
    return RawSQL(STATUS_ON_SQL, (on,), output_field=models.CharField())  # noqa: S611


def status_filter(
    queryset: models.QuerySet[PersonListing], statuses: Sequence[str], on: dt.date | None
) -> models.QuerySet[PersonListing]:
    """Persons whose status today (``on`` None) or on ``on`` is one of ``statuses``.

    On another day, the snapshot first leaves out those who cannot have that status then (no
    arrest by then, no episode at all), and ``status_on`` decides for the rest: the cost is a
    status computation for each remaining row the other filters keep (for a page, only until
    it is full when the order has an index).
    """
    if on is None:
        return queryset.filter(status__in=statuses)
    possible = Q()
    if Status.DECEASED not in statuses and Status.UNKNOWN not in statuses:
        possible = Q(first_arrest_on__isnull=False)
        if Status.NOT_DETAINED not in statuses:
            possible &= Q(first_arrest_on__lte=on)
    return (
        queryset.filter(possible)
        .annotate(status_then=status_on(on))
        .filter(status_then__in=statuses)
    )


def sort_order(sort: str, language: str) -> list[Any]:
    """The ``order_by`` of a sort key (not for the days, see ``page_ids``)."""
    descending = sort.startswith("-")
    key = sort.lstrip("-")
    if key == "detained":
        if descending:
            return [F("detained_on").desc(nulls_last=True), F("person_id").desc()]
        return [F("detained_on").asc(nulls_last=True), "person_id"]
    name = SORT_NAME_FIELDS.get(language[:2], "sort_name")
    return [f"-{name}", "-person_id"] if descending else [name, "person_id"]


# The detention date a row that a tier sees with one of some years of detention has at the
# earliest (read in the statement of the page, so in the same snapshot as its rows); no date
# when no such row has a known one.
_DETAINED_FROM = (
    '"prisoners_personlisting"."detained_on" >= coalesce('
    "(SELECT min(y.earliest) FROM prisoners_listingyear y"
    " WHERE y.year = ANY(%s::int[]) AND y.lvl <= %s), 'infinity'::date)"
)


def _detained_from(years: Sequence[int], tier: Tier) -> RawSQL:
    params = [list(years), int(tier)]
    return RawSQL(_DETAINED_FROM, params, output_field=models.BooleanField())  # noqa: S611


def page_ids(
    queryset: models.QuerySet[PersonListing],
    *,
    sort: str,
    language: str,
    today: dt.date,
    offset: int,
    limit: int,
    years: Sequence[int] = (),
    tier: Tier = Tier.STAFF,
) -> list[int]:
    """The person ids of one page, in order.

    Days in detention grow for those held now and stand still for the others, so no one index
    sorts them; each kind is read from its own index (``offset + limit`` rows at most) and the
    two are merged by the days they have today.

    ``years``: the years of detention the rows are filtered on, as ``tier`` sees them. Sorted
    by the earliest detention first, the walk of the detention-date index then starts at the
    earliest detention date of those years (``prisoners_listingyear``, migration 0013) instead
    of the first of all; the rows whose date is unknown, last in that order, are read apart.
    """
    key = sort.lstrip("-")
    if key == "detained" and not sort.startswith("-") and years:
        columns = ("person_id", "detained_on")
        known = (
            queryset.filter(_detained_from(years, tier))
            .order_by(*sort_order(sort, language))
            .values_list(*columns)[: offset + limit]
        )
        unknown = (  # in the order of the same index, where they come last
            queryset.filter(detained_on__isnull=True)
            .order_by(*sort_order(sort, language))
            .values_list(*columns)[: offset + limit]
        )
        merged = known.union(unknown, all=True).order_by("detained_on", "person_id")
        return [pk for pk, _on in merged[offset : offset + limit]]
    if key != "days":
        ordered = queryset.order_by(*sort_order(sort, language))
        return list(ordered.values_list("person_id", flat=True)[offset : offset + limit])
    descending = sort.startswith("-")
    shift = (today - DAYS_EPOCH).days
    index_order = ["-days_key", "-person_id"] if descending else ["days_key", "person_id"]
    growing = (
        queryset.filter(growing=True)
        .annotate(days=F("days_key") + Value(shift))
        .order_by(*index_order)
        .values_list("person_id", "days")[: offset + limit]
    )
    fixed = (
        queryset.filter(growing=False)
        .annotate(days=F("days_key"))
        .order_by(*index_order)
        .values_list("person_id", "days")[: offset + limit]
    )
    merged = growing.union(fixed, all=True).order_by(
        *(["-days", "-person_id"] if descending else ["days", "person_id"])
    )
    return [pk for pk, _days in merged[offset : offset + limit]]


# What a page of the listing (``listing_page``) reads of a row and of its relations.
_NAMES = ("name", "name_be", "name_ru", "name_uk")
ROW_FIELDS = (
    "person_id",
    "status",
    "place_level",
    "detained_on",
    "detained_on_precision",
    "article_codes",
    "person__id",
    "person__name",
    "person__name_withheld",
    *(f"country_now__{name}" for name in ("id", "code", *_NAMES)),
    *(f"place_now__{name}" for name in ("id", "name", "name_be", "name_ru")),
)


def rows_for(ids: Sequence[int], *, today: dt.date, tier: Tier) -> list[PersonListing]:
    """The listed rows (``listed(tier)``) of ``ids`` with what a page shows, in the order of
    ``ids``, with the primary names ``tier`` sees (``person.shown_names``, as
    ``names_prefetch`` gives). One statement per tier (``prisoners.statements``)."""
    rows = statement(
        ("listing.rows", tier),
        lambda: (
            listed(tier)
            .filter(one_of(PersonListing, "person_id", KEY))
            .select_related("person", "country_now", "place_now")
            .only(*ROW_FIELDS)
            .annotate(days=_days_after(Value(KEY - 1)), primary_names=shown_names(tier))
        ),
        keys=2,
    ).objects(list(ids), (today - DAYS_EPOCH).days)
    by_id = {row.person_id: row for row in rows}
    for row in by_id.values():
        names = row.primary_names
        person: Any = row.person
        person.shown_names = [ShownName(language, text) for language, text in names]
    return [by_id[pk] for pk in ids if pk in by_id]


def article_labels(ids: Iterable[int]) -> dict[int, str]:
    """``{id: "code number"}`` of these criminal articles (``_article_label``): one query."""
    found = statement(
        "listing.articles",
        lambda: (
            CriminalArticle.objects.filter(one_of(CriminalArticle, "id"))
            .select_related("code")
            .only("id", "number", "code__short_name")
        ),
    ).objects(sorted(ids))
    return {article.pk: _article_label(article) for article in found}


@dataclass(frozen=True)
class ShownName:
    """A primary name as ``selectors.localized_name`` reads it (``names_prefetch``)."""

    language: str
    text: str


def shown_names(tier: Tier) -> ArraySubquery:
    """The primary names ``tier`` sees of the row's person, as ``[language, text]`` pairs in
    the order of ``names_prefetch``: the same queryset, read in the row's own query."""
    names = names_prefetch(tier).queryset
    assert names is not None
    return ArraySubquery(
        names.filter(person_id=OuterRef("person_id")).values_list(
            Func(
                F("language"),
                F("text"),
                template="ARRAY[%(expressions)s]",
                output_field=ArrayField(models.CharField()),
            )
        )
    )


# --- Facet counts ------------------------------------------------------------------------------


@dataclass
class FacetCounts:
    """Counts per facet value (``{facet: {value: n}}``) of the filtered rows."""

    counts: dict[str, dict[Any, int]]
    total: int
    approximate: bool = False
    by_age: dict[str, int] = field(default_factory=dict)

    def of(self, facet: str) -> dict[Any, int]:
        return self.counts.get(facet, {})


def _count_sql(inner: str, tier: Tier) -> str:
    """Count every facet of the rows of ``inner`` (its columns: SCALAR_FACETS, then lists).

    One pass over the rows, one aggregate: each row is joined to its lists unnested side by
    side (``unnest(a, b, ...)``: as many rows as the longest list, one row when all are
    empty), and one grouping set per facet counts them: a scalar once per listing row (its
    first unnested row), a list value once per row it is in. Returns json: ``{"rows": [[g,
    scalars..., lists..., rows, all], ...]}``, ``g`` being ``GROUPING()`` of every facet."""
    level = int(tier)
    columns = ", ".join((*SCALAR_FACETS, *LIST_COLUMNS))
    lists = [f"l_{name}" for name in LIST_FACETS]
    unnested = ", ".join(f"u_{name}" for name in LIST_FACETS)
    decoded = ", ".join(
        f"CASE WHEN u.u_{name} % {LEVELS} <= {level} THEN u.u_{name} / {LEVELS} END AS l_{name}"
        for name in LIST_FACETS
    )
    grouped = ", ".join((*SCALAR_FACETS, *lists))
    sets = ", ".join(f"({name})" for name in (*SCALAR_FACETS, *lists))
    return f"""
    SELECT json_build_object('rows', coalesce(json_agg(json_build_array(
        g, {grouped}, n_rows, n_all)), '[]'::json))
    FROM (
        SELECT GROUPING({grouped}) AS g, {grouped},
               count(*) FILTER (WHERE u.o IS NULL OR u.o = 1) AS n_rows, count(*) AS n_all
        FROM ({inner}) AS f ({columns})
        LEFT JOIN LATERAL unnest({", ".join(f"f.{c}" for c in LIST_COLUMNS)})
            WITH ORDINALITY AS u ({unnested}, o) ON true
        CROSS JOIN LATERAL (SELECT {decoded}) AS l
        GROUP BY GROUPING SETS ({sets})
    ) AS s
    """  # noqa: S608 (built from constants; the filtered rows are Django's compiled query)


def _inner(queryset: models.QuerySet[PersonListing], tier: Tier, on: dt.date | None) -> str:
    """The filtered rows as SQL with its parameters inlined (by the driver's own quoting).

    Its columns are SCALAR_FACETS then LIST_COLUMNS, every one an annotation so that the SQL
    keeps this order."""
    columns: dict[str, Any] = {
        "c_status": status_on(on) if on is not None else F("status"),
        "c_gender": F("gender"),
        "c_birth_year": F("birth_year"),
        "c_region": F("home_region_id"),
        "c_country_now": F("country_now_id"),
        "c_custody_country": F("custody_country_id"),
        "c_facility": Case(
            When(place_level__lte=int(tier), then=F("facility_id")),
            default=Value(None),
            output_field=models.BigIntegerField(),
        ),
    }
    columns.update({f"c_{column}": F(column) for column in LIST_COLUMNS})
    rows = queryset.order_by()
    for name, expression in columns.items():
        rows = rows.annotate(**{name: expression})
    sql, params = rows.values_list(*columns).query.sql_with_params()
    with connection.cursor() as cursor:
        return cursor.mogrify(sql, params)  # type: ignore[attr-defined, no-any-return]


def _sampled(inner: str) -> str:
    table = f'FROM "{PersonListing._meta.db_table}"'
    if table not in inner:  # pragma: no cover (the listing is always the outer table)
        raise ValueError("The filtered rows do not read the listing table.")
    return inner.replace(table, f"{table} TABLESAMPLE SYSTEM ($1) REPEATABLE (0)", 1)


def _still_valid(snapshot: str) -> bool:
    """No write to the listing has committed since ``snapshot`` was taken."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT NOT EXISTS (SELECT 1 FROM prisoners_personlisting_change"
            " WHERE xid >= pg_snapshot_xmin(%s::pg_snapshot)"
            " AND NOT pg_visible_in_snapshot(xid, %s::pg_snapshot))",
            [snapshot, snapshot],
        )
        (valid,) = cursor.fetchone()
    return bool(valid)


# The facets in the numbering of ``prisoners_listingpair`` (migration 0010), and the values of
# its two text facets by their number there (position, from 1).
PAIR_FACETS = (*SCALAR_FACETS, *LIST_FACETS)
PAIR_TEXT_VALUES = {
    "status": (
        "pre_trial",
        "imprisoned",
        "house_arrest",
        "released",
        "released_expelled",
        "deceased",
        "not_detained",
        "unknown",
    ),
    "gender": ("female", "male", "other", "unknown"),
}
UNKNOWN_BIRTH_YEAR = -1

# The one facet a listing is filtered on, with its values as ``prisoners_listingpair`` stores
# them; ``(None, ())`` for no filter at all.
OneFacet = tuple[str | None, Sequence[int]]

# A pair is kept once, lesser side first: the counts are read from both sides (a value with
# itself once).
PAIR_COUNTS_SQL = """
SELECT f, v, sum(n)::bigint FROM (
    SELECT fb AS f, vb AS v, n FROM prisoners_listingpair
    WHERE fa = %(facet)s AND lvl <= %(tier)s {a}
    UNION ALL
    SELECT fa, va, n FROM prisoners_listingpair
    WHERE fb = %(facet)s AND lvl <= %(tier)s {b} AND NOT (fa = fb AND va = vb)
) AS p
GROUP BY f, v HAVING sum(n) > 0
"""


def pair_value(facet: str, value: Any) -> int:
    """A facet value as ``prisoners_listingpair`` stores it."""
    if facet in PAIR_TEXT_VALUES:
        return PAIR_TEXT_VALUES[facet].index(str(value)) + 1
    return UNKNOWN_BIRTH_YEAR if value is None else int(value)


def pair_counts(facet: OneFacet, *, viewer: Any, today: dt.date) -> FacetCounts:
    """The exact counts of every facet over the rows a viewer sees, filtered on at most one
    facet (any of its values for a facet with one value per row, one value of a list facet),
    read from the counts the database keeps (``prisoners_listingpair``): one query, about
    a millisecond whatever the number of rows.

    Unfiltered, the counts are those of every status together (a row has exactly one); a
    facet with one value per row is the sum over the values chosen (a row has at most one)."""
    tier = viewer_tier(viewer)
    name, values = facet
    params: dict[str, Any] = {"tier": int(tier)}
    if name is None:
        params["facet"] = PAIR_FACETS.index("status")
        sql = PAIR_COUNTS_SQL.format(a="", b="")
    else:
        params.update(facet=PAIR_FACETS.index(name), values=[int(v) for v in values])
        sql = PAIR_COUNTS_SQL.format(a="AND va = ANY(%(values)s)", b="AND vb = ANY(%(values)s)")
    counts: dict[str, dict[Any, int]] = {name: {} for name in PAIR_FACETS}
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        for number, value, n in cursor.fetchall():
            facet_name = PAIR_FACETS[number]
            key: Any = value
            if facet_name in PAIR_TEXT_VALUES:
                known = PAIR_TEXT_VALUES[facet_name]
                if not 1 <= value <= len(known):
                    continue
                key = known[value - 1]
            elif facet_name == "birth_year" and value == UNKNOWN_BIRTH_YEAR:
                key = None
            counts[facet_name][key] = int(n)
    by_age: dict[str, int] = {}
    for year, n in counts["birth_year"].items():
        band = age_band(year, today)
        by_age[band] = by_age.get(band, 0) + n
    total = sum(counts["status"].values())
    return FacetCounts(counts=counts, total=total, approximate=False, by_age=by_age)


# The rows with one of the values of each of two facets: pairs are kept with the facet of the
# lesser number first, so the two facets, in the order of PAIR_FACETS, are its two sides.
PAIR_TOTAL_SQL = """
SELECT coalesce(sum(n), 0)::bigint FROM prisoners_listingpair
WHERE fa = %(fa)s AND va = ANY(%(va)s) AND fb = %(fb)s AND vb = ANY(%(vb)s) AND lvl <= %(tier)s
"""


def pair_total(facets: Sequence[tuple[str, Sequence[int]]], *, viewer: Any) -> int:
    """The exact number of rows a viewer sees filtered on two facets (``kept_facets``: each
    with values a row has at most one of), from the counts the database keeps: one query."""
    (first, first_values), (second, second_values) = facets
    fa, fb = PAIR_FACETS.index(first), PAIR_FACETS.index(second)
    if fa >= fb:
        raise ValueError("Two different facets, in the order of PAIR_FACETS.")
    with connection.cursor() as cursor:
        cursor.execute(
            PAIR_TOTAL_SQL,
            {
                "fa": fa,
                "va": [int(v) for v in first_values],
                "fb": fb,
                "vb": [int(v) for v in second_values],
                "tier": int(viewer_tier(viewer)),
            },
        )
        (total,) = cursor.fetchone()
    return int(total)


@dataclass
class DeferredCounts:
    """The filtered rows are too many to count their facets during the page: their number
    (``at_least``: a lower bound, counted up to a limit) without the counts. ``values``: the
    counts of the listing filtered on its first facet alone, which say which values to show
    and in what order (``listing_counts`` sets them)."""

    total: int
    at_least: bool
    values: FacetCounts | None = None


def facet_counts(
    queryset: models.QuerySet[PersonListing],
    *,
    viewer: Any,
    today: dt.date,
    on: dt.date | None = None,
    candidates: models.QuerySet[PersonListing] | None = None,
    one_facet: OneFacet | None = None,
) -> FacetCounts:
    """Counts per value of every facet over the filtered rows: one query.

    ``one_facet``: the rows are ``listed(viewer)`` filtered on that facet alone (see
    ``PersonListingFilter.one_facet``); their counts are read from the counts the database
    keeps (``pair_counts``). Otherwise they are counted from the rows; with ``on``, the status
    counted is the status on that day. A result counted from the rows is cached while no
    write has committed since it was counted (one query to check, instead of the count).
    """
    tier = viewer_tier(viewer)
    if one_facet is not None and on is None:
        return pair_counts(one_facet, viewer=tier, today=today)
    counts = _counted(queryset, tier=tier, today=today, on=on, candidates=candidates)
    assert isinstance(counts, FacetCounts)  # nothing is deferred without an inline limit
    return counts


def _counted(
    queryset: models.QuerySet[PersonListing],
    *,
    tier: Tier,
    today: dt.date,
    on: dt.date | None,
    candidates: models.QuerySet[PersonListing] | None,
    inline_limit: int | None = None,
    known_rows: Callable[[], int] | None = None,
    rows_needed: int = 0,
) -> FacetCounts | DeferredCounts:
    """The counts of the filtered rows, from the cache or counted (``facet_counts``).

    ``inline_limit``: count only up to that many rows, else answer ``DeferredCounts``;
    ``known_rows``: a callable giving their number, when it can be read without counting
    (only called when the cache does not answer); else they are counted up to the limit, or
    to ``rows_needed`` (the rows up to the end of the page shown) if more."""
    inner = _inner(queryset, tier, on)
    # The planner cannot guess how many rows a status on another day keeps: estimate the rows
    # it is computed for instead.
    estimate = _inner(candidates, tier, on) if candidates is not None else inner
    key = CACHE_PREFIX + hashlib.sha256(f"{int(tier)}\n{inner}".encode()).hexdigest()
    cached = cache.get(key)
    if cached is not None and _still_valid(cached["snapshot"]):
        return _read_counts(cached, today)
    limit = getattr(settings, "LISTING_EXACT_COUNT_LIMIT", EXACT_COUNT_LIMIT)
    sample_rows = getattr(settings, "LISTING_SAMPLE_ROWS", SAMPLE_ROWS)
    if on is not None:
        # Each row costs a status computation: count fewer exactly, sample fewer.
        limit = min(limit, SAMPLE_ROWS_ON_DATE)
        sample_rows = min(sample_rows, SAMPLE_ROWS_ON_DATE)
    known = known_rows() if known_rows is not None and inline_limit is not None else None
    if inline_limit is not None and known is None:
        inline_limit = max(inline_limit, rows_needed)
    if inline_limit is not None and known is not None and known > inline_limit:
        return DeferredCounts(total=known, at_least=False)  # no need to ask the database
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT prisoners_listing_facets(%s, %s, %s, %s, %s, %s, %s, %s, %s)",
            [
                estimate,
                _count_sql(inner, tier),
                _count_sql(_sampled(inner), tier),
                limit,
                sample_rows,
                getattr(settings, "LISTING_SAMPLE_MAX_PERCENT", SAMPLE_MAX_PERCENT),
                inner,
                known,
                inline_limit,
            ],
        )
        (raw,) = cursor.fetchone()
    result = json.loads(raw) if isinstance(raw, str) else raw
    if result.get("deferred"):
        return DeferredCounts(total=int(result["rows"]), at_least=bool(result["at_least"]))
    if result["clean"]:
        cache.set(key, result, CACHE_SECONDS)
    return _read_counts(result, today)


def listing_counts(
    filterset: Any,
    *,
    viewer: Any,
    today: dt.date,
    count_all: bool = True,
    rows_needed: int = 0,
) -> FacetCounts | DeferredCounts:
    """The counts of a filtered listing (a valid ``PersonListingFilter``).

    No facet or one: read from the counts the database keeps. Two facets: their rows' number
    too, and the counts of the other facets are counted from the rows. A day (``on``) without
    a status filter keeps every row: the same numbers of rows, the status counted on that day.
    ``count_all`` False (a page of the listing): the rows are counted only when the cache has
    not got them and they are at most ``INLINE_COUNT_LIMIT`` (setting
    ``LISTING_INLINE_COUNT_LIMIT``), or ``rows_needed`` for a page further on; else
    ``DeferredCounts``, and the facets fragment counts them (``count_all`` True, cached for
    the pages that follow).
    """
    tier = viewer_tier(viewer)
    on = filterset.on_date
    kept = filterset.kept_facets()
    if on is None and kept is not None and len(kept) <= 1:
        return pair_counts(kept[0] if kept else (None, ()), viewer=tier, today=today)
    inline: int | None = None
    # A status on another day is computed row by row: with it among the filters, the rows are
    # not counted up to a limit but estimated from a sample, in the page as before.
    if not count_all and (on is None or kept is not None):
        inline = getattr(settings, "LISTING_INLINE_COUNT_LIMIT", INLINE_COUNT_LIMIT)
    first: OneFacet = kept[0] if kept else (None, ())

    @functools.cache
    def first_counts() -> FacetCounts:
        return pair_counts(first, viewer=tier, today=today)

    known: Callable[[], int] | None = None
    if kept is not None and len(kept) == 2:
        two = kept

        def known() -> int:
            return pair_total(two, viewer=tier)

    elif kept is not None and on is not None:  # no facet or one besides the day

        def known() -> int:
            return first_counts().total

    counted = _counted(
        filterset.qs,
        tier=tier,
        today=today,
        on=on,
        candidates=getattr(filterset, "candidates", None) if on is not None else None,
        inline_limit=inline,
        known_rows=known,
        rows_needed=rows_needed,
    )
    if isinstance(counted, DeferredCounts):
        counted.values = first_counts()
    return counted


def _scale(n: int, percent: float) -> int:
    if percent >= 100:
        return int(n)
    estimate = n * 100.0 / percent
    digits = max(len(str(int(estimate))) - 2, 0)  # two significant digits
    return int(round(estimate, -digits))


def _read_counts(result: dict[str, Any], today: dt.date) -> FacetCounts:
    percent = float(result["percent"])
    names = (*SCALAR_FACETS, *LIST_FACETS)
    counts: dict[str, dict[Any, int]] = {name: {} for name in names}
    for row in result["counts"]["rows"]:
        grouping, values, n_rows, n_all = row[0], row[1:-2], row[-2], row[-1]
        # GROUPING() sets a bit for every column *not* grouped; the one clear bit names it.
        for position, name in enumerate(names):
            if grouping & (1 << (len(names) - 1 - position)):
                continue
            value = values[position]
            if name in LIST_FACETS:
                if value is not None:
                    counts[name][value] = _scale(n_all, percent)
            elif value is not None or name == "birth_year":
                counts[name][value] = _scale(n_rows, percent)
    by_age: dict[str, int] = {}
    for year, n in counts["birth_year"].items():
        band = age_band(year, today)
        by_age[band] = by_age.get(band, 0) + n
    total = sum(counts["status"].values())
    return FacetCounts(counts=counts, total=total, approximate=percent < 100, by_age=by_age)


# --- Status on a day, for the rows shown ----------------------------------------------------------


def statuses_of(ids: Sequence[int], on: dt.date) -> dict[int, str]:
    """The status on ``on`` of these persons (one query), by the rule of the rows (each from
    the records of its person's tier, as ``status_on`` filters them)."""
    if not ids:
        return {}
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT person_id, status FROM prisoners_listing_status(%s::bigint[], %s::date)",
            [list(ids), on],
        )
        return dict(cursor.fetchall())


def rebuild(*, batch: int = 20_000) -> int:
    """Recompute every row (after a change of the rules); returns the number written."""
    written = 0
    with connection.cursor() as cursor:
        cursor.execute("SELECT coalesce(max(id), 0) FROM prisoners_person")
        (last,) = cursor.fetchone()
        for start in range(0, last + 1, batch):
            cursor.execute(
                "SELECT prisoners_listing_refresh(ARRAY(SELECT id FROM prisoners_person"
                " WHERE id > %s AND id <= %s))",
                [start, start + batch],
            )
            written += cursor.fetchone()[0]
    return written


def iter_chunks(
    queryset: models.QuerySet[PersonListing], size: int
) -> Iterator[list[PersonListing]]:
    """The rows of ``queryset`` in lists of ``size``, read with a server-side cursor."""
    chunk: list[PersonListing] = []
    for row in queryset.iterator(chunk_size=size):
        chunk.append(row)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


# --- One page of the listing ------------------------------------------------------------------


@dataclass
class Option:
    value: str
    label: str
    count: int | None
    checked: bool


# One value of a facet, as ``_listing_facets.html`` lists them (built here: the template
# language costs tens of microseconds per value, and a page has a hundred).
_OPTION_HTML = '<li><label><input type="checkbox" name="{}" value="{}"{}> {}</label> {}</li>'
_COUNT_HTML = '<span class="count">{}{}</span>'


@dataclass
class FacetGroup:
    name: str
    label: str
    options: list[Option]
    more: list[Option]
    approximate: bool = False  # the counts are estimates ("≈")

    def _html(self, options: list[Option]) -> SafeString:
        about = "≈" if self.approximate else ""
        return format_html_join(
            "\n",
            _OPTION_HTML,
            (
                (
                    self.name,
                    option.value,
                    mark_safe(" checked") if option.checked else "",
                    option.label,
                    "" if option.count is None else format_html(_COUNT_HTML, about, option.count),
                )
                for option in options
            ),
        )

    @property
    def options_html(self) -> SafeString:
        """The values shown, as list items (escaped)."""
        return self._html(self.options)

    @property
    def more_html(self) -> SafeString:
        """The values behind "more", as list items (escaped)."""
        return self._html(self.more)


@dataclass
class PersonRow:
    pk: int
    url: str | None
    name: str
    status: str
    status_label: str
    place: str
    country: str
    detained_on: dt.date | None
    detained_on_precision: str
    days: int
    articles: list[str]
    detained_label: str = ""  # the date of detention as known, in the page's language

    @property
    def detained_iso(self) -> str:
        return self.detained_on.isoformat() if self.detained_on else ""

    @property
    def days_known(self) -> bool:
        """Days are counted from known arrest dates only."""
        return self.days > 0 or self.detained_on is not None


@functools.lru_cache(maxsize=50_000)
def detained_label(on: dt.date | None, precision: str, language: str) -> str:
    """A date of detention as much as it is known, in ``language``: '2020', 'March 2024',
    'by 1 May 2021', '12 March 2021'. Kept per process: a page of 50 rows formats 50 dates,
    and the same dates come back on every page."""
    if on is None:
        return ""
    with translation.override(language):
        if precision == DatePrecision.ON_OR_BEFORE:  # shorter in a table than the profile's
            return gettext("by %(day)s") % {"day": date_format(on, "DATE_FORMAT")}
        if precision == DatePrecision.UNKNOWN:  # a date stored with it: shown as a day
            precision = DatePrecision.DAY
        return partial_date(on, precision)


@dataclass
class ListingPage:
    rows: list[PersonRow]
    page: Any  # django.core.paginator.Page over range(total)
    total: int
    approximate: bool
    facets: list[FacetGroup]
    on: dt.date | None
    sort: str
    # The counts beside the facets' values are left to the facets fragment: the values are
    # shown without numbers, ordered by the counts of the listing filtered on one facet.
    counts_pending: bool = False
    # ``total`` is a lower bound: there are more rows (counted up to a limit).
    at_least: bool = False


FACET_SHOWN = 8  # options shown before "more"


def _place_label(place: Any, language: str) -> str:
    if place is None:
        return ""
    return str(getattr(place, f"name_{language[:2]}", "") or place.name)


def _country_label(country: Any, language: str) -> str:
    return country.name_in(language[:2]) if country is not None else ""


def _article_label(article: Any) -> str:
    return f"{article.code.short_name} {article.number}"


CATALOGUES = ("country", "region", "facility", "article", "deal", "recognised_by")


def _catalogue_sql(tier: Tier, name: str) -> Sql:
    """The statement of ``catalogue_labels`` for a tier and a name column: one key per
    catalogue (an array of ids, in the order of ``CATALOGUES``)."""
    # Regions and places have no Ukrainian name: the main one, as ``_place_label`` does.
    place_name = name if name != "name_uk" else "name"
    # Each catalogue through its model's manager (deals through the visibility rule), as one
    # statement: (facet, id, parameter value, label in the language, label in English).
    parts = (
        (Country.objects.all(), ("pk", "code", name, "name"), "a, b::text, c, d"),
        (Region.objects.all(), ("pk", place_name, "name"), "a, a::text, b, c"),
        (Place.objects.all(), ("pk", place_name, "name"), "a, a::text, b, c"),
        (
            CriminalArticle.objects.all(),
            ("pk", "code__short_name", "number"),
            "a, a::text, b || ' ' || c, ''",
        ),
        (ReleaseDeal.objects.visible_to(tier), ("pk", "slug", "title"), "a, b, c, ''"),
        (Organisation.objects.all(), ("pk", "name"), "a, a::text, b, ''"),
    )
    selects: list[str] = []
    params: list[Any] = []
    for number, (facet, (queryset, fields, columns)) in enumerate(
        zip(CATALOGUES, parts, strict=True)
    ):
        chosen = queryset.filter(one_of(queryset.model, "id", KEY - number)).order_by()
        sql, part_params = chosen.values_list(*fields).query.sql_with_params()
        aliases = ", ".join("abcd"[: len(fields)])
        # constants, and the SQL Django compiled
        selects.append(f"SELECT '{facet}', {columns} FROM ({sql}) AS x ({aliases})")  # noqa: S608
        params += part_params
    return Sql(" UNION ALL ".join(selects), params, keys=len(CATALOGUES))


def catalogue_labels(
    counts: FacetCounts, filterset: Any, language: str
) -> dict[str, dict[Any, tuple[str, str]]]:
    """``{facet: {id: (parameter value, label)}}`` for the values counted or chosen: one
    query."""
    wanted: dict[str, set[Any]] = {}
    for facet in (
        "region",
        "country_now",
        "custody_country",
        "facility",
        "article",
        "deal",
        "recognised_by",
    ):
        wanted[facet] = set(counts.of(facet)) | {obj.pk for obj in filterset.picked(facet)}
    lang = language[:2]
    name = f"name_{lang}" if lang in ("be", "ru", "uk") else "name"
    keys = (
        sorted(wanted["country_now"] | wanted["custody_country"]),
        *(sorted(wanted[facet]) for facet in CATALOGUES[1:]),
    )
    found: dict[str, dict[Any, tuple[str, str]]] = {facet: {} for facet in CATALOGUES}
    labels = kept(
        ("listing.catalogue", filterset.tier, name), lambda: _catalogue_sql(filterset.tier, name)
    )
    for facet, pk, value, local, english in labels.fetchall(*keys):
        found[facet][pk] = (value, local or english)
    countries = found.pop("country")
    return {**found, "country_now": countries, "custody_country": countries}


def facet_groups(
    counts: FacetCounts, filterset: Any, language: str, today: dt.date, *, numbers: bool = True
) -> list[FacetGroup]:
    """The facets of the sidebar: each option with its count, chosen ones always shown.
    ``numbers`` False: the counts order the options but are not shown (``Option.count``
    None)."""
    labels = catalogue_labels(counts, filterset, language)
    groups: list[FacetGroup] = []

    def chosen_values(name: str) -> set[str]:
        value = filterset.picked(name)
        return {
            (getattr(v, "code", None) or getattr(v, "slug", None) or str(v.pk))
            if isinstance(v, models.Model)
            else str(v)
            for v in value
        }

    def add(name: str, options: list[Option], *, by_count: bool) -> None:
        if name not in filterset.filters:
            return
        shown = [o for o in options if o.checked or (o.count or 0) > 0]
        if by_count:
            shown.sort(key=lambda o: (-(o.count or 0), o.label))
        first = list(shown[:FACET_SHOWN]) + [o for o in shown[FACET_SHOWN:] if o.checked]
        rest = [o for o in shown[FACET_SHOWN:] if not o.checked]
        if not numbers:
            for option in (*first, *rest):
                option.count = None
        label = str(filterset.filters[name].label)
        groups.append(FacetGroup(name, label, first, rest, approximate=counts.approximate))

    def fixed(name: str, choices: Iterable[tuple[str, Any]], counted: dict[Any, int]) -> None:
        picked = chosen_values(name)
        options = [
            Option(str(value), str(label), counted.get(value, 0), str(value) in picked)
            for value, label in choices
        ]
        add(name, options, by_count=False)

    def catalogue(name: str, counted: dict[Any, int]) -> None:
        picked = chosen_values(name)
        options = []
        for pk, (value, label) in labels[name].items():
            options.append(Option(value, label, counted.get(pk, 0), value in picked))
        add(name, options, by_count=True)

    fixed("status", Status.choices, counts.of("status"))
    catalogue("custody_country", counts.of("custody_country"))
    catalogue("country_now", counts.of("country_now"))
    catalogue("region", counts.of("region"))
    fixed("gender", Person.Gender.choices, counts.of("gender"))
    fixed("age", [(key, label) for key, label, _l, _h in AGE_BANDS], counts.by_age)
    catalogue("article", counts.of("article"))
    catalogue("facility", counts.of("facility"))
    catalogue("deal", counts.of("deal"))
    years = sorted({int(y) for y in counts.of("year")} | {int(y) for y in filterset.picked("year")})
    fixed(
        "year",
        [(str(y), str(y)) for y in reversed(years)],
        {str(k): v for k, v in counts.of("year").items()},
    )
    catalogue("recognised_by", counts.of("recognised_by"))
    risk_labels = dict(AtRiskFlag.Kind.choices)
    fixed(
        "at_risk",
        [(kind, risk_labels[kind]) for kind in RISK_KINDS],
        {RISK_KINDS[code - 1]: n for code, n in counts.of("at_risk").items()},
    )
    return groups


def listing_page(
    filterset: Any,
    *,
    viewer: Any,
    language: str,
    page_number: int,
    per_page: int,
    today: dt.date,
    count_all: bool = False,
) -> ListingPage:
    """One page of the filtered listing with its facets: a fixed number of queries.

    The counts beside the facets' values may be left to the facets fragment
    (``listing_counts``; ``count_all`` counts them here whatever it costs): the page then
    shows the values from the counts of its first facet, without numbers
    (``ListingPage.counts_pending``)."""
    tier = viewer_tier(viewer)
    queryset = filterset.qs
    on = filterset.on_date
    counted = listing_counts(
        filterset,
        viewer=tier,
        today=today,
        count_all=count_all,
        rows_needed=page_number * per_page,
    )
    pending = isinstance(counted, DeferredCounts)
    if isinstance(counted, DeferredCounts):
        assert counted.values is not None  # set by listing_counts
        counts = replace(counted.values, total=counted.total, approximate=False)
        at_least = counted.at_least
    else:
        counts, at_least = counted, False
    page = Paginator(range(counts.total), per_page).page(page_number)  # InvalidPage: caller
    page.elided_range = list(  # type: ignore[attr-defined]
        page.paginator.get_elided_page_range(page.number, on_each_side=2, on_ends=1)
    )
    offset = page.start_index() - 1 if counts.total else 0
    ids = page_ids(
        queryset,
        sort=filterset.sort_key,
        language=language,
        today=today,
        offset=offset,
        limit=per_page,
        years=[int(year) for year in filterset.picked("year")],
        tier=tier,
    )
    rows = rows_for(ids, today=today, tier=tier)
    articles = article_labels({pk for row in rows for pk in decode(row.article_codes, tier)})
    statuses = statuses_of(ids, on) if on is not None else {}
    labels = dict(Status.choices)
    url_of = person_urls()
    shown: list[PersonRow] = []
    for row in rows:
        status = statuses.get(row.person_id, row.status)
        place_visible = row.place_level is not None and row.place_level <= tier
        shown.append(
            PersonRow(
                pk=row.person_id,
                url=url_of(row.person_id),
                name=localized_name(row.person, language, tier),
                status=status,
                status_label=str(labels.get(status, status)),
                place=_place_label(row.place_now, language) if place_visible else "",
                country=_country_label(row.country_now, language),
                detained_on=row.detained_on,
                detained_on_precision=row.detained_on_precision,
                detained_label=detained_label(row.detained_on, row.detained_on_precision, language),
                days=row.days,  # type: ignore[attr-defined]
                articles=[articles[a] for a in decode(row.article_codes, tier) if a in articles],
            )
        )
    return ListingPage(
        rows=shown,
        page=page,
        total=counts.total,
        approximate=counts.approximate,
        facets=facet_groups(counts, filterset, language, today, numbers=not pending),
        on=on,
        sort=filterset.sort_key,
        counts_pending=pending,
        at_least=at_least,
    )


# --- Exports ----------------------------------------------------------------------------------

EXPORT_CHUNK = 2000
PUBLIC_COLUMNS = (
    "id",
    "url",
    "name",
    "name_be",
    "name_ru",
    "gender",
    "birth_year",
    "home_region",
    "occupation",
    "status",
    "country_now",
    "place_now",
    "custody_country",
    "detained_on",
    "detained_on_precision",
    "days_in_detention",
    "articles",
    "deals",
    "recognised_by",
)
# Person fields shown to researchers (``visibility.FIELD_TIERS``), and their at-risk flags.
RESEARCHER_COLUMNS = ("birth_date", "birth_date_precision", "letter_address", "letters_reach")
NOT_IN_EXPORT_QUERY = ("page", "per_page", "counts")
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def export_query(params: Any) -> str:
    """The query string of the filters, for the export links (no page)."""
    query = params.copy()
    for name in NOT_IN_EXPORT_QUERY:
        query.pop(name, None)
    return str(query.urlencode())


def csv_cell(value: Any) -> Any:
    """A value as a CSV cell; text that a spreadsheet would run as a formula is quoted."""
    if value is None:
        return ""
    if isinstance(value, list):
        value = "; ".join(str(v) for v in value)
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


class Export:
    """The rows of a filtered listing as dicts, with the columns the viewer may see."""

    def __init__(self, filterset: Any, *, viewer: Any, language: str, today: dt.date) -> None:
        from .visibility import visible_fields

        self.tier = viewer_tier(viewer)
        self.language = language
        self.today = today
        self.on = filterset.on_date
        self.sort = filterset.sort_key
        self.queryset = filterset.qs
        person_fields = visible_fields(Person, self.tier)
        columns = list(PUBLIC_COLUMNS)
        columns += [c for c in RESEARCHER_COLUMNS if c in person_fields]
        if "kind" in visible_fields(AtRiskFlag, self.tier):
            columns.append("at_risk")
        if self.on is not None:
            columns[columns.index("status") + 1 : columns.index("status") + 1] = [
                "status_on",
                "status_on_date",
            ]
        self.columns = columns
        self.url_of = person_urls()  # reversed now: the rows stream after the view returned

    def _ordered(self) -> models.QuerySet[PersonListing]:
        queryset = self.queryset.select_related(
            "person", "home_region", "country_now", "custody_country", "place_now"
        ).annotate(days=days_in_detention(self.today))
        if self.sort.lstrip("-") == "days":
            if self.sort.startswith("-"):
                return queryset.order_by("-days", "-person_id")
            return queryset.order_by("days", "person_id")
        return queryset.order_by(*sort_order(self.sort, self.language))

    def rows(self) -> Iterator[dict[str, Any]]:
        tier = self.tier
        articles = {a.pk: _article_label(a) for a in CriminalArticle.objects.select_related("code")}
        deals = {d.pk: d.slug for d in ReleaseDeal.objects.visible_to(tier)}
        organisations = {
            o.pk: o.name for o in Organisation.objects.filter(recognitions__isnull=False).distinct()
        }
        risks = dict(enumerate(RISK_KINDS, start=1))
        for chunk in iter_chunks(self._ordered(), EXPORT_CHUNK):
            models.prefetch_related_objects([row.person for row in chunk], names_prefetch(tier))
            statuses = statuses_of([row.person_id for row in chunk], self.on) if self.on else {}
            for row in chunk:
                yield self._row(row, statuses, articles, deals, organisations, risks)

    def _row(
        self,
        row: PersonListing,
        statuses: dict[int, str],
        articles: dict[int, str],
        deals: dict[int, str],
        organisations: dict[int, str],
        risks: dict[int, str],
    ) -> dict[str, Any]:
        tier = self.tier
        person = row.person
        names = {v.language: v.text for v in getattr(person, "shown_names", [])}
        place_visible = row.place_level is not None and row.place_level <= tier
        values: dict[str, Any] = {
            "id": row.person_id,
            "url": self.url_of(row.person_id),
            "name": localized_name(person, "en", tier),
            "name_be": names.get("be", ""),
            "name_ru": names.get("ru", ""),
            "gender": person.gender,
            "birth_year": row.birth_year,
            "home_region": row.home_region.name if row.home_region else None,
            "occupation": person.occupation,
            "status": row.status,
            "status_on": statuses.get(row.person_id),
            "status_on_date": self.on,
            "country_now": row.country_now.code if row.country_now else None,
            "place_now": row.place_now.name if row.place_now and place_visible else None,
            "custody_country": row.custody_country.code if row.custody_country else None,
            "detained_on": row.detained_on,
            "detained_on_precision": row.detained_on_precision or None,
            "days_in_detention": row.days,  # type: ignore[attr-defined]
            "articles": [articles[a] for a in decode(row.article_codes, tier) if a in articles],
            "deals": [deals[d] for d in decode(row.deal_codes, tier) if d in deals],
            "recognised_by": [
                organisations[o] for o in decode(row.recogniser_codes, tier) if o in organisations
            ],
            "birth_date": person.birth_date,
            "birth_date_precision": person.birth_date_precision,
            "letter_address": person.letter_address,
            "letters_reach": person.letters_reach,
            "at_risk": [risks[k] for k in decode(row.risk_codes, tier) if k in risks],
        }
        return {column: values[column] for column in self.columns}
