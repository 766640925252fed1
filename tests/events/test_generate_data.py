"""``generate_data``: synthetic persons and events that satisfy every rule of the database."""

from __future__ import annotations

import datetime as dt
import io
import itertools
import json
from collections import defaultdict
from typing import Any

import pytest
from django.apps import apps
from django.core.management import call_command
from django.db import connection
from django.db.models import Count

from events import synthetic
from events.models import (
    Charge,
    CourtDecision,
    CustodyPlacement,
    Death,
    DetentionEpisode,
    IncommunicadoPeriod,
    Release,
    ReleaseDeal,
    Transfer,
)
from events.selectors import Status, statuses_on
from prisoners.models import (
    AtRiskFlag,
    ExternalIdentifier,
    NameVariant,
    Person,
    PersonCitizenship,
    Place,
    Recognition,
    Region,
)
from prisoners.translit import search_key, variants

pytestmark = pytest.mark.django_db

TODAY = dt.date(2026, 1, 31)
N = 300
TABLE_MODELS = {
    model._meta.db_table: model
    for model in (
        Person,
        NameVariant,
        ExternalIdentifier,
        PersonCitizenship,
        Recognition,
        AtRiskFlag,
        DetentionEpisode,
        Charge,
        CourtDecision,
        CustodyPlacement,
        IncommunicadoPeriod,
        Release,
        Death,
        Transfer,
    )
}


def run(persons: int = N, **options: Any) -> dict[str, Any]:
    """Run the command in-process (one worker: the test's own transaction) and return its
    closing JSON line."""
    out = io.StringIO()
    options = {"seed": 1, "batch": 120, "workers": 1, "today": TODAY, **options}
    call_command("generate_data", persons=persons, stdout=out, **options)
    lines = out.getvalue().strip().splitlines()
    assert lines[0].startswith("batch 1/")
    return json.loads(lines[-1])  # type: ignore[no-any-return]


@pytest.fixture
def generated() -> dict[str, Any]:
    return run()


def test_the_counts_printed_are_the_rows_written(generated):
    assert generated["persons"] == N
    assert generated["history"] is True
    for table, count in generated["rows"].items():
        assert TABLE_MODELS[table].objects.count() == count, table
    assert Person.objects.count() == N
    rows = generated["rows"]
    assert rows["prisoners_namevariant"] > 6 * N
    assert N < rows["events_detentionepisode"] < 2 * N
    assert rows["events_release"] > N / 2
    assert rows["events_transfer"] > 0
    assert rows["events_incommunicadoperiod"] > 0
    assert generated["elapsed_seconds"] >= 0


def test_every_person_has_belarusian_and_russian_cyrillic_primary_names(generated):
    primaries = defaultdict(set)
    for person_id, language in NameVariant.objects.filter(
        kind="primary", script="Cyrl"
    ).values_list("person_id", "language"):
        primaries[person_id].add(language)
    assert len(primaries) == N
    assert all(languages == {"be", "ru"} for languages in primaries.values())


def test_latin_variants_are_generated_with_their_schemes(generated):
    for person in Person.objects.prefetch_related("name_variants")[:60]:
        names = list(person.name_variants.all())
        for name in names:
            assert name.search_key == search_key(name.text)
            if name.script == "Latn":
                assert name.generated
                assert name.kind == "transliteration"
                assert name.schemes
        for language in ("be", "ru"):
            cyrillic = next(n.text for n in names if n.language == language and n.kind == "primary")
            latin = sorted(
                (n.text, n.schemes) for n in names if n.language == language and n.script == "Latn"
            )
            assert latin == sorted(variants(cyrillic, language))
        passport = [n.text for n in names if "be-passport" in n.schemes]
        assert passport == [person.name]


def test_surname_forms_follow_the_gender():
    assert synthetic.surname_forms("Калеснікаў", "Колесников") == (
        "Калеснікаў",
        "Калеснікава",
        "Колесников",
        "Колесникова",
    )
    assert synthetic.surname_forms("Ціханоўскі", "Тихановский")[1::2] == (
        "Ціханоўская",
        "Тихановская",
    )
    assert synthetic.surname_forms("Статкевіч", "Статкевич")[1::2] == ("Статкевіч", "Статкевич")
    for be, ru in synthetic.SURNAMES:
        _, be_female, _, ru_female = synthetic.surname_forms(be, ru)
        assert (be_female == be) == (ru_female == ru), (be, ru)
    assert len(synthetic.MALE_FIRST_NAMES) + len(synthetic.FEMALE_FIRST_NAMES) >= 80
    assert len(synthetic.SURNAMES) >= 150


