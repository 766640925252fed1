"""Romanisation of Belarusian and Russian names, and the key used to match spellings.

One person's name reaches us spelled many ways: Марыя Калеснікава (Belarusian), Мария Колесникова
(Russian), and Latin forms of both made under different schemes. This module writes those Latin
forms so that each can be stored as a name variant and found by search.

Belarusian schemes are written here (no library carries the passport romanisation); Russian ones
delegate to ``iuliia``. Every scheme:

- keeps anything that is not Cyrillic (Latin, digits, spaces, punctuation) as it is;
- treats a word as a run of letters, apostrophes between letters included; a "word start" is the
  start of the text or any non-letter;
- keeps the case pattern of each word: ``Ціханоўскі`` -> ``Tsikhanouski``, ``ЦІХАНОЎСКІ`` ->
  ``TSIKHANOUSKI``. A one-letter word counts as capitalised, not as all-caps (``Я`` -> ``Ya``).

Belarusian schemes, for Калеснікава / Алесь Бяляцкі / Ціханоўскі:

- be-passport: Kalesnikava, Ales Bialiatski, Tsikhanouski (ASCII, as in Belarusian passports);
- be-national: Kaliesnikava, Alieś Bialiacki, Cichanoŭski (the 2007 national instruction, which
  keeps the i after л: Лепель -> Liepieĺ, Магілёў -> Mahilioŭ), and be-national-ascii without
  the diacritics;
- be-lacinka: Kalesnikava, Aleś Bialacki, Cichanoŭski (Łacinka: ля -> la, a hard л is ł), the
  spelling of Polish and Lithuanian sources;
- be-bgn-pcgn: Kalesnikava, Ales Byalyatski, Tsikhanowski; be-icao: like the passport, but
  я -> ia and ю -> iu everywhere (Tsikhanouskaia).

Pure Python: no Django import, so it can be used from migrations, scripts and tests alike.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

import iuliia  # type: ignore[import-untyped, unused-ignore]

__all__ = [
    "SCHEMES",
    "Scheme",
    "detect_language",
    "schemes_for",
    "search_key",
    "transliterate",
    "variants",
]


@dataclass(frozen=True)
class Scheme:
    """A romanisation scheme: ``apply`` turns Cyrillic text into Latin."""

    code: str
    language: str  # "be" or "ru": the language of the Cyrillic input
    label: str
    ascii_only: bool  # the output of Cyrillic input is plain ASCII
    func: Callable[[str], str] = field(repr=False, compare=False)

    def apply(self, text: str) -> str:
        return self.func(text)


# --- text helpers -------------------------------------------------------------------------------

_APOSTROPHES = "'’ʼ"  # ASCII apostrophe, right single quotation mark, modifier letter apostrophe
_WORD_RE = re.compile(r"[^\W\d_]+(?:['’ʼ][^\W\d_]+)*")
# Letters typed as base letter + combining mark; recomposed so that they are one letter.
_DECOMPOSED_RE = re.compile("[иИуУ]\u0306|[еЕіІ]\u0308")


def _is_cyrillic(ch: str) -> bool:
    return "\u0400" <= ch <= "\u04ff"


def _compose(text: str) -> str:
    """Recompose й ў ё ї written with a combining mark; leave everything else untouched."""
    return _DECOMPOSED_RE.sub(lambda m: unicodedata.normalize("NFC", m.group()), text)


def _is_caps_word(word: str) -> bool:
    letters = [c for c in word if c.isalpha()]
    return len(letters) > 1 and all(c.isupper() for c in letters)


# --- Belarusian schemes -------------------------------------------------------------------------
#
# A rule maps (previous, current, next) letter, each lower-case Cyrillic ("" at a word edge), to
# Latin; None means "not a letter this scheme knows", and the character is kept as it is.

Rule = Callable[[str, str, str], str | None]

_VOWELS = frozenset("аеёіоуыэюяиєї")
_SIGNS = frozenset("ьъ’")  # soft sign, hard sign, apostrophe (all apostrophes are read as ’)
_IOTATED = frozenset("еёюяєї")


def _context(ch: str) -> str:
    """Reduce a character to the Cyrillic letter that stands for it in context rules."""
    if _is_cyrillic(ch):
        return ch.lower()
    if ch in _APOSTROPHES:
        return "’"
    low = ch.casefold()
    if low == "i":  # a Latin i typed for і, common in Belarusian text
        return "і"
    return "а" if low in ("a", "e", "o", "u", "y") else "б"


def _after_vowel_or_sign(prev: str) -> bool:
    """Word start, after a vowel, ў, ь, ъ or apostrophe: where е ё ю я sound with a leading j."""
    return prev == "" or prev in _VOWELS or prev in _SIGNS or prev == "ў"


def _table(pairs: str) -> dict[str, str]:
    """``"а=a б=b ь="`` -> ``{"а": "a", "б": "b", "ь": ""}``."""
    return {key: value for key, _, value in (item.partition("=") for item in pairs.split())}


_PASSPORT = _table(
    "а=a б=b в=v г=h ґ=g д=d ж=zh з=z і=i и=i й=i к=k л=l м=m н=n о=o п=p р=r с=s т=t "
    "у=u ў=u ф=f х=kh ц=ts ч=ch ш=sh щ=shch ы=y ь= ъ= э=e"
)
_PASSPORT_IOTATED = {  # y-form, i-form
    "е": ("ye", "ie"),
    "є": ("ye", "ie"),
    "ё": ("yo", "io"),
    "ю": ("yu", "iu"),
    "я": ("ya", "ia"),
    "ї": ("yi", "i"),
}


def _passport(prev: str, cur: str, nxt: str) -> str | None:
    if cur in _IOTATED:
        y_form, i_form = _PASSPORT_IOTATED[cur]
        if prev in ("і", "ы", "и"):
            return i_form
        if _after_vowel_or_sign(prev):
            return y_form
        return "e" if cur in ("е", "є") else i_form  # Kalesnikava, Siarhei; but Sviatlana
    return _PASSPORT.get(cur)


_NATIONAL = _table(
    "а=a б=b в=v г=h ґ=g д=d ж=ž з=z і=i и=i й=j к=k л=l м=m н=n о=o п=p р=r с=s т=t "
    "у=u ў=ŭ ф=f х=ch ц=c ч=č ш=š щ=šč ы=y ь= ъ= э=e"
)
_SOFTENED = {"л": "ĺ", "н": "ń", "с": "ś", "з": "ź", "ц": "ć"}  # before ь
_J_IOTATED = {  # j-form, i-form
    "е": ("je", "ie"),
    "є": ("je", "ie"),
    "ё": ("jo", "io"),
    "ю": ("ju", "iu"),
    "я": ("ja", "ia"),
    "ї": ("ji", "i"),
}


def _national(prev: str, cur: str, nxt: str) -> str | None:
    if cur in _IOTATED:
        j_form, i_form = _J_IOTATED[cur]
        return j_form if _after_vowel_or_sign(prev) else i_form
    if nxt == "ь" and cur in _SOFTENED:
        return _SOFTENED[cur]
    return _NATIONAL.get(cur)


_SOFT_L_BEFORE = frozenset("іиеёюяєїь")


def _lacinka(prev: str, cur: str, nxt: str) -> str | None:
    if cur in _IOTATED and prev == "л":
        return _J_IOTATED[cur][0][1:]  # ля -> la, ле -> le: the l is soft, the j is not written
    if cur == "л":
        return "l" if nxt in _SOFT_L_BEFORE else "ł"
    return _national(prev, cur, nxt)


_BGN = _table(
    "а=a б=b в=v г=h ґ=g д=d ж=zh з=z і=i и=i й=y к=k л=l м=m н=n о=o п=p р=r с=s т=t "
    "у=u ў=w ф=f х=kh ц=ts ч=ch ш=sh щ=shch ы=y ь= ъ= э=e ё=yo ю=yu я=ya ї=yi"
)


def _bgn(prev: str, cur: str, nxt: str) -> str | None:
    if cur in ("е", "є"):
        return "ye" if _after_vowel_or_sign(prev) or prev == "й" else "e"
    return _BGN.get(cur)


_ICAO_BE = _table(
    "а=a б=b в=v г=h ґ=g д=d е=e ё=e є=ie ж=zh з=z і=i ї=i и=i й=i к=k л=l м=m н=n о=o "
    "п=p р=r с=s т=t у=u ў=u ф=f х=kh ц=ts ч=ch ш=sh щ=shch ъ=ie ы=y ь= э=e ю=iu я=ia"
)


def _icao_be(prev: str, cur: str, nxt: str) -> str | None:
    return _ICAO_BE.get(cur)


def _rule_word(word: str, rule: Rule) -> str:
    ctx = [_context(c) for c in word]
    caps = _is_caps_word(word)
    out: list[str] = []
    pending_capital = False  # an upper-case letter gave no Latin (Ь): capitalise what follows
    for i, ch in enumerate(word):
        prev = ctx[i - 1] if i else ""
        nxt = ctx[i + 1] if i + 1 < len(word) else ""
        if ch in _APOSTROPHES:
            # Belarusian apostrophe (between letters, before a Cyrillic one): not written.
            out.append("" if i + 1 < len(word) and _is_cyrillic(word[i + 1]) else ch)
            continue
        chunk = rule(prev, ctx[i], nxt) if _is_cyrillic(ch) else None
        if chunk is None:
            out.append(ch)
            pending_capital = False
            continue
        if caps:
            chunk = chunk.upper()
        elif ch.isupper() or pending_capital:
            pending_capital = not chunk
            chunk = chunk[:1].upper() + chunk[1:]
        out.append(chunk)
    return "".join(out)


def _rule_scheme(rule: Rule) -> Callable[[str], str]:
    def apply(text: str) -> str:
        return _WORD_RE.sub(lambda m: _rule_word(m.group(), rule), _compose(text))

    return apply


def _strip_marks(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return unicodedata.normalize(
        "NFC", "".join(c for c in decomposed if not unicodedata.combining(c))
    )


def _without_marks(rule: Rule) -> Rule:
    """The same rule with the diacritics dropped from what it writes."""

    def ascii_rule(prev: str, cur: str, nxt: str) -> str | None:
        chunk = rule(prev, cur, nxt)
        return None if chunk is None else _strip_marks(chunk)

    return ascii_rule


# --- Russian schemes (iuliia) -------------------------------------------------------------------

# Letters iuliia's Russian tables leave in Cyrillic (Belarusian і ў, Ukrainian ґ є ї; and ё, which
# the BGN/PCGN and GOST 7.79 tables map to itself instead of ë).
_RU_LEFTOVERS: dict[str, dict[str, str]] = {
    "ru-wikipedia": _table("і=i ў=u ґ=g є=ye ї=yi"),
    "ru-icao": _table("і=i ў=u ґ=g є=ie ї=i"),
    "ru-bgn-pcgn": _table("ё=ë і=i ў=w ґ=g є=ye ї=yi"),
    "ru-gost-779": _table("ё=ë і=ì ў=ǔ ґ=g̀ є=ê ї=ï"),
}


class _Translator(Protocol):
    def translate(self, source: str) -> str: ...


def _recase(source: str, latin: str) -> str:
    """Give ``latin``, written from the lower-cased ``source``, the case pattern of ``source``."""
    if _is_caps_word(source):
        return latin.upper()
    if source[:1].isupper():
        return latin[:1].upper() + latin[1:]
    return latin


def _iuliia_word(word: str, schema: _Translator, leftovers: dict[str, str]) -> str:
    if not any(_is_cyrillic(c) for c in word):
        return word

    def lower_latin(part: str) -> str:
        latin = schema.translate("".join(c.lower() if _is_cyrillic(c) else c for c in part))
        return "".join(leftovers.get(c, c) for c in latin)

    whole = lower_latin(word)
    # A mixed-case word (МакДональд) is cased hump by hump when the humps, read apart, spell
    # the same as the whole word; otherwise only its first letter keeps its case.
    humps = _humps(word)
    pieces = [lower_latin(hump) for hump in humps]
    if len(humps) > 1 and "".join(pieces) == whole:
        return "".join(_recase(h, p) for h, p in zip(humps, pieces, strict=True))
    return _recase(word, whole)


def _humps(word: str) -> list[str]:
    """Split before each capital that follows a small letter: МакДональд -> Мак, Дональд."""
    cuts = [i for i in range(1, len(word)) if word[i].isupper() and word[i - 1].islower()]
    return [word[a:b] for a, b in zip([0, *cuts], [*cuts, len(word)], strict=True)]


def _iuliia_scheme(schema: _Translator, leftovers: dict[str, str]) -> Callable[[str], str]:
    def apply(text: str) -> str:
        return _WORD_RE.sub(lambda m: _iuliia_word(m.group(), schema, leftovers), _compose(text))

    return apply


# --- registry -----------------------------------------------------------------------------------

# In priority order: the first scheme of a language is its most common spelling.
SCHEMES: dict[str, Scheme] = {
    s.code: s
    for s in (
        Scheme("be-passport", "be", "Belarusian passport", True, _rule_scheme(_passport)),
        Scheme(
            "be-national", "be", "Belarusian national system (2007)", False, _rule_scheme(_national)
        ),
        Scheme(
            "be-national-ascii",
            "be",
            "Belarusian national system (2007), without diacritics",
            True,
            _rule_scheme(_without_marks(_national)),
        ),
        Scheme("be-lacinka", "be", "Belarusian Łacinka", False, _rule_scheme(_lacinka)),
        Scheme("be-bgn-pcgn", "be", "BGN/PCGN 1979 (Belarusian), ASCII", True, _rule_scheme(_bgn)),
        Scheme("be-icao", "be", "ICAO Doc 9303 (Belarusian)", True, _rule_scheme(_icao_be)),
        Scheme(
            "ru-wikipedia",
            "ru",
            "Wikipedia (Russian)",
            True,
            _iuliia_scheme(iuliia.WIKIPEDIA, _RU_LEFTOVERS["ru-wikipedia"]),
        ),
        Scheme(
            "ru-icao",
            "ru",
            "ICAO Doc 9303 (Russian passport)",
            True,
            _iuliia_scheme(iuliia.ICAO_DOC_9303, _RU_LEFTOVERS["ru-icao"]),
        ),
        Scheme(
            "ru-bgn-pcgn",
            "ru",
            "BGN/PCGN (Russian)",
            False,
            _iuliia_scheme(iuliia.BGN_PCGN, _RU_LEFTOVERS["ru-bgn-pcgn"]),
        ),
        Scheme(
            "ru-gost-779",
            "ru",
            "GOST 7.79 / ISO 9 (Russian)",
            False,
            _iuliia_scheme(iuliia.GOST_779, _RU_LEFTOVERS["ru-gost-779"]),
        ),
    )
}


def transliterate(text: str, scheme: str) -> str:
    """Romanise ``text`` with the scheme of that code; ValueError for an unknown code."""
    try:
        found = SCHEMES[scheme]
    except KeyError:
        raise ValueError(f"unknown transliteration scheme {scheme!r}") from None
    return found.apply(text)


def schemes_for(language: str) -> list[Scheme]:
    """The schemes for Cyrillic text in ``language`` ("be" or "ru"), most common first."""
    return [s for s in SCHEMES.values() if s.language == language]


def variants(text: str, language: str) -> list[tuple[str, list[str]]]:
    """Each distinct Latin spelling of ``text``, with the codes of the schemes that give it."""
    found: dict[str, list[str]] = {}
    for scheme in schemes_for(language):
        found.setdefault(scheme.apply(text), []).append(scheme.code)
    return list(found.items())


# --- language detection -------------------------------------------------------------------------

_CYR = "а-яёіўґєїА-ЯЁІЎҐЄЇ"
_BE_APOSTROPHE_RE = re.compile(f"[{_CYR}]['’ʼ][{_CYR}]")
_LATIN_I_RE = re.compile(f"[{_CYR}][iI]|[iI][{_CYR}]")


def detect_language(text: str) -> str | None:
    """Return "be" or "ru" when letters only one of them uses settle it, else None.

    Belarusian: і, ў, an apostrophe between letters, a Latin i inside a Cyrillic word.
    Russian: и, щ, ъ. Neither, both, or Ukrainian є ї: None.
    """
    text = _compose(text).lower()
    if any(c in text for c in "єї"):
        return None
    belarusian = (
        any(c in text for c in "іў")
        or _BE_APOSTROPHE_RE.search(text) is not None
        or _LATIN_I_RE.search(text) is not None
    )
    russian = any(c in text for c in "ищъ")
    if belarusian != russian:
        return "be" if belarusian else "ru"
    return None


# --- search key ---------------------------------------------------------------------------------

_KEEP_MARKED = frozenset("йўї")  # Cyrillic letters of their own, not a letter plus an accent
_NO_DECOMPOSITION = {"ł": "l", "đ": "d", "ø": "o", "ı": "i", "æ": "ae", "œ": "oe", "ħ": "h"}
# apostrophes and the marks schemes write for ь and ъ (’ ” ʹ ʺ) or to split digraphs (·)
_DROPPED = frozenset("'’‘ʼʹʺ`´”·")
_HYPHENS = frozenset("-‐‑‒–—―−")


def _fold_once(text: str) -> str:
    out: list[str] = []
    for ch in unicodedata.normalize("NFC", text).casefold():
        if ch in _DROPPED:
            continue
        if ch in _HYPHENS:
            out.append(" ")
        elif ch in _KEEP_MARKED:
            out.append(ch)
        else:
            for part in unicodedata.normalize("NFKD", ch):
                if not unicodedata.combining(part):
                    out.append(_NO_DECOMPOSITION.get(part, part))
    return " ".join("".join(out).split())


def search_key(text: str) -> str:
    """The key spellings are matched on: case, accents, ё/е, apostrophes, hyphens and spacing
    folded away. ``search_key("Kalieśnikava") == "kaliesnikava"``."""
    key = _fold_once(text)
    for _ in range(4):  # casefold and NFKD can each undo the other's work once or twice
        again = _fold_once(key)
        if again == key:
            break
        key = again
    return key
