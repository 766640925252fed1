"""Fetching: SSRF refusals (also after redirects and DNS), limits, conditional GET, retries."""

from __future__ import annotations

import socket
from typing import Any

import pytest

from events.ingest import fetch as fetch_module
from events.ingest.fetch import BlockedAddress, FetchError, address_refused, fetch
from tests.imports.server import html, rss

NO_SLEEP = {"sleep": lambda seconds: None}


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/",
        "http://127.1.2.3:8080/x",
        "http://localhost/",
        "http://[::1]/",
        "http://[::ffff:127.0.0.1]/",
        "http://10.1.2.3/",
        "http://172.16.0.1/",
        "http://192.168.1.1/",
        "http://169.254.169.254/latest/meta-data/",
        "http://[fd00:ec2::254]/",
        "http://100.64.0.1/",
        "http://0.0.0.0/",
        "http://2130706433/",
        "http://0x7f000001/",
    ],
)
def test_private_loopback_link_local_and_metadata_addresses_are_refused(url):
    with pytest.raises(BlockedAddress):
        fetch(url, **NO_SLEEP)


def test_a_name_that_resolves_to_a_private_address_is_refused(monkeypatch):
    def resolve(host: str, port: Any, *args: Any, **kwargs: Any) -> list[Any]:
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("10.0.0.7", port))]

    monkeypatch.setattr(fetch_module.socket, "getaddrinfo", resolve)
    with pytest.raises(BlockedAddress, match=r"resolves to 10\.0\.0\.7"):
        fetch("http://news.example.org/article", **NO_SLEEP)


def test_a_name_with_one_private_address_among_public_ones_is_refused(monkeypatch):
    """DNS rebinding: every address is checked, and the connection goes to a checked one."""

    def resolve(host: str, port: Any, *args: Any, **kwargs: Any) -> list[Any]:
        return [
            (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("93.184.216.34", port)),
            (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", port)),
        ]

    monkeypatch.setattr(fetch_module.socket, "getaddrinfo", resolve)
    with pytest.raises(BlockedAddress, match=r"127\.0\.0\.1"):
        fetch("http://rebind.example.org/", **NO_SLEEP)


def test_the_checks_classify_addresses():
    assert address_refused("8.8.8.8") == ""
    assert address_refused("2a00:1450:4001:80b::200e") == ""
    assert "loopback" in address_refused("::ffff:127.0.0.1")
    assert "link-local" in address_refused("fe80::1")
    assert address_refused("224.0.0.1")


def test_a_redirect_to_a_private_address_is_refused(server):
    server.routes["/go"] = (302, {"Location": "http://169.254.169.254/latest/"}, b"")
    with pytest.raises(BlockedAddress):
        fetch(server.url("/go"), **NO_SLEEP)
    assert server.hits["/go"] == 1


def test_a_redirect_to_another_port_of_the_allowed_host_is_refused(server):
    """The setting allows one host and port, not the whole loopback interface."""
    server.routes["/go"] = (301, {"Location": "http://127.0.0.1:1/admin"}, b"")
    with pytest.raises(BlockedAddress):
        fetch(server.url("/go"), **NO_SLEEP)


def test_a_redirect_by_name_to_the_local_host_is_refused(server):
    server.routes["/go"] = (307, {"Location": f"http://localhost:{server.port}/x"}, b"")
    with pytest.raises(BlockedAddress):
        fetch(server.url("/go"), **NO_SLEEP)


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("ftp://example.org/file", "only http and https"),
        ("file:///etc/passwd", "only http and https"),
        ("http://user:secret@example.org/", "user name or password"),
        ("not a url", "only http and https"),
    ],
)
def test_bad_addresses_get_a_clear_error(url, message):
    with pytest.raises(FetchError, match=message):
        fetch(url, **NO_SLEEP)


