"""Every URL under /staff/, enumerated from the URL resolver, for every kind of visitor.

The table below says which roles each staff URL is open to. A URL added without a line here
fails the test, and so does a view not wrapped in ``roles.staff_view``. Each URL is requested
(GET, then an empty POST) with every sample of its parameters, as: an anonymous visitor, a
researcher, an editor, a reviewer, an admin, and an editor who skipped the second factor.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from events import services as ev
from events.models import CriminalArticle, DetentionEpisode
from prisoners.audit import audit_context
from prisoners.models import (
    AtRiskFlag,
    ExternalIdentifier,
    Organisation,
    Person,
    Recognition,
)
from prisoners.services import person_create, person_update
from prisoners.staff.records import reviewable_kinds
from prisoners.staff.roles import ROLES_ATTRIBUTE, Role
from tests.staff.helpers import make_user, verified_client

pytestmark = pytest.mark.django_db

PUBLIC = "public"
EDITOR, REVIEWER, ADMIN = "editor", "reviewer", "admin"
ALL_STAFF = {EDITOR, REVIEWER, ADMIN}
PUBLISHERS = {REVIEWER, ADMIN}

# URL name -> roles it is open to ("public": anyone, for the sign-in steps).
ROLE_TABLE: dict[str, set[str] | str] = {
    "staff:login": PUBLIC,
    "staff:verify": PUBLIC,
    "staff:enrol": PUBLIC,
    "staff:logout": ALL_STAFF,
    "staff:dashboard": ALL_STAFF,
    "staff:terms-ending": ALL_STAFF,
    "staff:incommunicado": ALL_STAFF,
    "staff:review-list": ALL_STAFF,
    "staff:review-detail": ALL_STAFF,
    "staff:review-visibility": PUBLISHERS,
    "staff:review-claim-add": ALL_STAFF,
    "staff:review-claim-accept": PUBLISHERS,
    "staff:history": ALL_STAFF,
    "staff:revert": PUBLISHERS,
    "staff:duplicates": ALL_STAFF,
    "staff:duplicates-dismiss": ALL_STAFF,
    "staff:merge": PUBLISHERS,
    "staff:deal-entry": ALL_STAFF,
    "staff:entry-person": ALL_STAFF,
    "staff:entry-episode": ALL_STAFF,
    "staff:entry-charge": ALL_STAFF,
    "staff:entry-sentence": ALL_STAFF,
    "staff:entry-placement": ALL_STAFF,
    "staff:entry-incommunicado": ALL_STAFF,
    "staff:entry-release": ALL_STAFF,
    "staff:entry-transfers": ALL_STAFF,
    "staff:entry-field-edit": ALL_STAFF,
    "staff:user-list": {ADMIN},
    "staff:user-create": {ADMIN},
    "staff:user-detail": {ADMIN},
    "staff:user-reset-device": {ADMIN},
    "staff:user-unlock": {ADMIN},
    "staff:imports": ALL_STAFF,
    "staff:import-run": ALL_STAFF,
    "staff:import-progress": ALL_STAFF,
    "staff:import-feeds": ALL_STAFF,
    "staff:import-feed-create": {ADMIN},
    "staff:import-feed": {ADMIN},
    "staff:import-feed-poll": ALL_STAFF,
    "staff:import-article": ALL_STAFF,
    "staff:proposals": ALL_STAFF,
    "staff:proposal": ALL_STAFF,
}

# Import pages: URL name -> the key of the sample object in world["imports"].
IMPORT_SAMPLES = {
    "staff:import-run": "run",
    "staff:import-progress": "run",
    "staff:import-feed": "feed",
    "staff:import-feed-poll": "feed",
    "staff:import-article": "article",
    "staff:proposal": "proposal",
}

VIEWERS = ("anonymous", "researcher", EDITOR, REVIEWER, ADMIN, "editor without second factor")


@dataclass(frozen=True)
class StaffURL:
    name: str
    route: str
    callback: Any
    params: frozenset[str]


def _walk(
    patterns: list[Any], prefix: str = "", namespace: str = ""
) -> Iterator[tuple[str, str, Any, frozenset[str]]]:
    for pattern in patterns:
        route = prefix + str(pattern.pattern)
        params = frozenset(getattr(pattern.pattern, "converters", {}))
        if isinstance(pattern, URLResolver):
            inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
            for name, sub_route, callback, sub_params in _walk(pattern.url_patterns, route, inner):
                yield name, sub_route, callback, params | sub_params
        elif isinstance(pattern, URLPattern):
            yield f"{namespace}{pattern.name}", route, pattern.callback, params


def staff_urls() -> list[StaffURL]:
    found = [
        StaffURL(name, route, callback, params)
        for name, route, callback, params in _walk(get_resolver().url_patterns)
        if route.startswith("staff/")
    ]
    assert found, "no URL under /staff/"
    return found


def test_every_staff_url_is_in_the_role_table_and_declares_its_roles():
    urls = staff_urls()
    assert {u.name for u in urls} == set(ROLE_TABLE)
    for url in urls:
        declared = getattr(url.callback, ROLES_ATTRIBUTE, None)
        assert declared is not None, f"{url.name} is not wrapped in staff_view"
        expected = ROLE_TABLE[url.name]
        assert {str(r) for r in declared} == (set() if expected == PUBLIC else expected), url.name
        assert set(Role) >= declared


@pytest.fixture
def world(demo):
    """The demo story, plus an update of a person (for the revert URL), and every account."""
    person = Person.objects.get(name="Maryia Kalesnikava")
    held = DetentionEpisode.objects.get(person__name="Julia Fenner")
    with audit_context(reason="walk"):
        person_update(person=person, occupation="musician and campaigner")
        # One record of each kind the demo does not have, so every review page is walked.
        ExternalIdentifier.objects.create(person=person, scheme="viasna", value="walk-1")
        AtRiskFlag.objects.create(person=person, kind="over_60")
        viasna, _ = Organisation.objects.get_or_create(
            name="Viasna", defaults={"kind": "human_rights"}
        )
        Recognition.objects.get_or_create(person=person, organisation=viasna)
        ev.charge_add(episode=held, article=CriminalArticle.objects.order_by("pk").first())
        ev.placement_add(episode=held, kind="pre_trial", started_on=held.arrested_on)
        ev.death_record(person=person_create(name="Walk Deceased"), died_on=dt.date(2020, 1, 1))
    event = (
        Person.pgh_event_model.objects.filter(pgh_obj_id=person.pk, pgh_label="update")
        .order_by("-pgh_id")
        .first()
    )
    users = {
        "researcher": make_user("rita", "researcher", device=False),
        EDITOR: make_user("edna", "editor"),
        REVIEWER: make_user("rene", "reviewer"),
        ADMIN: make_user("adam", "admin"),
    }
    return {"person": person, "event": event, "users": users, "imports": _imports()}


def _imports() -> dict[str, Any]:
    """One run with its article and proposal, and a feed (never polled: its address is not
    allowed, and a poll in the walk fails without touching the network)."""
    from events.ingest import pipeline
    from events.ingest.models import Feed, Proposal

    text = "Title: Walk\nDate: 2025-12-14\n\nJulia Fenner was released on Saturday."
    run = pipeline.run_for_text(text=text, user=None)
    item = run.items.get()
    pipeline.process_item(item.pk)
    item.refresh_from_db()
    feed = pipeline.feed_save(
        feed=Feed(title="Walk feed", url="http://127.0.0.1:9/rss"), user=None, reason="walk"
    )
    return {
        "run": run,
        "article": item.article,
        "proposal": Proposal.objects.get(article=item.article),
        "feed": feed,
    }


def samples(url: StaffURL, world: dict[str, Any]) -> list[dict[str, Any]]:
    """Every set of parameters the URL is requested with."""
    person = world["person"]
    if not url.params:
        return [{}]
    if url.params == {"kind"}:
        return [{"kind": slug} for slug in reviewable_kinds()]
    if url.params == {"kind", "pk"}:
        found = []
        for slug, kind in reviewable_kinds().items():
            obj = kind.model._default_manager.order_by("pk").first()
            if obj is not None:
                found.append({"kind": slug, "pk": obj.pk})
        assert {s["kind"] for s in found} == set(reviewable_kinds())
        return found
    record = {"app_label": "prisoners", "model_name": "person", "pk": person.pk}
    if url.params == {"app_label", "model_name", "pk"}:
        deal = reviewable_kinds()["releasedeal"].model._default_manager.first()
        assert deal is not None
        return [record, {"app_label": "events", "model_name": "releasedeal", "pk": deal.pk}]
    if url.params == {"app_label", "model_name", "pk", "event_id"}:
        return [{**record, "event_id": world["event"].pgh_id}]
    if url.params == {"person_id"}:
        return [{"person_id": person.pk}]
    if url.name in IMPORT_SAMPLES:
        return [{"pk": world["imports"][IMPORT_SAMPLES[url.name]].pk}]
    if url.params == {"pk"}:
        return [{"pk": world["users"][EDITOR].pk}]
    pytest.fail(f"no sample parameters for {url.name} ({url.route}): add them to samples()")


def client_for(viewer: str, users: dict[str, Any]) -> Client:
    if viewer == "anonymous":
        return Client()
    if viewer == "researcher":
        client = Client()
        client.force_login(users["researcher"])
        return client
    if viewer == "editor without second factor":
        client = Client()
        client.force_login(users[EDITOR])
        return client
    return verified_client(users[viewer])


def allowed(url: StaffURL, viewer: str) -> bool:
    expected = ROLE_TABLE[url.name]
    return expected == PUBLIC or viewer in expected


def check_denied(response: Any, viewer: str, where: str) -> None:
    if viewer in ("anonymous", "editor without second factor"):
        assert response.status_code == 302, where
        assert response["Location"].startswith("/staff/login/?next="), where
    else:
        assert response.status_code == 403, where


@pytest.mark.parametrize("viewer", VIEWERS)
def test_walk_every_staff_url(world, viewer):
    client = client_for(viewer, world["users"])
    urls = sorted(staff_urls(), key=lambda u: u.name == "staff:logout")  # sign out last
    requested = 0
    for url in urls:
        for kwargs in samples(url, world):
            path = reverse(url.name, kwargs=kwargs)
            for method in ("get", "post"):
                where = f"{viewer} {method.upper()} {path}"
                response = getattr(client, method)(path, {})
                requested += 1
                if not allowed(url, viewer):
                    check_denied(response, viewer, where)
                elif method == "get" and ROLE_TABLE[url.name] != PUBLIC:
                    assert response.status_code == 200, where
                else:
                    # Sign-in steps answer or redirect; an empty POST is refused with a form
                    # error (200) or, for sign-out, redirects.
                    assert response.status_code in (200, 302), where
    assert requested > 2 * len(ROLE_TABLE)
