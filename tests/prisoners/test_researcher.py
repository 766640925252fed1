"""Researcher accounts: created by a command, signed in through the login page; they see
researcher-tier fields in the API, the public never does."""

import datetime as dt
import json
import re
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.test import Client

from prisoners.models import Person
from prisoners.services import person_update
from prisoners.visibility import RESEARCHER_GROUP, Tier, viewer_tier

pytestmark = pytest.mark.django_db

LETTER = "Калонія № 4, LETTER-SENTINEL"


def _create(username="ada", *extra):
    out = StringIO()
    call_command("create_researcher", username, *extra, stdout=out)
    return out.getvalue()


def _password(output):
    return re.search(r"^Password: (\S+)$", output, re.MULTILINE).group(1)


def test_command_creates_a_researcher_with_a_password_shown_once():
    output = _create("ada", "--email", "ada@example.org")
    password = _password(output)
    assert len(password) >= 20
    user = get_user_model().objects.get(username="ada")
    assert user.email == "ada@example.org"
    assert list(user.groups.values_list("name", flat=True)) == [RESEARCHER_GROUP]
    assert not user.is_staff
    assert not user.is_superuser
    assert user.check_password(password)
    assert password not in user.password  # stored as a hash only
    assert viewer_tier(user) == Tier.RESEARCHER
    assert _password(_create("bob")) != password


def test_command_refuses_an_existing_user_and_a_bad_name():
    _create("ada")
    with pytest.raises(CommandError, match="already exists"):
        _create("ada")
    with pytest.raises(CommandError):
        _create("not a valid name!")
    assert get_user_model().objects.count() == 1


def test_login_page_signs_a_researcher_in(client):
    password = _password(_create("ada"))
    page = client.get("/accounts/login/")
    assert page.status_code == 200
    html = page.content.decode()
    assert 'autocomplete="current-password"' in html
    assert '<label for="id_username">' in html
    wrong = client.post("/accounts/login/", {"username": "ada", "password": "wrong"})
    assert wrong.status_code == 200
    assert 'role="alert"' in wrong.content.decode()
    response = client.post("/accounts/login/", {"username": "ada", "password": password})
    assert response.status_code == 302
    assert client.session["_auth_user_id"]


def test_researcher_tier_fields_in_the_api_for_researchers_only(demo, audited):
    kalesnikava = Person.objects.get(name="Maryia Kalesnikava")
    person_update(
        person=kalesnikava,
        letter_address=LETTER,
        birth_date=dt.date(1982, 4, 24),
        birth_date_precision="day",
    )
    url = f"/api/persons/{kalesnikava.pk}/"

    anonymous = json.loads(Client().get(url).content)
    assert "letter_address" not in anonymous
    assert "birth_date" not in anonymous
    assert anonymous["birth_year"] == 1982

    researcher = Client()
    assert researcher.login(username="ada", password=_password(_create("ada")))
    data = json.loads(researcher.get(url).content)
    assert data["letter_address"] == LETTER
    assert data["birth_date"] == "1982-04-24"
    assert data["birth_date_precision"] == "day"

    # Signed in, but not a researcher: public fields only.
    other = get_user_model().objects.create_user("someone", password="y" * 16)
    plain = Client()
    plain.force_login(other)
    assert LETTER not in plain.get(url).content.decode()
    assert LETTER not in plain.get("/api/persons/?limit=200").content.decode()
