"""Staff admin for episodes, releases, transfers, deals, sources and citations.

Every admin uses ``prisoners.admin.AuditMixin`` (a reason on every form, user and reason on every
history event). Records of a person are searched by any spelling of the person's name.
"""

from __future__ import annotations

from typing import Any, ClassVar

from django.contrib import admin
from django.contrib.contenttypes.admin import GenericTabularInline
from django.contrib.contenttypes.models import ContentType
from django.db.models import Count, IntegerField, OuterRef, Prefetch, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.forms import ModelChoiceField
from django.http import HttpRequest
from django.urls import NoReverseMatch, reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from pghistory.models import Event

from prisoners.admin import (
    AuditedModelForm,
    AuditMixin,
    InlineForm,
    PersonChildAdmin,
)

from .models import (
    Charge,
    Citation,
    Claim,
    CourtDecision,
    CriminalArticle,
    CriminalCode,
    CustodyPlacement,
    DealDestination,
    DealOnwardCountry,
    DealParty,
    Death,
    DetentionEpisode,
    IncommunicadoPeriod,
    Release,
    ReleaseDeal,
    Source,
    Transfer,
)
from .services import content_hash

# --- Sources, citations, claims -----------------------------------------------------------------


def _fact_content_types() -> QuerySet[ContentType]:
    """Content types of the project's records (not the history tables)."""
    ids = [
        ct.pk
        for ct in ContentType.objects.filter(app_label__in=("prisoners", "events"))
        if (model := ct.model_class()) is not None and not issubclass(model, Event)
    ]
    return ContentType.objects.filter(pk__in=ids).order_by("app_label", "model")


def _admin_link(obj: Any) -> str:
    if obj is None:
        return "—"
    try:
        url = reverse(f"admin:{obj._meta.app_label}_{obj._meta.model_name}_change", args=[obj.pk])
    except NoReverseMatch:
        return str(obj)
    return format_html('<a href="{}">{}</a>', url, obj)


class FactAdmin(AuditMixin, admin.ModelAdmin):
    """Citations and claims: they point at any record by content type and id."""

    list_select_related: ClassVar[tuple[str, ...]] = ("source", "content_type")
    autocomplete_fields: ClassVar[tuple[str, ...]] = ("source",)
    search_fields = ("source__title",)
    ordering = ("-id",)

    def formfield_for_foreignkey(
        self, db_field: Any, request: HttpRequest, **kwargs: Any
    ) -> ModelChoiceField[Any] | None:
        if db_field.name == "content_type":
            kwargs["queryset"] = _fact_content_types()
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        return super().get_queryset(request).prefetch_related("target")

    @admin.display(description=_("about"))
    def target_link(self, obj: Citation | Claim) -> str:
        return _admin_link(obj.target)


@admin.register(Source)
class SourceAdmin(AuditMixin, admin.ModelAdmin):
    list_display = ("title", "publisher", "published_on", "kind", "language", "visibility")
    list_filter = ("kind", "visibility", "language")
    search_fields = ("title", "publisher", "=url")
    readonly_fields = ("content_hash",)
    show_full_result_count = False

    def save_model(self, request: HttpRequest, obj: Source, form: Any, change: Any) -> None:
        obj.content_hash = content_hash(obj.text)
        super().save_model(request, obj, form, change)


@admin.register(Citation)
class CitationAdmin(FactAdmin):
    list_display = ("source", "target_link", "field_name", "reliability", "visibility")
    list_filter = ("reliability", "visibility", "content_type")


@admin.register(Claim)
class ClaimAdmin(FactAdmin):
    list_display = ("field_name", "value", "target_link", "source", "reliability", "accepted")
    list_filter = ("accepted", "reliability", "content_type")


class CitationInline(GenericTabularInline):
    model = Citation
    form = InlineForm
    ct_field = "content_type"
    ct_fk_field = "object_id"
    fields = ("source", "field_name", "quote", "reliability", "visibility")
    autocomplete_fields = ("source",)
    extra = 0


# --- Criminal codes ---------------------------------------------------------------------------


@admin.register(CriminalCode)
class CriminalCodeAdmin(AuditMixin, admin.ModelAdmin):
    list_display = ("short_name", "name", "country")
    list_select_related = ("country",)
    search_fields = ("short_name", "name")
    autocomplete_fields = ("country",)