def test_episodes_are_chronological_and_only_the_last_is_open(generated):
    episodes = defaultdict(list)
    for ep in DetentionEpisode.objects.order_by("person_id", "id"):
        episodes[ep.person_id].append(ep)
    assert len(episodes) == N
    releases = {r.episode_id: r for r in Release.objects.all()}
    deaths = {d.episode_id: d for d in Death.objects.all()}
    for person_episodes in episodes.values():
        assert 1 <= len(person_episodes) <= 3
        for earlier, later in itertools.pairwise(person_episodes):
            assert earlier.ended_on is not None
            assert later.arrested_on is not None
            assert later.arrested_on >= earlier.ended_on
        for ep in person_episodes:
            if ep.ended_on is None:
                assert ep.end_reason == ""
                assert ep.id not in releases
            elif ep.end_reason == "release":
                assert releases[ep.id].released_on == ep.ended_on
            else:
                assert ep.end_reason == "death"
                assert deaths[ep.id].died_on == ep.ended_on
            assert ep.ended_on is None or ep.ended_on <= TODAY
    by_country = DetentionEpisode.objects.filter(country__code="BY").count()
    assert by_country > 0.9 * DetentionEpisode.objects.count()


def test_placements_cover_the_episode_without_overlapping(generated):
    placements = defaultdict(list)
    for p in CustodyPlacement.objects.select_related("episode").order_by("started_on", "id"):
        placements[p.episode_id].append(p)
    assert len(placements) == DetentionEpisode.objects.count()
    for items in placements.values():
        ep = items[0].episode
        assert items[0].started_on >= (ep.arrested_on or dt.date.min)
        for earlier, later in itertools.pairwise(items):
            assert earlier.ended_on is not None
            assert earlier.ended_on <= later.started_on
        assert items[-1].ended_on == ep.ended_on
    kinds = set(CustodyPlacement.objects.values_list("kind", flat=True))
    assert {"pre_trial", "colony"} <= kinds


def test_the_reference_places_are_reused_not_duplicated(generated):
    by_regions = Region.objects.filter(country__code="BY")
    assert by_regions.count() == 7
    assert set(Person.objects.values_list("home_region__name_ru", flat=True)) - {None} == set(
        by_regions.values_list("name_ru", flat=True)
    )
    duplicates = (
        Place.objects.values("country", "kind", "name_ru").annotate(n=Count("id")).filter(n__gt=1)
    )
    assert list(duplicates) == []
    assert CustodyPlacement.objects.filter(facility__name="Prison No. 8, Zhodzina").exists()
    assert Place.objects.filter(kind__in=Place.FACILITY_KINDS).count() >= 35


def test_charges_and_decisions_follow_the_arrest(generated):
    assert Charge.objects.values("article__number").distinct().count() > 5
    assert set(Charge.objects.values_list("article__code__short_name", flat=True)) == {"BY-CC"}
    for decision in CourtDecision.objects.select_related("episode", "amends"):
        if decision.episode.arrested_on and decision.decided_on:
            assert decision.decided_on >= decision.episode.arrested_on
        if decision.kind in ("appeal", "extension"):
            assert decision.amends.kind == "sentence"
            assert decision.amends.episode_id == decision.episode_id
    kinds = set(CourtDecision.objects.values_list("kind", flat=True))
    assert {"sentence", "appeal"} <= kinds
    assert CourtDecision.objects.filter(kind="sentence", term_years__gt=0).exists()


