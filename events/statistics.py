"""Statistics: persons in custody over time, releases, transfers, and who is held where.

Every figure is a count for a past or present day D (``as_of``), recomputed from the events as
they stood on D, with the rules of ``events.selectors``: a person is in custody on D when an
episode had begun by D (an unknown arrest date counts as an unknown earlier date), had not ended
by D, and they had not died by D. Releases are counted on their day and transfer legs on theirs
(else the day of their release; a leg with no date at all counts as an unknown earlier date).

What is counted is what the viewer may see (``prisoners.visibility.statistics_filter``): the
public count name-withheld persons (published, only the name hidden) but not drafts; researchers
and staff get the counts of their tier. Derived facts follow the same rule: an episode's end
counts for a tier only if it sees the release or death that ended it (``end_level``; otherwise
the episode lasts until the next arrest the tier sees), a placement cut by that end stays open,
a death counts for the tiers that see it, and a leg dated by its release only for the tiers that
see the release (events/migrations/0006_episode_end_level.py).

Speed: the counts are not computed from the events on each request. Database triggers
(events/migrations/0005_statistics.py) keep ``StatsDelta`` current after every write (at commit,
or before a read in the writing transaction: ``stats_flush``): how much each count changes per
day, month and year, for each lowest tier that sees it. A count on D is
the sum of a few hundred of those rows whatever the number of persons (``_BREAKDOWN_SQL``):
the years before D's year, the months of that year before D's month, the days of that month up
to D. The page runs four queries. ``stats_rebuild`` recomputes the tables from the events.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from itertools import accumulate
from typing import Any

from django.db import connection, transaction
from django.db.models import Case, DateField, F, Q, Sum, Value, When
from django.utils import formats
from django.utils.translation import gettext_lazy as _

from prisoners.visibility import Tier

from .models import ReleaseKind, StatsDelta, StatsFact, StatsFigure, StatsGrain

UNKNOWN_PAST = dt.date(1, 1, 1)  # the day an unknown start is counted on
EARLIEST = dt.date(1900, 1, 1)  # the earliest as_of date asked for

AS_OF_INVALID = _("Write the date as YYYY-MM-DD, for example 2025-12-13.")
AS_OF_TOO_EARLY = _("Choose a date in 1900 or later.")
AS_OF_FUTURE = _("Choose a date no later than today (%(today)s).")

_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


class AsOfError(ValueError):
    """A date asked for that the figures cannot be shown for; the message says why."""


def parse_as_of(value: str | None, *, today: dt.date) -> dt.date:
    """The day asked for in ``?as_of=YYYY-MM-DD``: today when missing or empty."""
    value = (value or "").strip()
    if not value:
        return today
    if not _ISO_DATE.match(value):
        raise AsOfError(AS_OF_INVALID)
    try:
        day = dt.date.fromisoformat(value)
    except ValueError:
        raise AsOfError(AS_OF_INVALID) from None
    if day < EARLIEST:
        raise AsOfError(AS_OF_TOO_EARLY)
    if day > today:
        raise AsOfError(AS_OF_FUTURE % {"today": today.isoformat()})
    return day


def _month(day: dt.date) -> dt.date:
    return day.replace(day=1)


def _next_month(month: dt.date) -> dt.date:
    return (month + dt.timedelta(days=32)).replace(day=1)


# --- What the page shows ---------------------------------------------------------------------


@dataclass(frozen=True)
class Row:
    """One line of a breakdown: a facility, article, region or country and its count."""

    key: int
    label: str
    count: int
    detail: str = ""


@dataclass(frozen=True)
class Flow:
    source: str
    target: str
    count: int


@dataclass(frozen=True)
class ReleaseMonth:
    month: dt.date
    counts: tuple[int, ...]  # one per kind in ``Statistics.release_kinds``

    @property
    def total(self) -> int:
        return sum(self.counts)


@dataclass(frozen=True)
class SankeyNode:
    label: str
    count: int
    x: float
    y: float
    height: float
    color: int
    side: str  # "source" or "target"

    @property
    def label_y(self) -> float:
        return self.y + self.height / 2

    @property
    def width(self) -> int:
        return SANKEY_BAR

    @property
    def label_x(self) -> float:
        return self.x - 6 if self.side == "source" else self.x + SANKEY_BAR + 6

    @property
    def anchor(self) -> str:
        return "end" if self.side == "source" else "start"


@dataclass(frozen=True)
class SankeyLink:
    source: str
    target: str
    count: int
    path: str
    color: int


@dataclass(frozen=True)
class Sankey:
    """A two-column flow diagram, laid out for an inline SVG."""

    width: int
    height: int
    nodes: tuple[SankeyNode, ...]
    links: tuple[SankeyLink, ...]


@dataclass
class Statistics:
    as_of: dt.date
    tier: Tier
    in_custody: int = 0
    custody_series: list[tuple[dt.date, int]] = field(default_factory=list)
    release_kinds: list[tuple[str, str]] = field(default_factory=list)
    release_months: list[ReleaseMonth] = field(default_factory=list)
    flows: list[Flow] = field(default_factory=list)
    facilities: list[Row] = field(default_factory=list)
    articles: list[Row] = field(default_factory=list)
    regions: list[Row] = field(default_factory=list)

    @property
    def releases_total(self) -> int:
        return sum(month.total for month in self.release_months)

    @property
    def release_kind_totals(self) -> list[int]:
        return [sum(col) for col in zip(*(m.counts for m in self.release_months), strict=True)]

    @property
    def transfers_total(self) -> int:
        return sum(flow.count for flow in self.flows)

    @property
    def facility_unknown(self) -> int:
        """In custody with no facility recorded on the day (house arrest included)."""
        return max(self.in_custody - sum(row.count for row in self.facilities), 0)

    @property
    def region_unknown(self) -> int:
        return max(self.in_custody - sum(row.count for row in self.regions), 0)

    @property
    def flow_diagram(self) -> Sankey:
        return sankey(self.flows)

    # The long tables, with their dates formatted once here: a template filter per cell of a
    # 200-row table costs more than the queries of the page.

    @property
    def custody_rows(self) -> list[tuple[str, str, int]]:
        """(ISO date, date in the interface language, persons in custody) per point."""
        return [
            (day.isoformat(), formats.date_format(day, "DATE_FORMAT"), count)
            for day, count in self.custody_series
        ]

    @property
    def release_rows(self) -> list[tuple[str, str, tuple[int, ...], int]]:
        """(ISO month, month in the interface language, counts per kind, total) per month."""
        return [
            (
                m.month.strftime("%Y-%m"),
                formats.date_format(m.month, "YEAR_MONTH_FORMAT"),
                m.counts,
                m.total,
            )
            for m in self.release_months
        ]

    def chart_data(self) -> dict[str, Any]:
        """The numbers of the tables, for statistics.js to draw (labels already translated)."""
        return {
            "custody": {
                "label": str(_("Persons in custody")),
                "labels": [day.isoformat() for day, _n in self.custody_series],
                "values": [n for _day, n in self.custody_series],
            },
            "releases": {
                "labels": [m.month.strftime("%Y-%m") for m in self.release_months],
                "datasets": [
                    {
                        "kind": kind,
                        "label": label,
                        "values": [m.counts[i] for m in self.release_months],
                    }
                    for i, (kind, label) in enumerate(self.release_kinds)
                ],
            },
            **{
                name: {
                    "label": str(_("Persons in custody")),
                    "labels": [row.label for row in rows],
                    "values": [row.count for row in rows],
                }
                for name, rows in (
                    ("facilities", self.facilities),
                    ("articles", self.articles),
                    ("regions", self.regions),
                )
            },
        }


# --- Reading the counts ----------------------------------------------------------------------

_LANGUAGE_COLUMNS = {"be": "_be", "ru": "_ru", "uk": "_uk"}

# The counts on a day for the breakdowns and transfers, with the names of what they count.
_BREAKDOWN_SQL = """
SELECT s.figure, s.key, s.key2, s.n,
       coalesce(nullif(pl.name{place}, ''), pl.name), city.name,
       cc.short_name, a.number, coalesce(nullif(a.title{article}, ''), a.title),
       coalesce(nullif(r.name{region}, ''), r.name),
       c1.code, coalesce(nullif(c1.name{country}, ''), c1.name),
       c2.code, coalesce(nullif(c2.name{country}, ''), c2.name)
