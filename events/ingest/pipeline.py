"""The import pipeline's steps, called by the Celery tasks in ``tasks.py``.

Runs are created by staff (a URL, files, pasted text) or by celery-beat (a feed). Each item of a
run is processed by its own task: fetch (URLs only), extract, de-duplicate, analyse, store the
proposals. Every step is idempotent: an item is processed once (its row is locked and its status
checked), an article once (unique canonical URL and content hash), a proposal once per article
(unique fingerprint); a proposal that was rejected is never made again.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import F, Q
from django.utils import timezone
from django_celery_beat.models import IntervalSchedule, PeriodicTask

from events.articles.analyze import analyze
from events.articles.extract import Article as ParsedArticle
from events.articles.extract import ArticleError, from_text, parse_document
from events.models import ReleaseDeal
from events.services import content_hash
from prisoners.audit import audit_context
from prisoners.models import Country, DatePrecision

from . import dedup
from .feeds import FeedError, entries
from .fetch import FetchError, fetch
from .models import Article, Feed, ImportItem, ImportRun, ItemStatus, Proposal, RunStatus

log = logging.getLogger(__name__)

POLL_TASK = "ingest.poll_feed"
DEAL_WINDOW_DAYS = 3
MAX_UPLOAD_FILES = 50


# --- Starting runs ----------------------------------------------------------------------------


def _enqueue(item_ids: list[int]) -> None:
    from .tasks import process_item

    def send() -> None:
        for item_id in item_ids:
            process_item.delay(item_id)

    transaction.on_commit(send)


def _reason(run: ImportRun) -> str:
    return f"Article import, run {run.pk} ({run.get_kind_display()})"


@transaction.atomic
def run_for_url(*, url: str, user: Any) -> ImportRun:
    url = url.strip()
    run = ImportRun.objects.create(kind=ImportRun.Kind.URL, started_by=user, total=1)
    item = ImportItem.objects.create(run=run, url=url, position=0)
    _enqueue([item.pk])
    return run


@transaction.atomic
def run_for_files(*, files: list[tuple[str, bytes]], user: Any) -> ImportRun:
    """Uploaded files (name, content); each is an item, read as HTML or text."""
    run = ImportRun.objects.create(kind=ImportRun.Kind.UPLOAD, started_by=user, total=len(files))
    items = []
    for position, (name, content) in enumerate(files):
        html = name.lower().endswith((".html", ".htm")) or None
        try:
            raw = content.decode("utf-8")
            error = ""
        except UnicodeDecodeError:
            raw, error = "", "the file is not UTF-8 text"
        if "\x00" in raw:
            raw, error = "", "the file is binary, not text or HTML"
        elif not raw.strip() and not error:
            error = "the file is empty"
        items.append(
            ImportItem(run=run, position=position, filename=name[:255], raw=raw, is_html=html)
        )
        if error:
            items[-1].status = ItemStatus.FAILED
            items[-1].error = error
            items[-1].finished_at = timezone.now()
    ImportItem.objects.bulk_create(items)
    failed = sum(1 for item in items if item.status == ItemStatus.FAILED)
    if failed:
        ImportRun.objects.filter(pk=run.pk).update(processed=failed, failed=failed)
        _finish_run_if_done(run.pk)
    _enqueue([item.pk for item in items if item.status == ItemStatus.PENDING])
    run.refresh_from_db()
    return run


@transaction.atomic
def run_for_text(*, text: str, user: Any, title: str = "", url: str = "") -> ImportRun:
    """Pasted text (optionally with the header block of ``import_articles``)."""
    header = []
    if title:
        header.append(f"Title: {title.strip()}")
    if url:
        header.append(f"URL: {url.strip()}")
    raw = ("\n".join(header) + "\n\n" + text) if header else text
    run = ImportRun.objects.create(kind=ImportRun.Kind.PASTE, started_by=user, total=1)
    item = ImportItem.objects.create(run=run, position=0, raw=raw, is_html=False, filename="")
    _enqueue([item.pk])
    return run


# --- Feeds ------------------------------------------------------------------------------------


def feed_schedule(feed: Feed) -> None:
    """Create or update the celery-beat entry that polls ``feed`` (disabled when inactive)."""
    every, _ = IntervalSchedule.objects.get_or_create(
        every=feed.interval_minutes, period=IntervalSchedule.MINUTES
    )
    name = f"Poll feed {feed.pk}"
    task = feed.periodic_task
    if task is None:
        task = PeriodicTask(name=name, task=POLL_TASK)
    task.interval = every
    task.args = f"[{feed.pk}]"
    task.enabled = feed.active
    task.name = name
    task.save()
    if feed.periodic_task_id != task.pk:
        Feed.objects.filter(pk=feed.pk).update(periodic_task=task)
        feed.periodic_task = task


@transaction.atomic
def feed_save(*, feed: Feed, user: Any, reason: str) -> Feed:
    with audit_context(user=user, reason=reason):
        if feed.created_by_id is None and getattr(user, "pk", None):
            feed.created_by = user
        feed.full_clean(exclude=["periodic_task", "created_by"])
        feed.save()
        feed_schedule(feed)
    return feed


@transaction.atomic
def feed_delete(*, feed: Feed, user: Any, reason: str) -> None:
    with audit_context(user=user, reason=reason):
        task = feed.periodic_task
        feed.delete()
        if task is not None:
            task.delete()


def _feed_lock_key(feed_id: int) -> int:
    return int.from_bytes(hashlib.blake2b(f"feed:{feed_id}".encode(), digest_size=7).digest())


@contextmanager
def feed_lock(feed_id: int) -> Iterator[bool]:
    """A PostgreSQL advisory lock per feed: True when this process holds it. It is released at
    the end, or by the database when the worker's connection dies."""
    key = _feed_lock_key(feed_id)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s)", [key])
        held = bool(cursor.fetchone()[0])
    try:
        yield held
    finally:
        if held:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s)", [key])


