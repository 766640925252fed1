"""Persons and where they are: names in every spelling, identity, places, organisations.

The events of a person's life in custody (episodes, sentences, releases, transfers, deals) and
the sources behind every fact live in the ``events`` app.
"""

from __future__ import annotations

from typing import Any

from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex, OpClass
from django.db import models
from django.db.models import F, Func, Q, TextField
from django.db.models.functions import Upper
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .audit import derived, tracked


class TimeStampedModel(models.Model):
    created_at = models.DateTimeField(_("created at"), default=timezone.now, db_index=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        abstract = True


class Visibility(models.TextChoices):
    """Who may see a record. Nothing is public until someone decided so."""

    DRAFT = "draft", _("Draft (staff only)")
    RESEARCHER = "researcher", _("Published to researchers")
    PUBLIC = "public", _("Published")


class DatePrecision(models.TextChoices):
    """How much of a stored date is known. Partial dates are stored on the first day."""

    DAY = "day", _("Exact day")
    MONTH = "month", _("Month only")
    YEAR = "year", _("Year only")
    ON_OR_BEFORE = "before", _("On or before this date")
    UNKNOWN = "unknown", _("Unknown")


class VisibilityQuerySet(models.QuerySet[Any]):
    def visible_to(self, viewer: Any) -> VisibilityQuerySet:
        from .visibility import record_filter

        return self.filter(record_filter(self.model, viewer))


def visibility_field(*, indexed: bool = True) -> models.CharField[str, str]:
    return models.CharField(
        _("visibility"),
        max_length=12,
        choices=Visibility.choices,
        default=Visibility.DRAFT,
        db_index=indexed,
        help_text=_("Draft records are seen by staff only. Publish only what is safe to show."),
    )


def choice_check(
    app_model: str, field: str, choices: type[models.TextChoices]
) -> models.CheckConstraint:
    return models.CheckConstraint(
        condition=Q(**{f"{field}__in": choices.values}),
        name=f"{app_model}_{field}_valid",
    )


def precision_check(app_model: str, field: str) -> models.CheckConstraint:
    """A date and its precision agree: no date means unknown, a date means a known precision."""
    precision = f"{field}_precision"
    return models.CheckConstraint(
        condition=(
            Q(**{f"{field}__isnull": True, precision: DatePrecision.UNKNOWN})
            | (
                Q(**{f"{field}__isnull": False})
                & Q(**{f"{precision}__in": DatePrecision.values})
                & ~Q(**{precision: DatePrecision.UNKNOWN})
            )
        ),
        name=f"{app_model}_{field}_precision",
    )


def precision_field(label: str) -> models.CharField[str, str]:
    return models.CharField(
        label, max_length=8, choices=DatePrecision.choices, default=DatePrecision.DAY
    )


# --- Places and organisations -------------------------------------------------------------


@tracked()
class Country(TimeStampedModel):
    code = models.CharField(_("ISO code"), max_length=2, unique=True)
    name = models.CharField(_("name"), max_length=100)
    name_be = models.CharField(_("name in Belarusian"), max_length=100, blank=True)
    name_ru = models.CharField(_("name in Russian"), max_length=100, blank=True)
    name_uk = models.CharField(_("name in Ukrainian"), max_length=100, blank=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("country")
        verbose_name_plural = _("countries")
        constraints = [
            models.CheckConstraint(
                condition=Q(code__regex=r"^[A-Z]{2}$"), name="prisoners_country_code_format"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def name_in(self, language: str) -> str:
        return getattr(self, f"name_{language}", "") or self.name


@tracked()
class Region(TimeStampedModel):
    country = models.ForeignKey(Country, on_delete=models.PROTECT, related_name="regions")
    name = models.CharField(_("name"), max_length=100)
    name_be = models.CharField(_("name in Belarusian"), max_length=100, blank=True)
    name_ru = models.CharField(_("name in Russian"), max_length=100, blank=True)

    class Meta:
        ordering = ["country__name", "name"]
        verbose_name = _("region")
        verbose_name_plural = _("regions")
        constraints = [
            models.UniqueConstraint(fields=["country", "name"], name="prisoners_region_unique"),
        ]

    def __str__(self) -> str:
        return self.name


class PlaceKind(models.TextChoices):
    CITY = "city", _("City or town")
    PRE_TRIAL = "pre_trial", _("Pre-trial detention centre")
    TEMPORARY = "temporary", _("Temporary holding facility")
    COLONY = "colony", _("Penal colony")
    PRISON = "prison", _("Prison")
    KGB = "kgb", _("Security-service detention centre")
    PSYCHIATRIC = "psychiatric", _("Psychiatric hospital")
    BORDER = "border", _("Border crossing")
    OTHER = "other", _("Other")


@tracked()
class Place(TimeStampedModel):
    Kind = PlaceKind

    FACILITY_KINDS = (
        Kind.PRE_TRIAL,
        Kind.TEMPORARY,
        Kind.COLONY,
        Kind.PRISON,
        Kind.KGB,
        Kind.PSYCHIATRIC,
    )

    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices)
    name = models.CharField(_("name"), max_length=200)
    name_be = models.CharField(_("name in Belarusian"), max_length=200, blank=True)
    name_ru = models.CharField(_("name in Russian"), max_length=200, blank=True)
    country = models.ForeignKey(Country, on_delete=models.PROTECT, related_name="places")
    region = models.ForeignKey(
        Region, on_delete=models.PROTECT, related_name="places", null=True, blank=True
    )
    city = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        related_name="facilities",
        null=True,
        blank=True,
        limit_choices_to={"kind": Kind.CITY},
        help_text=_("The town a facility is in."),
    )
    address = models.TextField(_("address"), blank=True)

    class Meta:
        ordering = ["country__name", "name"]
        verbose_name = _("place")
        verbose_name_plural = _("places")
        constraints = [
            choice_check("prisoners_place", "kind", PlaceKind),
            models.UniqueConstraint(
                fields=["country", "kind", "name"], name="prisoners_place_unique"
            ),
            models.CheckConstraint(
                condition=~Q(city=models.F("id")), name="prisoners_place_not_own_city"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_facility(self) -> bool:
        return self.kind in self.FACILITY_KINDS


class OrganisationKind(models.TextChoices):
    HUMAN_RIGHTS = "human_rights", _("Human-rights organisation")
    MEDIA = "media", _("Media outlet")
    PARTY = "party", _("Political party or movement")
    GOVERNMENT = "government", _("Government or state body")
    INTERNATIONAL = "international", _("International organisation")
    COURT = "court", _("Court")
    OTHER = "other", _("Other")


@tracked()
class Organisation(TimeStampedModel):
    Kind = OrganisationKind

    name = models.CharField(_("name"), max_length=200, unique=True)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    country = models.ForeignKey(
        Country, on_delete=models.PROTECT, related_name="organisations", null=True, blank=True
    )
    website = models.URLField(_("website"), blank=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("organisation")
        verbose_name_plural = _("organisations")
        constraints = [choice_check("prisoners_organisation", "kind", OrganisationKind)]

    def __str__(self) -> str:
        return self.name


# --- Persons --------------------------------------------------------------------------------


class PersonQuerySet(VisibilityQuerySet):
    def current(self) -> PersonQuerySet:
        """Persons that have not been merged into another record."""
        return self.filter(merged_into__isnull=True)


class PersonGender(models.TextChoices):
    FEMALE = "female", _("Female")
    MALE = "male", _("Male")
    OTHER = "other", _("Other")
    UNKNOWN = "unknown", _("Unknown")


class PersonLettersReach(models.TextChoices):
    YES = "yes", _("Letters reach them")
    NO = "no", _("Letters do not reach them")
    UNKNOWN = "unknown", _("Unknown")


@tracked()
class Person(TimeStampedModel):
    Gender = PersonGender

    LettersReach = PersonLettersReach

    name = models.CharField(
        _("name"),
        max_length=200,
        help_text=_("The name shown by default, in Latin script (e.g. Maryia Kalesnikava)."),
    )
    name_withheld = models.BooleanField(
        _("name withheld"),
        default=False,
        help_text=_(
            "Shown as 'Name withheld' outside staff pages, for the person's safety. "
            "Still counted in statistics."
        ),
    )
    visibility = visibility_field()
    birth_date = models.DateField(_("birth date"), null=True, blank=True)
    birth_date_precision = models.CharField(
        _("birth date precision"),
        max_length=8,
        choices=DatePrecision.choices,
        default=DatePrecision.UNKNOWN,
    )
    gender = models.CharField(
        _("gender"), max_length=8, choices=Gender.choices, default=Gender.UNKNOWN
    )
    home_region = models.ForeignKey(
        Region, on_delete=models.PROTECT, related_name="persons", null=True, blank=True
    )
    occupation = models.CharField(_("occupation"), max_length=200, blank=True)
    photo = models.ImageField(_("photo"), upload_to="photos/", blank=True)
    photo_consent = models.BooleanField(
        _("consent to show the photo"),
        default=False,
        help_text=_(
            "A photo may be stored and shown only with the consent of the person or family."
        ),
    )
    letter_address = models.TextField(
        _("letter address"), blank=True, help_text=_("Postal address for letters, in Cyrillic.")
    )
    letters_reach = models.CharField(
        _("letters reach them"),
        max_length=8,
        choices=LettersReach.choices,
        default=LettersReach.UNKNOWN,
    )
    staff_notes = models.TextField(_("staff notes"), blank=True)
    merged_into = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        related_name="merged_persons",
        null=True,
        blank=True,
        help_text=_("Set when this record was a duplicate; its URL then redirects."),
    )

    objects = PersonQuerySet.as_manager()

    class Meta:
        ordering = ["name", "id"]
        verbose_name = _("person")
        verbose_name_plural = _("persons")
        indexes = [models.Index(fields=["name", "id"], name="prisoners_person_name_idx")]
        constraints = [
            choice_check("prisoners_person", "visibility", Visibility),
            choice_check("prisoners_person", "gender", PersonGender),
            choice_check("prisoners_person", "letters_reach", PersonLettersReach),
            precision_check("prisoners_person", "birth_date"),
            models.CheckConstraint(
                condition=Q(photo="") | Q(photo_consent=True),
                name="prisoners_person_photo_needs_consent",
            ),
            models.CheckConstraint(
                condition=~Q(merged_into=models.F("id")),
                name="prisoners_person_not_merged_into_self",
            ),
            models.CheckConstraint(condition=~Q(name=""), name="prisoners_person_name_not_empty"),
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("prisoners:detail", args=[self.pk])


@tracked()
class PersonBiography(TimeStampedModel):
    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="biographies")
    language = models.CharField(_("language"), max_length=8)
    text = models.TextField(_("text"))
    visibility = visibility_field()

    objects = VisibilityQuerySet.as_manager()

    class Meta:
        verbose_name = _("biography")
        verbose_name_plural = _("biographies")
        constraints = [
            models.UniqueConstraint(
                fields=["person", "language"], name="prisoners_personbiography_unique"
            ),
            choice_check("prisoners_personbiography", "visibility", Visibility),
        ]

    def __str__(self) -> str:
        return f"{self.person} ({self.language})"


class NameVariantQuerySet(VisibilityQuerySet):
    pass


class NameVariantScript(models.TextChoices):
    CYRILLIC = "Cyrl", _("Cyrillic")
    LATIN = "Latn", _("Latin")


class NameVariantKind(models.TextChoices):
    PRIMARY = "primary", _("Primary (as the person writes it)")
    PASSPORT = "passport", _("As in the passport")
    TRANSLITERATION = "transliteration", _("Transliteration")
    COMMON = "common", _("Common spelling in the press")
    FORMER = "former", _("Former name")
    PSEUDONYM = "pseudonym", _("Pseudonym")


class SurnameFirst(Func):
    """``search_key`` with its last word put first: ``"maryia kalesnikava"`` ->
    ``"kalesnikava maryia kalesnikava"``. With ``search_key`` itself, a btree (pattern
    operators) on it finds a name by its first or its last word, whole or begun, in any
    collation, and stops after the rows a page needs (``prisoners.search``)."""

    template = "(split_part(%(expressions)s::text, ' ', -1) || ' ' || %(expressions)s::text)"
    output_field = TextField()


@tracked()
class NameVariant(TimeStampedModel):
    Script = NameVariantScript

    Kind = NameVariantKind

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="name_variants")
    text = models.CharField(_("text"), max_length=200)
    search_key = models.CharField(
        _("search key"),
        max_length=200,
        editable=False,
        help_text=_("Case- and accent-folded text, used for matching."),
    )
    language = models.CharField(
        _("language"), max_length=8, help_text=_("be, ru, en, uk, pl, lt, ...")
    )
    script = models.CharField(_("script"), max_length=4, choices=Script.choices)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    schemes = ArrayField(
        models.CharField(max_length=24),
        verbose_name=_("transliteration schemes"),
        default=list,
        blank=True,
        help_text=_("The romanisation schemes that give this spelling, if generated."),
    )
    generated = models.BooleanField(_("generated"), default=False)
    # Not indexed: nearly every spelling is public, name lookups go through the search_key
    # indexes, and at ten million rows a btree on three values only costs writes and tempts
    # the planner into reading every public spelling instead of the trigram index.
    visibility = visibility_field(indexed=False)

    objects = NameVariantQuerySet.as_manager()

    class Meta:
        ordering = ["person", "kind", "language", "text"]
        verbose_name = _("name variant")
        verbose_name_plural = _("name variants")
        indexes = [
            models.Index(fields=["search_key"], name="prisoners_namevariant_key_idx"),
            GinIndex(
                OpClass(Upper("search_key"), name="gin_trgm_ops"),
                name="prisoners_namevariant_trgm",
            ),
            # The word indexes of ``prisoners.search`` (``word_indexes_declared``): a name by
            # its first or last word, whole or begun, and one slip away, in btree range scans
            # that stop after the rows a page needs, whatever the number of namesakes.
            models.Index(
                fields=["search_key"],
                opclasses=["varchar_pattern_ops"],
                name="prisoners_name_key_prefix",
            ),
            models.Index(
                OpClass(SurnameFirst("search_key"), name="text_pattern_ops"),
                name="prisoners_name_surname_key",
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["person", "text", "language"], name="prisoners_namevariant_unique"
            ),
            models.UniqueConstraint(
                fields=["person", "language"],
                condition=Q(kind="primary"),
                name="prisoners_namevariant_one_primary_per_language",
            ),
            choice_check("prisoners_namevariant", "script", NameVariantScript),
            choice_check("prisoners_namevariant", "kind", NameVariantKind),
            choice_check("prisoners_namevariant", "visibility", Visibility),
            models.CheckConstraint(
                condition=~Q(text="") & ~Q(search_key=""),
                name="prisoners_namevariant_not_empty",
            ),
            models.CheckConstraint(
                condition=Q(generated=False) | ~Q(schemes=[]),
                name="prisoners_namevariant_generated_has_scheme",
            ),
        ]

    def __str__(self) -> str:
        return self.text


class ExternalIdentifierScheme(models.TextChoices):
    VIASNA = "viasna", _("Viasna")
    OVD_INFO = "ovd_info", _("OVD-Info")
    MEMORIAL = "memorial", _("Memorial")
    WIKIDATA = "wikidata", _("Wikidata")
    POLITZEK = "politzek", _("politzek.org")
    IMPORT = "import", _("Imported list")
    OTHER = "other", _("Other")


@tracked()
class ExternalIdentifier(TimeStampedModel):
    Scheme = ExternalIdentifierScheme

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="identifiers")
    scheme = models.CharField(_("list"), max_length=12, choices=Scheme.choices)
    value = models.CharField(_("identifier"), max_length=100)
    url = models.URLField(_("URL"), blank=True)
    visibility = visibility_field()

    objects = VisibilityQuerySet.as_manager()

    class Meta:
        ordering = ["scheme", "value"]
        verbose_name = _("identifier in another list")
        verbose_name_plural = _("identifiers in other lists")
        indexes = [models.Index(fields=["value"], name="prisoners_identifier_value_idx")]
        constraints = [
            models.UniqueConstraint(
                fields=["scheme", "value"], name="prisoners_externalidentifier_unique"
            ),
            choice_check("prisoners_externalidentifier", "scheme", ExternalIdentifierScheme),
            choice_check("prisoners_externalidentifier", "visibility", Visibility),
            models.CheckConstraint(
                condition=~Q(value=""), name="prisoners_externalidentifier_not_empty"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_scheme_display()}: {self.value}"


@tracked()
class PersonCitizenship(TimeStampedModel):
    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="citizenships")
    country = models.ForeignKey(Country, on_delete=models.PROTECT, related_name="citizens")

    class Meta:
        verbose_name = _("citizenship")
        verbose_name_plural = _("citizenships")
        constraints = [
            models.UniqueConstraint(
                fields=["person", "country"], name="prisoners_personcitizenship_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.person}: {self.country}"


@tracked()
class Recognition(TimeStampedModel):
    """Recognition as a political prisoner by an organisation (e.g. Viasna)."""

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="recognitions")
    organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="recognitions"
    )
    recognised_on = models.DateField(_("recognised on"), null=True, blank=True)
    recognised_on_precision = models.CharField(
        _("precision"), max_length=8, choices=DatePrecision.choices, default=DatePrecision.UNKNOWN
    )
    withdrawn_on = models.DateField(_("withdrawn on"), null=True, blank=True)
    visibility = visibility_field()

    objects = VisibilityQuerySet.as_manager()

    class Meta:
        verbose_name = _("recognition")
        verbose_name_plural = _("recognitions")
        constraints = [
            models.UniqueConstraint(
                fields=["person", "organisation"], name="prisoners_recognition_unique"
            ),
            precision_check("prisoners_recognition", "recognised_on"),
            choice_check("prisoners_recognition", "visibility", Visibility),
            models.CheckConstraint(
                condition=Q(withdrawn_on__isnull=True)
                | Q(recognised_on__isnull=True)
                | Q(withdrawn_on__gte=models.F("recognised_on")),
                name="prisoners_recognition_withdrawn_after",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.person} ({self.organisation})"


class AtRiskFlagKind(models.TextChoices):
    SERIOUS_ILLNESS = "serious_illness", _("Serious illness")
    OVER_60 = "over_60", _("Over 60")
    DISABILITY = "disability", _("Disability")
    FAMILY = "family", _("Family situation")
    OTHER = "other", _("Other risk")


@tracked()
class AtRiskFlag(TimeStampedModel):
    Kind = AtRiskFlagKind

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="risk_flags")
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    since = models.DateField(_("since"), null=True, blank=True)
    until = models.DateField(_("until"), null=True, blank=True)
    note = models.TextField(_("note"), blank=True)
    visibility = visibility_field()

    objects = VisibilityQuerySet.as_manager()

    class Meta:
        verbose_name = _("at-risk flag")
        verbose_name_plural = _("at-risk flags")
        constraints = [
            models.UniqueConstraint(
                fields=["person", "kind"],
                condition=Q(until__isnull=True),
                name="prisoners_atriskflag_one_open_per_kind",
            ),
            choice_check("prisoners_atriskflag", "kind", AtRiskFlagKind),
            choice_check("prisoners_atriskflag", "visibility", Visibility),
            models.CheckConstraint(
                condition=Q(until__isnull=True)
                | Q(since__isnull=True)
                | Q(until__gte=models.F("since")),
                name="prisoners_atriskflag_until_after_since",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.person}: {self.get_kind_display()}"


@tracked()
class Affiliation(TimeStampedModel):
    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="affiliations")
    organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="affiliations"
    )
    role = models.CharField(_("role"), max_length=200, blank=True)
    since = models.DateField(_("since"), null=True, blank=True)
    until = models.DateField(_("until"), null=True, blank=True)
    visibility = visibility_field()

    objects = VisibilityQuerySet.as_manager()

    class Meta:
        verbose_name = _("affiliation")
        verbose_name_plural = _("affiliations")
        constraints = [
            models.UniqueConstraint(
                fields=["person", "organisation", "role"], name="prisoners_affiliation_unique"
            ),
            choice_check("prisoners_affiliation", "visibility", Visibility),
            models.CheckConstraint(
                condition=Q(until__isnull=True)
                | Q(since__isnull=True)
                | Q(until__gte=models.F("since")),
                name="prisoners_affiliation_until_after_since",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.person}, {self.role} ({self.organisation})"


# --- Listing snapshot (issue 3, items 1 and 10) ------------------------------------------------


@derived
class PersonListing(models.Model):
    """One row per person: what the listing filters, counts and sorts on, derived from the events.

    Written only by the database: statement-level triggers on the source tables queue the
    persons a write touches, and ``prisoners_listing_refresh`` recomputes their rows with the
    rules of ``events.selectors.with_status`` (see ``prisoners/listing.py`` and migration 0005).
    Never edit it from Python. The status and places are those of ``as_of`` (the day of the last
    refresh); ``valid_until`` is the first later day on which a dated event changes them, when
    the row is refreshed again.

    Lists of facts (articles, deals, recognitions, years of detention, risks) are stored as
    ``id * 4 + level``, ``level`` being the lowest tier that sees the fact's record (0 public,
    1 researchers, 2 staff), so that one GIN index answers every tier.

    The derived facts of a row (status, places, detention dates, days) are one value for every
    viewer who may see the person listed: they are computed from the records that the lowest of
    them sees, the tier of the person's own ``visibility`` (``with_status(..., tier=...)``). A
    published person's row is the public derivation, also for researchers and staff.
    """

    person = models.OneToOneField(
        Person,
        on_delete=models.DO_NOTHING,
        primary_key=True,
        related_name="listing",
        db_constraint=False,
    )
    # Copies of the person's own fields, for the visibility rule (same names as on Person).
    visibility = models.CharField(max_length=12)
    merged_into = models.ForeignKey(
        Person, on_delete=models.DO_NOTHING, null=True, related_name="+", db_constraint=False
    )
    name_withheld = models.BooleanField()
    # Sort keys per interface language: the public primary name of that language, or ``name``.
    sort_name = models.CharField(max_length=200, null=True, db_collation="und-x-icu")
    sort_name_be = models.CharField(max_length=200, null=True, db_collation="be-x-icu")
    sort_name_ru = models.CharField(max_length=200, null=True, db_collation="ru-x-icu")
    sort_name_uk = models.CharField(max_length=200, null=True, db_collation="uk-x-icu")
    gender = models.CharField(max_length=8)
    birth_year = models.SmallIntegerField(null=True)
    home_region = models.ForeignKey(
        Region, on_delete=models.DO_NOTHING, null=True, related_name="+", db_constraint=False
    )
    # Derived on ``as_of``, as events.selectors.with_status for the tier of ``visibility``.
    status = models.CharField(max_length=20)
    country_now = models.ForeignKey(
        Country, on_delete=models.DO_NOTHING, null=True, related_name="+", db_constraint=False
    )
    place_now = models.ForeignKey(
        Place, on_delete=models.DO_NOTHING, null=True, related_name="+", db_constraint=False
    )
    place_level = models.SmallIntegerField(null=True)
    custody_country = models.ForeignKey(
        Country, on_delete=models.DO_NOTHING, null=True, related_name="+", db_constraint=False
    )
    facility = models.ForeignKey(
        Place, on_delete=models.DO_NOTHING, null=True, related_name="+", db_constraint=False
    )
    detained_on = models.DateField(null=True)
    detained_on_precision = models.CharField(max_length=8, blank=True)
    first_arrest_on = models.DateField(null=True)
    # Days in detention on day D: ``days_key`` + (D - DAYS_EPOCH) while ``growing`` (held now,
    # with a known arrest date), else ``days_key``: each kind sorts on its own index.
    days_key = models.IntegerField()
    growing = models.BooleanField()
    as_of = models.DateField()
    valid_until = models.DateField(null=True)
    article_codes = ArrayField(models.BigIntegerField(), default=list)
    deal_codes = ArrayField(models.BigIntegerField(), default=list)
    recogniser_codes = ArrayField(models.BigIntegerField(), default=list)
    year_codes = ArrayField(models.IntegerField(), default=list)
    risk_codes = ArrayField(models.IntegerField(), default=list)

    class Meta:
        managed = True
        verbose_name = _("listing row")
        verbose_name_plural = _("listing rows")
        indexes = [
            models.Index(fields=["sort_name", "person"], name="prisoners_listing_name_en"),
            models.Index(fields=["sort_name_be", "person"], name="prisoners_listing_name_be"),
            models.Index(fields=["sort_name_ru", "person"], name="prisoners_listing_name_ru"),
            models.Index(fields=["sort_name_uk", "person"], name="prisoners_listing_name_uk"),
            models.Index(fields=["status"], name="prisoners_listing_status"),
            models.Index(fields=["gender"], name="prisoners_listing_gender"),
            models.Index(fields=["birth_year"], name="prisoners_listing_birth"),
            models.Index(fields=["detained_on", "person"], name="prisoners_listing_detained"),
            models.Index(
                F("detained_on").desc(nulls_last=True),
                F("person").desc(),
                name="prisoners_listing_det_desc",
            ),
            models.Index(fields=["first_arrest_on"], name="prisoners_listing_first_arr"),
            models.Index(
                fields=["days_key", "person"],
                name="prisoners_listing_days_grow",
                condition=Q(growing=True),
            ),
            models.Index(
                fields=["days_key", "person"],
                name="prisoners_listing_days_fixed",
                condition=Q(growing=False),
            ),
            models.Index(
                fields=["valid_until"],
                name="prisoners_listing_valid_until",
                condition=Q(valid_until__isnull=False),
            ),
            GinIndex(fields=["article_codes"], name="prisoners_listing_articles"),
            GinIndex(fields=["deal_codes"], name="prisoners_listing_deals"),
            GinIndex(fields=["recogniser_codes"], name="prisoners_listing_recognisers"),
            GinIndex(fields=["year_codes"], name="prisoners_listing_years"),
            GinIndex(fields=["risk_codes"], name="prisoners_listing_risks"),
        ]

    def __str__(self) -> str:
        return f"listing of person {self.person_id}"
