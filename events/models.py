"""The events of a life in custody, release deals, and the sources behind every fact.

Rules that span rows live in the database: custody placements of one person cannot overlap,
detention episodes of one person cannot overlap (so a new one starts after the previous ended),
and triggers keep releases, placements, decisions and transfers in chronological order.
"""

from __future__ import annotations

import pgtrigger
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.contrib.postgres.constraints import ExclusionConstraint
from django.contrib.postgres.fields import DateRangeField, RangeOperators
from django.db import models
from django.db.models import F, Func, Q, Value
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from prisoners.audit import derived, tracked
from prisoners.models import (
    Country,
    DatePrecision,
    Organisation,
    Person,
    Place,
    TimeStampedModel,
    Visibility,
    VisibilityQuerySet,
    choice_check,
    precision_check,
    visibility_field,
)


def date_range(start: str, end: str) -> Func:
    """``daterange(start, end, '[)')``: a missing start or end is unbounded."""
    return Func(F(start), F(end), Value("[)"), function="daterange", output_field=DateRangeField())


def chronology_trigger(name: str, body: str) -> pgtrigger.Trigger:
    """A BEFORE INSERT OR UPDATE row trigger that raises a check violation when ``body`` says."""
    return pgtrigger.Trigger(
        name=name,
        when=pgtrigger.Before,
        operation=pgtrigger.Insert | pgtrigger.Update,
        declare=[("ep", "RECORD")],
        func=f"{body} RETURN NEW;",
    )


def raise_check(message: str) -> str:
    return f"RAISE EXCEPTION USING ERRCODE = 'check_violation', MESSAGE = '{message}';"


def level_sql(column: str) -> str:
    """SQL: the lowest tier that sees a record of this visibility (0 public, 1 researchers,
    2 staff), as ``prisoners.visibility.visibility_tier``."""
    return f"(CASE {column} WHEN 'public' THEN 0 WHEN 'researcher' THEN 1 ELSE 2 END)"


LOAD_EPISODE = (
    "SELECT person_id, arrested_on, ended_on INTO ep FROM events_detentionepisode "
    "WHERE id = NEW.episode_id;"
)


# --- Sources and citations ------------------------------------------------------------------


class Reliability(models.TextChoices):
    CONFIRMED = "confirmed", _("Confirmed")
    REPORTED = "reported", _("Reported")
    UNVERIFIED = "unverified", _("Unverified")


class SourceKind(models.TextChoices):
    ARTICLE = "article", _("News article")
    NGO_LIST = "ngo_list", _("NGO list")
    COURT_DOCUMENT = "court_document", _("Court document")
    TESTIMONY = "testimony", _("Testimony")
    OFFICIAL = "official", _("Official statement")
    OTHER = "other", _("Other")


@tracked()
class Source(TimeStampedModel):
    Kind = SourceKind

    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    url = models.URLField(_("URL"), max_length=1000, blank=True)
    publisher = models.CharField(_("publisher"), max_length=200, blank=True)
    title = models.CharField(_("title"), max_length=500)
    published_on = models.DateField(_("published on"), null=True, blank=True)
    language = models.CharField(_("language"), max_length=8, blank=True)
    content_hash = models.CharField(
        _("content hash"),
        max_length=64,
        blank=True,
        help_text=_("SHA-256 of the text, to recognise the same document."),
    )
    text = models.TextField(_("text"), blank=True)
    visibility = visibility_field()

    objects = VisibilityQuerySet.as_manager()

    class Meta:
        ordering = ["-published_on", "-id"]
        verbose_name = _("source")
        verbose_name_plural = _("sources")
        indexes = [models.Index(fields=["-published_on", "-id"], name="events_source_recent_idx")]
        constraints = [
            choice_check("events_source", "kind", SourceKind),
            choice_check("events_source", "visibility", Visibility),
            models.UniqueConstraint(
                fields=["url"], condition=~Q(url=""), name="events_source_unique_url"
            ),
            models.UniqueConstraint(
                fields=["content_hash"],
                condition=~Q(content_hash=""),
                name="events_source_unique_hash",
            ),
            models.CheckConstraint(condition=~Q(title=""), name="events_source_title_not_empty"),
        ]

    def __str__(self) -> str:
        return self.title


class FactQuerySet(VisibilityQuerySet):
    def for_object(self, obj: models.Model) -> FactQuerySet:
        return self.filter(content_type=ContentType.objects.get_for_model(obj), object_id=obj.pk)