BUSY_NOTE = "another poll of this feed was running"


@transaction.atomic
def run_for_feed(*, feed: Feed, user: Any) -> ImportRun:
    """A run for a poll asked for by staff, shown at once; the task fills it."""
    from .tasks import poll_feed as poll_task

    run = ImportRun.objects.create(kind=ImportRun.Kind.FEED, feed=feed, started_by=user)
    transaction.on_commit(lambda: poll_task.delay(feed.pk, run.pk))
    return run


def poll_feed(feed_id: int, run_id: int | None = None) -> ImportRun | None:
    """Fetch the feed (conditional GET) and start a run of its new entries (in ``run_id`` when
    staff asked for the poll). None when another worker is polling the same feed right now
    (the given run then says so), or when the feed is gone."""
    given = (
        ImportRun.objects.filter(pk=run_id, status=RunStatus.RUNNING).first()
        if run_id is not None
        else None
    )
    if run_id is not None and given is None:
        return None  # the run was finished already: a repeated delivery of the task
    with feed_lock(feed_id) as held:
        if not held:
            log.info("feed %s is being polled by another worker", feed_id)
            if given is not None:
                ImportRun.objects.filter(pk=given.pk).update(
                    status=RunStatus.DONE, note=BUSY_NOTE, finished_at=timezone.now()
                )
            return None
        feed = Feed.objects.filter(pk=feed_id).first()
        if feed is None:
            if given is not None:
                _fail_run(given, None, "the feed was deleted")
            return None
        run = given or ImportRun.objects.create(kind=ImportRun.Kind.FEED, feed=feed)
        try:
            fetched = fetch(feed.url, feed=True, etag=feed.etag, last_modified=feed.last_modified)
            if fetched.not_modified:
                found = []
            else:
                found = entries(fetched.content, limit=int(settings.TRACKER_FEED_MAX_ENTRIES))
        except (FetchError, FeedError) as exc:
            _fail_run(run, feed, str(exc))
            return run
        with transaction.atomic():
            canonical = {dedup.canonical_url(e.url): e for e in found}
            known = set(
                Article.objects.filter(canonical_url__in=[c for c in canonical if c]).values_list(
                    "canonical_url", flat=True
                )
            )
            new = [e for c, e in canonical.items() if c not in known]
            items = ImportItem.objects.bulk_create(
                [ImportItem(run=run, position=i, url=e.url[:1000]) for i, e in enumerate(new)]
            )
            note = "not modified since the last poll" if fetched.not_modified else ""
            if found and not new:
                note = "no new entries"
            ImportRun.objects.filter(pk=run.pk).update(total=len(items), note=note)
            update: dict[str, Any] = {"last_polled_at": timezone.now(), "last_error": ""}
            if not fetched.not_modified:
                update["etag"] = fetched.etag[:300]
                update["last_modified"] = fetched.last_modified[:100]
            Feed.objects.filter(pk=feed.pk).update(**update)
            _finish_run_if_done(run.pk)
            _enqueue([item.pk for item in items])
        run.refresh_from_db()
        return run


