"""``manage.py import_articles``: JSON lines, errors per file, nothing written, bounded queries."""

import json
import random
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from events.articles.analyze import analyze
from events.articles.extract import ArticleError, read_article

CORPUS = Path(__file__).parent / "corpus"
SEED = CORPUS / "000_af7107ba822f2a0d.txt"

pytestmark = pytest.mark.django_db


def _run(*paths):
    from io import StringIO

    out, err = StringIO(), StringIO()
    call_command("import_articles", *map(str, paths), "--json", stdout=out, stderr=err)
    return [json.loads(line) for line in out.getvalue().splitlines()], err.getvalue()


def test_json_lines_and_errors_per_file(demo, tmp_path):
    malformed = tmp_path / "broken.html"
    malformed.write_bytes(b"<html><body><div><p>\x01<<<>>></div")
    empty = tmp_path / "empty.txt"
    empty.write_text("")
    with CaptureQueriesContext(connection) as queries:
        lines, err = _run(malformed, SEED, empty, tmp_path / "missing.txt")
    assert [line["file"] for line in lines] == [
        str(malformed),
        str(SEED),
        str(empty),
        str(tmp_path / "missing.txt"),
    ]
    assert "no article text" in lines[0]["error"]
    assert lines[2]["error"] == "the file is empty"
    assert "cannot read" in lines[3]["error"]
    seed = lines[1]
    assert set(seed) >= {"file", "title", "date", "mentions", "proposals"}
    assert seed["proposals"]
    for proposal in seed["proposals"]:
        assert set(proposal) >= {
            "type",
            "person_id",
            "person_name",
            "date",
            "from_country",
            "to_country",
            "count",
            "term",
            "confidence",
            "snippet",
        }
        assert 0 <= proposal["confidence"] <= 1
    assert "broken.html" in err
    # Nothing is written.
    writes = [
        q["sql"]
        for q in queries.captured_queries
        if q["sql"].lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE"))
    ]
    assert writes == []


def test_fails_only_when_every_file_fails(db, tmp_path):
    bad = tmp_path / "bad.html"
    bad.write_text("<html></html>")
    with pytest.raises(CommandError):
        _run(bad, tmp_path / "nothing.txt")


def test_malformed_html_is_a_clear_error(tmp_path):
    for content in (b"<html><body><div", b"<!DOCTYPE html><html><head></head><body></body>"):
        path = tmp_path / "page.html"
        path.write_bytes(content)
        with pytest.raises(ArticleError, match="HTML"):
            read_article(path)
    binary = tmp_path / "image.txt"
    binary.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00")
    with pytest.raises(ArticleError):
        read_article(binary)


def test_text_header_block(tmp_path):
    path = tmp_path / "a.txt"
    path.write_text(
        "Title: A title\nPublisher: P\nDate: 2026-01-02\nURL: https://example.org/a\n"
        "Language: ru\n\nТекст статьи.\n"
    )
    article = read_article(path)
    assert (article.title, article.date.isoformat(), article.language, article.url) == (
        "A title",
        "2026-01-02",
        "ru",
        "https://example.org/a",
    )
    assert article.text == "Текст статьи."


def _bulk_persons(n):
    from prisoners.audit import audit_context
    from prisoners.models import NameVariant, Person, Visibility
    from prisoners.translit import search_key

    rng = random.Random(5)
    first = ["Ivan", "Pavel", "Anna", "Olga", "Siarhei", "Maryia", "Andrei", "Alena", "Ihar"]
    syllables = ["ka", "la", "vi", "to", "rin", "sa", "mo", "nik", "dze", "bu", "shev", "lo"]
    with audit_context(reason="test"):
        persons = Person.objects.bulk_create(
            Person(name=f"Person {i}", visibility=Visibility.PUBLIC) for i in range(n)
        )
        variants = []
        for person in persons:
            text = f"{rng.choice(first)} " + "".join(rng.choices(syllables, k=3)).capitalize()
            variants.append(
                NameVariant(
                    person=person,
                    text=text,
                    search_key=search_key(text),
                    language="en",
                    script="Latn",
                    kind="common",
                    visibility=Visibility.PUBLIC,
                )
            )
        NameVariant.objects.bulk_create(variants)


def test_matcher_does_no_per_person_query(demo, django_assert_max_num_queries):
    article = read_article(SEED)
    with CaptureQueriesContext(connection) as few:
        small = analyze(article)
    _bulk_persons(2000)
    with django_assert_max_num_queries(3):
        large = analyze(article)
    assert len(few.captured_queries) <= 3
    assert [m["person_id"] for m in large["mentions"]] == [
        m["person_id"] for m in small["mentions"]
    ]