FROM (
    SELECT figure, key, key2, sum(n) AS n
    FROM events_statsdelta
    WHERE figure IN ('custody', 'facility', 'article', 'region', 'transfer')
      AND level <= %(tier)s
      AND ((grain = 'y' AND bucket < %(year)s)
           OR (grain = 'm' AND bucket >= %(year)s AND bucket < %(month)s)
           OR (grain = 'd' AND bucket >= %(month)s AND bucket <= %(on)s))
    GROUP BY figure, key, key2
    HAVING sum(n) <> 0
) s
LEFT JOIN prisoners_place pl ON s.figure = 'facility' AND pl.id = s.key
LEFT JOIN prisoners_place city ON city.id = pl.city_id
LEFT JOIN events_criminalarticle a ON s.figure = 'article' AND a.id = s.key
LEFT JOIN events_criminalcode cc ON cc.id = a.code_id
LEFT JOIN prisoners_region r ON s.figure = 'region' AND r.id = s.key
LEFT JOIN prisoners_country c1 ON s.figure = 'transfer' AND c1.id = s.key
LEFT JOIN prisoners_country c2 ON s.figure = 'transfer' AND c2.id = s.key2
"""


def _breakdown_sql(language: str) -> str:
    suffix = _LANGUAGE_COLUMNS.get(language[:2], "")
    # Places, regions and articles have no Ukrainian column: their Latin name then.
    no_uk = "" if suffix == "_uk" else suffix
    return _BREAKDOWN_SQL.format(place=no_uk, article=no_uk, region=no_uk, country=suffix)


def _sorted(rows: list[Row]) -> list[Row]:
    return sorted(rows, key=lambda row: (-row.count, row.label, row.key))


def _release_months(on: dt.date, tier: Tier) -> tuple[list[tuple[str, str]], list[ReleaseMonth]]:
    month = _month(on)
    rows = (
        StatsDelta.objects.filter(figure=StatsFigure.RELEASE, level__lte=int(tier))
        .filter(
            Q(grain=StatsGrain.MONTH, bucket__lt=month)
            | Q(grain=StatsGrain.DAY, bucket__gte=month, bucket__lte=on)
        )
        .annotate(
            month=Case(
                When(grain=StatsGrain.DAY, then=Value(month)),
                default=F("bucket"),
                output_field=DateField(),
            )
        )
        .values("month", "kind")
        .annotate(total=Sum("n"))
        .order_by()
    )
    counts: dict[tuple[dt.date, str], int] = {}
    for row in rows:
        if row["total"]:
            counts[row["month"], row["kind"]] = row["total"]
    kinds_present = {kind for _month_, kind in counts}
    kinds = [(k, str(label)) for k, label in ReleaseKind.choices if k in kinds_present]
    kinds += [(k, k) for k in sorted(kinds_present - set(ReleaseKind.values))]
    months = sorted({m for m, _kind in counts})
    result: list[ReleaseMonth] = []
    if months:
        current = months[0]
        while current <= months[-1]:
            result.append(
                ReleaseMonth(current, tuple(counts.get((current, k), 0) for k, _ in kinds))
            )
            current = _next_month(current)
    return kinds, result


def _custody_series(on: dt.date, tier: Tier, in_custody: int) -> list[tuple[dt.date, int]]:
    """Persons in custody on the last day of each month before ``on``'s month, then on ``on``."""
    rows = list(
        StatsDelta.objects.filter(
            figure=StatsFigure.CUSTODY,
            grain=StatsGrain.MONTH,
            level__lte=int(tier),
            bucket__lt=_month(on),
        )
        .values("bucket")
        .annotate(total=Sum("n"))
        .order_by("bucket")
    )
    changes = {row["bucket"]: row["total"] for row in rows}
    before = changes.pop(UNKNOWN_PAST, 0)  # held since an unknown earlier date
    series: list[tuple[dt.date, int]] = []
    if changes:
        months: list[dt.date] = []
        current = min(changes)
        while current < _month(on):
            months.append(current)
            current = _next_month(current)
        totals = accumulate((changes.get(m, 0) for m in months), initial=before)
        next(totals)
        series = [
            (_next_month(m) - dt.timedelta(days=1), total)
            for m, total in zip(months, totals, strict=True)
        ]
    series.append((on, in_custody))
    return series


