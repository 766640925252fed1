"""Accounts of every role, and clients signed in as them (password and second factor passed)."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from tests.staff.helpers import make_user, verified_client


@pytest.fixture
def accounts(db: Any) -> dict[str, Any]:
    return {
        "researcher": make_user("rita", "researcher", device=False),
        "editor": make_user("edna", "editor"),
        "reviewer": make_user("rene", "reviewer"),
        "admin": make_user("adam", "admin"),
    }


@pytest.fixture
def editor(accounts: dict[str, Any]) -> Any:
    return accounts["editor"]


@pytest.fixture
def reviewer(accounts: dict[str, Any]) -> Any:
    return accounts["reviewer"]


@pytest.fixture
def admin_user(accounts: dict[str, Any]) -> Any:
    return accounts["admin"]


@pytest.fixture
def editor_client(editor: Any) -> Client:
    return verified_client(editor)


@pytest.fixture
def reviewer_client(reviewer: Any) -> Client:
    return verified_client(reviewer)


@pytest.fixture
def admin_client_staff(admin_user: Any) -> Client:
    return verified_client(admin_user)
