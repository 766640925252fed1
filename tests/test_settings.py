"""Production settings pass Django's deployment checks and refuse to start without secrets."""

import os
import subprocess
import sys

import pytest

from tests.conftest import REPO_ROOT

GOOD_ENV = {
    "DJANGO_SETTINGS_MODULE": "config.settings.production",
    "SECRET_KEY": "k" * 20 + "-a-long-random-production-secret-for-the-check-only",
    "ALLOWED_HOSTS": "tracker.example.org",
    "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/unused",
}


def run_check(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if k not in GOOD_ENV}
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=REPO_ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        check=False,
    )


def test_production_settings_pass_check_deploy_without_warnings():
    result = run_check(GOOD_ENV)
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


@pytest.mark.parametrize("missing", ["SECRET_KEY", "ALLOWED_HOSTS", "DATABASE_URL"])
def test_production_refuses_to_start_without_a_secret(missing):
    env = {k: v for k, v in GOOD_ENV.items() if k != missing}
    result = run_check(env)
    assert result.returncode != 0
    assert missing in result.stderr


def test_production_refuses_a_weak_secret_key():
    result = run_check({**GOOD_ENV, "SECRET_KEY": "short"})
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr


def test_the_web_process_loads_the_cache_client_before_the_first_request():
    """``config.wsgi`` loads what the first request would load lazily (the Redis client, about
    60 ms), before freezing the objects of start-up out of the garbage collector's walks."""
    clean = {k: v for k, v in os.environ.items() if k not in GOOD_ENV}
    env = {**clean, **GOOD_ENV, "REDIS_URL": "redis://127.0.0.1:6379/15"}
    probe = (
        "import gc, sys; import config.wsgi; "
        "print('redis' in sys.modules, gc.get_freeze_count() > 0)"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["True", "True"]
