"""Fetching articles and feeds over HTTP, safely.

- Only ``http`` and ``https``; no user name or password in the address; no proxy from the
  environment.
- SSRF: every connection, including each one after a redirect, resolves the host name and
  refuses unless *every* address it resolves to is a global one (no private, loopback,
  link-local, cloud-metadata, carrier-grade NAT, multicast or reserved address). The connection
  then goes to the address that was checked, so a second DNS answer cannot swap it.
  ``TRACKER_FETCH_ALLOWED_HOSTS`` (``host`` or ``host:port``) lifts the check for named hosts:
  tests and intranet feeds.
- Timeouts, a size cap (``Content-Length`` and the bytes actually read), a content-type check, a
  limit on redirects, conditional GET (``ETag`` / ``Last-Modified``) and retries with backoff on
  network errors only (an HTTP error answer is not retried).
"""

from __future__ import annotations

import ipaddress
import socket
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import httpcore
import httpx
from django.conf import settings

USER_AGENT = "PrisonerTracker-Import/1.0"
ARTICLE_TYPES = ("text/html", "application/xhtml+xml", "text/plain")
FEED_TYPES = (
    "application/rss+xml",
    "application/atom+xml",
    "application/rdf+xml",
    "application/xml",
    "text/xml",
)
REDIRECT_CODES = (301, 302, 303, 307, 308)


class FetchError(Exception):
    """The address could not be fetched; the message says why (shown to staff)."""


class BlockedAddress(FetchError):
    """The address is one the fetcher must not reach (SSRF protection)."""


@dataclass
class Fetched:
    url: str
    status: int
    content: bytes = b""
    content_type: str = ""
    charset: str = ""
    etag: str = ""
    last_modified: str = ""
    not_modified: bool = False

    def text(self) -> str:
        for encoding in (self.charset, "utf-8"):
            if not encoding:
                continue
            try:
                return self.content.decode(encoding)
            except (LookupError, UnicodeDecodeError):
                continue
        return self.content.decode("utf-8", errors="replace")


def _allowed_hosts() -> set[str]:
    return {h.strip().lower() for h in settings.TRACKER_FETCH_ALLOWED_HOSTS if h.strip()}


def host_allowed(host: str, port: int | None) -> bool:
    allowed = _allowed_hosts()
    host = host.lower().strip("[]")
    return host in allowed or (port is not None and f"{host}:{port}" in allowed)


def address_refused(address: str) -> str:
    """Why ``address`` may not be reached, or "" when it is a global address."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if ip.is_loopback:
        return "a loopback address"
    if ip.is_link_local:
        return "a link-local address (cloud metadata lives there)"
    if ip.is_private:
        return "a private address"
    if ip.is_multicast or ip.is_reserved or ip.is_unspecified or not ip.is_global:
        return "not a public address"
    return ""


def resolve_checked(host: str, port: int) -> list[str]:
    """The addresses of ``host``; BlockedAddress when any of them is not a public one."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise httpcore.ConnectError(f"cannot resolve {host}: {exc}") from exc
    addresses = list(dict.fromkeys(str(info[4][0]) for info in infos))
    for address in addresses:
        why = address_refused(address)
        if why:
            raise BlockedAddress(f"refused: {host} resolves to {address}, {why}")
    if not addresses:
        raise httpcore.ConnectError(f"cannot resolve {host}")
    return addresses


class GuardedBackend(httpcore.SyncBackend):
    """Connects only to checked addresses (each connection, so each redirect, is checked)."""

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        if host_allowed(host, port):
            return super().connect_tcp(host, port, timeout, local_address, socket_options)
        last: Exception | None = None
        for address in resolve_checked(host, port):
            try:
                return super().connect_tcp(address, port, timeout, local_address, socket_options)
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                last = exc
        assert last is not None
        raise last


def _client() -> httpx.Client:
    transport = httpx.HTTPTransport(trust_env=False)
    transport._pool = httpcore.ConnectionPool(
        ssl_context=httpx.create_ssl_context(trust_env=False),
        network_backend=GuardedBackend(),
        max_connections=4,
    )
    timeout = float(settings.TRACKER_FETCH_TIMEOUT)
    return httpx.Client(
        transport=transport,
        timeout=httpx.Timeout(timeout, connect=min(timeout, 5.0)),
        follow_redirects=False,
        trust_env=False,
        headers={"User-Agent": USER_AGENT},
    )


