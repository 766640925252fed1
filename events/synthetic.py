"""Synthetic data for benchmarks: many realistic persons with their whole life in custody.

``generate(persons=N, seed=S)`` writes N persons with Belarusian and Russian Cyrillic names and
their generated Latin variants, identifiers, citizenships, recognitions, detention episodes
(charges, court decisions, custody placements, incommunicado periods), releases (some through
synthetic release deals, some followed by a chain of transfers abroad) and a few deaths in custody.

The load is built for a million persons: rows go in with PostgreSQL ``COPY`` (psycopg 3), in
batches of ``batch`` persons, each batch one transaction inside one ``audit_context``. Ids of the
rows that others point to (persons, episodes, court decisions, releases) are taken from their
sequences in blocks beforehand, so that child rows reference their parents without round trips.

The database rules shape the load order. Episodes go in with ``ended_on``, ``end_reason`` and
``end_level`` already set, so that the release trigger (which ends the episode of a release)
finds nothing to change, and every placement ends on or before the end of its episode. Within a
person, episodes and placements never overlap, and the legs of a transfer chain are in date
order, the first one leaving the country that held the person.

Everything generated is marked: persons carry a staff note, deals a ``synthetic-`` slug and
external identifiers a ``syn-`` value.
"""

from __future__ import annotations

import calendar
import contextlib
import math
import queue
import random
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import pghistory.trigger
import pgtrigger
from django.db import connection, models, transaction
from django.utils import timezone

from events.models import Charge as ChargeModel
from events.models import (
    CourtDecision,
    CriminalArticle,
    CriminalCode,
    CustodyPlacement,
    DealDestination,
    DealOnwardCountry,
    DealParty,
    Death,
    DetentionEpisode,
    IncommunicadoPeriod,
    Release,
    ReleaseDeal,
    Transfer,
)
from prisoners.audit import audit_context
from prisoners.models import (
    AtRiskFlag,
    Country,
    ExternalIdentifier,
    NameVariant,
    Organisation,
    Person,
    PersonCitizenship,
    Place,
    Recognition,
    Region,
)
from prisoners.translit import schemes_for, search_key, variants
from prisoners.visibility import visibility_tier

AUDIT_REASON = "generate_data: synthetic data for benchmarks"
SYNTHETIC_NOTE = "Synthetic record for benchmarks (generate_data, seed {seed})."
IDENTIFIER_PREFIX = "syn-"
DEAL_SLUG_PREFIX = "synthetic-deal-"

# The models each batch writes: their pghistory triggers are the ones ``history=False`` ignores.
GENERATED_MODELS: tuple[type[models.Model], ...] = (
    Person,
    NameVariant,
    ExternalIdentifier,
    PersonCitizenship,
    Recognition,
    AtRiskFlag,
    DetentionEpisode,
    ChargeModel,
    CourtDecision,
    CustodyPlacement,
    IncommunicadoPeriod,
    Release,
    Death,
    Transfer,
)

# --- Names ------------------------------------------------------------------------------------
#
# (Belarusian, Russian) Cyrillic pairs, most common first: the draw favours the top of each list.


def _pairs(table: str) -> tuple[tuple[str, str], ...]:
    """``"Аляксандр/Александр Сяргей/Сергей"`` -> ``(("Аляксандр", "Александр"), ...)``;
    lines starting with ``#`` are comments."""
    words = " ".join(line for line in table.splitlines() if not line.strip().startswith("#"))
    return tuple((be, ru) for be, _, ru in (word.partition("/") for word in words.split()))


MALE_FIRST_NAMES = _pairs(
    """
    Аляксандр/Александр Сяргей/Сергей Дзмітрый/Дмитрий Андрэй/Андрей Аляксей/Алексей
    Уладзімір/Владимир Мікалай/Николай Ігар/Игорь Віктар/Виктор Яўген/Евгений Максім/Максим
    Павел/Павел Іван/Иван Юрый/Юрий Алег/Олег Вадзім/Вадим Раман/Роман Антон/Антон Арцём/Артём
    Віталь/Виталий Уладзіслаў/Владислав Дзяніс/Денис Канстанцін/Константин Міхаіл/Михаил
    Валерый/Валерий Васіль/Василий Генадзь/Геннадий Леанід/Леонид Анатоль/Анатолий Пятро/Пётр
    Алесь/Алесь Зміцер/Дмитрий Кірыл/Кирилл Ілья/Илья Станіслаў/Станислав Барыс/Борис Ягор/Егор
    Мікіта/Никита Даніла/Даниил Руслан/Руслан Яраслаў/Ярослав Вячаслаў/Вячеслав Эдуард/Эдуард
    Сцяпан/Степан Фёдар/Фёдор Рыгор/Григорий Валянцін/Валентин Арсень/Арсений Сямён/Семён
    Мацвей/Матвей Багдан/Богдан Тарас/Тарас Ціхан/Тихон Ігнат/Игнат Ян/Ян
"""
)

FEMALE_FIRST_NAMES = _pairs(
    """
    Вольга/Ольга Таццяна/Татьяна Алена/Елена Наталля/Наталья Марыя/Мария Святлана/Светлана
    Ірына/Ирина Юлія/Юлия Ганна/Анна Кацярына/Екатерина Марына/Марина Настасся/Анастасия
    Людміла/Людмила Галіна/Галина Вікторыя/Виктория Дар’я/Дарья Ксенія/Ксения
    Валянціна/Валентина Вераніка/Вероника Надзея/Надежда Яўгенія/Евгения Аксана/Оксана
    Алеся/Олеся Паліна/Полина Лізавета/Елизавета Крысціна/Кристина Маргарыта/Маргарита
    Любоў/Любовь Тамара/Тамара Іна/Инна Софія/София Ніна/Нина Жанна/Жанна Зінаіда/Зинаида
"""
)

# Surnames in their male form, (Belarusian, Russian); the female form follows from the ending
# (see ``surname_forms``): Калеснікаў/Калеснікава, Ціханоўскі/Ціханоўская, Колесников/Колесникова;
# Статкевіч, Каваленка, Бабарыка and the like are the same for women.
SURNAMES = _pairs(
    """
    # -оў / -ов
    Іваноў/Иванов Калеснікаў/Колесников Кузняцоў/Кузнецов Пятроў/Петров Смірноў/Смирнов
    Папоў/Попов Васільеў/Васильев Сідараў/Сидоров Казлоў/Козлов Волкаў/Волков Салаўёў/Соловьёв
    Фралоў/Фролов Захараў/Захаров Макараў/Макаров Навумаў/Наумов Лебедзеў/Лебедев Зайцаў/Зайцев
    Навікаў/Новиков Марозаў/Морозов Паўлаў/Павлов Сямёнаў/Семёнов Ягораў/Егоров Арлоў/Орлов
    Абрамаў/Абрамов Бялоў/Белов Камароў/Комаров Кісялёў/Киселёв Мядзведзеў/Медведев
    Тарасаў/Тарасов Жукаў/Жуков Гусеў/Гусев Цітоў/Титов Дзянісаў/Денисов Карпаў/Карпов
    Осіпаў/Осипов Мельнікаў/Мельников Кавалёў/Ковалёв Барысаў/Борисов Данілаў/Данилов
    Ганчароў/Гончаров Шчарбакоў/Щербаков Сакалоў/Соколов Вінаградаў/Виноградов Голубеў/Голубев
    Быкаў/Быков Раманаў/Романов Гаўрылаў/Гаврилов Мацвееў/Матвеев Золатаў/Золотов
    Багданаў/Богданов Фёдараў/Фёдоров Андрэеў/Андреев Аляксееў/Алексеев Мікалаеў/Николаев
    Сяргееў/Сергеев Ражкоў/Рожков Шарапаў/Шарапов Ліхачоў/Лихачёв
    # -ін / -ин
    Ільін/Ильин Мухін/Мухин Фамін/Фомин Калінін/Калинин Нікіцін/Никитин Кулагін/Кулагин
    Лапін/Лапин Зімін/Зимин Сарокін/Сорокин Галкін/Галкин
    # -скі, -цкі / -ский, -цкий
    Ціханоўскі/Тихановский Бяляцкі/Беляцкий Навіцкі/Новицкий Жукоўскі/Жуковский
    Завадскі/Завадский Сакалоўскі/Соколовский Кавальскі/Ковальский Левандоўскі/Левандовский
    Вішнеўскі/Вишневский Астроўскі/Островский Палянскі/Полянский Дубоўскі/Дубовский
    Лісоўскі/Лисовский Каменскі/Каменский Грабоўскі/Грабовский Заблоцкі/Заблоцкий
    Яблонскі/Яблонский Садоўскі/Садовский Чарнецкі/Чернецкий Лазоўскі/Лозовский
    Шпакоўскі/Шпаковский Гурскі/Гурский
    # -іч / -ич: the same for women
    Статкевіч/Статкевич Лукашэвіч/Лукашевич Шушкевіч/Шушкевич Карповіч/Карпович
    Мацкевіч/Мацкевич Казакевіч/Казакевич Станкевіч/Станкевич Юшкевіч/Юшкевич Міцкевіч/Мицкевич
    Тарасевіч/Тарасевич Сінкевіч/Синкевич Петрашкевіч/Петрашкевич Дашкевіч/Дашкевич
    Багдановіч/Богданович Ярашэвіч/Ярошевич Марцінкевіч/Мартинкевич Абрамовіч/Абрамович
    Мілінкевіч/Милинкевич Гайдукевіч/Гайдукевич Раковіч/Ракович Грыневіч/Гриневич
    Малевіч/Малевич Вашкевіч/Вашкевич Бабіч/Бабич
    # -енка, -ка / -енко, -ко: the same for women
    Каваленка/Коваленко Шаўчэнка/Шевченко Бандарэнка/Бондаренко Марчанка/Марченко
    Кірыенка/Кириенко Ткачэнка/Ткаченко Сідарэнка/Сидоренко Радчанка/Радченко
    Гардзеенка/Гордеенко Латушка/Латушко Бабарыка/Бабарико Гуляка/Гуляко
    # other endings, the same for women
    Лосік/Лосик Мароз/Мороз Кот/Кот Жук/Жук Мельнік/Мельник Краўчук/Кравчук Клімчук/Климчук
    Грыцук/Грицук Семянюк/Семенюк Кавалёнак/Коваленок Шэўчык/Шевчик Карзун/Корзун Бурак/Бурак
    Дубовік/Дубовик Навумчык/Наумчик Раманчук/Романчук Кавальчук/Ковальчук Бондар/Бондарь
    Шпак/Шпак Коваль/Коваль Дудар/Дударь Шыманец/Шиманец Карась/Карась Кулеш/Кулеш
"""
)


