"""Staff import an article in the browser, watch the run, review and accept (issue 5).

A reviewer signs in with the second factor, gives the address of an article (served by a local
HTTP server the fetcher is allowed to reach), watches the run page, opens the proposals of the
run, accepts the release with a reason, and finds it on the person's profile with the article
cited. The run page's progress bar refreshes itself (htmx) while a run is going on. No page may
request anything from a third party (``network`` fixture).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.test_staff_deal import sign_in
from tests.imports.server import LocalServer, html, local_server

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("_reference_data"),
]

TITLE = "Journalist Julia Fenner freed and flown to Vilnius"
BODY = (
    "Julia Fenner was released from prison on Friday, her editor said.\n\n"
    "Fenner was later taken to Vilnius, where she met colleagues."
)


@pytest.fixture
def article_server(settings: Any) -> Iterator[LocalServer]:
    with local_server() as server:
        settings.TRACKER_FETCH_ALLOWED_HOSTS = [server.netloc]
        page = html(TITLE, BODY, published="2026-11-21")
        server.routes["/news/fenner"] = (200, {"Content-Type": "text/html"}, page)
        yield server


@pytest.fixture
def story(live_server) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    from events.demo import load_demo
    from tests.staff.helpers import make_user

    load_demo()
    return {"url": str(live_server.url), "reviewer": make_user("rene", "reviewer")}


def test_a_reviewer_imports_an_article_and_accepts_a_release(open_page, story, article_server):
    from events.ingest.models import Proposal
    from events.models import Release
    from prisoners.models import Person

    site = story["url"]
    page = open_page()
    sign_in(page, site, story["reviewer"])
    page.get_by_role("link", name="Import articles").click()
    page.get_by_label("Address of the article").fill(article_server.url("/news/fenner"))
    page.get_by_role("button", name="Fetch and analyse").click()

    expect(page.locator("#run-progress [role=status]")).to_contain_text("Done: 1 / 1")
    expect(page.locator("#run-bar")).to_have_attribute("value", "1")
    expect(page.get_by_role("link", name=TITLE)).to_be_visible()

    page.get_by_role("link", name="Proposals of this import").click()
    row = page.locator("tr", has_text="Release").filter(has_text="Julia Fenner")
    expect(row).to_contain_text("released from prison on Friday")
    row.get_by_role("link", name="Review").click()
    expect(page.get_by_label("Date")).to_have_value("2026-11-20")  # "on Friday", 21 Nov
    page.get_by_label("Reason").fill("Confirmed by her editor")
    page.get_by_role("button", name="Accept").click()
    expect(page.get_by_text("Accepted: Release: Julia Fenner.")).to_be_visible()

    fenner = Person.objects.get(name="Julia Fenner")
    release = Release.objects.get(episode__person=fenner)
    assert release.released_on == dt.date(2026, 11, 20)
    assert Proposal.objects.get(kind="release").status == "accepted"

    page.goto(site + fenner.get_absolute_url())
    expect(page.locator("main")).to_contain_text(re.compile("Released|Release"))
    expect(page.locator("main cite", has_text=TITLE).first).to_be_visible()


def test_the_progress_bar_follows_a_running_import(open_page, story, article_server):
    from events.ingest import pipeline
    from events.ingest.models import ImportItem, ImportRun

    run = ImportRun.objects.create(kind="url", started_by=story["reviewer"], total=1)
    item = ImportItem.objects.create(run=run, url=article_server.url("/news/fenner"))
    site = story["url"]
    page = open_page()
    sign_in(page, site, story["reviewer"])
    page.goto(f"{site}/staff/imports/runs/{run.pk}/")
    expect(page.locator("#run-progress [role=status]")).to_contain_text("Running: 0 / 1")
    pipeline.process_item(item.pk)  # what the worker does meanwhile
    expect(page.locator("#run-progress [role=status]")).to_contain_text(
        "Done: 1 / 1", timeout=10_000
    )
    expect(page.locator("#run-bar")).to_have_attribute("value", "1")