def _fail_run(run: ImportRun, feed: Feed | None, error: str) -> None:
    with transaction.atomic():
        ImportRun.objects.filter(pk=run.pk).update(
            status=RunStatus.FAILED, error=error, finished_at=timezone.now()
        )
        if feed is not None:
            Feed.objects.filter(pk=feed.pk).update(last_polled_at=timezone.now(), last_error=error)
    run.refresh_from_db()


def _finish_run_if_done(run_id: int) -> None:
    ImportRun.objects.filter(pk=run_id, status=RunStatus.RUNNING, processed__gte=F("total")).update(
        status=RunStatus.DONE, finished_at=timezone.now()
    )


# --- Processing one item ----------------------------------------------------------------------


def _read(item: ImportItem) -> tuple[ParsedArticle, str]:
    """The parsed article of the item and the address it came from."""
    if item.url:
        fetched = fetch(item.url)
        html = fetched.content_type != "text/plain"
        parsed = parse_document(fetched.content, item.url, html=html, charset=fetched.charset)
        return parsed, fetched.url
    if item.is_html:
        return parse_document(item.raw, item.filename, html=True), ""
    if item.is_html is None:
        return parse_document(item.raw, item.filename), ""
    return from_text(item.raw, item.filename), ""


def process_item(item_id: int) -> str:
    """Process one item; returns its final status. Calling it again changes nothing."""
    item = ImportItem.objects.select_related("run").filter(pk=item_id).first()
    if item is None or item.status != ItemStatus.PENDING:
        return item.status if item else "missing"
    if item.url:
        known = Article.objects.filter(canonical_url=dedup.canonical_url(item.url)).first()
        if known is not None:
            return _finish(item, ItemStatus.DUPLICATE, article=known)
    try:
        parsed, fetched_url = _read(item)
    except (FetchError, ArticleError) as exc:
        return _finish(item, ItemStatus.FAILED, error=str(exc))
    return _store(item, parsed, fetched_url)


def fail_item(item_id: int, error: str) -> str:
    item = ImportItem.objects.select_related("run").filter(pk=item_id).first()
    if item is None or item.status != ItemStatus.PENDING:
        return item.status if item else "missing"
    return _finish(item, ItemStatus.FAILED, error=error)


