"""``manage.py benchmark``: ensures the synthetic data, times every page family, prints JSON."""

from __future__ import annotations

import io
import json
import random
from typing import Any

import pytest
from django.core.management import call_command

from events import benchmark
from prisoners.models import Person

pytestmark = pytest.mark.django_db

FAMILIES = {
    "listing",
    "listing_filtered",
    "listing_counts",
    "search",
    "suggest",
    "profile",
    "deal",
    "statistics",
    "statistics_as_of",
}
FIGURES = {
    "requests",
    "p50_ms",
    "p95_ms",
    "max_ms",
    "mean_ms",
    "queries_per_request",
    "queries_min",
    "queries_max",
    "errors",
    "statuses",
    "target_p95_ms",
    "meets_target",
    "examples",
}


def run(**options: Any) -> tuple[dict[str, Any], str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("benchmark", stdout=out, stderr=err, workers=1, **options)
    return json.loads(out.getvalue()), err.getvalue()


def test_benchmark_generates_then_measures_every_page_family():
    result, progress = run(persons=200, requests=5)
    assert result["persons"] == 200
    assert result["generated"] == 200
    assert result["requests_per_page"] == 5
    assert set(result["load_average"]) == {"before", "after"}
    assert set(result["cpu_reference_ms"]) == {"before", "after"}
    assert all(ms > 0 for ms in result["cpu_reference_ms"].values())
    assert "generating 200 more" in progress
    assert set(result["results"]) == FAMILIES
    for name, figures in result["results"].items():
        assert set(figures) == FIGURES, name
        assert figures["requests"] == 5, name
        assert 0 < figures["p50_ms"] <= figures["p95_ms"] <= figures["max_ms"], name
        assert figures["queries_per_request"] >= 1, name
        assert figures["errors"] == 0, (name, figures["statuses"], figures["examples"])
        assert figures["statuses"] == {"200": 5}, (name, figures["examples"])
    assert result["results"]["statistics"]["target_p95_ms"] == 200
    assert result["results"]["profile"]["target_p95_ms"] == 50
    assert any("as_of=" in url for url in result["results"]["statistics_as_of"]["examples"])
    assert len(set(result["results"]["profile"]["examples"])) > 1

    # The data is there now: a second run generates nothing; --skip-generate never does.
    again, progress = run(persons=150, requests=1)
    assert again["generated"] == 0
    assert "nothing to generate" in progress
    skipped, _ = run(persons=10_000, requests=1, skip_generate=True)
    assert skipped["generated"] == 0
    assert skipped["persons"] == 200


def test_top_up_takes_a_new_seed():
    assert benchmark.ensure_persons(30, workers=1) == 30
    assert benchmark.ensure_persons(50, workers=1) == 20
    notes = set(Person.objects.values_list("staff_notes", flat=True))
    assert {n for n in notes if "seed" in n} == {
        "Synthetic record for benchmarks (generate_data, seed 0).",
        "Synthetic record for benchmarks (generate_data, seed 1).",
    }


def test_cpu_reference_grows_with_the_work(monkeypatch):
    monkeypatch.setattr(benchmark, "CPU_REFERENCE_LOOPS", 20_000)
    small = benchmark.cpu_reference_ms(repeat=5)
    monkeypatch.setattr(benchmark, "CPU_REFERENCE_LOOPS", 400_000)
    large = benchmark.cpu_reference_ms(repeat=5)
    assert 0 < small < large


def test_percentile_is_nearest_rank():
    values = sorted(float(v) for v in range(1, 101))
    assert benchmark.percentile(values, 50) == 50
    assert benchmark.percentile(values, 95) == 95
    assert benchmark.percentile([7.0], 95) == 7
    assert benchmark.percentile([], 95) == 0


def test_listing_combinations_come_from_the_form():
    html = """
    <form role="search" method="get"><input name="q"></form>
    <form method="get" action="/persons/">
      <select name="status"><option value="">any</option><option value="imprisoned">I</option>
        <option value="released">R</option></select>
      <select name="country"><option value="BY">BY</option></select>
      <input type="checkbox" name="gender" value="female">
      <select name="sort"><option value="name">Name</option></select>
      <input type="date" name="on" max="2026-01-31">
    </form>
    <form method="post"><input type="checkbox" name="secret" value="x"></form>
    """
    combos = benchmark.listing_combinations(html, random.Random(1))
    keys = {key for combo in combos for key in combo}
    assert {"status", "country", "gender", "on", "sort", "page"} <= keys
    assert "q" not in keys
    assert "secret" not in keys
    assert all(combo.get("status") != "" for combo in combos)
    # Pairs of facets (whose counts a page may leave for later) are always among them.
    few = benchmark.listing_combinations(html, random.Random(1), how_many=3)
    assert len(few) == 3
    assert sum(len(set(combo) - {"page", "sort"}) == 2 for combo in few) >= 2
    assert benchmark.listing_combinations("", random.Random(1)) == [{}]


def test_queries_look_like_what_visitors_type():
    assert benchmark._inflect_ru("Колесникова") == "Колесникову"
    assert benchmark._inflect_ru("Тихановский") == "Тихановского"
    assert benchmark._inflect_ru("Бабарико") == "Бабарико"
    assert benchmark._typo("Kalesnikava") != "Kalesnikava"
    assert sorted(benchmark._typo("Kalesnikava")) == sorted("Kalesnikava")
