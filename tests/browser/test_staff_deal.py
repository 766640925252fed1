"""A staff member enters a release deal in one go, and a visitor sees it (issue 4, item 9).

A reviewer signs in at /staff/login/ (password, then the code of their authenticator, computed
here from their secret), enters a deal with three persons on /staff/deals/new/ (two to Ukraine,
one to Lithuania), previews the matches, publishes it at once and confirms. A visitor in a new
browser profile then finds the deal on /deals/<slug>/ and each person's release on their
profile. No page may request anything from a third party (``network`` fixture).
"""

from __future__ import annotations

import datetime as dt
import os
import re
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("_reference_data"),
]

SLUG = "browser-2025-12-13"
TITLE = "Release of three, entered in the browser"
PERSONS = {"Hanna Testava": "Ukraine", "Barys Probny": "Ukraine", "Mikola Zrazok": "Lithuania"}
RELEASE_DAY = re.compile(
    r"13 December 2025|December 13, 2025|Dec\.? 13, 2025|13 Dec\.? 2025|2025-12-13"
)


@pytest.fixture
def story(live_server) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    """A reviewer with an authenticator, and three published persons held in Belarus."""
    from prisoners.audit import audit_context
    from prisoners.models import Visibility
    from tests.events import factories as f
    from tests.staff.helpers import make_user

    reviewer = make_user("rene", "reviewer")
    with audit_context(reason="browser test setup"):
        persons = {}
        for name in PERSONS:
            person = f.person(name, visibility=Visibility.PUBLIC)
            f.episode(person, arrested_on=dt.date(2021, 3, 1), visibility=Visibility.PUBLIC)
            persons[name] = person
    return {"url": str(live_server.url), "reviewer": reviewer, "persons": persons}


def sign_in(page: Page, site: str, user: Any) -> None:
    from tests.staff.helpers import PASSWORD, next_code

    page.goto(site + "/staff/login/")
    page.get_by_label("Username", exact=True).fill(user.username)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Continue").click()
    page.get_by_label(re.compile("Code from your authenticator")).fill(
        next_code(user.totp_device.secret)
    )
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("link", name="Dashboard")).to_be_visible()


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
def test_a_reviewer_enters_a_deal_and_a_visitor_sees_it(open_page, story, javascript):
    site = story["url"]
    page = open_page(javascript=javascript)
    sign_in(page, site, story["reviewer"])

    page.goto(site + "/staff/deals/new/")
    page.get_by_label("Title", exact=True).fill(TITLE)
    page.get_by_label("Slug", exact=True).fill(SLUG)
    page.get_by_label("Announced on", exact=True).fill("2025-12-13")
    page.get_by_label("Completed on", exact=True).fill("2025-12-13")
    page.get_by_label("Mediators", exact=True).fill(
        "John Coale | Special envoy of the US President"
    )
    page.get_by_label("Reported number released", exact=True).fill("123")
    page.get_by_label("Reported destinations", exact=True).fill("UA 114 PL LT\nLT 9")
    page.get_by_label("New source: URL", exact=True).fill("https://example.org/browser-report")
    page.get_by_label("New source: title", exact=True).fill("Belarus releases 123 prisoners")
    # Two names pasted, the third picked from the search (answers while typing with
    # JavaScript, on the Search button without); nothing typed is lost.
    page.get_by_label("Persons released, one per line", exact=True).fill(
        "\n".join(list(PERSONS)[:2])
    )
    page.get_by_label("Destination of every line", exact=True).fill("UA")
    page.get_by_label("Reason for this change", exact=True).fill(
        "Entered from the report of 14 Dec 2025"
    )
    page.get_by_label("Publish now (reviewers)", exact=True).check()
    page.get_by_label("Find a person to add", exact=True).fill("Zrazok")
    if not javascript:
        page.get_by_role("button", name="Search", exact=True).last.click()
    page.get_by_role("button", name="Add", exact=True).click()
    third = story["persons"]["Mikola Zrazok"]
    expect(page.get_by_label("Persons released, one per line", exact=True)).to_have_value(
        re.compile(rf"Barys Probny\n#{third.pk}$")
    )
    expect(page.get_by_label("Title", exact=True)).to_have_value(TITLE)
    expect(page.get_by_label("Publish now (reviewers)", exact=True)).to_be_checked()
    page.get_by_role("button", name="Preview").click()

    matches = page.get_by_role("table", name="Matches")
    expect(matches).to_be_visible()
    for name in PERSONS:
        expect(matches.get_by_role("row", name=re.compile(name))).to_contain_text("Matched")
    page.get_by_label("Destination 3", exact=True).fill("LT")
    if os.environ.get("BROWSER_SCREENSHOTS"):  # keep a look at the preview
        folder = Path(os.environ["BROWSER_SCREENSHOTS"])
        folder.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(folder / "staff-deal-preview.png"), full_page=True)
    page.get_by_role("button", name="Confirm and save").click()
    expect(page.get_by_role("status").first).to_contain_text("3 persons released")

    visitor = open_page(javascript=javascript)
    visitor.goto(f"{site}/deals/{SLUG}/")
    expect(visitor.get_by_role("heading", level=1)).to_contain_text(TITLE)
    persons = visitor.locator(".deal-persons")
    for name in PERSONS:
        expect(persons.get_by_role("link", name=name)).to_be_visible()
    for name, country in PERSONS.items():
        visitor.goto(f"{site}/persons/{story['persons'][name].pk}/")
        main = visitor.get_by_role("main")
        expect(main).to_contain_text(RELEASE_DAY)
        expect(main).to_contain_text(country)
        expect(main).to_contain_text(TITLE)