def _finish(
    item: ImportItem,
    status: str,
    *,
    error: str = "",
    article: Article | None = None,
    proposals: int = 0,
    locked: bool = False,
) -> str:
    """Record the item's outcome and count it in its run (once: the row is locked and its
    status checked, unless the caller holds the lock already)."""
    with transaction.atomic():
        if not locked:
            current = ImportItem.objects.select_for_update().get(pk=item.pk)
            if current.status != ItemStatus.PENDING:
                return current.status
        ImportItem.objects.filter(pk=item.pk).update(
            attempts=F("attempts") + 1,
            status=status,
            error=error[:2000],
            article=article,
            proposals=proposals,
            raw="",
            finished_at=timezone.now(),
        )
        ImportRun.objects.filter(pk=item.run_id).update(
            processed=F("processed") + 1,
            failed=F("failed") + (1 if status == ItemStatus.FAILED else 0),
        )
        _finish_run_if_done(item.run_id)
    return status


def _store(item: ImportItem, parsed: ParsedArticle, fetched_url: str) -> str:
    canonical = dedup.canonical_url(parsed.url or fetched_url or item.url)
    digest = content_hash(parsed.text)
    with transaction.atomic():
        locked = ImportItem.objects.select_for_update().get(pk=item.pk)
        if locked.status != ItemStatus.PENDING:
            return locked.status
        same = Q(content_hash=digest)
        if canonical:
            same |= Q(canonical_url=canonical)
        known = Article.objects.filter(same).first()
        if known is not None:
            return _finish(item, ItemStatus.DUPLICATE, article=known, locked=True)
        result = analyze(parsed)
        sim = dedup.simhash(parsed.text)
        near = _near_duplicate(sim) if sim is not None else None
        signed = dedup.to_signed(sim) if sim is not None else 0
        b0, b1, b2, b3 = dedup.bands(sim) if sim is not None else (0, 0, 0, 0)
        try:
            with transaction.atomic():
                article = Article.objects.create(
                    url=(fetched_url or item.url or parsed.url)[:1000],
                    canonical_url=canonical,
                    content_hash=digest,
                    simhash=signed,
                    band0=b0,
                    band1=b1,
                    band2=b2,
                    band3=b3,
                    near_duplicate_of=near,
                    title=parsed.title[:500],
                    author=parsed.author[:300],
                    publisher=parsed.publisher[:200],
                    published_on=parsed.date,
                    language=(parsed.language or "")[:8],
                    text=parsed.text,
                    filename=item.filename,
                    feed=item.run.feed,
                    analysis=result,
                )
        except IntegrityError:  # the same article stored by another worker meanwhile
            known = Article.objects.filter(same).first()
            return _finish(item, ItemStatus.DUPLICATE, article=known, locked=True)
        with audit_context(reason=_reason(item.run), user=item.run.started_by):
            made = store_proposals(article, result)
        return _finish(item, ItemStatus.DONE, article=article, proposals=made, locked=True)


def _near_duplicate(sim: int) -> Article | None:
    b = dedup.bands(sim)
    candidates = (
        Article.objects.filter(Q(band0=b[0]) | Q(band1=b[1]) | Q(band2=b[2]) | Q(band3=b[3]))
        .exclude(simhash=0)
        .only("id", "simhash", "near_duplicate_of_id")
        .order_by("id")[:200]
    )
    for candidate in candidates:
        if dedup.distance(candidate.simhash, sim) <= dedup.NEAR_BITS:
            root_id = candidate.near_duplicate_of_id or candidate.pk
            return Article.objects.get(pk=root_id)
    return None


# --- Proposals --------------------------------------------------------------------------------


def parse_partial_date(value: str | None) -> tuple[dt.date | None, str]:
    if not value:
        return None, DatePrecision.UNKNOWN
    parts = value.split("-")
    try:
        if len(parts) == 1:
            return dt.date(int(parts[0]), 1, 1), DatePrecision.YEAR
        if len(parts) == 2:
            return dt.date(int(parts[0]), int(parts[1]), 1), DatePrecision.MONTH
        return dt.date.fromisoformat(value), DatePrecision.DAY
    except ValueError:
        return None, DatePrecision.UNKNOWN


