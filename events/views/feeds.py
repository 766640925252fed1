"""Atom feed of recent releases and transfer legs (``events:feed``).

Public records only, whoever asks (feed readers have no session, and a feed is cached and
shared): a release or leg is in the feed when the visibility rule shows it to an anonymous
visitor and its person has a public profile. Persons whose name is withheld have none, so they
are never in the feed (they are counted in the statistics). Two queries, whatever the length.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.contrib.syndication.views import Feed
from django.db.models import Exists, OuterRef
from django.db.models.functions import Coalesce
from django.http import HttpRequest
from django.urls import reverse
from django.utils import formats
from django.utils.feedgenerator import Atom1Feed
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _

from prisoners.models import Country, DatePrecision, Person
from prisoners.visibility import Tier, display_name, profile_filter

from ..models import Release, ReleaseDeal, Transfer

FEED_LENGTH = 50


@dataclass(frozen=True)
class FeedEntry:
    guid: str
    link: str
    on: dt.date
    updated: dt.datetime
    title: str
    summary: str
    category: str


def _when(on: dt.date, precision: str) -> str:
    """When, as precisely as it is known, in the interface language ("on 13 December 2025")."""
    if precision == DatePrecision.YEAR:
        return _("in %(year)s") % {"year": on.year}
    if precision == DatePrecision.MONTH:
        return _("in %(month)s") % {"month": formats.date_format(on, "YEAR_MONTH_FORMAT")}
    day = formats.date_format(on, "DATE_FORMAT")
    if precision == DatePrecision.ON_OR_BEFORE:
        return _("on or before %(date)s") % {"date": day}
    return _("on %(date)s") % {"date": day}


def _country(country: Country, language: str) -> str:
    return country.name_in(language)


def _release_entry(release: Any, request: HttpRequest, language: str) -> FeedEntry:
    person = release.episode.person
    name = display_name(person, Tier.PUBLIC)
    link = request.build_absolute_uri(person.get_absolute_url())
    summary = _("Released %(when)s. Kind of release: %(kind)s.") % {
        "when": _when(release.released_on, release.released_on_precision),
        "kind": release.get_kind_display(),
    }
    if release.deal_id and release.deal_visible:
        summary += " " + _("Part of the release deal “%(deal)s”.") % {"deal": release.deal.title}
    return FeedEntry(
        guid=f"{link}#release-{release.pk}",
        link=link,
        on=release.released_on,
        updated=release.updated_at,
        title=_("%(name)s released (%(kind)s)")
        % {"name": name, "kind": release.get_kind_display()},
        summary=summary,
        category="release",
    )


def _leg_entry(leg: Any, request: HttpRequest, language: str) -> FeedEntry:
    name = display_name(leg.person, Tier.PUBLIC)
    link = request.build_absolute_uri(leg.person.get_absolute_url())
    origin = _country(leg.from_country, language)
    destination = _country(leg.to_country, language)
    if leg.to_place:
        destination = f"{destination} ({leg.to_place.name})"
    precision = leg.transferred_on_precision if leg.transferred_on else DatePrecision.ON_OR_BEFORE
    summary = _("Taken from %(origin)s to %(destination)s %(when)s. Mode: %(mode)s.") % {
        "origin": origin,
        "destination": destination,
        "when": _when(leg.leg_on, precision),
        "mode": leg.get_mode_display(),
    }
    if leg.release_id and leg.release.deal_id and leg.deal_visible:
        summary += " " + _("After release in the deal “%(deal)s”.") % {
            "deal": leg.release.deal.title
        }
    return FeedEntry(
        guid=f"{link}#transfer-{leg.pk}",
        link=link,
        on=leg.leg_on,
        updated=leg.updated_at,
        title=_("%(name)s taken from %(origin)s to %(destination)s")
        % {"name": name, "origin": origin, "destination": _country(leg.to_country, language)},
        summary=summary,
        category="transfer",
    )


def feed_entries(*, request: HttpRequest, limit: int = FEED_LENGTH) -> list[FeedEntry]:
    """The most recent releases and transfer legs an anonymous visitor may see, newest first.

    A leg without a date of its own is dated by its release; a leg with neither is left out
    (it cannot be placed in time).
    """
    tier = Tier.PUBLIC
    language = get_language() or "en"
    profiles = Person.objects.filter(profile_filter(tier)).values("pk")
    visible_deal = Exists(ReleaseDeal.objects.visible_to(tier).filter(pk=OuterRef("deal_id")))
    releases = (
        Release.objects.visible_to(tier)
        .filter(episode__person__in=profiles)
        .annotate(deal_visible=visible_deal)
        .select_related("episode__person", "deal")
        .order_by("-released_on", "-id")[:limit]
    )
    legs = (
        Transfer.objects.visible_to(tier)
        .filter(person__in=profiles)
        .annotate(
            leg_on=Coalesce("transferred_on", "release__released_on"),
            deal_visible=Exists(
                ReleaseDeal.objects.visible_to(tier).filter(pk=OuterRef("release__deal_id"))
            ),
        )
        .filter(leg_on__isnull=False)
        .select_related("person", "from_country", "to_country", "to_place", "release__deal")
        .order_by("-leg_on", "-sequence", "-id")[:limit]
    )
    entries = [_release_entry(release, request, language) for release in releases]
    entries += [_leg_entry(leg, request, language) for leg in legs]
    entries.sort(key=lambda entry: (entry.on, entry.updated), reverse=True)
    return entries[:limit]


def _midnight(on: dt.date) -> dt.datetime:
    return dt.datetime.combine(on, dt.time.min, tzinfo=dt.UTC)


class ReleasesFeed(Feed):
    feed_type = Atom1Feed
    title = gettext_lazy("Political prisoner tracker: releases and transfers")
    subtitle = gettext_lazy(
        "Recent releases of political prisoners, and their movements across borders after "
        "release. Published records only."
    )
    author_name = gettext_lazy("Political prisoner tracker")

    def get_object(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpRequest:
        return request

    def link(self) -> str:
        return reverse("events:open-data")

    def feed_url(self) -> str:
        return reverse("events:feed")

    def items(self, obj: HttpRequest) -> list[FeedEntry]:
        return feed_entries(request=obj)

    def item_title(self, item: FeedEntry) -> str:
        return item.title

    def item_description(self, item: FeedEntry) -> str:
        return item.summary

    def item_link(self, item: FeedEntry) -> str:
        return item.link

    def item_guid(self, item: FeedEntry) -> str:
        return item.guid

    item_guid_is_permalink = False

    def item_pubdate(self, item: FeedEntry) -> dt.datetime:
        return _midnight(item.on)

    def item_updateddate(self, item: FeedEntry) -> dt.datetime:
        return item.updated

    def item_categories(self, item: FeedEntry) -> tuple[str, ...]:
        return (item.category,)


feed = ReleasesFeed()
