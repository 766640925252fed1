"""A release deal in one go: the deal, its source, and the release of many persons.

The page (``views/deal_entry.py``) reads the deal's fields and a list of names, one per line, in
any spelling or script. Each line is matched to a person through ``person_search`` (every
name variant); a line naming one person at a good level is matched, a line with several
candidates (or only a similar spelling) is ambiguous, a line with none is unknown. Ambiguous
and unknown lines need a decision: a candidate, a new draft person, or dropping the line.
A line ``#123`` names the person with that id (what picking from the search adds).

``deal_entry_save`` then writes everything in one transaction inside ``audit_context``: the
deal (or an existing one), its mediators and reported destinations, and per person the release
(kind deal, ending their open episode) and the first transfer leg from the custody country to
the destination, every record citing the source. A line that cannot be saved (no open
episode, a date the database refuses) is reported with its number and nothing is written.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from events import services as ev
from events.models import DetentionEpisode, Release, ReleaseDeal, Source
from prisoners.audit import audit_context
from prisoners.errors import ApplicationError, messages_of
from prisoners.models import Country, Person, Visibility
from prisoners.search import Level, person_search
from prisoners.services import person_from_name

MAX_LINES = 300
CANDIDATES = 6
ID_LINE_RE = re.compile(r"^#(\d+)\b\s*(.*)$")

MATCHED, AMBIGUOUS, UNKNOWN = "matched", "ambiguous", "unknown"
NEW, DROP = "new", "drop"

NO_OPEN_EPISODE = _("{person} has no open detention episode: record their detention first.")
SAME_COUNTRY = _("{person} is held in {country}: the destination must be another country.")
NO_SUCH_PERSON = _("No person has the id {id}.")
TWICE = _("{person} is on more than one line.")
BEFORE_ARREST = _("The release date {date} is before the arrest of {person} ({arrested}).")


def _before_arrest(person: Person, episode: DetentionEpisode, released_on: dt.date) -> str:
    if episode.arrested_on is None or released_on >= episode.arrested_on:
        return ""
    return str(BEFORE_ARREST).format(
        date=released_on.isoformat(), person=person.name, arrested=episode.arrested_on.isoformat()
    )


def country_lookup(value: str) -> Country | None:
    """A country by its ISO code or its name in any language."""
    text = value.strip()
    if not text:
        return None
    if len(text) == 2:
        found = Country.objects.filter(code=text.upper()).first()
        if found is not None:
            return found
    for name in ("name", "name_be", "name_ru", "name_uk"):
        found = Country.objects.filter(**{f"{name}__iexact": text}).first()
        if found is not None:
            return found
    return None


@dataclass
class Candidate:
    person: Person
    matched: str = ""
    level_label: str = ""
    episode: DetentionEpisode | None = None

    @property
    def label(self) -> str:
        held = ""
        if self.episode is not None:
            since = self.episode.arrested_on.isoformat() if self.episode.arrested_on else "?"
            held = f", {self.episode.country.code} {since}"
        birth = f", {self.person.birth_date.year}" if self.person.birth_date else ""
        return f"{self.person.name} (#{self.person.pk}{birth}{held})"


@dataclass
class Line:
    """One line of the list with its match and, after a decision, the person it stands for."""

    number: int
    text: str
    status: str = UNKNOWN
    candidates: list[Candidate] = field(default_factory=list)
    person: Person | None = None
    choice: str = ""  # a person id, NEW or DROP: the decision taken on the page
    destination: Country | None = None
    released_on: dt.date | None = None
    errors: list[str] = field(default_factory=list)
    posted: dict[str, str] = field(default_factory=dict)  # the line's fields as typed

    @property
    def needs_decision(self) -> bool:
        return self.status != MATCHED

    @property
    def dropped(self) -> bool:
        return self.choice == DROP

    @property
    def creates_person(self) -> bool:
        return self.choice == NEW and self.needs_decision

    @property
    def resolved(self) -> bool:
        return self.dropped or self.person is not None or self.creates_person


def open_episodes(person_ids: list[int]) -> dict[int, DetentionEpisode]:
    """The open episode of each person (the latest, should there be several), in one query."""
    found: dict[int, DetentionEpisode] = {}
    for episode in (
        DetentionEpisode.objects.filter(person_id__in=person_ids, ended_on__isnull=True)
        .select_related("country")
        .order_by("person_id", "-arrested_on", "-pk")
    ):
        found.setdefault(episode.person_id, episode)
    return found


def match_line(text: str, number: int, viewer: Any) -> Line:
    """Match one line to the persons its name may stand for."""
    line = Line(number=number, text=text)
    by_id = ID_LINE_RE.match(text)
    if by_id:
        person = Person.objects.current().filter(pk=int(by_id.group(1))).first()
        if person is None:
            line.errors.append(str(NO_SUCH_PERSON).format(id=by_id.group(1)))
            return line
        line.status = MATCHED
        line.person = person
        line.candidates = [Candidate(person, matched=person.name)]
        return line
    page = person_search(query=text, viewer=viewer, page_size=CANDIDATES, with_status=False)
    if not page.query.ok:
        line.errors.append(page.query.error)
        return line
    hits = page.hits
    if not hits:
        return line
    best = max(hit.level for hit in hits)
    top = {hit.person.pk for hit in hits if hit.level == best}
    line.candidates = [
        Candidate(
            hit.person,
            matched=hit.matched,
            level_label=str(hit.level.label),
        )
        for hit in hits
    ]
    if len(top) == 1 and best >= Level.INFLECTED:
        line.status = MATCHED
        line.person = line.candidates[0].person
    else:
        line.status = AMBIGUOUS
    return line


def match_lines(
    texts: list[str],
    viewer: Any,
    *,
    choices: dict[int, str] | None = None,
    destinations: dict[int, Country | None] | None = None,
    dates: dict[int, dt.date | None] | None = None,
) -> list[Line]:
    """Match every line and apply the decisions and overrides taken on the page (by number)."""
    lines = []
    for number, text in enumerate(texts, start=1):
        line = match_line(text, number, viewer)
        choice = (choices or {}).get(number, "")
        line.choice = choice
        if line.needs_decision and choice.isdigit():
            picked = next((c for c in line.candidates if str(c.person.pk) == choice), None)
            line.person = picked.person if picked else None
        line.destination = (destinations or {}).get(number)
        line.released_on = (dates or {}).get(number)
        lines.append(line)
    episodes = open_episodes([c.person.pk for line in lines for c in line.candidates])
    for line in lines:
        for candidate in line.candidates:
            candidate.episode = episodes.get(candidate.person.pk)
    seen: dict[int, Line] = {}
    for line in lines:
        if line.dropped or line.person is None:
            continue
        episode = episodes.get(line.person.pk)
        if episode is None:
            line.errors.append(str(NO_OPEN_EPISODE).format(person=line.person.name))
        else:
            if line.released_on and (
                problem := _before_arrest(line.person, episode, line.released_on)
            ):
                line.errors.append(problem)
            if line.destination is not None and line.destination.pk == episode.country_id:
                line.errors.append(
                    str(SAME_COUNTRY).format(person=line.person.name, country=episode.country.name)
                )
        if line.person.pk in seen:
            line.errors.append(str(TWICE).format(person=line.person.name))
        seen[line.person.pk] = line
    return lines


@dataclass
class DealInput:
    """What the page gives for the deal (a new one unless ``deal`` is set)."""

    title: str = ""
    slug: str = ""
    announced_on: dt.date | None = None
    completed_on: dt.date | None = None
    summary: str = ""
    consideration: str = ""
    reported_total: int | None = None
    mediators: list[tuple[str, str]] = field(default_factory=list)  # (name, description)
    destinations: list[tuple[Country, int | None, list[Country]]] = field(default_factory=list)
    deal: ReleaseDeal | None = None


class DealEntryError(Exception):
    """Nothing was written: errors of the whole entry, and of lines by number."""

    def __init__(self, errors: list[str], line_errors: dict[int, list[str]]) -> None:
        super().__init__("; ".join(errors))
        self.errors = errors
        self.line_errors = line_errors


@dataclass
class Saved:
    deal: ReleaseDeal
    releases: list[Release]
    created_deal: bool


def deal_entry_save(
    *,
    deal_input: DealInput,
    lines: list[Line],
    source: Source | None,
    quote: str,
    user: Any,
    new_source: tuple[str, str] = ("", ""),
    reason: str,
    publish: bool,
    mode: str,
    new_person_country: Country,
) -> Saved:
    """Write the deal and every line in one transaction; ``DealEntryError`` writes nothing.

    ``source``: an existing source, or None to take the one with the URL of ``new_source``
    (url, title), created if new.
    """
    visibility = Visibility.PUBLIC if publish else Visibility.DRAFT
    errors: list[str] = []
    line_errors: dict[int, list[str]] = {}
    releases: list[Release] = []
    with transaction.atomic():
        if source is None:
            url, title = new_source
            try:
                with transaction.atomic(), audit_context(user=user, reason=reason):
                    source = ev.source_get_or_create(title=title, url=url)
            except ValidationError as error:
                raise DealEntryError(messages_of(error), {}) from error
        with audit_context(user=user, reason=reason, source=source):
            deal = deal_input.deal
            created = deal is None
            if deal is None:
                deal = _deal_create(deal_input, source, quote, visibility, errors)
            else:
                deal = ReleaseDeal.objects.select_for_update().get(pk=deal.pk)
            for line in lines:
                if line.dropped or deal is None:
                    continue
                try:
                    with transaction.atomic():
                        releases.append(
                            _line_save(
                                line, deal, source, quote, visibility, mode, new_person_country
                            )
                        )
                except (ApplicationError, ValidationError) as error:
                    line_errors.setdefault(line.number, []).extend(messages_of(error))
            if errors or line_errors or deal is None:
                raise DealEntryError(errors, line_errors)
    return Saved(deal=deal, releases=releases, created_deal=created)


def _deal_create(
    data: DealInput, source: Source, quote: str, visibility: str, errors: list[str]
) -> ReleaseDeal | None:
    assert data.announced_on is not None
    try:
        with transaction.atomic():
            deal = ev.deal_create(
                title=data.title,
                slug=data.slug,
                announced_on=data.announced_on,
                completed_on=data.completed_on,
                summary=data.summary,
                consideration=data.consideration,
                reported_total=data.reported_total,
                visibility=visibility,
            )
            ev.cite(obj=deal, source=source, quote=quote)
            for name, description in data.mediators:
                party = ev.deal_party_add(
                    deal=deal, role="mediator", name=name, description=description
                )
                ev.cite(obj=party, source=source, quote=quote)
            for country, count, onward in data.destinations:
                destination = ev.deal_destination_set(
                    deal=deal, country=country, reported_count=count, onward=onward
                )
                ev.cite(obj=destination, source=source, quote=quote)
    except (ApplicationError, ValidationError) as error:
        errors.extend(messages_of(error))
        return None
    return deal


def _line_save(
    line: Line,
    deal: ReleaseDeal,
    source: Source,
    quote: str,
    visibility: str,
    mode: str,
    new_person_country: Country,
) -> Release:
    assert line.destination is not None
    assert line.released_on is not None
    if line.creates_person:
        person = person_from_name(line.text, visibility=visibility)
        ev.cite(obj=person, source=source, quote=quote, field_name="name")
        episode = ev.episode_open(
            person=person, country=new_person_country, arrested_on=None, visibility=visibility
        )
        ev.cite(obj=episode, source=source, quote=quote)
    else:
        assert line.person is not None
        person = line.person
        found = ev.open_episode(person)
        if found is None:
            raise ApplicationError(str(NO_OPEN_EPISODE).format(person=person.name))
        episode = found
    problem = _before_arrest(person, episode, line.released_on)
    if problem:
        raise ApplicationError(problem)
    country = Country.objects.get(pk=episode.country_id)
    if country.pk == line.destination.pk:
        raise ApplicationError(str(SAME_COUNTRY).format(person=person.name, country=country.name))
    release = ev.release_record(
        episode=episode,
        released_on=line.released_on,
        kind=Release.Kind.DEAL,
        deal=deal,
        visibility=visibility,
    )
    ev.cite(obj=release, source=source, quote=quote)
    leg = ev.transfer_add(
        person=person,
        release=release,
        from_country=country,
        to_country=line.destination,
        transferred_on=line.released_on,
        mode=mode,
        visibility=visibility,
    )
    ev.cite(obj=leg, source=source, quote=quote)
    return release
