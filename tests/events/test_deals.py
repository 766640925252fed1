"""Release-deal pages: /deals/ and /deals/<slug>/ on the demo, the visibility rule, queries."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.db import connection
from django.db.models import Count
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from events import demo as story
from events import timeline
from events.models import Release, ReleaseDeal, Transfer
from events.services import (
    cite,
    deal_create,
    deal_destination_set,
    deal_party_add,
    episode_open,
    release_record,
    source_get_or_create,
    transfer_add,
)
from prisoners.models import Country, Person, Visibility
from prisoners.services import person_create, person_update
from prisoners.visibility import Tier
from tests.second_factor import pass_second_factor

pytestmark = pytest.mark.django_db

PUBLIC = Visibility.PUBLIC


@pytest.fixture
def staff_client(admin_user):  # type: ignore[no-untyped-def]
    return pass_second_factor(Client(), admin_user)


def deal_url(slug: str = story.DEAL_SLUG) -> str:
    return reverse("events:deal-detail", args=[slug])


def get(client, path: str) -> str:  # type: ignore[no-untyped-def]
    response = client.get(path)
    assert response.status_code == 200
    return response.content.decode()


def text(html: str) -> str:
    main = html[html.index("<main") : html.index("</main>")]
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", main))


def destination_row(html: str, code: str) -> list[str]:
    row = re.search(rf'<tr class="destination" data-country="{code}">(.*?)</tr>', html, re.S)
    assert row, f"no row for {code}"
    return [
        re.sub(r"<[^>]+>", "", cell).strip()
        for cell in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row.group(1), re.S)
    ]


def identified_links(html: str) -> list[str]:
    persons = html[html.index('class="deal-persons"') :]
    return re.findall(r'<li><a href="/persons/\d+/">', persons)


def released_in(deal: ReleaseDeal, name: str, **person: object) -> Person:
    """A person released in ``deal`` on its day and handed to Ukraine."""
    who = person_create(name=name, **person)  # type: ignore[arg-type]
    by = Country.objects.get(code="BY")
    episode = episode_open(
        person=who, country=by, arrested_on=dt.date(2021, 1, 1), visibility=PUBLIC
    )
    release = release_record(
        episode=episode, released_on=deal.announced_on, kind="deal", deal=deal, visibility=PUBLIC
    )
    transfer_add(
        person=who,
        release=release,
        from_country=by,
        to_country=Country.objects.get(code="UA"),
        transferred_on=deal.announced_on,
        visibility=PUBLIC,
    )
    return who


# --- The demo deal ----------------------------------------------------------------------------


def test_deal_page_reported_and_identified(client, demo):
    html = get(client, deal_url())
    body = text(html)
    assert "123 reported, 4 identified" in body
    # Reported breakdown by destination, with the onward countries.
    assert destination_row(html, "UA") == ["Ukraine", "114", "Lithuania, Poland", "1"]
    assert destination_row(html, "LT") == ["Lithuania", "9", "—", "1"]
    # Mediators and parties, consideration, sources with their quotes.
    parties = html[html.index('class="deal-parties"') :]
    assert re.search(r"<h3>Mediators</h3>\s*<ul>\s*<li><strong>John Coale</strong>", parties)
    assert "Special envoy of the US President for Belarus" in parties
    assert "<h3>Receiving states</h3>" in parties
    consideration = re.search(r'<p class="consideration">(.*?)</p>', html)
    assert consideration is not None
    assert "potash" in consideration.group(1)
    assert story.Q_POTASH in html  # the per-field citation of the consideration
    assert story.Q_ONWARD in html  # the per-field citation of the onward countries
    assert story.Q_RELEASED_123 in html[html.index('class="deal-figures"') :]
    assert (
        "Belarus Releases 123 Prisoners Amid US Sanctions Relief"
        in html[html.index('class="deal-sources"') :]
    )
    # The four identified persons, linked to their profiles.
    persons = html[html.index('class="deal-persons"') :]
    for name in ("Ales Bialiatski", "Maryia Kalesnikava", "Maryna Zolatava", "Viktar Babaryka"):
        who = Person.objects.get(name=name)
        assert f'<a href="{reverse("prisoners:detail", args=[who.pk])}">{name}</a>' in persons
    assert "Siarhei Tsikhanouski" not in persons  # released, but not in the deal
    assert "Belarus → Lithuania (Vilnius)" in persons


def test_identified_persons_in_the_interface_language(client, demo):
    """Each row: the name, the date of release and the chain, in the language of the page."""
    from django.utils import translation

    html = client.get(deal_url(), HTTP_ACCEPT_LANGUAGE="ru").content.decode()
    persons = html[html.index('class="deal-persons"') :]
    release = Release.objects.get(episode__person__name="Maryia Kalesnikava", deal__isnull=False)
    with translation.override("ru"):
        day = timeline.partial_date(release.released_on, release.released_on_precision)
    assert day in persons
    assert "Беларусь → Украина" in persons
    english = text(get(client, deal_url()))
    assert timeline.partial_date(release.released_on, release.released_on_precision) in english
    assert day not in english


def test_deal_list(client, demo):
    html = get(client, reverse("events:deal-list"))
    body = text(html)
    assert "Release of 123 prisoners for the lifting of US sanctions on potash" in body
    assert f'href="{deal_url()}"' in html
    assert "123 reported, 4 identified" in body
    assert "Ukraine (114), then to Lithuania, Poland" in body
    assert "Lithuania (9)" in body


def test_profile_links_to_the_deal_and_back(client, demo):
    kalesnikava = Person.objects.get(name="Maryia Kalesnikava")
    profile = get(client, reverse("prisoners:detail", args=[kalesnikava.pk]))
    assert f'href="{deal_url()}"' in profile


# --- What the public counts and sees ----------------------------------------------------------


def test_identified_counts_public_releases_and_withholds_names(client, staff_client, demo, audited):
    released_in(demo, "Sentinel Draft Released")  # a draft person: not identified publicly
    released_in(demo, "Sentinel Withheld Released", visibility=PUBLIC, name_withheld=True)
    public = get(client, deal_url())
    assert "123 reported, 5 identified" in text(public)
    assert "1 person whose name is withheld" in text(public)
    assert "Sentinel" not in public
    staff = get(staff_client, deal_url())
    assert "123 reported, 6 identified" in text(staff)
    assert "Sentinel Draft Released" in staff
    assert "Sentinel Withheld Released" in staff
    assert "whose name is withheld" not in staff
    # The list counts the same way.
    assert "123 reported, 5 identified" in text(get(client, reverse("events:deal-list")))


def test_draft_deal_is_hidden_from_the_public(client, staff_client, demo, audited):
    draft = deal_create(
        title="Sentinel draft deal", slug="sentinel-draft-deal", announced_on=dt.date(2026, 1, 5)
    )
    assert client.get(deal_url(draft.slug)).status_code == 404
    assert "Sentinel draft deal" not in get(client, reverse("events:deal-list"))
    assert "Sentinel draft deal" in get(staff_client, deal_url(draft.slug))
    assert "Sentinel draft deal" in get(staff_client, reverse("events:deal-list"))
    # A release in a draft deal does not link to it for the public.
    who = released_in(draft, "Released In Draft Deal", visibility=PUBLIC)
    profile = get(client, reverse("prisoners:detail", args=[who.pk]))
    assert "sentinel-draft-deal" not in profile
    assert "Sentinel draft deal" not in profile


def test_unknown_deal_is_404(client, demo):
    assert client.get(deal_url("no-such-deal")).status_code == 404


def test_identified_persons_are_paginated(client, demo, audited, monkeypatch):
    monkeypatch.setattr(timeline, "DEAL_PERSONS_PER_PAGE", 3)
    released_in(demo, "Withheld Person", visibility=PUBLIC, name_withheld=True)
    first = get(client, deal_url())
    assert len(identified_links(first)) == 3
    assert 'rel="next" href="?page=2"' in first
    assert "whose name is withheld" not in first  # counted on the last page
    second = get(client, deal_url() + "?page=2")
    assert len(identified_links(second)) == 1
    assert "1 person whose name is withheld" in text(second)


# --- A fixed number of queries ------------------------------------------------------------------


def make_deal(slug: str, identified: int) -> ReleaseDeal:
    deal = deal_create(
        title=f"Deal {slug}",
        slug=slug,
        announced_on=dt.date(2025, 6, 1),
        reported_total=identified + 10,
        consideration="Something given",
        visibility=PUBLIC,
    )
    source = source_get_or_create(title=f"Source {slug}", url=f"https://example.org/{slug}")
    cite(obj=deal, source=source, quote="reported", field_name="reported_total")
    by, ua, pl = (Country.objects.get(code=c) for c in ("BY", "UA", "PL"))
    destination = deal_destination_set(
        deal=deal, country=ua, reported_count=identified, onward=[pl]
    )
    cite(obj=destination, source=source, quote="to Ukraine")
    party = deal_party_add(deal=deal, role="mediator", name="Envoy", country=by)
    cite(obj=party, source=source, quote="envoy")
    for number in range(identified):
        released_in(deal, f"Person {slug} {number}", visibility=PUBLIC)
    return deal


def test_deal_page_queries_do_not_grow(client, audited, django_assert_num_queries):
    small, large = make_deal("small", 1), make_deal("large", 7)
    client.get(deal_url(small.slug))  # warm caches
    with CaptureQueriesContext(connection) as first:
        html = get(client, deal_url(small.slug))
    assert "11 reported, 1 identified" in text(html)
    with django_assert_num_queries(len(first.captured_queries)):
        html = get(client, deal_url(large.slug))
    assert "17 reported, 7 identified" in text(html)
    assert html.count("Belarus → Ukraine") == 7
    assert Transfer.objects.filter(release__deal=large).count() == 7
    assert len(first.captured_queries) <= 15


def test_deal_list_queries_do_not_grow(client, audited, django_assert_num_queries):
    make_deal("first", 1)
    client.get(reverse("events:deal-list"))
    with CaptureQueriesContext(connection) as first:
        get(client, reverse("events:deal-list"))
    make_deal("second", 2)
    make_deal("third", 3)
    with django_assert_num_queries(len(first.captured_queries)):
        html = get(client, reverse("events:deal-list"))
    assert "13 reported, 3 identified" in text(html)
    assert len(first.captured_queries) <= 8


# --- The deal listing stays right after writes ----------------------------------------------------


def figures_from_events(deal: ReleaseDeal, tier: Tier) -> dict[str, object]:
    """What the deal page showed when it counted every release joined to its person."""
    releases = Release.objects.visible_to(tier).filter(deal=deal)
    named = (
        releases if tier == Tier.STAFF else releases.exclude(episode__person__name_withheld=True)
    )
    return {
        "identified": releases.count(),
        "withheld": releases.filter(episode__person__name_withheld=True).count()
        if tier < Tier.STAFF
        else 0,
        "persons": [
            reverse("prisoners:detail", args=[pk])
            for pk in named.order_by("episode__person__name", "id").values_list(
                "episode__person", flat=True
            )
        ],
        "by_country": sorted(
            Transfer.objects.visible_to(tier)
            .filter(release__in=releases, sequence=1)
            .order_by()
            .values("to_country__code")
            .annotate(n=Count("person", distinct=True))
            .values_list("to_country__code", "n")
        ),
    }


def figures_on_page(deal: ReleaseDeal, tier: Tier) -> dict[str, object]:
    page = timeline.deal_page(slug=deal.slug, viewer=tier, language="en")
    assert page is not None
    return {
        "identified": page.identified,
        "withheld": page.withheld,
        "persons": [person.url for person in page.persons.object_list],
        "by_country": sorted((d.code, d.identified) for d in page.destinations if d.identified),
    }


def assert_figures(deal: ReleaseDeal) -> None:
    for tier in Tier:
        assert figures_on_page(deal, tier) == figures_from_events(deal, tier), tier


def test_deal_listing_follows_every_write(audited):
    deal = make_deal("kept", 4)
    deal_destination_set(deal=deal, country=Country.objects.get(code="LT"), reported_count=2)
    assert_figures(deal)
    persons = list(Person.objects.filter(name__startswith="Person kept").order_by("pk"))
    # The person: unpublished, name withheld, renamed (the page's order), merged.
    person_update(person=persons[0], visibility=Visibility.RESEARCHER)
    assert_figures(deal)
    person_update(person=persons[1], name_withheld=True)
    assert_figures(deal)
    person_update(person=persons[2], name="Aaron First Now")
    assert_figures(deal)
    first = figures_on_page(deal, Tier.PUBLIC)["persons"]
    assert first[0] == reverse("prisoners:detail", args=[persons[2].pk])  # type: ignore[index]
    Person.objects.filter(pk=persons[3].pk).update(merged_into=persons[2])
    assert_figures(deal)
    # The release: a draft, taken out of the deal, deleted; a new one.
    release = Release.objects.get(episode__person=persons[2])
    release.visibility = Visibility.DRAFT
    release.save()
    assert_figures(deal)
    Release.objects.filter(episode__person=persons[1]).update(deal=None, kind="pardon")
    assert_figures(deal)
    Transfer.objects.filter(release__episode__person=persons[0]).delete()
    Release.objects.filter(episode__person=persons[0]).delete()
    assert_figures(deal)
    released_in(deal, "Zed Late Arrival", visibility=PUBLIC)
    assert_figures(deal)
    # The first leg: another destination, a draft.
    leg = Transfer.objects.get(person__name="Zed Late Arrival")
    leg.to_country = Country.objects.get(code="LT")
    leg.save()
    assert_figures(deal)
    assert figures_on_page(deal, Tier.PUBLIC)["by_country"] == [("LT", 1)]
    leg.visibility = Visibility.DRAFT
    leg.save()
    assert_figures(deal)
    assert figures_on_page(deal, Tier.PUBLIC)["by_country"] == []
    assert figures_on_page(deal, Tier.STAFF)["by_country"] != []
