"""The container set-up, checked by reading it (no Docker engine runs on the development machines).

docker-compose.yml and the Dockerfile are parsed and their wiring compared with the project:
service names, shared image and environment, URLs pointing at the right services, health-gated
start order, and commands that name modules which really exist.
"""

from __future__ import annotations

import importlib
import importlib.util
import re
import shlex
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
COMPOSE_FILE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "Dockerfile"

BACKING_SERVICES = ("postgres", "redis")
APP_SERVICES = ("web", "worker", "beat")

# Values for the variables the compose file requires, as an operator would export them.
OPERATOR_ENV = {
    "POSTGRES_PASSWORD": "s3cretpassword",
    "SECRET_KEY": "k" * 60,
    "ALLOWED_HOSTS": "tracker.example.org",
}

_VARIABLE = re.compile(r"\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?[-?])(?P<arg>[^}]*))?\}")


class MissingVariableError(LookupError):
    """A ``${NAME:?message}`` variable was unset, so ``docker compose`` would refuse to start."""


def interpolate(value: str, env: Mapping[str, str]) -> str:
    """Substitute variables the way ``docker compose`` does (``${X}``, ``${X:-d}``, ``${X:?m}``)."""

    def substitute(match: re.Match[str]) -> str:
        name, op, arg = match.group("name"), match.group("op"), match.group("arg") or ""
        current = env.get(name)
        if op == ":-":
            return current or arg
        if op == "-":
            return arg if current is None else current
        if op == ":?" and not current:
            raise MissingVariableError(f"{name}: {arg}")
        if op == "?" and current is None:
            raise MissingVariableError(f"{name}: {arg}")
        return current or ""

    return _VARIABLE.sub(substitute, value.replace("$$", "\0")).replace("\0", "$")


def as_dict(environment: Any) -> dict[str, str]:
    """Compose accepts a mapping or a list of ``KEY=value``; make both a mapping of strings."""
    if environment is None:
        return {}
    if isinstance(environment, Mapping):
        return {str(k): "" if v is None else str(v) for k, v in environment.items()}
    result = {}
    for item in environment:
        key, _, value = str(item).partition("=")
        result[key] = value
    return result


def as_argv(command: Any) -> list[str]:
    if command is None:
        return []
    if isinstance(command, str):
        return shlex.split(command)
    return [str(part) for part in command]


def dependencies(service: Mapping[str, Any]) -> dict[str, str]:
    """``depends_on`` as {service: condition}; the short list form means ``service_started``."""
    depends_on = service.get("depends_on") or {}
    if isinstance(depends_on, list):
        return dict.fromkeys(depends_on, "service_started")
    return {
        name: (options or {}).get("condition", "service_started")
        for name, options in depends_on.items()
    }


def contains_sequence(argv: list[str], sequence: list[str]) -> bool:
    n = len(sequence)
    return any(argv[i : i + n] == sequence for i in range(len(argv) - n + 1))


