"""Feed reading (well-formed, malformed, not a feed) and recognising articles seen before."""

from __future__ import annotations

from pathlib import Path

import pytest

from events.ingest import dedup
from events.ingest.feeds import FeedError, entries
from events.services import content_hash
from tests.imports.server import rss

CORPUS = Path(__file__).parent.parent / "articles" / "corpus"

STORY = (
    "Belarusian authorities released 123 prisoners on Saturday after talks with a US envoy, "
    "including the opposition figure Maria Kolesnikova and the Nobel laureate Ales Bialiatski. "
    "Most of them were taken to Ukraine, officials said, while nine went to Lithuania. The "
    "release followed the lifting of US sanctions on potash, a key export of the country, and "
    "was described by the envoy as a step towards normal relations between the two countries."
)


def test_rss_and_atom_entries():
    found = entries(rss([("One", "http://example.org/1"), ("Two", "https://example.org/2")]))
    assert [(e.title, e.url) for e in found] == [
        ("One", "http://example.org/1"),
        ("Two", "https://example.org/2"),
    ]
    atom = (
        b'<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom"><title>A</title>'
        b'<entry><title>Three</title><link rel="alternate" href="https://example.org/3"/>'
        b"</entry></feed>"
    )
    assert [e.url for e in entries(atom)] == ["https://example.org/3"]


def test_entries_without_a_web_link_are_skipped_and_the_limit_holds():
    items = [("x", "javascript:alert(1)"), ("y", "ftp://example.org/f")]
    items += [(f"n{i}", f"https://example.org/{i}") for i in range(10)]
    found = entries(rss(items), limit=3)
    assert [e.url for e in found] == [f"https://example.org/{i}" for i in range(3)]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "empty"),
        (b"   ", "empty"),
        (b"just some words", "not an RSS or Atom feed"),
        (b"<html><body><p>a web page</p></body></html>", "not an RSS or Atom feed"),
        (b'<rss version="2.0"><channel><item><title>broken', "malformed feed"),
        (b"\x00\xff\xfe binary", "not an RSS or Atom feed"),
    ],
)
def test_bad_feeds_get_a_clear_error(content, message):
    with pytest.raises(FeedError, match=message):
        entries(content)


def test_canonical_urls():
    assert dedup.canonical_url("HTTPS://News.Example.ORG:443/a/b/?utm_source=x&id=7#top") == (
        "https://news.example.org/a/b?id=7"
    )
    assert dedup.canonical_url("http://example.org") == "http://example.org/"
    assert dedup.canonical_url("http://example.org:8080/x?fbclid=1") == "http://example.org:8080/x"
    assert dedup.canonical_url("mailto:a@b") == ""
    assert dedup.canonical_url("") == ""


def test_content_hash_ignores_white_space_only():
    assert content_hash("a  b\nc") == content_hash(" a b c ")
    assert content_hash("a b c") != content_hash("a b d")


def test_the_same_story_edited_is_near_and_another_story_is_far():
    seed = (CORPUS / "000_af7107ba822f2a0d.txt").read_text()
    base = dedup.simhash(seed)
    # The wire story as another site runs it: a word changed, its own credit line added.
    edited = dedup.simhash(
        seed.replace("Saturday", "Saturday morning") + "\n(Reporting by an agency; editing.)"
    )
    trimmed = dedup.simhash("BREAKING: " + seed[200:])
    others = [dedup.simhash(p.read_text()) for p in sorted(CORPUS.iterdir())[1:]]
    assert base is not None
    assert edited is not None
    assert trimmed is not None
    assert dedup.distance(base, edited) <= dedup.NEAR_BITS
    assert dedup.distance(base, trimmed) <= dedup.NEAR_BITS
    for other in others:
        assert other is not None
        assert dedup.distance(base, other) > 10
    # Near hashes share a band: the candidates come from the band indexes.
    assert set(enumerate(dedup.bands(base))) & set(enumerate(dedup.bands(edited)))
    assert dedup.simhash(STORY) is not None
    assert dedup.simhash("too short to compare") is None
    signed = dedup.to_signed(base)
    assert -(2**63) <= signed < 2**63
    assert dedup.to_unsigned(signed) == base
