"""The open-data page (``events:open-data``): the API and its schema, the feed, the downloads of
the listing, the licence, and which fields need a researcher's sign-in.

The API reference on the page is rendered here from the OpenAPI schema itself, so that nothing
(no Swagger or Redoc bundle) is loaded from a third party.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import Any

from django.apps import apps
from django.conf import settings
from django.core.exceptions import FieldDoesNotExist
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.text import capfirst

from prisoners.visibility import FIELD_TIERS, Tier, viewer_tier

# The data's licence, unless the settings name another (OPEN_DATA_LICENCE = (name, url)).
DEFAULT_LICENCE = (
    "Creative Commons Attribution 4.0 International (CC BY 4.0)",
    "https://creativecommons.org/licenses/by/4.0/",
)


@dataclass(frozen=True)
class Parameter:
    name: str
    location: str
    type: str
    description: str
    choices: tuple[str, ...] = ()


@dataclass(frozen=True)
class Operation:
    path: str
    summary: str
    description: str
    parameters: tuple[Parameter, ...] = field(default_factory=tuple)
    responses: tuple[str, ...] = ()


def _type(schema: dict[str, Any]) -> str:
    kind = schema.get("type", "string")
    return f"{kind} ({schema['format']})" if "format" in schema else str(kind)


def _description(text: str) -> str:
    """A parameter's description without the list of choices drf-spectacular appends (the
    choices are shown on their own)."""
    lines = [line for line in str(text).splitlines() if not line.startswith("* `")]
    return " ".join(" ".join(lines).split())


@functools.cache
def api_reference() -> tuple[Operation, ...]:
    """Every operation of the API, from the same schema ``/api/schema/`` serves (cached: the
    schema changes only with the code)."""
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    operations = []
    for path, methods in schema.get("paths", {}).items():
        operation = methods.get("get")
        if operation is None:
            continue
        parameters = tuple(
            Parameter(
                name=p["name"],
                location=p["in"],
                type=_type(p.get("schema", {})),
                description=_description(p.get("description", "")),
                choices=tuple(p.get("schema", {}).get("enum", ())),
            )
            for p in operation.get("parameters", ())
        )
        operations.append(
            Operation(
                path=path,
                summary=str(operation.get("summary", "")),
                description=str(operation.get("description", "")),
                parameters=parameters,
                responses=tuple(sorted(operation.get("responses", {}))),
            )
        )
    return tuple(operations)


def researcher_fields() -> list[tuple[str, list[str]]]:
    """The researcher-tier fields, by record, with their names in the interface language."""
    rows = []
    for label, tiers in FIELD_TIERS.items():
        model = apps.get_model(label)
        names = []
        for name, tier in tiers.items():
            if tier != Tier.RESEARCHER:
                continue
            try:
                names.append(str(model._meta.get_field(name).verbose_name))
            except FieldDoesNotExist:  # a derived field, such as birth_year
                names.append(name.replace("_", " "))
        if names:
            rows.append((str(capfirst(model._meta.verbose_name)), names))
    return rows


def open_data(request: HttpRequest) -> HttpResponse:
    licence_name, licence_url = getattr(settings, "OPEN_DATA_LICENCE", DEFAULT_LICENCE)
    return render(
        request,
        "events/open_data.html",
        {
            "operations": api_reference(),
            "researcher_fields": researcher_fields(),
            "is_researcher": viewer_tier(request.user) >= Tier.RESEARCHER,
            "licence_name": licence_name,
            "licence_url": licence_url,
        },
    )
