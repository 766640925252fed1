"""The database refuses what cannot be true, whoever writes (service, admin, bulk or raw SQL)."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction

from events import services
from events.models import (
    Claim,
    CourtDecision,
    CustodyPlacement,
    DetentionEpisode,
    Release,
    Transfer,
)
from events.selectors import person_status
from prisoners.models import DatePrecision, ExternalIdentifier, Person, Place
from tests.events.factories import country, episode, person

pytestmark = pytest.mark.django_db

D = dt.date


def refused(call, *args, **kwargs):  # type: ignore[no-untyped-def]
    """The call is refused, and the transaction stays usable."""
    with pytest.raises((ValidationError, IntegrityError)) as info, transaction.atomic():
        call(*args, **kwargs)
    return str(info.value)


def facility() -> Place:
    return Place.objects.filter(kind=Place.Kind.PRE_TRIAL).first()  # type: ignore[return-value]


def test_placements_of_a_person_cannot_overlap():
    ep = episode(arrested_on=D(2021, 1, 10))
    services.placement_add(
        episode=ep,
        kind="pre_trial",
        started_on=D(2021, 1, 10),
        ended_on=D(2021, 6, 1),
        facility=facility(),
    )
    message = refused(services.placement_add, episode=ep, kind="colony", started_on=D(2021, 5, 1))
    assert "overlap" in message.lower() or "no_overlap" in message
    # Touching ranges are fine: the second placement starts the day the first ended.
    services.placement_add(episode=ep, kind="colony", started_on=D(2021, 6, 1))


def test_overlap_is_refused_by_the_database_itself_not_only_by_validation():
    ep = episode(arrested_on=D(2021, 1, 10))
    CustodyPlacement.objects.create(
        episode=ep, person=ep.person, kind="pre_trial", started_on=D(2021, 2, 1)
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        CustodyPlacement.objects.bulk_create(
            [
                CustodyPlacement(
                    episode=ep, person=ep.person, kind="colony", started_on=D(2022, 1, 1)
                )
            ]
        )


def test_placement_must_belong_to_the_episode_person_and_start_after_arrest():
    ep = episode(arrested_on=D(2021, 1, 10))
    other = person("Someone Else")
    with pytest.raises(IntegrityError, match="person of its episode"), transaction.atomic():
        CustodyPlacement.objects.create(
            episode=ep, person=other, kind="pre_trial", started_on=D(2021, 2, 1)
        )
    message = refused(
        services.placement_add, episode=ep, kind="pre_trial", started_on=D(2020, 12, 1)
    )
    assert "before the arrest" in message


def test_episodes_of_a_person_cannot_overlap_and_a_new_one_starts_after_the_last_ended():
    first = episode(arrested_on=D(2020, 8, 1))
    who = first.person
    # The first episode is open: any later arrest overlaps it.
    refused(services.episode_open, person=who, country=country("BY"), arrested_on=D(2021, 1, 1))
    services.release_record(episode=first, released_on=D(2021, 3, 1), kind="end_of_term")
    # Before the release: still overlapping.
    refused(services.episode_open, person=who, country=country("BY"), arrested_on=D(2021, 2, 1))
    second = services.episode_open(person=who, country=country("BY"), arrested_on=D(2021, 3, 1))
    assert second.pk


def test_release_cannot_precede_the_arrest():
    ep = episode(arrested_on=D(2021, 1, 10))
    message = refused(services.release_record, episode=ep, released_on=D(2021, 1, 9), kind="pardon")
    assert "ended_after_arrest" in message
    assert not Release.objects.exists()
    ep.refresh_from_db()
    assert ep.ended_on is None


def test_release_ends_the_episode_and_closes_open_placements():
    ep = episode(arrested_on=D(2021, 1, 10))
    placement = services.placement_add(
        episode=ep, kind="colony", started_on=D(2021, 3, 1), facility=facility()
    )
    services.release_record(episode=ep, released_on=D(2023, 5, 5), kind="pardon")
    ep.refresh_from_db()
    placement.refresh_from_db()
    assert (ep.ended_on, ep.end_reason) == (D(2023, 5, 5), "release")
    assert placement.ended_on == D(2023, 5, 5)
    Release.objects.filter(episode=ep).delete()
    ep.refresh_from_db()
    assert ep.ended_on is None


def test_ended_episode_refuses_a_placement_beyond_its_end():
    ep = episode(arrested_on=D(2021, 1, 10))
    services.release_record(episode=ep, released_on=D(2022, 1, 1), kind="pardon")
    message = refused(services.placement_add, episode=ep, kind="colony", started_on=D(2021, 6, 1))
    assert "must end when its episode ends" in message


def test_transfer_legs_cross_a_border_follow_the_release_and_are_in_order():
    ep = episode(arrested_on=D(2021, 1, 10))
    release = services.release_record(episode=ep, released_on=D(2025, 12, 13), kind="pardon")
    by, ua, pl = country("BY"), country("UA"), country("PL")
    refused(
        services.transfer_add,
        person=ep.person,
        release=release,
        from_country=by,
        to_country=by,
        transferred_on=D(2025, 12, 13),
    )
    message = refused(
        services.transfer_add,
        person=ep.person,
        release=release,
        from_country=by,
        to_country=ua,
        transferred_on=D(2025, 12, 1),
    )
    assert "predate the release" in message
    services.transfer_add(
        person=ep.person,
        release=release,
        from_country=by,
        to_country=ua,
        transferred_on=D(2025, 12, 13),
    )
    message = refused(
        services.transfer_add,
        person=ep.person,
        release=release,
        from_country=ua,
        to_country=pl,
        transferred_on=D(2025, 12, 12),
    )
    assert "date order" in message or "predate" in message
    leg = services.transfer_add(
        person=ep.person,
        release=release,
        from_country=ua,
        to_country=pl,
        transferred_on=D(2025, 12, 20),
    )
    assert leg.sequence == 2
    with pytest.raises(IntegrityError), transaction.atomic():
        Transfer.objects.create(
            person=ep.person, release=release, sequence=2, from_country=ua, to_country=pl
        )


def test_court_decision_and_charge_cannot_predate_the_arrest():
    ep = episode(arrested_on=D(2021, 1, 10))
    message = refused(
        services.court_decision_add,
        episode=ep,
        kind="sentence",
        decided_on=D(2020, 1, 1),
        term_years=3,
    )
    assert "predate the arrest" in message
    with pytest.raises(ValidationError):
        services.court_decision_add(
            episode=ep, kind="sentence", decided_on=D(2021, 5, 1), term_months=14
        )
    with pytest.raises(IntegrityError), transaction.atomic():
        CourtDecision.objects.create(episode=ep, kind="extension", decided_on=D(2021, 5, 1))


def test_choices_partial_dates_and_consent_are_enforced_in_the_database():
    who = person("Choice Test")
    with connection.cursor() as cursor:
        for statement in (
            "UPDATE prisoners_person SET gender = 'robot' WHERE id = %s",
            "UPDATE prisoners_person SET visibility = 'everyone' WHERE id = %s",
            "UPDATE prisoners_person SET birth_date = NULL, birth_date_precision = 'day' WHERE id = %s",
            "UPDATE prisoners_person SET photo = 'photos/x.jpg', photo_consent = false WHERE id = %s",
            "UPDATE prisoners_person SET merged_into_id = id WHERE id = %s",
        ):
            with pytest.raises(IntegrityError), transaction.atomic():
                cursor.execute(statement, [who.pk])
    ep = episode(who, arrested_on=None)
    assert ep.arrested_on_precision == DatePrecision.UNKNOWN


def test_identifiers_in_other_lists_are_unique():
    a, b = person("A Person"), person("B Person")
    ExternalIdentifier.objects.create(person=a, scheme="viasna", value="1234")
    with pytest.raises(IntegrityError), transaction.atomic():
        ExternalIdentifier.objects.create(person=b, scheme="viasna", value="1234")


def test_only_one_claim_per_field_is_accepted(demo):
    ep = DetentionEpisode.objects.get(person__name="Maryia Kalesnikava")
    source_a = services.source_get_or_create(title="Report A", url="https://example.org/a")
    source_b = services.source_get_or_create(title="Report B", url="https://example.org/b")
    claim_a = services.claim_add(
        obj=ep, field_name="arrested_on", value="2020-09-07", source=source_a
    )
    claim_b = services.claim_add(
        obj=ep, field_name="arrested_on", value="2020-09-08", source=source_b
    )
    services.claim_accept(claim=claim_a)
    ep.refresh_from_db()
    assert ep.arrested_on == D(2020, 9, 7)
    services.claim_accept(claim=claim_b)
    ep.refresh_from_db()
    assert ep.arrested_on == D(2020, 9, 8)
    assert list(Claim.objects.for_object(ep).values_list("accepted", flat=True)) == [True, False]
    with pytest.raises(IntegrityError), transaction.atomic():
        Claim.objects.filter(pk=claim_a.pk).update(accepted=True)


def test_death_in_custody_ends_the_episode():
    ep = episode(arrested_on=D(2021, 1, 10))
    services.death_record(person=ep.person, died_on=D(2022, 2, 2), episode=ep)
    ep.refresh_from_db()
    assert (ep.ended_on, ep.end_reason) == (D(2022, 2, 2), "death")
    assert Person.objects.filter(death__in_custody=True).count() == 1


def test_deleting_a_death_in_custody_reopens_the_episode():
    ep = episode(arrested_on=D(2021, 1, 10))
    death = services.death_record(person=ep.person, died_on=D(2022, 2, 2), episode=ep)
    assert person_status(person=ep.person, on=D(2022, 3, 1)).status == "deceased"
    death.delete()
    ep.refresh_from_db()
    assert (ep.ended_on, ep.end_reason, ep.end_level) == (None, "", None)
    assert person_status(person=ep.person, on=D(2022, 3, 1)).status != "deceased"


def test_arrest_date_cannot_move_after_the_episode_events():
    ep = episode(arrested_on=D(2021, 1, 10))
    services.placement_add(
        episode=ep, kind="pre_trial", started_on=D(2021, 1, 10), facility=facility()
    )
    with pytest.raises(IntegrityError, match="cannot move after events"), transaction.atomic():
        DetentionEpisode.objects.filter(pk=ep.pk).update(arrested_on=D(2021, 2, 1))
    DetentionEpisode.objects.filter(pk=ep.pk).update(arrested_on=D(2021, 1, 1))  # earlier is fine
