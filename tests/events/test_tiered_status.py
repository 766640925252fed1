"""Derived facts follow the one visibility rule: computed only from the records a tier sees.

A published episode ended by a draft release is still open for the public (still held, days
growing) and ended for staff; publishing the release changes what the public sees, in the
selectors, the listing row, the statistics and the API. A draft transfer leg does not move a
person for the public.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.utils import timezone

from events import services
from events.models import CustodyPlacement, DetentionEpisode, Release, Transfer
from events.selectors import Status, count_in_custody, person_status, with_status
from events.statistics import statistics_on
from prisoners import listing
from prisoners.models import Person, PersonListing, Place, Visibility
from prisoners.visibility import Tier
from tests.events.factories import country, episode, person
from tests.second_factor import pass_second_factor

pytestmark = pytest.mark.django_db

D = dt.date
ARREST = D(2021, 2, 3)
RELEASE = D(2024, 7, 19)
LATER = D(2025, 1, 1)
TIERS = (Tier.PUBLIC, Tier.RESEARCHER, Tier.STAFF)


def held_with_release(visibility: str = Visibility.DRAFT) -> tuple[Person, DetentionEpisode]:
    """A published person, a published episode, and a release of ``visibility``."""
    who = person("Tiered Person", visibility=Visibility.PUBLIC)
    ep = episode(who, arrested_on=ARREST)
    services.release_record(
        episode=ep, released_on=RELEASE, kind=Release.Kind.PARDON, visibility=visibility
    )
    ep.refresh_from_db()
    return who, ep


def row(who: Person) -> PersonListing:
    listing.prepare(timezone.localdate())
    return PersonListing.objects.annotate(days=listing.days_in_detention(timezone.localdate())).get(
        person=who
    )


def publish(release: Release, visibility: str = Visibility.PUBLIC) -> None:
    release.visibility = visibility
    release.save()


def test_the_trigger_keeps_end_level_with_the_release():
    _who, ep = held_with_release()
    assert (ep.ended_on, ep.end_reason, ep.end_level) == (RELEASE, "release", 2)
    release = Release.objects.get(episode=ep)
    publish(release, Visibility.RESEARCHER)
    ep.refresh_from_db()
    assert ep.end_level == 1
    publish(release)
    ep.refresh_from_db()
    assert ep.end_level == 0
    release.delete()
    ep.refresh_from_db()
    assert (ep.ended_on, ep.end_reason, ep.end_level) == (None, "", None)


def test_draft_release_leaves_the_public_status_imprisoned_with_growing_days():
    who, _ep = held_with_release()
    for tier in (Tier.PUBLIC, Tier.RESEARCHER):
        seen = person_status(person=who, on=LATER, tier=tier)
        assert seen.status == Status.IMPRISONED, tier
        assert seen.days_in_detention == (LATER - ARREST).days  # still growing
    staff = person_status(person=who, on=LATER)  # default: staff, every record
    assert staff.status == Status.RELEASED
    assert staff.days_in_detention == (RELEASE - ARREST).days
    persons = Person.objects.filter(pk=who.pk)
    assert count_in_custody(on=LATER, persons=persons, tier=Tier.PUBLIC) == 1
    assert count_in_custody(on=LATER, persons=persons, tier=Tier.STAFF) == 0


def test_publishing_the_release_changes_the_public_status_and_the_listing_row():
    who, ep = held_with_release()
    before = row(who)
    assert before.status == Status.IMPRISONED
    assert before.growing is True
    assert before.days == (timezone.localdate() - ARREST).days  # type: ignore[attr-defined]

    publish(Release.objects.get(episode=ep))
    assert person_status(person=who, on=LATER, tier=Tier.PUBLIC).status == Status.RELEASED
    after = row(who)
    assert after.status == Status.RELEASED
    assert after.growing is False
    assert after.days == (RELEASE - ARREST).days  # type: ignore[attr-defined]


def test_release_seen_by_researchers_only():
    who, _ep = held_with_release(Visibility.RESEARCHER)
    statuses = {tier: person_status(person=who, on=LATER, tier=tier).status for tier in TIERS}
    assert statuses == {
        Tier.PUBLIC: Status.IMPRISONED,
        Tier.RESEARCHER: Status.RELEASED,
        Tier.STAFF: Status.RELEASED,
    }
    assert row(who).status == Status.IMPRISONED  # the row of a published person: public


def test_draft_transfer_leg_does_not_move_the_person_for_the_public():
    by, lt, pl = country("BY"), country("LT"), country("PL")
    who = person("Moved Person", visibility=Visibility.PUBLIC)
    ep = episode(who, arrested_on=ARREST, visibility=Visibility.PUBLIC)
    release = services.release_record(
        episode=ep, released_on=RELEASE, kind=Release.Kind.DEAL, visibility=Visibility.PUBLIC
    )
    services.transfer_add(
        person=who, release=release, from_country=by, to_country=lt, transferred_on=RELEASE
    )
    town = Place.objects.create(kind=Place.Kind.CITY, name="Hidden Town", country=pl)
    services.transfer_add(
        person=who,
        release=release,
        from_country=lt,
        to_country=pl,
        to_place=town,
        transferred_on=RELEASE + dt.timedelta(days=5),
        visibility=Visibility.DRAFT,
    )
    public = person_status(person=who, on=LATER, tier=Tier.PUBLIC)
    staff = person_status(person=who, on=LATER, tier=Tier.STAFF)
    assert public.status == staff.status == Status.EXPELLED
    assert (public.country_id, public.place_id) == (lt.pk, None)
    assert (staff.country_id, staff.place_id) == (pl.pk, town.pk)
    listed = row(who)
    assert (listed.country_now_id, listed.place_now_id) == (lt.pk, None)


def test_undated_leg_of_a_draft_release_is_not_dated_for_the_public():
    by, lt = country("BY"), country("LT")
    who = person("Undated Leg", visibility=Visibility.PUBLIC)
    ep = episode(who, arrested_on=ARREST, visibility=Visibility.PUBLIC)
    release = services.release_record(
        episode=ep, released_on=RELEASE, kind=Release.Kind.DEAL, visibility=Visibility.DRAFT
    )
    Transfer.objects.create(
        person=who,
        release=release,
        from_country=by,
        to_country=lt,
        transferred_on_precision="unknown",
        visibility=Visibility.PUBLIC,
    )
    assert person_status(person=who, on=LATER, tier=Tier.PUBLIC).status == Status.IMPRISONED
    assert person_status(person=who, on=LATER).status == Status.EXPELLED


def test_placement_cut_by_a_draft_release_stays_open_for_the_public():
    who, ep = held_with_release()
    Release.objects.filter(episode=ep).delete()
    colony = Place.objects.filter(kind__in=Place.FACILITY_KINDS).order_by("id").first()
    assert colony is not None
    services.placement_add(
        episode=ep, kind=CustodyPlacement.Kind.COLONY, started_on=D(2021, 9, 2), facility=colony
    )
    services.release_record(
        episode=ep, released_on=RELEASE, kind=Release.Kind.PARDON, visibility=Visibility.DRAFT
    )
    assert CustodyPlacement.objects.get(episode=ep).ended_on == RELEASE  # cut by the trigger
    public = person_status(person=who, on=LATER, tier=Tier.PUBLIC)
    assert (public.status, public.place_id) == (Status.IMPRISONED, colony.pk)
    assert person_status(person=who, on=LATER).place_id is None

    # The API: the episode and its placement are open for the public, ended for staff.
    found = Client().get("/api/events/", {"person": who.pk}).json()["results"]
    assert [(e["ended_on"], e["end_reason"]) for e in found] == [(None, "")]
    assert found[0]["placements"][0]["ended_on"] is None
    assert found[0]["release"] is None
    open_ids = [e["id"] for e in Client().get("/api/events/", {"open": "true"}).json()["results"]]
    assert ep.pk in open_ids
    staff = pass_second_factor(
        Client(), get_user_model().objects.create_user("tiered-staff", is_staff=True)
    )
    seen = staff.get("/api/events/", {"person": who.pk}).json()["results"][0]
    assert (seen["ended_on"], seen["end_reason"]) == (RELEASE.isoformat(), "release")
    assert seen["placements"][0]["ended_on"] == RELEASE.isoformat()


def test_statistics_count_a_draft_release_for_staff_only():
    _who, ep = held_with_release()
    assert statistics_on(as_of=LATER, tier=Tier.PUBLIC).in_custody == 1
    assert statistics_on(as_of=LATER, tier=Tier.RESEARCHER).in_custody == 1
    assert statistics_on(as_of=LATER, tier=Tier.STAFF).in_custody == 0
    publish(Release.objects.get(episode=ep))
    assert statistics_on(as_of=LATER, tier=Tier.PUBLIC).in_custody == 0


def test_a_later_arrest_ends_an_episode_whose_end_the_tier_does_not_see():
    """Released (draft) and arrested again (published): the public counts the first episode
    until the second arrest, never twice."""
    who, _ep = held_with_release()
    again = D(2024, 10, 1)
    episode(who, arrested_on=again)
    public = person_status(person=who, on=LATER, tier=Tier.PUBLIC)
    assert public.status == Status.IMPRISONED
    assert public.days_in_detention == (again - ARREST).days + (LATER - again).days
    staff = person_status(person=who, on=LATER)
    assert staff.days_in_detention == (RELEASE - ARREST).days + (LATER - again).days
    assert count_in_custody(on=LATER, tier=Tier.PUBLIC) == 1
    assert statistics_on(as_of=LATER, tier=Tier.PUBLIC).in_custody == 1
    assert statistics_on(as_of=D(2024, 8, 1), tier=Tier.PUBLIC).in_custody == 1
    assert statistics_on(as_of=D(2024, 8, 1), tier=Tier.STAFF).in_custody == 0
    today = timezone.localdate()
    listed = row(who)
    expected = with_status(Person.objects.filter(pk=who.pk), today, Tier.PUBLIC).get()
    assert listed.status == expected.status == Status.IMPRISONED
    assert listed.days == (again - ARREST).days + (today - again).days  # type: ignore[attr-defined]


def test_draft_death_in_custody_is_seen_by_staff_only():
    who, ep = held_with_release()
    Release.objects.filter(episode=ep).delete()
    services.death_record(person=who, died_on=RELEASE, episode=ep, visibility=Visibility.DRAFT)
    assert person_status(person=who, on=LATER, tier=Tier.PUBLIC).status == Status.IMPRISONED
    assert person_status(person=who, on=LATER).status == Status.DECEASED
    assert statistics_on(as_of=LATER, tier=Tier.PUBLIC).in_custody == 1
    assert statistics_on(as_of=LATER, tier=Tier.STAFF).in_custody == 0


def test_statistics_equal_the_selectors_for_every_tier():
    """Hidden ends, cut placements, a later arrest, a draft death and a leg dated by a draft
    release: the counted figures equal the ORM's, tier by tier, and a rebuild."""
    from tests.events.test_statistics import assert_incremental_equals_rebuild, assert_matches_orm

    by, lt = country("BY"), country("LT")
    colony = Place.objects.filter(kind__in=Place.FACILITY_KINDS).order_by("id").first()
    who, ep = held_with_release(Visibility.RESEARCHER)
    Release.objects.filter(episode=ep).delete()
    services.placement_add(
        episode=ep, kind=CustodyPlacement.Kind.COLONY, started_on=D(2021, 9, 2), facility=colony
    )
    release = services.release_record(
        episode=ep, released_on=D(2023, 12, 31), kind=Release.Kind.DEAL, visibility="researcher"
    )
    Transfer.objects.create(
        person=who,
        release=release,
        from_country=by,
        to_country=lt,
        transferred_on_precision="unknown",
        visibility=Visibility.PUBLIC,
    )
    episode(who, arrested_on=D(2024, 6, 30))
    dying = person("Tiered Death", visibility=Visibility.PUBLIC)
    last = episode(dying, arrested_on=D(2020, 1, 1))
    services.placement_add(
        episode=last, kind=CustodyPlacement.Kind.COLONY, started_on=D(2020, 2, 1), facility=colony
    )
    services.death_record(
        person=dying, died_on=D(2024, 1, 1), episode=last, visibility=Visibility.DRAFT
    )
    assert_matches_orm()
    assert_incremental_equals_rebuild()