def _feminine_be(name: str) -> str:
    if name.endswith(("скі", "цкі")):
        return name[:-1] + "ая"
    if name.endswith("ў"):
        return name[:-1] + "ва"
    if name.endswith(("ін", "ын")):
        return name + "а"
    return name


def _feminine_ru(name: str) -> str:
    if name.endswith(("ский", "цкий")):
        return name[:-2] + "ая"
    if name.endswith(("ов", "ев", "ёв", "ин", "ын")):
        return name + "а"
    return name


def surname_forms(be_male: str, ru_male: str) -> tuple[str, str, str, str]:
    """(be male, be female, ru male, ru female) forms of a surname."""
    return be_male, _feminine_be(be_male), ru_male, _feminine_ru(ru_male)


@dataclass(frozen=True, slots=True)
class NameRow:
    """A name variant of one person, without the person and visibility columns."""

    text: str
    key: str
    language: str
    script: str
    kind: str
    schemes: list[str]
    generated: bool


class NameBook:
    """Names and their Latin variants, cached per word and per full name.

    Transliteration is word by word, so the variants of a full name are those of its words put
    together scheme by scheme, the same as ``translit.variants`` on the whole text.
    """

    def __init__(self) -> None:
        self._words: dict[tuple[str, str], dict[str, str]] = {}
        self._keys: dict[str, str] = {}
        self._schemes = {lang: [s.code for s in schemes_for(lang)] for lang in ("be", "ru")}
        self._persons: dict[tuple[int, int, bool], tuple[str, tuple[NameRow, ...]]] = {}

    def key(self, text: str) -> str:
        found = self._keys.get(text)
        if found is None:
            found = self._keys[text] = search_key(text)
        return found

    def _word(self, word: str, language: str) -> dict[str, str]:
        found = self._words.get((word, language))
        if found is None:
            found = {code: latin for latin, codes in variants(word, language) for code in codes}
            self._words[(word, language)] = found
        return found

    def latin(self, words: Sequence[str], language: str) -> list[tuple[str, list[str]]]:
        """Every distinct Latin spelling of the name, with the scheme codes giving it."""
        per_word = [self._word(w, language) for w in words]
        found: dict[str, list[str]] = {}
        for code in self._schemes[language]:
            found.setdefault(" ".join(w[code] for w in per_word), []).append(code)
        return list(found.items())

    def person(self, first: int, surname: int, female: bool) -> tuple[str, tuple[NameRow, ...]]:
        """The Latin display name (Belarusian passport scheme) and every name variant."""
        cache_key = (first, surname, female)
        found = self._persons.get(cache_key)
        if found is not None:
            return found
        be_first, ru_first = (FEMALE_FIRST_NAMES if female else MALE_FIRST_NAMES)[first]
        be_m, be_f, ru_m, ru_f = surname_forms(*SURNAMES[surname])
        rows: list[NameRow] = []
        display = ""
        for language, words in (
            ("be", (be_first, be_f if female else be_m)),
            ("ru", (ru_first, ru_f if female else ru_m)),
        ):
            cyrillic = " ".join(words)
            rows.append(
                NameRow(cyrillic, self.key(cyrillic), language, "Cyrl", "primary", [], False)
            )
            for text, codes in self.latin(words, language):
                rows.append(
                    NameRow(text, self.key(text), language, "Latn", "transliteration", codes, True)
                )
                if "be-passport" in codes:
                    display = text
        found = (display or rows[2].text, tuple(rows))
        self._persons[cache_key] = found
        return found


def _zipf_weights(n: int, exponent: float = 0.8) -> list[float]:
    total = 0.0
    cumulative = []
    for rank in range(n):
        total += 1.0 / (rank + 1) ** exponent
        cumulative.append(total)
    return cumulative


# --- Catalogue: regions, places, articles, deals -----------------------------------------------

# fmt: off
# English names follow the reference places of migration prisoners/0003_places; rows are looked up
# by their Russian name, so a reference row is reused whatever its English spelling.
# (English, Belarusian, Russian, share of home regions in %)
REGIONS: tuple[tuple[str, str, str, float], ...] = (
    ("Minsk City", "Мінск", "Минск", 35),
    ("Minsk Region", "Мінская вобласць", "Минская область", 14),
    ("Homiel Region", "Гомельская вобласць", "Гомельская область", 12),
    ("Brest Region", "Брэсцкая вобласць", "Брестская область", 11),
    ("Vitsebsk Region", "Віцебская вобласць", "Витебская область", 10),
    ("Hrodna Region", "Гродзенская вобласць", "Гродненская область", 9),
    ("Mahiliou Region", "Магілёўская вобласць", "Могилёвская область", 9),
)

# (English, Belarusian, Russian, country, region or "")
CITIES: tuple[tuple[str, str, str, str, str], ...] = (
    ("Minsk", "Мінск", "Минск", "BY", "Minsk City"),
    ("Homiel", "Гомель", "Гомель", "BY", "Homiel Region"),
    ("Brest", "Брэст", "Брест", "BY", "Brest Region"),
    ("Vitsebsk", "Віцебск", "Витебск", "BY", "Vitsebsk Region"),
    ("Hrodna", "Гродна", "Гродно", "BY", "Hrodna Region"),
    ("Mahiliou", "Магілёў", "Могилёв", "BY", "Mahiliou Region"),
    ("Baranavichy", "Баранавічы", "Барановичи", "BY", "Brest Region"),
    ("Zhodzina", "Жодзіна", "Жодино", "BY", "Minsk Region"),
    ("Barysau", "Барысаў", "Борисов", "BY", "Minsk Region"),
    ("Maladziechna", "Маладзечна", "Молодечно", "BY", "Minsk Region"),
    ("Salihorsk", "Салігорск", "Солигорск", "BY", "Minsk Region"),
    ("Navapolatsk", "Наваполацк", "Новополоцк", "BY", "Vitsebsk Region"),
    ("Polatsk", "Полацк", "Полоцк", "BY", "Vitsebsk Region"),
    ("Orsha", "Орша", "Орша", "BY", "Vitsebsk Region"),
    ("Hlybokaye", "Глыбокае", "Глубокое", "BY", "Vitsebsk Region"),
    ("Babruisk", "Бабруйск", "Бобруйск", "BY", "Mahiliou Region"),
    ("Horki", "Горкі", "Горки", "BY", "Mahiliou Region"),
    ("Shklou", "Шклоў", "Шклов", "BY", "Mahiliou Region"),
    ("Mazyr", "Мазыр", "Мозырь", "BY", "Homiel Region"),
    ("Zarechcha", "Зарэчча", "Заречье", "BY", "Homiel Region"),
    ("Ivatsevichy", "Івацэвічы", "Ивацевичи", "BY", "Brest Region"),
    ("Pinsk", "Пінск", "Пинск", "BY", "Brest Region"),
    ("Vaukavysk", "Ваўкавыск", "Волковыск", "BY", "Hrodna Region"),
    ("Lida", "Ліда", "Лида", "BY", "Hrodna Region"),
    ("Smolensk", "Смаленск", "Смоленск", "RU", ""),
    ("Moscow", "Масква", "Москва", "RU", ""),
)

# The towns of each region where arrests are made.
TOWNS_BY_REGION: dict[str, tuple[str, ...]] = {
    "Minsk City": ("Minsk",),
    "Minsk Region": ("Barysau", "Maladziechna", "Salihorsk", "Zhodzina"),
    "Homiel Region": ("Homiel", "Mazyr"),
    "Brest Region": ("Brest", "Baranavichy", "Pinsk"),
    "Vitsebsk Region": ("Vitsebsk", "Polatsk", "Navapolatsk", "Orsha"),
    "Hrodna Region": ("Hrodna", "Lida", "Vaukavysk"),
    "Mahiliou Region": ("Mahiliou", "Babruisk", "Horki"),
}
# fmt: on


@dataclass(frozen=True)
class FacilitySpec:
    """A place of custody. ``tags`` select it: "sizo", "temporary", "men", "women", "strict",
    "prison", "settlement", "psychiatric", "kgb", "ru-sizo", "ru-colony", or a region it serves."""

    kind: str
    name: str
    name_be: str
    name_ru: str
    country: str
    city: str
    tags: tuple[str, ...]


def _sizo(number: int, city: str, be: str, ru: str, region: str) -> FacilitySpec:
    return FacilitySpec(
        "pre_trial",
        f"Pre-trial detention centre No. {number}, {city}",
        f"СІЗА № {number}, {be}",
        f"СИЗО № {number}, {ru}",
        "BY",
        city,
        ("sizo", region),
    )


