"""The import end to end through a real Redis and a real Celery worker (issue 5, item 9).

A local HTTP server serves an RSS feed whose entry is the seed report as a web page. The poll
task is sent through Redis as celery-beat sends it; a worker process (``celery worker``, the
same command as in production, on a queue of its own) polls the feed, fetches the article,
analyses it and stores the proposals in the test database. A reviewer then accepts them, and
the profile shows the fact with the article cited. The test never runs a task itself.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.db import connection

from tests.imports.server import LocalServer, html, local_server, rss

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("_reference_data"),
]

ROOT = Path(__file__).resolve().parent.parent.parent
SEED = ROOT / "tests" / "articles" / "corpus" / "000_af7107ba822f2a0d.txt"
WAIT_SECONDS = 120


def _redis_ready(url: str) -> bool:
    import redis

    try:
        return bool(redis.Redis.from_url(url, socket_connect_timeout=2).ping())
    except redis.RedisError:
        return False


@pytest.fixture
def feed_server() -> Iterator[LocalServer]:
    with local_server() as server:
        body = SEED.read_text().split("\n\n", 1)[1]
        title = "Belarus Releases 123 Prisoners Amid US Sanctions Relief"
        page = html(title, body, published="2025-12-14")
        server.routes["/world/belarus-123"] = (200, {"Content-Type": "text/html"}, page)
        server.routes["/rss"] = (
            200,
            {"Content-Type": "application/rss+xml", "ETag": '"e2e"'},
            rss([("Belarus releases 123", server.url("/world/belarus-123"))]),
        )
        yield server


@pytest.fixture
def worker(
    feed_server: LocalServer, settings: Any, tmp_path: Path
) -> Iterator[subprocess.Popen[str]]:
    """A real worker on a queue of its own, reading the test database through Redis."""
    broker = settings.CELERY_BROKER_URL
    if not _redis_ready(broker):
        pytest.fail(f"Redis is not reachable at {broker}: the end-to-end test needs it")
    from config.celery_app import app

    queue = f"e2e-{uuid.uuid4().hex[:12]}"
    database = connection.settings_dict
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "DATABASE_URL": (
            f"postgres://{database['USER']}@{database['HOST'] or '127.0.0.1'}:"
            f"{database['PORT'] or 5432}/{database['NAME']}"
        ),
        "CELERY_BROKER_URL": broker,
        "CELERY_TASK_ALWAYS_EAGER": "false",
        "CELERY_TASK_DEFAULT_QUEUE": queue,
        "TRACKER_FETCH_ALLOWED_HOSTS": feed_server.netloc,
    }
    if database.get("PASSWORD"):
        env["PGPASSWORD"] = database["PASSWORD"]
    command = [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "config.celery_app",
        "worker",
        "--pool=solo",
        "--without-gossip",
        "--without-mingle",
        "--without-heartbeat",
        f"--hostname={queue}@%h",
        "--loglevel=INFO",
    ]
    log = tmp_path / "worker.log"
    handle = log.open("w")
    process = subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=handle, stderr=subprocess.STDOUT, text=True
    )
    saved = (app.conf.task_always_eager, app.conf.task_default_queue, app.conf.broker_url)
    app.conf.update(task_always_eager=False, task_default_queue=queue, broker_url=broker)
    try:
        yield process
    finally:
        eager, default_queue, broker_url = saved
        app.conf.update(
            task_always_eager=eager, task_default_queue=default_queue, broker_url=broker_url
        )
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        handle.close()
        print(log.read_text()[-5000:])  # shown when the test fails
        import redis

        client = redis.Redis.from_url(broker)
        client.delete(queue, f"{queue}\x06\x163", f"{queue}\x06\x166", f"{queue}\x06\x169")
        for key in client.scan_iter(f"_kombu.binding.{queue}*"):
            client.delete(key)


def _wait_for(predicate: Any, process: subprocess.Popen[str], what: str) -> None:
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        if predicate():
            return
        if process.poll() is not None:
            pytest.fail(f"the worker stopped (exit {process.returncode}) before {what}")
        time.sleep(0.5)
    pytest.fail(f"timed out after {WAIT_SECONDS} s waiting for {what}")


def test_a_feed_goes_through_redis_and_a_worker_to_accepted_facts(feed_server, worker):
    from django.urls import reverse

    from events.demo import load_demo
    from events.ingest import pipeline, tasks
    from events.ingest.models import Article, Feed, ImportRun, Proposal
    from events.ingest.review import proposal_accept
    from events.models import Citation, Transfer
    from prisoners.models import NameVariant
    from tests.imports.people import bystanders
    from tests.staff.helpers import make_user, verified_client

    deal = load_demo()
    named = bystanders()
    reviewer = make_user("rene", "reviewer")
    feed = pipeline.feed_save(
        feed=Feed(title="Example News", url=feed_server.url("/rss"), interval_minutes=15),
        user=reviewer,
        reason="an outlet we follow",
    )
    assert feed.periodic_task.task == "ingest.poll_feed"
    assert settings.CELERY_TASK_ACKS_LATE

    # What celery-beat does at each interval: send the task named in the schedule.
    tasks.poll_feed.apply_async(args=[feed.pk])
    _wait_for(
        lambda: ImportRun.objects.filter(feed=feed, status__in=["done", "failed"]).exists(),
        worker,
        "the feed's run to finish",
    )
    run = ImportRun.objects.get(feed=feed)
    assert (run.status, run.total, run.processed, run.failed, run.error) == ("done", 1, 1, 0, "")
    assert feed_server.hits["/rss"] == 1
    assert feed_server.hits["/world/belarus-123"] == 1
    article = Article.objects.get()
    assert article.canonical_url == feed_server.url("/world/belarus-123")

    def person(name: str) -> Any:
        return NameVariant.objects.filter(text=name).values_list("person_id", flat=True).first()

    released = set(
        Proposal.objects.filter(kind="release", deal=deal).values_list("person_id", flat=True)
    )
    for name in ("Maria Kolesnikova", "Ales Bialiatski", "Viktor Babaryko", "Marina Zolotova"):
        assert person(name) in released, name
    assert Proposal.objects.filter(kind="transfer", count=114, to_country__code="UA").exists()
    for bystander in named.values():
        assert Article.objects.get().analysis["mentions"]  # found, by name
        assert not Proposal.objects.filter(person=bystander).exists(), bystander.name
    mentioned = {m["person_id"] for m in Article.objects.get().analysis["mentions"]}
    assert {p.pk for p in named.values()} <= mentioned

    # The second poll is a conditional GET (the ETag): nothing new, no article fetched again.
    tasks.poll_feed.apply_async(args=[feed.pk])
    _wait_for(
        lambda: (
            ImportRun.objects.filter(feed=feed).count() == 2
            and not ImportRun.objects.filter(feed=feed, status="running").exists()
        ),
        worker,
        "the second poll",
    )
    assert feed_server.requests[-1][1].get("If-None-Match") == '"e2e"'
    assert feed_server.hits["/world/belarus-123"] == 1

    to_lithuania = Proposal.objects.get(kind="transfer", person_id=person("Ales Bialiatski"))
    proposal_accept(proposal_id=to_lithuania.pk, user=reviewer, reason="as the report says")
    leg = Transfer.objects.get(pk=Proposal.objects.get(pk=to_lithuania.pk).result_id)
    assert leg.to_country.code == "LT"
    assert Citation.objects.filter(object_id=leg.pk, source__url=article.canonical_url).exists()
    profile = verified_client(reviewer).get(
        reverse("prisoners:detail", args=[person("Ales Bialiatski")])
    )
    assert profile.status_code == 200
    assert "Belarus Releases 123 Prisoners Amid US Sanctions Relief" in profile.content.decode()
