"""The seed report (tests/articles/corpus/000_af7107ba822f2a0d.txt) read against the demo data."""

from pathlib import Path

import pytest

from events.articles.analyze import analyze
from events.articles.extract import read_article
from prisoners.models import NameVariant

CORPUS = Path(__file__).parent / "corpus"
SEED = CORPUS / "000_af7107ba822f2a0d.txt"

pytestmark = pytest.mark.django_db


def _id(name):
    return NameVariant.objects.filter(text=name).values_list("person_id", flat=True).first()


def _by(result, kind):
    return [p for p in result["proposals"] if p["type"] == kind]


def test_metadata(demo):
    result = analyze(read_article(SEED))
    assert result["title"] == "Belarus Releases 123 Prisoners Amid US Sanctions Relief"
    assert result["date"] == "2025-12-14"
    assert result["language"] == "en"


def test_mentions_with_spans(demo):
    article = read_article(SEED)
    result = analyze(article)
    kolesnikova = _id("Maria Kolesnikova")
    found = [m for m in result["mentions"] if m["person_id"] == kolesnikova]
    assert [m["text"] for m in found][:2] == ["Maria Kolesnikova", "Kolesnikova"]
    for m in result["mentions"]:
        assert article.text[m["start"] : m["end"]] == m["text"]
    assert found[0]["name"] == "Maryia Kalesnikava"
    ids = {m["person_id"] for m in result["mentions"]}
    for name in (
        "Ales Bialiatski",
        "Viktor Babaryko",
        "Marina Zolotova",
        "Sergei Tikhanovsky",
        "Julia Fenner",
    ):
        assert _id(name) in ids, name


def test_releases_transfers_and_dates(demo):
    result = analyze(read_article(SEED))
    released = {p["person_id"]: p for p in _by(result, "release") if p["person_id"]}
    for name in (
        "Maria Kolesnikova",
        "Ales Bialiatski",
        "Viktor Babaryko",
        "Marina Zolotova",
        "Sergei Tikhanovsky",
    ):
        assert _id(name) in released, name
        assert released[_id(name)]["date"] == "2025-12-13", name  # "on Saturday", Sun 14 Dec
    group = [p for p in _by(result, "release") if p["count"]]
    assert group[0]["count"] == 123

    transfers = _by(result, "transfer")
    to_ukraine = [p for p in transfers if p["count"] == 114]
    assert len(to_ukraine) == 1
    assert to_ukraine[0]["to_country"] == "UA"
    assert to_ukraine[0]["from_country"] == "BY"
    assert to_ukraine[0]["date"] == "2025-12-13"
    by_person = {p["person_id"]: p for p in transfers if p["person_id"]}
    assert by_person[_id("Ales Bialiatski")]["to_country"] == "LT"
    assert by_person[_id("Maria Kolesnikova")]["to_country"] == "UA"
    assert result["deal"]["reported_total"] == 123
    assert {"country": "UA", "count": 114} in result["deal"]["destinations"]


def test_sentence_and_detentions(demo):
    result = analyze(read_article(SEED))
    fenner = [p for p in result["proposals"] if p["person_id"] == _id("Julia Fenner")]
    assert {p["type"] for p in fenner} == {"sentence", "detention"}
    sentence = next(p for p in fenner if p["type"] == "sentence")
    assert sentence["term"] == "a long jail term"
    detention = next(p for p in fenner if p["type"] == "detention")
    assert detention["date"] == "2024-03"
    babaryko = [p for p in _by(result, "detention") if p["person_id"] == _id("Viktor Babaryko")]
    assert babaryko[0]["date"] == "2020"  # "detained five years ago"
    # Zolotova is only released in that sentence, not detained.
    assert not [p for p in _by(result, "detention") if p["person_id"] == _id("Marina Zolotova")]


def test_leader_and_president_get_no_event(people):
    result = analyze(read_article(SEED))
    ids = {m["person_id"] for m in result["mentions"]}
    leader, president = people["tsikhanouskaya"].pk, people["lukashenko"].pk
    assert leader in ids  # found, by full name and by surname
    assert president in ids
    texts = {m["text"] for m in result["mentions"] if m["person_id"] == leader}
    assert {"Svetlana Tikhanovskaya", "Tikhanovskaya"} <= texts
    for p in result["proposals"]:
        assert p["person_id"] not in (leader, president), p
        assert not (p["person_name"] or "").startswith(("Svetlana", "Alexander")), p
    # No unknown names guessed from this report, no group without a count.
    for p in result["proposals"]:
        assert p["person_id"] is not None or p["count"], p
