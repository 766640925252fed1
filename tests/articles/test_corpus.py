"""The test articles of tests/articles/corpus (written for these tests, not copies of real ones)."""

import datetime as dt
from pathlib import Path

import pytest

from events.articles.analyze import analyze
from events.articles.extract import read_article

CORPUS = Path(__file__).parent / "corpus"
SUNDAY = dt.date(2025, 12, 14)

pytestmark = pytest.mark.django_db


def _read(name):
    return analyze(read_article(CORPUS / name))


def _of(result, person):
    return [p for p in result["proposals"] if p["person_id"] == person.pk]


def test_sentence_detention_relative_unknown_name_en(people):
    result = _read("en_01_sentence_detention.txt")
    assert result["date"] == "2026-03-06"
    (sentence,) = _of(result, people["lednik"])
    assert sentence["type"] == "sentence"
    assert sentence["term"] == "8 years in a penal colony"
    assert sentence["date"] == "2026-03-05"  # "on Thursday", published Friday 6 March
    (detention,) = _of(result, people["sieviarynets"])
    assert detention["type"] == "detention"
    assert detention["date"] == "2026-03-04"
    # The wife speaks (and says she was held herself, in reported speech): no event.
    assert "Alena Lednik" in {m["text"] for m in result["mentions"]}
    assert _of(result, people["alena_lednik"]) == []
    # A name that matches nobody, in a prisoner's context: proposed as a new person.
    unknown = [p for p in result["proposals"] if p["person_name"] == "Andrei Novik"]
    assert len(unknown) == 1
    assert unknown[0]["person_id"] is None
    assert unknown[0]["type"] == "sentence"
    assert unknown[0]["term"] == "six years in prison"


def test_death_pardon_expulsion_namesakes_en(people):
    result = _read("en_02_death_pardon_expulsion.txt")
    (death,) = _of(result, people["klimovich"])
    assert death["type"] == "death"
    assert death["date"] == "2026-02-13"  # "on Friday", published Sunday 15 February
    for key in ("sauchuk", "losik"):
        releases = [p for p in _of(result, people[key]) if p["type"] == "release"]
        assert len(releases) == 1, key
        assert releases[0]["date"] == "2026-02-12"
    (expulsion,) = [p for p in _of(result, people["losik"]) if p["type"] == "transfer"]
    assert expulsion["to_country"] == "LT"
    # The president who pardons and the exiled leader who comments: no event.
    assert _of(result, people["lukashenko"]) == []
    assert _of(result, people["tsikhanouskaya"]) == []
    # Two persons named Ivan Kazlou: flagged, never guessed.
    namesakes = sorted([people["kazlou_1"].pk, people["kazlou_2"].pk])
    (mention,) = [m for m in result["mentions"] if m["text"] == "Ivan Kazlou"]
    assert mention["person_id"] is None
    assert mention["candidates"] == namesakes
    (detention,) = [p for p in result["proposals"] if p["type"] == "detention"]
    assert detention["person_id"] is None
    assert detention["candidates"] == namesakes
    assert detention["date"] == "2026-02-14"  # "yesterday"


def test_sentence_relative_namesakes_death_ru(people):
    result = _read("ru_01_prigovor.txt")
    assert result["language"] == "ru"
    (sentence,) = _of(result, people["lednik"])
    assert sentence["type"] == "sentence"
    assert sentence["term"] == "к 8 годам колонии усиленного режима"
    assert sentence["date"] == "2026-03-05"  # "в четверг"
    assert "Игоря Ледника" in {m["text"] for m in result["mentions"]}
    assert _of(result, people["alena_lednik"]) == []
    (detention,) = [p for p in result["proposals"] if p["type"] == "detention"]
    assert detention["person_id"] is None
    assert len(detention["candidates"]) == 2
    assert detention["date"] == "2026-03-05"  # "вчера"
    (death,) = [p for p in result["proposals"] if p["type"] == "death"]
    assert death["person_id"] is None
    assert death["person_name"] == "Андрей Новиков"
    assert death["date"] == "2025-12-10"


