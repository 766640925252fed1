"""Throughput of the import worker: articles per second per worker process, and its memory.

Each article goes through ``pipeline.process_item``, the function the ``ingest.process_item``
task runs: read (text or HTML through trafilatura), de-duplicate, find the persons mentioned
among every known person, find the events, store the article and its proposals. No network: the
articles are uploaded items. The articles are the test corpus (each with a sentence of its own,
so that none is an exact duplicate) and short reports written from persons of the database (so
that the names to find are there at any size). Everything runs in one transaction rolled back
at the end: the database is left as it was.
"""

from __future__ import annotations

import gc
import random
import resource
import statistics
import time
from pathlib import Path
from typing import Any

from django.db import transaction
from django.db.models import Max, Min

from prisoners.models import Person

from . import pipeline
from .models import ImportItem, ImportRun

CORPUS = Path(__file__).resolve().parent.parent.parent / "tests" / "articles" / "corpus"
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
TEMPLATES = (
    "Title: {a} freed\nDate: 2026-0{m}-1{d}\n\n{a} was released from a penal colony on {w}, "
    "human rights defenders said. {a} had been detained in 202{y} and sentenced to {n} years. "
    "Relatives of {b} said they still had no news of {b}, who is held incommunicado.",
    "Title: Court hearing\nDate: 2026-0{m}-2{d}\n\nA court sentenced {a} to {n} years in a "
    "penal colony on {w}. {b} was detained the same week, according to Viasna. Observers "
    "said that {c} spoke at the hearing as a witness.",
    "Title: Transfer\nDate: 2025-1{d}-0{m}\n\n{a} and {b} were handed over to Lithuania on "
    "{w} after their release, the foreign ministry said. {c} commented on the decision.",
)


class _Stop(Exception):
    pass


def _texts(count: int, seed: int) -> list[tuple[str, bytes]]:
    rng = random.Random(seed)
    corpus = [p for p in sorted(CORPUS.iterdir()) if p.is_file()]
    bounds = Person.objects.aggregate(low=Min("pk"), high=Max("pk"))
    names: list[str] = []
    if bounds["low"] is not None:
        span = range(bounds["low"], bounds["high"] + 1)
        ids = rng.sample(span, min(5000, len(span)))  # a sample, never the whole table
        names = list(Person.objects.filter(pk__in=ids).values_list("name", flat=True))
    texts = []
    for i in range(count):
        if i % 2 == 0 or len(names) < 3:
            path = corpus[i % len(corpus)]
            data = path.read_bytes()
            extra = f"\n\nThis copy is number {i} of the benchmark.\n".encode()
            if path.suffix == ".html":
                data = data.replace(
                    b"</body>", b"<p>Benchmark copy " + str(i).encode() + b"</p></body>"
                )
            else:
                data += extra
            texts.append((f"{i}-{path.name}", data))
        else:
            a, b, c = rng.sample(names, 3)
            text = rng.choice(TEMPLATES).format(
                a=a,
                b=b,
                c=c,
                w=rng.choice(WEEKDAYS),
                m=rng.randint(1, 9),
                d=rng.randint(0, 2),
                y=rng.randint(0, 4),
                n=rng.randint(2, 15),
            )
            texts.append((f"{i}-report.txt", f"{text}\nReport {i}.".encode()))
    return texts


def run(*, articles: int, seed: int = 0) -> dict[str, Any]:
    texts = _texts(articles, seed)
    timings: list[float] = []
    result: dict[str, Any] = {}
    gc.collect()
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    try:
        with transaction.atomic():
            run = ImportRun.objects.create(kind=ImportRun.Kind.UPLOAD, total=len(texts))
            items = ImportItem.objects.bulk_create(
                [
                    ImportItem(run=run, position=i, filename=name, raw=data.decode())
                    for i, (name, data) in enumerate(texts)
                ]
            )
            # The first article loads the analysers' dictionaries: a worker does it once.
            started = time.perf_counter()
            statuses: dict[str, int] = {}
            for item in items:
                t0 = time.perf_counter()
                status = pipeline.process_item(item.pk)
                timings.append(time.perf_counter() - t0)
                statuses[status] = statuses.get(status, 0) + 1
            elapsed = time.perf_counter() - started
            steady = timings[1:] or timings
            result = {
                "known_persons": Person.objects.count(),
                "articles": len(items),
                "statuses": statuses,
                "proposals": sum(
                    ImportItem.objects.filter(run=run).values_list("proposals", flat=True)
                ),
                "seconds": round(elapsed, 2),
                "articles_per_second": round(len(items) / elapsed, 1),
                "steady_articles_per_second": round(len(steady) / sum(steady), 1),
                "ms_per_article": {
                    "p50": round(1000 * statistics.median(steady), 1),
                    "p95": round(1000 * sorted(steady)[int(0.95 * (len(steady) - 1))], 1),
                    "max": round(1000 * max(steady), 1),
                },
                "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
                "rss_before_mb": round(rss_before / 1024),
            }
            raise _Stop
    except _Stop:
        pass
    return result
