"""The text and metadata of an article file: HTML through trafilatura, plain text as it is.

A text file may start with a header block (``Title:``, ``Publisher:``, ``Date:``, ``URL:``,
``Language:`` lines, then a blank line). Without one, a first line that is a date is taken as the
publication date and the next non-empty line as the title (the form of pasted news reports).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path

from prisoners.translit import detect_language

from .dates import parse_date

HEADER_FIELDS = ("title", "publisher", "date", "url", "language", "author")
_HEADER_RE = re.compile(r"^(?P<key>[A-Za-z]+):\s*(?P<value>.*)$")
_HTML_RE = re.compile(r"<\s*(?:!doctype|html|head|body|div|p|article)\b", re.I)
_CYRILLIC_RE = re.compile("[\u0400-\u04ff]")
_LATIN_RE = re.compile("[A-Za-z]")
_LETTER_RE = re.compile(r"[^\W\d_]")
MAX_BYTES = 5_000_000
MIN_LETTERS = 10  # fewer letters than that: debris of a broken page, not an article


class ArticleError(Exception):
    """The file cannot be read as an article; the message says why."""


@dataclass
class Article:
    file: str
    text: str
    title: str = ""
    date: dt.date | None = None
    language: str = ""
    author: str = ""
    publisher: str = ""
    url: str = ""


def guess_language(text: str) -> str:
    """ "ru", "be" or "en" by the letters the text is written in."""
    cyrillic = len(_CYRILLIC_RE.findall(text))
    if cyrillic > len(_LATIN_RE.findall(text)):
        return detect_language(text) or "ru"
    return "en"


def from_text(raw: str, file: str = "") -> Article:
    lines = raw.replace("\r\n", "\n").split("\n")
    header: dict[str, str] = {}
    body_start = 0
    for i, line in enumerate(lines):
        match = _HEADER_RE.match(line.strip())
        if match and match.group("key").lower() in HEADER_FIELDS:
            header[match.group("key").lower()] = match.group("value").strip()
            continue
        if header and not line.strip():
            body_start = i + 1
        break
    body = "\n".join(lines[body_start:]) if header else raw
    article = Article(file=file, text=body.strip())
    if header:
        article.title = header.get("title", "")
        article.date = parse_date(header.get("date", "")) or _iso(header.get("date", ""))
        article.language = header.get("language", "")
        article.author = header.get("author", "")
        article.publisher = header.get("publisher", "")
        article.url = header.get("url", "")
    else:
        rest = [line.strip() for line in lines if line.strip()]
        if rest and len(rest[0]) < 60 and parse_date(rest[0]):
            article.date = parse_date(rest[0])
            if len(rest) > 1 and len(rest[1]) < 200:
                article.title = rest[1]
    if not article.text:
        raise ArticleError("the article has no text")
    article.language = article.language or guess_language(article.text)
    return article


def _iso(value: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value[:10])
    except ValueError:
        return None


def from_html(raw: str, file: str = "") -> Article:
    import trafilatura

    try:
        document = trafilatura.bare_extraction(
            raw, with_metadata=True, include_comments=False, favor_recall=True
        )
    except Exception as exc:  # trafilatura raises lxml's errors on broken input
        raise ArticleError(f"the HTML cannot be parsed: {exc}") from exc
    text = getattr(document, "text", None) if document is not None else None
    if not text or len(_LETTER_RE.findall(text)) < MIN_LETTERS:
        raise ArticleError("no article text found in the HTML (malformed or empty page)")
    return Article(
        file=file,
        text=text.strip(),
        title=getattr(document, "title", None) or "",
        date=_iso(getattr(document, "date", None) or ""),
        language=getattr(document, "language", None) or guess_language(text),
        author=getattr(document, "author", None) or "",
        publisher=getattr(document, "sitename", None) or "",
        url=getattr(document, "url", None) or "",
    )


def read_article(path: str | Path) -> Article:
    """The article in the file at ``path``; ArticleError when it cannot be read as one."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ArticleError(f"cannot read the file: {exc.strerror or exc}") from exc
    html = path.suffix.lower() in (".html", ".htm") or None
    return parse_document(data, str(path), html=html)


def parse_document(
    data: bytes | str, file: str = "", *, html: bool | None = None, charset: str = ""
) -> Article:
    """The article in ``data`` (HTML or text, told apart by ``html`` or by its first bytes)."""
    if isinstance(data, bytes):
        if not data.strip():
            raise ArticleError("the file is empty")
        if len(data) > MAX_BYTES:
            raise ArticleError(f"the file is larger than {MAX_BYTES} bytes")
        try:
            raw = data.decode(charset or "utf-8")
        except (UnicodeDecodeError, LookupError) as exc:
            raise ArticleError("the file is not UTF-8 text") from exc
    else:
        raw = data
        if not raw.strip():
            raise ArticleError("the text is empty")
        if len(raw) > MAX_BYTES:
            raise ArticleError(f"the text is longer than {MAX_BYTES} characters")
    if "\x00" in raw:
        raise ArticleError("the file is binary, not text or HTML")
    is_html = html if html is not None else bool(_HTML_RE.search(raw[:2000]))
    return from_html(raw, file) if is_html else from_text(raw, file)
