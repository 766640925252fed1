"""What the import keeps: feeds, runs and their items, articles, proposals.

Feeds and proposals are curated (staff add feeds and decide proposals): their history is
recorded. Runs, items and articles are the pipeline's own log; they are never edited by hand.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from events.models import ReleaseDeal, Source
from prisoners.audit import tracked
from prisoners.models import Country, DatePrecision, Person, TimeStampedModel, choice_check


@tracked()
class Feed(TimeStampedModel):
    """An RSS or Atom feed polled every ``interval_minutes`` by celery-beat."""

    title = models.CharField(_("title"), max_length=200)
    url = models.URLField(_("feed URL"), max_length=1000, unique=True)
    interval_minutes = models.PositiveIntegerField(_("interval in minutes"), default=60)
    active = models.BooleanField(_("active"), default=True)
    etag = models.CharField(max_length=300, blank=True, editable=False)
    last_modified = models.CharField(max_length=100, blank=True, editable=False)
    last_polled_at = models.DateTimeField(_("last polled"), null=True, blank=True, editable=False)
    last_error = models.TextField(_("last error"), blank=True, editable=False)
    periodic_task = models.OneToOneField(
        "django_celery_beat.PeriodicTask",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        editable=False,
        related_name="+",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["title"]
        verbose_name = _("feed")
        verbose_name_plural = _("feeds")
        constraints = [
            models.CheckConstraint(
                condition=Q(interval_minutes__gte=5), name="ingest_feed_interval_min"
            ),
        ]

    def __str__(self) -> str:
        return self.title


class RunKind(models.TextChoices):
    FEED = "feed", _("Feed")
    URL = "url", _("Web address")
    UPLOAD = "upload", _("Uploaded files")
    PASTE = "paste", _("Pasted text")


class RunStatus(models.TextChoices):
    RUNNING = "running", _("Running")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed")


class ImportRun(models.Model):
    """One import: a feed poll, a submitted URL, uploaded files or pasted text."""

    Kind = RunKind
    Status = RunStatus

    kind = models.CharField(_("kind"), max_length=8, choices=Kind.choices)
    feed = models.ForeignKey(
        Feed, on_delete=models.SET_NULL, null=True, blank=True, related_name="runs"
    )
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    status = models.CharField(
        _("status"), max_length=8, choices=Status.choices, default=Status.RUNNING
    )
    total = models.PositiveIntegerField(_("articles"), default=0)
    processed = models.PositiveIntegerField(_("processed"), default=0)
    failed = models.PositiveIntegerField(_("failed"), default=0)
    error = models.TextField(_("error"), blank=True)
    note = models.CharField(_("note"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("started"), auto_now_add=True, db_index=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("import run")
        verbose_name_plural = _("import runs")
        constraints = [
            choice_check("ingest_importrun", "kind", RunKind),
            choice_check("ingest_importrun", "status", RunStatus),
            models.CheckConstraint(
                condition=Q(processed__lte=models.F("total")), name="ingest_run_processed_le_total"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.pk}"

    @property
    def percent(self) -> int:
        return round(100 * self.processed / self.total) if self.total else 100

    @property
    def finished(self) -> bool:
        return self.status != RunStatus.RUNNING


class ItemStatus(models.TextChoices):
    PENDING = "pending", _("Waiting")
    DONE = "done", _("Analysed")
    DUPLICATE = "duplicate", _("Already imported")
    FAILED = "failed", _("Failed")


class ImportItem(models.Model):
    """One article of a run: a URL to fetch, or the content of a file or of pasted text."""

    Status = ItemStatus

    run = models.ForeignKey(ImportRun, on_delete=models.CASCADE, related_name="items")
    position = models.PositiveIntegerField(default=0)
    url = models.URLField(_("URL"), max_length=1000, blank=True)
    filename = models.CharField(_("file"), max_length=255, blank=True)
    raw = models.TextField(blank=True, help_text="Uploaded or pasted content, kept until analysed.")
    is_html = models.BooleanField(null=True)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.PENDING
    )
    error = models.TextField(_("error"), blank=True)
    article = models.ForeignKey(
        "Article", on_delete=models.SET_NULL, null=True, blank=True, related_name="items"
    )
    proposals = models.PositiveIntegerField(_("proposals"), default=0)
    attempts = models.PositiveSmallIntegerField(default=0)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["run", "position", "id"]
        constraints = [
            choice_check("ingest_importitem", "status", ItemStatus),
            models.UniqueConstraint(
                fields=["run", "url"], condition=~Q(url=""), name="ingest_item_unique_url"
            ),
        ]

    def __str__(self) -> str:
        return self.url or self.filename or f"#{self.pk}"


class Article(models.Model):
    """An article read once: exact duplicates (canonical URL, content hash) are not stored
    again; near-duplicates (the same wire story elsewhere) point at the first of their group."""

    url = models.URLField(_("URL"), max_length=1000, blank=True)
    canonical_url = models.CharField(_("canonical URL"), max_length=1000, blank=True)
    content_hash = models.CharField(_("content hash"), max_length=64)
    simhash = models.BigIntegerField(_("similarity hash"), default=0)
    band0 = models.IntegerField(default=0)
    band1 = models.IntegerField(default=0)
    band2 = models.IntegerField(default=0)
    band3 = models.IntegerField(default=0)
    near_duplicate_of = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="near_duplicates"
    )
    title = models.CharField(_("title"), max_length=500, blank=True)
    author = models.CharField(_("author"), max_length=300, blank=True)
    publisher = models.CharField(_("publisher"), max_length=200, blank=True)
    published_on = models.DateField(_("published on"), null=True, blank=True)
    language = models.CharField(_("language"), max_length=8, blank=True)
    text = models.TextField(_("text"))
    filename = models.CharField(_("file"), max_length=255, blank=True)
    feed = models.ForeignKey(
        Feed, on_delete=models.SET_NULL, null=True, blank=True, related_name="articles"
    )
    source = models.ForeignKey(
        Source, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    analysis = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(_("imported"), auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("article")
        verbose_name_plural = _("articles")
        constraints = [
            models.UniqueConstraint(fields=["content_hash"], name="ingest_article_unique_hash"),
            models.UniqueConstraint(
                fields=["canonical_url"],
                condition=~Q(canonical_url=""),
                name="ingest_article_unique_canonical",
            ),
        ]
        indexes = [
            models.Index(fields=["band0"], name="ingest_article_band0"),
            models.Index(fields=["band1"], name="ingest_article_band1"),
            models.Index(fields=["band2"], name="ingest_article_band2"),
            models.Index(fields=["band3"], name="ingest_article_band3"),
        ]

    def __str__(self) -> str:
        return self.title or self.canonical_url or self.filename or f"#{self.pk}"

    @property
    def group_root(self) -> Article:
        return self.near_duplicate_of or self


class ProposalKind(models.TextChoices):
    RELEASE = "release", _("Release")
    TRANSFER = "transfer", _("Transfer")
    DETENTION = "detention", _("Detention")
    SENTENCE = "sentence", _("Sentence")
    DEATH = "death", _("Death in custody")


class ProposalStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    ACCEPTED = "accepted", _("Accepted")
    REJECTED = "rejected", _("Rejected")


@tracked()
class Proposal(models.Model):
    """A fact an article states, for a person to accept (creating or updating the fact, citing
    the article) or reject (the same proposal is never made again)."""

    Kind = ProposalKind
    Status = ProposalStatus

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="proposals")
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    person = models.ForeignKey(
        Person, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    person_name = models.CharField(_("name in the article"), max_length=200, blank=True)
    candidates = ArrayField(models.BigIntegerField(), default=list, blank=True)
    date = models.DateField(_("date"), null=True, blank=True)
    date_precision = models.CharField(
        _("date precision"),
        max_length=8,
        choices=DatePrecision.choices,
        default=DatePrecision.UNKNOWN,
    )
    from_country = models.ForeignKey(
        Country, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    to_country = models.ForeignKey(
        Country, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    count = models.PositiveIntegerField(_("number of persons"), null=True, blank=True)
    term = models.CharField(_("term"), max_length=200, blank=True)
    confidence = models.FloatField(_("confidence"))
    snippet = models.TextField(_("quote"))
    in_deal = models.BooleanField(_("part of a deal"), default=False)
    deal = models.ForeignKey(
        ReleaseDeal, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    fingerprint = models.CharField(max_length=64, db_index=True)
    position = models.PositiveIntegerField(default=0)
    status = models.CharField(
        _("status"), max_length=8, choices=Status.choices, default=Status.PENDING
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)
    decision_reason = models.TextField(_("reason"), blank=True)
    result_type = models.ForeignKey(
        ContentType, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    result_id = models.BigIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(_("proposed"), auto_now_add=True)

    class Meta:
        ordering = ["article", "position", "id"]
        verbose_name = _("proposal")
        verbose_name_plural = _("proposals")
        constraints = [
            choice_check("ingest_proposal", "kind", ProposalKind),
            choice_check("ingest_proposal", "status", ProposalStatus),
            models.UniqueConstraint(
                fields=["article", "fingerprint"], name="ingest_proposal_unique_per_article"
            ),
            models.CheckConstraint(
                condition=Q(confidence__gte=0) & Q(confidence__lte=1),
                name="ingest_proposal_confidence_range",
            ),
        ]
        indexes = [
            models.Index(
                fields=["status", "-created_at"],
                name="ingest_proposal_queue",
            ),
        ]

    def __str__(self) -> str:
        who = self.person.name if self.person_id and self.person else self.person_name
        if not who and self.count:
            who = str(self.count)
        return f"{self.get_kind_display()}: {who or '?'}"

    @property
    def result(self) -> Any:
        if self.result_type_id is None or self.result_id is None:
            return None
        model = ContentType.objects.get_for_id(self.result_type_id).model_class()
        return model._default_manager.filter(pk=self.result_id).first() if model else None
