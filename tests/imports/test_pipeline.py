"""The pipeline, tasks run eagerly: runs, items, de-duplication, proposals, feeds, failures."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from celery.exceptions import SoftTimeLimitExceeded
from django.db import connection
from django_celery_beat.models import PeriodicTask

from events.ingest import pipeline, tasks
from events.ingest.models import Article, Feed, ImportItem, ImportRun, Proposal
from prisoners.models import NameVariant
from tests.imports.people import bystanders
from tests.imports.server import html, rss

CORPUS = Path(__file__).parent.parent / "articles" / "corpus"
SEED = (CORPUS / "000_af7107ba822f2a0d.txt").read_bytes()

pytestmark = pytest.mark.django_db


def _id(name: str) -> Any:
    return NameVariant.objects.filter(text=name).values_list("person_id", flat=True).first()


@pytest.fixture
def run_now(django_capture_on_commit_callbacks: Any) -> Any:
    """Call a pipeline entry point and run the tasks it enqueues on commit."""

    def call(function: Any, **kwargs: Any) -> ImportRun:
        with django_capture_on_commit_callbacks(execute=True):
            run = function(**kwargs)
        run.refresh_from_db()
        return run

    return call


def test_the_seed_report_proposes_the_releases_and_links_the_deal(demo, run_now):
    named = bystanders()
    run = run_now(pipeline.run_for_files, files=[("seed.txt", SEED)], user=None)
    assert (run.status, run.total, run.processed, run.failed) == ("done", 1, 1, 0)
    item = run.items.get()
    assert item.status == "done"
    assert item.proposals == Proposal.objects.count() > 0
    article = item.article
    assert article.title == "Belarus Releases 123 Prisoners Amid US Sanctions Relief"
    assert article.published_on.isoformat() == "2025-12-14"

    releases = {p.person_id: p for p in Proposal.objects.filter(kind="release") if p.person_id}
    for name in (
        "Maria Kolesnikova",
        "Ales Bialiatski",
        "Viktor Babaryko",
        "Marina Zolotova",
        "Sergei Tikhanovsky",
    ):
        proposal = releases[_id(name)]
        assert proposal.date.isoformat() == "2025-12-13", name
        assert proposal.deal == demo, name  # linked to the 13 Dec 2025 deal
        assert proposal.snippet, name
        assert 0 < proposal.confidence <= 1
    group = Proposal.objects.get(kind="transfer", count=114)
    assert (group.from_country.code, group.to_country.code, group.deal) == ("BY", "UA", demo)
    to_lithuania = Proposal.objects.get(kind="transfer", person_id=_id("Ales Bialiatski"))
    assert to_lithuania.to_country.code == "LT"
    mentioned = {m["person_id"] for m in article.analysis["mentions"]}
    assert {named["leader"].pk, named["president"].pk} <= mentioned
    assert not Proposal.objects.filter(person__in=named.values()).exists()


def test_the_same_article_twice_creates_nothing_new(demo, run_now):
    run_now(pipeline.run_for_files, files=[("seed.txt", SEED)], user=None)
    proposals = Proposal.objects.count()
    again = run_now(pipeline.run_for_text, text=SEED.decode(), user=None)
    item = again.items.get()
    assert item.status == "duplicate"
    assert item.article == Article.objects.get()
    assert Proposal.objects.count() == proposals
    # The same task delivered twice (late acknowledgement): the second changes nothing.
    assert tasks.process_item(item.pk) == "duplicate"
    again.refresh_from_db()
    assert (again.processed, again.total) == (1, 1)


def test_an_article_fetched_by_url_and_its_canonical_duplicate(demo, server, run_now):
    body = SEED.decode().split("\n\n", 1)[1]
    page = html("Belarus frees 123", body, canonical=server.url("/story"))
    server.routes["/story?utm_source=feed"] = (200, {"Content-Type": "text/html"}, page)
    server.routes["/amp/story"] = (200, {"Content-Type": "text/html"}, page)
    first = run_now(pipeline.run_for_url, url=server.url("/story?utm_source=feed"), user=None)
    article = first.items.get().article
    assert article.canonical_url == server.url("/story")
    assert article.title == "Belarus frees 123"
    assert Proposal.objects.filter(article=article, kind="release").count() >= 5
    second = run_now(pipeline.run_for_url, url=server.url("/amp/story"), user=None)
    assert second.items.get().status == "duplicate"
    # Known by its canonical address: not even fetched again.
    hits = server.hits["/amp/story"]
    run_now(pipeline.run_for_url, url=server.url("/story"), user=None)
    assert server.hits.get("/story", 0) == 0
    assert server.hits["/amp/story"] == hits


def test_near_duplicates_are_grouped_and_not_proposed_twice(demo, run_now):
    run_now(pipeline.run_for_files, files=[("seed.txt", SEED)], user=None)
    first = Article.objects.get()
    wire = SEED.decode().replace("Saturday", "Saturday morning") + "\n(Reporting by an agency.)"
    run = run_now(pipeline.run_for_text, text=wire, user=None)
    second = run.items.get().article
    assert second.pk != first.pk
    assert second.near_duplicate_of == first
    shared = set(Proposal.objects.filter(article=first).values_list("fingerprint", flat=True))
    again = set(Proposal.objects.filter(article=second).values_list("fingerprint", flat=True))
    assert not shared & again


def test_a_rejected_proposal_is_never_made_again(demo, run_now, editor):
    from events.ingest.review import proposal_reject

    run_now(pipeline.run_for_files, files=[("seed.txt", SEED)], user=None)
    fenner = Proposal.objects.get(kind="sentence", person_id=_id("Julia Fenner"))
    proposal_reject(proposal_id=fenner.pk, user=editor, reason="already recorded in 2024")
    # Another outlet's article, different text, the same statement about her.
    other = (
        "Title: Journalist held in Minsk\nDate: 2025-12-15\n\n"
        "A court in Minsk sentenced Julia Fenner to a long jail term, her colleagues said. "
        "Fenner, a reporter, was detained in March 2024 while covering a trial."
    )
    run = run_now(pipeline.run_for_text, text=other, user=None)
    article = run.items.get().article
    assert article.near_duplicate_of is None
    assert not Proposal.objects.filter(article=article, fingerprint=fenner.fingerprint).exists()


@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [
        ("broken.html", b"<html><body><div><p>\x01\x02</div></html>", "no article text"),
        ("empty.txt", b"   \n", "empty"),
        ("latin1.txt", "Bialiatski wurde freigelassen: Grüße".encode("latin-1"), "not UTF-8"),
        ("nul.txt", b"Title: x\n\nsome\x00binary", "binary"),
    ],
)
def test_bad_files_fail_with_their_reason_and_the_run_goes_on(demo, run_now, name, content, reason):
    run = run_now(pipeline.run_for_files, files=[(name, content), ("seed.txt", SEED)], user=None)
    assert (run.status, run.total, run.processed, run.failed) == ("done", 2, 2, 1)
    bad = run.items.get(filename=name)
    assert bad.status == "failed"
    assert reason in bad.error
    assert run.items.get(filename="seed.txt").status == "done"


def test_a_fetch_failure_is_recorded(server, run_now):
    run = run_now(pipeline.run_for_url, url=server.url("/gone"), user=None)
    item = run.items.get()
    assert (run.status, run.failed, item.status) == ("done", 1, "failed")
    assert "answered 404" in item.error


def test_a_refused_address_is_recorded_as_the_reason(run_now, db):
    run = run_now(pipeline.run_for_url, url="http://169.254.169.254/latest/meta-data/", user=None)
    assert "link-local" in run.items.get().error


def test_an_unexpected_error_and_a_time_limit_are_recorded(demo, monkeypatch, run_now):
    def boom(item_id: int) -> str:
        raise RuntimeError("disk full")

    monkeypatch.setattr(pipeline, "process_item", boom)
    run = run_now(pipeline.run_for_text, text="Title: x\n\nSome text here.", user=None)
    assert run.items.get().error == "unexpected error: RuntimeError: disk full"

    def slow(item_id: int) -> str:
        raise SoftTimeLimitExceeded()

    monkeypatch.setattr(pipeline, "process_item", slow)
    run = run_now(pipeline.run_for_text, text="Title: y\n\nOther text here.", user=None)
    assert run.items.get().error == f"took longer than {tasks.ITEM_SOFT_LIMIT} seconds"
    assert run.status == "done"


def test_tasks_are_late_acknowledged_and_time_limited():
    for task in (tasks.process_item, tasks.poll_feed):
        assert task.acks_late is True
        assert task.reject_on_worker_lost is True
        assert task.soft_time_limit
        assert task.time_limit > task.soft_time_limit


def _feed(server: Any, user: Any = None, **fields: Any) -> Feed:
    feed = Feed(title="Example News", url=server.url("/rss"), **fields)
    return pipeline.feed_save(feed=feed, user=user, reason="a source we follow")


def test_a_feed_is_scheduled_in_celery_beat(server, editor):
    feed = _feed(server, editor, interval_minutes=30)
    task = PeriodicTask.objects.get(pk=feed.periodic_task_id)
    assert (task.task, task.args, task.enabled) == ("ingest.poll_feed", f"[{feed.pk}]", True)
    assert (task.interval.every, task.interval.period) == (30, "minutes")
    feed.interval_minutes, feed.active = 120, False
    pipeline.feed_save(feed=feed, user=editor, reason="less often, paused")
    task.refresh_from_db()
    assert (task.interval.every, task.enabled) == (120, False)
    event = Feed.pgh_event_model.objects.filter(pgh_obj_id=feed.pk).order_by("-pgh_id").first()
    assert event.pgh_context.metadata["reason"] == "less often, paused"
    pipeline.feed_delete(feed=feed, user=editor, reason="closed")
    assert not PeriodicTask.objects.filter(pk=task.pk).exists()


def test_a_feed_poll_imports_new_entries_once_and_uses_conditional_get(demo, server, run_now):
    body = SEED.decode().split("\n\n", 1)[1]
    server.routes["/a1"] = (200, {"Content-Type": "text/html"}, html("Released", body))
    server.routes["/a2"] = (200, {"Content-Type": "text/plain"}, b"")  # empty: fails

    def feed(handler: Any) -> tuple[int, dict[str, str], bytes]:
        if handler.headers.get("If-None-Match") == '"v1"':
            return 304, {}, b""
        items = [("Released", server.url("/a1")), ("Empty", server.url("/a2"))]
        return 200, {"Content-Type": "application/rss+xml", "ETag": '"v1"'}, rss(items)

    server.routes["/rss"] = feed
    feed_obj = _feed(server)
    run = run_now(pipeline.run_for_feed, feed=feed_obj, user=None)
    assert (run.kind, run.status, run.total, run.processed, run.failed) == (
        "feed",
        "done",
        2,
        2,
        1,
    )
    assert Proposal.objects.filter(kind="release").count() >= 5
    feed_obj.refresh_from_db()
    assert feed_obj.etag == '"v1"'
    assert feed_obj.last_polled_at is not None
    again = run_now(pipeline.run_for_feed, feed=feed_obj, user=None)
    assert (again.status, again.total, again.note) == (
        "done",
        0,
        "not modified since the last poll",
    )
    # Without the ETag the feed is read again, and the known entry is not fetched again.
    Feed.objects.filter(pk=feed_obj.pk).update(etag="")
    hits = server.hits["/a1"]
    third = run_now(pipeline.run_for_feed, feed=feed_obj, user=None)
    assert server.hits["/a1"] == hits
    assert third.total == 1  # only the entry that failed is tried again


def test_a_malformed_feed_fails_the_run_with_its_reason(server, run_now, db):
    server.routes["/rss"] = (200, {"Content-Type": "application/rss+xml"}, b"<rss><channel><item>")
    feed = _feed(server)
    run = run_now(pipeline.run_for_feed, feed=feed, user=None)
    assert run.status == "failed"
    assert "malformed feed" in run.error
    feed.refresh_from_db()
    assert "malformed feed" in feed.last_error


def test_one_poll_per_feed_at_a_time(server, run_now, db):
    server.routes["/rss"] = (200, {"Content-Type": "application/rss+xml"}, rss([]))
    feed = _feed(server)
    key = pipeline._feed_lock_key(feed.pk)
    from django.db import connections

    other = connections.create_connection("default")
    try:
        with other.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_lock(%s)", [key])
        run = run_now(pipeline.run_for_feed, feed=feed, user=None)
        assert (run.status, run.note) == ("done", pipeline.BUSY_NOTE)
        assert "/rss" not in server.hits
    finally:
        other.close()
    run = run_now(pipeline.run_for_feed, feed=feed, user=None)
    assert run.note == ""
    assert server.hits["/rss"] == 1
    with connection.cursor() as cursor:  # the lock was released after the poll
        cursor.execute(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid()"
        )
        assert cursor.fetchone()[0] == 0


def test_items_are_processed_once_whatever_the_deliveries(demo, run_now):
    run = run_now(pipeline.run_for_files, files=[("seed.txt", SEED)], user=None)
    item = ImportItem.objects.get(run=run)
    proposals = Proposal.objects.count()
    for _ in range(3):
        assert tasks.process_item(item.pk) == "done"
    assert Proposal.objects.count() == proposals
    run.refresh_from_db()
    assert run.processed == 1


def test_tasks_are_sent_only_when_the_run_is_committed(django_capture_on_commit_callbacks, db):
    from unittest import mock

    with mock.patch.object(tasks.process_item, "delay") as delay:
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            run = pipeline.run_for_text(text="Title: x\n\nSome text.", user=None)
        assert delay.call_count == 0  # not before the commit: the worker could not see the rows
        assert len(callbacks) == 1
        callbacks[0]()
    item = run.items.get()
    delay.assert_called_once_with(item.pk)  # an ID, never an object


def test_the_same_statement_twice_in_an_article_is_one_proposal_and_counted_once(demo):
    from events.ingest.models import Article

    article = Article.objects.create(content_hash="x" * 64, text="Julia Fenner was released.")
    same = {"type": "release", "person_id": _id("Julia Fenner"), "date": "2026-11-20"}
    result = {
        "proposals": [
            {**same, "confidence": 0.6, "snippet": "She was released on Friday."},
            {**same, "confidence": 0.9, "snippet": "Julia Fenner was released on Friday."},
        ]
    }
    made = pipeline.store_proposals(article, result)
    stored = Proposal.objects.filter(article=article)
    assert made == stored.count() == 1
    assert stored.get().snippet == "Julia Fenner was released on Friday."  # the surer one
