"""Server-time benchmark of the public pages (issue 3, item 10).

``run(persons=N, requests=R)`` makes sure the database holds N synthetic persons (generating the
missing ones with ``events.synthetic``), then requests each page family R times through Django's
test ``Client``: in-process, through the real middleware, views and templates, with no network
or browser in the way. Each request is timed and its SQL queries counted.

What is requested, drawn from the data with a seeded random generator so that runs compare:

- listing: ``/persons/`` with filter combinations read from the listing's own GET form (each
  facet alone, pairs of facets, a sort order, a second page), plus the unfiltered first page;
- search and suggest: ``/search/`` and ``/search/suggest/`` with names of random public persons
  in Latin, Belarusian and Russian Cyrillic, inflected Russian forms, typos and partial names;
- profile: ``/persons/<id>/`` of random public persons;
- deal: ``/deals/<slug>/`` of the public deals;
- statistics: ``/statistics/``, and with ``?as_of=`` a random past date.

The targets at one million persons (p95): 50 ms for listing, search and profile, 200 ms for
statistics.
"""

from __future__ import annotations

import datetime as dt
import math
import os
import random
import statistics as stats
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.db import connection
from django.db.models import Max, Min
from django.test import Client
from django.test.utils import override_settings
from django.utils import timezone

from config.runtime import settle_memory
from events import synthetic
from events.models import ReleaseDeal
from prisoners.models import NameVariant, Person

TARGETS_MS = {
    "listing": 50,
    "listing_filtered": 50,
    "search": 50,
    "suggest": 50,
    "profile": 50,
    "deal": 50,
    "statistics": 200,
    "statistics_as_of": 200,
}
SYNTHETIC_NOTE_PREFIX = synthetic.SYNTHETIC_NOTE.split("(")[0]
EARLIEST_AS_OF = dt.date(2015, 1, 1)


# --- inputs ------------------------------------------------------------------------------------


