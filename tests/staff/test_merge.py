"""Likely duplicates and the merge of two persons (staff pages).

Duplicates: persons whose names are spelled alike in any language or scheme (Belarusian
"Калеснікава" and Russian "Колесникова" share a skeleton), scored with birth years, arrests and
identifiers; a dismissed pair is not suggested again. Merge: every record of the merged person
moves to the survivor in one audited transaction; a refusal of the database changes nothing.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pghistory.models
import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import connection, models
from django.test import Client
from django.urls import reverse

from events import services as ev
from events.models import (
    Charge,
    Citation,
    Claim,
    CourtDecision,
    CriminalArticle,
    CustodyPlacement,
    Death,
    DetentionEpisode,
    IncommunicadoPeriod,
    Release,
    Transfer,
)
from prisoners.audit import audit_context
from prisoners.errors import ApplicationError
from prisoners.models import (
    Affiliation,
    AtRiskFlag,
    Country,
    DatePrecision,
    ExternalIdentifier,
    NameVariant,
    Organisation,
    Person,
    PersonBiography,
    PersonCitizenship,
    PersonListing,
    Recognition,
    Visibility,
)
from prisoners.services import person_create
from prisoners.staff.duplicates import likely_duplicates
from prisoners.staff.merge import MERGE_MERGED, MERGE_SELF, MERGE_TWO_DEATHS, persons_merge
from prisoners.staff.models import DuplicateDismissal
from tests.staff.helpers import make_user, verified_client

pytestmark = pytest.mark.django_db

DUPLICATES = reverse("staff:duplicates")
DISMISS = reverse("staff:duplicates-dismiss")
MERGE = reverse("staff:merge")


def by(code: str) -> Country:
    return Country.objects.get(code=code)


def events_of(obj: models.Model) -> list[Any]:
    return list(pghistory.models.Events.objects.tracks(obj).order_by("pgh_id"))


def suggested(*, groups: int = 3, window: int = 40) -> set[tuple[int, int]]:
    """Every pair suggested, over all pages (small pages, to walk several)."""
    found: list[tuple[int, int]] = []
    after = ""
    for _ in range(100):
        page = likely_duplicates(after=after, groups=groups, window=window)
        found += [(p.one.pk, p.other.pk) for p in page.pairs]
        if page.next_after is None:
            assert len(found) == len(set(found)), "a pair suggested twice"
            return set(found)
        after = page.next_after
    pytest.fail("more than 100 pages")


@pytest.fixture
def people(editor: Any) -> dict[str, Person]:
    with audit_context(user=editor, reason="entered"):
        return {
            "be": person_create(
                name="Maryia Kalesnikava",
                name_be="Марыя Калеснікава",
                birth_date=dt.date(1982, 4, 24),
            ),
            "ru": person_create(
                name="Mariya Kolesnikova",
                name_ru="Мария Колесникова",
                birth_date=dt.date(1982, 1, 1),
                birth_date_precision=DatePrecision.YEAR,
            ),
            "older": person_create(
                name="Maryia Kalesnikava",
                name_be="Марыя Калеснікава",
                birth_date=dt.date(1950, 1, 1),
                birth_date_precision=DatePrecision.YEAR,
            ),
            "other": person_create(
                name="Ihar Losik", name_be="Ігар Лосік", birth_date=dt.date(1982, 1, 1)
            ),
        }


def pair(one: Person, other: Person) -> tuple[int, int]:
    return (min(one.pk, other.pk), max(one.pk, other.pk))


# --- Likely duplicates ---------------------------------------------------------------------------


def test_belarusian_and_russian_spellings_born_the_same_year_are_suggested(people):
    found = suggested()
    assert pair(people["be"], people["ru"]) in found
    # Different persons: another name, or the same name with another birth year.
    assert not {p for p in found if people["other"].pk in p}
    assert pair(people["be"], people["older"]) not in found
    assert pair(people["ru"], people["older"]) not in found


def test_small_pages_suggest_what_one_large_page_does(people):
    with audit_context(reason="more names"):
        for n in range(12):
            person_create(name=f"Test Person {n}", name_be=f"Тэст Асоба {n % 4}")
    everything = suggested(groups=1000, window=100_000)
    assert len(everything) > 4
    assert suggested(groups=1, window=25) == everything
    first = likely_duplicates(groups=1, window=25)
    assert first.next_after is not None


def test_the_page_shows_why_and_sorts_by_score(people, editor_client):
    with audit_context(reason="test"):
        ev.episode_open(person=people["be"], country=by("BY"), arrested_on=dt.date(2020, 9, 7))
        ev.episode_open(person=people["ru"], country=by("BY"), arrested_on=dt.date(2020, 9, 7))
        ExternalIdentifier.objects.create(person=people["be"], scheme="viasna", value="1234")
        ExternalIdentifier.objects.create(person=people["ru"], scheme="import", value="1234")
    page = editor_client.get(DUPLICATES)
    assert page.status_code == 200
    text = page.content.decode()
    assert "Maryia Kalesnikava" in text
    assert "Mariya Kolesnikova" in text
    assert "Born the same year: 1982" in text
    assert "Arrested on the same day: 2020-09-07" in text
    assert "Same identifier in another list: 1234" in text
    assert "Ihar Losik" not in text
    # An editor may list and dismiss, not merge.
    assert "Compare and merge" not in text
    assert "Not the same person" in text


def test_merged_persons_are_not_suggested(people, reviewer):
    persons_merge(merged=people["ru"], survivor=people["be"], user=reviewer, reason="same person")
    assert not {p for p in suggested() if people["ru"].pk in p}


def test_dismissing_hides_the_pair_with_reason_and_history(people, editor, editor_client):
    one, other = people["ru"], people["be"]
    form = editor_client.get(f"{DISMISS}?a={one.pk}&b={other.pk}")
    assert form.status_code == 200
    refused = editor_client.post(f"{DISMISS}?a={one.pk}&b={other.pk}", {"a": one.pk, "b": other.pk})
    assert refused.status_code == 200
    assert "Give the reason" in refused.content.decode()
    response = editor_client.post(
        DISMISS, {"a": one.pk, "b": other.pk, "reason": "Two sisters, checked with the family"}
    )
    assert response.status_code == 302
    dismissal = DuplicateDismissal.objects.get()
    assert (dismissal.person_low_id, dismissal.person_high_id) == pair(one, other)
    assert dismissal.reason == "Two sisters, checked with the family"
    assert dismissal.dismissed_by == editor
    [insert] = events_of(dismissal)
    assert insert.pgh_context["reason"] == "Two sisters, checked with the family"
    assert insert.pgh_context["user"] == editor.pk
    assert pair(one, other) not in suggested()
    assert "Mariya Kolesnikova" not in editor_client.get(DUPLICATES).content.decode()
    again = editor_client.post(DISMISS, {"a": other.pk, "b": one.pk, "reason": "again"})
    assert again.status_code == 200
    assert DuplicateDismissal.objects.count() == 1


# --- Merge ---------------------------------------------------------------------------------------


def person_records(person: Person) -> dict[str, int]:
    """Rows of every kind that belongs to a person, and the facts cited about them."""
    person_type = ContentType.objects.get_for_model(Person)
    episodes = DetentionEpisode.objects.filter(person=person)
    return {
        "episodes": episodes.count(),
        "charges": Charge.objects.filter(episode__in=episodes).count(),
        "decisions": CourtDecision.objects.filter(episode__in=episodes).count(),
        "placements": CustodyPlacement.objects.filter(person=person).count(),
        "incommunicado": IncommunicadoPeriod.objects.filter(episode__in=episodes).count(),
        "releases": Release.objects.filter(episode__in=episodes).count(),
        "transfers": Transfer.objects.filter(person=person).count(),
        "deaths": Death.objects.filter(person=person).count(),
        "names": NameVariant.objects.filter(person=person).count(),
        "identifiers": ExternalIdentifier.objects.filter(person=person).count(),
        "biographies": PersonBiography.objects.filter(person=person).count(),
        "citizenships": PersonCitizenship.objects.filter(person=person).count(),
        "recognitions": Recognition.objects.filter(person=person).count(),
        "flags": AtRiskFlag.objects.filter(person=person).count(),
        "affiliations": Affiliation.objects.filter(person=person).count(),
        "person citations": Citation.objects.filter(
            content_type=person_type, object_id=person.pk
        ).count(),
        "person claims": Claim.objects.filter(
            content_type=person_type, object_id=person.pk
        ).count(),
    }


@pytest.fixture
def story(people: dict[str, Person]) -> dict[str, Any]:
    """A survivor and a duplicate with one record of every kind, some already on both."""
    survivor, merged = people["be"], people["ru"]
    viasna = Organisation.objects.create(name="Viasna", kind="human_rights")
    band = Organisation.objects.create(name="Babaryka campaign", kind="party")
    source = ev.source_get_or_create(title="Viasna list", url="https://example.org/list")
    other_source = ev.source_get_or_create(title="A report", url="https://example.org/report")
    article = CriminalArticle.objects.order_by("pk")[0]
    with audit_context(reason="setup"):
        for person in (survivor, merged):
            Person.objects.filter(pk=person.pk).update(visibility=Visibility.PUBLIC)
            person.refresh_from_db()
        # Survivor: an open episode from 2021, a free transfer leg, a Russian biography,
        # Belarusian citizenship, a cited and claimed birth date.
        ev.episode_open(person=survivor, country=by("BY"), arrested_on=dt.date(2021, 1, 10))
        ev.transfer_add(person=survivor, from_country=by("BY"), to_country=by("LT"))
        PersonBiography.objects.create(person=survivor, language="ru", text="Музыкант.")
        PersonCitizenship.objects.create(person=survivor, country=by("BY"))
        ev.cite(obj=survivor, source=source, field_name="birth_date")
        ev.claim_add(obj=survivor, field_name="occupation", value="flautist", source=source)
        Claim.objects.filter(object_id=survivor.pk).update(accepted=True)
        # Merged: a closed episode in 2020 with everything in it, and every person record.
        episode = ev.episode_open(person=merged, country=by("BY"), arrested_on=dt.date(2020, 8, 1))
        ev.charge_add(episode=episode, article=article, charged_on=dt.date(2020, 8, 2))
        ev.court_decision_add(
            episode=episode, kind="sentence", decided_on=dt.date(2020, 11, 1), term_years=1
        )
        ev.placement_add(episode=episode, kind="pre_trial", started_on=dt.date(2020, 8, 1))
        ev.incommunicado_add(episode=episode, started_on=dt.date(2020, 9, 1))
        release = ev.release_record(
            episode=episode, released_on=dt.date(2020, 12, 1), kind="pardon"
        )
        ev.transfer_add(person=merged, release=release, from_country=by("BY"), to_country=by("PL"))
        ev.transfer_add(person=merged, from_country=by("BY"), to_country=by("UA"))
        ev.death_record(person=merged, died_on=dt.date(2024, 1, 1))
        ExternalIdentifier.objects.create(person=merged, scheme="viasna", value="4321")
        PersonBiography.objects.create(person=merged, language="be", text="Музыкантка.")
        PersonBiography.objects.create(person=merged, language="ru", text="Флейтистка.")
        PersonCitizenship.objects.create(person=merged, country=by("BY"))
        PersonCitizenship.objects.create(person=merged, country=by("UA"))
        Recognition.objects.create(person=merged, organisation=viasna)
        AtRiskFlag.objects.create(person=merged, kind="family")
        Affiliation.objects.create(person=merged, organisation=band, role="coordinator")
        ev.cite(obj=merged, source=source, field_name="birth_date")  # the survivor has it
        ev.cite(obj=merged, source=other_source)
        ev.cite(obj=episode, source=other_source, quote="detained on 1 August")
        ev.claim_add(obj=merged, field_name="occupation", value="musician", source=other_source)
        Claim.objects.filter(object_id=merged.pk).update(accepted=True)
        third = person_create(name="Maria K.", visibility=Visibility.PUBLIC)
        Person.objects.filter(pk=third.pk).update(merged_into=merged)
    return {"survivor": survivor, "merged": merged, "episode": episode, "third": third}


def test_merge_page_compares_and_moves_every_record_with_history(story, reviewer, reviewer_client):
    survivor, merged = story["survivor"], story["merged"]
    before = {"survivor": person_records(survivor), "merged": person_records(merged)}
    moving = [
        obj
        for model in (
            DetentionEpisode,
            CustodyPlacement,
            Transfer,
            Death,
            ExternalIdentifier,
            Recognition,
            AtRiskFlag,
            Affiliation,
        )
        for obj in model._default_manager.filter(person=merged)
    ]
    url = f"{MERGE}?a={survivor.pk}&b={merged.pk}"
    page = reviewer_client.get(url)
    assert page.status_code == 200
    text = page.content.decode()
    assert "Maryia Kalesnikava" in text
    assert "Mariya Kolesnikova" in text
    assert "Born the same year: 1982" in text

    refused = reviewer_client.post(url, {"a": survivor.pk, "b": merged.pk, "survivor": "a"})
    assert refused.status_code == 200
    assert "Give the reason" in refused.content.decode()
    assert Person.objects.get(pk=merged.pk).merged_into_id is None

    response = reviewer_client.post(
        url, {"a": survivor.pk, "b": merged.pk, "survivor": "a", "reason": "Same passport number"}
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("staff:review-detail", args=["person", survivor.pk])

    merged.refresh_from_db()
    assert merged.merged_into == survivor
    after = {"survivor": person_records(survivor), "merged": person_records(merged)}
    # Kept with the merged record: what the survivor already has in the same form.
    kept = {
        "names": 0,
        "biographies": 1,  # Russian
        "citizenships": 1,  # Belarusian
        "person citations": 1,  # the same source for the birth date
    }
    for kind, count in before["merged"].items():
        assert after["merged"][kind] == kept.get(kind, 0), kind
        expected = before["survivor"][kind] + count - kept.get(kind, 0)
        if kind == "names":
            # Spellings both have ("Maria Kolesnikova" in GOST) stay with the merged record.
            expected = before["survivor"][kind] + count - after["merged"][kind]
        assert after["survivor"][kind] == expected, kind
    assert after["survivor"]["episodes"] == 2
    assert after["survivor"]["charges"] == 1
    assert after["survivor"]["person claims"] == 2
    # The survivor's accepted claim stays accepted; the moved one sits beside it.
    person_type = ContentType.objects.get_for_model(Person)
    claims = Claim.objects.filter(content_type=person_type, object_id=survivor.pk)
    assert [c.value for c in claims.filter(accepted=True)] == ["flautist"]
    # The citation of the moved episode still points at it (its id did not change).
    assert Citation.objects.filter(object_id=story["episode"].pk, quote__startswith="detained")
    # Legs after no release continue the survivor's own.
    assert sorted(
        Transfer.objects.filter(person=survivor, release=None).values_list("sequence", flat=True)
    ) == [1, 2]
    # A person merged into the merged one now leads straight to the survivor.
    assert Person.objects.get(pk=story["third"].pk).merged_into == survivor

    # History: every moved record has an update with the user and the reason.
    for obj in [*moving, merged]:
        last = events_of(obj)[-1]
        assert last.pgh_label == "update", obj
        assert last.pgh_context["reason"] == "Same passport number", obj
        assert last.pgh_context["user"] == reviewer.pk, obj
    moved_names = NameVariant.objects.filter(person=survivor, text="Мария Колесникова")
    assert events_of(moved_names.get())[-1].pgh_context["reason"] == "Same passport number"


def test_the_old_address_redirects_to_the_published_survivor(story, reviewer):
    survivor, merged = story["survivor"], story["merged"]
    assert Client().get(f"/persons/{merged.pk}/").status_code == 200
    persons_merge(merged=merged, survivor=survivor, user=reviewer, reason="duplicate")
    with connection.cursor() as cursor:
        cursor.execute("SELECT prisoners_listing_flush()")
    listed = PersonListing.objects.filter(person__in=[survivor, merged])
    assert dict(listed.values_list("person_id", "merged_into_id")) == {
        survivor.pk: None,
        merged.pk: survivor.pk,
    }
    response = Client().get(f"/persons/{merged.pk}/")
    assert response.status_code == 301
    assert response["Location"] == f"/persons/{survivor.pk}/"
    assert Client().get(response["Location"]).status_code == 200


def test_overlapping_episodes_refuse_the_merge_and_change_nothing(people, reviewer_client):
    survivor, merged = people["be"], people["ru"]
    with audit_context(reason="setup"):
        ev.episode_open(person=survivor, country=by("BY"), arrested_on=dt.date(2020, 9, 7))
        ev.episode_open(person=merged, country=by("BY"), arrested_on=dt.date(2020, 9, 8))
    before = {"survivor": person_records(survivor), "merged": person_records(merged)}
    history = pghistory.models.Events.objects.count()
    response = reviewer_client.post(
        f"{MERGE}?a={survivor.pk}&b={merged.pk}",
        {"a": survivor.pk, "b": merged.pk, "survivor": "a", "reason": "same person"},
    )
    assert response.status_code == 200
    text = response.content.decode()
    assert "The database refused the merge, nothing was changed" in text
    assert "events_detentionepisode_no_overlap" in text
    assert Person.objects.get(pk=merged.pk).merged_into_id is None
    after = {"survivor": person_records(survivor), "merged": person_records(merged)}
    assert after == before
    assert pghistory.models.Events.objects.count() == history


def test_merging_into_itself_or_a_merged_person_is_refused(people, reviewer, reviewer_client):
    one, other, third = people["be"], people["ru"], people["older"]
    with pytest.raises(ApplicationError) as error:
        persons_merge(merged=one, survivor=one, user=reviewer, reason="x")
    assert error.value.message == str(MERGE_SELF)
    same = reviewer_client.post(MERGE, {"a": one.pk, "b": one.pk, "survivor": "a", "reason": "x"})
    assert "Choose two different persons." in same.content.decode()
    persons_merge(merged=other, survivor=one, user=reviewer, reason="duplicate")
    for merged, survivor in ((third, other), (other, third)):
        with pytest.raises(ApplicationError) as error:
            persons_merge(merged=merged, survivor=survivor, user=reviewer, reason="x")
        assert error.value.message == str(MERGE_MERGED).format(person=other)
    assert Person.objects.get(pk=third.pk).merged_into_id is None


def test_roles(people):
    one, other = people["be"], people["ru"]
    editor = make_user("ed2", "editor")
    editor_client = verified_client(editor)
    assert editor_client.get(DUPLICATES).status_code == 200
    url = f"{MERGE}?a={one.pk}&b={other.pk}"
    assert editor_client.get(url).status_code == 403
    data = {"a": one.pk, "b": other.pk, "survivor": "a", "reason": "x"}
    assert editor_client.post(url, data).status_code == 403
    researcher = make_user("res2", "researcher", device=False)
    client = Client()
    client.force_login(researcher)
    assert client.get(DUPLICATES).status_code == 403
    assert client.post(url, data).status_code == 403
    anonymous = Client()
    assert anonymous.get(DUPLICATES).status_code == 302
    assert anonymous.post(url, data).status_code == 302
    assert Person.objects.get(pk=other.pk).merged_into_id is None


def test_the_merge_page_warns_when_one_name_is_withheld(people, reviewer_client):
    one, other = people["be"], people["ru"]
    Person.objects.filter(pk=other.pk).update(name_withheld=True)
    page = reviewer_client.get(f"{MERGE}?a={one.pk}&b={other.pk}")
    assert "The name of one of them is withheld." in page.content.decode()


def test_two_deaths_refuse_the_merge(people, reviewer):
    one, other = people["be"], people["ru"]
    with audit_context(reason="setup"):
        ev.death_record(person=one, died_on=dt.date(2024, 1, 1))
        ev.death_record(person=other, died_on=dt.date(2024, 1, 2))
    with pytest.raises(ApplicationError) as error:
        persons_merge(merged=other, survivor=one, user=reviewer, reason="duplicate")
    assert error.value.message == str(MERGE_TWO_DEATHS)
    assert Death.objects.filter(person=other).exists()
    assert Person.objects.get(pk=other.pk).merged_into_id is None


def test_the_survivor_keeps_its_fields_and_gets_those_it_lacked(people, reviewer, reviewer_client):
    from prisoners.models import Region
    from prisoners.services import person_update

    survivor, merged = people["be"], people["ru"]
    region, _new = Region.objects.get_or_create(country=by("BY"), name="Minsk Region")
    with audit_context(reason="setup"):
        person_update(person=survivor, occupation="", staff_notes="Checked with the family.")
        person_update(
            person=merged,
            occupation="flautist",
            gender=Person.Gender.FEMALE,
            home_region=region,
            letter_address="Гомель, ИК-4",
            staff_notes="Lawyer: M. Ivanova.",
        )
    url = f"{MERGE}?a={survivor.pk}&b={merged.pk}"
    response = reviewer_client.post(
        url,
        {"a": survivor.pk, "b": merged.pk, "survivor": "a", "reason": "Same person"},
        follow=True,
    )
    assert response.status_code == 200
    survivor.refresh_from_db()
    # Its own birth date (a day) stays; the merged one's (a year) does not replace it.
    assert (survivor.birth_date, survivor.birth_date_precision) == (dt.date(1982, 4, 24), "day")
    assert survivor.occupation == "flautist"
    assert survivor.gender == Person.Gender.FEMALE
    assert survivor.home_region == region
    assert survivor.letter_address == "Гомель, ИК-4"
    assert survivor.staff_notes == (
        f"Checked with the family.\n\nFrom the merged record #{merged.pk}:\nLawyer: M. Ivanova."
    )
    assert not survivor.photo  # none on either side
    text = response.content.decode()
    assert (
        "Filled in from the merged record, where the survivor had nothing: "
        "gender, home region, occupation, letter address, staff notes." in text
    )
    last = events_of(survivor)[-1]
    assert last.pgh_context["reason"] == "Same person"
    assert last.pgh_context["user"] == reviewer.pk
    merged.refresh_from_db()
    assert merged.occupation == "flautist"  # the merged record keeps its own values