@admin.register(CriminalArticle)
class CriminalArticleAdmin(AuditMixin, admin.ModelAdmin):
    list_display = ("__str__", "number", "title", "code")
    list_filter = ("code",)
    list_select_related = ("code",)
    search_fields = ("^number", "title", "title_ru", "title_be", "code__short_name")
    autocomplete_fields = ("code",)

    def get_queryset(self, request: HttpRequest) -> QuerySet[CriminalArticle]:
        return super().get_queryset(request).select_related("code")


# --- Episodes -------------------------------------------------------------------------------------


class PersonFromEpisodeForm(InlineForm):
    """A placement's person is the episode's person (kept on the row so overlaps are refused)."""

    def save(self, commit: bool = True) -> Any:
        self.instance.person_id = self.instance.episode.person_id
        return super().save(commit)


class PersonFromEpisodeAdminForm(AuditedModelForm, PersonFromEpisodeForm):
    pass


class ChargeInline(admin.TabularInline):
    model = Charge
    form = InlineForm
    fields = ("article", "part", "charged_on", "note", "visibility")
    autocomplete_fields = ("article",)
    extra = 0


class CourtDecisionInline(admin.StackedInline):
    model = CourtDecision
    form = InlineForm
    fields = (
        ("kind", "decided_on", "decided_on_precision"),
        ("court", "judge"),
        ("term_years", "term_months", "term_days", "term_description"),
        ("term_starts_on", "regime"),
        "amends",
        "note",
        "visibility",
    )
    extra = 0

    def formfield_for_foreignkey(
        self, db_field: Any, request: HttpRequest, **kwargs: Any
    ) -> ModelChoiceField[Any] | None:
        if db_field.name == "amends":
            # An appeal or extension amends a decision of the same episode.
            match = request.resolver_match
            episode_id = match.kwargs.get("object_id") if match else None
            kwargs["queryset"] = CourtDecision.objects.filter(
                episode_id=episode_id if episode_id and episode_id.isdigit() else None
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


class CustodyPlacementInline(admin.TabularInline):
    model = CustodyPlacement
    form = PersonFromEpisodeForm
    fields = ("kind", "facility", "started_on", "started_on_precision", "ended_on", "visibility")
    autocomplete_fields = ("facility",)
    extra = 0


class IncommunicadoPeriodInline(admin.TabularInline):
    model = IncommunicadoPeriod
    form = InlineForm
    fields = ("kind", "started_on", "started_on_precision", "ended_on", "note", "visibility")
    extra = 0


@admin.register(DetentionEpisode)
class DetentionEpisodeAdmin(PersonChildAdmin):
    list_display = ("__str__", "country", "arrested_on", "ended_on", "end_reason", "visibility")
    list_filter = ("end_reason", "visibility", "arrested_on_precision")
    list_select_related = ("person", "country")
    autocomplete_fields = ("person", "country", "arrest_place")
    fields = (
        "person",
        "country",
        ("arrested_on", "arrested_on_precision"),
        "arrest_place",
        "arresting_authority",
        "summary",
        "visibility",
        ("ended_on", "end_reason"),
        "ended_by",
    )
    readonly_fields = ("ended_on", "end_reason", "ended_by")
    inlines = (ChargeInline, CourtDecisionInline, CustodyPlacementInline, IncommunicadoPeriodInline)

    def get_queryset(self, request: HttpRequest) -> QuerySet[DetentionEpisode]:
        # The person is in the episode's label: autocomplete shows 20 at once.
        return super().get_queryset(request).select_related("person")

    @admin.display(description=_("ended by"))
    def ended_by(self, obj: DetentionEpisode) -> str:
        """The release or death that ended the episode (the end date follows it)."""
        if obj.pk is None:
            return "—"
        ending = (
            Release.objects.filter(episode=obj).first() or Death.objects.filter(episode=obj).first()
        )
        return _admin_link(ending)


class EpisodeChildAdmin(PersonChildAdmin):
    person_path = "episode__person"
    search_fields: ClassVar[tuple[str, ...]] = ("episode__person__name",)
    autocomplete_fields: ClassVar[tuple[str, ...]] = ("episode",)
    list_select_related: ClassVar[tuple[str, ...]] = ("episode__person",)

    @admin.display(description=_("person"), ordering="episode__person__name")
    def person(self, obj: Any) -> str:
        return str(obj.episode.person)


@admin.register(Charge)
class ChargeAdmin(EpisodeChildAdmin):
    list_display = ("person", "article", "part", "charged_on", "visibility")
    list_filter = ("visibility",)
    list_select_related = ("episode__person", "article__code")
    autocomplete_fields = ("episode", "article")


@admin.register(CourtDecision)
class CourtDecisionAdmin(EpisodeChildAdmin):
    list_display = ("person", "kind", "decided_on", "term", "regime", "court", "visibility")
    list_filter = ("kind", "regime", "visibility")
    autocomplete_fields = ("episode", "amends")

    @admin.display(description=_("term"))
    def term(self, obj: CourtDecision) -> str:
        units = ((obj.term_years, _("y")), (obj.term_months, _("m")), (obj.term_days, _("d")))
        exact = " ".join(f"{n}{unit}" for n, unit in units if n)
        return exact or obj.term_description or "—"


@admin.register(CustodyPlacement)
class CustodyPlacementAdmin(PersonChildAdmin):
    form = PersonFromEpisodeAdminForm
    list_display = ("person", "kind", "facility", "started_on", "ended_on", "visibility")
    list_filter = ("kind", "visibility")
    list_select_related = ("person", "facility")
    autocomplete_fields = ("episode", "facility")
    fields = (
        "episode",
        "person",
        "kind",
        "facility",
        "started_on",
        "started_on_precision",
        "ended_on",
        "visibility",
    )
    readonly_fields = ("person",)


@admin.register(IncommunicadoPeriod)
class IncommunicadoPeriodAdmin(EpisodeChildAdmin):
    list_display = ("person", "kind", "started_on", "ended_on", "visibility")
    list_filter = ("kind", "visibility")


# --- Releases, deaths, transfers ------------------------------------------------------------------


class PersonFromReleaseForm(InlineForm):
    """A leg after a release belongs to the released person."""

    def save(self, commit: bool = True) -> Any:
        if self.instance.release_id is not None:
            self.instance.person_id = self.instance.release.episode.person_id
        return super().save(commit)


class TransferInline(admin.TabularInline):
    model = Transfer
    form = PersonFromReleaseForm
    fields = (
        "sequence",
        "transferred_on",
        "transferred_on_precision",
        "from_country",
        "from_place",
        "to_country",
        "to_place",
        "mode",
        "documents",
        "visibility",
    )
    autocomplete_fields = ("from_country", "from_place", "to_country", "to_place")
    ordering = ("sequence",)
    extra = 0
    verbose_name_plural = _("transfer legs after this release (in order)")


@admin.register(Release)
class ReleaseAdmin(EpisodeChildAdmin):
    list_display = ("person", "released_on", "kind", "deal", "place", "visibility")
    list_filter = ("kind", "visibility", "released_on_precision")
    list_select_related = ("episode__person", "deal", "place")
    autocomplete_fields = ("episode", "deal", "place")
    ordering = ("-released_on", "-id")
    inlines = (TransferInline,)


@admin.register(Death)
class DeathAdmin(PersonChildAdmin):
    list_display = ("person", "died_on", "in_custody", "place", "visibility")
    list_filter = ("in_custody", "visibility")
    list_select_related = ("person", "place")
    autocomplete_fields = ("person", "episode", "place")


@admin.register(Transfer)
class TransferAdmin(PersonChildAdmin):
    list_display = (
        "person",
        "sequence",
        "transferred_on",
        "from_country",
        "to_country",
        "mode",
        "documents",
        "visibility",
    )
    list_filter = ("mode", "documents", "visibility")
    list_select_related = ("person", "from_country", "to_country")
    autocomplete_fields = (
        "person",
        "release",
        "from_country",
        "from_place",
        "to_country",
        "to_place",
    )


# --- Deals ------------------------------------------------------------------------------------


def _onward(destination: DealDestination) -> str:
    """The onward countries in the order entered (the order the report gives)."""
    return ", ".join(str(link.country) for link in destination.onward_links.all())


def _onward_links() -> Prefetch[Any]:
    return Prefetch(
        "onward_links", queryset=DealOnwardCountry.objects.select_related("country").order_by("id")
    )


def _breakdown(deal: ReleaseDeal) -> str:
    """'114 → Ukraine (then Poland, Lithuania); 9 → Lithuania'."""
    parts = []
    for destination in deal.destinations.all():
        onward = _onward(destination)
        parts.append(f"{destination}" + (f" ({_('then')} {onward})" if onward else ""))
    return "; ".join(parts) or "—"


class DealPartyInline(admin.TabularInline):
    model = DealParty
    form = InlineForm
    fields = ("role", "name", "description", "organisation", "country")
    autocomplete_fields = ("organisation", "country")
    extra = 0


class DealDestinationInline(admin.TabularInline):
    model = DealDestination
    form = InlineForm
    fields = ("country", "reported_count", "onward", "note")
    readonly_fields = ("onward",)
    autocomplete_fields = ("country",)
    show_change_link = True
    extra = 0

    @admin.display(description=_("then to be taken to (edit on the destination's page)"))
    def onward(self, obj: DealDestination) -> str:
        return _onward(obj) if obj.pk else "—"

    def get_queryset(self, request: HttpRequest) -> QuerySet[DealDestination]:
        return (
            super()
            .get_queryset(request)
            .select_related("country")
            .prefetch_related(_onward_links())
        )


@admin.register(ReleaseDeal)
class ReleaseDealAdmin(AuditMixin, admin.ModelAdmin):
    list_display = ("title", "announced_on", "completed_on", "numbers", "breakdown", "visibility")
    list_filter = ("visibility",)
    search_fields = ("title", "slug")
    prepopulated_fields = {"slug": ("title",)}
    readonly_fields = ("numbers", "breakdown")
    fields = (
        "title",
        "slug",
        ("announced_on", "completed_on"),
        "summary",
        "consideration",
        "reported_total",
        "numbers",
        "breakdown",
        "visibility",
    )
    inlines = (DealPartyInline, DealDestinationInline, CitationInline)

    def get_queryset(self, request: HttpRequest) -> QuerySet[ReleaseDeal]:
        identified = (
            Release.objects.filter(deal=OuterRef("pk"))
            .order_by()
            .values("deal")
            .annotate(n=Count("episode__person", distinct=True))
            .values("n")
        )
        return (
            super()
            .get_queryset(request)
            .annotate(identified=Coalesce(Subquery(identified, output_field=IntegerField()), 0))
            .prefetch_related(
                Prefetch(
                    "destinations",
                    queryset=DealDestination.objects.select_related("country").prefetch_related(
                        _onward_links()
                    ),
                )
            )
        )

    @admin.display(description=_("released"))
    def numbers(self, obj: ReleaseDeal) -> str:
        """'123 reported, N identified': N persons linked by their release."""
        if obj.pk is None:
            return "—"
        identified = getattr(obj, "identified", None)
        if identified is None:
            identified = obj.releases.values("episode__person").distinct().count()
        reported = obj.reported_total if obj.reported_total is not None else "?"
        url = reverse("admin:events_release_changelist") + f"?deal__id__exact={obj.pk}"
        return format_html('{} reported, <a href="{}">{} identified</a>', reported, url, identified)

    @admin.display(description=_("reported breakdown"))
    def breakdown(self, obj: ReleaseDeal) -> str:
        return _breakdown(obj) if obj.pk else "—"


@admin.register(DealParty)
class DealPartyAdmin(AuditMixin, admin.ModelAdmin):
    list_display = ("name", "role", "deal", "organisation", "country")
    list_filter = ("role",)
    list_select_related = ("deal", "organisation", "country")
    search_fields = ("name", "deal__title")
    autocomplete_fields = ("deal", "organisation", "country")


class DealOnwardCountryInline(admin.TabularInline):
    model = DealOnwardCountry
    form = InlineForm
    autocomplete_fields = ("country",)
    extra = 0


@admin.register(DealDestination)
class DealDestinationAdmin(AuditMixin, admin.ModelAdmin):
    list_display = ("deal", "country", "reported_count", "onward")
    list_select_related = ("deal", "country")
    search_fields = ("deal__title", "country__name")
    autocomplete_fields = ("deal", "country")
    inlines = (DealOnwardCountryInline,)

    def get_queryset(self, request: HttpRequest) -> QuerySet[DealDestination]:
        return (
            super()
            .get_queryset(request)
            .select_related("country")
            .prefetch_related(_onward_links())
        )

    @admin.display(description=_("then to be taken to"))
    def onward(self, obj: DealDestination) -> str:
        return _onward(obj) or "—"


@admin.register(DealOnwardCountry)
class DealOnwardCountryAdmin(AuditMixin, admin.ModelAdmin):
    list_display = ("deal", "destination", "country")
    list_select_related = ("destination__deal", "destination__country", "country")
    search_fields = ("destination__deal__title", "country__name")
    autocomplete_fields = ("destination", "country")

    @admin.display(description=_("deal"))
    def deal(self, obj: DealOnwardCountry) -> str:
        return str(obj.destination.deal)