def test_inflected_forms_release_transfer_ru(people):
    from prisoners.models import NameVariant

    kolesnikova = NameVariant.objects.get(text="Maria Kolesnikova").person_id
    bialiatski = NameVariant.objects.get(text="Ales Bialiatski", language="en").person_id
    result = _read("ru_02_osvobozhdenie.txt")
    texts = {m["text"]: m["person_id"] for m in result["mentions"]}
    assert texts["Марию Колесникову"] == kolesnikova
    assert texts["Колесниковой"] == kolesnikova
    assert texts["Алеся Беляцкого"] == bialiatski
    assert texts["Беляцкого"] == bialiatski
    released = {p["person_id"]: p for p in result["proposals"] if p["type"] == "release"}
    assert released[kolesnikova]["date"] == "2025-12-13"  # "в субботу"
    assert released[bialiatski]["date"] == "2025-12-13"
    assert released[None]["count"] == 123
    transfers = [p for p in result["proposals"] if p["type"] == "transfer"]
    assert {(p["person_id"], p["to_country"], p["count"]) for p in transfers} == {
        (None, "UA", 114),
        (bialiatski, "LT", None),
    }
    assert _of(result, people["tsikhanouskaya"]) == []
    assert _of(result, people["lukashenko"]) == []


def test_html_article(demo):
    from prisoners.models import NameVariant

    kolesnikova = NameVariant.objects.get(text="Maria Kolesnikova").person_id
    result = _read("en_03_article.html")
    assert result["title"] == "Opposition figure freed"
    assert result["date"] == "2025-12-14"
    assert result["author"] == "Test Reporter"
    assert "Copyright" not in " ".join(p["snippet"] for p in result["proposals"])
    by_type = {p["type"]: p for p in result["proposals"] if p["person_id"] == kolesnikova}
    assert by_type["release"]["date"] == "2025-12-13"
    assert by_type["transfer"]["to_country"] == "UA"


def test_unknown_namesake_surname_is_not_a_known_person(demo):
    """A Russian report on Tikhanovskaya when only her husband is known: her surname alone,
    after her full name, is not read as his."""
    from events.articles.extract import from_text
    from prisoners.models import NameVariant

    husband = NameVariant.objects.get(text="Sergei Tikhanovsky").person_id
    article = from_text(
        "Светлана Тихановская выступила в Вильнюсе. Тихановская заявила, что Сергей "
        "Тихановский освобожден в субботу. Тихановской аплодировали.",
    )
    article.date = SUNDAY
    result = analyze(article)
    found = {m["text"]: m["person_id"] for m in result["mentions"]}
    assert found == {"Сергей Тихановский": husband}
    (release,) = result["proposals"]
    assert (release["type"], release["person_id"], release["date"]) == (
        "release",
        husband,
        "2025-12-13",
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Maria Kolesnikova was among 52 prisoners released on Thursday.", {("release", "M")}),
        ("Belarusian authorities released Ales Bialiatski on Monday.", {("release", "A")}),
        ("Darya Losik's husband said she had been pardoned.", set()),
        ("Alexander Lukashenko said Anton Sauchuk would never be released.", set()),
        ("Колесникову освободили вчера и вывезли в Литву.", {("release", "M"), ("transfer", "M")}),
        ("Лукашенко помиловал Антона Савчука 12 февраля 2026 года.", {("release", "S")}),
        ("По словам Светланы Тихановской, Николай Климович умер в колонии.", {("death", "K")}),
        ("Anton Sauchuk, 45, was detained by the KGB on 3 January 2026.", {("detention", "S")}),
    ],
)
def test_subject_of_each_clause(people, text, expected):
    from events.articles.extract import from_text
    from prisoners.models import NameVariant

    keys = {
        NameVariant.objects.get(text="Maria Kolesnikova").person_id: "M",
        NameVariant.objects.get(text="Ales Bialiatski", language="en").person_id: "A",
        people["sauchuk"].pk: "S",
        people["klimovich"].pk: "K",
        people["losik"].pk: "L",
        people["lukashenko"].pk: "president",
        people["tsikhanouskaya"].pk: "leader",
    }
    article = from_text(text)
    article.date = dt.date(2026, 2, 15)
    result = analyze(article)
    found = {(p["type"], keys.get(p["person_id"], p["person_id"])) for p in result["proposals"]}
    assert {f for f in found if f[1] is not None} == expected


