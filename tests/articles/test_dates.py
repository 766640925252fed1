"""Dates, sentences and countries of article text (no database)."""

import datetime as dt

import pytest

from events.articles.dates import dates_in, parse_date

SUNDAY = dt.date(2025, 12, 14)


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("released on Dec. 13, 2025 in Minsk", "2025-12-13"),
        ("on 13 December 2025", "2025-12-13"),
        ("13 декабря 2025 года", "2025-12-13"),
        ("detained in March 2024", "2024-03"),
        ("задержан в марте 2024 года", "2024-03"),
        ("released on Saturday", "2025-12-13"),
        ("освобождена в субботу", "2025-12-13"),
        ("вызвалены ў суботу", "2025-12-13"),
        ("yesterday", "2025-12-13"),
        ("вчера", "2025-12-13"),
        ("on Sunday", "2025-12-14"),
        ("detained five years ago", "2020"),
    ],
)
def test_dates(text, value):
    assert [v for _, _, v in dates_in(text, SUNDAY)] == [value]


def test_no_relative_date_without_publication_day():
    assert dates_in("released on Saturday", None) == []


def test_election_year_is_not_a_date():
    assert dates_in("challenge him in the 2020 election", SUNDAY) == []


def test_publication_line():
    assert parse_date("Sun. Dec 14th, 2025") == SUNDAY
    assert parse_date("no date here") is None


def test_sentences_and_countries(db):
    from events.articles.statements import country_in, sentences

    text = "Mr. Smith was freed on Dec. 13, 2025. The U.S. envoy spoke.\nНовая строка."
    assert [text[a:b].strip() for a, b in sentences(text)] == [
        "Mr. Smith was freed on Dec. 13, 2025.",
        "The U.S. envoy spoke.",
        "Новая строка.",
    ]
    assert country_in("to the Lithuanian capital") == "LT"
    assert country_in("переданы Украине") == "UA"
    assert country_in("taken to Vilnius") == "LT"
    assert country_in("flown to Warsaw") == "PL"
