"""An editor enters a person and their detention episode in the browser (issue 4, item 2).

With and without JavaScript: the person's names, a preview of the generated spellings with one
unticked, confirm; then from the person's staff page the episode, citing the source entered
with the person, found with the source search (while typing with JavaScript, on the Search
button without). No page may request anything from a third party (``network`` fixture).
"""

from __future__ import annotations

import datetime as dt
import os
import re
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.test_staff_deal import sign_in

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("_reference_data"),
]

SOURCE_TITLE = "Viasna: new political prisoners"
REASON = "Recognised by Viasna on 2 May"


@pytest.fixture
def story(live_server) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    from tests.staff.helpers import make_user

    return {"url": str(live_server.url), "editor": make_user("edna", "editor")}


def htmx_ready(page: Any) -> None:
    """Wait until the page has loaded and htmx has processed it and settled any swap: a test
    acts within milliseconds of a page appearing, a person does not."""
    page.wait_for_load_state("load")
    page.wait_for_function(
        "() => window.htmx !== undefined && !document.querySelector("
        "'.htmx-request, .htmx-swapping, .htmx-settling, .htmx-added')"
    )


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
def test_an_editor_enters_a_person_and_an_episode(open_page, story, javascript):
    from events.models import Citation, DetentionEpisode
    from prisoners.models import Person
    from prisoners.staff.entry import variants_offered

    site = story["url"]
    page = open_page(javascript=javascript)
    sign_in(page, site, story["editor"])

    page.get_by_role("link", name="Enter a person").click()
    page.get_by_label("Name", exact=True).fill("Aliaksei Probny")
    page.get_by_label("Name in Belarusian", exact=True).fill("Аляксей Пробны")
    page.get_by_label("Name in Russian", exact=True).fill("Алексей Пробный")
    page.get_by_label("New source: URL", exact=True).fill("https://example.org/viasna-2-may")
    page.get_by_label("New source: title", exact=True).fill(SOURCE_TITLE)
    page.get_by_label("Reason for this change", exact=True).fill(REASON)
    page.get_by_role("button", name="Preview the spellings").click()

    offered = variants_offered(name_be="Аляксей Пробны", name_ru="Алексей Пробный")
    wrong = offered[-1]
    for variant in offered:
        expect(page.get_by_label(variant.text, exact=True).first).to_be_checked()
    page.get_by_label(wrong.text, exact=True).last.uncheck()
    if os.environ.get("BROWSER_SCREENSHOTS"):  # keep a look at the preview
        folder = Path(os.environ["BROWSER_SCREENSHOTS"])
        folder.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(folder / "staff-person-preview.png"), full_page=True)
    expect(page.get_by_label("Name", exact=True)).to_have_value("Aliaksei Probny")
    page.get_by_role("button", name="Confirm and save").click()
    expect(page.get_by_role("status").first).to_contain_text("Aliaksei Probny")

    person = Person.objects.get(name="Aliaksei Probny")
    assert not person.name_variants.filter(text=wrong.text, language=wrong.language).exists()
    assert person.name_variants.filter(generated=True).count() == len(offered) - 1

    page.get_by_role("link", name="Detention episode", exact=True).click()
    if javascript:
        htmx_ready(page)
    page.get_by_label("Arrested on", exact=True).fill("2024-03-17")
    page.get_by_label("Arresting authority", exact=True).fill("KGB")
    page.get_by_label("Find a source already entered", exact=True).fill("viasna")
    if not javascript:
        page.get_by_role("group", name="Source").get_by_role("button", name="Search").click()
    page.get_by_role("button", name="Use", exact=True).click()
    expect(page.get_by_label("Arrested on", exact=True)).to_have_value("2024-03-17")
    page.get_by_label("Reason for this change", exact=True).fill(REASON)
    page.get_by_role("button", name="Save as a draft").click()
    expect(page.get_by_role("status").first).to_contain_text(re.compile("Saved as a draft"))

    episode = DetentionEpisode.objects.get(person=person)
    assert episode.arrested_on == dt.date(2024, 3, 17)
    assert episode.country.code == "BY"
    citation = Citation.objects.for_object(episode).get()
    assert citation.source.title == SOURCE_TITLE


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
def test_an_editor_enters_a_chain_of_three_legs_and_corrects_one(open_page, story, javascript):
    """Belarus -> Ukraine -> Poland -> Lithuania after a release: "Add a leg" adds the third row
    (in place with JavaScript), nothing typed is lost; then a field of a leg is corrected from
    the leg's page (the form opens under its fields with JavaScript)."""
    from events import services as ev
    from events.models import Transfer
    from prisoners.audit import audit_context
    from tests.events import factories as f

    with audit_context(reason="browser test setup"):
        person = f.person("Mikola Zrazok")
        episode = f.episode(person, arrested_on=dt.date(2021, 3, 1))
        release = ev.release_record(
            episode=episode, released_on=dt.date(2025, 12, 13), kind="pardon"
        )
        source = ev.source_get_or_create(title=SOURCE_TITLE, url="https://example.org/v")
    site = story["url"]
    page = open_page(javascript=javascript)
    sign_in(page, site, story["editor"])
    page.goto(f"{site}/staff/review/release/{release.pk}/")
    page.get_by_role("link", name="Transfer chain", exact=True).click()
    if javascript:
        htmx_ready(page)

    legs = [("BY", "UA", "2025-12-13"), ("UA", "PL", "2025-12-14"), ("PL", "LT", "2025-12-20")]
    page.get_by_role("button", name="Add a leg").click()
    expect(page.get_by_label("From country", exact=True)).to_have_count(3)
    for row, (origin, destination, day) in enumerate(legs):
        page.get_by_label("From country", exact=True).nth(row).select_option(
            value=str(f.country(origin).pk)
        )
        page.get_by_label("To country", exact=True).nth(row).select_option(
            value=str(f.country(destination).pk)
        )
        page.get_by_label("Date", exact=True).nth(row).fill(day)
    page.get_by_label("Source already entered", exact=True).fill(str(source.pk))
    page.get_by_label("Reason for this change", exact=True).fill(REASON)
    page.get_by_role("button", name="Save as a draft").click()
    expect(page.get_by_role("status").first).to_contain_text("BY → UA → PL → LT")
    chain = list(Transfer.objects.filter(person=person).order_by("sequence"))
    assert [(t.from_country.code, t.to_country.code) for t in chain] == [
        ("BY", "UA"),
        ("UA", "PL"),
        ("PL", "LT"),
    ]
    assert {t.release_id for t in chain} == {release.pk}
    assert {t.mode for t in chain} == {"unknown"}  # an added row has the defaults of a leg

    last = chain[-1]
    page.goto(f"{site}/staff/review/transfer/{last.pk}/")
    if javascript:
        htmx_ready(page)
    page.get_by_role("link", name="Correct a field").click()
    edit = page.get_by_role("region", name="Correct a field")
    if javascript:  # the form htmx swapped in must be settled (its change trigger bound)
        expect(edit.get_by_label("Field", exact=True)).to_be_visible()
        htmx_ready(page)
    edit.get_by_label("Field", exact=True).select_option(value="mode")
    if not javascript:
        edit.get_by_role("button", name="Choose this field").click()
    value = edit.get_by_role("combobox", name="New value", exact=True)
    expect(value).to_have_value("unknown")  # the form now shows the mode, as on record
    if os.environ.get("BROWSER_SCREENSHOTS"):
        folder = Path(os.environ["BROWSER_SCREENSHOTS"])
        folder.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(folder / "staff-field-edit.png"), full_page=True)
    value.select_option(value="voluntary")
    edit.get_by_label("Source already entered", exact=True).fill(str(source.pk))
    edit.get_by_label("Reason for this change", exact=True).fill(REASON)
    edit.get_by_role("button", name="Save the correction").click()
    expect(page.get_by_role("status").first).to_contain_text("corrected")
    last.refresh_from_db()
    assert last.mode == "voluntary"
