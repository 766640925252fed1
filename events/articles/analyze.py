"""One article in, one JSON-ready result out: its metadata, the persons it mentions, the events
it states. Reads the database (a bounded number of queries), never writes to it."""

from __future__ import annotations

from typing import Any

from .extract import Article
from .mentions import find_mentions
from .statements import propose


def analyze(article: Article) -> dict[str, Any]:
    mentions, unknown = find_mentions(article.text)
    language = (article.language or "en")[:2].lower()
    proposals, deal = propose(article.text, mentions, unknown, article.date, language)
    result: dict[str, Any] = {
        "file": article.file,
        "title": article.title,
        "date": article.date.isoformat() if article.date else None,
        "language": language,
        "author": article.author or None,
        "url": article.url or None,
        "mentions": [m.as_json() for m in mentions],
        "proposals": [p.as_json() for p in proposals],
    }
    if deal:
        result["deal"] = deal
    return result
