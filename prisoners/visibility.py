"""The one visibility rule: which records and which fields a viewer may see.

Every public surface (pages, API, exports, feeds, suggestions) asks this module. Default deny:
a record is seen outside staff only once published (``Visibility``), a child record only when
its person is too, a field only when it is listed below with a tier the viewer has. A field not
listed is staff-only.
"""

from __future__ import annotations

from enum import IntEnum
from typing import Any

from django.db.models import Model, Q

NAME_WITHHELD = "Name withheld"


class Tier(IntEnum):
    PUBLIC = 0
    RESEARCHER = 1
    STAFF = 2


RESEARCHER_GROUP = "researchers"

# Field tiers per model: ``app_label.ModelName`` -> {field: tier}. Unlisted fields are staff-only.
FIELD_TIERS: dict[str, dict[str, Tier]] = {
    "prisoners.Person": {
        "id": Tier.PUBLIC,
        "name": Tier.PUBLIC,
        "gender": Tier.PUBLIC,
        "occupation": Tier.PUBLIC,
        "home_region": Tier.PUBLIC,
        "birth_year": Tier.PUBLIC,
        "birth_date": Tier.RESEARCHER,
        "birth_date_precision": Tier.RESEARCHER,
        "photo": Tier.PUBLIC,
        "letter_address": Tier.RESEARCHER,
        "letters_reach": Tier.RESEARCHER,
    },
    "prisoners.NameVariant": {
        "text": Tier.PUBLIC,
        "language": Tier.PUBLIC,
        "script": Tier.PUBLIC,
        "kind": Tier.PUBLIC,
        "schemes": Tier.PUBLIC,
    },
    "prisoners.ExternalIdentifier": {
        "scheme": Tier.PUBLIC,
        "value": Tier.PUBLIC,
        "url": Tier.PUBLIC,
    },
    "prisoners.Recognition": {
        "organisation": Tier.PUBLIC,
        "recognised_on": Tier.PUBLIC,
        "recognised_on_precision": Tier.PUBLIC,
        "withdrawn_on": Tier.PUBLIC,
    },
    "prisoners.AtRiskFlag": {"kind": Tier.RESEARCHER, "since": Tier.RESEARCHER},
    "prisoners.Affiliation": {"organisation": Tier.PUBLIC, "role": Tier.PUBLIC},
    "prisoners.PersonBiography": {"language": Tier.PUBLIC, "text": Tier.PUBLIC},
    "events.DetentionEpisode": {
        "country": Tier.PUBLIC,
        "arrested_on": Tier.PUBLIC,
        "arrested_on_precision": Tier.PUBLIC,
        "arrest_place": Tier.PUBLIC,
        "arresting_authority": Tier.RESEARCHER,
        "ended_on": Tier.PUBLIC,
        "end_reason": Tier.PUBLIC,
        "summary": Tier.PUBLIC,
    },
    "events.Charge": {"article": Tier.PUBLIC, "part": Tier.PUBLIC, "charged_on": Tier.PUBLIC},
    "events.CourtDecision": {
        "kind": Tier.PUBLIC,
        "decided_on": Tier.PUBLIC,
        "decided_on_precision": Tier.PUBLIC,
        "court": Tier.PUBLIC,
        "judge": Tier.PUBLIC,
        "term_years": Tier.PUBLIC,
        "term_months": Tier.PUBLIC,
        "term_days": Tier.PUBLIC,
        "term_description": Tier.PUBLIC,
        "regime": Tier.PUBLIC,
    },
    "events.CustodyPlacement": {
        "facility": Tier.PUBLIC,
        "kind": Tier.PUBLIC,
        "started_on": Tier.PUBLIC,
        "started_on_precision": Tier.PUBLIC,  # a date's precision is as public as the date
        "ended_on": Tier.PUBLIC,
    },
    "events.IncommunicadoPeriod": {
        "kind": Tier.PUBLIC,
        "started_on": Tier.PUBLIC,
        "started_on_precision": Tier.PUBLIC,  # a date's precision is as public as the date
        "ended_on": Tier.PUBLIC,
    },
    "events.Release": {
        "released_on": Tier.PUBLIC,
        "released_on_precision": Tier.PUBLIC,
        "kind": Tier.PUBLIC,
        "deal": Tier.PUBLIC,
        "place": Tier.PUBLIC,
    },
    "events.Transfer": {
        "sequence": Tier.PUBLIC,
        "transferred_on": Tier.PUBLIC,
        "transferred_on_precision": Tier.PUBLIC,
        "from_country": Tier.PUBLIC,
        "to_country": Tier.PUBLIC,
        "from_place": Tier.PUBLIC,
        "to_place": Tier.PUBLIC,
        "mode": Tier.PUBLIC,
        "documents": Tier.RESEARCHER,
    },
    "events.Death": {
        "died_on": Tier.PUBLIC,
        "died_on_precision": Tier.PUBLIC,
        "in_custody": Tier.PUBLIC,
    },
    "events.ReleaseDeal": {
        "title": Tier.PUBLIC,
        "slug": Tier.PUBLIC,
        "announced_on": Tier.PUBLIC,
        "completed_on": Tier.PUBLIC,
        "summary": Tier.PUBLIC,
        "consideration": Tier.PUBLIC,
        "reported_total": Tier.PUBLIC,
    },
    "events.Source": {
        "kind": Tier.PUBLIC,
        "url": Tier.PUBLIC,
        "publisher": Tier.PUBLIC,
        "title": Tier.PUBLIC,
        "published_on": Tier.PUBLIC,
        "language": Tier.PUBLIC,
    },
    "events.Citation": {"quote": Tier.PUBLIC, "reliability": Tier.PUBLIC, "source": Tier.PUBLIC},
    # Parts of a deal and claims, shown on the deal and profile pages (issue 3, items 3 and 4):
    # a party or destination is seen with its deal; a claim with its record, its source
    # (``cited_source_filter``) and the claimed field. The curator's note on a claim stays
    # staff-only.
    "events.DealParty": {
        "role": Tier.PUBLIC,
        "name": Tier.PUBLIC,
        "description": Tier.PUBLIC,
        "organisation": Tier.PUBLIC,
        "country": Tier.PUBLIC,
    },
    "events.DealDestination": {
        "country": Tier.PUBLIC,
        "reported_count": Tier.PUBLIC,
        "onward_countries": Tier.PUBLIC,
        "note": Tier.PUBLIC,
    },
    "events.Claim": {
        "field_name": Tier.PUBLIC,
        "value": Tier.PUBLIC,
        "source": Tier.PUBLIC,
        "quote": Tier.PUBLIC,
        "reliability": Tier.PUBLIC,
        "accepted": Tier.PUBLIC,
    },
}

