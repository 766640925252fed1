"""Status, place, days and expected end are derived from the events, for any date."""

import datetime as dt

import pytest

from events import services
from events.models import DetentionEpisode, ReleaseDeal
from events.selectors import Status, count_in_custody, person_status, statuses_on, with_status
from prisoners.models import Country, Person, Place
from tests.events.factories import country, episode

pytestmark = pytest.mark.django_db

D = dt.date


def status(name: str, on: dt.date) -> str:
    return person_status(person=Person.objects.get(name=name), on=on).status


@pytest.mark.parametrize(
    ("name", "on", "expected"),
    [
        ("Maryia Kalesnikava", D(2019, 12, 31), Status.NOT_DETAINED),
        ("Maryia Kalesnikava", D(2020, 1, 1), Status.IMPRISONED),
        ("Maryia Kalesnikava", D(2025, 12, 12), Status.IMPRISONED),
        ("Maryia Kalesnikava", D(2025, 12, 13), Status.EXPELLED),
        ("Maryia Kalesnikava", D(2025, 12, 14), Status.EXPELLED),
        ("Ales Bialiatski", D(2025, 12, 12), Status.IMPRISONED),
        ("Ales Bialiatski", D(2025, 12, 14), Status.EXPELLED),
        ("Viktar Babaryka", D(2025, 12, 12), Status.IMPRISONED),
        ("Viktar Babaryka", D(2025, 12, 14), Status.RELEASED),
        ("Maryna Zolatava", D(2025, 12, 12), Status.IMPRISONED),
        ("Maryna Zolatava", D(2025, 12, 13), Status.RELEASED),
        ("Siarhei Tsikhanouski", D(2020, 8, 8), Status.NOT_DETAINED),
        ("Siarhei Tsikhanouski", D(2020, 8, 9), Status.IMPRISONED),
        ("Siarhei Tsikhanouski", D(2025, 12, 13), Status.IMPRISONED),
        ("Siarhei Tsikhanouski", D(2025, 12, 14), Status.RELEASED),
        ("Julia Fenner", D(2024, 2, 29), Status.NOT_DETAINED),
        ("Julia Fenner", D(2024, 3, 1), Status.IMPRISONED),
        ("Julia Fenner", D(2025, 12, 14), Status.IMPRISONED),
    ],
)
def test_status_around_each_seed_event(demo, name, on, expected):
    assert status(name, on) == expected


def test_kalesnikava_is_in_ukraine_after_the_deal_and_in_belarus_before(demo):
    who = Person.objects.get(name="Maryia Kalesnikava")
    before = person_status(person=who, on=D(2025, 12, 12))
    after = person_status(person=who, on=D(2025, 12, 14))
    assert Country.objects.get(pk=before.country_id).code == "BY"
    assert Country.objects.get(pk=after.country_id).code == "UA"
    assert after.label == "Released and expelled abroad"


def test_bialiatski_transfer_ends_in_vilnius_lithuania(demo):
    after = person_status(person=Person.objects.get(name="Ales Bialiatski"), on=D(2025, 12, 14))
    assert Country.objects.get(pk=after.country_id).code == "LT"
    assert Place.objects.get(pk=after.place_id).name == "Vilnius"


def test_count_in_custody_on_dates_around_the_deal(demo):
    assert count_in_custody(on=D(2025, 12, 12)) == 6
    assert count_in_custody(on=D(2025, 12, 13)) == 2  # Tsikhanouski (released by the 14th), Fenner
    assert count_in_custody(on=D(2025, 12, 14)) == 1
    counts = statuses_on(on=D(2025, 12, 14))
    assert counts[Status.EXPELLED] == 2
    assert counts[Status.RELEASED] == 3
    assert counts[Status.IMPRISONED] == 1