def test_a_pronoun_stands_for_the_person_just_named_en(people):
    """ "She ... was deported to Poland": she is Julia Fenner, of the sentences before."""
    from prisoners.models import Person

    fenner = Person.objects.get(name="Julia Fenner")
    result = _read("en_04_pronoun_freed_deported.txt")
    by_type = {p["type"]: p for p in _of(result, fenner)}
    assert set(by_type) == {"release", "detention", "transfer"}
    assert by_type["release"]["date"] == "2026-03-04"  # "on Wednesday", published Thursday
    assert (by_type["transfer"]["to_country"], by_type["transfer"]["from_country"]) == (
        "PL",
        "BY",
    )
    assert by_type["transfer"]["confidence"] < by_type["release"]["confidence"]
    (sentence,) = _of(result, people["sieviarynets"])
    assert (sentence["type"], sentence["term"]) == ("sentence", "seven years")
    assert _of(result, people["tsikhanouskaya"]) == []  # she condemned the verdict


def test_russian_names_in_the_nominative_surnames_and_pronouns(people):
    """An unknown name is proposed in the nominative ("Павла Северинца" is "Павел
    Северинец"); her surname alone ("Феннер задержали") and a pronoun ("её вывезли") are the
    unknown person named before."""
    result = _read("ru_03_mestoimenie_imenitelny.txt")
    unknown = {}
    for p in result["proposals"]:
        if p["person_id"] is None and p["person_name"]:
            unknown.setdefault(p["person_name"], {})[p["type"]] = p
    assert set(unknown["Юлия Феннер"]) == {"release", "detention", "transfer"}
    assert unknown["Юлия Феннер"]["detention"]["date"] == "2024-03"
    assert unknown["Юлия Феннер"]["transfer"]["to_country"] == "PL"
    # Павел Северинец is known: the inflected form is matched to him.
    (sentence,) = _of(result, people["sieviarynets"])
    assert sentence["type"] == "sentence"
    assert unknown["Игорь Карней"]["death"]["date"] == "2026-03-02"  # "в понедельник"
    assert _of(result, people["tsikhanouskaya"]) == []


def test_nominative_of_russian_names():
    from events.articles.statements import nominative

    assert nominative("Павла Северинца") == "Павел Северинец"
    assert nominative("Марию Колесникову") == "Мария Колесникова"
    assert nominative("Игоря Карнея") == "Игорь Карней"
    assert nominative("Юлия Феннер") == "Юлия Феннер"  # already the nominative
    assert nominative("Andrei Novik") == "Andrei Novik"


def _new(result):
    found = {}
    for p in result["proposals"]:
        if p["person_id"] is None and p["person_name"]:
            found.setdefault(p["person_name"], {})[p["type"]] = p
    return found


