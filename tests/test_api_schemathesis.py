"""Fuzz every operation of the open-data API against its own OpenAPI schema (schemathesis).

The schema is loaded from the running application (``/api/schema/``), then for each operation
schemathesis generates requests, valid and invalid (positive and negative modes), and checks the
answers: never a server error, a status code the schema documents, a body that matches the
schema. Each request is made twice: anonymously and as a signed-in researcher (whose extra
fields the schema documents as optional). The database holds the demo story.
"""

import pytest
import schemathesis
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from django.test import Client
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from werkzeug.test import Client as WsgiClient

from prisoners.visibility import RESEARCHER_GROUP

pytestmark = pytest.mark.django_db

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


MODES = (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
SETTINGS = settings(
    max_examples=25,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)


@pytest.fixture
def researcher_cookies(db):
    user = get_user_model().objects.create_user("fuzzer", password="x" * 16)
    user.groups.add(Group.objects.get_or_create(name=RESEARCHER_GROUP)[0])
    client = Client()
    client.force_login(user)
    return {"sessionid": client.cookies["sessionid"].value}


@pytest.fixture
def wsgi_app():
    """The application, called in the test's transaction: Django would otherwise close the
    database connection at the end of each request (the test client prevents it the same way)."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        yield get_wsgi_application()
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)


def test_api_conforms_to_its_schema(demo, wsgi_app, researcher_cookies, subtests):
    # One test for all operations, so that the demo is loaded once (schemathesis' own pytest
    # integration for fixture-loaded schemas does not run on pytest 9); a subtest each.
    # The session cookie reaches the application: researcher fields come back.
    browser = WsgiClient(wsgi_app)
    assert b'"letters_reach"' not in browser.get("/api/persons/").data
    browser.set_cookie("sessionid", researcher_cookies["sessionid"])
    assert b'"letters_reach"' in browser.get("/api/persons/").data

    api = schemathesis.openapi.from_wsgi("/api/schema/?format=json", wsgi_app)
    operations = [result.ok() for result in api.get_all_operations()]
    assert len(operations) >= 7
    researcher_fields_seen = []
    for operation in operations:
        for mode in MODES:
            with subtests.test(msg=f"{operation.label} ({mode.value})"):

                @SETTINGS
                @given(case=operation.as_strategy(generation_mode=mode))
                def fuzz(case):
                    case.call_and_validate(checks=CHECKS)
                    response = case.call(cookies=researcher_cookies)
                    case.validate_response(response, checks=CHECKS)
                    if b'"letters_reach"' in response.content:
                        researcher_fields_seen.append(case.path)

                fuzz()
    assert "/api/persons/" in researcher_fields_seen  # researcher answers were fuzzed too