class FormFields(HTMLParser):
    """The fields of the GET forms of a page: name -> the values a visitor can choose."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.fields: dict[str, list[str]] = {}
        self.in_get_form = False
        self.select: str | None = None

    def _add(self, name: str, value: str) -> None:
        values = self.fields.setdefault(name, [])
        if value and value not in values:
            values.append(value)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {key: value or "" for key, value in attrs}
        if tag == "form":
            self.in_get_form = a.get("method", "get").lower() == "get" and (
                a.get("role") != "search"
            )
        elif not self.in_get_form:
            return
        elif tag == "select":
            self.select = a.get("name") or None
        elif tag == "option" and self.select:
            self._add(self.select, a.get("value", ""))
        elif tag == "input" and a.get("name"):
            kind = a.get("type", "text")
            if kind in ("checkbox", "radio"):
                self._add(a["name"], a.get("value", "on"))
            elif kind == "date":
                self._add(a["name"], a.get("max") or a.get("value") or "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "select":
            self.select = None
        elif tag == "form":
            self.in_get_form = False


SORT_NAMES = ("sort", "ordering", "order", "o")
NOT_FACETS = ("page", "page_size", "per_page", "q", "format", *SORT_NAMES)


def listing_combinations(html: str, rng: random.Random, how_many: int = 12) -> list[dict[str, str]]:
    """Filter combinations from the listing's own form: up to four pairs of facets, each facet
    alone, a sort order, a second page. At most ``how_many``, the pairs always among them, in
    a random order; never empty (the unfiltered page at worst)."""
    parser = FormFields()
    parser.feed(html)
    fields = {name: values for name, values in parser.fields.items() if values}
    facets = sorted(name for name in fields if name not in NOT_FACETS)
    pairs: list[dict[str, str]] = []
    for _ in range(min(4, len(facets) // 2)):
        first, second = rng.sample(facets, 2)
        pairs.append({first: rng.choice(fields[first]), second: rng.choice(fields[second])})
    others = [{name: rng.choice(fields[name])} for name in facets]
    sort = next((name for name in SORT_NAMES if name in fields), None)
    if sort and others:
        others.append({**others[0], sort: rng.choice(fields[sort])})
    if others:
        others.append({**others[-1], "page": "2"})
    rng.shuffle(others)
    combos = pairs[:how_many] + others[: max(how_many - len(pairs), 0)]
    rng.shuffle(combos)
    return combos or [{}]


def public_persons(rng: random.Random, count: int) -> list[Person]:
    """Random published persons, found by a jump to a random id (no full-table sort)."""
    visible = Person.objects.visible_to(AnonymousUser()).filter(name_withheld=False)
    bounds = visible.aggregate(low=Min("pk"), high=Max("pk"))
    if bounds["low"] is None:
        return []
    found: dict[int, Person] = {}
    for _ in range(count * 4):
        if len(found) >= count:
            break
        start = rng.randint(bounds["low"], bounds["high"])
        person = visible.filter(pk__gte=start).order_by("pk").first()
        if person is None:
            person = visible.filter(pk__lt=start).order_by("-pk").first()
        if person is not None:
            found[person.pk] = person
    return list(found.values())


def _surname(text: str) -> str:
    return text.split()[-1] if text.split() else text


def _inflect_ru(surname: str) -> str:
    """An oblique case of a Russian surname, as a news article writes it."""
    if surname.endswith(("ова", "ева", "ина", "ая")):
        return surname[:-1] + "у" if not surname.endswith("ая") else surname[:-2] + "ую"
    if surname.endswith(("ий", "ой")):
        return surname[:-2] + "ого"
    if surname[-1:] in "вн":
        return surname + "а"
    return surname


def _typo(word: str) -> str:
    if len(word) < 5:
        return word
    i = len(word) // 2
    return word[:i] + word[i + 1] + word[i] + word[i + 2 :]


def search_queries(persons: list[Person], count: int) -> list[str]:
    """Names of these persons as visitors type them: Latin and Cyrillic, whole or partial,
    inflected, misspelled."""
    primaries: dict[tuple[int, str], str] = {
        (person_id, language): text
        for person_id, language, text in NameVariant.objects.visible_to(AnonymousUser())
        .filter(person__in=persons, kind=NameVariant.Kind.PRIMARY)
        .values_list("person_id", "language", "text")
    }
    makers: list[Callable[[Person], str | None]] = [
        lambda p: p.name,
        lambda p: primaries.get((p.pk, "ru")),
        lambda p: _typo(_surname(p.name)),
        lambda p: primaries.get((p.pk, "be")),
        lambda p: (lambda ru: _inflect_ru(_surname(ru)) if ru else None)(
            primaries.get((p.pk, "ru"))
        ),
        lambda p: _surname(p.name)[:5],
        lambda p: (lambda be: _surname(be).lower() if be else None)(primaries.get((p.pk, "be"))),
    ]
    queries: list[str] = []
    for i in range(count):
        if not persons:
            break
        person = persons[i % len(persons)]
        query = makers[i % len(makers)](person) or person.name
        queries.append(query)
    return queries


def as_of_dates(rng: random.Random, count: int) -> list[str]:
    today = timezone.localdate()
    span = (today - EARLIEST_AS_OF).days
    return [
        (EARLIEST_AS_OF + dt.timedelta(days=rng.randint(0, span))).isoformat() for _ in range(count)
    ]


# --- measuring ---------------------------------------------------------------------------------


@dataclass
class Series:
    """The timings and query counts of one page family."""

    name: str
    millis: list[float] = field(default_factory=list)
    queries: list[int] = field(default_factory=list)
    statuses: Counter[int] = field(default_factory=Counter)
    examples: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        ordered = sorted(self.millis)
        target = TARGETS_MS.get(self.name)
        p95 = percentile(ordered, 95)
        return {
            "requests": len(ordered),
            "p50_ms": round(percentile(ordered, 50), 2),
            "p95_ms": round(p95, 2),
            "max_ms": round(ordered[-1], 2) if ordered else 0.0,
            "mean_ms": round(stats.fmean(ordered), 2) if ordered else 0.0,
            "queries_per_request": stats.median(self.queries) if self.queries else 0,
            "queries_min": min(self.queries, default=0),
            "queries_max": max(self.queries, default=0),
            "errors": sum(n for status, n in self.statuses.items() if status >= 400),
            "statuses": {str(status): n for status, n in sorted(self.statuses.items())},
            "target_p95_ms": target,
            "meets_target": None if target is None or not ordered else p95 <= target,
            "examples": self.examples[:3],
        }


def percentile(ordered: list[float], pct: float) -> float:
    """Nearest-rank percentile of a sorted list."""
    if not ordered:
        return 0.0
    rank = max(1, math.ceil(pct / 100 * len(ordered)))
    return ordered[rank - 1]


@contextmanager
def counting_queries() -> Iterator[list[int]]:
    counter = [0]

    def wrapper(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        counter[0] += 1
        return execute(sql, params, many, context)

    with connection.execute_wrapper(wrapper):
        yield counter


class Bench:
    def __init__(self, client: Client, requests: int, *, secure: bool = False) -> None:
        self.client = client
        self.requests = requests
        self.secure = secure
        self.series: dict[str, Series] = {}

    def fetch(self, url: str) -> tuple[int, str]:
        response = self.client.get(url, secure=self.secure)
        if getattr(response, "streaming", False):
            body = b"".join(response.streaming_content)  # type: ignore[attr-defined]
        else:
            body = response.content
        return response.status_code, body.decode("utf-8", "replace")

    def measure(self, name: str, urls: list[str], headers: dict[str, str] | None = None) -> None:
        """Request ``urls`` in turn, ``self.requests`` times in all, after one warm-up."""
        series = self.series.setdefault(name, Series(name))
        if not urls:
            return
        self.client.get(urls[0], headers=headers, secure=self.secure)  # warm-up
        for i in range(self.requests):
            url = urls[i % len(urls)]
            with counting_queries() as queries:
                start = time.perf_counter()
                response = self.client.get(url, headers=headers, secure=self.secure)
                if getattr(response, "streaming", False):
                    for _chunk in response.streaming_content:  # type: ignore[attr-defined]
                        pass
                elapsed = (time.perf_counter() - start) * 1000
            series.millis.append(elapsed)
            series.queries.append(queries[0])
            series.statuses[response.status_code] += 1
            if url not in series.examples:
                series.examples.append(url)


def ensure_persons(
    persons: int,
    *,
    workers: int = 2,
    history: bool = True,
    say: Callable[[str], None] = lambda _message: None,
) -> int:
    """Generate synthetic persons until there are ``persons`` of them; return how many were
    made. A new seed is taken for each top-up, so later persons differ from earlier ones."""
    synthetic_persons = Person.objects.filter(staff_notes__startswith=SYNTHETIC_NOTE_PREFIX)
    have = synthetic_persons.count()
    missing = persons - have
    if missing <= 0:
        say(f"{have} synthetic persons already there: nothing to generate")
        return 0
    notes = synthetic_persons.values_list("staff_notes", flat=True).distinct()
    seeds = [int(n.rsplit("seed ", 1)[-1].rstrip(").")) for n in notes if "seed " in n]
    seed = max(seeds, default=-1) + 1
    say(f"{have} synthetic persons there; generating {missing} more (seed {seed})")
    synthetic.generate(persons=missing, seed=seed, workers=workers, history=history, progress=say)
    return missing


def _load_average() -> list[float]:
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:  # not available on this platform
        return []


CPU_REFERENCE_LOOPS = 2_000_000


def cpu_reference_ms(repeat: int = 3) -> float:
    """Milliseconds this process takes for a fixed pure-Python loop (the best of ``repeat``):
    the speed of the machine's CPU at the time, to compare runs made at other times or on
    other machines (a machine whose speed changes from minute to minute changes the figures
    with it)."""
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        total = 0
        for i in range(CPU_REFERENCE_LOOPS):
            total += i * i % 7
        best = min(best, (time.perf_counter() - start) * 1000)
    return round(best, 1)


class BenchmarkError(Exception):
    """The benchmark cannot measure what a visitor would get."""


def check_static() -> None:
    """Pages link their CSS through the static storage; with the manifest storage of the
    settings, a missing ``collectstatic`` turns every page into a server error."""
    from django.contrib.staticfiles.storage import staticfiles_storage

    try:
        staticfiles_storage.url("css/site.css")
    except ValueError as error:
        raise BenchmarkError(
            f"{error}: run `python manage.py collectstatic --noinput` first"
        ) from error


def run(
    *,
    persons: int,
    requests: int = 50,
    skip_generate: bool = False,
    workers: int = 2,
    history: bool = True,
    seed: int = 0,
    say: Callable[[str], None] = lambda _message: None,
) -> dict[str, Any]:
    """Ensure the data, measure every page family, return the figures."""
    check_static()
    load_before = _load_average()
    cpu_before = cpu_reference_ms()
    generated = 0
    if not skip_generate:
        generated = ensure_persons(persons, workers=workers, history=history, say=say)
    rng = random.Random(seed)
    with override_settings(ALLOWED_HOSTS=[*settings.ALLOWED_HOSTS, "testserver"]):
        client = Client(raise_request_exception=False)  # an error is a 500 in the figures
        bench = Bench(client, requests, secure=settings.SECURE_SSL_REDIRECT)
        say("choosing inputs")
        status, listing_html = bench.fetch("/persons/")
        combos = listing_combinations(listing_html if status == 200 else "", rng)
        sample = public_persons(rng, max(requests, 10))
        queries = search_queries(sample, max(requests, 10))
        deals = list(
            ReleaseDeal.objects.visible_to(AnonymousUser())
            .order_by("-announced_on", "-id")
            .values_list("slug", flat=True)
        )
        htmx = {"HX-Request": "true"}  # suggestions are the fragment htmx asks for
        plan: list[tuple[str, list[str], dict[str, str] | None]] = [
            ("listing", ["/persons/"], None),
            ("listing_filtered", [f"/persons/?{urlencode(c)}" for c in combos if c], None),
            # What a page of several facets leaves for later: htmx asks for its counts once
            # the page has loaded. Measured after the pages, so the first request of each
            # combination counts (nothing cached yet), the next ones read the cache.
            (
                "listing_counts",
                [
                    f"/persons/?{urlencode({**c, 'counts': 'all'})}"
                    for c in combos
                    if "page" not in c and len(set(c) - set(SORT_NAMES)) > 1
                ],
                htmx,
            ),
            ("search", [f"/search/?{urlencode({'q': q})}" for q in queries], None),
            ("suggest", [f"/search/suggest/?{urlencode({'q': q})}" for q in queries], htmx),
            ("profile", [f"/persons/{p.pk}/" for p in sample], None),
            ("deal", [f"/deals/{slug}/" for slug in deals], None),
            ("statistics", ["/statistics/"], None),
            (
                "statistics_as_of",
                [f"/statistics/?as_of={d}" for d in as_of_dates(rng, requests)],
                None,
            ),
        ]
        settle_memory()  # as config/wsgi.py does once the application is loaded
        for name, urls, headers in plan:
            say(f"measuring {name} ({requests} requests over {len(urls)} URLs)")
            bench.measure(name, urls, headers)
    synthetic_count = Person.objects.filter(staff_notes__startswith=SYNTHETIC_NOTE_PREFIX).count()
    return {
        "persons": synthetic_count,
        "persons_total": Person.objects.count(),
        "generated": generated,
        "requests_per_page": requests,
        "debug": settings.DEBUG,
        "database": connection.settings_dict.get("NAME"),
        "python": sys.version.split()[0],
        "cpus": os.cpu_count(),
        # Other work on the machine skews the figures: compare runs at a low load only.
        "load_average": {"before": load_before, "after": _load_average()},
        # The same loop before and after: a lower figure is a faster CPU (cpu_reference_ms).
        "cpu_reference_ms": {"before": cpu_before, "after": cpu_reference_ms()},
        "results": {name: series.as_dict() for name, series in bench.series.items()},
    }