def _holding(city: str, be: str, ru: str, region: str) -> FacilitySpec:
    return FacilitySpec(
        "temporary",
        f"Temporary holding facility, {city}",
        f"ІЧУ, {be}",
        f"ИВС, {ru}",
        "BY",
        city,
        ("temporary", region),
    )


def _colony(number: int, city: str, be: str, ru: str, *tags: str) -> FacilitySpec:
    return FacilitySpec(
        "colony",
        f"Penal colony No. {number}, {city}",
        f"Калонія № {number}, {be}",
        f"Колония № {number}, {ru}",
        "BY",
        city,
        tags or ("men",),
    )


def _prison(number: int, city: str, be: str, ru: str) -> FacilitySpec:
    return FacilitySpec(
        "prison",
        f"Prison No. {number}, {city}",
        f"Турма № {number}, {be}",
        f"Тюрьма № {number}, {ru}",
        "BY",
        city,
        ("prison",),
    )


# fmt: off
# The first ones are the reference places of migration prisoners/0003_places, with their names.
FACILITIES: tuple[FacilitySpec, ...] = (
    _sizo(1, "Minsk", "Мінск", "Минск", "Minsk City"),
    FacilitySpec("kgb", "KGB pre-trial detention centre, Minsk", "СІЗА КДБ, Мінск",
                 "СИЗО КГБ, Минск", "BY", "Minsk", ("kgb",)),
    FacilitySpec("pre_trial", "Prison No. 8, Zhodzina", "Турма № 8, Жодзіна", "Тюрьма № 8, Жодино",
                 "BY", "Zhodzina", ("sizo", "Minsk Region")),
    _colony(4, "Homiel", "Гомель", "Гомель", "women"),
    _colony(24, "Zarechcha", "Зарэчча", "Заречье", "women"),
    _prison(1, "Hrodna", "Гродна", "Гродно"),
    _prison(4, "Mahiliou", "Магілёў", "Могилёв"),
    FacilitySpec("colony", "Penal colony No. 3, Vitsba", "Калонія № 3, Віцьба",
                 "Колония № 3, Витьба", "BY", "Vitsebsk", ("men",)),
    _colony(9, "Horki", "Горкі", "Горки"),
    _colony(2, "Babruisk", "Бабруйск", "Бобруйск"),
    _colony(13, "Hlybokaye", "Глыбокае", "Глубокое", "strict"),
    _colony(15, "Mahiliou", "Магілёў", "Могилёв"),
    # more pre-trial centres, holding cells and colonies
    _sizo(1, "Hrodna", "Гродна", "Гродно", "Hrodna Region"),
    _sizo(2, "Vitsebsk", "Віцебск", "Витебск", "Vitsebsk Region"),
    _sizo(3, "Homiel", "Гомель", "Гомель", "Homiel Region"),
    _sizo(4, "Mahiliou", "Магілёў", "Могилёв", "Mahiliou Region"),
    _sizo(6, "Baranavichy", "Баранавічы", "Барановичи", "Brest Region"),
    _sizo(7, "Brest", "Брэст", "Брест", "Brest Region"),
    FacilitySpec("temporary", "Offenders' isolation centre, Akrestsina Street, Minsk",
                 "ЦІП на Акрэсціна, Мінск", "ЦИП на Окрестина, Минск", "BY", "Minsk",
                 ("temporary", "Minsk City")),
    _holding("Barysau", "Барысаў", "Борисов", "Minsk Region"),
    _holding("Homiel", "Гомель", "Гомель", "Homiel Region"),
    _holding("Brest", "Брэст", "Брест", "Brest Region"),
    _holding("Vitsebsk", "Віцебск", "Витебск", "Vitsebsk Region"),
    _holding("Hrodna", "Гродна", "Гродно", "Hrodna Region"),
    _holding("Mahiliou", "Магілёў", "Могилёв", "Mahiliou Region"),
    _colony(1, "Navapolatsk", "Наваполацк", "Новополоцк"),
    _colony(5, "Ivatsevichy", "Івацэвічы", "Ивацевичи"),
    _colony(10, "Navapolatsk", "Наваполацк", "Новополоцк"),
    _colony(11, "Vaukavysk", "Ваўкавыск", "Волковыск"),
    _colony(12, "Orsha", "Орша", "Орша"),
    _colony(14, "Zhodzina", "Жодзіна", "Жодино"),
    _colony(17, "Shklou", "Шклоў", "Шклов", "strict"),
    _colony(20, "Mazyr", "Мазыр", "Мозырь"),
    _colony(22, "Ivatsevichy", "Івацэвічы", "Ивацевичи", "strict"),
    FacilitySpec("colony", "Open-type correctional institution No. 2, Minsk", "ВПУ № 2, Мінск",
                 "ИУОТ № 2, Минск", "BY", "Minsk", ("settlement",)),
    FacilitySpec("colony", "Open-type correctional institution No. 5, Homiel",
                 "ВПУ № 5, Гомель", "ИУОТ № 5, Гомель", "BY", "Homiel", ("settlement",)),
    FacilitySpec("psychiatric", "Republican psychiatric hospital, Navinki, Minsk",
                 "Рэспубліканская псіхіятрычная бальніца, Навінкі, Мінск",
                 "Республиканская психиатрическая больница, Новинки, Минск", "BY", "Minsk",
                 ("psychiatric",)),
    FacilitySpec("pre_trial", "Pre-trial detention centre No. 1, Smolensk", "СІЗА № 1, Смаленск",
                 "СИЗО № 1, Смоленск", "RU", "Smolensk", ("ru-sizo",)),
    FacilitySpec("pre_trial", "Lefortovo pre-trial detention centre, Moscow",
                 "СІЗА «Лефортава», Масква", "СИЗО «Лефортово», Москва", "RU", "Moscow",
                 ("ru-sizo",)),
    FacilitySpec("colony", "Penal colony No. 6, Smolensk Region",
                 "Калонія № 6, Смаленская вобласць", "Колония № 6, Смоленская область", "RU",
                 "Smolensk", ("ru-colony",)),
)

# Belarus Criminal Code: (article, how often charged, parts, English, Russian, Belarusian title).
# Article 411 is charged only in custody, with a later extension of the term.
ARTICLES: tuple[tuple[str, float, tuple[str, ...], str, str, str], ...] = (
    ("342", 30, ("1",),
     "Organisation of or active participation in group actions grossly violating public order",
     "Организация и подготовка действий, грубо нарушающих общественный порядок, либо активное "
     "участие в них",
     "Арганізацыя і падрыхтоўка дзеянняў, якія груба парушаюць грамадскі парадак, або актыўны "
     "ўдзел у іх"),
    ("369", 12, ("",), "Insulting a representative of the authorities",
     "Оскорбление представителя власти", "Абраза прадстаўніка ўлады"),
    ("130", 10, ("1", "3"),
     "Incitement of racial, national, religious or other social enmity or discord",
     "Разжигание расовой, национальной, религиозной либо иной социальной вражды или розни",
     "Распальванне расавай, нацыянальнай, рэлігійнай або іншай сацыяльнай варожасці або "
     "варажнечы"),
    ("361-1", 10, ("1", "2", "3"), "Creation of or participation in an extremist formation",
     "Создание экстремистского формирования либо участие в нём",
     "Стварэнне экстрэмісцкага фарміравання або ўдзел у ім"),
    ("361-4", 8, ("1",), "Facilitation of extremist activity",
     "Содействие экстремистской деятельности", "Садзейнічанне экстрэмісцкай дзейнасці"),
    ("361", 6, ("1", "3"),
     "Calls for actions aimed at harming the national security of the Republic of Belarus",
     "Призывы к действиям, направленным на причинение вреда национальной безопасности "
     "Республики Беларусь",
     "Заклікі да дзеянняў, накіраваных на прычыненне шкоды нацыянальнай бяспецы Рэспублікі "
     "Беларусь"),
    ("368", 6, ("1",), "Insulting the President of the Republic of Belarus",
     "Оскорбление Президента Республики Беларусь", "Абраза Прэзідэнта Рэспублікі Беларусь"),
    ("364", 5, ("",), "Violence or threat of violence against a police officer",
     "Насилие либо угроза применения насилия в отношении сотрудника органов внутренних дел",
     "Гвалт або пагроза ўжывання гвалту ў адносінах да супрацоўніка органаў унутраных спраў"),
    ("293", 4, ("1", "2"), "Mass riots", "Массовые беспорядки", "Масавыя беспарадкі"),
    ("356", 2, ("",), "High treason", "Измена государству", "Здрада дзяржаве"),
    ("370", 2, ("",), "Desecration of state symbols",
     "Надругательство над государственными символами", "Наруга над дзяржаўнымі сімваламі"),
    ("357", 1, ("1", "3"), "Conspiracy or other actions aimed at seizing state power",
     "Заговор или иные действия, совершённые с целью захвата государственной власти",
     "Змова або іншыя дзеянні, учыненыя з мэтай захопу дзяржаўнай улады"),
    ("289", 1, ("1", "2", "3"), "Act of terrorism", "Акт терроризма", "Акт тэрарызму"),
    ("235", 1, ("2",), "Legalisation of proceeds of crime (money laundering)",
     "Легализация («отмывание») средств, полученных преступным путём",
     "Легалізацыя («адмыванне») сродкаў, атрыманых злачынным шляхам"),
    ("430", 1, ("2",), "Taking a bribe", "Получение взятки", "Атрыманне хабару"),
    ("243", 1, ("2",), "Tax evasion", "Уклонение от уплаты сумм налогов, сборов",
     "Ухіленне ад выплаты сум падаткаў, збораў"),
    ("411", 0, ("1", "2"),
     "Malicious disobedience to the administration of a correctional institution",
     "Злостное неповиновение требованиям администрации исправительного учреждения",
     "Злоснае непадпарадкаванне патрабаванням адміністрацыі папраўчай установы"),
)
# fmt: on


