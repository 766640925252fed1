"""The events an article states, as proposals: release, transfer, detention, sentence, death.

Sentence by sentence (quoted speech masked out, so that a quoted "he will not release people"
states nothing), each event word is given its subject by the grammar around it:

- a passive or intransitive form ("X was released", "X died", "освобождена X"): the first
  person named before it in the clause (after any introductory "After ..., " / "According to
  ..., " clause and after any reporting verb: "Y said that X was detained" is about X), else,
  in Russian, the first named after it;
- an active form ("Lukashenko pardoned X", "суд приговорил X"): the first person named after it;
- a noun ("After his release, X ..."; "the release of X"): the person named after it;
- every person of an "including X, Y" / "along with X" / "в том числе X" / "вместе с X" list.

Persons named as relatives ("X's wife", "жена X") or after a preposition ("talks with X", "by
X") are never subjects. Group counts ("123 prisoners", "114 of them", "113 other prisoners", the
latter plus the persons named with them) make a proposal without a person.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Any

from .dates import dates_in
from .mentions import Mention, Token, tokens

# --- Sentences -------------------------------------------------------------------------------

_ABBREVIATION_TEXT = (
    "mr mrs ms dr prof st jr sr gen col lt no vs jan feb mar apr jun jul aug sep sept oct "
    "nov dec u.s u.k e.g i.e г ул им т.е т.д"
)
_ABBREVIATIONS = frozenset(_ABBREVIATION_TEXT.split())
_BOUNDARY = re.compile(r"[.!?…]+[\"”»’]?\s+(?=[\"“«‘(]?[A-ZА-ЯЁІЎ0-9])|\n\s*")
_LAST_WORD = re.compile(r"([\w.]+)$")
_QUOTED = re.compile(r"“[^”]*”|«[^»]*»|\"[^\"\n]*\"|„[^“”]*[“”]")


def sentences(text: str) -> list[tuple[int, int]]:
    """The spans of the sentences of ``text`` (a line break always ends one)."""
    spans = []
    start = 0
    for match in _BOUNDARY.finditer(text):
        if text[match.start()] != "\n":
            last = _LAST_WORD.search(text[start : match.start()])
            word = last.group(1).lower() if last else ""
            if word in _ABBREVIATIONS or (len(word) == 1 and word.isalpha()):
                continue
        if text[start : match.start()].strip():
            spans.append((start, match.end()))
        start = match.end()
    if text[start:].strip():
        spans.append((start, len(text)))
    return spans


def mask_quotes(text: str) -> str:
    return _QUOTED.sub(lambda m: " " * len(m.group()), text)


# --- Event words -----------------------------------------------------------------------------

PASSIVE, ACTIVE, NOUN, INTRANSITIVE = "passive", "active", "noun", "intransitive"

_AUX_EN = r"(?:was|were|is|are|been|being|be|has\s+been|have\s+been|had\s+been|got|get|gets)"
_ADV = r"(?:\s+(?:also|later|then|finally|now|reportedly|eventually|officially|just|not))*"


@dataclass(frozen=True)
class Trigger:
    kind: str
    voice: str
    pattern: re.Pattern[str]


def _t(kind: str, voice: str, pattern: str) -> Trigger:
    return Trigger(kind, voice, re.compile(pattern, re.I))


_PARTICIPLES = {
    "release": r"released|freed|pardoned|set\s+free|granted\s+(?:a\s+)?pardon",
    "transfer": r"transferred|handed\s+over|transported|taken|expelled|deported|flown|driven|sent"
    r"|moved|escorted|forced\s+to\s+leave",
    "detention": r"detained|arrested|taken\s+into\s+custody|apprehended",
    "sentence": r"sentenced|jailed|convicted|given\s+(?:a\s+)?(?:\w+\s+){0,3}(?:jail|prison)\s+"
    r"(?:term|sentence)",
}
_TRANSFER_TO = r"(?=\s+(?:\w+\s+){0,3}?(?:to|into|across|out\s+of)\b)"

TRIGGERS: list[Trigger] = []
for _kind, _words in _PARTICIPLES.items():
    _tail = _TRANSFER_TO if _kind == "transfer" else ""
    TRIGGERS.append(_t(_kind, PASSIVE, rf"\b{_AUX_EN}{_ADV}\s+(?:{_words})\b{_tail}"))
    TRIGGERS.append(_t(_kind, PASSIVE, rf"\bamong\s+(?:those|the\s+\w+)\s+(?:{_words})\b"))
TRIGGERS += [
    _t("release", ACTIVE, r"\b(?:released|freed|pardoned|pardons|releases|frees)\b"),
    _t("release", INTRANSITIVE, r"\b(?:walked|went)\s+free\b"),
    _t("release", NOUN, r"\b(?:release|pardon|freedom)\b"),
    _t(
        "transfer",
        ACTIVE,
        r"\b(?:transferred|handed\s+over|expelled|deported|sent|flew|took|drove)\b" + _TRANSFER_TO,
    ),
    _t("detention", ACTIVE, r"\b(?:detained|arrested|detain|arrest)\b"),
    _t("detention", NOUN, r"\b(?:arrest|detention)\s+of\b"),
    _t("sentence", ACTIVE, r"\b(?:sentenced|jailed)\b"),
    # "A court handed X an eight-year sentence": the person comes between.
    _t(
        "sentence",
        ACTIVE,
        r"\b(?:handed|gave)(?:\s+down)?(?=\s+(?:[A-Z][\w'’.-]*\s+){1,3}(?:an?\s+)?"
        r"(?:[\w-]+\s+){0,3}(?:sentence|jail\s+term|prison\s+term))",
    ),
    _t(
        "transfer",
        INTRANSITIVE,
        r"\b(?:left|fled|flew|crossed|was\s+driven)\s+(?:for|to|into)"
        r"(?=\s+(?:neighbouring\s+|neighboring\s+)?(?:"
        + "|".join(
            (
                "ukrain",
                "lithuani",
                "poland",
                "latvia",
                "germany",
                "vilnius",
                "kyiv",
                "warsaw",
                "riga",
            )
        )
        + r"))",
    ),
    _t(
        "death",
        INTRANSITIVE,
        r"\b(?:died|has\s+died|was\s+found\s+dead)\b(?=\s+(?:\w+\s+){0,4}?"
        r"(?:custody|prison|jail|colony|detention|cell|behind\s+bars))",
    ),
    _t(
        "death", NOUN, r"\bdeath\s+(?:in\s+(?:custody|prison|a\s+penal\s+colony|detention))?\s*of\b"
    ),
    # Russian
    _t(
        "release",
        PASSIVE,
        r"(?<!\w)(?:освобожден[аоы]?|освобождён[аоы]?|помилован[аоы]?|отпущен[аоы]?|"
        r"вызвален[аыя]я?|памілаван[аыя]я?)(?!\w)",
    ),
    _t(
        "release",
        ACTIVE,
        r"(?<!\w)(?:освободил[аи]?|помиловал[аи]?|отпустил[аи]?|освобождает|помиловать)(?!\w)",
    ),
    _t("release", INTRANSITIVE, r"(?<!\w)(?:вышл[аи]|вышел)\s+на\s+свободу(?!\w)"),
    _t("release", NOUN, r"(?<!\w)(?:освобождени[еюя]|помиловани[еюя])(?!\w)"),
    _t(
        "transfer",
        PASSIVE,
        r"(?<!\w)(?:передан[аоы]?|вывезен[аоы]?|перевезен[аоы]?|доставлен[аоы]?|"
        r"депортирован[аоы]?|выслан[аоы]?|выдворен[аоы]?)(?!\w)",
    ),
    _t(
        "transfer",
        ACTIVE,
        r"(?<!\w)(?:передал[аи]?|вывезл[аи]|вывез|депортировал[аи]?|выслал[аи]?|выдворил[аи]?)"
        r"(?!\w)",
    ),
    _t(
        "detention",
        PASSIVE,
        r"(?<!\w)(?:задержан[аоы]?|арестован[аоы]?|затрыман[аыя]я?|арыштаван[аыя]я?)(?!\w)",
    ),
    _t("detention", ACTIVE, r"(?<!\w)(?:задержал[аи]?|арестовал[аи]?)(?!\w)"),
    _t(
        "sentence",
        PASSIVE,
        r"(?<!\w)(?:приговорен[аоы]?|приговорён[аоы]?|осужден[аоы]?|асуджан[аыя]я?|"
        r"прысуджан[аыя]я?)(?!\w)",
    ),
    _t("sentence", ACTIVE, r"(?<!\w)(?:приговорил[аи]?|осудил[аи]?)(?!\w)"),
    _t(
        "death",
        INTRANSITIVE,
        r"(?<!\w)(?:умер(?:ла|ли)?|скончал(?:ся|ась|ись)|погиб(?:ла|ли)?)(?!\w)(?=\s+(?:\w+\s+){0,4}?"
        r"(?:колони|тюрьм|СИЗО|заключени|изолятор|под\s+стражей|ИК))",
    ),
    _t("death", NOUN, r"(?<!\w)смерть\s+(?:в\s+(?:колонии|тюрьме|СИЗО|заключении)\s+)?"),
    # Belarusian (the passive forms are with the Russian ones above)
    _t(
        "release",
        ACTIVE,
        r"(?<!\w)(?:вызвалілі|вызваліў|вызваліла|памілаваў|памілавалі|памілавала)(?!\w)",
    ),
    _t("release", INTRANSITIVE, r"(?<!\w)(?:выйшаў|выйшла|выйшлі)\s+на\s+(?:волю|свабоду)(?!\w)"),
    _t("release", NOUN, r"(?<!\w)(?:вызваленн[еяю]|памілаванн[еяю])(?!\w)"),
    _t(
        "transfer",
        PASSIVE,
        r"(?<!\w)(?:вывезен[аыя]я?|дэпартаван[аыя]я?|высланы|выслана|перададзен[аыя]я?)(?!\w)",
    ),
    _t("transfer", ACTIVE, r"(?<!\w)(?:вывезлі|дэпартавалі|выслалі|перадалі)(?!\w)"),
    _t("detention", ACTIVE, r"(?<!\w)(?:затрымалі|затрымаў|арыштавалі|арыштаваў)(?!\w)"),
    _t("sentence", ACTIVE, r"(?<!\w)(?:асудзілі|асудзіў|прысудзілі|прысудзіў)(?!\w)"),
    _t(
        "death",
        INTRANSITIVE,
        r"(?<!\w)(?:памёр|памерла|загінуў|загінула)(?!\w)(?=\s+(?:\w+\s+){0,4}?"
        r"(?:калоні|турм|СІЗА|зняволен|ізалятар|пад\s+вартай))",
    ),
]

# --- Context words ---------------------------------------------------------------------------

_REPORTING = re.compile(
    r"\b(?:said|says|told|stated|added|announced|wrote|reported|asserted|noted|confirmed|"
    r"welcomed|praised|called|urged|thanked|commented|claimed|believes|thinks|hopes)\b"
    r"|(?<!\w)(?:заявил[аи]?|сообщил[аи]?|сказал[аи]?|написал[аи]?|отметил[аи]?|"
    r"приветствовал[аи]?|рассказал[аи]?|подтвердил[аи]?|считает|уверен[аы]?)(?!\w)",
    re.I,
)
_INTRO = re.compile(
    r"^\s*(?:after|before|upon|following|according\s+to|while|when|as|in|"
    r"после|по\s+словам|по\s+данным|как|когда)\b[^,]*,",
    re.I,
)
_LIST = re.compile(
    r"\b(?:including|among\s+them|among\s+whom|along\s+with|together\s+with|as\s+well\s+as)\b"
    r"|(?<!\w)(?:в\s+том\s+числе|среди\s+них|вместе\s+с|включая|а\s+также)(?!\w)",
    re.I,
)
_PREPOSITION_BEFORE = re.compile(
    r"(?:\b(?:with|by|from|for|to|against|about|of|at|on|meet|meeting|met|embracing|embraced|"
    r"challenge|envoy|president|leader|than|behalf\s+of)|(?<!\w)(?:с|со|от|для|к|против|"
    r"о|об|у|президент|лидер|встреч\w*))\s+(?:(?:mr|ms|mrs|dr)\.?\s+)?$",
    re.I,
)
_RELATIVE = re.compile(
    r"(?:wife|husband|mother|father|son|daughter|brother|sister|lawyer|partner|spouse|relative|"
    r"жена|муж|мать|отец|сын|дочь|брат|сестра|адвокат|супруга?|мама|папа)",
    re.I,
)
_RELATIVE_AFTER = re.compile(rf"^['’]s\s+(?:\w+\s+)?{_RELATIVE.pattern}", re.I)
_RELATIVE_BEFORE = re.compile(rf"{_RELATIVE.pattern}\s+(?:of\s+)?(?:(?:mr|ms|mrs)\.?\s+)?$", re.I)
_NEGATION = re.compile(
    r"\b(?:not|never|n't|no\s+longer|yet\s+to\s+be|refused\s+to)\b|(?<!\w)(?:не|ни|нельзя)(?!\w)",
    re.I,
)
_MODAL = re.compile(
    r"\b(?:would|will|could|may|might|should|expected|likely|hopes?|plans?\s+to|to\s+be)\b"
    r"|(?<!\w)(?:может|могут|будет|будут|могли|должн\w*|планиру\w*)(?!\w)",
    re.I,
)
# Who does things to prisoners, right before an active verb ("police detained X").
_AGENT_BEFORE = re.compile(
    r"(?:\b[A-Z][\w.’']*|\b(?:police|court|courts|authorities|they|he|she|officers|agents|"
    r"judge|regime|forces|militia|guards|officials|government|kgb|who))"
    r"(?:\s+(?:has|have|had|also|later|reportedly|then|finally|quietly|unexpectedly))*\s*$"
)
_CONJUNCTION = re.compile(r"^\s*(?:,|and|и|і|ды|,\s*and)\s*$", re.I)

_WORD_NUMBERS = {
    "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9,
    "ten": 10, "eleven": 11, "twelve": 12, "fifteen": 15, "twenty": 20, "двух": 2, "трех": 3,
    "трёх": 3, "пяти": 5, "шести": 6, "семи": 7, "восьми": 8, "десяти": 10,
    "thirteen": 13, "fourteen": 14, "sixteen": 16, "seventeen": 17, "eighteen": 18,
    "nineteen": 19, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "hundred": 100,
    "dozens": 0, "девяти": 9, "четырех": 4, "четырёх": 4, "трох": 3, "чатырох": 4,
    "пяці": 5, "шасці": 6, "сямі": 7, "васьмі": 8, "дзевяці": 9, "дзесяці": 10,
}  # fmt: skip
_NUMBER = r"(\d[\d,\s]{0,6}\d|\d|" + "|".join(_WORD_NUMBERS) + ")"
_GROUP_NOUN = (
    r"(?:political\s+)?(?:prisoners|detainees|people|persons|individuals|inmates|others|"
    r"political\s+prisoners|belarusians|citizens|men|women|foreigners)"
    r"|(?:политзаключ\w*|заключ[её]нн\w*|человек|узник\w*|граждан\w*|иностран\w*)"
)
_COUNT = re.compile(
    rf"(?<![\w.,]){_NUMBER}\s+(?P<other>other\s+|других\s+|другими\s+)?(?:{_GROUP_NOUN})\b"
    rf"|(?<![\w.,]){_NUMBER}\s+(?:of\s+them|из\s+них)",
    re.I,
)
_TERM = re.compile(
    rf"{_NUMBER}(?:\s+and\s+a\s+half)?\s+(?:years?|months?)"
    r"(?:\s+(?:in\s+(?:a\s+)?(?:penal\s+colony|prison|jail)|of\s+(?:imprisonment|prison))"
    r"(?:\s+of\s+\w+\s+regime)?)?"
    r"|(?:a\s+)?(?:long|lengthy|heavy|harsh)\s+(?:jail|prison)\s+(?:term|sentence)"
    rf"|(?:an?\s+)?{_NUMBER}-year(?:\s+(?:jail|prison))?\s+(?:sentence|term)"
    r"|life\s+(?:imprisonment|sentence)"
    rf"|(?<!\w)(?:к\s+)?{_NUMBER}\s+(?:годам|года|лет|год)(?:\s+и\s+\d+\s+месяц\w*)?"
    r"(?:\s+(?:колонии|лишения\s+свободы|заключения|тюрьмы)(?:\s+\w+\s+режима)?)?"
    r"|пожизненн\w+\s+(?:заключени\w+|лишени\w+\s+свободы)"
    rf"|(?<!\w)(?:да\s+)?{_NUMBER}\s+(?:гадоў|гады|год)"
    r"(?:\s+(?:калоніі|пазбаўлення\s+волі|зняволення|турмы)(?:\s+\w+\s+рэжыму)?)?",
    re.I,
)

_COUNTRIES: list[tuple[str, str]] = [
    ("UA", r"ukrain\w*|kyiv|kiev|украин\w*|киев\w*|украін\w*|кіев\w*"),
    ("LT", r"lithuani\w*|vilnius|литв\w*|литовск\w*|вильн\w*|літв\w*|літоўск\w*|вільн\w*"),
    ("PL", r"poland|polish|warsaw|польш\w*|польск\w*|варшав\w*|польшч\w*"),
    ("LV", r"latvia\w*|riga|латви\w*|латвийск\w*|риг[уае]|латві\w*"),
    ("DE", r"german\w*|berlin|германи\w*|немецк\w*|берлин\w*"),
    ("US", r"united\s+states|u\.s\.|america|washington|сша|америк\w*|вашингтон\w*"),
    ("RU", r"russia\w*|moscow|росси\w*|москв\w*"),
    ("GE", r"georgia|tbilisi|грузи\w*|тбилиси"),
    ("BY", r"belarus\w*|minsk|беларус\w*|белорус\w*|минск\w*"),
]
_COUNTRY_RE = [(code, re.compile(rf"(?<!\w)(?:{words})(?!\w)", re.I)) for code, words in _COUNTRIES]
_DESTINATION = re.compile(
    r"\b(?:to|into|for|across)\b|(?<!\w)(?:в|во|на|у|ў|ва)(?!\w)",
    re.I,
)
_UNKNOWN_NAME_CONTEXT = re.compile(
    r"(?:political\s+prisoner|prisoner|activist|journalist|blogger|politzek|"
    r"human\s+rights\s+defender|dissident|"
    r"политзаключ[её]нн\w*|политическ\w+\s+заключ[её]нн\w*|активист\w*|журналист\w*|"
    r"блогер\w*|правозащитни\w*|узни\w+\s+совести|"
    r"палітвязн\w*|палітвязень|журналіст\w*|актывіст\w*|праваабаронц\w*)\s+$",
    re.I,
)


def country_in(text: str) -> str | None:
    """The ISO code of the first country, capital or country adjective in ``text``."""
    best: tuple[int, str] | None = None
    for code, pattern in _COUNTRY_RE:
        match = pattern.search(text)
        if match and (best is None or match.start() < best[0]):
            best = (match.start(), code)
    return best[1] if best else None


def _number(raw: str) -> int | None:
    raw = raw.strip().lower()
    if raw in _WORD_NUMBERS:
        return _WORD_NUMBERS[raw]
    digits = re.sub(r"[,\s]", "", raw)
    return int(digits) if digits.isdigit() else None


# --- Proposals -------------------------------------------------------------------------------


@dataclass
class Proposal:
    type: str
    snippet: str
    person_id: int | None = None
    person_name: str | None = None
    date: str | None = None
    from_country: str | None = None
    to_country: str | None = None
    count: int | None = None
    term: str | None = None
    confidence: float = 0.5
    candidates: list[int] = field(default_factory=list)
    deal: bool = False
    position: int = 0
    dated_by_article: bool = False

    def as_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "type": self.type,
            "person_id": self.person_id,
            "person_name": self.person_name,
            "date": self.date,
            "from_country": self.from_country,
            "to_country": self.to_country,
            "count": self.count,
            "term": self.term,
            "confidence": round(self.confidence, 2),
            "snippet": self.snippet,
        }
        if self.candidates:
            data["candidates"] = self.candidates
        if self.deal:
            data["deal"] = True
        return data


@dataclass
class _Named:
    """A person named in a sentence: a known person, an ambiguous name or an unknown name."""

    start: int
    end: int
    text: str
    person_id: int | None
    name: str | None
    candidates: list[int]
    known: bool


@dataclass
class _Found:
    trigger: Trigger
    start: int
    end: int


def _triggers(masked: str) -> list[_Found]:
    found: list[_Found] = []
    for trigger in TRIGGERS:
        for match in trigger.pattern.finditer(masked):
            if any(f.start < match.end() and match.start() < f.end for f in found):
                continue  # an earlier (more specific) pattern has this place
            found.append(_Found(trigger, match.start(), match.end()))
    return sorted(found, key=lambda f: f.start)


def _eligible(sentence: str, person: _Named) -> bool:
    before = sentence[: person.start]
    after = sentence[person.end :]
    if _PREPOSITION_BEFORE.search(before[-40:]):
        return False
    return not (_RELATIVE_AFTER.match(after) or _RELATIVE_BEFORE.search(before[-30:]))


def _with_conjoined(named: list[_Named], first: _Named, sentence: str) -> list[_Named]:
    """``first`` and the persons joined to it by "and" or commas ("X and Y were released")."""
    chosen = [first]
    index = named.index(first)
    for nxt in named[index + 1 :]:
        if _CONJUNCTION.match(sentence[chosen[-1].end : nxt.start]):
            chosen.append(nxt)
        else:
            break
    return chosen


def _clause_floor(masked: str, start: int) -> int:
    """Where the clause of a trigger at ``start`` begins: after an introductory clause ("After
    ..., ") and after the last reporting verb before it ("Y said that ...")."""
    intro = _INTRO.match(masked)
    floor = intro.end() if intro and intro.end() <= start else 0
    for reporting in _REPORTING.finditer(masked[:start]):
        floor = max(floor, reporting.end())
    return floor


# Pronouns that stand for the person the article is about ("She was deported", "его задержали").
_PRONOUN_SUBJECT = re.compile(
    r"(?<![\w'’])(?P<one>he|she|он|она|ён|яна)(?![\w'’])|(?<![\w'’])(?P<many>they|они|яны)(?![\w'’])",
    re.I,
)
_PRONOUN_OBJECT = re.compile(
    r"(?<!\w)(?P<one>его|её|ее|яго|яе)(?!\w)|(?<!\w)(?P<many>их|іх)(?!\w)", re.I
)


def _pronoun_subjects(
    masked: str, found: _Found, named: list[_Named], topic: list[_Named], language: str
) -> list[_Named]:
    """The persons a pronoun subject (or, for a Russian or Belarusian active verb in "-ли", a
    pronoun object) of the trigger's clause stands for: the persons the article was just
    speaking of. Nothing when the clause names someone else or the reference is unclear."""
    if not topic or found.trigger.voice == NOUN:
        return []
    if any(n.start < found.start for n in named):
        return []  # the sentence names someone before: "his wife X said she was detained"
    floor = _clause_floor(masked, found.start)
    clause = masked[floor : found.start]
    verb = masked[found.start : found.end].lower()
    impersonal = language != "en" and found.trigger.voice == ACTIVE and verb.endswith(("ли", "лі"))
    passive_form = language == "en" and re.search(
        rf"\b{_AUX_EN}(?:\s+\w+ly|{_ADV})*\s*$", clause, re.I
    )
    if found.trigger.voice == ACTIVE and not impersonal and not passive_form:
        return []  # "he released X": the pronoun is the agent
    pattern = _PRONOUN_OBJECT if impersonal else _PRONOUN_SUBJECT
    hits = list(pattern.finditer(clause))
    if impersonal and not hits:
        hits = list(pattern.finditer(masked[found.end : found.end + 12]))
    if not hits:
        return []
    hit = hits[-1]
    if hit.group("many"):
        return list(topic)
    return list(topic) if len(topic) == 1 else []


def _subjects(
    sentence: str, masked: str, found: _Found, named: list[_Named], language: str
) -> list[_Named]:
    start, end = found.start, found.end
    intro = _INTRO.match(masked)
    floor = _clause_floor(masked, start)
    before = [n for n in named if floor <= n.start and n.end <= start and _eligible(sentence, n)]
    after = [n for n in named if n.start >= end and _eligible(sentence, n)]
    # Stop "after" at the next reporting verb: "X was freed, Y said" is not about Y.
    next_report = _REPORTING.search(masked, end)
    if next_report:
        after = [n for n in after if n.start < next_report.start()]
    voice = found.trigger.voice
    if voice == ACTIVE and language == "en" and not _AGENT_BEFORE.search(masked[:start][-60:]):
        voice = PASSIVE  # a participle after a noun: "a politician detained in 2020"
    if voice in (PASSIVE, INTRANSITIVE):
        if before:
            return _with_conjoined(named, before[0], sentence)
        if after and language != "en":  # Russian puts the subject after: "освобождена X"
            return _with_conjoined(named, after[0], sentence)
        return []
    if voice == ACTIVE:
        verb = masked[start:end].lower()
        if (
            language != "en"
            and before
            and verb.endswith(("ли", "лі"))
            and not masked[before[-1].end : start].strip()
        ):
            # "Бяляцкага вывезлі ў Літву, а Калеснікаву перадалі ...": the object right
            # before an impersonal verb is its person, whoever is named after.
            return _with_conjoined(named, before[-1], sentence)
    if voice == ACTIVE:
        if after:
            return _with_conjoined(named, after[0], sentence)
        verb = masked[start:end].lower()
        if language != "en" and before and verb.endswith(("ли", "лі")):
            # "Беляцкого вывезли в Вильнюс": no agent, the object may come first.
            return _with_conjoined(named, before[0], sentence)
        return []
    # NOUN: "release of X", "after his release, X ...", "освобождение X".
    if after:
        gap = masked[end : after[0].start]
        if re.fullmatch(r"\s*(?:of\s+|,\s*)?(?:(?:mr|ms|mrs)\.?\s+)?", gap, re.I) or (
            intro is not None and intro.end() <= after[0].start and start < intro.end()
        ):
            return _with_conjoined(named, after[0], sentence)
    return []


def _listed(sentence: str, masked: str, named: list[_Named]) -> list[tuple[int, list[_Named]]]:
    """Persons of each "including X" or "along with X" list, with the list's position."""
    lists: list[tuple[int, list[_Named]]] = []
    for match in _LIST.finditer(masked):
        rest = [n for n in named if n.start >= match.end()]
        if not rest:
            continue
        gap = sentence[match.end() : rest[0].start]
        if len(gap) > 60 or (re.search(r"[,;–—]", gap.strip(" ,")) and len(gap) > 40):
            continue
        lists.append((match.start(), _with_conjoined(named, rest[0], sentence)))
    return lists


def _nearest(position: int, found: list[_Found]) -> _Found:
    return min(found, key=lambda f: min(abs(position - f.start), abs(position - f.end)))


def _count(masked: str, kind: str, named_count: int) -> int | None:
    best: int | None = None
    for match in _COUNT.finditer(masked):
        raw = next(g for g in match.groups() if g)
        number = _number(raw)
        if number is None or number < 2 or 1900 <= number <= 2100:
            continue
        if match.groupdict().get("other"):
            number += max(named_count, 1)
        if best is None:
            best = number
    return best


def propose(
    text: str,
    mentions: list[Mention],
    unknown_runs: list[list[Token]],
    published: dt.date | None,
    language: str,
) -> tuple[list[Proposal], dict[str, Any] | None]:
    """The proposals for ``text`` and, when it states a deal with counts, the deal."""
    masked_text = mask_quotes(text)
    proposals: list[Proposal] = []
    deal_words = re.search(
        r"\b(?:deal|agreement|exchange|swap|bargain)\b|(?<!\w)(?:сделк\w*|соглашени\w*|обмен\w*)",
        text,
        re.I,
    )
    mentions_belarus = re.search(r"belarus|беларус|белорус", text, re.I) is not None
    topic: list[_Named] = []  # whom the article was just speaking of, for pronouns
    words = [t for t in tokens(text) if t.capitalised and len(t.text) > 2]
    unknown_seen: dict[str, str] = {}  # surname -> an unknown name accepted earlier
    for s_start, s_end in sentences(text):
        sentence = text[s_start:s_end]
        masked = masked_text[s_start:s_end]
        found = _triggers(masked)
        named = _named_in(
            sentence, masked, s_start, mentions, unknown_runs, unknown_seen, language, words, found
        )
        for person in named:
            if not person.known and person.name and len(person.name.split()) > 1:
                unknown_seen.setdefault(person.name.split()[-1].lower(), person.name)
        eligible = [n for n in named if _eligible(sentence, n)]
        if not found:
            if eligible:
                topic = eligible[:1]
            continue
        sentence_subjects: list[_Named] = []
        listed = _listed(sentence, masked, named)
        dates = dates_in(masked, published)
        for index, trig in enumerate(found):
            kind = trig.trigger.kind
            lead = masked[max(0, trig.start - 30) : trig.start + 12]
            if _NEGATION.search(lead):
                continue  # "was not released", "не освобожден": states no event
            hedged = _MODAL.search(lead) is not None
            subjects = _subjects(sentence, masked, trig, named, language)
            by_pronoun = False
            if not subjects and not listed:
                subjects = _pronoun_subjects(masked, trig, named, topic, language)
                by_pronoun = bool(subjects)
            sentence_subjects += [p for p in subjects if p not in sentence_subjects]
            if trig.trigger.voice != NOUN or subjects:
                for position, members in listed:
                    if _nearest(position, found) is not trig:
                        continue
                    subjects += [person for person in members if person not in subjects]
            date = _date_for(trig, found, index, dates)
            to_country = from_country = None
            term = None
            if kind == "transfer":
                next_start = found[index + 1].start if index + 1 < len(found) else len(masked)
                to_country = _destination(masked[trig.end : next_start])
                from_country = "BY" if mentions_belarus and to_country != "BY" else None
            if kind == "sentence":
                term_match = _TERM.search(masked, trig.start)
                if term_match is None:
                    term_match = _TERM.search(masked)
                term = term_match.group().strip() if term_match else None
            count = _count(masked, kind, len(subjects)) if kind in ("release", "transfer") else None
            snippet = " ".join(sentence.split())
            base = 0.55 + (0.1 if date else 0) + (0.1 if trig.trigger.voice != NOUN else 0)
            base -= 0.3 if hedged else 0  # "would be released", "может быть освобожден"
            base -= 0.1 if by_pronoun else 0
            for person in subjects:
                proposals.append(
                    Proposal(
                        type=kind,
                        snippet=snippet,
                        person_id=person.person_id,
                        person_name=None if person.known else person.name,
                        candidates=person.candidates,
                        date=date,
                        from_country=from_country,
                        to_country=to_country,
                        term=term,
                        confidence=min(
                            0.95,
                            base
                            + (0.15 if person.person_id else 0)
                            - (0.2 * bool(person.candidates)),
                        ),
                        position=s_start + trig.start,
                    )
                )
            if count and trig.trigger.voice != NOUN and not _group_done(proposals, kind, count):
                proposals.append(
                    Proposal(
                        type=kind,
                        snippet=snippet,
                        date=date,
                        count=count,
                        from_country=from_country,
                        to_country=to_country,
                        confidence=base,
                        position=s_start + trig.start,
                    )
                )
        if sentence_subjects:
            topic = sentence_subjects
        elif eligible:
            topic = eligible[:1]
    _date_from_article(proposals, published)
    deal = _deal(proposals) if deal_words else None
    return _dedupe(proposals), deal


def _group_done(proposals: list[Proposal], kind: str, count: int) -> bool:
    return any(p.type == kind and p.count == count for p in proposals)


def _destination(text: str) -> str | None:
    """The country an event word sends someone to: after "to", "в", "на" (else, in Russian
    word order, the first country named: "переданы Украине")."""
    for match in _DESTINATION.finditer(text):
        code = country_in(text[match.end() : match.end() + 60])
        if code and code != "BY":
            return code
    code = country_in(text[:80])
    return code if code != "BY" else None


def _date_for(
    trig: _Found, found: list[_Found], index: int, dates: list[tuple[int, int, str]]
) -> str | None:
    """The date of an event word: the first date after it and before the next event word, else
    the last date before it (and after the previous event word)."""
    next_start = found[index + 1].start if index + 1 < len(found) else 10**9
    prev_end = found[index - 1].end if index else 0
    for start, _end, value in dates:
        if trig.end <= start < next_start:
            return value
    earlier = [value for start, _end, value in dates if prev_end <= start < trig.start]
    return earlier[-1] if earlier else None


def _date_from_article(proposals: list[Proposal], published: dt.date | None) -> None:
    """Releases and transfers stated without a date take the day the article gives one of them
    (within a month before publication): one report, one event."""
    day = None
    for p in sorted(proposals, key=lambda p: p.position):
        if p.type in ("release", "transfer") and p.date and len(p.date) == 10:
            on = dt.date.fromisoformat(p.date)
            if published is None or dt.timedelta(0) <= published - on <= dt.timedelta(days=31):
                day = p.date
                break
    if day is None:
        return
    for p in proposals:
        if p.type in ("release", "transfer") and p.date is None:
            p.date = day
            p.dated_by_article = True


def _deal(proposals: list[Proposal]) -> dict[str, Any] | None:
    releases = [p for p in proposals if p.type == "release" and p.count]
    if not releases:
        return None
    total = max(p.count or 0 for p in releases)
    day = releases[0].date
    destinations = [
        {"country": p.to_country, "count": p.count}
        for p in proposals
        if p.type == "transfer" and p.count and p.to_country
    ]
    for p in proposals:
        if p.type in ("release", "transfer") and (p.date == day or p.date is None):
            p.deal = True
    return {
        "reported_total": total,
        "date": day,
        "destinations": destinations,
        "snippet": releases[0].snippet,
    }


def _dedupe(proposals: list[Proposal]) -> list[Proposal]:
    """One proposal per event type and person (or group count), the surest kept, with the
    details of the others filled in."""
    kept: dict[tuple[Any, ...], Proposal] = {}
    for p in proposals:
        key = (p.type, p.person_id, p.person_name, tuple(p.candidates), p.count)
        if p.person_id is None and p.person_name is None and not p.candidates and p.count is None:
            continue
        old = kept.get(key)
        if old is None:
            kept[key] = p
            continue
        for attr in ("to_country", "term", "from_country"):
            if getattr(old, attr) is None and getattr(p, attr) is not None:
                setattr(old, attr, getattr(p, attr))
        if (old.date is None or old.dated_by_article) and p.date and not p.dated_by_article:
            old.date = p.date
            old.dated_by_article = False
        old.confidence = max(old.confidence, p.confidence)
    return sorted(kept.values(), key=lambda p: p.position)


def _named_in(
    sentence: str,
    masked: str,
    offset: int,
    mentions: list[Mention],
    unknown_runs: list[list[Token]],
    unknown_seen: dict[str, str] | None = None,
    language: str = "en",
    words: list[Token] | None = None,
    found: list[_Found] | None = None,
) -> list[_Named]:
    named = [
        _Named(
            m.start - offset,
            m.end - offset,
            m.text,
            m.person_id,
            m.name or m.text,
            m.candidates,
            known=m.person_id is not None,
        )
        for m in mentions
        if offset <= m.start and m.end <= offset + len(sentence)
    ]
    for m in named:
        if m.candidates:
            m.name = m.text
    # Unknown names, only in a prisoner-like context: "political prisoner X", "X was sentenced".
    for run in unknown_runs:
        start, end = run[0].start - offset, run[-1].end - offset
        if start < 0 or end > len(sentence):
            continue
        while len(run) > 2 and _common_word(run[0].text):
            run = run[1:]  # "Правозащитницу Насту Лойко", "Activist John Smith"
        start = run[0].start - offset
        if len(run) < 2:
            continue
        before = masked[max(0, start - 40) : start]
        after = masked[end : end + 60]
        prisoner_like = (
            _UNKNOWN_NAME_CONTEXT.search(before)
            or _UNKNOWN_NAME_AFTER.match(after)
            or _in_list(masked, start)
            or any(f.trigger.voice == ACTIVE and 0 <= start - f.end <= 3 for f in (found or ()))
            # "pardoned Anton Sauchuk and Darya Losik": joined to a name taken before
            or any(
                not n.known and _CONJUNCTION.match(masked[n.end : start])
                for n in named
                if n.end <= start
            )
        )
        if prisoner_like:
            text = sentence[start:end]
            name = nominative(text) if language != "en" else text
            named.append(_Named(start, end, text, None, name, [], known=False))
    # A surname alone ("Fenner was ...", "Северинца ...") of an unknown name proposed earlier
    # in the article: the same unknown person.
    for token in words or ():
        t_start, t_end = token.start - offset, token.end - offset
        if t_start < 0 or t_end > len(sentence) or not unknown_seen:
            continue
        if any(n.start <= t_start < n.end for n in named):
            continue
        same = _seen_surname(token.text, unknown_seen)
        if same:
            named.append(_Named(t_start, t_end, token.text, None, same, [], known=False))
    return sorted(named, key=lambda n: n.start)


# After an unknown name, what makes it a prisoner's ("X was sentenced", "X, 52, died in
# custody", "X освобождена", "X вышла на свободу"; "X задержали": an impersonal verb).
_UNKNOWN_NAME_AFTER = re.compile(
    r"(?:\s*,\s*[^,.;:()\"“”«»]{1,45},)?"  # ", 52,", ", a human rights defender,"
    rf"\s+(?:(?:{_AUX_EN}{_ADV}\s+(?:\w+ly\s+)?(?:{'|'.join(_PARTICIPLES.values())}))"
    r"|died|has\s+died|walked\s+free|was\s+killed"
    r"|(?:был[аи]?\s+)?(?:задержан|арестован|осужден|приговорен|освобожден|помилован|"
    r"депортирован|выслан|вывезен|умер|скончал|погиб)\w*"
    r"|вы(?:шел|шла|шли)\s+на\s+свободу"
    r"|(?:быў|была|былі\s+)?\s*(?:затрыман|арыштаван|асуджан|вызвален|памілаван|вывезен|"
    r"дэпартаван)\w*|памёр|памерла|выйш(?:аў|ла|лі)\s+на\s+(?:волю|свабоду)"
    r"|(?:затрымалі|арыштавалі|асудзілі|прысудзілі|вызвалілі|памілавалі|дэпартавалі|выслалі|"
    r"вывезлі|перадалі)(?!\w)"
    r"|(?:задержали|арестовали|осудили|приговорили|освободили|помиловали|депортировали|"
    r"выслали|вывезли)(?!\w))",
    re.I,
)


_COMMON_TEXT = (
    "activist journalist blogger opposition politician lawyer former political prisoner "
    "dissident artist musician writer poet philosopher economist candidate leader defender "
    "analyst businessman priest pastor student teacher doctor reporter photographer editor "
    "campaigner volunteer pensioner nobel laureate belarusian human rights ex"
)
_COMMON_BEFORE_NAMES = frozenset(_COMMON_TEXT.split())


def _common_word(word: str) -> bool:
    """A capitalised word that is not part of a name: "Activist", "Правозащитницу"."""
    if word.lower() in _COMMON_BEFORE_NAMES or _UNKNOWN_NAME_CONTEXT.search(word + " "):
        return True
    if not re.match("[а-яёіў]", word, re.I):
        return False
    from prisoners.search import _morph

    parses = _morph().parse(word)
    if any(
        p.tag.POS != "NOUN" or {"Name", "Surn", "Patr", "Geox", "Orgn"} & p.tag.grammemes
        for p in parses[:3]
    ):
        return False
    return parses[0].is_known and parses[0].score >= 0.5


def _in_list(masked: str, start: int) -> bool:
    """Is the name at ``start`` in an "including X, Y and Z" list (only names and "and"
    between the list word and it)?"""
    for match in _LIST.finditer(masked[:start]):
        between = masked[match.end() : start]
        if re.fullmatch(r"(?:\s*(?:[A-ZА-ЯЁІЎ][\w'’.-]*|,|and|и|і)\s*)*\s*", between):
            return True
    return False


def _same_stem(a: str, b: str) -> bool:
    """The same surname, whatever the case ending: "северинец"/"северинца", "fenner"."""
    a, b = a.lower().removesuffix("'s").removesuffix("’s"), b.lower()
    if a == b:
        return True
    common = next(
        (i for i, (x, y) in enumerate(zip(a, b, strict=False)) if x != y), min(len(a), len(b))
    )
    return common >= max(4, min(len(a), len(b)) - 2)


def _seen_surname(word: str, seen: dict[str, str]) -> str | None:
    for surname, name in seen.items():
        if _same_stem(word, surname):
            return name
    return None


def _capitalised(word: str) -> str:
    return "-".join(part[:1].upper() + part[1:] for part in word.split("-"))


def nominative(name: str) -> str:
    """A Russian name as the article inflects it ("Павла Северинца", "Марию Колесникову") in
    the nominative ("Павел Северинец", "Мария Колесникова"): the case and gender are read off
    the given name, and every part is put in the nominative of that gender. A name whose given
    name is not recognised, or already in the nominative, is left as it is."""
    words = name.split()
    if len(words) < 2 or not re.search("[а-яё]", name, re.I):
        return name
    from prisoners.search import _morph

    morph = _morph()
    first = next((p for p in morph.parse(words[0]) if "Name" in p.tag), None)
    if first is None or first.tag.case == "nomn":
        return name
    gender, case = first.tag.gender, first.tag.case
    result = []
    for word in words:
        parse = next(
            (
                p
                for p in morph.parse(word)
                if p.tag.case == case and p.tag.gender in (gender, None) and "NOUN" in p.tag
            ),
            None,
        )
        nominal = parse.inflect({"nomn"}) if parse is not None else None
        result.append(_capitalised(nominal.word) if nominal is not None else word)
    return " ".join(result)
