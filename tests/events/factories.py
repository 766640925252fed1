"""Factories for events. Writes go through the services, as in the application."""

from __future__ import annotations

import datetime as dt
from typing import Any

from events import services
from events.models import DetentionEpisode
from prisoners.models import Country, Person
from prisoners.services import person_create


def country(code: str) -> Country:
    return Country.objects.get(code=code)


def person(name: str = "Test Person", **kwargs: Any) -> Person:
    return person_create(name=name, **kwargs)


def episode(
    who: Person | None = None,
    arrested_on: dt.date | None = dt.date(2021, 1, 10),
    **kwargs: Any,
) -> DetentionEpisode:
    return services.episode_open(
        person=who or person(),
        country=kwargs.pop("country", country("BY")),
        arrested_on=arrested_on,
        **kwargs,
    )
