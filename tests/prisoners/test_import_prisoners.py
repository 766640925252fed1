"""CSV import of a prisoner list: ``import_prisoners`` and the admin upload (prisoners.imports)."""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path
from typing import Any

import pghistory.models
import pytest
from django.apps import apps
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client, RequestFactory
from django.urls import NoReverseMatch, reverse

from events import services as event_services
from events.models import (
    Charge,
    Citation,
    CourtDecision,
    CriminalArticle,
    CriminalCode,
    CustodyPlacement,
    DetentionEpisode,
    Release,
    Source,
)
from events.selectors import Status, person_status
from prisoners import imports
from prisoners.audit import audit_context
from prisoners.imports import ROW_ERROR, SUMMARY
from prisoners.models import (
    Country,
    DatePrecision,
    ExternalIdentifier,
    NameVariant,
    Person,
    Place,
    Visibility,
)
from prisoners.services import person_create
from tests.second_factor import pass_second_factor

pytestmark = pytest.mark.django_db

D = dt.date

HEADER = (
    "name,name_be,name_ru,birth_date,gender,detained_on,articles,facility,status,"
    "external_id,released_on"
)
GOOD = f"""{HEADER}
Maryia Kalesnikava,Марыя Калеснікава,Мария Колесникова,1982-04-24,f,2020-09-07,342; 361-1 ч.1,Colony No. 99 Test,imprisoned,v-1,
,Алесь Бяляцкі,,1962,м,2021-07-14,342,СИЗО-1 Тест,в СИЗО,v-2,
Ihar Losik,,,1992,male,2020-06,342,,released,v-3,2025-09-11
Home Arrested,,,1970,other,2024-03-01,,,house_arrest,v-4,
"""


# --- helpers ---------------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def catalogue() -> dict[str, Any]:
    """The articles and places the files name (the data migrations may hold them already)."""
    by = Country.objects.get(code="BY")
    code, _ = CriminalCode.objects.get_or_create(
        short_name="BY-CC", defaults={"country": by, "name": "Criminal Code of Belarus"}
    )
    for number in ("342", "361-1", "243", "130"):
        CriminalArticle.objects.get_or_create(code=code, number=number)
    places = {
        "sizo": ("pre_trial", "SIZO-1 Test", "", "СИЗО-1 Тест"),
        "colony": ("colony", "Colony No. 99 Test", "Калонія № 99 Тэст", ""),
        "twin_a": ("pre_trial", "Twin Facility", "", ""),
        "twin_b": ("prison", "Twin Facility", "", ""),
    }
    return {
        key: Place.objects.get_or_create(
            country=by, kind=kind, name=name, defaults={"name_be": be, "name_ru": ru}
        )[0]
        for key, (kind, name, be, ru) in places.items()
    }


def event_models() -> list[type[Any]]:
    return [
        model
        for model in apps.get_models()
        if issubclass(model, pghistory.models.Event) and not model._meta.proxy
    ]


def snapshot() -> dict[str, int]:
    """Row counts of what an import may write, history included."""
    counts = {
        model.__name__: model.objects.count()
        for model in (
            Person,
            NameVariant,
            ExternalIdentifier,
            DetentionEpisode,
            Charge,
            CustodyPlacement,
            CourtDecision,
            Release,
            Source,
            Citation,
        )
    }
    counts["events"] = sum(model.objects.count() for model in event_models())
    counts["contexts"] = pghistory.models.Context.objects.count()
    return counts


