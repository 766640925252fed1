"""Reading an RSS or Atom feed that was fetched: the links of its entries, newest first."""

from __future__ import annotations

from dataclasses import dataclass

import feedparser


class FeedError(Exception):
    """The feed cannot be read; the message says why."""


@dataclass
class Entry:
    url: str
    title: str


def entries(content: bytes, *, limit: int = 100) -> list[Entry]:
    """The entries of the feed in ``content`` (bytes already fetched; nothing is fetched here)."""
    if not content.strip():
        raise FeedError("the feed is empty")
    parsed = feedparser.parse(content, sanitize_html=False, resolve_relative_uris=False)
    version = getattr(parsed, "version", "")
    if not version and parsed.bozo:
        problem = getattr(parsed, "bozo_exception", None)
        raise FeedError(f"not an RSS or Atom feed: {problem or 'unreadable'}")
    if not version:
        raise FeedError("not an RSS or Atom feed")
    found: list[Entry] = []
    seen: set[str] = set()
    for item in parsed.entries:
        link = (item.get("link") or "").strip()
        if not link:
            for candidate in item.get("links", []):
                if candidate.get("rel", "alternate") == "alternate" and candidate.get("href"):
                    link = candidate["href"].strip()
                    break
        if not link.startswith(("http://", "https://")) or link in seen:
            continue
        seen.add(link)
        found.append(Entry(url=link, title=(item.get("title") or "").strip()[:500]))
        if len(found) >= limit:
            break
    if not found and parsed.bozo:
        problem = getattr(parsed, "bozo_exception", None)
        raise FeedError(f"malformed feed: {problem or 'unreadable'}")
    return found
