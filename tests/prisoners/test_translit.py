"""Romanisation of Belarusian and Russian names: known spellings and properties. No database."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from prisoners.translit import (
    SCHEMES,
    detect_language,
    schemes_for,
    search_key,
    transliterate,
    variants,
)

KNOWN = [
    # Belarusian passport spellings, as the people themselves use them.
    ("be-passport", "Марыя Калеснікава", "Maryia Kalesnikava"),
    ("be-passport", "Ціханоўскі", "Tsikhanouski"),
    ("be-passport", "Ціханоўская", "Tsikhanouskaya"),
    ("be-passport", "Сяргей", "Siarhei"),
    ("be-passport", "Алесь Бяляцкі", "Ales Bialiatski"),
    ("be-passport", "Аляксандр", "Aliaksandr"),
    ("be-passport", "Яўген", "Yauhen"),
    ("be-passport", "Віктар Бабарыка", "Viktar Babaryka"),
    ("be-passport", "Марына Золатава", "Maryna Zolatava"),
    ("be-passport", "Святлана", "Sviatlana"),
    ("be-passport", "Наталля", "Natallia"),
    ("be-passport", "Лукашэнка", "Lukashenka"),
    ("be-passport", "Ільюшын", "Ilyushyn"),
    ("be-passport", "Аб’ява", "Abyava"),
    ("be-passport", "Пётр", "Piotr"),
    # National system 2007: the i of е ё ю я stays after л (Liepieĺ, Mahilioŭ in the
    # instruction itself), and nothing marks a soft с without ь.
    ("be-national", "Калеснікава", "Kaliesnikava"),
    ("be-national", "Ціханоўскі", "Cichanoŭski"),
    ("be-national", "Бяляцкі", "Bialiacki"),
    ("be-national", "Алесь", "Alieś"),
    ("be-national", "Марыя", "Maryja"),
    ("be-national", "Лепель", "Liepieĺ"),
    ("be-national", "Магілёў", "Mahilioŭ"),
    ("be-national", "Любань", "Liubań"),
    ("be-national", "Светлагорск", "Svietlahorsk"),
    ("be-national", "Вераб’ёвічы", "Vierabjovičy"),
    ("be-national", "Іўе", "Iŭje"),
    ("be-national", "Гаўя", "Haŭja"),
    ("be-national", "Круглае", "Kruhlaje"),
    ("be-national", "Ельск", "Jeĺsk"),
    ("be-national", "Шаркаўшчына", "Šarkaŭščyna"),
    ("be-national", "Хоцімск", "Chocimsk"),
    ("be-national-ascii", "Калеснікава", "Kaliesnikava"),
    ("be-national-ascii", "Ціханоўскі", "Cichanouski"),
    ("be-national-ascii", "Алесь", "Alies"),
    # Łacinka: ля ле лю лё -> la le lu lo, ł for a hard л.
    ("be-lacinka", "Алесь Бяляцкі", "Aleś Bialacki"),
    ("be-lacinka", "Ціханоўскі", "Cichanoŭski"),
    ("be-lacinka", "Марыя", "Maryja"),
    ("be-lacinka", "Лукашэнка", "Łukašenka"),
    ("be-lacinka", "Ільюшын", "Iljušyn"),
    ("be-bgn-pcgn", "Ціханоўскі", "Tsikhanowski"),
    ("be-bgn-pcgn", "Алесь Бяляцкі", "Ales Byalyatski"),
    ("be-bgn-pcgn", "Еўдакімаў", "Yewdakimaw"),
    ("be-bgn-pcgn", "Бабаедава", "Babayedava"),
    ("be-icao", "Ціханоўская", "Tsikhanouskaia"),
    ("be-icao", "Яўген", "Iauhen"),
    ("be-icao", "Магілёў", "Mahileu"),
    ("ru-wikipedia", "Мария Колесникова", "Mariya Kolesnikova"),
    ("ru-wikipedia", "Сергей Тихановский", "Sergey Tikhanovsky"),
    ("ru-wikipedia", "Алесь Беляцкий", "Ales Belyatsky"),
    ("ru-wikipedia", "Пётр", "Pyotr"),
    ("ru-icao", "Сергей Тихановский", "Sergei Tikhanovskii"),
    ("ru-bgn-pcgn", "Пётр", "Pëtr"),  # iuliia leaves a Cyrillic ё here: mended
    ("ru-gost-779", "Мария Щукина", "Mariâ Ŝukina"),
    # Case, per word.
    ("be-passport", "ЦІХАНОЎСКАЯ Святлана", "TSIKHANOUSKAYA Sviatlana"),
    ("be-passport", "ЯЎГЕН", "YAUHEN"),
    ("be-passport", "Я", "Ya"),
    ("be-national", "ЛЕПЕЛЬ", "LIEPIEĹ"),
    ("ru-wikipedia", "СЕРГЕЙ ТИХАНОВСКИЙ", "SERGEY TIKHANOVSKY"),
    ("ru-wikipedia", "Щукина", "Shchukina"),
    ("ru-bgn-pcgn", "ЁЛКИН", "YËLKIN"),
    # What is not Cyrillic is kept.
    ("be-passport", "Бяляцкі (Ales Bialiatski), 1962-", "Bialiatski (Ales Bialiatski), 1962-"),
    ("be-passport", "Ціханоўскі-Калеснікава", "Tsikhanouski-Kalesnikava"),
    ("be-passport", "'Алесь'", "'Ales'"),
    ("ru-wikipedia", "Петров-Водкин, 1878", "Petrov-Vodkin, 1878"),
]


@pytest.mark.parametrize(("scheme", "cyrillic", "latin"), KNOWN)
def test_known_spellings(scheme: str, cyrillic: str, latin: str) -> None:
    assert transliterate(cyrillic, scheme) == latin


def test_registry() -> None:
    assert [s.code for s in schemes_for("be")] == [
        "be-passport",
        "be-national",
        "be-national-ascii",
        "be-lacinka",
        "be-bgn-pcgn",
        "be-icao",
    ]
    assert [s.code for s in schemes_for("ru")] == [
        "ru-wikipedia",
        "ru-icao",
        "ru-bgn-pcgn",
        "ru-gost-779",
    ]
    assert schemes_for("en") == []
    assert all(code == s.code and len(code) <= 24 for code, s in SCHEMES.items())
    with pytest.raises(ValueError, match="unknown"):
        transliterate("Алесь", "be-nonsense")


def test_variants_of_a_surname() -> None:
    assert variants("Ціханоўскі", "be") == [
        ("Tsikhanouski", ["be-passport", "be-icao"]),
        ("Cichanoŭski", ["be-national", "be-lacinka"]),
        ("Cichanouski", ["be-national-ascii"]),
        ("Tsikhanowski", ["be-bgn-pcgn"]),
    ]
    assert variants("Мария", "ru")[0] == ("Mariya", ["ru-wikipedia", "ru-bgn-pcgn"])


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("Марыя Калеснікава", "be"),
        ("Аб’ява", "be"),
        ("Аршанскi", "be"),  # Latin i typed for і
        ("Мария Колесникова", "ru"),
        ("Сергей Тихановский", "ru"),
        ("Щёлково", "ru"),
        ("Марына Золатава", None),  # could be either
        ("Ёлка", None),
        ("Maryia Kalesnikava", None),
        ("Київ", None),  # Ukrainian
        ("Ціханоўскі и Тихановский", None),  # both
        ("", None),
    ],
)
def test_detect_language(text: str, language: str | None) -> None:
    assert detect_language(text) == language


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("Kalieśnikava", "kaliesnikava"),
        ("Калеснікава", "калеснікава"),
        ("  Алесь  Бяляцкі ", "алесь бяляцкі"),
        ("Ёлкін", "елкін"),
        ("Сяргей Ціханоўскі", "сяргей ціханоўскі"),  # й and ў are letters, not accents
        ("Łukašenka", "lukasenka"),
        ("Ales’ Belyatskiy", "ales belyatskiy"),
        ("Петров-Водкин", "петров водкин"),
        ("O’Brien", "obrien"),
        ("STRAßE", "strasse"),
    ],
)
def test_search_key(text: str, key: str) -> None:
    assert search_key(text) == key


def test_decomposed_input_is_read_as_one_letter() -> None:
    assert transliterate("Сяргеи\u0306", "be-passport") == "Siarhei"
    assert transliterate("Ціханоу\u0306скі", "be-national") == "Cichanoŭski"


# --- properties ---------------------------------------------------------------------------------

LOWER = "абвгґдеёжзіийклмнопрстуўфхцчшщъыьэюяєї"
CYRILLIC = LOWER + LOWER.upper()
ASCII_SCHEMES = [code for code, s in SCHEMES.items() if s.ascii_only]
BE_SCHEMES = [s.code for s in schemes_for("be")]


def _words(min_size: int = 1, apostrophes: bool = False) -> st.SearchStrategy[str]:
    """Cyrillic words; with ``apostrophes``, a ’ may stand between two letters."""
    word = st.text(alphabet=CYRILLIC, min_size=min_size, max_size=12)
    if apostrophes:
        word = st.lists(word, min_size=1, max_size=3).map("’".join)
    return word


def _phrases(min_size: int = 1, apostrophes: bool = False) -> st.SearchStrategy[str]:
    separators = st.sampled_from([" ", "-", ", ", " 1962 ", "\n"])
    words = st.lists(_words(min_size, apostrophes), min_size=1, max_size=4)
    return st.tuples(words, separators).map(lambda ws: ws[1].join(ws[0]))


def _has_cyrillic(text: str) -> bool:
    return any("\u0400" <= c <= "\u04ff" for c in text)


@pytest.mark.parametrize("scheme", ASCII_SCHEMES)
@given(text=_phrases())
def test_ascii_schemes_write_ascii(scheme: str, text: str) -> None:
    assert transliterate(text, scheme).isascii()


@pytest.mark.parametrize("scheme", [c for c in BE_SCHEMES if SCHEMES[c].ascii_only])
@given(text=_phrases(apostrophes=True))
def test_belarusian_apostrophe_is_not_written(scheme: str, text: str) -> None:
    assert transliterate(text, scheme).isascii()


@pytest.mark.parametrize("scheme", list(SCHEMES))
@given(text=_phrases(apostrophes=True))
def test_no_cyrillic_left_and_deterministic(scheme: str, text: str) -> None:
    latin = transliterate(text, scheme)
    assert not _has_cyrillic(latin)
    assert transliterate(text, scheme) == latin


LATIN = st.text(
    alphabet=st.characters(
        codec="utf-8",
        exclude_categories=["Cs"],
        exclude_characters="".join(chr(c) for c in range(0x0400, 0x0530)),
    ),
    max_size=30,
)


@pytest.mark.parametrize("scheme", list(SCHEMES))
@given(text=st.one_of(LATIN, st.sampled_from(["O’Brien", "Łódź", "Kalieśnikava", "d'Artagnan"])))
def test_non_cyrillic_text_is_kept(scheme: str, text: str) -> None:
    assert transliterate(text, scheme) == text


@pytest.mark.parametrize("scheme", ASCII_SCHEMES)
@given(text=_phrases(min_size=2, apostrophes=True))
def test_all_caps_in_all_caps_out(scheme: str, text: str) -> None:
    # Words of two letters or more: a lone capital is read as a capitalised word (Я -> Ya).
    assert transliterate(text.upper(), scheme) == transliterate(text, scheme).upper()


@pytest.mark.parametrize("scheme", list(SCHEMES))
@given(first=_words(apostrophes=True), second=_words(apostrophes=True))
def test_word_by_word(scheme: str, first: str, second: str) -> None:
    assert transliterate(f"{first} {second}", scheme) == (
        f"{transliterate(first, scheme)} {transliterate(second, scheme)}"
    )


@pytest.mark.parametrize("language", ["be", "ru"])
@given(text=_phrases(apostrophes=True))
def test_variants_are_distinct_and_true(language: str, text: str) -> None:
    found = variants(text, language)
    spellings = [spelling for spelling, _ in found]
    assert len(spellings) == len(set(spellings))
    for spelling, codes in found:
        assert codes
        assert all(transliterate(text, code) == spelling for code in codes)
    listed = [code for _, codes in found for code in codes]
    assert sorted(listed) == sorted(s.code for s in schemes_for(language))


KEY_TEXT = st.one_of(st.text(max_size=30), _phrases(apostrophes=True))


@given(text=KEY_TEXT)
def test_search_key_is_idempotent(text: str) -> None:
    key = search_key(text)
    assert search_key(key) == key


@given(text=KEY_TEXT)
def test_search_key_ignores_case(text: str) -> None:
    assert search_key(text.upper()) == search_key(text) == search_key(text.lower())


@given(text=_phrases(apostrophes=True))
def test_search_key_of_a_translit_is_ascii_for_ascii_schemes(text: str) -> None:
    for code in ASCII_SCHEMES:
        assert search_key(transliterate(text, code)).isascii()
