"""Fixtures shared by the whole test suite.

Settings come from ``config.settings.test`` (see ``[tool.pytest.ini_options]`` in pyproject.toml):
a real PostgreSQL database (``test_tracker``, created by pytest-django), in-memory cache, eager
Celery tasks.
"""

from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def repo_root() -> Path:
    """The checkout's top folder (where manage.py lives)."""
    return REPO_ROOT


@pytest.fixture(autouse=True)
def _clear_cache() -> None:
    from django.core.cache import cache

    cache.clear()


@pytest.fixture
def demo(db):  # type: ignore[no-untyped-def]
    """The seed story loaded through ``load_demo``: returns the deal."""
    from events.demo import load_demo

    return load_demo()


@pytest.fixture
def audited():  # type: ignore[no-untyped-def]
    """Run the test's writes inside an audit context."""
    from prisoners.audit import audit_context

    with audit_context(reason="test"):
        yield


@pytest.fixture
def admin_client(db, admin_user):  # type: ignore[no-untyped-def]
    """pytest-django's admin client, with the staff second factor passed."""
    from django.test import Client

    from tests.second_factor import pass_second_factor

    return pass_second_factor(Client(), admin_user)
