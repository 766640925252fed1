"""The entry forms in the walk of every staff URL (``test_roles.py``), on their own: every
viewer, GET and an empty POST, with the roles of the table."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.staff import test_roles as roles

pytestmark = pytest.mark.django_db

world = roles.world  # the fixture: the demo story and an account of every role


def entry_urls() -> list[roles.StaffURL]:
    return [u for u in roles.staff_urls() if u.name.startswith("staff:entry-")]


def test_every_entry_url_is_in_the_role_table_open_to_every_staff_role():
    urls = entry_urls()
    assert len(urls) == 9
    for url in urls:
        assert roles.ROLE_TABLE[url.name] == roles.ALL_STAFF
        declared = getattr(url.callback, roles.ROLES_ATTRIBUTE)
        assert {str(r) for r in declared} == roles.ALL_STAFF


@pytest.mark.parametrize("viewer", roles.VIEWERS)
def test_walk_the_entry_urls(world, viewer):
    client = roles.client_for(viewer, world["users"])
    for url in entry_urls():
        for kwargs in roles.samples(url, world):
            path = reverse(url.name, kwargs=kwargs)
            for method in ("get", "post"):
                where = f"{viewer} {method.upper()} {path}"
                response = getattr(client, method)(path, {})
                if not roles.allowed(url, viewer):
                    roles.check_denied(response, viewer, where)
                else:
                    assert response.status_code == 200, where