def write(tmp_path: Path, text: str | bytes, name: str = "list.csv") -> Path:
    path = tmp_path / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def run(path: Path, *args: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("import_prisoners", str(path), *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def run_failing(path: Path, *args: str) -> str:
    out, err = io.StringIO(), io.StringIO()
    with pytest.raises(CommandError, match="nothing was written"):
        call_command("import_prisoners", str(path), *args, stdout=out, stderr=err)
    return err.getvalue()


def summary(created: int = 0, updated: int = 0, unchanged: int = 0) -> str:
    return SUMMARY.format(created=created, updated=updated, unchanged=unchanged)


def row_error(line: int, message: str, **values: Any) -> str:
    return ROW_ERROR.format(line=line, reason=message.format(**values))


def person(external_id: str, scheme: str = "import") -> Person:
    return Person.objects.get(identifiers__scheme=scheme, identifiers__value=external_id)


# --- a good file -----------------------------------------------------------------------------


def test_a_good_file_creates_draft_persons_with_names_and_events(tmp_path, catalogue):
    out, _ = run(write(tmp_path, GOOD))

    assert summary(created=4) in out
    assert Person.objects.count() == 4
    assert set(Person.objects.values_list("visibility", flat=True)) == {Visibility.DRAFT}

    kalesnikava = person("v-1")
    assert kalesnikava.name == "Maryia Kalesnikava"
    assert kalesnikava.gender == Person.Gender.FEMALE
    assert (kalesnikava.birth_date, kalesnikava.birth_date_precision) == (D(1982, 4, 24), "day")
    variants = {v.text: v for v in kalesnikava.name_variants.all()}
    assert variants["Мария Колесникова"].kind == NameVariant.Kind.PRIMARY
    assert variants["Марыя Калеснікава"].language == "be"
    assert variants["Mariya Kolesnikova"].generated  # Russian, Wikipedia scheme
    assert {v.visibility for v in variants.values()} == {Visibility.DRAFT}
    episode = kalesnikava.episodes.get()
    assert (episode.arrested_on, episode.ended_on, episode.country.code) == (
        D(2020, 9, 7),
        None,
        "BY",
    )
    assert episode.visibility == Visibility.DRAFT
    assert set(episode.charges.values_list("article__number", "part")) == {
        ("342", ""),
        ("361-1", "1"),
    }
    placement = episode.placements.get()
    assert (placement.kind, placement.facility, placement.started_on) == (
        CustodyPlacement.Kind.COLONY,
        catalogue["colony"],
        D(2020, 9, 7),
    )
    sentence = episode.court_decisions.get()
    assert (sentence.kind, sentence.decided_on, sentence.term_years) == ("sentence", None, None)
    assert sentence.note == imports.SENTENCE_NOTE
    status = person_status(person=kalesnikava)
    assert (status.status, status.place_id) == (Status.IMPRISONED, catalogue["colony"].pk)

    bialiatski = person("v-2")
    assert bialiatski.name == "Ales Bialiatski"  # Belarusian passport spelling of Алесь Бяляцкі
    assert (bialiatski.birth_date, bialiatski.birth_date_precision) == (D(1962, 1, 1), "year")
    assert bialiatski.gender == Person.Gender.MALE
    assert person_status(person=bialiatski).status == Status.PRE_TRIAL
    assert bialiatski.episodes.get().placements.get().facility == catalogue["sizo"]

    losik = person("v-3")
    episode = losik.episodes.get()
    assert (episode.arrested_on, episode.arrested_on_precision) == (D(2020, 6, 1), "month")
    assert (episode.ended_on, episode.release.kind) == (D(2025, 9, 11), Release.Kind.OTHER)
    assert person_status(person=losik, on=D(2025, 9, 10)).status == Status.PRE_TRIAL
    assert person_status(person=losik, on=D(2025, 9, 11)).status == Status.RELEASED

    assert person_status(person=person("v-4")).status == Status.HOUSE_ARREST

    source = Source.objects.get()
    assert (source.kind, source.title, source.visibility) == ("ngo_list", "list.csv", "draft")
    assert source.content_hash
    cited = Citation.objects.filter(source=source)
    assert cited.for_object(kalesnikava).exists()
    assert cited.for_object(kalesnikava.episodes.get()).exists()
    assert cited.for_object(placement).exists()

    contexts = pghistory.models.Events.objects.filter(
        pgh_obj_model="prisoners.Person", pgh_obj_id=str(kalesnikava.pk)
    )
    assert {e.pgh_context["reason"] for e in contexts} == {"import_prisoners list.csv"}
    assert {e.pgh_context["source"] for e in contexts} == {source.pk}


def test_semicolons_a_bom_and_human_forms_are_read(tmp_path):
    text = (
        "\ufeffName;Name RU;Birth date;Gender;Detained on;Status;Released on;Articles\n"
        "Test One;Тест Один;1980;Ж;2021-05-05;освобождён;2022-01-01;342 part 1\n"
        'Test Two;;1981;муж;2021;"in pre-trial detention";;"130, 342"\n'
    )
    out, _ = run(write(tmp_path, text))
    assert summary(created=2) in out
    one = Person.objects.get(name="Test One")
    assert one.gender == "female"
    assert person_status(person=one).status == Status.RELEASED
    assert one.episodes.get().charges.get().part == "1"
    two = Person.objects.get(name="Test Two")
    assert person_status(person=two).status == Status.PRE_TRIAL
    assert two.episodes.get().charges.count() == 2


def test_unknown_columns_are_a_warning_not_an_error(tmp_path):
    _, err = run(write(tmp_path, "name,shoe size\nTest Person,44\n"))
    assert imports.WARN_UNKNOWN_COLUMNS.format(columns="shoe size") in err
    assert Person.objects.filter(name="Test Person").exists()


# --- re-import -------------------------------------------------------------------------------


def test_reimporting_the_same_file_writes_nothing_not_even_history(tmp_path):
    path = write(tmp_path, GOOD)
    run(path)
    before = snapshot()
    out, _ = run(path)
    assert summary(unchanged=4) in out
    assert snapshot() == before


def test_reimporting_the_same_rows_without_ids_matches_on_names(tmp_path):
    text = "name,birth_date,status,detained_on\nNo Id Person,1990,imprisoned,\n"
    run(write(tmp_path, text))
    before = snapshot()
    reordered = "birth_date,name,status,detained_on\n1990,No Id Person,imprisoned,\n"
    out, _ = run(write(tmp_path, reordered, name="again.csv"))  # another file, same facts
    assert summary(unchanged=1) in out
    assert snapshot() == before  # not even a source for a file that changes nothing


def test_a_changed_row_updates_that_person_only(tmp_path, catalogue):
    run(write(tmp_path, GOOD))
    before = snapshot()
    changed = GOOD.replace(
        ",Алесь Бяляцкі,,1962,м,2021-07-14,342,СИЗО-1 Тест,в СИЗО,v-2,",
        ",Алесь Бяляцкі,,1962-09-25,м,2021-07-14,342;243,СИЗО-1 Тест,imprisoned,v-2,",
    )
    out, _ = run(write(tmp_path, changed, name="list-2.csv"))
    assert summary(updated=1, unchanged=3) in out
    after = snapshot()
    assert after["Person"] == before["Person"]
    assert after["DetentionEpisode"] == before["DetentionEpisode"]
    assert after["Charge"] == before["Charge"] + 1
    assert after["events"] > before["events"]
    bialiatski = person("v-2")
    assert (bialiatski.birth_date, bialiatski.birth_date_precision) == (D(1962, 9, 25), "day")
    assert person_status(person=bialiatski).status == Status.IMPRISONED
    assert set(bialiatski.episodes.get().charges.values_list("article__number", flat=True)) == {
        "342",
        "243",
    }
    new_source = Source.objects.get(title="list-2.csv")
    assert Citation.objects.filter(source=new_source).for_object(bialiatski).exists()


def test_a_new_detention_after_a_release_opens_a_new_episode(tmp_path):
    run(write(tmp_path, GOOD))
    text = f"{HEADER}\nIhar Losik,,,1992,male,2025-10-01,342,,pre_trial,v-3,\n"
    out, _ = run(write(tmp_path, text, name="later.csv"))
    assert summary(updated=1) in out
    losik = person("v-3")
    assert list(losik.episodes.values_list("arrested_on", "ended_on")) == [
        (D(2020, 6, 1), D(2025, 9, 11)),
        (D(2025, 10, 1), None),
    ]
    assert person_status(person=losik).status == Status.PRE_TRIAL


def test_a_more_precise_date_refines_the_episode_and_its_placement(tmp_path, catalogue):
    run(write(tmp_path, "name,detained_on,facility,status\nYear Only,2021,SIZO-1 Test,pre_trial\n"))
    out, _ = run(
        write(tmp_path, "name,detained_on,status\nYear Only,2021-03-04,pre_trial\n", "2.csv")
    )
    assert summary(updated=1) in out
    episode = DetentionEpisode.objects.get(person__name="Year Only")
    assert (episode.arrested_on, episode.arrested_on_precision) == (D(2021, 3, 4), "day")
    assert episode.placements.get().started_on == D(2021, 3, 4)


def test_what_the_list_cannot_say_is_a_warning_and_left_as_is(tmp_path, catalogue):
    run(write(tmp_path, GOOD))
    text = f"""{HEADER},notes,source_url
Maryia Kalesnikava,,,,,2020-09-07,,SIZO-1 Test,pre_trial,v-1,,,
,Алесь Бяляцкі,,,,2021-07-14,,,imprisoned,v-2,,Letters do not reach him.,https://example.org/b
Ihar Losik,,,,,2020-06,,,imprisoned,v-3,,,
Home Arrested,,,,,,,,unknown,v-4,,,
"""
    before = snapshot()
    out, err = run(write(tmp_path, text, name="later.csv"))
    assert summary(updated=1, unchanged=3) in out
    assert (
        imports.WARN_PLACEMENT_DIFFERS.format(
            line=2, wanted="SIZO-1 Test", current="Colony No. 99 Test", since="2020-09-07"
        )
        in err
    )
    assert imports.WARN_SENTENCE_RECORDED.format(line=2) in err
    assert (
        imports.WARN_EPISODE_ENDED.format(
            line=4, status="imprisoned", start="2020-06-01", end="2025-09-11"
        )
        in err
    )
    assert imports.WARN_STATUS_UNKNOWN.format(line=5) not in err  # no detention columns filled
    after = snapshot()
    assert after["DetentionEpisode"] == before["DetentionEpisode"]
    assert after["CustodyPlacement"] == before["CustodyPlacement"]
    bialiatski = person("v-2")
    assert bialiatski.staff_notes == "Letters do not reach him."
    assert person_status(person=bialiatski).status == Status.IMPRISONED
    row_source = Source.objects.get(url="https://example.org/b")
    assert Citation.objects.filter(source=row_source).for_object(bialiatski).exists()


def test_a_facility_fills_in_a_placement_and_house_arrest_after_release(tmp_path, catalogue):
    run(write(tmp_path, "name,detained_on,status\nNo Facility,2021-02-02,pre_trial\n"))
    out, _ = run(
        write(
            tmp_path,
            "name,detained_on,facility,status,released_on\n"
            "No Facility,2021-02-02,SIZO-1 Test,house_arrest,2021-05-05\n",
            name="2.csv",
        )
    )
    assert summary(updated=1) in out
    episode = DetentionEpisode.objects.get(person__name="No Facility")
    placement = episode.placements.get()
    assert (placement.facility, placement.ended_on) == (catalogue["sizo"], D(2021, 5, 5))
    assert episode.release.kind == Release.Kind.HOUSE_ARREST
    assert person_status(person=episode.person).status == Status.HOUSE_ARREST


# --- matching --------------------------------------------------------------------------------


def test_external_id_matches_whatever_the_spelling(tmp_path):
    with audit_context(reason="test"):
        stored = person_create(name="Siarhei Tsikhanouski", name_be="Сяргей Ціханоўскі")
        event_services.record_upsert(
            ExternalIdentifier, {"scheme": "viasna", "value": "123"}, {"person": stored}
        )
    text = "name,external_id,status,detained_on\nSergei Tikhanovsky,123,imprisoned,2020-05-29\n"
    out, _ = run(write(tmp_path, text), "--id-scheme", "viasna")
    assert summary(updated=1) in out
    assert Person.objects.count() == 1
    assert stored.name_variants.filter(text="Sergei Tikhanovsky").exists()
    assert person_status(person=stored).status == Status.IMPRISONED


def test_latin_name_and_birth_year_match_a_person_stored_in_cyrillic(tmp_path):
    with audit_context(reason="test"):
        stored = person_create(
            name="Maryia Kalesnikava",
            name_be="Марыя Калеснікава",
            name_ru="Мария Колесникова",
            birth_date=D(1982, 4, 24),
            visibility=Visibility.PUBLIC,
        )
    text = "name,birth_date,detained_on,status\nMariya Kolesnikova,1982,2020-09-07,imprisoned\n"
    out, _ = run(write(tmp_path, text))
    assert summary(updated=1) in out
    assert Person.objects.count() == 1
    assert stored.episodes.get().visibility == Visibility.DRAFT  # never published by an import
    stored.refresh_from_db()
    assert stored.birth_date == D(1982, 4, 24)  # a year does not overwrite the full date


def test_same_name_but_another_birth_year_is_a_new_person(tmp_path):
    with audit_context(reason="test"):
        person_create(name="Ivan Ivanou", birth_date=D(1970, 1, 1))
    out, _ = run(write(tmp_path, "name,birth_date\nIvan Ivanou,1990\n"))
    assert summary(created=1) in out
    assert Person.objects.filter(name="Ivan Ivanou").count() == 2


def test_without_birth_date_a_single_namesake_is_matched(tmp_path):
    with audit_context(reason="test"):
        stored = person_create(name="Only One", birth_date=D(1970, 1, 1))
    out, _ = run(write(tmp_path, "name,gender\nOnly One,m\n"))
    assert summary(updated=1) in out
    stored.refresh_from_db()
    assert stored.gender == Person.Gender.MALE


def test_several_namesakes_without_birth_date_are_an_error(tmp_path):
    with audit_context(reason="test"):
        first = person_create(name="Ivan Ivanou")
        second = person_create(name="Ivan Ivanou", birth_date=D(1980, 1, 1))
    before = snapshot()
    err = run_failing(write(tmp_path, "name,gender\nIvan Ivanou,m\n"))
    persons = f"#{first.pk} Ivan Ivanou, #{second.pk} Ivan Ivanou"
    assert row_error(2, imports.ROW_AMBIGUOUS_MATCH, persons=persons) in err
    assert snapshot() == before


def test_a_name_match_with_another_id_of_the_same_list_is_an_error(tmp_path):
    run(write(tmp_path, GOOD))
    before = snapshot()
    err = run_failing(
        write(tmp_path, "name,birth_date,external_id\nIhar Losik,1992,v-99\n", "x.csv")
    )
    listed = person("v-3")
    expected = row_error(
        2, imports.ROW_ID_CONFLICT, person=f"#{listed.pk} Ihar Losik", scheme="import", other="v-3"
    )
    assert expected in err
    assert snapshot() == before


def test_a_person_twice_in_one_file_is_an_error(tmp_path):
    with audit_context(reason="test"):
        stored = person_create(name="Twice Listed", name_ru="Дважды Указан")
    before = snapshot()
    err = run_failing(write(tmp_path, "name,name_ru\nTwice Listed,\n,Дважды Указан\n"))
    expected = row_error(3, imports.ROW_SAME_PERSON, other=2, person=f"#{stored.pk} Twice Listed")
    assert expected in err
    assert snapshot() == before


# --- bad input: an error with its line number, and nothing written -------------------------

VALID = "Valid Person,,,1990,m,2021-01-01,342,,pre_trial,ok-1,"

BAD_ROWS = [
    pytest.param(
        ",,,1990,m,,,,,x,",
        row_error(3, imports.ROW_NO_NAME),
        id="no-name",
    ),
    pytest.param(
        "Bad Date,,,1990-13-01,m,,,,,x,",
        row_error(3, imports.ROW_BAD_BIRTH_DATE, value="1990-13-01"),
        id="bad-date",
    ),
    pytest.param(
        "Bad Month,,,1990,m,2021-02-30,,,pre_trial,x,",
        row_error(3, imports.ROW_BAD_DATE, column="detained_on", value="2021-02-30"),
        id="impossible-date",
    ),
    pytest.param(
        "Future,,,1990,m,2999-01-01,,,pre_trial,x,",
        row_error(3, imports.ROW_FUTURE_DATE, column="detained_on", value="2999-01-01"),
        id="future-date",
    ),
    pytest.param(
        "Young,,,2000,m,1999-05-05,,,pre_trial,x,",
        row_error(3, imports.ROW_DETAINED_BEFORE_BIRTH, value="1999-05-05", birth="2000"),
        id="detained-before-birth",
    ),
    pytest.param(
        "Gender,,,1990,x,,,,,x,",
        row_error(3, imports.ROW_BAD_GENDER, value="x"),
        id="unknown-gender",
    ),
    pytest.param(
        "Article,,,1990,m,2021-01-01,342;999,,pre_trial,x,",
        row_error(3, imports.ROW_UNKNOWN_ARTICLE, value="999"),
        id="unknown-article",
    ),
    pytest.param(
        "Article,,,1990,m,2021-01-01,342-x,,pre_trial,x,",
        row_error(3, imports.ROW_BAD_ARTICLE, value="342-x"),
        id="bad-article",
    ),
    pytest.param(
        "Facility,,,1990,m,2021-01-01,,Nowhere,pre_trial,x,",
        row_error(3, imports.ROW_UNKNOWN_FACILITY, value="Nowhere"),
        id="unknown-facility",
    ),
    pytest.param(
        "Facility,,,1990,m,2021-01-01,,twin facility,pre_trial,x,",
        "line 3: facility 'twin facility' matches several places",
        id="ambiguous-facility",
    ),
    pytest.param(
        "Status,,,1990,m,2021-01-01,,,on holiday,x,",
        row_error(3, imports.ROW_BAD_STATUS, value="on holiday"),
        id="unknown-status",
    ),
    pytest.param(
        "Released,,,1990,m,2021-01-01,,,released,x,",
        row_error(3, imports.ROW_RELEASED_WITHOUT_DATE),
        id="released-without-date",
    ),
    pytest.param(
        "Released,,,1990,m,2021-01-01,,,released,x,2020-01-01",
        row_error(
            3, imports.ROW_RELEASED_BEFORE_DETAINED, value="2020-01-01", detained="2021-01-01"
        ),
        id="released-before-detained",
    ),
    pytest.param(
        "Duplicate,,,1991,m,,,,,ok-1,",
        row_error(3, imports.ROW_DUPLICATE_EXTERNAL_ID, value="ok-1", other=2),
        id="duplicate-external-id",
    ),
    pytest.param(
        "Valid Person,,,1990,m,,,,,,",
        "line 3: the same name as line 2",
        id="same-new-person-twice",
    ),
    pytest.param(
        "Extra,,,1990,m,,,,,x,,surplus",
        row_error(3, imports.ROW_TOO_MANY_VALUES),
        id="too-many-values",
    ),
]


@pytest.mark.parametrize(("row", "error"), BAD_ROWS)
def test_a_bad_row_is_reported_with_its_line_and_nothing_is_written(tmp_path, row, error):
    before = snapshot()
    err = run_failing(write(tmp_path, f"{HEADER}\n{VALID}\n{row}\n"))
    assert error in err
    assert snapshot() == before


def test_every_bad_row_is_reported_and_lines_count_physical_lines(tmp_path):
    text = (
        "name,gender,notes,birth_date\n"
        'First,m,"a note\nover two lines",1990\n'  # lines 2-3
        "Second,zz,,1990\n"  # line 4
        "\n"  # line 5, blank
        "Third,f,,19\n"  # line 6
    )
    err = run_failing(write(tmp_path, text))
    assert row_error(4, imports.ROW_BAD_GENDER, value="zz") in err
    assert row_error(6, imports.ROW_BAD_BIRTH_DATE, value="19") in err
    assert Person.objects.count() == 0


BAD_FILES = [
    pytest.param(b"", imports.FILE_EMPTY, id="empty"),
    pytest.param(b" \n\n", imports.FILE_EMPTY, id="blank"),
    pytest.param(
        "name,birth_date\nGood,1990\nBad\xff,1990\n".encode("latin-1"),
        imports.FILE_NOT_UTF8.format(line=3),
        id="not-utf8",
    ),
    pytest.param(
        b"Maryia Kalesnikava,1982,f\nAles Bialiatski,1962,m\n",
        imports.FILE_NO_HEADER,
        id="missing-header",
    ),
    pytest.param(b"birth_date,gender\n1990,m\n", imports.FILE_NO_NAME_COLUMN, id="no-name-col"),
    pytest.param(b"name,gender\n", imports.FILE_NO_ROWS, id="header-only"),
    pytest.param(
        b"name,name\nA,B\n", imports.FILE_DUPLICATE_COLUMN.format(column="name"), id="dup-col"
    ),
]


@pytest.mark.parametrize(("data", "error"), BAD_FILES)
def test_a_bad_file_is_one_clear_error_and_nothing_is_written(tmp_path, data, error):
    before = snapshot()
    err = run_failing(write(tmp_path, data))
    assert err.strip() == error
    assert snapshot() == before


def test_more_rows_than_the_limit_is_an_error(tmp_path, settings):
    settings.IMPORT_MAX_ROWS = 2
    before = snapshot()
    err = run_failing(write(tmp_path, "name\nOne\nTwo\nThree\n"))
    assert imports.FILE_TOO_MANY_ROWS.format(limit=2) in err
    assert snapshot() == before
    settings.IMPORT_MAX_ROWS = 3
    out, _ = run(write(tmp_path, "name\nOne\nTwo\nThree\n"))
    assert summary(created=3) in out


def test_a_database_refusal_becomes_a_line_error_and_rolls_everything_back(tmp_path):
    with audit_context(reason="test"):
        stored = person_create(name="Held Since 2020")
        event_services.episode_open(
            person=stored, country=Country.objects.get(code="BY"), arrested_on=D(2020, 9, 7)
        )
    before = snapshot()
    # The release predates the stored arrest: only the database knows, and refuses.
    text = "name,status,released_on\nNew Person,imprisoned,\nHeld Since 2020,released,2019-01-01\n"
    err = run_failing(write(tmp_path, text))
    assert "line 3: " in err
    assert "events_detentionepisode_ended_after_arrest" in err
    assert snapshot() == before


def test_an_arrest_date_after_recorded_events_is_refused(tmp_path):
    with audit_context(reason="test"):
        stored = person_create(name="Placed Early")
        episode = event_services.episode_open(
            person=stored, country=Country.objects.get(code="BY"), arrested_on=D(2020, 9, 7)
        )
        event_services.placement_add(episode=episode, kind="pre_trial", started_on=D(2020, 9, 10))
    before = snapshot()
    err = run_failing(
        write(tmp_path, "name,detained_on,status\nPlaced Early,2021-01-01,pre_trial\n")
    )
    expected = row_error(
        2, imports.ROW_ARREST_AFTER_EVENT, value="2021-01-01", what="placement", when="2020-09-10"
    )
    assert expected in err
    assert snapshot() == before


def test_bad_options_are_refused(tmp_path):
    with pytest.raises(CommandError, match="No user named"):
        run(write(tmp_path, GOOD), "--user", "nobody")
    with pytest.raises(CommandError, match="Cannot read"):
        run(tmp_path / "missing.csv")


# --- dry run, user and reason ----------------------------------------------------------------


def test_dry_run_shows_what_would_happen_and_writes_nothing(tmp_path):
    before = snapshot()
    out, _ = run(write(tmp_path, GOOD), "--dry-run")
    assert summary(created=4) in out
    assert "line 2: created Maryia Kalesnikava" in out
    assert imports.DRY_RUN_DONE in out
    assert snapshot() == before


def test_user_reason_and_source_options_go_into_the_audit_trail(tmp_path):
    user = get_user_model().objects.create_user("importer", password="x" * 12)
    run(
        write(tmp_path, GOOD),
        "--user",
        "importer",
        "--reason",
        "Viasna list, December",
        "--source-title",
        "Viasna list",
        "--source-url",
        "https://example.org/list.csv",
    )
    source = Source.objects.get()
    assert (source.title, source.url) == ("Viasna list", "https://example.org/list.csv")
    event = pghistory.models.Events.objects.filter(pgh_obj_model="prisoners.Person").first()
    assert event is not None
    assert event.pgh_context["reason"] == "Viasna list, December"
    assert event.pgh_context["user"] == user.pk
    assert event.pgh_context["source"] == source.pk


def test_the_service_reports_counts_rows_and_warnings():
    report = imports.person_csv_import(
        data=b"name,status,detained_on\nNo Date,house_arrest,\n", filename="x.csv"
    )
    assert report.ok
    assert report.written
    assert (report.created, report.updated, report.unchanged) == (1, 0, 0)
    assert report.rows[0].changes[0] == "new person (draft)"
    assert any("no detained_on" in warning for warning in report.warnings)
    stored = Person.objects.get(name="No Date")
    assert stored.episodes.get().arrested_on_precision == DatePrecision.UNKNOWN


# --- admin -----------------------------------------------------------------------------------


def import_url() -> str | None:
    try:
        return reverse("admin:prisoners_person_import")
    except NoReverseMatch:  # pragma: no cover - until PersonAdmin wires the URL
        return None


def staff(username: str = "editor", *, permission: bool = True) -> Any:
    user = get_user_model().objects.create_user(username, password="x" * 12, is_staff=True)
    if permission:
        user.user_permissions.add(Permission.objects.get(codename="add_person"))
    return user


def post_import(user: Any, data: dict[str, Any]) -> Any:
    url = import_url()
    if url is not None:
        client = pass_second_factor(Client(), user)
        return client.post(url, data)
    from prisoners.admin_import import csv_import_view  # pragma: no cover

    request = RequestFactory().post("/admin/prisoners/person/import/", data)  # pragma: no cover
    request.user = user  # pragma: no cover
    return csv_import_view(request)  # pragma: no cover


def upload(text: str = GOOD) -> SimpleUploadedFile:
    return SimpleUploadedFile("admin-list.csv", text.encode(), content_type="text/csv")


def test_admin_upload_imports_and_shows_the_counts():
    user = staff()
    response = post_import(
        user, {"file": upload(), "reason": "from the admin", "id_scheme": "import"}
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert summary(created=4) in html
    assert "Maryia Kalesnikava" in html
    assert Person.objects.count() == 4
    event = pghistory.models.Events.objects.filter(pgh_obj_model="prisoners.Person").first()
    assert event is not None
    assert event.pgh_context["reason"] == "from the admin"
    assert event.pgh_context["user"] == user.pk


def test_admin_dry_run_and_errors_write_nothing():
    user = staff()
    before = snapshot()
    response = post_import(
        user, {"file": upload(), "reason": "check", "dry_run": "on", "id_scheme": "import"}
    )
    assert summary(created=4) in response.content.decode()
    assert snapshot() == before
    bad = upload(f"{HEADER}\n{VALID}\nGender,,,1990,x,,,,,x,\n")
    response = post_import(user, {"file": bad, "reason": "check", "id_scheme": "import"})
    html = response.content.decode()
    assert "line 3: gender" in html
    assert summary() in html
    assert snapshot() == before


def test_admin_form_needs_a_reason():
    response = post_import(staff(), {"file": upload(), "reason": "", "id_scheme": "import"})
    assert response.status_code == 200
    assert "This field is required." in response.content.decode()
    assert Person.objects.count() == 0


def test_admin_import_page_renders_for_staff():
    url = import_url()
    if url is None:  # pragma: no cover
        pytest.skip("the import URL is not wired into PersonAdmin yet")
    client = pass_second_factor(Client(), staff())
    response = client.get(url)
    assert response.status_code == 200
    assert 'enctype="multipart/form-data"' in response.content.decode()


def test_admin_import_refuses_non_staff_and_staff_without_permission():
    outsider = get_user_model().objects.create_user("outsider", password="x" * 12)
    response = post_import(outsider, {"file": upload(), "reason": "x", "id_scheme": "import"})
    assert response.status_code == 302
    assert "login" in response["Location"]
    response = post_import(
        staff("no-perm", permission=False), {"file": upload(), "reason": "x", "id_scheme": "import"}
    )
    assert response.status_code == 403
    assert Person.objects.count() == 0
