"""Persons the seed report names who must get no event: the exiled leader and the president."""

from __future__ import annotations

from typing import Any


def bystanders() -> dict[str, Any]:
    from prisoners.audit import audit_context
    from prisoners.models import Visibility
    from prisoners.services import name_variant_add, person_create

    made = {}
    with audit_context(reason="test: persons named in the report"):
        for key, latin, be, ru, common in (
            (
                "leader",
                "Sviatlana Tsikhanouskaya",
                "Святлана Ціханоўская",
                "Светлана Тихановская",
                "Svetlana Tikhanovskaya",
            ),
            (
                "president",
                "Aliaksandr Lukashenka",
                "Аляксандр Лукашэнка",
                "Александр Лукашенко",
                "Alexander Lukashenko",
            ),
        ):
            person = person_create(name=latin, name_be=be, name_ru=ru, visibility=Visibility.PUBLIC)
            name_variant_add(person=person, text=common, language="en")
            made[key] = person
    return made