@tracked()
class Citation(TimeStampedModel):
    """A source supporting a fact: a whole record, or one field of it (``field_name``)."""

    source = models.ForeignKey(Source, on_delete=models.PROTECT, related_name="citations")
    content_type = models.ForeignKey(ContentType, on_delete=models.PROTECT, related_name="+")
    object_id = models.BigIntegerField()
    target = GenericForeignKey("content_type", "object_id")
    field_name = models.CharField(
        _("field"), max_length=64, blank=True, help_text=_("Empty when the whole fact is cited.")
    )
    quote = models.TextField(_("quote"), blank=True)
    reliability = models.CharField(
        _("reliability"), max_length=12, choices=Reliability.choices, default=Reliability.REPORTED
    )
    visibility = models.CharField(
        _("visibility"),
        max_length=12,
        choices=Visibility.choices,
        default=Visibility.PUBLIC,
        help_text=_("A citation is shown with its fact; restrict it to protect a source."),
    )

    objects = FactQuerySet.as_manager()

    class Meta:
        ordering = ["content_type", "object_id", "id"]
        verbose_name = _("citation")
        verbose_name_plural = _("citations")
        indexes = [
            models.Index(fields=["content_type", "object_id"], name="events_citation_target_idx")
        ]
        constraints = [
            choice_check("events_citation", "reliability", Reliability),
            choice_check("events_citation", "visibility", Visibility),
            models.UniqueConstraint(
                fields=["source", "content_type", "object_id", "field_name"],
                name="events_citation_unique",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.source} → {self.content_type.model} {self.object_id}"


@tracked()
class Claim(TimeStampedModel):
    """What one source says a field's value is. Conflicting claims stay side by side;
    at most one per field is accepted."""

    content_type = models.ForeignKey(ContentType, on_delete=models.PROTECT, related_name="+")
    object_id = models.BigIntegerField()
    target = GenericForeignKey("content_type", "object_id")
    field_name = models.CharField(_("field"), max_length=64)
    value = models.JSONField(_("claimed value"))
    source = models.ForeignKey(Source, on_delete=models.PROTECT, related_name="claims")
    quote = models.TextField(_("quote"), blank=True)
    reliability = models.CharField(
        _("reliability"), max_length=12, choices=Reliability.choices, default=Reliability.REPORTED
    )
    accepted = models.BooleanField(_("accepted"), default=False)
    note = models.TextField(_("note"), blank=True)

    objects = FactQuerySet.as_manager()

    class Meta:
        ordering = ["content_type", "object_id", "field_name", "-accepted", "id"]
        verbose_name = _("claim")
        verbose_name_plural = _("claims")
        indexes = [
            models.Index(fields=["content_type", "object_id"], name="events_claim_target_idx")
        ]
        constraints = [
            choice_check("events_claim", "reliability", Reliability),
            models.UniqueConstraint(
                fields=["content_type", "object_id", "field_name"],
                condition=Q(accepted=True),
                name="events_claim_one_accepted",
            ),
            models.UniqueConstraint(
                fields=["content_type", "object_id", "field_name", "source"],
                name="events_claim_one_per_source",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.field_name} = {self.value!r} ({self.source})"


# --- Criminal codes ---------------------------------------------------------------------------


@tracked()
class CriminalCode(TimeStampedModel):
    country = models.ForeignKey(Country, on_delete=models.PROTECT, related_name="criminal_codes")
    name = models.CharField(_("name"), max_length=200)
    short_name = models.CharField(_("short name"), max_length=20, unique=True)

    class Meta:
        ordering = ["short_name"]
        verbose_name = _("criminal code")
        verbose_name_plural = _("criminal codes")

    def __str__(self) -> str:
        return self.short_name


@tracked()
class CriminalArticle(TimeStampedModel):
    code = models.ForeignKey(CriminalCode, on_delete=models.PROTECT, related_name="articles")
    number = models.CharField(_("article"), max_length=20, help_text=_("e.g. 342 or 361-1"))
    title = models.CharField(_("title"), max_length=300, blank=True)
    title_ru = models.CharField(_("title in Russian"), max_length=300, blank=True)
    title_be = models.CharField(_("title in Belarusian"), max_length=300, blank=True)

    class Meta:
        ordering = ["code", "number"]
        verbose_name = _("criminal-code article")
        verbose_name_plural = _("criminal-code articles")
        constraints = [
            models.UniqueConstraint(
                fields=["code", "number"], name="events_criminalarticle_unique"
            ),
            models.CheckConstraint(
                condition=Q(number__regex=r"^[0-9]+(\.[0-9]+)?(-[0-9]+)?$"),
                name="events_criminalarticle_number_format",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.number}"


# --- Detention episodes and what happens inside them ----------------------------------------


class EpisodeQuerySet(VisibilityQuerySet):
    def open(self) -> EpisodeQuerySet:
        return self.filter(ended_on__isnull=True)


class DetentionEpisodeEndReason(models.TextChoices):
    NONE = "", _("Not ended")
    RELEASE = "release", _("Release")
    DEATH = "death", _("Death in custody")


@tracked()
class DetentionEpisode(TimeStampedModel):
    EndReason = DetentionEpisodeEndReason

    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="episodes")
    country = models.ForeignKey(
        Country,
        on_delete=models.PROTECT,
        related_name="episodes",
        help_text=_("The country holding the person."),
    )
    arrested_on = models.DateField(
        _("arrested on"),
        null=True,
        blank=True,
        help_text=_("Leave empty when unknown: the episode then counts from an unknown past date."),
    )
    arrested_on_precision = models.CharField(
        _("precision"), max_length=8, choices=DatePrecision.choices, default=DatePrecision.DAY
    )
    arrest_place = models.ForeignKey(
        Place, on_delete=models.PROTECT, related_name="arrests", null=True, blank=True
    )
    arresting_authority = models.CharField(_("arresting authority"), max_length=200, blank=True)
    ended_on = models.DateField(
        _("ended on"),
        null=True,
        blank=True,
        editable=False,
        help_text=_("Set from the release or death that ends the episode."),
    )
    end_reason = models.CharField(
        _("end"), max_length=8, choices=EndReason.choices, blank=True, editable=False
    )
    # Who may see the end: derived facts (status, days in detention, statistics, the listing)
    # count the end only for the tiers that see the release or death that set it; for the others
    # the episode is still open (events.selectors.episode_end).
    end_level = models.SmallIntegerField(
        _("end seen from tier"),
        null=True,
        blank=True,
        editable=False,
        help_text=_(
            "Set from the visibility of the release or death that ends the episode: "
            "0 public, 1 researchers, 2 staff."
        ),
    )
    summary = models.TextField(_("case summary"), blank=True)
    visibility = visibility_field()

    objects = EpisodeQuerySet.as_manager()

    class Meta:
        ordering = ["person", "arrested_on", "id"]
        verbose_name = _("detention episode")
        verbose_name_plural = _("detention episodes")
        indexes = [
            models.Index(fields=["arrested_on", "ended_on"], name="events_episode_dates_idx"),
        ]
        constraints = [
            choice_check("events_detentionepisode", "end_reason", DetentionEpisodeEndReason),
            choice_check("events_detentionepisode", "visibility", Visibility),
            precision_check("events_detentionepisode", "arrested_on"),
            models.CheckConstraint(
                condition=Q(ended_on__isnull=True)
                | Q(arrested_on__isnull=True)
                | Q(ended_on__gte=F("arrested_on")),
                name="events_detentionepisode_ended_after_arrest",
            ),
            models.CheckConstraint(
                condition=Q(ended_on__isnull=True, end_reason="")
                | Q(ended_on__isnull=False) & ~Q(end_reason=""),
                name="events_detentionepisode_end_has_reason",
            ),
            models.CheckConstraint(
                condition=Q(ended_on__isnull=True, end_level__isnull=True)
                | Q(ended_on__isnull=False, end_level__in=[0, 1, 2]),
                name="events_detentionepisode_end_has_level",
            ),
            ExclusionConstraint(
                name="events_detentionepisode_no_overlap",
                expressions=[
                    ("person", RangeOperators.EQUAL),
                    (date_range("arrested_on", "ended_on"), RangeOperators.OVERLAPS),
                ],
            ),
            models.UniqueConstraint(
                fields=["id", "person"], name="events_detentionepisode_id_person"
            ),
        ]
        triggers = [
            # Moving the arrest date must not leave the episode's own events before it.
            pgtrigger.Trigger(
                name="episode_arrest_before_its_events",
                when=pgtrigger.Before,
                operation=pgtrigger.Update,
                condition=pgtrigger.Q(new__arrested_on__isnull=False)
                & pgtrigger.Q(old__arrested_on__df=pgtrigger.F("new__arrested_on")),
                func=(
                    "IF EXISTS (SELECT 1 FROM events_custodyplacement WHERE episode_id = NEW.id"  # noqa: S608
                    " AND started_on < NEW.arrested_on)"
                    " OR EXISTS (SELECT 1 FROM events_courtdecision WHERE episode_id = NEW.id"
                    " AND decided_on < NEW.arrested_on)"
                    " OR EXISTS (SELECT 1 FROM events_charge WHERE episode_id = NEW.id"
                    " AND charged_on < NEW.arrested_on) THEN "
                    + raise_check("The arrest cannot move after events of its episode.")
                    + " END IF; RETURN NEW;"
                ),
            ),
        ]

    def __str__(self) -> str:
        start = self.arrested_on.isoformat() if self.arrested_on else "?"
        return f"{self.person} from {start}"


@tracked()
class Charge(TimeStampedModel):
    episode = models.ForeignKey(DetentionEpisode, on_delete=models.CASCADE, related_name="charges")
    article = models.ForeignKey(CriminalArticle, on_delete=models.PROTECT, related_name="charges")
    part = models.CharField(_("part"), max_length=10, blank=True)
    charged_on = models.DateField(_("charged on"), null=True, blank=True)
    note = models.TextField(_("note"), blank=True)
    visibility = visibility_field()

    objects = VisibilityQuerySet.as_manager()

    class Meta:
        ordering = ["episode", "article"]
        verbose_name = _("charge")
        verbose_name_plural = _("charges")
        constraints = [
            models.UniqueConstraint(
                fields=["episode", "article", "part"], name="events_charge_unique"
            ),
            choice_check("events_charge", "visibility", Visibility),
        ]
        triggers = [
            chronology_trigger(
                "charge_chronology",
                LOAD_EPISODE + " IF NEW.charged_on IS NOT NULL AND ep.arrested_on IS NOT NULL"
                " AND NEW.charged_on < ep.arrested_on THEN "
                + raise_check("A charge cannot predate the arrest of its episode.")
                + " END IF;",
            )
        ]

    def __str__(self) -> str:
        return f"{self.article}" + (f" part {self.part}" if self.part else "")


class CourtDecisionKind(models.TextChoices):
    SENTENCE = "sentence", _("Sentence")
    APPEAL = "appeal", _("Appeal decision (replaces the term)")
    EXTENSION = "extension", _("Later extension (adds to the term)")
    ACQUITTAL = "acquittal", _("Acquittal")
    OTHER = "other", _("Other decision")


class CourtDecisionRegime(models.TextChoices):
    UNKNOWN = "", _("Unknown")
    GENERAL = "general", _("General-regime colony")
    STRICT = "strict", _("Strict-regime colony")
    SPECIAL = "special", _("Special-regime colony")
    PRISON = "prison", _("Prison")
    SETTLEMENT = "settlement", _("Colony-settlement")
    RESTRICTED = "restricted", _("Restriction of freedom")
    HOME = "home", _("Home confinement")
    FINE = "fine", _("Fine")
    OTHER = "other", _("Other")


@tracked()
class CourtDecision(TimeStampedModel):
    Kind = CourtDecisionKind

    Regime = CourtDecisionRegime

    TERM_KINDS = (Kind.SENTENCE, Kind.APPEAL, Kind.EXTENSION)

    episode = models.ForeignKey(
        DetentionEpisode, on_delete=models.CASCADE, related_name="court_decisions"
    )
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    decided_on = models.DateField(_("decided on"), null=True, blank=True)
    decided_on_precision = models.CharField(
        _("precision"), max_length=8, choices=DatePrecision.choices, default=DatePrecision.DAY
    )
    court = models.CharField(_("court"), max_length=200, blank=True)
    judge = models.CharField(_("judge"), max_length=200, blank=True)
    term_years = models.PositiveSmallIntegerField(_("years"), null=True, blank=True)
    term_months = models.PositiveSmallIntegerField(_("months"), null=True, blank=True)
    term_days = models.PositiveSmallIntegerField(_("days"), null=True, blank=True)
    term_description = models.CharField(
        _("term as reported"),
        max_length=200,
        blank=True,
        help_text=_("When the term is not known exactly, e.g. 'a long jail term'."),
    )
    term_starts_on = models.DateField(
        _("term counted from"),
        null=True,
        blank=True,
        help_text=_("Leave empty to count from the arrest."),
    )
    regime = models.CharField(
        _("regime"), max_length=10, choices=Regime.choices, blank=True, default=Regime.UNKNOWN
    )
    amends = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        related_name="amendments",
        null=True,
        blank=True,
        help_text=_("The decision an appeal or extension changes."),
    )
    note = models.TextField(_("note"), blank=True)
    visibility = visibility_field()

    objects = VisibilityQuerySet.as_manager()

    class Meta:
        ordering = ["episode", "decided_on", "id"]
        verbose_name = _("court decision")
        verbose_name_plural = _("court decisions")
        constraints = [
            choice_check("events_courtdecision", "kind", CourtDecisionKind),
            choice_check("events_courtdecision", "regime", CourtDecisionRegime),
            choice_check("events_courtdecision", "visibility", Visibility),
            precision_check("events_courtdecision", "decided_on"),
            models.CheckConstraint(
                condition=Q(term_months__isnull=True) | Q(term_months__lt=12),
                name="events_courtdecision_months_below_12",
            ),
            models.CheckConstraint(
                condition=~Q(kind="extension") | Q(amends__isnull=False),
                name="events_courtdecision_extension_amends",
            ),
            models.CheckConstraint(
                condition=~Q(amends=F("id")), name="events_courtdecision_not_amending_self"
            ),
        ]
        triggers = [
            chronology_trigger(
                "courtdecision_chronology",
                LOAD_EPISODE + " IF NEW.decided_on IS NOT NULL AND ep.arrested_on IS NOT NULL"
                " AND NEW.decided_on < ep.arrested_on THEN "
                + raise_check("A court decision cannot predate the arrest of its episode.")
                + " END IF;",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.decided_on or ''}".strip()

    @property
    def has_term(self) -> bool:
        return any(v is not None for v in (self.term_years, self.term_months, self.term_days))


class CustodyPlacementKind(models.TextChoices):
    PRE_TRIAL = "pre_trial", _("Pre-trial detention")
    TEMPORARY = "temporary", _("Temporary holding")
    COLONY = "colony", _("Penal colony")
    PRISON = "prison", _("Prison")
    HOUSE_ARREST = "house_arrest", _("House arrest")
    PSYCHIATRIC = "psychiatric", _("Psychiatric hospital")
    OTHER = "other", _("Other")


@tracked()
class CustodyPlacement(TimeStampedModel):
    Kind = CustodyPlacementKind

    episode = models.ForeignKey(
        DetentionEpisode, on_delete=models.CASCADE, related_name="placements"
    )
    person = models.ForeignKey(
        Person,
        on_delete=models.PROTECT,
        related_name="placements",
        help_text=_("Same as the episode's person; kept here so overlaps can be refused."),
    )
    facility = models.ForeignKey(
        Place, on_delete=models.PROTECT, related_name="placements", null=True, blank=True
    )
    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices)
    started_on = models.DateField(_("from"))
    # Partial dates are stored on the first day of their period (a month known: its first).
    started_on_precision = models.CharField(
        _("precision"),
        max_length=8,
        choices=DatePrecision.choices,
        default=DatePrecision.DAY,
        db_default=DatePrecision.DAY,
    )
    ended_on = models.DateField(_("until"), null=True, blank=True)
    visibility = visibility_field()

    objects = VisibilityQuerySet.as_manager()

    class Meta:
        ordering = ["person", "started_on", "id"]
        verbose_name = _("custody placement")
        verbose_name_plural = _("custody placements")
        constraints = [
            choice_check("events_custodyplacement", "kind", CustodyPlacementKind),
            choice_check("events_custodyplacement", "visibility", Visibility),
            precision_check("events_custodyplacement", "started_on"),
            models.CheckConstraint(
                condition=Q(ended_on__isnull=True) | Q(ended_on__gte=F("started_on")),
                name="events_custodyplacement_ends_after_start",
            ),
            ExclusionConstraint(
                name="events_custodyplacement_no_overlap",
                expressions=[
                    ("person", RangeOperators.EQUAL),
                    (date_range("started_on", "ended_on"), RangeOperators.OVERLAPS),
                ],
            ),
        ]
        triggers = [
            chronology_trigger(
                "placement_chronology",
                LOAD_EPISODE
                + " IF NEW.person_id <> ep.person_id THEN "
                + raise_check("A placement belongs to the person of its episode.")
                + " END IF; IF ep.arrested_on IS NOT NULL AND NEW.started_on < ep.arrested_on THEN "
                + raise_check("A placement cannot start before the arrest.")
                + " END IF; IF ep.ended_on IS NOT NULL AND (NEW.ended_on IS NULL"
                " OR NEW.ended_on > ep.ended_on OR NEW.started_on > ep.ended_on) THEN "
                + raise_check("A placement must end when its episode ends.")
                + " END IF;",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.facility or '?'} from {self.started_on}"


class IncommunicadoPeriodKind(models.TextChoices):
    INCOMMUNICADO = "incommunicado", _("Incommunicado (no family, lawyer or letters)")
    SOLITARY = "solitary", _("Solitary confinement")


@tracked()
class IncommunicadoPeriod(TimeStampedModel):
    Kind = IncommunicadoPeriodKind

    episode = models.ForeignKey(
        DetentionEpisode, on_delete=models.CASCADE, related_name="incommunicado_periods"
    )
    kind = models.CharField(
        _("kind"), max_length=14, choices=Kind.choices, default=Kind.INCOMMUNICADO
    )
    started_on = models.DateField(_("from"), null=True, blank=True)
    started_on_precision = models.CharField(
        _("precision"), max_length=8, choices=DatePrecision.choices, default=DatePrecision.DAY
    )
    ended_on = models.DateField(_("until"), null=True, blank=True)
    note = models.TextField(_("note"), blank=True)
    visibility = visibility_field()

    objects = VisibilityQuerySet.as_manager()

    class Meta:
        ordering = ["episode", "started_on", "id"]
        verbose_name = _("incommunicado period")
        verbose_name_plural = _("incommunicado periods")
        constraints = [
            choice_check("events_incommunicadoperiod", "kind", IncommunicadoPeriodKind),
            choice_check("events_incommunicadoperiod", "visibility", Visibility),
            precision_check("events_incommunicadoperiod", "started_on"),
            models.CheckConstraint(
                condition=Q(ended_on__isnull=True)
                | Q(started_on__isnull=True)
                | Q(ended_on__gte=F("started_on")),
                name="events_incommunicadoperiod_ends_after_start",
            ),
        ]
        triggers = [
            chronology_trigger(
                "incommunicado_chronology",
                LOAD_EPISODE + " IF NEW.started_on IS NOT NULL AND ep.arrested_on IS NOT NULL"
                " AND NEW.started_on < ep.arrested_on THEN "
                + raise_check("An incommunicado period cannot start before the arrest.")
                + " END IF;",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} from {self.started_on or '?'}"


# --- Releases, deaths, transfers, deals -------------------------------------------------------


@tracked()
class ReleaseDeal(TimeStampedModel):
    title = models.CharField(_("title"), max_length=300)
    slug = models.SlugField(_("slug"), max_length=120, unique=True)
    announced_on = models.DateField(_("announced on"))
    completed_on = models.DateField(_("completed on"), null=True, blank=True)
    summary = models.TextField(_("summary"), blank=True)
    consideration = models.TextField(
        _("given in return"), blank=True, help_text=_("e.g. US sanctions on potash lifted.")
    )
    reported_total = models.PositiveIntegerField(
        _("reported number released"), null=True, blank=True
    )
    visibility = visibility_field()

    objects = VisibilityQuerySet.as_manager()

    class Meta:
        ordering = ["-announced_on", "-id"]
        verbose_name = _("release deal")
        verbose_name_plural = _("release deals")
        indexes = [models.Index(fields=["-announced_on", "-id"], name="events_deal_recent_idx")]
        constraints = [
            choice_check("events_releasedeal", "visibility", Visibility),
            models.CheckConstraint(
                condition=Q(completed_on__isnull=True) | Q(completed_on__gte=F("announced_on")),
                name="events_releasedeal_completed_after_announced",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("events:deal-detail", args=[self.slug])


class DealPartyRole(models.TextChoices):
    MEDIATOR = "mediator", _("Mediator or envoy")
    PARTY = "party", _("Party to the deal")
    RECEIVING = "receiving", _("Receiving state")
    GUARANTOR = "guarantor", _("Guarantor")


@tracked()
class DealParty(TimeStampedModel):
    Role = DealPartyRole

    deal = models.ForeignKey(ReleaseDeal, on_delete=models.CASCADE, related_name="parties")
    role = models.CharField(_("role"), max_length=10, choices=Role.choices)
    name = models.CharField(_("name"), max_length=200)
    description = models.CharField(_("description"), max_length=300, blank=True)
    organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="deal_roles", null=True, blank=True
    )
    country = models.ForeignKey(
        Country, on_delete=models.PROTECT, related_name="deal_roles", null=True, blank=True
    )

    class Meta:
        ordering = ["deal", "role", "name"]
        verbose_name = _("party or mediator")
        verbose_name_plural = _("parties and mediators")
        constraints = [
            choice_check("events_dealparty", "role", DealPartyRole),
            models.UniqueConstraint(
                fields=["deal", "role", "name"], name="events_dealparty_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.get_role_display()})"


@tracked()
class DealDestination(TimeStampedModel):
    """The reported breakdown of a deal by the country the released were taken to."""

    deal = models.ForeignKey(ReleaseDeal, on_delete=models.CASCADE, related_name="destinations")
    country = models.ForeignKey(Country, on_delete=models.PROTECT, related_name="deal_destinations")
    reported_count = models.PositiveIntegerField(_("reported number"), null=True, blank=True)
    onward_countries: models.ManyToManyField[Country, DealOnwardCountry] = models.ManyToManyField(
        Country,
        through="DealOnwardCountry",
        related_name="deal_onward_destinations",
        blank=True,
        verbose_name=_("then to be taken to"),
    )
    note = models.TextField(_("note"), blank=True)

    class Meta:
        ordering = ["deal", "-reported_count", "id"]
        verbose_name = _("reported destination")
        verbose_name_plural = _("reported destinations")
        constraints = [
            models.UniqueConstraint(
                fields=["deal", "country"], name="events_dealdestination_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.reported_count or '?'} → {self.country}"


@tracked()
class DealOnwardCountry(TimeStampedModel):
    destination = models.ForeignKey(
        DealDestination, on_delete=models.CASCADE, related_name="onward_links"
    )
    country = models.ForeignKey(Country, on_delete=models.PROTECT, related_name="+")

    class Meta:
        verbose_name = _("onward country")
        verbose_name_plural = _("onward countries")
        constraints = [
            models.UniqueConstraint(
                fields=["destination", "country"], name="events_dealonwardcountry_unique"
            )
        ]

    def __str__(self) -> str:
        return str(self.country)


class ReleaseKind(models.TextChoices):
    PARDON = "pardon", _("Pardon")
    END_OF_TERM = "end_of_term", _("End of term")
    DEAL = "deal", _("Deal or exchange")
    AMNESTY = "amnesty", _("Amnesty")
    ACQUITTAL = "acquittal", _("Acquittal or conviction quashed")
    PAROLE = "parole", _("Parole")
    HOUSE_ARREST = "house_arrest", _("Moved to house arrest")
    MEDICAL = "medical", _("Medical grounds")
    OTHER = "other", _("Other")


@tracked()
class Release(TimeStampedModel):
    Kind = ReleaseKind

    episode = models.OneToOneField(
        DetentionEpisode, on_delete=models.PROTECT, related_name="release"
    )
    released_on = models.DateField(_("released on"))
    released_on_precision = models.CharField(
        _("precision"), max_length=8, choices=DatePrecision.choices, default=DatePrecision.DAY
    )
    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices)
    deal = models.ForeignKey(
        ReleaseDeal, on_delete=models.PROTECT, related_name="releases", null=True, blank=True
    )
    place = models.ForeignKey(
        Place, on_delete=models.PROTECT, related_name="releases", null=True, blank=True
    )
    conditions = models.TextField(_("conditions"), blank=True)
    visibility = visibility_field()

    objects = VisibilityQuerySet.as_manager()

    class Meta:
        ordering = ["-released_on", "-id"]
        verbose_name = _("release")
        verbose_name_plural = _("releases")
        indexes = [models.Index(fields=["released_on"], name="events_release_date_idx")]
        constraints = [
            choice_check("events_release", "kind", ReleaseKind),
            choice_check("events_release", "visibility", Visibility),
            models.CheckConstraint(
                condition=Q(released_on_precision__in=DatePrecision.values)
                & ~Q(released_on_precision=DatePrecision.UNKNOWN),
                name="events_release_released_on_precision",
            ),
            models.CheckConstraint(
                condition=Q(deal__isnull=True) | Q(kind__in=["deal", "pardon"]),
                name="events_release_deal_kind",
            ),
        ]
        triggers = [
            # The release ends its episode: the episode's own check then refuses a release
            # before the arrest, and open placements are closed on the release date. The
            # episode's ``end_level`` follows the release's visibility (also when it changes).
            pgtrigger.Trigger(
                name="release_ends_episode",
                when=pgtrigger.After,
                operation=pgtrigger.Insert | pgtrigger.Update,
                func=(
                    "UPDATE events_detentionepisode SET ended_on = NEW.released_on,"  # noqa: S608
                    f" end_reason = 'release', end_level = {level_sql('NEW.visibility')}"
                    " WHERE id = NEW.episode_id AND (ended_on IS DISTINCT FROM NEW.released_on"
                    " OR end_reason <> 'release'"
                    f" OR end_level IS DISTINCT FROM {level_sql('NEW.visibility')});"
                    " UPDATE events_custodyplacement SET ended_on = NEW.released_on"
                    " WHERE episode_id = NEW.episode_id AND (ended_on IS NULL"
                    " OR ended_on > NEW.released_on) AND started_on <= NEW.released_on;"
                    " RETURN NULL;"
                ),
            ),
            pgtrigger.Trigger(
                name="release_delete_reopens_episode",
                when=pgtrigger.After,
                operation=pgtrigger.Delete,
                func=(
                    "UPDATE events_detentionepisode SET ended_on = NULL, end_reason = '',"
                    " end_level = NULL WHERE id = OLD.episode_id AND end_reason = 'release';"
                    " RETURN NULL;"
                ),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} on {self.released_on}"


@tracked()
class Death(TimeStampedModel):
    person = models.OneToOneField(Person, on_delete=models.PROTECT, related_name="death")
    died_on = models.DateField(_("died on"))
    died_on_precision = models.CharField(
        _("precision"), max_length=8, choices=DatePrecision.choices, default=DatePrecision.DAY
    )
    in_custody = models.BooleanField(_("in custody"), default=False)
    episode = models.OneToOneField(
        DetentionEpisode,
        on_delete=models.PROTECT,
        related_name="death",
        null=True,
        blank=True,
        help_text=_("The episode the person died in, if in custody."),
    )
    place = models.ForeignKey(
        Place, on_delete=models.PROTECT, related_name="deaths", null=True, blank=True
    )
    circumstances = models.TextField(_("circumstances"), blank=True)
    visibility = visibility_field()

    objects = VisibilityQuerySet.as_manager()

    class Meta:
        verbose_name = _("death")
        verbose_name_plural = _("deaths")
        constraints = [
            choice_check("events_death", "visibility", Visibility),
            models.CheckConstraint(
                condition=Q(in_custody=False, episode__isnull=True)
                | Q(in_custody=True, episode__isnull=False),
                name="events_death_custody_has_episode",
            ),
        ]
        triggers = [
            pgtrigger.Trigger(
                name="death_ends_episode",
                when=pgtrigger.After,
                operation=pgtrigger.Insert | pgtrigger.Update,
                condition=pgtrigger.Q(new__episode__isnull=False),
                func=(
                    "IF (SELECT person_id FROM events_detentionepisode WHERE id = NEW.episode_id)"  # noqa: S608 (constant)
                    " <> NEW.person_id THEN "
                    + raise_check("A death in custody belongs to the person of its episode.")
                    + " END IF; UPDATE events_detentionepisode SET ended_on = NEW.died_on,"  # noqa: S608
                    f" end_reason = 'death', end_level = {level_sql('NEW.visibility')}"
                    " WHERE id = NEW.episode_id;"
                    " UPDATE events_custodyplacement SET ended_on = NEW.died_on"
                    " WHERE episode_id = NEW.episode_id AND ended_on IS NULL"
                    " AND started_on <= NEW.died_on; RETURN NULL;"
                ),
            ),
            # A death recorded in error and deleted: the episode it ended is open again, as
            # for a deleted release.
            pgtrigger.Trigger(
                name="death_delete_reopens_episode",
                when=pgtrigger.After,
                operation=pgtrigger.Delete,
                func=(
                    "UPDATE events_detentionepisode SET ended_on = NULL, end_reason = '',"
                    " end_level = NULL WHERE id = OLD.episode_id AND end_reason = 'death';"
                    " RETURN NULL;"
                ),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.person} died {self.died_on}"


class TransferMode(models.TextChoices):
    DEPORTATION = "deportation", _("Deportation or forced expulsion")
    HANDOVER = "handover", _("Handover to a third country")
    VOLUNTARY = "voluntary", _("Voluntary departure")
    UNKNOWN = "unknown", _("Unknown")


class TransferDocuments(models.TextChoices):
    UNKNOWN = "unknown", _("Unknown")
    KEPT = "kept", _("Kept their documents")
    TAKEN = "taken", _("Expelled without a passport")


@tracked()
class Transfer(TimeStampedModel):
    """One leg of a movement across a border. Legs of one release form a chain by ``sequence``."""

    Mode = TransferMode

    Documents = TransferDocuments

    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="transfers")
    release = models.ForeignKey(
        Release, on_delete=models.PROTECT, related_name="transfers", null=True, blank=True
    )
    sequence = models.PositiveSmallIntegerField(_("leg"), default=1)
    transferred_on = models.DateField(_("date"), null=True, blank=True)
    transferred_on_precision = models.CharField(
        _("precision"), max_length=8, choices=DatePrecision.choices, default=DatePrecision.DAY
    )
    from_country = models.ForeignKey(
        Country, on_delete=models.PROTECT, related_name="transfers_out"
    )
    from_place = models.ForeignKey(
        Place, on_delete=models.PROTECT, related_name="transfers_out", null=True, blank=True
    )
    to_country = models.ForeignKey(Country, on_delete=models.PROTECT, related_name="transfers_in")
    to_place = models.ForeignKey(
        Place, on_delete=models.PROTECT, related_name="transfers_in", null=True, blank=True
    )
    mode = models.CharField(_("mode"), max_length=12, choices=Mode.choices, default=Mode.UNKNOWN)
    documents = models.CharField(
        _("documents"), max_length=8, choices=Documents.choices, default=Documents.UNKNOWN
    )
    note = models.TextField(_("note"), blank=True)
    visibility = visibility_field()

    objects = VisibilityQuerySet.as_manager()

    class Meta:
        ordering = ["person", "release", "sequence"]
        verbose_name = _("transfer leg")
        verbose_name_plural = _("transfer legs")
        indexes = [
            models.Index(fields=["person", "transferred_on"], name="events_transfer_date_idx")
        ]
        constraints = [
            choice_check("events_transfer", "mode", TransferMode),
            choice_check("events_transfer", "documents", TransferDocuments),
            choice_check("events_transfer", "visibility", Visibility),
            precision_check("events_transfer", "transferred_on"),
            models.CheckConstraint(
                condition=~Q(from_country=F("to_country")),
                name="events_transfer_crosses_border",
            ),
            models.CheckConstraint(condition=Q(sequence__gte=1), name="events_transfer_sequence_1"),
            models.UniqueConstraint(
                fields=["person", "release", "sequence"],
                nulls_distinct=False,
                name="events_transfer_unique_leg",
            ),
        ]
        triggers = [
            chronology_trigger(
                "transfer_chronology",
                "IF NEW.release_id IS NOT NULL THEN"  # noqa: S608 (constant trigger body)
                " SELECT e.person_id, r.released_on AS arrested_on, e.ended_on INTO ep"
                " FROM events_release r JOIN events_detentionepisode e ON e.id = r.episode_id"
                " WHERE r.id = NEW.release_id;"
                " IF ep.person_id <> NEW.person_id THEN "
                + raise_check("A transfer belongs to the person of its release.")
                + " END IF; IF NEW.transferred_on IS NOT NULL"
                " AND NEW.transferred_on < ep.arrested_on"
                " AND NEW.transferred_on_precision = 'day' THEN "
                + raise_check("A transfer after release cannot predate the release.")
                + " END IF; END IF;"
                " IF EXISTS (SELECT 1 FROM events_transfer t WHERE t.person_id = NEW.person_id"
                " AND t.release_id IS NOT DISTINCT FROM NEW.release_id AND t.id <> NEW.id"
                " AND t.transferred_on IS NOT NULL AND NEW.transferred_on IS NOT NULL"
                " AND ((t.sequence < NEW.sequence AND t.transferred_on > NEW.transferred_on)"
                " OR (t.sequence > NEW.sequence AND t.transferred_on < NEW.transferred_on))) THEN "
                + raise_check("Transfer legs must be in date order.")
                + " END IF;",
            )
        ]

    def __str__(self) -> str:
        return f"{self.from_country.code} → {self.to_country.code}"


# --- The deal listing: derived, kept current with the persons' listing --------------------------


@derived
class DealListing(models.Model):
    """One row per release in a deal: what the deal page counts, sorts and groups on.

    Written only by the database, with the persons' listing (``prisoners_listing_refresh``, as
    migration 0007 extends it): every write that queues a person for the listing also rewrites
    the rows of that person's releases, at commit or at ``prisoners_listing_flush`` in the
    writing transaction (``events.timeline.flush_listing``). Never edit it from Python.

    ``level`` is the lowest tier that sees the release (``visibility.record_filter``: the release
    and its person published for that tier, the person not merged; otherwise staff only);
    ``leg_level`` the same for the first leg of its transfer chain (``sequence`` 1), whose
    destination is ``leg_country``. ``name`` and ``name_withheld`` are the person's.
    """

    release = models.OneToOneField(
        Release,
        on_delete=models.DO_NOTHING,
        primary_key=True,
        related_name="deal_listing",
        db_constraint=False,
    )
    deal = models.ForeignKey(
        ReleaseDeal,
        on_delete=models.DO_NOTHING,
        related_name="+",
        db_constraint=False,
        db_index=False,  # the indexes below start with it
    )
    person = models.ForeignKey(
        Person, on_delete=models.DO_NOTHING, related_name="+", db_constraint=False
    )
    level = models.SmallIntegerField()
    name = models.CharField(max_length=200)
    name_withheld = models.BooleanField()
    leg_country = models.ForeignKey(
        Country,
        on_delete=models.DO_NOTHING,
        null=True,
        related_name="+",
        db_constraint=False,
        db_index=False,
    )
    leg_level = models.SmallIntegerField(null=True)

    class Meta:
        verbose_name = _("deal listing row")
        verbose_name_plural = _("deal listing rows")
        indexes = [
            # The identified persons of a deal in the page's order (name, release).
            models.Index(
                fields=["deal", "name", "release"],
                include=["level", "name_withheld"],
                name="events_deallisting_name",
            ),
            # The counts of a deal (identified, withheld, by destination) from the index alone.
            models.Index(
                fields=["deal", "level"],
                include=["name_withheld", "leg_country", "leg_level", "person"],
                name="events_deallisting_count",
            ),
        ]

    def __str__(self) -> str:
        return f"deal listing of release {self.release_id}"


# --- Statistics: derived tables, kept current by database triggers ----------------------------
#
# Nothing here is typed in or edited. The triggers of migration 0005 note, after every statement
# that writes persons, episodes, charges, placements, releases, deaths or transfers, the persons
# it touched (``StatsPending``); at commit, or before the statistics are read in the same
# transaction, their facts are recomputed (``StatsFact``) and the difference is added to the
# counts (``StatsDelta``). ``events.statistics.stats_rebuild`` recomputes everything from the
# events. Derived data, not curated records: no timestamps and no history.

from django.contrib.postgres.fields import ArrayField  # noqa: E402 (this section is appended)


class StatsFigure(models.TextChoices):
    CUSTODY = "custody", _("In custody")
    REGION = "region", _("In custody, by home region")
    ARTICLE = "article", _("In custody, by criminal-code article")
    FACILITY = "facility", _("In custody, by facility")
    RELEASE = "release", _("Releases")
    TRANSFER = "transfer", _("Transfers across a border")


class StatsGrain(models.TextChoices):
    DAY = "d", _("Day")
    MONTH = "m", _("Month")
    YEAR = "y", _("Year")


@derived
class StatsFact(models.Model):
    """What one person adds to the statistics, as last counted.

    A span fact (custody, article, facility) adds ``sign`` from ``start`` and takes it away
    again on ``stop`` (an open span has none); an event fact (release, transfer) adds ``sign`` on
    ``start``. ``level`` is the lowest tier that may see the fact (0 public, 1 researchers,
    2 staff). A custody fact carries the home region in ``key``; article and facility facts the
    article or facility (0: none recorded); a transfer its countries in ``key`` and ``key2``; a
    release its kind in ``kind``. An unknown start is stored as 1 January of year 1.
    """

    person_id = models.BigIntegerField(_("person"), db_index=True)
    figure = models.CharField(_("figure"), max_length=8, choices=StatsFigure.choices)
    level = models.SmallIntegerField(_("lowest tier that sees it"))
    sign = models.SmallIntegerField(_("sign"))
    start = models.DateField(_("from"))
    stop = models.DateField(_("until"), null=True, blank=True)
    key = models.BigIntegerField(_("key"), default=0)
    key2 = models.BigIntegerField(_("second key"), default=0)
    kind = models.CharField(_("kind"), max_length=16, blank=True, default="")

    class Meta:
        verbose_name = _("statistics fact")
        verbose_name_plural = _("statistics facts")
        constraints = [
            choice_check("events_statsfact", "figure", StatsFigure),
            models.CheckConstraint(
                condition=Q(level__in=[0, 1, 2]), name="events_statsfact_level_valid"
            ),
            models.CheckConstraint(condition=Q(sign__in=[-1, 1]), name="events_statsfact_sign"),
        ]

    def __str__(self) -> str:
        return f"{self.figure} {self.start}–{self.stop or ''} ({self.person_id})"


@derived
class StatsDelta(models.Model):
    """How much a count changes on a day (grain ``d``), in a month (``m``) or a year (``y``).

    The count of a figure on day D, for tier T, is the sum of ``n`` over the rows with ``level``
    <= T of the years before D's year, the months of D's year before D's month and the days of
    D's month up to D: a few hundred rows whatever the number of persons.
    """

    figure = models.CharField(_("figure"), max_length=8, choices=StatsFigure.choices)
    grain = models.CharField(_("grain"), max_length=1, choices=StatsGrain.choices)
    level = models.SmallIntegerField(_("lowest tier that sees it"))
    key = models.BigIntegerField(_("key"), default=0)
    key2 = models.BigIntegerField(_("second key"), default=0)
    kind = models.CharField(_("kind"), max_length=16, blank=True, default="")
    bucket = models.DateField(_("first day of the day, month or year"))
    n = models.IntegerField(_("change"))

    class Meta:
        verbose_name = _("statistics change")
        verbose_name_plural = _("statistics changes")
        constraints = [
            choice_check("events_statsdelta", "figure", StatsFigure),
            choice_check("events_statsdelta", "grain", StatsGrain),
            # Also the index the page reads by: figure, grain and a range of buckets.
            models.UniqueConstraint(
                fields=["figure", "grain", "bucket", "level", "key", "key2", "kind"],
                name="events_statsdelta_unique",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.figure} {self.grain} {self.bucket}: {self.n:+d}"


@derived
class StatsPending(models.Model):
    """Persons written to in the current transaction whose statistics are not yet recounted."""

    person_ids = ArrayField(models.BigIntegerField(), verbose_name=_("persons"))

    class Meta:
        verbose_name = _("statistics to recount")
        verbose_name_plural = _("statistics to recount")

    def __str__(self) -> str:
        return f"{len(self.person_ids)} persons"
