"""Dates stated in article text: absolute ("Dec. 13, 2025", "13 декабря 2025", "in March 2024")
or relative to the publication date ("on Saturday", "yesterday", "в субботу", "five years ago").

A date is returned as ``(text position, value)`` where the value is ``YYYY``, ``YYYY-MM`` or
``YYYY-MM-DD`` (the precision the text gives).
"""

from __future__ import annotations

import datetime as dt
import re

_EN_MONTHS = {
    m: i + 1
    for i, m in enumerate(
        ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
    )
}
_RU_MONTHS = {
    stem: i + 1
    for i, stem in enumerate(
        [
            "январ",
            "феврал",
            "март",
            "апрел",
            "ма",
            "июн",
            "июл",
            "август",
            "сентябр",
            "октябр",
            "ноябр",
            "декабр",
        ]
    )
}
# Belarusian month stems (genitive "студзеня", locative "у студзені").
_RU_MONTHS.update(
    {
        stem: number
        for number, stems in enumerate(
            [
                ("студзен",),
                ("лютага", "лютым"),
                ("сакав",),
                ("красав",),
                ("траўн", "травен"),
                ("чэрвен",),
                ("ліпен",),
                ("жніўн", "жнівен"),
                ("верас",),
                ("кастрычн",),
                ("лістапад",),
                ("снеж",),
            ],
            start=1,
        )
        for stem in stems
    }
)
_EN_MONTH = (
    r"(?P<mon>jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|"
    r"sept?(?:ember)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?"
)
_RU_MONTH = (
    r"(?P<rmon>январ[ья]|феврал[ья]|марта?|апрел[ья]|ма[йя]|июн[ья]|июл[ья]|августа?|"
    r"сентябр[ья]|октябр[ья]|ноябр[ья]|декабр[ья]|"
    r"студзеня|лютага|сакавіка|красавіка|траўня|чэрвеня|ліпеня|жніўня|верасня|кастрычніка|"
    r"лістапада|снежня)"
)
_ORD = r"(?:st|nd|rd|th)?"
_ABSOLUTE = [
    re.compile(r"\b(?P<year>\d{4})-(?P<m>\d{2})-(?P<day>\d{2})\b"),
    re.compile(rf"\b{_EN_MONTH}\s+(?P<day>\d{{1,2}}){_ORD},?\s+(?P<year>\d{{4}})\b", re.I),
    re.compile(
        rf"\b(?P<day>\d{{1,2}}){_ORD}\s+(?:of\s+)?{_EN_MONTH},?\s+(?P<year>\d{{4}})\b", re.I
    ),
    re.compile(rf"(?<!\w)(?P<day>\d{{1,2}})\s+{_RU_MONTH}\s+(?P<year>\d{{4}})", re.I),
    re.compile(rf"\bin\s+{_EN_MONTH}\s+(?P<year>\d{{4}})\b", re.I),
    re.compile(
        r"(?<!\w)в\s+(?P<rmonp>январе|феврале|марте|апреле|мае|июне|июле|августе|"
        r"сентябре|октябре|ноябре|декабре)\s+(?P<year>\d{4})",
        re.I,
    ),
    re.compile(r"\b(?:in|since)\s+(?P<year>(?:19|20)\d{2})\b(?!\s*(?:election|vote))", re.I),
    re.compile(r"(?<!\w)(?:в|с)\s+(?P<year>(?:19|20)\d{2})\s+год", re.I),
    re.compile(
        r"(?<!\w)[уў]\s+(?P<rmonp>студзені|лютым|сакавіку|красавіку|траўні|чэрвені|ліпені|"
        r"жніўні|верасні|кастрычніку|лістападзе|снежні)\s+(?P<year>\d{4})",
        re.I,
    ),
    re.compile(r"(?<!\w)(?:[уў]|з)\s+(?P<year>(?:19|20)\d{2})\s+год", re.I),
]
_EN_WEEKDAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
_RU_WEEKDAYS = ["понедельник", "вторник", "среду", "четверг", "пятницу", "субботу", "воскресенье"]
_BE_WEEKDAYS = ["панядзелак", "аўторак", "сераду", "чацвер", "пятніцу", "суботу", "нядзелю"]
_WEEKDAY = re.compile(
    rf"\b(?:on|last)\s+(?P<en>{'|'.join(_EN_WEEKDAYS)})\b|(?<!\w)(?:в|во)\s+(?P<ru>"
    rf"{'|'.join(_RU_WEEKDAYS)})(?!\w)|(?<!\w)(?:у|ў)\s+(?P<be>{'|'.join(_BE_WEEKDAYS)})(?!\w)",
    re.I,
)
_DAY_WORDS = {
    "today": 0,
    "yesterday": 1,
    "сегодня": 0,
    "вчера": 1,
    "позавчера": 2,
    "сёння": 0,
    "учора": 1,
    "ўчора": 1,
}
_DAY_WORD = re.compile(r"(?<!\w)(" + "|".join(_DAY_WORDS) + r")(?!\w)", re.I)
_NUMBER_WORDS = {
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
    "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "один": 1, "два": 2, "три": 3,
    "четыре": 4, "пять": 5, "шесть": 6, "семь": 7, "восемь": 8, "девять": 9, "десять": 10,
}  # fmt: skip
_YEARS_AGO = re.compile(
    r"(?<!\w)(?P<n>\d{1,2}|"
    + "|".join(_NUMBER_WORDS)
    + r")\s+(?:years?\s+ago|(?:год|года|лет)\s+назад)",
    re.I,
)