def test_redirects_are_followed_up_to_the_limit(server, settings):
    settings.TRACKER_FETCH_MAX_REDIRECTS = 2
    page = html("Title", "Some text of the article.")
    server.routes["/a"] = (302, {"Location": "/b"}, b"")
    server.routes["/b"] = (302, {"Location": "/c"}, b"")
    server.routes["/c"] = (200, {"Content-Type": "text/html; charset=utf-8"}, page)
    fetched = fetch(server.url("/a"), **NO_SLEEP)
    assert fetched.url == server.url("/c")
    assert fetched.content == page
    server.routes["/c"] = (302, {"Location": "/d"}, b"")
    with pytest.raises(FetchError, match="more than 2 redirects"):
        fetch(server.url("/a"), **NO_SLEEP)


def test_size_cap_by_header_and_by_bytes_read(server, settings):
    settings.TRACKER_FETCH_MAX_BYTES = 1000
    server.routes["/big"] = (200, {"Content-Type": "text/html"}, b"x" * 5000)
    with pytest.raises(FetchError, match="larger than 1000 bytes"):
        fetch(server.url("/big"), **NO_SLEEP)

    # No Content-Length: the body runs until the connection closes; the bytes read count.
    server.routes["/unsized"] = (
        200,
        {"Content-Type": "text/html", "Content-Length": ""},
        b"y" * 5000,
    )
    with pytest.raises(FetchError, match="larger than 1000 bytes"):
        fetch(server.url("/unsized"), **NO_SLEEP)
    server.routes["/small"] = (200, {"Content-Type": "text/html", "Content-Length": ""}, b"z" * 900)
    assert fetch(server.url("/small"), **NO_SLEEP).content == b"z" * 900


def test_content_type_is_checked(server):
    server.routes["/pic"] = (200, {"Content-Type": "image/png"}, b"\x89PNG")
    with pytest.raises(FetchError, match="unexpected content type 'image/png'"):
        fetch(server.url("/pic"), **NO_SLEEP)
    server.routes["/feed"] = (200, {"Content-Type": "text/html"}, b"<html></html>")
    with pytest.raises(FetchError, match="unexpected content type"):
        fetch(server.url("/feed"), feed=True, **NO_SLEEP)


def test_conditional_get_sends_etag_and_last_modified(server):
    body = rss([("One", "http://example.org/1")])

    def feed(handler: Any) -> tuple[int, dict[str, str], bytes]:
        if handler.headers.get("If-None-Match") == '"v1"':
            return 304, {}, b""
        return (
            200,
            {
                "Content-Type": "application/rss+xml",
                "ETag": '"v1"',
                "Last-Modified": "Sat, 13 Dec 2025 10:00:00 GMT",
            },
            body,
        )

    server.routes["/rss"] = feed
    first = fetch(server.url("/rss"), feed=True, **NO_SLEEP)
    assert (first.etag, first.last_modified) == ('"v1"', "Sat, 13 Dec 2025 10:00:00 GMT")
    again = fetch(server.url("/rss"), feed=True, etag=first.etag, last_modified=first.last_modified)
    assert again.not_modified
    assert again.content == b""
    headers = server.requests[-1][1]
    assert headers["If-Modified-Since"] == "Sat, 13 Dec 2025 10:00:00 GMT"


def test_network_errors_are_retried_with_backoff_http_errors_are_not(server, settings):
    settings.TRACKER_FETCH_RETRIES = 3
    settings.TRACKER_FETCH_BACKOFF = 0.5
    slept: list[float] = []
    # A port nobody listens on, allowed like the server: connection refused every time.
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    settings.TRACKER_FETCH_ALLOWED_HOSTS = [server.netloc, f"127.0.0.1:{closed_port}"]
    with pytest.raises(FetchError, match="network error after 3 attempts"):
        fetch(f"http://127.0.0.1:{closed_port}/", sleep=slept.append)
    assert slept == [0.5, 1.0]

    slept.clear()
    server.routes["/broken"] = (500, {"Content-Type": "text/plain"}, b"oops")
    with pytest.raises(FetchError, match="answered 500"):
        fetch(server.url("/broken"), sleep=slept.append)
    assert server.hits["/broken"] == 1
    assert slept == []