@dataclass(frozen=True)
class DealSpec:
    """A synthetic release deal. ``routes``: (first country, onward countries, share)."""

    number: int
    completed_on: date
    mediator: str
    mediator_country: str
    consideration: str
    routes: tuple[tuple[str, tuple[str, ...], float], ...]
    visibility: str = "public"


# fmt: off
DEALS: tuple[DealSpec, ...] = (
    DealSpec(1, date(2023, 5, 18), "Lithuanian government", "LT", "Exchange of prisoners.",
             (("LT", (), 1.0),)),
    DealSpec(2, date(2024, 7, 3), "Humanitarian commission", "BY",
             "Pardons announced as a humanitarian gesture.", ()),
    DealSpec(3, date(2024, 9, 26), "United States envoy", "US",
             "Easing of sanctions on the national airline.", (("LT", (), 0.8), ("PL", (), 0.2))),
    DealSpec(4, date(2025, 2, 12), "United States envoy", "US", "Talks on sanctions relief.",
             (("LT", (), 0.7), ("PL", (), 0.3))),
    DealSpec(5, date(2025, 6, 21), "United States envoy", "US", "Partial lifting of sanctions.",
             (("LT", (), 0.9), ("LV", (), 0.1))),
    DealSpec(6, date(2025, 9, 11), "United States envoy", "US",
             "Sanctions on the national airline lifted.", (("LT", ("PL",), 1.0),)),
    DealSpec(7, date(2025, 12, 13), "United States envoy", "US", "US sanctions on potash lifted.",
             (("UA", ("PL", "LT"), 0.92), ("LT", (), 0.08))),
    DealSpec(8, date(2026, 6, 4), "European mediator", "DE", "Not disclosed.",
             (("UA", ("PL",), 0.7), ("PL", (), 0.3)), visibility="draft"),
)

COURTS_BY_REGION: dict[str, tuple[str, ...]] = {
    "Minsk City": ("Minsk City Court", "Leninsky District Court of Minsk",
                   "Frunzensky District Court of Minsk", "Moskovsky District Court of Minsk",
                   "Partizansky District Court of Minsk"),
    "Minsk Region": ("Minsk Regional Court", "Barysau District Court", "Zhodzina City Court"),
    "Homiel Region": ("Homiel Regional Court", "Tsentralny District Court of Homiel"),
    "Brest Region": ("Brest Regional Court", "Leninsky District Court of Brest"),
    "Vitsebsk Region": ("Vitsebsk Regional Court", "Pershamaiski District Court of Vitsebsk"),
    "Hrodna Region": ("Hrodna Regional Court", "Leninsky District Court of Hrodna"),
    "Mahiliou Region": ("Mahiliou Regional Court", "Leninsky District Court of Mahiliou"),
}
RUSSIAN_COURTS = ("Smolensk Regional Court", "Leninsky District Court of Smolensk")
APPEAL_COURTS = {False: "Supreme Court of the Republic of Belarus", True: "First Court of Appeal"}
AUTHORITIES = (
    "GUBOPiK (Main Directorate for Combating Organised Crime)", "KGB",
    "Investigative Committee", "District police department", "Financial Investigation Department",
)
OCCUPATIONS = (
    "worker", "engineer", "IT specialist", "entrepreneur", "student", "teacher", "journalist",
    "doctor", "driver", "pensioner", "lawyer", "musician", "builder", "programmer",
    "sales manager", "blogger", "artist", "civic activist", "trade unionist", "scientist",
)
# fmt: on


# --- Catalogue set-up (ORM, small) ---------------------------------------------------------------


@dataclass
class DealInfo:
    id: int
    completed: int  # ordinal
    routes: tuple[tuple[int, tuple[int, ...], float], ...]


@dataclass
class Catalogue:
    """Ids of the reference rows the batches point to."""

    countries: dict[str, int]
    regions: list[int]
    region_weights: list[float]
    region_names: dict[int, str]
    towns: dict[str, list[int]]  # region name -> city place ids
    facilities: dict[str, list[int]]  # tag -> facility ids
    facility_address: dict[int, str]
    articles: list[tuple[int, tuple[str, ...]]]
    article_weights: list[float]
    article_411: int
    viasna: int
    deals: list[DealInfo]


def _get_or_create(model: type[models.Model], lookup: dict[str, Any], **defaults: Any) -> int:
    obj, _ = model._default_manager.get_or_create(**lookup, defaults=defaults)
    return int(obj.pk)


def _reference(
    model: type[models.Model], lookup: dict[str, Any], name_ru: str, **defaults: Any
) -> int:
    """A reference row (region, city, facility): the one with this name, else the one with this
    Russian name (the English spelling may differ), else a new one."""
    manager = model._default_manager
    found = manager.filter(**lookup).first()
    if found is None:
        scope = {k: v for k, v in lookup.items() if k != "name"}
        found = manager.filter(**scope, name_ru=name_ru).order_by("pk").first()
    if found is None:
        found = manager.create(**lookup, name_ru=name_ru, **defaults)
    return int(found.pk)


def ensure_catalogue(*, today: date) -> Catalogue:
    """Countries, regions, cities, facilities, the criminal code and the synthetic deals."""
    codes = {"BY", "RU", "UA", "PL", "LT", "LV", "DE", "US", "GE"}
    countries = {c.code: c.pk for c in Country.objects.filter(code__in=codes)}
    for code in sorted(codes - countries.keys()):
        countries[code] = _get_or_create(Country, {"code": code}, name=code)
    by = countries["BY"]

    region_ids: dict[str, int] = {}
    for name, be, ru, _share in REGIONS:
        region_ids[name] = _reference(Region, {"country_id": by, "name": name}, ru, name_be=be)
    cities: dict[str, int] = {}
    for name, be, ru, country, region in CITIES:
        cities[name] = _reference(
            Place,
            {"country_id": countries[country], "kind": "city", "name": name},
            ru,
            name_be=be,
            region_id=region_ids.get(region),
        )
    facilities: dict[str, list[int]] = {}
    addresses: dict[int, str] = {}
    for facility in FACILITIES:
        city_region = next(c[4] for c in CITIES if c[0] == facility.city)
        pk = _reference(
            Place,
            {
                "country_id": countries[facility.country],
                "kind": facility.kind,
                "name": facility.name,
            },
            facility.name_ru,
            name_be=facility.name_be,
            region_id=region_ids.get(city_region),
            city_id=cities[facility.city],
        )
        addresses[pk] = facility.name_ru
        for tag in facility.tags:
            facilities.setdefault(tag, []).append(pk)

    criminal_code = _get_or_create(
        CriminalCode,
        {"short_name": "BY-CC"},
        country_id=by,
        name="Criminal Code of the Republic of Belarus",
    )
    articles: list[tuple[int, tuple[str, ...]]] = []
    weights: list[float] = []
    article_411 = 0
    for number, weight, parts, title, title_ru, title_be in ARTICLES:
        pk = _get_or_create(
            CriminalArticle,
            {"code_id": criminal_code, "number": number},
            title=title,
            title_ru=title_ru,
            title_be=title_be,
        )
        if number == "411":
            article_411 = pk
        else:
            articles.append((pk, parts))
            weights.append(weight)

    viasna = _get_or_create(
        Organisation,
        {"name": "Viasna Human Rights Centre"},
        kind="human_rights",
        country_id=by,
        website="https://spring96.org",
    )

    deals: list[DealInfo] = []
    for spec in DEALS:
        if spec.completed_on > today:
            continue
        deal = _get_or_create(
            ReleaseDeal,
            {"slug": f"{DEAL_SLUG_PREFIX}{spec.number}"},
            title=f"Synthetic release deal {spec.number} ({spec.completed_on:%B %Y})",
            announced_on=spec.completed_on,
            completed_on=spec.completed_on,
            summary="Synthetic deal made by generate_data for benchmarks.",
            consideration=spec.consideration,
            visibility=spec.visibility,
        )
        _get_or_create(
            DealParty, {"deal_id": deal, "role": "party", "name": "Belarus"}, country_id=by
        )
        _get_or_create(
            DealParty,
            {"deal_id": deal, "role": "mediator", "name": spec.mediator},
            country_id=countries[spec.mediator_country],
        )
        routes = []
        for first, onward, weight in spec.routes:
            destination = _get_or_create(
                DealDestination, {"deal_id": deal, "country_id": countries[first]}
            )
            for onward_code in onward:
                _get_or_create(
                    DealOnwardCountry,
                    {"destination_id": destination, "country_id": countries[onward_code]},
                )
            _get_or_create(
                DealParty,
                {"deal_id": deal, "role": "receiving", "name": first},
                country_id=countries[first],
            )
            routes.append((countries[first], tuple(countries[c] for c in onward), weight))
        deals.append(DealInfo(deal, spec.completed_on.toordinal(), tuple(routes)))

    region_list = [region_ids[r[0]] for r in REGIONS]
    towns = {name: [cities[t] for t in TOWNS_BY_REGION[name]] for name in TOWNS_BY_REGION}
    towns["RU"] = [cities["Smolensk"], cities["Moscow"]]
    return Catalogue(
        countries=countries,
        regions=region_list,
        region_weights=list(_cumulative([r[3] for r in REGIONS])),
        region_names={region_ids[r[0]]: r[0] for r in REGIONS},
        towns=towns,
        facilities=facilities,
        facility_address=addresses,
        articles=articles,
        article_weights=list(_cumulative(weights)),
        article_411=article_411,
        viasna=viasna,
        deals=deals,
    )