# How to reach the person from a child record, for the rule "a child is visible only with its
# person". Models not listed here and not Person itself have no person.
PERSON_PATHS: dict[str, str] = {
    "prisoners.NameVariant": "person",
    "prisoners.ExternalIdentifier": "person",
    "prisoners.Recognition": "person",
    "prisoners.AtRiskFlag": "person",
    "prisoners.Affiliation": "person",
    "prisoners.PersonBiography": "person",
    "events.DetentionEpisode": "person",
    "events.Charge": "episode__person",
    "events.CourtDecision": "episode__person",
    "events.CustodyPlacement": "person",
    "events.IncommunicadoPeriod": "episode__person",
    "events.Release": "episode__person",
    "events.Transfer": "person",
    "events.Death": "person",
}

# Records that would reveal a withheld name.
NAME_MODELS = {"prisoners.NameVariant", "prisoners.ExternalIdentifier"}


def viewer_tier(viewer: Any) -> Tier:
    """The tier of a user (or of an explicit ``Tier``)."""
    if isinstance(viewer, Tier):
        return viewer
    if viewer is None or not getattr(viewer, "is_authenticated", False):
        return Tier.PUBLIC
    # A staff session that has not passed the second factor gets no staff tier
    # (prisoners.staff.middleware).
    if viewer.is_staff and not getattr(viewer, "two_factor_pending", False):
        return Tier.STAFF
    if viewer.groups.filter(name=RESEARCHER_GROUP).exists():
        return Tier.RESEARCHER
    return Tier.PUBLIC


def _label(model: type[Model] | Model) -> str:
    return model._meta.label


def _published(prefix: str, tier: Tier) -> Q:
    from .models import Visibility

    allowed = (
        [Visibility.PUBLIC]
        if tier == Tier.PUBLIC
        else [
            Visibility.PUBLIC,
            Visibility.RESEARCHER,
        ]
    )
    return Q(**{f"{prefix}visibility__in": allowed})


def own_visibility_filter(viewer: Any, prefix: str = "") -> Q:
    """A ``Q`` on the record's own ``visibility`` (reached through ``prefix``): what a viewer's
    tier sees, without the person rule of ``record_filter`` (for events of a person already
    visible, e.g. in derived facts). Everything for staff."""
    tier = viewer_tier(viewer)
    return Q() if tier == Tier.STAFF else _published(prefix, tier)


def record_filter(model: type[Model], viewer: Any) -> Q:
    """A ``Q`` selecting the rows of ``model`` that ``viewer`` may see."""
    tier = viewer_tier(viewer)
    if tier == Tier.STAFF:
        return Q()
    label = _label(model)
    condition = _published("", tier)
    person_path = PERSON_PATHS.get(label)
    if label == "prisoners.Person":
        condition &= Q(merged_into__isnull=True)
    elif person_path:
        condition &= _published(f"{person_path}__", tier)
        condition &= Q(**{f"{person_path}__merged_into__isnull": True})
        if label in NAME_MODELS:
            condition &= Q(**{f"{person_path}__name_withheld": False})
    return condition


def field_tier(model: type[Model] | Model, field: str) -> Tier:
    return FIELD_TIERS.get(_label(model), {}).get(field, Tier.STAFF)


def visible_fields(model: type[Model] | Model, viewer: Any) -> set[str]:
    tier = viewer_tier(viewer)
    return {name for name, need in FIELD_TIERS.get(_label(model), {}).items() if need <= tier} | (
        {f.name for f in model._meta.get_fields()} if tier == Tier.STAFF else set()
    )