def test_transfer_chains_leave_the_custody_country_in_order(generated):
    chains = defaultdict(list)
    for leg in Transfer.objects.select_related("release__episode").order_by("release", "sequence"):
        chains[leg.release_id].append(leg)
    assert chains
    assert any(len(legs) > 1 for legs in chains.values())
    for legs in chains.values():
        release = legs[0].release
        assert [leg.sequence for leg in legs] == list(range(1, len(legs) + 1))
        assert legs[0].from_country_id == release.episode.country_id
        assert legs[0].person_id == release.episode.person_id
        for earlier, later in itertools.pairwise(legs):
            assert later.from_country_id == earlier.to_country_id
            assert later.transferred_on >= earlier.transferred_on
        assert legs[0].transferred_on >= release.released_on


def test_some_releases_belong_to_deals_with_reported_numbers(generated):
    in_deals = Release.objects.filter(deal__isnull=False)
    assert 0 < in_deals.count() < Release.objects.count() / 4
    assert set(in_deals.values_list("kind", flat=True)) <= {"deal", "pardon"}
    kinds = set(Release.objects.values_list("kind", flat=True))
    assert {"end_of_term", "deal", "pardon"} <= kinds
    for deal in ReleaseDeal.objects.filter(releases__isnull=False).distinct():
        assert deal.reported_total >= deal.releases.count()
    assert ReleaseDeal.objects.filter(destinations__reported_count__gt=0).exists()


def test_published_draft_and_withheld_records_exist(generated):
    visibilities = set(Person.objects.values_list("visibility", flat=True))
    assert visibilities == {"public", "researcher", "draft"}
    assert Person.objects.filter(visibility="public").count() > N / 2
    withheld = Person.objects.filter(name_withheld=True)
    assert withheld.exists()
    assert not NameVariant.objects.filter(person__in=withheld).exclude(visibility="draft").exists()
    assert DetentionEpisode.objects.filter(visibility="draft", person__visibility="public").exists()
    assert Person.objects.filter(birth_date_precision="year").exists()
    assert Person.objects.filter(birth_date__isnull=True).exists()
    assert ExternalIdentifier.objects.filter(scheme="viasna").count() > N / 2


def test_the_statuses_mix(generated):
    counts = statuses_on(on=TODAY)
    for status in (Status.PRE_TRIAL, Status.IMPRISONED, Status.RELEASED, Status.EXPELLED):
        assert counts[status] > 0, status
    # Before the first arrests only those arrested on an unknown date count as detained.
    unknown_arrest = Person.objects.filter(episodes__arrested_on__isnull=True).distinct().count()
    assert statuses_on(on=dt.date(2010, 1, 1))[Status.NOT_DETAINED] == N - unknown_arrest


def test_deaths_in_custody_end_their_episode(monkeypatch):
    monkeypatch.setattr(synthetic, "DEATH_SHARE", 0.2)
    run(100)
    deaths = Death.objects.select_related("episode")
    assert deaths.exists()
    for death in deaths:
        assert death.in_custody
        assert death.episode.end_reason == "death"
        assert death.episode.ended_on == death.died_on
        assert not DetentionEpisode.objects.filter(
            person=death.person, arrested_on__gt=death.died_on
        ).exists()
    assert statuses_on(on=TODAY)[Status.DECEASED] == deaths.count()


def test_a_second_run_with_another_seed_adds_persons(generated):
    deals = ReleaseDeal.objects.count()
    second = run(seed=2)
    assert second["persons"] == N
    assert Person.objects.count() == 2 * N
    assert ReleaseDeal.objects.count() == deals
    assert ExternalIdentifier.objects.values("value").distinct().count() == (
        ExternalIdentifier.objects.count()
    )


def test_the_same_seed_and_batch_size_give_the_same_people():
    """Each batch draws from (seed, batch number): the worker count does not matter."""

    def people() -> list[tuple[Any, ...]]:
        return list(
            Person.objects.order_by("id").values_list("name", "birth_date", "gender", "visibility")
        )

    run(50, seed=7, batch=25)
    first = people()
    run(50, seed=7, batch=25)
    assert people()[50:] == first


def test_history_records_every_row_with_the_audit_reason(generated):
    person_event = apps.get_model("prisoners", "PersonEvent")
    events = person_event.objects.filter(pgh_label="insert")
    assert events.count() == N
    reasons = set(events.values_list("pgh_context__metadata__reason", flat=True))
    assert reasons == {synthetic.AUDIT_REASON}
    release_event = apps.get_model("events", "ReleaseEvent")
    assert release_event.objects.count() == Release.objects.count()


