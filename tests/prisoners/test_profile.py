"""The person profile (/persons/<id>/): the demo story, the visibility rule, merges, queries."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from events import demo as story
from events.models import CriminalArticle, IncommunicadoPeriod, Reliability, Transfer
from events.selectors import person_status
from events.services import (
    charge_add,
    cite,
    claim_accept,
    claim_add,
    court_decision_add,
    episode_open,
    incommunicado_add,
    placement_add,
    release_record,
    source_get_or_create,
    transfer_add,
)
from events.timeline import person_profile
from prisoners.models import Country, Organisation, Person, Place, Recognition, Visibility
from prisoners.services import person_create, person_update
from prisoners.visibility import NAME_WITHHELD, RESEARCHER_GROUP, Tier
from tests.second_factor import pass_second_factor

pytestmark = pytest.mark.django_db

PUBLIC = Visibility.PUBLIC


@pytest.fixture
def researcher():  # type: ignore[no-untyped-def]
    user = get_user_model().objects.create_user("researcher", password="x" * 12)
    user.groups.add(Group.objects.get_or_create(name=RESEARCHER_GROUP)[0])
    return user


@pytest.fixture
def researcher_client(researcher):  # type: ignore[no-untyped-def]
    """A second client, signed in as a researcher (``client`` stays anonymous)."""
    signed_in = Client()
    signed_in.force_login(researcher)
    return signed_in


@pytest.fixture
def staff_client(admin_user):  # type: ignore[no-untyped-def]
    return pass_second_factor(Client(), admin_user)


def person(name: str) -> Person:
    return Person.objects.get(name=name)


def url(who: Person) -> str:
    return reverse("prisoners:detail", args=[who.pk])


def page(client, who: Person) -> str:  # type: ignore[no-untyped-def]
    response = client.get(url(who))
    assert response.status_code == 200
    return response.content.decode()


def text(html: str) -> str:
    """The visible text of the main content, whitespace collapsed."""
    main = html[html.index("<main") : html.index("</main>")]
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", main))


def entry(html: str, anchor_prefix: str) -> str:
    """The HTML of the first timeline entry whose id starts with ``anchor_prefix``."""
    match = re.search(
        rf'<li class="entry[^"]*" id="{anchor_prefix}-\d+">.*?</li>\s*(?=<li class="entry|</ol>)',
        html,
        re.S,
    )
    assert match, f"no {anchor_prefix} entry"
    return match.group(0)


# --- The demo story -------------------------------------------------------------------------


def test_kalesnikava_released_in_the_deal_and_handed_to_ukraine(client, demo):
    kalesnikava = person("Maryia Kalesnikava")
    html = page(client, kalesnikava)
    body = text(html)
    assert '<h1 id="profile-name">Maryia Kalesnikava</h1>' in html
    # Status and place now, as derived by events.selectors.
    assert "Released and expelled abroad" in body
    assert re.search(r'class="where-now">\s*Ukraine\s*<', html)
    assert person_status(person=kalesnikava).label == "Released and expelled abroad"
    # The release on 13 Dec 2025, in the deal, with its quote and source.
    release = entry(html, "release")
    assert 'datetime="2025-12-13"' in release
    assert "Deal or exchange" in release
    assert f'href="{reverse("events:deal-detail", args=[story.DEAL_SLUG])}"' in release
    assert story.Q_RELEASED_123 in release
    assert "Belarus Releases 123 Prisoners Amid US Sanctions Relief" in release
    assert "Reported" in release  # reliability
    # The transfer leg and the chain drawn Belarus → Ukraine.
    assert story.Q_TO_UKRAINE in entry(html, "transfer")
    chain = re.search(
        r'<ol class="chain".*?</ol>\s*<figcaption class="chain-summary">(.*?)</figcaption>',
        html,
        re.S,
    )
    assert chain is not None
    assert chain.group(1) == "Belarus → Ukraine"
    stops = re.findall(r'<span class="chain-country">(.*?)</span>', chain.group(0))
    assert stops == ["Belarus", "Ukraine"]
    # Names in every script, with the schemes that give them.
    assert "Марыя Калеснікава" in body
    assert "Мария Колесникова" in body
    assert "Maria Kolesnikova" in body
    assert "be-passport" in body


def test_bialiatski_chain_ends_in_vilnius_lithuania(client, demo):
    html = page(client, person("Ales Bialiatski"))
    chain = re.search(r'<ol class="chain".*?</ol>', html, re.S)
    assert chain is not None
    last_stop = re.findall(r'<li class="chain-stop">(.*?)</li>', chain.group(0), re.S)[-1]
    assert '<span class="chain-country">Lithuania</span>' in last_stop
    assert '<span class="chain-place">Vilnius</span>' in last_stop
    assert "Belarus → Lithuania" in html
    assert re.search(r'class="where-now">\s*Vilnius, Lithuania\s*<', html)
    assert story.Q_TO_VILNIUS in html


def test_tsikhanouski_solitary_confinement_is_highlighted(client, demo):
    html = page(client, person("Siarhei Tsikhanouski"))
    solitary = entry(html, "isolation")
    assert "entry--isolation" in solitary
    assert "Solitary confinement" in solitary
    assert "dates unknown" in solitary
    assert story.Q_TIKHANOVSKY_RELEASE in solitary
    # Summarised at the top, linking to the entry.
    summary = html[html.index('class="isolation-summary"') :]
    assert re.search(r'<a href="#isolation-\d+">Solitary confinement</a>', summary)
    # The curator's note on the period is staff-only.
    assert "as he described after his release" not in html


def test_fenner_long_jail_term(client, demo):
    html = page(client, person("Julia Fenner"))
    sentence = entry(html, "decision")
    assert "Sentence" in sentence
    assert "A long jail term" in sentence
    assert story.Q_FENNER in sentence
    assert "Imprisoned" in text(html)


def test_status_matches_the_derived_status_of_every_demo_person(demo):
    for who in Person.objects.all():
        profile = person_profile(pk=who.pk, viewer=Tier.PUBLIC)
        assert profile is not None
        assert profile.status == person_status(person=who)


def test_name_in_the_interface_language(client, demo, settings):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "be"
    html = page(client, person("Maryia Kalesnikava"))
    assert '<h1 id="profile-name">Марыя Калеснікава</h1>' in html
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "ru"
    assert '<h1 id="profile-name">Мария Колесникова</h1>' in page(
        client, person("Maryia Kalesnikava")
    )


# --- Stable URLs, merges, and what the public may open --------------------------------------


def test_merged_person_redirects_permanently_along_the_chain(client, demo, audited):
    kalesnikava = person("Maryia Kalesnikava")
    first = person_create(name="Maria Kolesnikova (duplicate)", visibility=PUBLIC)
    second = person_create(name="M. Kolesnikova (duplicate)", visibility=PUBLIC)
    person_update(person=second, merged_into=first)
    person_update(person=first, merged_into=kalesnikava)
    for old in (first, second):
        response = client.get(url(old))
        assert response.status_code == 301
        assert response["Location"] == url(kalesnikava)


def test_merged_draft_redirects_only_for_staff(client, staff_client, demo, audited):
    kalesnikava = person("Maryia Kalesnikava")
    draft = person_create(name="Unpublished duplicate")
    person_update(person=draft, merged_into=kalesnikava)
    assert client.get(url(draft)).status_code == 404
    response = staff_client.get(url(draft))
    assert response.status_code == 301
    assert response["Location"] == url(kalesnikava)


def test_merged_into_a_hidden_person_is_404(client, demo, audited):
    hidden = person_create(name="Hidden target")
    merged = person_create(name="Public duplicate", visibility=PUBLIC)
    person_update(person=merged, merged_into=hidden)
    assert client.get(url(merged)).status_code == 404


def test_draft_person_is_404_for_the_public_and_visible_for_staff(
    client, staff_client, researcher_client, demo, audited
):
    draft = person_create(name="Sentinel Draft Person")
    missing = client.get(reverse("prisoners:detail", args=[draft.pk + 1000]))
    hidden = client.get(url(draft))
    assert hidden.status_code == missing.status_code == 404
    # Never reveals that the record exists: the same page, but for the per-response CSRF token.
    assert without_csrf(hidden.content) == without_csrf(missing.content)
    assert researcher_client.get(url(draft)).status_code == 404
    assert "Sentinel Draft Person" in page(staff_client, draft)


def test_id_beyond_the_column_is_404(client, db):
    assert client.get("/persons/99999999999999999999999/").status_code == 404


def test_researcher_record_is_404_for_the_public_only(client, researcher_client, demo, audited):
    shared = person_create(name="Sentinel Researcher Person", visibility=Visibility.RESEARCHER)
    assert client.get(url(shared)).status_code == 404
    assert "Sentinel Researcher Person" in page(researcher_client, shared)


def test_name_withheld_profile_exists_for_staff_only(
    client, staff_client, researcher_client, audited, demo
):
    withheld = person_create(
        name="Sentinel Withheld Name",
        name_be="Схаванае Імя",
        visibility=PUBLIC,
        name_withheld=True,
    )
    for viewer in (client, researcher_client):
        response = viewer.get(url(withheld))
        assert response.status_code == 404
        assert b"Sentinel" not in response.content
    assert person_profile(pk=withheld.pk, viewer=Tier.RESEARCHER) is None
    assert "Sentinel Withheld Name" in page(staff_client, withheld)
    assert NAME_WITHHELD not in page(staff_client, withheld)


# --- Field tiers -----------------------------------------------------------------------------


def test_letter_address_for_researchers_only_and_staff_notes_never(
    client, researcher_client, staff_client, demo, audited
):
    kalesnikava = person("Maryia Kalesnikava")
    person_update(
        person=kalesnikava,
        letter_address="SENTINEL-LETTER 220000, Minsk, Valadarskaha 2",
        letters_reach=Person.LettersReach.NO,
        staff_notes="SENTINEL-STAFF-NOTE do not publish",
    )
    episode = kalesnikava.episodes.get()
    episode.arresting_authority = "SENTINEL-AUTHORITY"
    episode.save()
    public = page(client, kalesnikava)
    assert "SENTINEL-LETTER" not in public
    assert "SENTINEL-AUTHORITY" not in public
    assert "Letters do not reach them" not in public
    research = page(researcher_client, kalesnikava)
    assert "SENTINEL-LETTER 220000, Minsk, Valadarskaha 2" in research
    assert "Letters do not reach them" in research
    assert "SENTINEL-AUTHORITY" in research
    for html in (public, research, page(staff_client, kalesnikava)):
        assert "SENTINEL-STAFF-NOTE" not in html


def test_unpublished_events_and_sources_stay_hidden(client, staff_client, demo, audited):
    fenner = person("Julia Fenner")
    episode = fenner.episodes.get()
    court_decision_add(
        episode=episode,
        kind="appeal",
        judge="SENTINEL-DRAFT-JUDGE",
        visibility=Visibility.DRAFT,
    )
    secret = source_get_or_create(
        title="SENTINEL-DRAFT-SOURCE", url="https://example.org/draft", visibility="draft"
    )
    cite(obj=episode, source=secret, quote="SENTINEL-QUOTE-OF-DRAFT-SOURCE")
    article = source_get_or_create(title="Public article", url="https://example.org/public")
    hidden_citation = cite(obj=episode, source=article, quote="SENTINEL-DRAFT-CITATION")
    hidden_citation.visibility = Visibility.DRAFT
    hidden_citation.save()
    cite(
        obj=fenner, source=article, quote="SENTINEL-STAFF-FIELD-CITATION", field_name="staff_notes"
    )
    public = page(client, fenner)
    for sentinel in (
        "SENTINEL-DRAFT-JUDGE",
        "SENTINEL-DRAFT-SOURCE",
        "SENTINEL-QUOTE-OF-DRAFT-SOURCE",
        "SENTINEL-DRAFT-CITATION",
        "SENTINEL-STAFF-FIELD-CITATION",
    ):
        assert sentinel not in public
    staff = page(staff_client, fenner)
    assert "SENTINEL-DRAFT-JUDGE" in staff
    assert "SENTINEL-QUOTE-OF-DRAFT-SOURCE" in staff


def test_records_of_a_hidden_episode_stay_hidden_even_when_published(
    client, researcher_client, staff_client, audited
):
    """A charge, decision or placement marked public under a draft or researcher-only episode
    is not shown with its episode hidden: the profile keeps only records of episodes it shows."""
    by = Country.objects.get(code="BY")
    article = CriminalArticle.objects.order_by("id")[0]
    who = person_create(name="Hidden Episode Person", visibility=PUBLIC)
    shown = episode_open(person=who, country=by, arrested_on=dt.date(2020, 1, 1), visibility=PUBLIC)
    release_record(episode=shown, released_on=dt.date(2020, 6, 1), kind="end_of_term")
    for level, year in ((Visibility.DRAFT, 2021), (Visibility.RESEARCHER, 2022)):
        hidden = episode_open(
            person=who, country=by, arrested_on=dt.date(year, 1, 1), visibility=level
        )
        charge_add(
            episode=hidden,
            article=article,
            part="S" + level[0],  # at most 10 characters
            charged_on=dt.date(year, 1, 2),
            visibility=PUBLIC,
        )
        court_decision_add(
            episode=hidden,
            kind="sentence",
            judge=f"SENTINEL-{level}-JUDGE",
            decided_on=dt.date(year, 2, 1),
            visibility=PUBLIC,
        )
        release_record(episode=hidden, released_on=dt.date(year, 6, 1), kind="end_of_term")
    public = page(client, who)
    researcher = page(researcher_client, who)
    staff = page(staff_client, who)
    assert "SENTINEL-" not in public
    assert "part Sd" not in public
    assert "part Sr" not in public
    assert "part Sr" in researcher
    assert "part Sd" not in researcher
    assert "part Sd" in staff
    assert "SENTINEL-researcher-JUDGE" in researcher
    assert "SENTINEL-draft-" not in researcher
    assert "SENTINEL-draft-JUDGE" in staff
    assert "SENTINEL-researcher-JUDGE" in staff
    profile = person_profile(pk=who.pk, viewer=Tier.PUBLIC)
    assert profile is not None
    assert len(profile.episodes) == 1


def test_consented_photo_only(client, demo):
    kalesnikava = person("Maryia Kalesnikava")
    assert 'class="profile-photo"' not in page(client, kalesnikava)
    Person.objects.filter(pk=kalesnikava.pk).update(
        photo="photos/kalesnikava.jpg", photo_consent=True
    )
    html = page(client, kalesnikava)
    assert re.search(r'<img class="profile-photo" src="[^"]*photos/kalesnikava\.jpg"', html)


# --- Conflicting claims -----------------------------------------------------------------------


def test_conflicting_claims_side_by_side_with_the_accepted_one_marked(
    client, researcher_client, demo, audited
):
    fenner = person("Julia Fenner")
    sentence = fenner.episodes.get().court_decisions.get()
    first = source_get_or_create(title="Report A", url="https://example.org/a", publisher="Paper A")
    second = source_get_or_create(
        title="Report B", url="https://example.org/b", publisher="Paper B"
    )
    claim_add(
        obj=sentence,
        field_name="term_description",
        value="A long jail term",
        source=first,
        quote="a long jail term",
    )
    accepted = claim_add(
        obj=sentence,
        field_name="term_description",
        value="8 years",
        source=second,
        quote="sentenced to eight years",
        reliability=Reliability.CONFIRMED,
    )
    claim_accept(claim=accepted)
    episode = fenner.episodes.get()
    claim_add(
        obj=episode,
        field_name="arresting_authority",
        value="SENTINEL-CLAIMED-AUTHORITY",
        source=first,
    )
    html = page(client, fenner)
    claims = re.search(r'<div class="claims claims--disagree">.*?</ul>\s*</div>', html, re.S)
    assert claims is not None
    block = claims.group(0)
    assert "Sources disagree about “term as reported”" in block
    items = re.findall(r'<li class="claim( claim--accepted)?">(.*?)</li>', block, re.S)
    assert len(items) == 2
    accepted_items = [body for marker, body in items if marker]
    assert len(accepted_items) == 1
    assert "8 years" in accepted_items[0]
    assert "Accepted" in accepted_items[0]
    assert "Report B" in accepted_items[0]
    assert "Confirmed" in accepted_items[0]
    assert any(
        "A long jail term" in body and "Not accepted" in body
        for marker, body in items
        if not marker
    )
    # A claim about a researcher-only field follows the field's tier.
    assert "SENTINEL-CLAIMED-AUTHORITY" not in html
    assert "SENTINEL-CLAIMED-AUTHORITY" in page(researcher_client, fenner)


# --- Printable --------------------------------------------------------------------------------


def test_print_stylesheet(client, demo, repo_root):
    html = page(client, person("Maryia Kalesnikava"))
    assert re.search(r'<link rel="stylesheet" href="[^"]*css/profile\.css">', html)
    assert '<p class="print-only">' in html  # the page's own address, printed
    css = (repo_root / "static" / "css" / "profile.css").read_text()
    print_css = css[css.index("@media print") :]
    assert ".site-header" in print_css
    assert "display: none" in print_css
    assert 'a.source-link[href]::after { content: " <" attr(href) ">"' in print_css


# --- A fixed number of queries ------------------------------------------------------------------


def build_person(name: str, episodes: int) -> Person:
    """A public person with ``episodes`` full detention episodes, every record cited and claimed."""
    by, lt = Country.objects.get(code="BY"), Country.objects.get(code="LT")
    colony = Place.objects.filter(kind=Place.Kind.COLONY).first()
    article = CriminalArticle.objects.order_by("id")[0]
    organisation = Organisation.objects.create(name=f"Recognising body {name}", kind="human_rights")
    source = source_get_or_create(
        title=f"Source on {name}", url=f"https://example.org/{name.replace(' ', '-')}"
    )
    other = source_get_or_create(
        title=f"Other source on {name}", url=f"https://example.org/{name.replace(' ', '-')}/2"
    )
    who = person_create(name=name, name_be="Тэставая Асоба", visibility=PUBLIC)
    Recognition.objects.create(person=who, organisation=organisation, visibility=PUBLIC)
    cite(obj=who, source=source, quote="named", field_name="name")
    for number in range(episodes):
        year = 2000 + 2 * number
        episode = episode_open(person=who, country=by, arrested_on=dt.date(year, 1, 10))
        records = [
            episode,
            charge_add(episode=episode, article=article, charged_on=dt.date(year, 1, 12)),
            court_decision_add(
                episode=episode, kind="sentence", decided_on=dt.date(year, 3, 1), term_years=1
            ),
            placement_add(
                episode=episode, kind="colony", started_on=dt.date(year, 3, 2), facility=colony
            ),
            incommunicado_add(
                episode=episode,
                started_on=dt.date(year, 4, 1),
                ended_on=dt.date(year, 5, 1),
                kind=IncommunicadoPeriod.Kind.INCOMMUNICADO,
            ),
        ]
        release = release_record(
            episode=episode, released_on=dt.date(year + 1, 1, 1), kind="end_of_term"
        )
        leg = transfer_add(
            person=who,
            release=release,
            from_country=by,
            to_country=lt,
            transferred_on=dt.date(year + 1, 1, 2),
            mode=Transfer.Mode.DEPORTATION,
        )
        for record in (*records, release, leg):
            cite(obj=record, source=source, quote=f"quote {record.pk}")
            cite(obj=record, source=other, quote=f"other quote {record.pk}")
        claim_add(obj=records[2], field_name="term_years", value=1, source=source)
        claim_add(obj=records[2], field_name="term_years", value=2, source=other)
    return who


@pytest.mark.parametrize("viewer", ["public", "researcher"])
def test_queries_do_not_grow_with_events(
    client, researcher, audited, django_assert_num_queries, viewer
):
    if viewer == "researcher":
        client.force_login(researcher)
    one = build_person("One Event Person", episodes=1)
    many = build_person("Many Events Person", episodes=6)
    client.get(url(one))  # warm caches (content types, templates)
    with CaptureQueriesContext(connection) as first:
        html_one = page(client, one)
    assert html_one.count('class="entry ') == 7
    with django_assert_num_queries(len(first.captured_queries)):
        html_many = page(client, many)
    assert html_many.count('class="entry ') == 6 * 7
    assert html_many.count('class="citation ') >= 6 * 7 * 2
    assert html_many.count("claims--disagree") == 6
    # person + 6 person-level children (+ at-risk flags for researchers), episodes and their
    # 5 kinds of children, transfers, death, citations, claims; then the request's own
    # (savepoints; for a signed-in user, session, user and group).
    assert len(first.captured_queries) <= 24


def without_csrf(body: bytes) -> bytes:
    return re.sub(rb'name="csrfmiddlewaretoken" value="[^"]*"', b"", body)