def _cumulative(weights: Iterable[float]) -> Iterator[float]:
    total = 0.0
    for w in weights:
        total += w
        yield total


# --- Ids and COPY --------------------------------------------------------------------------------


class IdPool:
    """Ids drawn from a table's sequence in blocks, so rows can name their parents up front."""

    def __init__(self, table: str, block: int) -> None:
        self.table = table
        self.block = max(block, 1)
        self._ids: list[int] = []
        self._pos = 0
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_get_serial_sequence(%s, 'id')", [table])
            row = cursor.fetchone()
        if row is None or row[0] is None:
            raise ValueError(f"{table}.id has no sequence")
        self.sequence: str = row[0]

    def take(self) -> int:
        if self._pos == len(self._ids):
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT nextval(%s) FROM generate_series(1, %s)", [self.sequence, self.block]
                )
                self._ids = [row[0] for row in cursor.fetchall()]
            self._pos = 0
        value = self._ids[self._pos]
        self._pos += 1
        return value


@dataclass(frozen=True)
class Table:
    name: str
    columns: tuple[str, ...]

    def copy_sql(self) -> str:
        return f"COPY {self.name} ({', '.join(self.columns)}) FROM STDIN"


def _table(model: type[models.Model], *columns: str) -> Table:
    known = {f.column for f in model._meta.concrete_fields}
    unknown = set(columns) - known
    if unknown:
        raise ValueError(f"{model._meta.db_table} has no columns {sorted(unknown)}")
    return Table(model._meta.db_table, columns)


STAMPS = ("created_at", "updated_at")
T_PERSON = _table(
    Person, "id", "name", "name_withheld", "visibility", "birth_date", "birth_date_precision",
    "gender", "home_region_id", "occupation", "photo", "photo_consent", "letter_address",
    "letters_reach", "staff_notes", *STAMPS,
)  # fmt: skip
T_NAME = _table(
    NameVariant, "person_id", "text", "search_key", "language", "script", "kind", "schemes",
    "generated", "visibility", *STAMPS,
)  # fmt: skip
T_IDENTIFIER = _table(
    ExternalIdentifier, "person_id", "scheme", "value", "url", "visibility", *STAMPS
)
T_CITIZENSHIP = _table(PersonCitizenship, "person_id", "country_id", *STAMPS)
T_RECOGNITION = _table(
    Recognition, "person_id", "organisation_id", "recognised_on", "recognised_on_precision",
    "withdrawn_on", "visibility", *STAMPS,
)  # fmt: skip
T_RISK = _table(AtRiskFlag, "person_id", "kind", "since", "until", "note", "visibility", *STAMPS)
T_EPISODE = _table(
    DetentionEpisode, "id", "person_id", "country_id", "arrested_on", "arrested_on_precision",
    "arrest_place_id", "arresting_authority", "ended_on", "end_reason", "end_level", "summary",
    "visibility", *STAMPS,
)  # fmt: skip
T_CHARGE = _table(
    ChargeModel, "episode_id", "article_id", "part", "charged_on", "note", "visibility", *STAMPS
)
T_DECISION = _table(
    CourtDecision, "id", "episode_id", "kind", "decided_on", "decided_on_precision", "court",
    "judge", "term_years", "term_months", "term_days", "term_description", "regime", "amends_id",
    "note", "visibility", *STAMPS,
)  # fmt: skip
T_PLACEMENT = _table(
    CustodyPlacement, "episode_id", "person_id", "facility_id", "kind", "started_on", "ended_on",
    "visibility", *STAMPS,
)  # fmt: skip
T_INCOMMUNICADO = _table(
    IncommunicadoPeriod, "episode_id", "kind", "started_on", "started_on_precision", "ended_on",
    "note", "visibility", *STAMPS,
)  # fmt: skip
T_RELEASE = _table(
    Release, "id", "episode_id", "released_on", "released_on_precision", "kind", "deal_id",
    "place_id", "conditions", "visibility", *STAMPS,
)  # fmt: skip
T_DEATH = _table(
    Death, "person_id", "died_on", "died_on_precision", "in_custody", "episode_id", "place_id",
    "circumstances", "visibility", *STAMPS,
)  # fmt: skip
T_TRANSFER = _table(
    Transfer, "person_id", "release_id", "sequence", "transferred_on", "transferred_on_precision",
    "from_country_id", "from_place_id", "to_country_id", "to_place_id", "mode", "documents",
    "note", "visibility", *STAMPS,
)  # fmt: skip

# Parents before children: the chronology triggers read the episode (and the release) of a row.
LOAD_ORDER: tuple[Table, ...] = (
    T_PERSON,
    T_NAME,
    T_IDENTIFIER,
    T_CITIZENSHIP,
    T_RECOGNITION,
    T_RISK,
    T_EPISODE,
    T_CHARGE,
    T_DECISION,
    T_PLACEMENT,
    T_INCOMMUNICADO,
    T_RELEASE,
    T_DEATH,
    T_TRANSFER,
)


def copy_rows(table: Table, rows: Sequence[tuple[Any, ...]]) -> None:
    """Write rows with ``COPY ... FROM STDIN`` on the connection of the current transaction."""
    if not rows:
        return
    with connection.cursor() as cursor, cursor.copy(table.copy_sql()) as copy:
        write = copy.write_row
        for row in rows:
            write(row)


def history_trigger_uris() -> list[str]:
    """The pghistory triggers of the tables a batch writes (for ``pgtrigger.ignore``)."""
    wanted = set(GENERATED_MODELS)
    return [
        trigger.get_uri(model)
        for model, trigger in pgtrigger.registered()
        if model in wanted and isinstance(trigger, pghistory.trigger.Event)
    ]


# --- The generator --------------------------------------------------------------------------------


def _date(ordinal: int | None) -> date | None:
    return None if ordinal is None else date.fromordinal(ordinal)


def add_months(ordinal: int, months: int) -> int:
    d = date.fromordinal(ordinal)
    year, month0 = divmod(d.month - 1 + months, 12)
    year += d.year
    day = min(d.day, calendar.monthrange(year, month0 + 1)[1])
    return date(year, month0 + 1, day).toordinal()


def _first_of_month(ordinal: int) -> int:
    return date.fromordinal(ordinal).replace(day=1).toordinal()


def _first_of_year(ordinal: int) -> int:
    return date.fromordinal(ordinal).replace(month=1, day=1).toordinal()


@dataclass
class Placement:
    kind: str
    facility: int | None
    start: int
    end: int | None


# Arrest periods and their weights: few before the 2020 election, most in 2020-2022.
ARREST_PERIODS: tuple[tuple[date, date, float], ...] = (
    (date(2011, 1, 1), date(2020, 5, 1), 8),
    (date(2020, 5, 1), date(2020, 8, 9), 6),
    (date(2020, 8, 9), date(2021, 1, 1), 20),
    (date(2021, 1, 1), date(2022, 1, 1), 28),
    (date(2022, 1, 1), date(2023, 1, 1), 15),
    (date(2023, 1, 1), date(2024, 1, 1), 10),
    (date(2024, 1, 1), date(2025, 1, 1), 7),
    (date(2025, 1, 1), date(2026, 1, 1), 4),
    (date(2026, 1, 1), date(2027, 1, 1), 2),
)
DEATH_SHARE = 0.0015  # persons who die in custody (in their last episode)
# Of the prisoners in a colony when a deal is made, the share it releases (chosen among the
# deals of their term); about one release in ten ends up tied to a deal.
DEAL_SHARE = 0.08
TERM_YEARS = (1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 14, 15, 18, 20, 25)
TERM_WEIGHTS = list(_cumulative((8, 15, 18, 11, 10, 8, 6, 5, 3, 3, 2, 2, 1.5, 1.5, 0.6, 0.3, 0.1)))


