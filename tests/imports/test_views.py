"""The import pages: submit a URL, files or text; watch the run; review and decide proposals;
feeds for admins. Bad input keeps what was typed and says what is wrong."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from events.ingest.models import Feed, ImportRun, Proposal
from events.models import Release
from prisoners.models import NameVariant
from tests.imports.test_review import FREED

pytestmark = pytest.mark.django_db


def _id(name: str) -> Any:
    return NameVariant.objects.filter(text=name).values_list("person_id", flat=True).first()


def _post(client: Any, url: str, data: dict[str, Any], capture: Any) -> Any:
    with capture(execute=True):
        return client.post(url, data)


def test_paste_text_then_watch_the_run_and_accept_a_proposal(
    demo, editor_client, django_capture_on_commit_callbacks
):
    response = _post(
        editor_client,
        reverse("staff:imports"),
        {"action": "paste", "paste-title": "", "paste-url": "", "paste-text": FREED},
        django_capture_on_commit_callbacks,
    )
    run = ImportRun.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("staff:import-run", args=[run.pk])
    page = editor_client.get(response["Location"]).content.decode()
    assert '<progress id="run-bar" max="1" value="1">' in page
    assert "Journalist Julia Fenner freed" in page
    fragment = editor_client.get(reverse("staff:import-progress", args=[run.pk]))
    assert b"hx-get" not in fragment.content  # finished: the bar stops asking

    queue = editor_client.get(reverse("staff:proposals")).content.decode()
    assert "released from prison on Friday" in queue
    assert "Recorded: held since 2024-03-01" in queue  # what the records say of her already
    proposal = Proposal.objects.get(kind="release")
    detail = reverse("staff:proposal", args=[proposal.pk])
    assert editor_client.get(detail).status_code == 200
    form = {
        "action": "accept",
        "person": proposal.person_id,
        "person_name": "",
        "date": "2026-11-20",
        "from_country": "",
        "to_country": "",
        "count": "",
        "term": "",
        "deal": "",
        "reason": "",
    }
    refused = editor_client.post(detail, form)
    assert refused.status_code == 200  # a reason is required; nothing lost
    assert 'value="2026-11-20"' in refused.content.decode()
    assert not Release.objects.filter(episode__person_id=_id("Julia Fenner")).exists()
    form["reason"] = "confirmed by her editor"
    accepted = editor_client.post(detail, form)
    assert accepted.status_code == 302
    assert Release.objects.filter(episode__person_id=_id("Julia Fenner")).exists()


def test_a_bad_date_in_the_edit_form_is_refused_with_the_values_kept(
    demo, editor_client, django_capture_on_commit_callbacks
):
    _post(
        editor_client,
        reverse("staff:imports"),
        {"action": "paste", "paste-text": FREED},
        django_capture_on_commit_callbacks,
    )
    proposal = Proposal.objects.get(kind="release")
    response = editor_client.post(
        reverse("staff:proposal", args=[proposal.pk]),
        {"action": "accept", "person": proposal.person_id, "date": "20 Nov", "reason": "x"},
    )
    page = response.content.decode()
    assert "Give the date as YYYY-MM-DD, YYYY-MM or YYYY." in page
    assert 'value="20 Nov"' in page
    assert Proposal.objects.get(pk=proposal.pk).status == "pending"


def test_bulk_accept_and_reject_from_the_queue(
    demo, editor_client, django_capture_on_commit_callbacks
):
    _post(
        editor_client,
        reverse("staff:imports"),
        {"action": "paste", "paste-text": FREED},
        django_capture_on_commit_callbacks,
    )
    release = Proposal.objects.get(kind="release")
    transfer = Proposal.objects.get(kind="transfer")
    url = reverse("staff:proposals")
    nothing = editor_client.post(url, {"action": "accept", "reason": "x"})
    assert "Tick at least one proposal." in nothing.content.decode()
    response = editor_client.post(
        url, {"action": "accept", "ids": [release.pk, transfer.pk], "reason": "both right"}
    )
    assert response.status_code == 302
    assert set(Proposal.objects.values_list("status", flat=True)) == {"accepted"}
    shown = editor_client.get(url + "?status=accepted").content.decode()
    assert "Julia Fenner" in shown


def test_upload_files_and_a_url_form_that_refuses_a_private_address(
    demo, editor_client, django_capture_on_commit_callbacks
):
    files = [
        SimpleUploadedFile("one.txt", FREED.encode(), content_type="text/plain"),
        SimpleUploadedFile("two.html", b"<html><body></body></html>", content_type="text/html"),
    ]
    with django_capture_on_commit_callbacks(execute=True):
        response = editor_client.post(
            reverse("staff:imports"), {"action": "upload", "upload-documents": files}
        )
    run = ImportRun.objects.get()
    assert response.status_code == 302
    assert (run.total, run.processed, run.failed) == (2, 2, 1)
    page = editor_client.get(reverse("staff:import-run", args=[run.pk])).content.decode()
    assert "no article text found" in page

    refused = editor_client.post(
        reverse("staff:imports"), {"action": "url", "url-url": "http://192.168.0.1/admin"}
    )
    assert refused.status_code == 200
    assert "private address" in refused.content.decode()
    assert ImportRun.objects.count() == 1


def test_feeds_are_managed_by_admins(
    admin_staff_client, editor_client, server, django_capture_on_commit_callbacks
):
    create = reverse("staff:import-feed-create")
    data = {
        "title": "Example",
        "url": server.url("/rss"),
        "interval_minutes": 2,
        "active": "on",
        "reason": "",
    }
    bad = admin_staff_client.post(create, data)
    assert bad.status_code == 200
    page = bad.content.decode()
    assert server.url("/rss") in page  # kept
    assert not Feed.objects.exists()
    data.update(interval_minutes=15, reason="a new outlet")
    assert admin_staff_client.post(create, data).status_code == 302
    feed = Feed.objects.get()
    assert feed.periodic_task.interval.every == 15
    assert editor_client.post(create, data).status_code == 403
    assert editor_client.get(reverse("staff:import-feed", args=[feed.pk])).status_code == 403
    listing = editor_client.get(reverse("staff:import-feeds")).content.decode()
    assert "Example" in listing
    assert "Add the feed" not in listing
    # Editors may poll a feed now: the run page shows at once.
    from tests.imports.server import rss

    server.routes["/rss"] = (200, {"Content-Type": "application/rss+xml"}, rss([]))
    with django_capture_on_commit_callbacks(execute=True):
        response = editor_client.post(reverse("staff:import-feed-poll", args=[feed.pk]))
    run = ImportRun.objects.get(feed=feed)
    assert response["Location"] == reverse("staff:import-run", args=[run.pk])
    assert run.status == "done"


def test_the_queue_runs_a_fixed_number_of_queries(
    demo, editor_client, django_capture_on_commit_callbacks
):
    from events.ingest import pipeline

    def count(n: int) -> int:
        for i in range(n):
            day = f"{i + 1} {'March' if n == 1 else 'April'} 2026"
            text = f"Title: Short {n}-{i}\n\nJulia Fenner was released on {day}."
            with django_capture_on_commit_callbacks(execute=True):
                pipeline.run_for_text(text=text, user=None)
        with CaptureQueriesContext(connection) as queries:
            assert editor_client.get(reverse("staff:proposals")).status_code == 200
        return len(queries)

    few = count(1)
    many = count(4)
    assert Proposal.objects.count() == 5
    assert few == many


def test_the_dashboard_counts_pending_proposals(
    demo, editor_client, django_capture_on_commit_callbacks
):
    _post(
        editor_client,
        reverse("staff:imports"),
        {"action": "paste", "paste-text": FREED},
        django_capture_on_commit_callbacks,
    )
    pending = Proposal.objects.filter(status="pending").count()
    assert pending == 2
    body = editor_client.get(reverse("staff:dashboard")).content.decode()
    assert f'id="count-proposals">{pending}<' in body
    from events.ingest.review import proposal_reject

    proposal_reject(proposal_id=Proposal.objects.first().pk, user=None, reason="not about her")
    body = editor_client.get(reverse("staff:dashboard")).content.decode()
    assert 'id="count-proposals">1<' in body


def test_an_upload_too_large_is_refused_and_nothing_is_started(editor_client, monkeypatch):
    from events.ingest import forms

    monkeypatch.setattr(forms, "MAX_BYTES", 100)
    big = SimpleUploadedFile("big.txt", b"x" * 101, content_type="text/plain")
    response = editor_client.post(
        reverse("staff:imports"), {"action": "upload", "upload-documents": [big]}
    )
    assert response.status_code == 200
    assert "big.txt is larger than 100 bytes." in response.content.decode()
    assert not ImportRun.objects.exists()


def test_an_ambiguous_name_is_resolved_by_choosing_among_the_persons(
    demo, editor_client, django_capture_on_commit_callbacks
):
    from prisoners.audit import audit_context
    from prisoners.services import person_create

    _post(
        editor_client,
        reverse("staff:imports"),
        {"action": "paste", "paste-text": FREED},
        django_capture_on_commit_callbacks,
    )
    proposal = Proposal.objects.get(kind="release")
    fenner = proposal.person_id
    with audit_context(reason="a namesake"):
        namesake = person_create(name="Julia Fenner")
    Proposal.objects.filter(pk=proposal.pk).update(person=None, candidates=[fenner, namesake.pk])
    url = reverse("staff:proposal", args=[proposal.pk])
    page = editor_client.get(url).content.decode()
    assert f'value="{namesake.pk}"' in page
    assert f'value="{fenner}"' in page
    response = editor_client.post(
        url, {"action": "accept", "candidate": fenner, "date": "2026-11-20", "reason": "her"}
    )
    assert response.status_code == 302
    accepted = Proposal.objects.get(pk=proposal.pk)
    assert (accepted.status, accepted.person_id, accepted.candidates) == ("accepted", fenner, [])
    assert Release.objects.filter(episode__person_id=fenner).exists()
    assert not Release.objects.filter(episode__person=namesake).exists()