def fingerprint(data: dict[str, Any]) -> str:
    """What makes two proposals the same, whichever article made them."""
    who = str(data.get("person_id") or "") or " ".join(
        (data.get("person_name") or "").lower().split()
    )
    key = "|".join(
        str(part or "")
        for part in (
            data.get("type"),
            who,
            data.get("date"),
            data.get("from_country"),
            data.get("to_country"),
            data.get("count"),
            (data.get("term") or "").lower(),
        )
    )
    return hashlib.sha256(key.encode()).hexdigest()


def store_proposals(article: Article, result: dict[str, Any]) -> int:
    """Store the article's proposals; returns how many are new. Skips what was rejected before
    and what another article of the same near-duplicate group already proposed."""
    items = result.get("proposals") or []
    if not items:
        return 0
    prints = [fingerprint(p) for p in items]
    root = article.near_duplicate_of_id or article.pk
    in_group = Q(article_id=root) | Q(article__near_duplicate_of_id=root)
    known = (
        Proposal.objects.filter(fingerprint__in=prints)
        .filter(Q(status=Proposal.Status.REJECTED) | in_group)
        .exclude(article_id=article.pk)
        .values_list("fingerprint", flat=True)
    )
    skip = set(known)  # rejected once, or proposed by the same story elsewhere
    codes = {p.get(k) for p in items for k in ("from_country", "to_country")} - {None}
    countries = {c.code: c for c in Country.objects.filter(code__in=codes)} if codes else {}
    dates = [parse_partial_date(p.get("date")) for p in items]
    deals = _deals_near([d for (d, _p), p in zip(dates, items, strict=True) if d and p.get("deal")])
    new = []
    rows = zip(items, prints, dates, strict=True)
    for position, (data, mark, (day, precision)) in enumerate(rows):
        if mark in skip or data.get("type") not in Proposal.Kind.values:
            continue
        deal = None
        if data.get("deal") and day is not None:
            deal = next((d for d in deals if _deal_day_distance(d, day) <= DEAL_WINDOW_DAYS), None)
        new.append(
            Proposal(
                article=article,
                kind=data["type"],
                person_id=data.get("person_id"),
                person_name=(data.get("person_name") or "")[:200],
                candidates=list(data.get("candidates") or []),
                date=day,
                date_precision=precision,
                from_country=countries.get(data.get("from_country") or ""),
                to_country=countries.get(data.get("to_country") or ""),
                count=data.get("count"),
                term=(data.get("term") or "")[:200],
                confidence=min(1.0, max(0.0, float(data.get("confidence") or 0))),
                snippet=data.get("snippet") or "",
                in_deal=bool(data.get("deal")),
                deal=deal,
                fingerprint=mark,
                position=position,
            )
        )
    # The same statement twice in one article (another sentence, the same fact) is one
    # proposal: the surest. (bulk_create with ignore_conflicts returns every object given,
    # inserted or not, so the count comes from this list.)
    unique: dict[str, Proposal] = {}
    for proposal in new:
        kept = unique.get(proposal.fingerprint)
        if kept is None or proposal.confidence > kept.confidence:
            unique[proposal.fingerprint] = proposal
    Proposal.objects.bulk_create(
        list(unique.values()), ignore_conflicts=True, unique_fields=["article", "fingerprint"]
    )
    return len(unique)


def _deal_day_distance(deal: ReleaseDeal, day: dt.date) -> int:
    return min(abs((d - day).days) for d in (deal.announced_on, deal.completed_on) if d)


def _deals_near(days: list[dt.date]) -> list[ReleaseDeal]:
    if not days:
        return []
    window = dt.timedelta(days=DEAL_WINDOW_DAYS)
    low, high = min(days) - window, max(days) + window
    return list(
        ReleaseDeal.objects.filter(
            Q(announced_on__range=(low, high)) | Q(completed_on__range=(low, high))
        ).order_by("announced_on", "pk")
    )