class BatchBuilder:
    """Builds the rows of one batch of persons, table by table."""

    def __init__(
        self,
        *,
        rng: random.Random,
        catalogue: Catalogue,
        names: NameBook,
        today: date,
        seed: int,
        pools: dict[str, IdPool],
    ) -> None:
        self.rng = rng
        self.cat = catalogue
        self.names = names
        self.today = today.toordinal()
        self.pools = pools
        self.note = SYNTHETIC_NOTE.format(seed=seed)
        self.now: datetime = timezone.now()
        self.rows: dict[str, list[tuple[Any, ...]]] = {t.name: [] for t in LOAD_ORDER}
        self._male_w = _zipf_weights(len(MALE_FIRST_NAMES))
        self._female_w = _zipf_weights(len(FEMALE_FIRST_NAMES))
        self._surname_w = _zipf_weights(len(SURNAMES), 0.6)
        periods = [p for p in ARREST_PERIODS if p[0].toordinal() < self.today - 30]
        self._periods = [
            (p[0].toordinal(), min(p[1].toordinal(), self.today - 30)) for p in periods
        ]
        self._period_w = list(_cumulative([p[2] for p in periods]))
        self.by = catalogue.countries["BY"]
        self.ru = catalogue.countries["RU"]
        self.deals = [d for d in catalogue.deals if d.completed <= self.today]
        fac = catalogue.facilities
        self._sizo_by_region = {
            name: [f for f in fac.get(name, []) if f in fac["sizo"]] for name in TOWNS_BY_REGION
        }
        self._ivs_by_region = {
            name: [f for f in fac.get(name, []) if f in fac["temporary"]]
            for name in TOWNS_BY_REGION
        }
        self._judges: list[str] = []
        self._left_country = False

    # helpers
    def reset(self) -> None:
        self.now = timezone.now()
        for rows in self.rows.values():
            rows.clear()

    def _day_between(self, start: int, end: int) -> int:
        return start if end <= start else self.rng.randint(start, end)

    def _visibility(self, parent: str) -> str:
        """A child record mostly shares its person's visibility; a few are not published yet."""
        return "draft" if parent != "draft" and self.rng.random() < 0.03 else parent

    def _judge(self) -> str:
        if not self._judges:
            rng = random.Random(7)
            for _ in range(60):
                female = rng.random() < 0.5
                first = rng.randrange(len(FEMALE_FIRST_NAMES if female else MALE_FIRST_NAMES))
                self._judges.append(
                    self.names.person(first, rng.randrange(len(SURNAMES)), female)[0]
                )
        return self.rng.choice(self._judges)

    # persons
    def person(self) -> None:
        rng = self.rng
        now = self.now
        pid = self.pools["person"].take()
        r = rng.random()
        gender = "male" if r < 0.84 else "female" if r < 0.995 else "unknown"
        female = gender == "female" or (gender == "unknown" and rng.random() < 0.5)
        if female:
            first = rng.choices(range(len(FEMALE_FIRST_NAMES)), cum_weights=self._female_w)[0]
        else:
            first = rng.choices(range(len(MALE_FIRST_NAMES)), cum_weights=self._male_w)[0]
        surname = rng.choices(range(len(SURNAMES)), cum_weights=self._surname_w)[0]
        display, name_rows = self.names.person(first, surname, female)

        r = rng.random()
        visibility = "public" if r < 0.85 else "researcher" if r < 0.90 else "draft"
        withheld = rng.random() < 0.02
        name_visibility = "draft" if withheld else visibility
        region = (
            None
            if rng.random() < 0.05
            else rng.choices(self.cat.regions, cum_weights=self.cat.region_weights)[0]
        )
        region_name = self.cat.region_names[region] if region else "Minsk City"

        first_arrest = self._first_arrest()
        open_facility = self.episodes(pid, first_arrest, female, region_name, visibility)

        age = rng.triangular(18, 75, 34)
        born = first_arrest - int(age * 365.25) - rng.randint(0, 364)
        r = rng.random()
        if r < 0.80:
            birth, birth_precision = _date(born), "day"
        elif r < 0.92:
            birth, birth_precision = _date(_first_of_year(born)), "year"
        else:
            birth, birth_precision = None, "unknown"

        letter_address, letters_reach = "", "unknown"
        if open_facility is not None and rng.random() < 0.5:
            letter_address = self.cat.facility_address.get(open_facility, "")
            letters_reach = rng.choice(("yes", "yes", "no", "unknown"))
        occupation = "" if rng.random() < 0.3 else rng.choice(OCCUPATIONS)
        self.rows[T_PERSON.name].append(
            (
                pid, display, withheld, visibility, birth, birth_precision, gender, region,
                occupation, "", False, letter_address, letters_reach, self.note, now, now,
            )
        )  # fmt: skip
        names = self.rows[T_NAME.name]
        for n in name_rows:
            names.append(
                (pid, n.text, n.key, n.language, n.script, n.kind, n.schemes, n.generated,
                 name_visibility, now, now)
            )  # fmt: skip
        if rng.random() < 0.7:
            self.rows[T_IDENTIFIER.name].append(
                (pid, "viasna", f"{IDENTIFIER_PREFIX}{pid}", "", visibility, now, now)
            )
        self._citizenships(pid)
        if rng.random() < 0.88:
            recognised = min(first_arrest + rng.randint(7, 90), self.today)
            withdrawn = (
                _date(min(recognised + rng.randint(30, 700), self.today))
                if rng.random() < 0.005
                else None
            )
            self.rows[T_RECOGNITION.name].append(
                (pid, self.cat.viasna, _date(recognised), "day", withdrawn,
                 self._visibility(visibility), now, now)
            )  # fmt: skip
        if open_facility is not None and birth is not None:
            sixty = add_months(born, 60 * 12)
            if sixty <= self.today:
                self.rows[T_RISK.name].append(
                    (pid, "over_60", _date(sixty), None, "", visibility, now, now)
                )
            if rng.random() < 0.03:
                since = _date(self._day_between(first_arrest, self.today))
                self.rows[T_RISK.name].append(
                    (pid, "serious_illness", since, None, "", "researcher", now, now)
                )

    def _citizenships(self, pid: int) -> None:
        rng = self.rng
        c = self.cat.countries
        r = rng.random()
        if r < 0.02:
            countries: tuple[int, ...] = ()
        elif r < 0.94:
            countries = (c["BY"],)
        elif r < 0.96:
            countries = (c["BY"], c["RU"])
        elif r < 0.97:
            countries = (c["BY"], c["PL"])
        elif r < 0.985:
            countries = (c["RU"],)
        elif r < 0.997:
            countries = (c["UA"],)
        else:
            countries = (c["DE"],)
        rows = self.rows[T_CITIZENSHIP.name]
        for country in countries:
            rows.append((pid, country, self.now, self.now))

    def _first_arrest(self) -> int:
        start, end = self.rng.choices(self._periods, cum_weights=self._period_w)[0]
        return self.rng.randint(start, max(start, end - 1))

    # episodes
    def episodes(
        self, pid: int, first_arrest: int, female: bool, region: str, visibility: str
    ) -> int | None:
        """Write the episodes of a person; return the facility holding them today, if any."""
        rng = self.rng
        r = rng.random()
        count = 1 if r < 0.70 else 2 if r < 0.92 else 3
        dies = rng.random() < DEATH_SHARE
        arrest = first_arrest
        self._left_country = False
        for number in range(count):
            last = number == count - 1
            end, facility = self.episode(
                pid, arrest, female, region, visibility,
                first=number == 0, dies=dies and last,
            )  # fmt: skip
            if end is None:
                return facility
            if end == -1 or self._left_country:  # died, or no longer in the country
                return None
            arrest = end + rng.randint(30, 900)
            if arrest > self.today - 10:
                return None
        return None

    def episode(
        self,
        pid: int,
        arrest: int,
        female: bool,
        region: str,
        visibility: str,
        *,
        first: bool,
        dies: bool,
    ) -> tuple[int | None, int | None]:
        """Write one episode. Returns (end, facility today): end None if open, -1 if died."""
        rng = self.rng
        cat = self.cat
        now = self.now
        today = self.today
        eid = self.pools["episode"].take()
        in_russia = rng.random() < 0.025
        country = self.ru if in_russia else self.by
        ep_visibility = self._visibility(visibility)

        # The course of the case, before it is cut by the release, the death, or today.
        pre_trial = int(rng.triangular(20, 330, 110))
        trial = arrest + pre_trial
        r = rng.random()
        decisions: list[tuple[str, int, int | None, int | None, str, int | None]] = []
        # (kind, date, years, months, regime, amends index)
        release_kind: str | None = None
        release_day: int
        deal: DealInfo | None = None
        colony_from: int | None = None
        regime = ""
        if r < 0.01:
            decisions.append(("acquittal", trial, None, None, "", None))
            release_kind, release_day = "acquittal", trial
            natural_end = trial
        elif r < 0.05:
            release_kind = "house_arrest" if r < 0.03 else "other"
            release_day = arrest + rng.randint(5, pre_trial)
            natural_end = release_day
        else:
            years = TERM_YEARS[rng.choices(range(len(TERM_YEARS)), cum_weights=TERM_WEIGHTS)[0]]
            months = rng.randint(1, 11) if rng.random() < 0.35 else None
            rr = rng.random()
            if years >= 8 and rr < 0.08:
                regime = "prison"
            elif rr < 0.55:
                regime = "general"
            elif rr < 0.85:
                regime = "strict"
            elif rr < 0.88:
                regime = "special"
            elif rr < 0.95:
                regime = "settlement"
            else:
                regime = rng.choice(("restricted", "home", "fine"))
            if regime in ("restricted", "home", "fine"):
                # Not a custody sentence: released from pre-trial detention by the court.
                term = (None, None) if regime == "fine" else (rng.randint(1, 3), None)
                decisions.append(("sentence", trial, *term, regime, None))
                release_kind, release_day = "other", trial
                natural_end = trial
            else:
                decisions.append(("sentence", trial, years, months, regime, None))
                natural_end = add_months(arrest, years * 12 + (months or 0))
                colony_from = trial + rng.randint(10, 45)
                if rng.random() < 0.5:
                    appeal_years, appeal_months = years, months
                    if years > 1 and rng.random() < 0.15:
                        appeal_years -= 1
                        natural_end = add_months(arrest, appeal_years * 12 + (months or 0))
                    decisions.append(
                        ("appeal", trial + rng.randint(30, 110), appeal_years, appeal_months,
                         regime, 0)
                    )  # fmt: skip
                natural_end = max(natural_end, colony_from + 30)
                if natural_end - colony_from > 400 and rng.random() < 0.02:
                    day = rng.randint(colony_from + 120, natural_end - 60)
                    decisions.append(("extension", day, 1, None, regime, 0))
                    natural_end = add_months(natural_end, 12)
                release_day = natural_end
                release_kind = "end_of_term"
                deals = [
                    d for d in self.deals
                    if colony_from < d.completed < natural_end and not in_russia
                ]  # fmt: skip
                span = natural_end - colony_from
                rr = rng.random()
                if deals and rng.random() < DEAL_SHARE:
                    deal = rng.choice(deals)
                    release_kind = "deal" if rng.random() < 0.85 else "pardon"
                    release_day = deal.completed
                elif rr < 0.10 and span > 120:
                    release_kind = "pardon"
                    release_day = rng.randint(colony_from + 60, natural_end - 1)
                elif rr < 0.18 and span > 120:
                    release_kind = "parole"
                    release_day = rng.randint(
                        max(colony_from + 30, arrest + (natural_end - arrest) * 2 // 3),
                        natural_end - 1,
                    )
                elif rr < 0.22 and span > 60:
                    release_kind = "amnesty"
                    release_day = rng.randint(colony_from + 30, natural_end - 1)
                elif rr < 0.235 and span > 60:
                    release_kind = "medical"
                    release_day = rng.randint(colony_from + 30, natural_end - 1)

        # How it ends: death (rare), release, or not yet.
        end: int | None = release_day
        end_reason = "release"
        if dies:
            end = rng.randint(arrest + 30, max(arrest + 30, min(natural_end, today - 1)))
            end_reason = "death"
            release_kind, deal = None, None
        if end is not None and end > today:
            end, end_reason, release_kind, deal = None, "", None, None
        release_precision = "day"
        if (
            release_kind in ("end_of_term", "pardon", "parole", "amnesty", "medical")
            and deal is None
            and rng.random() < 0.03
            and end is not None
            and _first_of_month(end) > arrest
        ):
            end = _first_of_month(end)
            release_precision = "month"

        # The arrest as recorded: a few are known to the month or not at all.
        rr = rng.random()
        arrested_on: int | None = arrest
        arrest_precision = "day"
        if first and rr < 0.005:
            arrested_on, arrest_precision = None, "unknown"
        elif rr < 0.05:
            arrested_on, arrest_precision = _first_of_month(arrest), "month"
        town = rng.choice(cat.towns["RU" if in_russia else region])
        self.rows[T_EPISODE.name].append(
            (
                eid, pid, country, _date(arrested_on), arrest_precision, town,
                "FSB" if in_russia else rng.choice(AUTHORITIES), _date(end), end_reason,
                None if end is None else int(visibility_tier(ep_visibility)), "",
                ep_visibility, now, now,
            )
        )  # fmt: skip

        # Charges
        charges = self.rows[T_CHARGE.name]
        seen: set[tuple[int, str]] = set()
        for _ in range(rng.choice((1, 1, 1, 2, 2, 3))):
            article, parts = cat.articles[
                rng.choices(range(len(cat.articles)), cum_weights=cat.article_weights)[0]
            ]
            part = rng.choice(parts)
            if (article, part) in seen:
                continue
            seen.add((article, part))
            charged = arrest + rng.randint(0, 10)
            if end is not None:
                charged = min(charged, end)
            charges.append((eid, article, part, _date(charged), "", ep_visibility, now, now))

        # Court decisions up to the end (or today)
        limit = today if end is None else end
        decision_ids: list[int] = []
        courts = RUSSIAN_COURTS if in_russia else COURTS_BY_REGION[region]
        court = rng.choice(courts)
        # An appeal goes to the regional court, or to the Supreme Court from a regional one.
        appeal_court = courts[0] if court != courts[0] else APPEAL_COURTS[in_russia]
        for kind, day, term_years, term_months, term_regime, amends in decisions:
            if day > limit:
                break
            did = self.pools["decision"].take()
            decision_ids.append(did)
            amends_id = decision_ids[amends] if amends is not None else None
            note = ""
            if kind == "extension":
                note = "Additional term for malicious disobedience (art. 411)."
                charges.append(
                    (eid, cat.article_411, "1", _date(max(day - 30, arrest)), "", ep_visibility,
                     now, now)
                )  # fmt: skip
            self.rows[T_DECISION.name].append(
                (
                    did, eid, kind, _date(day), "day", appeal_court if kind == "appeal" else court,
                    self._judge(), term_years, term_months, None, "", term_regime, amends_id,
                    note, ep_visibility, now, now,
                )
            )  # fmt: skip

        # Placements: holding cell, pre-trial centre (or house arrest), colony or prison.
        plan = self._placements(arrest, trial, colony_from, natural_end, regime, female,
                                region, in_russia)  # fmt: skip
        kept: list[Placement] = []
        for p in plan:
            if end is not None:
                if p.start >= end:
                    break
                if p.end is None or p.end > end:
                    p.end = end
            else:
                if p.start > today:
                    break
                if p.end is None or p.end > today:
                    p.end = None
            kept.append(p)
            if p.end is None:
                break
        placements = self.rows[T_PLACEMENT.name]
        for p in kept:
            placements.append(
                (eid, pid, p.facility, p.kind, _date(p.start), _date(p.end), ep_visibility,
                 now, now)
            )  # fmt: skip
        last_facility = kept[-1].facility if kept else None

        # Incommunicado or solitary confinement, for a few in a colony.
        if colony_from is not None and colony_from < limit and rng.random() < 0.03:
            start = colony_from + rng.randint(30, 400)
            if start <= limit:
                until = start + rng.randint(60, 1000)
                if end is not None:
                    stop: int | None = min(until, end)
                else:
                    stop = None if until > today else until  # None: still going on
                self.rows[T_INCOMMUNICADO.name].append(
                    (
                        eid, "incommunicado" if rng.random() < 0.7 else "solitary",
                        _date(start), "day", _date(stop), "", ep_visibility, now, now,
                    )
                )  # fmt: skip

        if end is None:
            return None, last_facility
        if end_reason == "death":
            place = next((p.facility for p in reversed(kept) if p.start <= end), last_facility)
            self.rows[T_DEATH.name].append(
                (pid, _date(end), "day", True, eid, place, "", ep_visibility, now, now)
            )
            return -1, None

        assert release_kind is not None
        rid = self.pools["release"].take()
        conditions = ""
        if release_kind == "other" and regime in ("restricted", "home", "fine"):
            conditions = {
                "restricted": "Sentenced to restriction of freedom.",
                "home": "Sentenced to home confinement.",
                "fine": "Sentenced to a fine.",
            }[regime]
        self.rows[T_RELEASE.name].append(
            (
                rid, eid, _date(end), release_precision, release_kind,
                deal.id if deal else None, last_facility, conditions, ep_visibility, now, now,
            )
        )  # fmt: skip
        if deal is not None and deal.routes and rng.random() < 0.7:
            self._deal_transfers(pid, rid, end, country, deal, ep_visibility)
            self._left_country = True
        elif not in_russia and rng.random() < 0.01:
            leave = end + rng.randint(20, 700)
            if leave <= today:
                to = self.cat.countries[rng.choice(("LT", "PL", "PL", "GE", "DE"))]
                self.rows[T_TRANSFER.name].append(
                    (pid, rid, 1, _date(leave), "day", country, None, to, None, "voluntary",
                     "kept", "", ep_visibility, now, now)
                )  # fmt: skip
                self._left_country = True
        return end, None

    def _placements(
        self,
        arrest: int,
        trial: int,
        colony_from: int | None,
        natural_end: int,
        regime: str,
        female: bool,
        region: str,
        in_russia: bool,
    ) -> list[Placement]:
        rng = self.rng
        fac = self.cat.facilities
        plan: list[Placement] = []
        pre_trial_end = colony_from if colony_from is not None else max(trial, natural_end)
        day = arrest
        if in_russia:
            plan.append(Placement("pre_trial", rng.choice(fac["ru-sizo"]), day, pre_trial_end))
            if colony_from is not None:
                plan.append(Placement("colony", fac["ru-colony"][0], colony_from, None))
            return plan
        if rng.random() < 0.45:
            ivs = self._ivs_by_region.get(region) or fac["temporary"]
            stop = day + rng.randint(2, 12)
            if stop < pre_trial_end:
                plan.append(Placement("temporary", rng.choice(ivs), day, stop))
                day = stop
        r = rng.random()
        if r < 0.05:
            sizo = fac["kgb"][0]
        elif r < 0.20:
            sizo = next(f for f in fac["sizo"] if f in fac.get("Minsk Region", []))
        else:
            sizo = rng.choice(self._sizo_by_region.get(region) or fac["sizo"])
        if rng.random() < 0.04 and pre_trial_end - day > 40:
            middle = day + (pre_trial_end - day) // 2
            plan.append(Placement("pre_trial", sizo, day, middle))
            plan.append(Placement("house_arrest", None, middle, pre_trial_end))
        else:
            plan.append(Placement("pre_trial", sizo, day, pre_trial_end))
        if colony_from is None:
            return plan
        if rng.random() < 0.003:
            plan.append(Placement("psychiatric", fac["psychiatric"][0], colony_from, None))
            return plan
        if regime == "prison":
            kind, options = "prison", fac["prison"]
        elif regime == "settlement":
            kind, options = "colony", fac["settlement"]
        elif female:
            kind, options = "colony", fac["women"]
        elif regime in ("strict", "special"):
            kind, options = "colony", fac["strict"] + fac["men"]
        else:
            kind, options = "colony", fac["men"]
        first = rng.choice(options)
        if natural_end - colony_from > 400 and rng.random() < 0.15:
            moved = colony_from + rng.randint(150, natural_end - colony_from - 100)
            plan.append(Placement(kind, first, colony_from, moved))
            if rng.random() < 0.4 and kind == "colony":
                kind, options = "prison", fac["prison"]
            second = rng.choice([f for f in options if f != first] or options)
            plan.append(Placement(kind, second, moved, None))
        else:
            plan.append(Placement(kind, first, colony_from, None))
        return plan

    def _deal_transfers(
        self, pid: int, rid: int, day: int, country: int, deal: DealInfo, visibility: str
    ) -> None:
        rng = self.rng
        now = self.now
        routes = deal.routes
        first, onward, _ = rng.choices(routes, cum_weights=list(_cumulative(r[2] for r in routes)))[
            0
        ]
        legs: list[tuple[int, int, int, str, str]] = [
            (country, first, day, "handover" if first == self.cat.countries["UA"] else
             "deportation", "taken" if rng.random() < 0.7 else "unknown"),
        ]  # fmt: skip
        if onward and rng.random() < 0.9:
            nxt = rng.choice(onward)
            day2 = day + rng.randint(0, 3)
            legs.append((first, nxt, day2, rng.choice(("handover", "voluntary")), "taken"))
            if rng.random() < 0.08:
                third = rng.choice(
                    [self.cat.countries[c] for c in ("DE", "PL", "LT", "LV")
                     if self.cat.countries[c] not in (nxt, first)]
                )  # fmt: skip
                legs.append((nxt, third, day2 + rng.randint(10, 120), "voluntary", "unknown"))
        rows = self.rows[T_TRANSFER.name]
        for sequence, (src, dst, when, mode, documents) in enumerate(legs, start=1):
            if when > self.today:
                break
            rows.append(
                (pid, rid, sequence, _date(when), "day", src, None, dst, None, mode, documents,
                 "", visibility, now, now)
            )  # fmt: skip


# --- Running it -----------------------------------------------------------------------------------


@dataclass
class Result:
    persons: int
    seed: int
    batch: int
    workers: int
    history: bool
    rows: Counter[str] = field(default_factory=Counter)
    elapsed_seconds: float = 0.0
    build_seconds: float = 0.0
    copy_seconds: float = 0.0
    analyze_seconds: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "persons": self.persons,
            "seed": self.seed,
            "batch": self.batch,
            "workers": self.workers,
            "history": self.history,
            "rows": dict(sorted(self.rows.items())),
            "rows_total": sum(self.rows.values()),
            "elapsed_seconds": round(self.elapsed_seconds, 1),
            "build_seconds": round(self.build_seconds, 1),
            "copy_seconds": round(self.copy_seconds, 1),
            "analyze_seconds": round(self.analyze_seconds, 1),
        }


