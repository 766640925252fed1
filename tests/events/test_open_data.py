"""The open-data page: links to the API schema, the feed and the downloads; the API reference
rendered from the schema; the licence; nothing loaded from a third party."""

import re

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.urls import reverse

from prisoners.visibility import RESEARCHER_GROUP

pytestmark = pytest.mark.django_db


def _page(client):
    response = client.get(reverse("events:open-data"))
    assert response.status_code == 200
    return response.content.decode()


def test_page_links_the_schema_feed_and_downloads(client):
    html = _page(client)
    for name in ("api:schema", "events:feed", "prisoners:export-csv", "prisoners:export-json"):
        assert f'href="{reverse(name)}' in html, name
    assert 'rel="alternate" type="application/atom+xml"' in html
    assert 'rel="license"' in html
    assert "CC BY 4.0" in html


def test_page_renders_every_api_operation_from_the_schema(client):
    html = _page(client)
    for path in (
        "/api/persons/",
        "/api/persons/{id}/",
        "/api/events/",
        "/api/deals/{slug}/",
        "/api/statistics/",
    ):
        assert f"<code>GET {path}</code>" in html, path
    assert "<code>limit</code>" in html
    assert "<code>deal</code>" in html


def test_page_lists_researcher_fields_and_who_sees_them(client):
    html = _page(client)
    assert "Letter address" in html or "letter address" in html
    assert reverse("login") in html
    user = get_user_model().objects.create_user("ada", password="x" * 16)
    user.groups.add(Group.objects.get_or_create(name=RESEARCHER_GROUP)[0])
    client.force_login(user)
    assert "these fields are included for you" in _page(client)


def test_page_loads_nothing_from_a_third_party(client):
    html = _page(client)
    sources = re.findall(r'<(?:script|link|img|iframe)[^>]+(?:src|href)="([^"]+)"', html)
    assert sources
    for source in sources:
        assert not source.startswith(("http:", "https:", "//")), source


def test_unknown_api_address_is_a_json_404(client):
    response = client.get("/api/no/such/thing/")
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"


def test_api_address_without_its_slash_redirects(client):
    response = client.get("/api/persons")
    assert response.status_code == 301
    assert response["Location"] == "/api/persons/"
