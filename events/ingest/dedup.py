"""Recognising an article seen before: the same address, the same text, or the same story.

- ``canonical_url``: the page's own canonical link when it gives one, else the address it was
  fetched from; lower-case scheme and host, no fragment, no tracking parameters, no default port.
- the content hash: ``events.services.content_hash`` (SHA-256 of the text with white space
  collapsed, as sources are recognised).
- ``simhash``: a 64-bit similarity hash of the word 3-shingles. Two texts of the same wire story
  differ in a few bits. Stored as four 16-bit bands, each indexed: two hashes within
  ``NEAR_BITS`` bits share at least one band (pigeonhole), so candidates come from four index
  lookups, never from a scan.
"""

from __future__ import annotations

import hashlib
import re
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

NEAR_BITS = 3
MIN_WORDS = 30  # shorter texts are too short to call near-duplicates
_WORD = re.compile(r"\w+", re.UNICODE)
_TRACKING = re.compile(
    r"^(utm_\w+|fbclid|gclid|yclid|mc_cid|mc_eid|ref|ref_src|cmpid|at_\w+)$", re.I
)


def canonical_url(url: str) -> str:
    url = (url or "").strip()
    if not url:
        return ""
    parts = urlsplit(url)
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return ""
    scheme = parts.scheme.lower()
    host = parts.hostname.lower()
    port = parts.port
    netloc = host if port in (None, 80 if scheme == "http" else 443) else f"{host}:{port}"
    pairs = parse_qsl(parts.query, keep_blank_values=True)
    query = urlencode([(k, v) for k, v in pairs if not _TRACKING.match(k)])
    path = parts.path or "/"
    if len(path) > 1 and path.endswith("/"):
        path = path.rstrip("/")
    return urlunsplit((scheme, netloc, path, query, ""))[:1000]


def _hash64(value: str) -> int:
    return int.from_bytes(hashlib.blake2b(value.encode(), digest_size=8).digest(), "big")


def simhash(text: str) -> int | None:
    """The 64-bit similarity hash of ``text`` (unsigned), or None for a text too short."""
    words = [w.lower() for w in _WORD.findall(text)]
    if len(words) < MIN_WORDS:
        return None
    weights = [0] * 64
    for i in range(len(words) - 2):
        h = _hash64(" ".join(words[i : i + 3]))
        for bit in range(64):
            weights[bit] += 1 if (h >> bit) & 1 else -1
    value = 0
    for bit in range(64):
        if weights[bit] > 0:
            value |= 1 << bit
    return value


def to_signed(value: int) -> int:
    return value - (1 << 64) if value >= 1 << 63 else value


def to_unsigned(value: int) -> int:
    return value + (1 << 64) if value < 0 else value


def bands(value: int) -> tuple[int, int, int, int]:
    return tuple((value >> (16 * i)) & 0xFFFF for i in range(4))  # type: ignore[return-value]


def distance(a: int, b: int) -> int:
    return bin(to_unsigned(a) ^ to_unsigned(b)).count("1")
