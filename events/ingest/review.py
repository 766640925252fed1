"""Deciding proposals: accept (the fact is created, or the existing one cited, or a conflicting
value recorded as a claim beside it; always citing the article, with the reviewer's reason in the
audit), edit then accept, reject (never proposed again). Accepting twice creates nothing twice.

Facts created from proposals are drafts: publishing them is the review step of the staff pages.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from events import services as ev
from events.models import (
    CourtDecision,
    Death,
    DetentionEpisode,
    Release,
    Source,
    Transfer,
)
from prisoners.audit import audit_context
from prisoners.errors import ApplicationError, messages_of
from prisoners.models import Country, DatePrecision, Person, Visibility
from prisoners.services import person_from_name

from .models import Article, Proposal

DRAFT = Visibility.DRAFT
DEFAULT_COUNTRY = "BY"
NEAR_DAYS = 3  # a release reported a few days off is the same release
_YEARS = re.compile(r"(\d+)\s*(?:-|\s)?\s*(?:years?|year-|лет|года|год|гадоў|гады|год)", re.I)


class ReviewError(Exception):
    """The proposal cannot be accepted as it stands; the message says what to do."""


@dataclass
class Outcome:
    accepted: list[Proposal] = field(default_factory=list)
    rejected: list[Proposal] = field(default_factory=list)
    errors: dict[int, str] = field(default_factory=dict)


def article_source(article: Article) -> Source:
    """The article as a source (a draft, like every new record), created once."""
    if article.source_id:
        return Source.objects.get(pk=article.source_id)
    source = ev.source_get_or_create(
        title=(article.title or article.canonical_url or article.filename or _("Imported article"))[
            :500
        ],
        url=article.canonical_url or article.url,
        publisher=article.publisher,
        published_on=article.published_on,
        language=article.language,
        text=article.text,
        visibility=DRAFT,
    )
    Article.objects.filter(pk=article.pk).update(source=source)
    article.source = source
    return source


def audit_reason(proposal: Proposal, reason: str) -> str:
    article = proposal.article
    where = article.canonical_url or article.url or article.filename
    title = article.title or where
    return (
        f"{reason.strip()} [accepted proposal {proposal.pk} ({proposal.kind}) "
        f"from the article \u201c{title}\u201d{f' {where}' if where and where != title else ''}]"
    )


def _country(code: str = DEFAULT_COUNTRY) -> Country:
    return Country.objects.get(code=code)


def _person(p: Proposal, source: Source, quote: str) -> tuple[Person, bool]:
    if p.person_id:
        return Person.objects.get(pk=p.person_id), False
    if p.candidates:
        raise ReviewError(_("The name matches several persons: choose which one is meant."))
    if not p.person_name.strip():
        raise ReviewError(_("Choose the person this proposal is about."))
    person = person_from_name(p.person_name)
    ev.cite(obj=person, source=source, quote=quote, field_name="name")
    p.person = person
    return person, True


def _need_date(p: Proposal) -> dt.date:
    if p.date is None:
        raise ReviewError(_("The article gives no date for this: enter the date."))
    return p.date


def _precision(p: Proposal) -> str:
    return p.date_precision if p.date else DatePrecision.UNKNOWN


def _claim_if_differs(
    obj: models.Model, field_name: str, value: Any, source: Source, quote: str
) -> None:
    current = getattr(obj, field_name)
    if value is not None and current is not None and current != value:
        stored = value.isoformat() if isinstance(value, dt.date) else value
        ev.claim_add(obj=obj, field_name=field_name, value=stored, source=source, quote=quote)


def _accept_release(p: Proposal, source: Source, quote: str) -> models.Model:
    if p.person_id is None and not p.person_name and p.count:
        return _accept_group_release(p, source, quote)
    person, created = _person(p, source, quote)
    existing = Release.objects.filter(episode__person=person)
    if p.deal_id:
        found = existing.filter(deal_id=p.deal_id).first()
        if found is not None:
            ev.cite(obj=found, source=source, quote=quote)
            _claim_if_differs(found, "released_on", p.date, source, quote)
            return found
    if p.date is not None:
        window = dt.timedelta(days=NEAR_DAYS)
        found = (
            existing.filter(released_on__range=(p.date - window, p.date + window))
            .order_by("-released_on")
            .first()
        )
        if found is not None:
            _claim_if_differs(found, "released_on", p.date, source, quote)
            ev.cite(obj=found, source=source, quote=quote)
            return found
    released_on = _need_date(p)
    episode = ev.open_episode(person)
    if episode is None:
        if not created:
            raise ReviewError(
                _("%(name)s has no open detention to end: accept or enter the detention first.")
                % {"name": person.name}
            )
        episode = ev.episode_open(
            person=person,
            country=p.from_country or _country(),
            arrested_on=None,
            visibility=DRAFT,
        )
        ev.cite(obj=episode, source=source, quote=quote)
    kind = Release.Kind.DEAL if p.deal_id else Release.Kind.OTHER
    release = ev.release_record(
        episode=episode,
        released_on=released_on,
        released_on_precision=_precision(p),
        kind=kind,
        deal=p.deal,
        visibility=DRAFT,
    )
    ev.cite(obj=release, source=source, quote=quote)
    return release


def _need_deal(p: Proposal) -> Any:
    if p.deal is None:
        raise ReviewError(_("A count of persons belongs to a release deal: choose the deal."))
    return p.deal


def _accept_group_release(p: Proposal, source: Source, quote: str) -> models.Model:
    deal = _need_deal(p)
    if deal.reported_total is None:
        deal.reported_total = p.count
        ev.save_checked(deal)
    else:
        _claim_if_differs(deal, "reported_total", p.count, source, quote)
    ev.cite(obj=deal, source=source, quote=quote, field_name="reported_total")
    return deal


def _accept_transfer(p: Proposal, source: Source, quote: str) -> models.Model:
    if p.to_country is None:
        raise ReviewError(_("Choose the country the person was taken to."))
    if p.person_id is None and not p.person_name and p.count:
        deal = _need_deal(p)
        destination = deal.destinations.filter(country=p.to_country).first()
        if destination is None or destination.reported_count is None:
            destination = ev.deal_destination_set(
                deal=deal, country=p.to_country, reported_count=p.count
            )
        else:
            _claim_if_differs(destination, "reported_count", p.count, source, quote)
        ev.cite(obj=destination, source=source, quote=quote)
        return destination
    person, _created = _person(p, source, quote)
    releases = Release.objects.filter(episode__person=person).select_related("episode")
    release = None
    if p.date is not None:
        release = releases.filter(released_on__lte=p.date).order_by("-released_on").first()
    release = release or releases.order_by("-released_on").first()
    leg = Transfer.objects.filter(person=person, release=release, to_country=p.to_country).first()
    if leg is not None:
        ev.cite(obj=leg, source=source, quote=quote)
        return leg
    origin = p.from_country
    if origin is None:
        last = (
            Transfer.objects.filter(person=person, release=release)
            .order_by("-sequence")
            .select_related("to_country")
            .first()
        )
        if last is not None:
            origin = last.to_country
        elif release is not None:
            origin = Country.objects.get(pk=release.episode.country_id)
        else:
            origin = _country()
    if origin.pk == p.to_country.pk:
        raise ReviewError(_("The transfer starts and ends in the same country: correct it."))
    leg = ev.transfer_add(
        person=person,
        release=release,
        from_country=origin,
        to_country=p.to_country,
        transferred_on=p.date,
        transferred_on_precision=_precision(p) if p.date else DatePrecision.UNKNOWN,
        visibility=DRAFT,
    )
    ev.cite(obj=leg, source=source, quote=quote)
    return leg


def _accept_detention(p: Proposal, source: Source, quote: str) -> models.Model:
    person, _created = _person(p, source, quote)
    episode = ev.open_episode(person) or _episode_for(person, p.date)
    if episode is not None:
        if episode.arrested_on is None and p.date is not None:
            episode.arrested_on = p.date
            episode.arrested_on_precision = _precision(p)
            ev.save_checked(episode)
        elif p.date is not None and episode.arrested_on != p.date:
            _claim_if_differs(episode, "arrested_on", p.date, source, quote)
        ev.cite(obj=episode, source=source, quote=quote)
        return episode
    episode = ev.episode_open(
        person=person,
        country=p.from_country or _country(),
        arrested_on=p.date,
        arrested_on_precision=_precision(p),
        visibility=DRAFT,
    )
    ev.cite(obj=episode, source=source, quote=quote)
    return episode


def _episode_for(person: Person, day: dt.date | None) -> DetentionEpisode | None:
    """The ended episode a detention report is about: the latest when the report gives no
    date, else the one that began that day (or month, or year) or was running then."""
    episodes = DetentionEpisode.objects.select_for_update().filter(person=person)
    if day is None:
        return episodes.order_by("-arrested_on", "-pk").first()
    for episode in episodes.order_by("-arrested_on", "-pk"):
        start, end = episode.arrested_on, episode.ended_on
        if start is None or start == day:
            return episode
        if start <= day and (end is None or day <= end):
            return episode
        if start.year == day.year and (start.month == day.month or day.day == 1):
            return episode
    return None


def term_years(term: str) -> int | None:
    match = _YEARS.search(term or "")
    return int(match.group(1)) if match else None


def _accept_sentence(p: Proposal, source: Source, quote: str) -> models.Model:
    person, _created = _person(p, source, quote)
    episode = ev.open_episode(person) or (
        DetentionEpisode.objects.filter(person=person).order_by("-arrested_on", "-pk").first()
    )
    if episode is None:
        raise ReviewError(
            _("%(name)s has no detention to attach a sentence to: accept or enter it first.")
            % {"name": person.name}
        )
    sentences = CourtDecision.objects.filter(episode=episode, kind=CourtDecision.Kind.SENTENCE)
    found = sentences.filter(decided_on=p.date).first() if p.date else sentences.first()
    if found is not None:
        ev.cite(obj=found, source=source, quote=quote)
        return found
    decision = ev.court_decision_add(
        episode=episode,
        kind=CourtDecision.Kind.SENTENCE,
        decided_on=p.date,
        decided_on_precision=_precision(p),
        term_years=term_years(p.term),
        term_description=p.term[:200],
        visibility=DRAFT,
    )
    ev.cite(obj=decision, source=source, quote=quote)
    return decision


def _accept_death(p: Proposal, source: Source, quote: str) -> models.Model:
    person, _created = _person(p, source, quote)
    found = Death.objects.filter(person=person).first()
    if found is not None:
        _claim_if_differs(found, "died_on", p.date, source, quote)
        ev.cite(obj=found, source=source, quote=quote)
        return found
    death = ev.death_record(
        person=person,
        died_on=_need_date(p),
        died_on_precision=_precision(p),
        episode=ev.open_episode(person),
        visibility=DRAFT,
    )
    ev.cite(obj=death, source=source, quote=quote)
    return death


ACCEPT: dict[str, Callable[[Proposal, Source, str], models.Model]] = {
    Proposal.Kind.RELEASE: _accept_release,
    Proposal.Kind.TRANSFER: _accept_transfer,
    Proposal.Kind.DETENTION: _accept_detention,
    Proposal.Kind.SENTENCE: _accept_sentence,
    Proposal.Kind.DEATH: _accept_death,
}

EDITABLE = (
    "person",
    "person_name",
    "date",
    "date_precision",
    "from_country",
    "to_country",
    "count",
    "term",
    "deal",
)


def proposal_accept(
    *, proposal_id: int, user: Any, reason: str, changes: dict[str, Any] | None = None
) -> Proposal:
    """Accept one proposal (with ``changes`` to its fields first). ReviewError says why not."""
    if not reason or not reason.strip():
        raise ReviewError(_("Give a reason: it is kept in the history."))
    try:
        with transaction.atomic():
            p = (
                Proposal.objects.select_for_update(of=("self",))
                .select_related("article", "deal", "from_country", "to_country", "person")
                .get(pk=proposal_id)
            )
            if p.status == Proposal.Status.ACCEPTED:
                return p
            if p.status == Proposal.Status.REJECTED:
                raise ReviewError(_("This proposal was rejected; it cannot be accepted."))
            full_reason = audit_reason(p, reason)
            with audit_context(user=user, reason=full_reason):
                if changes:
                    for name in EDITABLE:
                        if name in changes:
                            setattr(p, name, changes[name])
                    if "person" in changes and changes["person"] is not None:
                        p.candidates = []
                    if "date" in changes and changes["date"] is None:
                        p.date_precision = DatePrecision.UNKNOWN
                source = article_source(p.article)
            with audit_context(user=user, reason=full_reason, source=source, proposal=p.pk):
                result = ACCEPT[p.kind](p, source, p.snippet[:2000])
                p.status = Proposal.Status.ACCEPTED
                p.decided_by = user if getattr(user, "pk", None) else None
                p.decided_at = timezone.now()
                p.decision_reason = reason.strip()
                p.result_type = ContentType.objects.get_for_model(result)
                p.result_id = result.pk
                p.save()
            return p
    except (ApplicationError, ValidationError) as error:
        raise ReviewError("; ".join(messages_of(error))) from error


def proposal_reject(*, proposal_id: int, user: Any, reason: str) -> Proposal:
    if not reason or not reason.strip():
        raise ReviewError(_("Give a reason: it is kept in the history."))
    with transaction.atomic():
        p = Proposal.objects.select_for_update().select_related("article").get(pk=proposal_id)
        if p.status == Proposal.Status.REJECTED:
            return p
        if p.status == Proposal.Status.ACCEPTED:
            raise ReviewError(_("This proposal was accepted already."))
        with audit_context(user=user, reason=f"{reason.strip()} [rejected proposal {p.pk}]"):
            p.status = Proposal.Status.REJECTED
            p.decided_by = user if getattr(user, "pk", None) else None
            p.decided_at = timezone.now()
            p.decision_reason = reason.strip()
            p.save()
    return p


def proposals_decide(*, ids: list[int], accept: bool, user: Any, reason: str) -> Outcome:
    """Accept or reject several proposals; each is decided on its own (one failing does not
    undo the others) and the reasons why some could not be accepted are returned."""
    outcome = Outcome()
    for pk in ids:
        try:
            if accept:
                outcome.accepted.append(proposal_accept(proposal_id=pk, user=user, reason=reason))
            else:
                outcome.rejected.append(proposal_reject(proposal_id=pk, user=user, reason=reason))
        except ReviewError as error:
            outcome.errors[pk] = str(error)
        except Proposal.DoesNotExist:
            outcome.errors[pk] = _("No such proposal.")
    return outcome
