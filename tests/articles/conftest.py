"""Persons the test articles name, beside the demo story's."""

import pytest


def _person(name, name_be="", name_ru="", common=()):
    from prisoners.models import Visibility
    from prisoners.services import name_variant_add, person_create

    person = person_create(
        name=name, name_be=name_be, name_ru=name_ru, visibility=Visibility.PUBLIC
    )
    for text in common:
        name_variant_add(person=person, text=text, language="en")
    return person


@pytest.fixture
def people(demo):
    """Known persons of the test corpus (on top of the demo data), by a short key."""
    from prisoners.audit import audit_context

    with audit_context(reason="test articles"):
        return {
            "tsikhanouskaya": _person(
                "Sviatlana Tsikhanouskaya",
                "Святлана Ціханоўская",
                "Светлана Тихановская",
                common=["Svetlana Tikhanovskaya"],
            ),
            "lukashenko": _person(
                "Aliaksandr Lukashenka",
                "Аляксандр Лукашэнка",
                "Александр Лукашенко",
                common=["Alexander Lukashenko"],
            ),
            "lednik": _person("Ihar Lednik", "Ігар Леднік", "Игорь Ледник"),
            "alena_lednik": _person("Alena Lednik", "Алена Леднік", "Елена Ледник"),
            "sieviarynets": _person("Pavel Sieviarynets", "Павел Севярынец", "Павел Северинец"),
            "klimovich": _person("Mikalai Klimovich", "Мікалай Клімовіч", "Николай Климович"),
            "sauchuk": _person("Anton Sauchuk", "Антон Саўчук", "Антон Савчук"),
            "losik": _person("Darya Losik", "Дар'я Лосік", "Дарья Лосик"),
            "kazlou_1": _person("Ivan Kazlou", "Іван Казлоў", "Иван Козлов"),
            "kazlou_2": _person("Ivan Kazlou", "Іван Казлоў", "Иван Козлов"),
        }