def check_url(url: str) -> httpx.URL:
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, TypeError, ValueError) as exc:
        raise FetchError(f"not a valid address: {url!r}") from exc
    if parsed.scheme not in ("http", "https"):
        raise FetchError(f"only http and https addresses can be fetched, not {url!r}")
    if not parsed.host:
        raise FetchError(f"the address has no host: {url!r}")
    if parsed.userinfo:
        raise FetchError("addresses with a user name or password are refused")
    if not host_allowed(parsed.host, parsed.port):
        try:  # a literal address is judged at once, before any connection
            why = address_refused(parsed.host)
        except ValueError:
            why = ""
        if why:
            raise BlockedAddress(f"refused: {parsed.host} is {why}")
    return parsed


def _media_type(value: str) -> tuple[str, str]:
    media, _, params = value.partition(";")
    charset = ""
    for param in params.split(";"):
        key, _, val = param.strip().partition("=")
        if key.lower() == "charset":
            charset = val.strip().strip('"')
    return media.strip().lower(), charset


def _once(
    client: httpx.Client, url: str, accept: tuple[str, ...], headers: dict[str, str]
) -> Fetched:
    max_bytes = int(settings.TRACKER_FETCH_MAX_BYTES)
    current = check_url(url)
    for _hop in range(int(settings.TRACKER_FETCH_MAX_REDIRECTS) + 1):
        with client.stream("GET", current, headers=headers) as response:
            if response.status_code in REDIRECT_CODES:
                location = response.headers.get("location")
                if not location:
                    raise FetchError(f"redirect without a target from {current}")
                current = check_url(str(current.join(location)))
                continue
            if response.status_code == 304:
                return Fetched(url=str(current), status=304, not_modified=True)
            if response.status_code >= 400:
                raise FetchError(f"the server answered {response.status_code} for {current}")
            media, charset = _media_type(response.headers.get("content-type", ""))
            if media not in accept:
                raise FetchError(
                    f"unexpected content type {media or 'none'!r} for {current} "
                    f"(expected {', '.join(accept)})"
                )
            declared = response.headers.get("content-length", "")
            if declared.isdigit() and int(declared) > max_bytes:
                raise FetchError(f"{current} is larger than {max_bytes} bytes")
            chunks: list[bytes] = []
            size = 0
            for chunk in response.iter_bytes():
                size += len(chunk)
                if size > max_bytes:
                    raise FetchError(f"{current} is larger than {max_bytes} bytes")
                chunks.append(chunk)
            return Fetched(
                url=str(current),
                status=response.status_code,
                content=b"".join(chunks),
                content_type=media,
                charset=charset,
                etag=response.headers.get("etag", ""),
                last_modified=response.headers.get("last-modified", ""),
            )
    raise FetchError(f"more than {settings.TRACKER_FETCH_MAX_REDIRECTS} redirects from {url}")


def fetch(
    url: str,
    *,
    feed: bool = False,
    etag: str = "",
    last_modified: str = "",
    sleep: Any = time.sleep,
) -> Fetched:
    """GET ``url`` (an article, or a feed with ``feed=True``); FetchError says why it failed."""
    headers: dict[str, str] = {
        "Accept": ", ".join(FEED_TYPES if feed else ARTICLE_TYPES),
    }
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    accept = FEED_TYPES if feed else ARTICLE_TYPES
    attempts = max(1, int(settings.TRACKER_FETCH_RETRIES))
    backoff = float(settings.TRACKER_FETCH_BACKOFF)
    last: Exception | None = None
    with _client() as client:
        for attempt in range(attempts):
            try:
                return _once(client, url, accept, headers)
            except httpx.TransportError as exc:  # network errors only; HTTP answers are final
                last = exc
                if attempt + 1 < attempts:
                    sleep(backoff * (2**attempt))
            except httpcore.ConnectError as exc:  # name resolution in the guarded backend
                last = exc
                if attempt + 1 < attempts:
                    sleep(backoff * (2**attempt))
    raise FetchError(f"network error after {attempts} attempts: {last or 'unknown'}")