# --- one path for a person's status ---------------------------------------------------------


def statement(who: Person, tier: Tier) -> tuple:
    """What the compiled status statement says (the rule for any day and tier)."""
    from events import selectors

    today = timezone.localdate()
    (row,) = selectors._status_statement(today, tier).dicts(who.pk)
    return tuple(row.values())


def as_tuple(status) -> tuple:
    return (
        status.status,
        status.country_id,
        status.place_id,
        status.days_in_detention,
        status.expected_end,
    )


def test_public_status_today_from_the_listing_row_is_the_statement(demo):
    """For the public today, ``person_status`` reads a published person's listing row; it says
    what the statement says, also right after a write in the same transaction."""
    for who in Person.objects.filter(visibility=Visibility.PUBLIC):
        assert as_tuple(person_status(person=who, tier=Tier.PUBLIC)) == statement(who, Tier.PUBLIC)
    who, ep = held_with_release()  # a draft release: still held for the public
    assert as_tuple(person_status(person=who, tier=Tier.PUBLIC)) == statement(who, Tier.PUBLIC)
    assert person_status(person=who, tier=Tier.PUBLIC).status == Status.IMPRISONED
    publish(Release.objects.get(episode=ep))  # not committed: the row follows at once
    assert person_status(person=who, tier=Tier.PUBLIC).status == Status.RELEASED
    assert as_tuple(person_status(person=who, tier=Tier.PUBLIC)) == statement(who, Tier.PUBLIC)