def stats_flush() -> None:
    """Count the writes of the current transaction not counted yet (they are at commit): a
    no-op, and no write, when there are none."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT events_stats_flush()")


def statistics_on(*, as_of: dt.date, tier: Tier, language: str = "en") -> Statistics:
    """Every figure of the statistics page on ``as_of``, as ``tier`` may see them (4 queries:
    one to count this transaction's own writes, three to read)."""
    stats_flush()
    stats = Statistics(as_of=as_of, tier=tier)
    params: dict[str, int | dt.date] = {
        "tier": int(tier),
        "year": as_of.replace(month=1, day=1),
        "month": _month(as_of),
        "on": as_of,
    }
    with connection.cursor() as cursor:
        cursor.execute(_breakdown_sql(language), params)
        rows = cursor.fetchall()
    flows: list[tuple[str, str, str, str, int]] = []
    for row in rows:
        figure, key, n = row[0], row[1], row[3]
        if figure == StatsFigure.CUSTODY:
            stats.in_custody = n
        elif figure == StatsFigure.FACILITY and key:
            stats.facilities.append(Row(key, row[4] or str(key), n, row[5] or ""))
        elif figure == StatsFigure.ARTICLE:
            label = f"{row[6]} {row[7]}" if row[7] else str(key)
            stats.articles.append(Row(key, label, n, row[8] or ""))
        elif figure == StatsFigure.REGION and key:
            stats.regions.append(Row(key, row[9] or str(key), n))
        elif figure == StatsFigure.TRANSFER:
            flows.append((row[10] or "?", row[11] or "?", row[12] or "?", row[13] or "?", n))
    stats.facilities = _sorted(stats.facilities)
    stats.articles = _sorted(stats.articles)
    stats.regions = _sorted(stats.regions)
    stats.flows = [
        Flow(source=f"{src_name} ({src})", target=f"{dst_name} ({dst})", count=n)
        for src, src_name, dst, dst_name, n in sorted(flows, key=lambda f: (-f[4], f[1], f[3]))
    ]
    stats.custody_series = _custody_series(as_of, tier, stats.in_custody)
    stats.release_kinds, stats.release_months = _release_months(as_of, tier)
    return stats


# --- The flow diagram ------------------------------------------------------------------------

SANKEY_WIDTH = 640
SANKEY_LABEL_SPACE = 190  # room for the country names either side
SANKEY_BAR = 14
SANKEY_GAP = 14
SANKEY_FLOW_HEIGHT = 220  # the height all flows share, whatever their total
SANKEY_MIN = 3.0  # the thinnest band drawn
SANKEY_MARGIN = 8


def sankey(flows: list[Flow]) -> Sankey:
    """Lay out ``flows`` as two columns, origins left and destinations right, with a band per
    flow as thick as its count (a thin one for a small count)."""
    if not flows:
        return Sankey(SANKEY_WIDTH, 0, (), ())
    total = sum(flow.count for flow in flows)
    scale = SANKEY_FLOW_HEIGHT / total
    thickness = {(f.source, f.target): max(f.count * scale, SANKEY_MIN) for f in flows}

    def column(names: list[str], side: str) -> dict[str, tuple[float, float]]:
        place: dict[str, tuple[float, float]] = {}
        y = float(SANKEY_MARGIN)
        for name in names:
            height = sum(
                t for (s, d), t in thickness.items() if (s if side == "source" else d) == name
            )
            place[name] = (y, height)
            y += height + SANKEY_GAP
        return place

    def order(attr: str) -> list[str]:
        totals: dict[str, int] = {}
        for flow in flows:
            totals[getattr(flow, attr)] = totals.get(getattr(flow, attr), 0) + flow.count
        return sorted(totals, key=lambda name: (-totals[name], name))

    sources, targets = order("source"), order("target")
    left, right = column(sources, "source"), column(targets, "target")
    x0 = float(SANKEY_LABEL_SPACE)
    x1 = float(SANKEY_WIDTH - SANKEY_LABEL_SPACE)
    colors = {name: i % 8 for i, name in enumerate(sources)}
    counts = {name: sum(f.count for f in flows if f.source == name) for name in sources}
    counts_in = {name: sum(f.count for f in flows if f.target == name) for name in targets}
    nodes = [
        SankeyNode(name, counts[name], x0 - SANKEY_BAR, y, h, colors[name], "source")
        for name, (y, h) in left.items()
    ] + [SankeyNode(name, counts_in[name], x1, y, h, 8, "target") for name, (y, h) in right.items()]
    out_offset = {name: y for name, (y, _h) in left.items()}
    in_offset = {name: y for name, (y, _h) in right.items()}
    links: list[SankeyLink] = []
    for flow in sorted(flows, key=lambda f: (sources.index(f.source), targets.index(f.target))):
        t = thickness[flow.source, flow.target]
        ya, yb = out_offset[flow.source], in_offset[flow.target]
        out_offset[flow.source] += t
        in_offset[flow.target] += t
        xm = (x0 + x1) / 2
        path = (
            f"M{x0:.1f},{ya:.1f} C{xm:.1f},{ya:.1f} {xm:.1f},{yb:.1f} {x1:.1f},{yb:.1f} "
            f"L{x1:.1f},{yb + t:.1f} C{xm:.1f},{yb + t:.1f} {xm:.1f},{ya + t:.1f} "
            f"{x0:.1f},{ya + t:.1f} Z"
        )
        links.append(SankeyLink(flow.source, flow.target, flow.count, path, colors[flow.source]))
    bottom = max(y + h for y, h in [*left.values(), *right.values()])
    return Sankey(SANKEY_WIDTH, int(bottom + SANKEY_MARGIN), tuple(nodes), tuple(links))


# --- Rebuilding ------------------------------------------------------------------------------


@dataclass(frozen=True)
class RebuildResult:
    facts: int
    deltas: int


@transaction.atomic
def stats_rebuild() -> RebuildResult:
    """Recompute the statistics tables from the events (after a bulk load with the triggers
    off, or to check them: the triggers keep them equal to this)."""
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL statement_timeout = 0")
        cursor.execute("SELECT events_stats_rebuild()")
    return RebuildResult(facts=StatsFact.objects.count(), deltas=StatsDelta.objects.count())


__all__ = [
    "AS_OF_FUTURE",
    "AS_OF_INVALID",
    "AS_OF_TOO_EARLY",
    "AsOfError",
    "Flow",
    "RebuildResult",
    "Row",
    "Sankey",
    "Statistics",
    "parse_as_of",
    "sankey",
    "statistics_on",
    "stats_flush",
    "stats_rebuild",
]
