"""What a visitor does, in a real browser (issue 3, item 11).

On the demo story (the release of 13 December 2025): search "Kolesnikova" in the header box,
land on Maryia Kalesnikava's profile (from the results page, or from the suggestions while
typing), see her release on 13 December 2025 and her route Belarus → Ukraine; filter the listing
by the deal and see the four persons released in it; switch the interface to Belarusian and
Russian with the header switcher and see the interface and her name change. Every journey runs
with JavaScript on and off, and no page may make a request to anyone but the site itself
(``network`` fixture, see conftest.py).

Run: ``pytest tests/browser`` (Debian chromium at /usr/bin/chromium, or CHROMIUM_PATH).
Set ``BROWSER_SCREENSHOTS=<dir>`` to keep screenshots of the profile for a look.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Locator, Page, expect

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("_reference_data"),
]

NAME = "Maryia Kalesnikava"
NAME_BE = "Марыя Калеснікава"
NAME_RU = "Мария Колесникова"
RELEASED_IN_DEAL = ["Maryia Kalesnikava", "Ales Bialiatski", "Viktar Babaryka", "Maryna Zolatava"]
NOT_IN_DEAL = ["Siarhei Tsikhanouski", "Julia Fenner"]
DEAL_TITLE = re.compile(r"123 prisoners|potash", re.IGNORECASE)
# 13 December 2025 as an English page may write it.
RELEASE_DAY = re.compile(
    r"13 December 2025|December 13, 2025|Dec\.? 13, 2025|13 Dec\.? 2025|2025-12-13"
)
PROFILE_PATH = re.compile(r"/persons/\d+/$")
JS = pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])


@pytest.fixture
def site(live_server) -> str:  # type: ignore[no-untyped-def]
    """The live server with the demo story loaded; returns its URL."""
    from events.demo import load_demo

    load_demo()
    return str(live_server.url)


def header_search(page: Page, query: str) -> Locator:
    box = page.get_by_role("banner").get_by_role("searchbox")
    expect(box).to_be_visible()
    box.fill(query)
    return box


def submit_search(page: Page, query: str) -> None:
    box = header_search(page, query)
    with page.expect_navigation():
        box.press("Enter")


def open_result(page: Page, name: str) -> None:
    """From a results page, follow the link to the person (a direct hit may already be there)."""
    if PROFILE_PATH.search(page.url):
        return
    link = page.get_by_role("main").get_by_role("link", name=re.compile(name)).first
    expect(link).to_be_visible()
    link.click()
    page.wait_for_url(PROFILE_PATH)


def route_lists(page: Page) -> list[list[str]]:
    """The text of the items of every list on the page, list by list."""
    return [
        [item.inner_text() for item in lst.locator(":scope > li").all()]
        for lst in page.get_by_role("main").get_by_role("list").all()
    ]


def shows_route(page: Page, *countries: str) -> bool:
    """Some list on the page names these countries in consecutive items, in this order."""
    for items in route_lists(page):
        for start in range(len(items) - len(countries) + 1):
            window = items[start : start + len(countries)]
            if all(
                country in item and not any(c in item for c in countries if c != country)
                for country, item in zip(countries, window, strict=True)
            ):
                return True
    return False


def switch_language(page: Page, code: str) -> None:
    """Choose a language in the header switcher and submit it (the button, or on change)."""
    select = page.get_by_role("banner").get_by_role("combobox")
    before = page.locator("html").get_attribute("lang")
    button = select.locator("xpath=ancestor::form").get_by_role("button")
    if button.count() and button.first.is_visible():
        select.select_option(value=code)
        button.first.click()
    else:
        select.select_option(value=code)
    expect(page.locator("html")).not_to_have_attribute("lang", before or "en")


def screenshot(page: Page, tmp_path: Path, name: str) -> Path:
    folder = Path(os.environ.get("BROWSER_SCREENSHOTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def check_search_to_profile(page: Page, site: str, tmp_path: Path, mode: str) -> None:
    page.goto(site + "/")
    submit_search(page, "Kolesnikova")
    expect(page).to_have_url(re.compile(r"/search/"))
    open_result(page, "Kalesnikava")

    expect(page.get_by_role("heading", level=1)).to_have_text(NAME)
    main = page.get_by_role("main")
    expect(main).to_contain_text(RELEASE_DAY)
    expect(main).to_contain_text(re.compile(r"releas", re.IGNORECASE))
    expect(main.get_by_role("link", name=DEAL_TITLE).first).to_be_visible()
    assert shows_route(page, "Belarus", "Ukraine"), route_lists(page)
    screenshot(page, tmp_path, f"profile-{mode}")


def check_suggestions(page: Page, site: str) -> None:
    page.goto(site + "/")
    box = header_search(page, "")
    box.press_sequentially("Kolesnikova", delay=60)
    suggestion = page.get_by_role("banner").get_by_role("link", name=re.compile("Kalesnikava"))
    expect(suggestion.first).to_be_visible()
    suggestion.first.click()
    page.wait_for_url(PROFILE_PATH)
    expect(page.get_by_role("heading", level=1)).to_have_text(NAME)


def filter_listing_by_deal(page: Page) -> None:
    """Choose the deal in the listing's filters, as offered: a select, a group of radio buttons
    or checkboxes, or facet links; then apply the filter."""
    main = page.get_by_role("main")
    select = main.get_by_label(re.compile(r"deal", re.IGNORECASE)).and_(main.locator("select"))
    group = main.get_by_role("group", name=re.compile(r"deal", re.IGNORECASE))
    if select.count():
        field = select.first
        labels = [o.inner_text() for o in field.locator("option").all()]
        label = next((text for text in labels if DEAL_TITLE.search(text)), None)
        assert label, f"the deal filter does not offer the demo deal: {labels}"
        field.select_option(label=label)
    elif group.count():
        group.first.get_by_label(DEAL_TITLE).first.check()
    else:
        with page.expect_navigation():
            main.get_by_role("link", name=DEAL_TITLE).first.click()
        return
    form = (select if select.count() else group).first.locator("xpath=ancestor::form")
    submit = form.get_by_role("button").filter(has_not_text=re.compile("reset|clear", re.I))
    if submit.count() and submit.first.is_visible():
        with page.expect_navigation():
            submit.first.click()
    else:  # applied as soon as it changes
        page.wait_for_url(re.compile(r"\?"))


def check_listing_by_deal(page: Page, site: str) -> None:
    page.goto(site + "/")
    with page.expect_navigation():
        page.get_by_role("navigation").get_by_role("link", name="Persons").click()
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    filter_listing_by_deal(page)
    main = page.get_by_role("main")
    for name in RELEASED_IN_DEAL:
        expect(main.get_by_role("link", name=name).first).to_be_visible()
    for name in NOT_IN_DEAL:
        expect(main.get_by_role("link", name=name)).to_have_count(0)
    # The filter is in the URL: the page can be shared and reloaded.
    assert "?" in page.url
    page.reload()
    expect(page.get_by_role("main").get_by_role("link", name=NAME).first).to_be_visible()


def check_language_switch(page: Page, site: str, tmp_path: Path, mode: str) -> None:
    page.goto(site + "/")
    submit_search(page, "Kolesnikova")
    open_result(page, "Kalesnikava")
    expect(page.get_by_role("heading", level=1)).to_have_text(NAME)
    nav = page.get_by_role("navigation").first
    english_nav = nav.inner_text()

    switch_language(page, "be")
    expect(page.locator("html")).to_have_attribute("lang", "be")
    assert PROFILE_PATH.search(page.url), "the switcher left the profile"
    expect(page.get_by_role("heading", level=1)).to_have_text(NAME_BE)
    screenshot(page, tmp_path, f"profile-be-{mode}")
    assert nav.inner_text() != english_nav, "the interface is still in English"

    switch_language(page, "ru")
    expect(page.locator("html")).to_have_attribute("lang", "ru")
    expect(page.get_by_role("heading", level=1)).to_have_text(NAME_RU)
    assert nav.inner_text() != english_nav, "the interface is still in English"

    # The choice sticks: the search results now name her in Russian too.
    submit_search(page, "Kolesnikova")
    expect(page.get_by_role("main").get_by_role("link", name=NAME_RU).first).to_be_visible()


@JS
def test_visitor_journey(
    site: str, open_page: Any, javascript: bool, subtests: Any, tmp_path: Path
) -> None:
    """Each step starts from the home page, so that one failing step does not hide the others
    (each is reported as a subtest). No third-party request anywhere (``network``)."""
    mode = "js" if javascript else "no-js"
    page = open_page(javascript=javascript)
    with subtests.test("search 'Kolesnikova', her profile shows the release and the route"):
        check_search_to_profile(page, site, tmp_path, mode)
    if javascript:
        with subtests.test("suggestions while typing lead to her profile"):
            check_suggestions(page, site)
    with subtests.test("the listing filtered by the deal shows the four released in it"):
        check_listing_by_deal(page, site)
    with subtests.test("the header switcher changes the interface and her name"):
        check_language_switch(page, site, tmp_path, mode)


def test_the_recorder_catches_third_party_requests(live_server: Any, open_page: Any, network):  # type: ignore[no-untyped-def]
    """The network check can fail: a page asking a third party for anything is caught (and the
    request never leaves the machine)."""
    page = open_page(javascript=False)
    page.goto(str(live_server.url) + "/")
    page.set_content(
        '<img src="https://fonts.example.org/font.png" alt="">'
        f'<img src="{live_server.url}/static/css/site.css" alt="">'
    )
    page.wait_for_load_state("networkidle")
    assert network.third_party == ["https://fonts.example.org/font.png"]
    assert any(url.startswith(str(live_server.url)) for url in network.urls)
    network.urls[:] = [url for url in network.urls if network.is_local(url)]  # pass teardown


@JS
def test_counts_of_many_rows_come_after_the_page(
    site: str, open_page: Any, javascript: bool, settings: Any
) -> None:
    """A listing of several facets over many rows shows its rows at once and the number of
    persons beside each filter value after: htmx asks for them; without JavaScript, a link."""
    settings.LISTING_INLINE_COUNT_LIMIT = 1  # the demo's six persons are "many"
    page = open_page(javascript=javascript)
    page.goto(site + "/persons/?gender=female&gender=male&custody_country=BY")
    main = page.get_by_role("main")
    expect(main.get_by_role("link", name=NAME).first).to_be_visible()
    expect(main.get_by_text("6 persons")).to_be_visible()
    status = main.get_by_role("group", name="Status")
    released = status.locator("li").filter(has=page.get_by_label("Released", exact=True))
    if javascript:
        expect(released.locator(".count")).to_have_text("3")
        expect(main.locator(".facet-counts-pending")).to_have_count(0)
    else:
        expect(main.locator(".facet-counts-pending")).to_be_visible()
        expect(released.locator(".count")).to_have_count(0)
        with page.expect_navigation():
            main.get_by_role("link", name="Show the numbers").click()
        expect(released.locator(".count")).to_have_text("3")
    # The filters chosen are still chosen, and apply as before.
    expect(main.get_by_label("Female", exact=True)).to_be_checked()
    main.get_by_label("Female", exact=True).uncheck()
    with page.expect_navigation():
        main.get_by_role("button", name="Apply filters").click()
    expect(main.get_by_role("link", name=NAME)).to_have_count(0)
    expect(main.get_by_role("link", name="Ales Bialiatski").first).to_be_visible()
