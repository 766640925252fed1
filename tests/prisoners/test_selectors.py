import pytest
from django.contrib.auth.models import AnonymousUser

from prisoners.models import Person
from prisoners.selectors import localized_name, names_prefetch
from prisoners.visibility import NAME_WITHHELD

pytestmark = pytest.mark.django_db


def test_name_in_each_interface_language(demo):
    anonymous = AnonymousUser()
    person = Person.objects.prefetch_related(names_prefetch(anonymous)).get(
        name="Maryia Kalesnikava"
    )
    assert localized_name(person, "en", anonymous) == "Maryia Kalesnikava"
    assert localized_name(person, "be", anonymous) == "Марыя Калеснікава"
    assert localized_name(person, "ru", anonymous) == "Мария Колесникова"
    assert localized_name(person, "uk", anonymous) == "Марыя Калеснікава"


def test_withheld_name_is_never_localised(demo):
    Person.objects.filter(name="Julia Fenner").update(name_withheld=True)
    person = Person.objects.get(name="Julia Fenner")
    assert localized_name(person, "en", AnonymousUser()) == NAME_WITHHELD