def dockerfile_instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, with continuation lines joined and comments dropped."""
    instructions = []
    pending = ""
    for raw in DOCKERFILE.read_text().splitlines():
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if line.startswith("#"):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        full = (pending + line).strip()
        pending = ""
        if full:
            keyword, _, rest = full.partition(" ")
            instructions.append((keyword.upper(), rest.strip()))
    return instructions


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    data = yaml.safe_load(COMPOSE_FILE.read_text())
    assert isinstance(data, dict), "docker-compose.yml is not a mapping"
    return data


@pytest.fixture(scope="module")
def services(compose: dict[str, Any]) -> dict[str, Any]:
    services = compose.get("services")
    assert isinstance(services, dict), "docker-compose.yml has no services"
    return services


def app_env(services: dict[str, Any], name: str) -> dict[str, str]:
    raw = as_dict(services[name].get("environment"))
    return {key: interpolate(value, OPERATOR_ENV) for key, value in raw.items()}


def test_all_services_exist(services: dict[str, Any]) -> None:
    missing = {*BACKING_SERVICES, *APP_SERVICES} - services.keys()
    assert not missing, f"services missing from docker-compose.yml: {sorted(missing)}"


def test_backing_service_images(services: dict[str, Any]) -> None:
    assert str(services["postgres"].get("image", "")).startswith("postgres:15")
    assert str(services["redis"].get("image", "")).startswith("redis:7")


def test_app_services_share_build_image_and_environment(services: dict[str, Any]) -> None:
    web = services["web"]
    assert web.get("build") or web.get("image"), "web has neither build nor image"
    assert as_dict(web.get("environment")), "web has no environment"
    for name in APP_SERVICES:
        service = services[name]
        assert service.get("build") == web.get("build"), f"{name} builds something else than web"
        assert service.get("image") == web.get("image"), f"{name} runs another image than web"
        assert as_dict(service.get("environment")) == as_dict(web.get("environment")), (
            f"{name} has an environment different from web's"
        )


@pytest.mark.parametrize("name", APP_SERVICES)
def test_database_url_points_at_postgres_service(services: dict[str, Any], name: str) -> None:
    url = urlsplit(app_env(services, name)["DATABASE_URL"])
    postgres_env = {
        key: interpolate(value, OPERATOR_ENV)
        for key, value in as_dict(services["postgres"].get("environment")).items()
    }
    assert url.scheme in {"postgres", "postgresql", "pgsql"}
    assert url.hostname == "postgres"
    assert (url.port or 5432) == 5432
    assert url.path.lstrip("/") == postgres_env.get("POSTGRES_DB", "postgres")
    assert url.username == postgres_env.get("POSTGRES_USER", "postgres")
    assert url.password == postgres_env["POSTGRES_PASSWORD"] == OPERATOR_ENV["POSTGRES_PASSWORD"]


@pytest.mark.parametrize("name", APP_SERVICES)
def test_redis_url_points_at_redis_service(services: dict[str, Any], name: str) -> None:
    url = urlsplit(app_env(services, name)["REDIS_URL"])
    assert url.scheme == "redis"
    assert url.hostname == "redis"
    assert (url.port or 6379) == 6379


@pytest.mark.parametrize("name", APP_SERVICES)
def test_production_settings_are_used(services: dict[str, Any], name: str) -> None:
    module = app_env(services, name)["DJANGO_SETTINGS_MODULE"]
    assert module == "config.settings.production"
    assert importlib.util.find_spec(module) is not None


@pytest.mark.parametrize("variable", ["SECRET_KEY", "ALLOWED_HOSTS"])
def test_secrets_must_come_from_the_operator(services: dict[str, Any], variable: str) -> None:
    raw = as_dict(services["web"].get("environment"))[variable]
    assert re.fullmatch(r"\$\{" + variable + r":\?[^}]*\}", raw), (
        f"{variable} must be a required variable (${{{variable}:?message}}), not {raw!r}"
    )
    without = {key: value for key, value in OPERATOR_ENV.items() if key != variable}
    with pytest.raises(MissingVariableError):
        interpolate(raw, without)


@pytest.mark.parametrize("name", BACKING_SERVICES)
def test_backing_services_have_healthchecks(services: dict[str, Any], name: str) -> None:
    healthcheck = services[name].get("healthcheck") or {}
    assert healthcheck.get("test"), f"{name} has no healthcheck"
    assert not healthcheck.get("disable"), f"{name} disables its healthcheck"


@pytest.mark.parametrize("name", APP_SERVICES)
def test_app_services_wait_for_healthy_backends(services: dict[str, Any], name: str) -> None:
    conditions = dependencies(services[name])
    for backend in BACKING_SERVICES:
        assert conditions.get(backend) == "service_healthy", (
            f"{name} must depend on {backend} with condition: service_healthy"
        )


def test_migrations_run_before_web(services: dict[str, Any]) -> None:
    web_argv = as_argv(services["web"].get("command"))
    if contains_sequence(web_argv, ["manage.py", "migrate"]) or any(
        "manage.py migrate" in part for part in web_argv
    ):
        return
    migrators = [
        name
        for name, service in services.items()
        if contains_sequence(as_argv(service.get("command")), ["manage.py", "migrate"])
    ]
    assert migrators, "nothing runs manage.py migrate"
    web_conditions = dependencies(services["web"])
    for name in migrators:
        assert services[name].get("image") == services["web"].get("image")
        assert as_dict(services[name].get("environment")) == as_dict(
            services["web"].get("environment")
        )
        assert dependencies(services[name]).get("postgres") == "service_healthy"
        assert web_conditions.get(name) == "service_completed_successfully", (
            f"web must wait for {name} with condition: service_completed_successfully"
        )


@pytest.mark.parametrize("role", ["worker", "beat"])
def test_celery_commands(services: dict[str, Any], role: str) -> None:
    argv = as_argv(services[role].get("command"))
    assert contains_sequence(argv, ["celery", "-A", "config", role]), argv


def test_celery_app_is_found_by_the_cli() -> None:
    from celery import Celery
    from celery.app.utils import find_app

    module = importlib.import_module("config.celery_app")
    assert isinstance(module.app, Celery)
    # What `celery -A config` resolves to.
    assert find_app("config") is module.app


def test_web_serves_the_wsgi_application(services: dict[str, Any]) -> None:
    argv = as_argv(services["web"].get("command"))
    assert "gunicorn" in argv, argv
    targets = [part for part in argv if part.endswith(":application")]
    assert targets == ["config.wsgi:application"], argv
    module_name, _, attribute = targets[0].partition(":")
    module = importlib.import_module(module_name)
    assert callable(getattr(module, attribute))


def test_postgres_keeps_data_in_a_named_volume(compose: dict[str, Any]) -> None:
    declared = compose.get("volumes") or {}
    mounts = compose["services"]["postgres"].get("volumes") or []
    sources = []
    for mount in mounts:
        if isinstance(mount, Mapping):
            source, target = mount.get("source"), mount.get("target")
        else:
            source, _, rest = str(mount).partition(":")
            target = rest.split(":")[0]
        if target == "/var/lib/postgresql/data":
            sources.append(source)
    assert sources, "postgres has no volume on /var/lib/postgresql/data"
    assert sources[0] in declared, f"volume {sources[0]!r} is not declared under volumes:"


def test_postgres_memory_is_set_and_can_be_changed(services: dict[str, Any]) -> None:
    """The server starts with a quarter of an 8 GB host for shared_buffers (README,
    "Configuration"), which an operator can change."""
    raw = as_argv(services["postgres"].get("command"))

    def settings(env: Mapping[str, str]) -> dict[str, str]:
        argv = [interpolate(part, env) for part in raw]
        assert argv[0] == "postgres"
        pairs = [argv[i + 1] for i, part in enumerate(argv) if part == "-c"]
        return dict(pair.split("=", 1) for pair in pairs)

    assert settings(OPERATOR_ENV)["shared_buffers"] == "2GB"
    assert settings(OPERATOR_ENV)["effective_cache_size"] == "6GB"
    changed = {**OPERATOR_ENV, "POSTGRES_SHARED_BUFFERS": "8GB"}
    assert settings(changed)["shared_buffers"] == "8GB"


def test_dockerfile_installs_hashed_requirements_and_drops_root() -> None:
    instructions = dockerfile_instructions()
    froms = [args for keyword, args in instructions if keyword == "FROM"]
    assert froms, "Dockerfile has no FROM"
    assert froms[-1].split()[0] == "python:3.11-slim"

    runs = [args for keyword, args in instructions if keyword == "RUN"]
    assert any(
        "pip install" in run
        and "--require-hashes" in run
        and re.search(r"-r\s+requirements/base\.txt", run)
        for run in runs
    ), "no RUN installs requirements/base.txt with --require-hashes"
    assert any("collectstatic" in run for run in runs), "static files are not collected"

    users = [args for keyword, args in instructions if keyword == "USER"]
    assert users, "the image runs as root"
    assert users[-1].split(":")[0] not in {"root", "0"}

    cmd = " ".join(args for keyword, args in instructions if keyword in {"CMD", "ENTRYPOINT"})
    assert "gunicorn" in cmd
    assert "config.wsgi:application" in cmd


def test_base_requirements_are_all_hashed() -> None:
    entries: list[list[str]] = []
    for line in (ROOT / "requirements" / "base.txt").read_text().splitlines():
        if re.match(r"[A-Za-z0-9]", line):
            entries.append([line])
        elif entries:
            entries[-1].append(line)
    pinned = [entry for entry in entries if re.match(r"[A-Za-z0-9][\w.-]*==", entry[0])]
    assert pinned, "requirements/base.txt pins nothing"
    assert len(pinned) == len(entries), "requirements/base.txt has unpinned entries"
    unhashed = [entry[0].split()[0] for entry in pinned if "--hash=sha256:" not in " ".join(entry)]
    assert not unhashed, f"requirements without hashes: {unhashed}"