def _month(match: re.Match[str]) -> int:
    groups = match.groupdict()
    if groups.get("m"):
        return int(groups["m"])
    if groups.get("mon"):
        return _EN_MONTHS[groups["mon"][:3].lower()]
    word = (groups.get("rmon") or groups.get("rmonp") or "").lower()
    for stem, number in sorted(_RU_MONTHS.items(), key=lambda item: -len(item[0])):
        if word.startswith(stem):
            return number
    return 0


def _valid(year: int, month: int, day: int) -> bool:
    try:
        dt.date(year, month, day)
    except ValueError:
        return False
    return True


def absolute_dates(text: str) -> list[tuple[int, int, str]]:
    """Dates written out in full or in part: (start, end, value), in text order, no overlaps."""
    found: list[tuple[int, int, str]] = []
    taken: list[tuple[int, int]] = []
    for pattern in _ABSOLUTE:
        for match in pattern.finditer(text):
            if any(a < match.end() and match.start() < b for a, b in taken):
                continue
            groups = match.groupdict()
            year = int(groups["year"])
            if not 1900 <= year <= 2100:
                continue
            month = _month(match) if {"m", "mon", "rmon", "rmonp"} & set(groups) else 0
            day = int(groups["day"]) if groups.get("day") else 0
            if day and _valid(year, month, day):
                value = f"{year:04d}-{month:02d}-{day:02d}"
            elif month:
                value = f"{year:04d}-{month:02d}"
            else:
                value = f"{year:04d}"
            found.append((match.start(), match.end(), value))
            taken.append((match.start(), match.end()))
    return sorted(found)


def relative_dates(text: str, published: dt.date | None) -> list[tuple[int, int, str]]:
    """Dates given relative to the publication day: (start, end, value); none without it."""
    if published is None:
        return []
    found: list[tuple[int, int, str]] = []
    for match in _WEEKDAY.finditer(text):
        if match.group("en"):
            weekday = _EN_WEEKDAYS.index(match.group("en").lower())
        elif match.group("ru"):
            weekday = _RU_WEEKDAYS.index(match.group("ru").lower())
        else:
            weekday = _BE_WEEKDAYS.index(match.group("be").lower())
        back = (published.weekday() - weekday) % 7
        day = published - dt.timedelta(days=back)
        found.append((match.start(), match.end(), day.isoformat()))
    for match in _DAY_WORD.finditer(text):
        day = published - dt.timedelta(days=_DAY_WORDS[match.group(1).lower()])
        found.append((match.start(), match.end(), day.isoformat()))
    for match in _YEARS_AGO.finditer(text):
        raw = match.group("n").lower()
        years = int(raw) if raw.isdigit() else _NUMBER_WORDS[raw]
        found.append((match.start(), match.end(), f"{published.year - years:04d}"))
    return sorted(found)


def dates_in(text: str, published: dt.date | None) -> list[tuple[int, int, str]]:
    """Every date in ``text``, absolute and relative, in text order."""
    return sorted(absolute_dates(text) + relative_dates(text, published))


def parse_date(text: str) -> dt.date | None:
    """The first full date (day, month and year) in ``text``, e.g. a publication line."""
    for _, _, value in absolute_dates(text):
        if len(value) == 10:
            return dt.date.fromisoformat(value)
    return None