def test_public_status_of_an_unpublished_person_is_computed_for_the_public():
    """A researcher-only person's listing row is derived for researchers: the public status is
    computed from the public records instead."""
    who = person("Researcher Person", visibility=Visibility.RESEARCHER)
    ep = episode(who, arrested_on=ARREST)
    services.release_record(
        episode=ep,
        released_on=RELEASE,
        kind=Release.Kind.PARDON,
        visibility=Visibility.RESEARCHER,
    )
    assert row(who).status == Status.RELEASED  # the researchers' derivation
    assert person_status(person=who, tier=Tier.PUBLIC).status != Status.RELEASED
    assert as_tuple(person_status(person=who, tier=Tier.PUBLIC)) == statement(who, Tier.PUBLIC)


def test_search_statuses_for_the_public_are_the_public_derivation(demo):
    from prisoners.search import _statuses

    today = timezone.localdate()
    who, _ep = held_with_release()
    ids = list(Person.objects.filter(visibility=Visibility.PUBLIC).values_list("pk", flat=True))
    expected = dict(
        with_status(Person.objects.filter(pk__in=ids), today, Tier.PUBLIC).values_list(
            "pk", "status"
        )
    )
    assert _statuses(ids, today, Tier.PUBLIC) == expected
    assert expected[who.pk] == Status.IMPRISONED
