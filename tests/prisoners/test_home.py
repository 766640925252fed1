import re

import pytest
from django.conf import settings
from django.utils import translation

pytestmark = pytest.mark.django_db


def test_home_page_renders_without_data_and_links_to_staff(client, demo):
    response = client.get("/")
    assert response.status_code == 200
    body = response.content.decode()
    assert "/admin/" in body
    # No person is shown here: public pages go through the visibility rule (see prisoners.visibility).
    assert "Kalesnikava" not in body


@pytest.mark.django_db
def test_unknown_address_gets_the_site_404_page_in_the_visitor_language(client):
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    body = response.content.decode()
    assert "<h1>Page not found</h1>" in body
    assert 'href="/persons/"' in body  # the site's own page, with its navigation
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "ru"
    assert "Страница не найдена" in client.get("/no-such-page/").content.decode()


def test_server_error_page_needs_no_request_context():
    from django.template.loader import render_to_string

    with translation.override("be"):
        body = render_to_string("500.html")
    assert "Памылка сервера" in body
    assert "<script" not in body
    assert "http" not in body  # nothing from elsewhere


@pytest.mark.django_db
def test_the_404_page_does_not_repeat_the_address_asked_for(client):
    """The address may name an unpublished record (a draft deal's slug): the page must be the
    same whatever was asked for, but for the per-response CSRF token."""
    first = client.get("/deals/a-draft-deal-slug/")
    second = client.get("/no-such-page/")
    assert first.status_code == second.status_code == 404
    assert "a-draft-deal-slug" not in first.content.decode()
    csrf = re.compile(rb'name="csrfmiddlewaretoken" value="[^"]*"')
    assert csrf.sub(b"", first.content) == csrf.sub(b"", second.content)
