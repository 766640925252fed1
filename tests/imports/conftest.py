"""Fixtures of the import tests: a local HTTP server the fetcher may reach, staff accounts."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.test import Client

from tests.imports.server import LocalServer, local_server
from tests.staff.helpers import make_user, verified_client


@pytest.fixture
def server(settings: Any) -> Iterator[LocalServer]:
    with local_server() as running:
        settings.TRACKER_FETCH_ALLOWED_HOSTS = [running.netloc]
        settings.TRACKER_FETCH_BACKOFF = 0.0
        settings.TRACKER_FETCH_TIMEOUT = 5.0
        yield running


@pytest.fixture
def editor(db: Any) -> Any:
    return make_user("edna", "editor")


@pytest.fixture
def editor_client(editor: Any) -> Client:
    return verified_client(editor)


@pytest.fixture
def admin_staff(db: Any) -> Any:
    return make_user("adam", "admin")


@pytest.fixture
def admin_staff_client(admin_staff: Any) -> Client:
    return verified_client(admin_staff)