def display_name(person: Any, viewer: Any) -> str:
    """The person's name as this viewer may see it."""
    if person.name_withheld and viewer_tier(viewer) < Tier.STAFF:
        return NAME_WITHHELD
    return str(person.name)


def redact(instance: Model, viewer: Any) -> dict[str, Any]:
    """The fields of ``instance`` this viewer may see, as a dict (for exports and the API)."""
    allowed = visible_fields(instance, viewer)
    data: dict[str, Any] = {}
    for field in instance._meta.concrete_fields:
        if field.name in allowed:
            data[field.name] = field.value_from_object(instance)
    if _label(instance) == "prisoners.Person":
        if "birth_year" in allowed:
            birth_date = getattr(instance, "birth_date", None)
            data["birth_year"] = birth_date.year if birth_date else None
        if "name" in data:
            data["name"] = display_name(instance, viewer)
    return data


# --- Profile and deal pages (issue 3, items 3 and 4) ----------------------------------------
# A profile shows every event of a person: outside staff, that would identify a person whose name
# is withheld, so their profile does not exist for anyone but staff (404, like a hidden record).


def profile_filter(viewer: Any) -> Q:
    """A ``Q`` on ``Person`` selecting the profiles ``viewer`` may open (merged ones excluded)."""
    from .models import Person

    condition = record_filter(Person, viewer) & Q(merged_into__isnull=True)
    if viewer_tier(viewer) < Tier.STAFF:
        condition &= Q(name_withheld=False)
    return condition


def merged_filter(viewer: Any) -> Q:
    """A ``Q`` on ``Person`` selecting the merged records whose old URL redirects for ``viewer``:
    those the viewer could have opened before the merge. Anything else is a 404."""
    tier = viewer_tier(viewer)
    condition = Q(merged_into__isnull=False)
    if tier < Tier.STAFF:
        condition &= _published("", tier) & Q(name_withheld=False)
    return condition


def cited_source_filter(viewer: Any) -> Q:
    """A ``Q`` on ``Citation`` or ``Claim``: its source is one ``viewer`` may see.

    A citation or claim is shown only with a record the viewer sees, and, when it is about one
    field (``field_name``), only if that field is in ``visible_fields`` of the record's model.
    """
    tier = viewer_tier(viewer)
    return Q() if tier == Tier.STAFF else _published("source__", tier)


# --- Statistics (issue 3, item 5) -----------------------------------------------------------
# Statistics count what a viewer may see (``record_filter``): a name-withheld person is counted
# (the record is published, only the name is hidden), a draft one only for staff. One addition:
# the records of a person merged into another are never counted, not even for staff, or the
# person would be counted twice. The database keeps the counts per "lowest tier that sees the
# row" (``visibility_tier``; events/migrations/0005_statistics.py holds the same rule in SQL, and
# tests/events/test_statistics.py checks the two agree for every tier).

VISIBILITY_TIERS: dict[str, Tier] = {
    "public": Tier.PUBLIC,
    "researcher": Tier.RESEARCHER,
    "draft": Tier.STAFF,
}


def visibility_tier(visibility: str) -> Tier:
    """The lowest tier that sees a record of this visibility (an unknown value: staff only)."""
    return VISIBILITY_TIERS.get(visibility, Tier.STAFF)


def statistics_filter(model: type[Model], viewer: Any) -> Q:
    """A ``Q`` selecting the rows of ``model`` counted in the statistics shown to ``viewer``."""
    condition = record_filter(model, viewer)
    label = _label(model)
    if label == "prisoners.Person":
        condition &= Q(merged_into__isnull=True)
    elif label in PERSON_PATHS:
        condition &= Q(**{f"{PERSON_PATHS[label]}__merged_into__isnull": True})
    return condition


# --- Derived facts -------------------------------------------------------------------------------
# A derived fact shown to a viewer (status, where a person is, days in detention, expected end of
# term, counts) is computed only from the records that viewer's tier sees
# (``own_visibility_filter``; ``events.selectors`` take a ``tier``). An episode's end counts only
# for a tier that sees the release or death that ended it (``DetentionEpisode.end_level``);
# otherwise the episode lasts, for that tier, until the next arrest it sees, or is still open,
# and a placement cut by that end is open too. The listing snapshot (``PersonListing``) has one
# row per person for every viewer: its derived facts are those of the tier of the person's own
# visibility, i.e. the public derivation for a published person, whoever looks (researchers
# and staff see their own tier's on the profile and in the API).

# --- Listings and exports of persons (issue 3, items 1 and 6) -----------------------------------
# A person is listed (and exported) for a viewer exactly when the viewer may open their profile:
# outside staff never a name-withheld person (they are counted in statistics only), never a
# merged one. ``prisoners.PersonListing`` copies the fields this reads under the same names.


def listing_filter(viewer: Any) -> Q:
    """A ``Q`` on ``Person`` or ``PersonListing`` selecting the persons ``viewer`` sees listed."""
    return profile_filter(viewer)