def test_no_history_skips_only_the_history_triggers():
    result = run(100, no_history=True)
    assert result["history"] is False
    assert apps.get_model("prisoners", "PersonEvent").objects.count() == 0
    assert Person.objects.count() == 100
    uris = synthetic.history_trigger_uris()
    assert uris
    assert all(uri.rsplit(":", 1)[1] in {"insert_insert", "update_update", "delete_delete"}
               for uri in uris)  # fmt: skip
    # The catalogue (places, codes, deals) is written with its history.
    assert apps.get_model("events", "ReleaseDealEvent").objects.exists()


def test_batches_set_the_trigger_variables_before_copy():
    """COPY bypasses Django's execute wrappers: the batch sets them first."""
    from prisoners.audit import audit_context

    with audit_context(reason="probe"), connection.cursor() as cursor:
        synthetic._prime_session(history=True)
        cursor.execute(
            "SELECT current_setting('pgtrigger.ignore', true),"
            " current_setting('pghistory.context_metadata', true)"
        )
        ignore, metadata = cursor.fetchone()
    assert ignore == "{}"
    assert json.loads(metadata)["reason"] == "probe"


class FakeLoader:
    """Stands in for ``synthetic.Loader`` in worker threads, which cannot see the test's
    uncommitted transaction."""

    calls: list[tuple[int, int, str]] = []
    fail_on: int | None = None

    def __init__(self, **kwargs: Any) -> None:
        pass

    def run(self, number: int, persons: int) -> synthetic.BatchStats:
        import threading
        from collections import Counter

        if number == self.fail_on:
            raise RuntimeError("batch failed")
        self.calls.append((number, persons, threading.current_thread().name))
        return synthetic.BatchStats(number, persons, Counter({"prisoners_person": persons}), 0, 0)


def test_workers_share_the_batches_between_threads(monkeypatch):
    monkeypatch.setattr(synthetic, "Loader", FakeLoader)
    monkeypatch.setattr(FakeLoader, "calls", [])
    messages: list[str] = []
    result = synthetic.generate(
        persons=1050, batch=100, workers=3, today=TODAY, progress=messages.append
    )
    assert sorted((n, p) for n, p, _ in FakeLoader.calls) == [
        (n, 100 if n < 11 else 50) for n in range(1, 12)
    ]
    assert {thread for _, _, thread in FakeLoader.calls} <= {f"generate_{i}" for i in range(3)}
    assert result.workers == 3
    assert result.rows["prisoners_person"] == 1050
    assert len(messages) == 11
    assert "1050 persons" in messages[-1]


def test_a_failing_worker_stops_the_run(monkeypatch):
    monkeypatch.setattr(synthetic, "Loader", FakeLoader)
    monkeypatch.setattr(FakeLoader, "calls", [])
    monkeypatch.setattr(FakeLoader, "fail_on", 2)
    with pytest.raises(RuntimeError, match="batch failed"):
        synthetic.generate(persons=2000, batch=100, workers=2, today=TODAY)
    assert len(FakeLoader.calls) < 19


def test_the_planner_statistics_are_refreshed_after_the_load():
    """Without ANALYZE after a bulk load, the planner takes the tables as empty (and where
    autovacuum is off, for good): searches and listings then pick nested loops over the whole
    load and take minutes."""

    def planner_rows(table: str) -> float:
        with connection.cursor() as cursor:
            cursor.execute("SELECT reltuples FROM pg_class WHERE relname = %s", [table])
            return float(cursor.fetchone()[0])

    tables = ("prisoners_person", "prisoners_namevariant", "events_detentionepisode")
    with connection.cursor() as cursor:  # the estimate of the empty tables, whatever came before
        for table in tables:
            cursor.execute(f"ANALYZE {table}")
    assert [planner_rows(table) for table in tables] == [0, 0, 0]
    result = run()
    assert result["analyze_seconds"] >= 0
    assert planner_rows("prisoners_person") == N
    assert planner_rows("prisoners_namevariant") == result["rows"]["prisoners_namevariant"]
    assert planner_rows("events_detentionepisode") == result["rows"]["events_detentionepisode"]