def test_unknown_names_in_lists_and_after_verbs_en(demo):
    """Names nobody knows yet, in "among them X and Y", "X, 52, was pardoned", "X died in
    custody", "a court handed X an eight-year sentence"; a spelling mixed from two schemes
    ("Maria Kalesnikava") is still the known person; "Fourteen of them" is a count."""
    from prisoners.models import Person

    result = _read("en_05_lists_and_new_names.txt")
    new = _new(result)
    assert set(new["Mikalai Statkevich"]) >= {"release"}
    assert set(new["Ihar Karnei"]) == {"release"}
    assert new["Ales Pushkin"]["death"]["date"] == "2023-07-11"
    assert new["Katsiaryna Andreyeva"]["sentence"]["term"] == "an eight-year sentence"
    assert new["Andrzej Poczobut"]["transfer"]["to_country"] == "PL"  # "left for Poland"
    assert "release" in new["Andrzej Poczobut"]
    assert "Lukashenko" not in " ".join(new)  # the one who pardons gets nothing
    kalesnikava = Person.objects.get(name="Maryia Kalesnikava")
    (sentence,) = _of(result, kalesnikava)
    assert (sentence["type"], sentence["term"], sentence["date"]) == (
        "sentence",
        "11 years",
        "2021-09",
    )
    counts = {(p["type"], p["count"], p["to_country"]) for p in result["proposals"] if p["count"]}
    assert ("release", 52, None) in counts
    assert ("transfer", 14, "LT") in counts


def test_unknown_names_in_lists_and_after_verbs_ru(demo):
    result = _read("ru_04_spisok_novye_imena.txt")
    new = _new(result)
    assert "release" in new["Николай Статкевич"]  # "в том числе Николая Статкевича"
    assert "release" in new["Игорь Карней"]
    assert new["Екатерина Андреева"]["sentence"]["term"] == "к восьми годам лишения свободы"
    assert new["Алесь Пушкин"]["death"]["date"] == "2023-07"
    assert new["Анджей Почобут"]["transfer"]["to_country"] == "PL"  # "Почобута депортировали"
    assert "Лукашенко" not in " ".join(new)
    counts = {(p["type"], p["count"]) for p in result["proposals"] if p["count"]}
    assert ("release", 16) in counts


def test_apposition_pronoun_and_a_known_person_en(demo):
    from prisoners.models import Person

    result = _read("en_06_apposition_pronoun.txt")
    babaryka = Person.objects.get(name="Viktar Babaryka")
    kinds = {p["type"]: p for p in _of(result, babaryka)}
    assert kinds["transfer"]["to_country"] == "LT"  # "He was flown to Vilnius"
    assert "release" in kinds
    new = _new(result)
    assert new["Nasta Loika"]["sentence"]["term"] == "seven years"  # "X, a defender, was ..."
    assert "detention" in new["Dmitry Semchenko"]  # "The KGB arrested X, a journalist"
    assert ("release", 18) in {(p["type"], p["count"]) for p in result["proposals"]}


def test_a_common_noun_before_a_name_is_not_part_of_it_ru(demo):
    result = _read("ru_05_naricatelnoe_pered_imenem.txt")
    new = _new(result)
    assert not [name for name in new if name.startswith("Правозащитниц")]
    assert any(name.endswith("Лойко") for name in new)
    assert "detention" in new["Дмитрий Семченко"]


def test_belarusian_report(demo):
    """Belarusian: impersonal verbs with the person before them ("Бяляцкага вывезлі ў Літву, а
    Калеснікаву перадалі ва Украіну"), "і" joining names, months and terms in Belarusian."""
    from prisoners.models import Person

    result = _read("be_01_vyzvalenne.txt")
    bialiatski = Person.objects.get(name="Ales Bialiatski")
    kalesnikava = Person.objects.get(name="Maryia Kalesnikava")
    for person, country in ((bialiatski, "LT"), (kalesnikava, "UA")):
        kinds = {p["type"]: p for p in _of(result, person)}
        assert kinds["release"]["date"] == "2025-12-13"  # "у суботу", published Sunday
        assert kinds["transfer"]["to_country"] == country, person.name
    new = _new(result)
    assert new["Мікола Дзядок"]["detention"]["date"] == "2020-11"  # "у лістападзе 2020 года"
    sentence = next(v["sentence"] for k, v in new.items() if k.endswith("Луцкіну"))
    assert sentence["term"] == "да васьмі гадоў калоніі"