@dataclass(frozen=True)
class BatchStats:
    number: int
    persons: int
    rows: Counter[str]
    build_seconds: float
    copy_seconds: float


def _prime_session(*, history: bool) -> None:
    """Set the transaction-local variables the triggers read, before any ``COPY``.

    One statement through Django's cursor lets the execute wrappers of pghistory (the audit
    context) and pgtrigger (the ignored triggers) set theirs: ``COPY`` goes straight to psycopg
    and would run without them. With the history on, ``pgtrigger.ignore`` is set to an empty
    list as well: left unset, every trigger's ``_pgtrigger_should_ignore`` raises and catches an
    error, and each caught error (a subtransaction abort) scans the whole queue of deferred
    foreign-key checks of the transaction, which makes a batch quadratic in its size.
    """
    with connection.cursor() as cursor:
        if history:
            cursor.execute("SELECT set_config('pgtrigger.ignore', '{}', true)")
        cursor.execute("SET LOCAL statement_timeout = 0")


class Loader:
    """Writes batches on the connection of the thread it is used in (one per worker)."""

    def __init__(
        self,
        *,
        catalogue: Catalogue,
        names: NameBook,
        today: date,
        seed: int,
        batch: int,
        history: bool,
    ) -> None:
        self.seed = seed
        self.history = history
        self.ignore = [] if history else history_trigger_uris()
        pools = {
            "person": IdPool(T_PERSON.name, batch),
            "episode": IdPool(T_EPISODE.name, batch * 3 // 2),
            "decision": IdPool(T_DECISION.name, batch * 3 // 2),
            "release": IdPool(T_RELEASE.name, batch),
        }
        self.builder = BatchBuilder(
            rng=random.Random(seed),
            catalogue=catalogue,
            names=names,
            today=today,
            seed=seed,
            pools=pools,
        )

    def run(self, number: int, persons: int) -> BatchStats:
        """One batch: build the rows, then COPY them table by table, in one transaction and
        one audit context. The content depends on the seed and the batch number only."""
        builder = self.builder
        builder.rng = random.Random(f"{self.seed}:{number}")
        rows: Counter[str] = Counter()
        t0 = time.monotonic()
        with (
            transaction.atomic(),
            audit_context(reason=AUDIT_REASON, seed=self.seed, batch=number),
            pgtrigger.ignore(*self.ignore) if self.ignore else contextlib.nullcontext(),
        ):
            _prime_session(history=self.history)
            builder.reset()
            for _ in range(persons):
                builder.person()
            t1 = time.monotonic()
            for table in LOAD_ORDER:
                table_rows = builder.rows[table.name]
                copy_rows(table, table_rows)
                rows[table.name] += len(table_rows)
            builder.reset()
        return BatchStats(number, persons, rows, t1 - t0, time.monotonic() - t1)


def generate(
    *,
    persons: int,
    seed: int = 0,
    batch: int = 5000,
    workers: int = 1,
    history: bool = True,
    today: date | None = None,
    progress: Callable[[str], None] | None = None,
) -> Result:
    """Write ``persons`` synthetic persons with all their events; return the row counts.

    ``workers`` > 1 loads batches in that many threads, each on its own database connection
    (the catalogue is committed first, so they all see it). With one worker everything runs
    on the caller's connection, inside its transaction if there is one.
    """
    if persons < 0 or batch < 1 or workers < 1:
        raise ValueError("persons must be >= 0, batch and workers >= 1")
    say = progress or (lambda _message: None)
    today = today or timezone.localdate()
    started = time.monotonic()
    batches = [(n + 1, min(batch, persons - n * batch)) for n in range(math.ceil(persons / batch))]
    workers = max(1, min(workers, len(batches)))
    result = Result(persons=persons, seed=seed, batch=batch, workers=workers, history=history)

    with transaction.atomic(), audit_context(reason=AUDIT_REASON, seed=seed):
        catalogue = ensure_catalogue(today=today)
    names = NameBook()
    todo: queue.SimpleQueue[tuple[int, int]] = queue.SimpleQueue()
    for item in batches:
        todo.put(item)
    lock = threading.Lock()
    failed = threading.Event()
    done = 0

    def work(own_connection: bool) -> None:
        nonlocal done
        try:
            loader = Loader(
                catalogue=catalogue,
                names=names,
                today=today,
                seed=seed,
                batch=batch,
                history=history,
            )
            while not failed.is_set():
                try:
                    number, size = todo.get_nowait()
                except queue.Empty:
                    return
                stats = loader.run(number, size)
                with lock:
                    done += stats.persons
                    result.rows.update(stats.rows)
                    result.build_seconds += stats.build_seconds
                    result.copy_seconds += stats.copy_seconds
                    elapsed = time.monotonic() - started
                    say(
                        f"batch {stats.number}/{len(batches)}: {done} persons in {elapsed:.1f} s "
                        f"({done / elapsed:.0f}/s; this batch built in "
                        f"{stats.build_seconds:.1f} s, copied in {stats.copy_seconds:.1f} s)"
                    )
        except BaseException:
            failed.set()
            raise
        finally:
            if own_connection:
                connection.close()

    if workers == 1:
        work(own_connection=False)
    else:
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="generate") as pool:
            futures = [pool.submit(work, True) for _ in range(workers)]
            for future in futures:
                future.result()

    with transaction.atomic(), audit_context(reason=AUDIT_REASON, seed=seed):
        finalise_deals()
    analyze_started = time.monotonic()
    analyze_loaded_tables(result.rows)
    result.analyze_seconds = time.monotonic() - analyze_started
    result.elapsed_seconds = time.monotonic() - started
    return result


def analyze_loaded_tables(rows: Counter[str]) -> None:
    """Refresh the planner statistics of the tables a load wrote to (and of the derived tables
    their triggers wrote). Without it, until autovacuum comes round (or never, where it is off),
    the planner still sees the tables as nearly empty and picks nested loops over millions of
    rows: a search that takes milliseconds after ANALYZE then takes minutes."""
    derived = (
        "prisoners_personlisting",
        "events_deallisting",
        "events_statsfact",
        "events_statsdelta",
    )
    tables = sorted({table for table, count in rows.items() if count} | set(derived))
    known = set(connection.introspection.table_names())
    with connection.cursor() as cursor:
        for table in tables:
            if table in known:
                cursor.execute(f"ANALYZE {connection.ops.quote_name(table)}")


def finalise_deals() -> None:
    """Set the reported numbers of the synthetic deals from the releases identified in them:
    a little more than identified, as some released persons are never named."""
    for deal in ReleaseDeal.objects.filter(slug__startswith=DEAL_SLUG_PREFIX):
        identified = deal.releases.count()
        reported = identified + math.ceil(identified * 0.08)
        if deal.reported_total != reported:
            deal.reported_total = reported
            deal.save(update_fields=["reported_total", "updated_at"])
        for destination in deal.destinations.all():
            first_legs = Transfer.objects.filter(
                release__deal=deal, sequence=1, to_country_id=destination.country_id
            ).count()
            count = first_legs + math.ceil(first_legs * 0.08)
            if destination.reported_count != count:
                destination.reported_count = count
                destination.save(update_fields=["reported_count", "updated_at"])