def test_days_in_detention_count_every_episode_up_to_the_date():
    ep = episode(arrested_on=D(2020, 1, 1))
    services.release_record(episode=ep, released_on=D(2020, 1, 31), kind="pardon")
    services.episode_open(person=ep.person, country=country("BY"), arrested_on=D(2021, 1, 1))
    assert person_status(person=ep.person, on=D(2020, 1, 11)).days_in_detention == 10
    assert person_status(person=ep.person, on=D(2020, 6, 1)).days_in_detention == 30
    assert person_status(person=ep.person, on=D(2021, 1, 11)).days_in_detention == 40
    assert person_status(person=ep.person, on=D(2021, 1, 11)).status == Status.IMPRISONED


def test_pre_trial_until_sentenced_then_imprisoned_with_expected_end():
    ep = episode(arrested_on=D(2021, 5, 10))
    pre_trial = Place.objects.filter(kind=Place.Kind.PRE_TRIAL).first()
    services.placement_add(
        episode=ep,
        kind="pre_trial",
        started_on=D(2021, 5, 10),
        ended_on=D(2022, 2, 1),
        facility=pre_trial,
    )
    assert person_status(person=ep.person, on=D(2021, 6, 1)).status == Status.PRE_TRIAL
    sentence = services.court_decision_add(
        episode=ep, kind="sentence", decided_on=D(2022, 1, 20), term_years=5
    )
    got = person_status(person=ep.person, on=D(2022, 1, 21))
    assert got.status == Status.IMPRISONED
    assert got.expected_end == D(2026, 5, 10)
    # An appeal replaces the term; an extension adds to it.
    services.court_decision_add(
        episode=ep,
        kind="appeal",
        decided_on=D(2022, 4, 1),
        term_years=4,
        term_months=6,
        amends=sentence,
    )
    assert person_status(person=ep.person).expected_end == D(2025, 11, 10)
    services.court_decision_add(
        episode=ep, kind="extension", decided_on=D(2024, 1, 1), term_years=1, amends=sentence
    )
    assert person_status(person=ep.person).expected_end == D(2026, 11, 10)


def test_charges_without_sentence_mean_pre_trial():
    from events.models import CriminalArticle

    ep = episode(arrested_on=D(2023, 1, 1))
    assert person_status(person=ep.person, on=D(2023, 2, 1)).status == Status.IMPRISONED
    services.charge_add(episode=ep, article=CriminalArticle.objects.get(number="342"))
    assert person_status(person=ep.person, on=D(2023, 2, 1)).status == Status.PRE_TRIAL


def test_house_arrest_and_death():
    ep = episode(arrested_on=D(2023, 1, 1))
    services.placement_add(episode=ep, kind="house_arrest", started_on=D(2023, 1, 1))
    assert person_status(person=ep.person, on=D(2023, 2, 1)).status == Status.HOUSE_ARREST
    other = episode(arrested_on=D(2022, 1, 1))
    services.death_record(person=other.person, died_on=D(2024, 4, 4), episode=other)
    assert person_status(person=other.person, on=D(2024, 4, 3)).status == Status.IMPRISONED
    assert person_status(person=other.person, on=D(2024, 4, 4)).status == Status.DECEASED
    assert (
        count_in_custody(on=D(2024, 4, 4), persons=Person.objects.filter(pk=other.person_id)) == 0
    )


def test_person_without_episodes_is_unknown_and_listing_annotation_matches(demo):
    services_person = Person.objects.create(name="Nobody Known")
    assert person_status(person=services_person).status == Status.UNKNOWN
    rows = dict(with_status(Person.objects.all(), D(2025, 12, 14)).values_list("name", "status"))
    assert rows["Maryia Kalesnikava"] == Status.EXPELLED
    assert rows["Nobody Known"] == Status.UNKNOWN


def test_the_deal_reports_123_with_its_breakdown(demo):
    deal = ReleaseDeal.objects.get()
    assert deal.reported_total == 123
    breakdown = {
        d.country.code: (d.reported_count, sorted(c.code for c in d.onward_countries.all()))
        for d in deal.destinations.all()
    }
    assert breakdown == {"UA": (114, ["LT", "PL"]), "LT": (9, [])}
    assert sum(count for count, _ in breakdown.values()) == deal.reported_total
    assert DetentionEpisode.objects.filter(release__deal=deal).count() == 4
