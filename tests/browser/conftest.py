"""Browser fixtures: Debian chromium driven by Playwright against pytest-django's live server.

- ``chromium_path``: the browser binary. Missing chromium fails the tests when ``CI=true`` (a CI
  run must not pass by skipping them) and skips them otherwise.
- ``open_page(javascript=True)``: a new page in a fresh browser profile (a temporary user-data
  dir per context). Every request the page makes is recorded; requests leaving the live server
  are blocked and fail the test at teardown (``network``).
- The live server needs committed data, so browser tests use ``transactional_db`` (the marker
  ``django_db(transaction=True)``). Its flush after each test also empties the reference data the
  migrations loaded (countries, places, criminal code). ``_reference_data`` puts it back before
  each test and once more after the module, so that later tests (and the next ``--reuse-db``
  run) find it. (Django's ``serialized_rollback`` cannot do it here: it re-saves the rows of the
  append-only audit tables, which their triggers refuse.)
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
# Schemes that never leave the browser.
LOCAL_SCHEMES = {"data", "blob", "about", "chrome", "chrome-error"}
TIMEOUT_MS = 15_000


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "browser: end-to-end tests in Debian chromium (Playwright, live server)"
    )


@pytest.fixture(scope="session")
def chromium_path() -> str:
    path = shutil.which(CHROMIUM) or (CHROMIUM if os.access(CHROMIUM, os.X_OK) else None)
    if path is None:
        message = (
            f"chromium not found at {CHROMIUM}: install Debian chromium "
            "(apt-get install chromium; `bash scripts/dev.sh test` does so as root) "
            "or set CHROMIUM_PATH"
        )
        if os.environ.get("CI") == "true":
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    return path


# Apps whose rows the flush's post_migrate recreates, or that hold history and sessions. The
# groups (roles, created by migrations) are kept: a later test in the same worker needs them.
NOT_REFERENCE_APPS = {"contenttypes", "auth", "sessions", "admin", "pghistory"}


def _reference_models() -> list[type[Any]]:
    from django.apps import apps
    from django.core import serializers
    from pghistory.models import Event

    chosen = [
        model
        for model in apps.get_models()
        if (model._meta.app_label not in NOT_REFERENCE_APPS or model._meta.label == "auth.Group")
        and model._meta.managed
        and not model._meta.proxy
        and not issubclass(model, Event)
    ]
    by_app: dict[Any, list[type[Any]]] = {}
    for model in chosen:
        by_app.setdefault(model._meta.app_config, []).append(model)
    return serializers.sort_dependencies(by_app.items())  # type: ignore[no-any-return]


def _snapshot() -> str:
    from django.core import serializers

    rows = []
    for model in _reference_models():
        rows.extend(model._base_manager.order_by("pk"))
    return str(serializers.serialize("json", rows))


def _restore(snapshot: str) -> None:
    from django.core import serializers

    deferred = []
    for obj in serializers.deserialize("json", snapshot, handle_forward_references=True):
        obj.save()
        if obj.deferred_fields:
            deferred.append(obj)
    for obj in deferred:
        obj.save_deferred_fields()


def _flushed() -> bool:
    from prisoners.models import Country

    return not Country.objects.exists()


@pytest.fixture(scope="module")
def _reference_snapshot(django_db_setup, django_db_blocker) -> Iterator[str]:  # type: ignore[no-untyped-def]
    """The rows the migrations loaded (countries, places, the criminal code), taken before the
    module's first flush and put back after its last one."""
    with django_db_blocker.unblock():
        if _flushed():
            pytest.fail(
                "the test database has no countries (left flushed by an interrupted run?): "
                "run once with --create-db",
                pytrace=False,
            )
        snapshot = _snapshot()
    yield snapshot
    with django_db_blocker.unblock():
        if _flushed():
            _restore(snapshot)


@pytest.fixture
def _reference_data(_reference_snapshot: str, transactional_db) -> None:  # type: ignore[no-untyped-def]
    """The reference rows are there for this test, even after an earlier test's flush."""
    if _flushed():
        _restore(_reference_snapshot)


@pytest.fixture
def _async_unsafe(monkeypatch: pytest.MonkeyPatch) -> None:
    """Playwright's sync API runs an event loop in this thread; the ORM then refuses to run
    unless told it is safe (it is: the test thread does not share its connection)."""
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@dataclass
class NetworkLog:
    """Every URL requested by the pages of a test, and which of them left the live server."""

    origin: str
    urls: list[str] = field(default_factory=list)

    def is_local(self, url: str) -> bool:
        parts = urlsplit(url)
        if parts.scheme in LOCAL_SCHEMES:
            return True
        origin = urlsplit(self.origin)
        return (parts.scheme, parts.hostname, parts.port) == (
            origin.scheme,
            origin.hostname,
            origin.port,
        )

    def record(self, url: str) -> None:
        self.urls.append(url)

    @property
    def third_party(self) -> list[str]:
        return [url for url in self.urls if not self.is_local(url)]


@pytest.fixture
def network(live_server) -> Iterator[NetworkLog]:  # type: ignore[no-untyped-def]
    """The request log of the test; fails the test at teardown on any third-party request."""
    log = NetworkLog(origin=live_server.url)
    yield log
    assert log.urls, "no request was recorded: the network recorder is not attached"
    assert not log.third_party, "requests to third parties:\n" + "\n".join(log.third_party)


@pytest.fixture
def playwright_sync(_async_unsafe, chromium_path):  # type: ignore[no-untyped-def]
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        yield playwright


@pytest.fixture
def open_page(playwright_sync, network, live_server, tmp_path_factory):  # type: ignore[no-untyped-def]
    """``open_page(javascript=True)``: a page in a new browser profile, recorded by ``network``."""
    contexts = []

    def _open(*, javascript: bool = True, locale: str = "en-GB"):  # type: ignore[no-untyped-def]
        profile = Path(tempfile.mkdtemp(dir=tmp_path_factory.getbasetemp(), prefix="chromium-"))
        context = playwright_sync.chromium.launch_persistent_context(
            str(profile),
            executable_path=os.environ.get("CHROMIUM_PATH", CHROMIUM),
            headless=True,
            args=CHROMIUM_ARGS,
            java_script_enabled=javascript,
            locale=locale,
            viewport={"width": 1280, "height": 900},
            service_workers="block",
        )
        contexts.append(context)
        context.set_default_timeout(TIMEOUT_MS)

        def on_route(route) -> None:  # type: ignore[no-untyped-def]
            # Third-party requests are recorded by the listener and never leave the machine.
            if network.is_local(route.request.url):
                route.continue_()
            else:
                route.abort()

        context.route("**/*", on_route)
        page = context.pages[0] if context.pages else context.new_page()
        page.on("request", lambda request: network.record(request.url))
        context.on(
            "page",
            lambda other: other.on("request", lambda request: network.record(request.url)),
        )
        return page

    yield _open
    for context in contexts:
        context.close()


OpenPage = Callable[..., object]
