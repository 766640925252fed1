"""The read-only open-data API: detention episodes with what happened in them, release deals,
and statistics. Shared machinery (tiers, pagination, error schema) is in ``prisoners.api``."""

from __future__ import annotations

from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db.models import (
    Count,
    IntegerField,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
)
from django.db.models.functions import Coalesce
from django.utils.translation import gettext_lazy as _
from django_filters import rest_framework as filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    extend_schema,
    extend_schema_field,
    extend_schema_view,
)
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from prisoners.api import (
    ApiSchema,
    DeathSerializer,
    IdFilter,
    ReadOnlyApiViewSet,
    TieredSerializer,
    TransferLegSerializer,
    country_code,
    person_queryset,
    request_tier,
    today,
)
from prisoners.models import Person, Place
from prisoners.visibility import Tier, display_name

from .models import (
    Charge,
    Citation,
    CourtDecision,
    CriminalArticle,
    CustodyPlacement,
    DealDestination,
    DealParty,
    Death,
    DetentionEpisode,
    IncommunicadoPeriod,
    Release,
    ReleaseDeal,
    Source,
    Transfer,
)
from .selectors import episode_end_seen, episode_prefetches, placement_end_seen
from .statistics import AsOfError, Statistics, parse_as_of, statistics_on

# --- Reference catalogues -------------------------------------------------------------------


class PlaceSerializer(serializers.Serializer[Place]):
    """A place from the catalogue: its name, kind and country; never its postal address."""

    name = serializers.CharField(read_only=True)
    kind = serializers.ChoiceField(choices=Place.Kind.choices, read_only=True)
    country = serializers.CharField(source="country.code", read_only=True)


class ArticleSerializer(serializers.Serializer[CriminalArticle]):
    code = serializers.CharField(source="code.short_name", read_only=True)
    number = serializers.CharField(read_only=True)
    title = serializers.CharField(read_only=True)


class PersonRefSerializer(serializers.Serializer[Person]):
    """The person a record belongs to: id, name as the viewer may see it, profile page."""

    id = serializers.IntegerField(read_only=True)
    name = serializers.SerializerMethodField()
    url = serializers.SerializerMethodField()

    @extend_schema_field(OpenApiTypes.STR)
    def get_name(self, person: Person) -> str:
        return display_name(person, request_tier(self.context["request"]))

    @extend_schema_field(OpenApiTypes.URI)
    def get_url(self, person: Person) -> str:
        return str(self.context["request"].build_absolute_uri(person.get_absolute_url()))


# --- Episodes -------------------------------------------------------------------------------


class ChargeSerializer(TieredSerializer):
    article = ArticleSerializer(read_only=True)

    class Meta:
        model = Charge
        fields = ("article", "part", "charged_on")


class CourtDecisionSerializer(TieredSerializer):
    class Meta:
        model = CourtDecision
        fields = (
            "kind",
            "decided_on",
            "decided_on_precision",
            "court",
            "judge",
            "term_years",
            "term_months",
            "term_days",
            "term_description",
            "regime",
        )


class PlacementSerializer(TieredSerializer):
    facility = PlaceSerializer(read_only=True, allow_null=True)

    class Meta:
        model = CustodyPlacement
        fields = ("facility", "kind", "started_on", "started_on_precision", "ended_on")

    def to_representation(self, instance: Any) -> dict[str, Any]:
        data = super().to_representation(instance)
        if "ended_on" in data and placement_end_seen(instance, self.tier) is None:
            data["ended_on"] = None  # cut by an end this viewer does not see
        return data


class IncommunicadoSerializer(TieredSerializer):
    class Meta:
        model = IncommunicadoPeriod
        fields = ("kind", "started_on", "started_on_precision", "ended_on")


class ReleaseSerializer(TieredSerializer):
    deal = serializers.SerializerMethodField(help_text="The release deal's slug, if published.")
    place = PlaceSerializer(read_only=True, allow_null=True)
    transfers = TransferLegSerializer(
        many=True, read_only=True, source="visible_transfers", help_text="Legs after release."
    )

    class Meta:
        model = Release
        fields = ("released_on", "released_on_precision", "kind", "deal", "place", "transfers")
        derived = ("transfers",)

    @extend_schema_field({"type": "string", "nullable": True})
    def get_deal(self, release: Release) -> str | None:
        return release.deal.slug if release.deal and release.deal_shown else None  # type: ignore[attr-defined]


class EpisodeSerializer(TieredSerializer):
    """A detention episode: arrest, charges, court decisions, placements, incommunicado
    periods, and its end (release with the transfer legs after it, or death in custody)."""

    person = PersonRefSerializer(read_only=True)
    country = country_code()
    arrest_place = PlaceSerializer(read_only=True, allow_null=True)
    charges = ChargeSerializer(many=True, read_only=True, source="shown_charges")
    court_decisions = CourtDecisionSerializer(many=True, read_only=True, source="shown_decisions")
    placements = PlacementSerializer(many=True, read_only=True, source="shown_placements")
    incommunicado_periods = IncommunicadoSerializer(
        many=True, read_only=True, source="shown_isolation"
    )
    release = ReleaseSerializer(read_only=True, allow_null=True, source="shown_release")
    death = DeathSerializer(read_only=True, allow_null=True, source="visible_death")

    class Meta:
        model = DetentionEpisode
        fields = (
            "id",
            "person",
            "country",
            "arrested_on",
            "arrested_on_precision",
            "arrest_place",
            "arresting_authority",
            "ended_on",
            "end_reason",
            "summary",
            "charges",
            "court_decisions",
            "placements",
            "incommunicado_periods",
            "release",
            "death",
        )
        derived = (
            "id",
            "person",
            "charges",
            "court_decisions",
            "placements",
            "incommunicado_periods",
            "release",
            "death",
        )

    def to_representation(self, instance: Any) -> dict[str, Any]:
        data = super().to_representation(instance)
        if not episode_end_seen(instance, self.tier):
            # Ended by a release or death this viewer does not see: still open for them.
            if "ended_on" in data:
                data["ended_on"] = None
            if "end_reason" in data:
                data["end_reason"] = DetentionEpisode.EndReason.NONE.value
        return data


def _transfers_prefetch(tier: Tier, *, through: str = "") -> Prefetch[Any]:
    return Prefetch(
        f"{through}transfers",
        queryset=Transfer.objects.visible_to(tier)
        .select_related("from_country", "to_country", "from_place", "to_place")
        .order_by("sequence", "id"),
        to_attr="visible_transfers",
    )


def episode_list(*, tier: Tier) -> QuerySet[DetentionEpisode]:
    """Episodes a viewer may see, of persons whose profile they may open, with everything the
    serializer reads prefetched (one query per relation)."""
    return (
        DetentionEpisode.objects.visible_to(tier)
        .filter(person__in=person_queryset(tier).values("pk"))
        .select_related("person", "country", "arrest_place__country")
        .prefetch_related(
            *episode_prefetches(tier),
            _transfers_prefetch(tier, through="shown_release__"),
            Prefetch("death", queryset=Death.objects.visible_to(tier), to_attr="visible_death"),
        )
        .order_by("id")
    )


class EpisodeFilter(filters.FilterSet):
    person = IdFilter(field_name="person_id", label=_("Person id"))
    country = filters.CharFilter(
        method="filter_country", max_length=2, label=_("Country holding the person (ISO code)")
    )
    deal = filters.CharFilter(
        method="filter_deal", max_length=120, label=_("Ended by a release in this deal (slug)")
    )
    open = filters.ChoiceFilter(
        choices=(("true", "true"), ("false", "false")),
        method="filter_open",
        label=_("true: not ended (still held); false: ended"),
    )
    arrested_after = filters.DateFilter(
        field_name="arrested_on", lookup_expr="gte", label=_("Arrested on or after")
    )
    arrested_before = filters.DateFilter(
        field_name="arrested_on", lookup_expr="lte", label=_("Arrested on or before")
    )

    class Meta:
        model = DetentionEpisode
        fields = ("person", "country", "deal", "open", "arrested_after", "arrested_before")

    def filter_open(self, queryset: QuerySet[Any], name: str, value: str) -> QuerySet[Any]:
        # Open as the viewer sees it: an end they do not see leaves the episode open.
        tier = request_tier(self.request)
        ended = Q(ended_on__isnull=False, end_level__lte=int(tier))
        return queryset.exclude(ended) if value == "true" else queryset.filter(ended)

    def filter_country(self, queryset: QuerySet[Any], name: str, value: str) -> QuerySet[Any]:
        return queryset.filter(country__code=value.upper())

    def filter_deal(self, queryset: QuerySet[Any], name: str, value: str) -> QuerySet[Any]:
        tier = request_tier(self.request)
        deals = ReleaseDeal.objects.visible_to(tier).filter(slug=value).values("pk")
        releases = Release.objects.visible_to(tier).filter(deal__in=deals)
        return queryset.filter(pk__in=releases.values("episode_id"))


@extend_schema_view(
    list=extend_schema(
        summary="Detention episodes",
        description=(
            "Detention episodes with their charges, court decisions, custody placements, "
            "incommunicado periods, and how they ended: a release (with the transfer legs "
            "after it) or a death in custody. Ordered by id."
        ),
    ),
    retrieve=extend_schema(summary="A detention episode"),
)
class EpisodeViewSet(ReadOnlyApiViewSet):
    serializer_class = EpisodeSerializer
    filterset_class = EpisodeFilter

    def get_queryset(self) -> QuerySet[DetentionEpisode]:
        return episode_list(tier=self.tier)


# --- Deals ----------------------------------------------------------------------------------


class DealDestinationSerializer(TieredSerializer):
    country = country_code()
    onward_countries: serializers.SlugRelatedField[Any] = serializers.SlugRelatedField(
        slug_field="code", many=True, read_only=True
    )

    class Meta:
        model = DealDestination
        fields = ("country", "reported_count", "onward_countries", "note")


class DealPartySerializer(TieredSerializer):
    organisation = serializers.CharField(
        source="organisation.name", read_only=True, allow_null=True
    )
    country = serializers.CharField(source="country.code", read_only=True, allow_null=True)

    class Meta:
        model = DealParty
        fields = ("role", "name", "description", "organisation", "country")


class SourceSerializer(TieredSerializer):
    class Meta:
        model = Source
        fields = ("kind", "title", "publisher", "url", "published_on", "language")


class DealSerializer(TieredSerializer):
    url = serializers.SerializerMethodField(help_text="The deal's public page.")
    identified = serializers.IntegerField(
        read_only=True, help_text="Persons identified so far as released in this deal."
    )

    class Meta:
        model = ReleaseDeal
        fields: tuple[str, ...] = (
            "slug",
            "url",
            "title",
            "announced_on",
            "completed_on",
            "summary",
            "consideration",
            "reported_total",
            "identified",
        )
        derived: tuple[str, ...] = ("url", "identified")

    @extend_schema_field(OpenApiTypes.URI)
    def get_url(self, deal: ReleaseDeal) -> str:
        return str(self.context["request"].build_absolute_uri(deal.get_absolute_url()))


class DealDetailSerializer(DealSerializer):
    """A deal with the reported breakdown by destination, the mediators and parties, and the
    sources cited for it."""

    destinations = DealDestinationSerializer(many=True, read_only=True)
    parties = DealPartySerializer(many=True, read_only=True)
    sources = SourceSerializer(many=True, read_only=True, source="visible_sources")

    class Meta(DealSerializer.Meta):
        fields = (*DealSerializer.Meta.fields, "destinations", "parties", "sources")
        derived = (*DealSerializer.Meta.derived, "destinations", "parties", "sources")


def deal_list(*, tier: Tier) -> QuerySet[ReleaseDeal]:
    """Deals a viewer may see, newest first, with ``identified``: the persons (named or not)
    whose release in the deal the viewer may see."""
    identified = (
        Release.objects.visible_to(tier)
        .filter(deal=OuterRef("pk"))
        .order_by()
        .values("deal")
        .annotate(n=Count("episode__person", distinct=True))
        .values("n")
    )
    return (
        ReleaseDeal.objects.visible_to(tier)
        .annotate(identified=Coalesce(Subquery(identified, output_field=IntegerField()), 0))
        .order_by("-announced_on", "-id")
    )


def deal_detail_queryset(*, tier: Tier) -> QuerySet[ReleaseDeal]:
    """Deals with their breakdown by destination and their parties (seen with the deal)."""
    return deal_list(tier=tier).prefetch_related(
        Prefetch(
            "destinations",
            queryset=DealDestination.objects.select_related("country")
            .prefetch_related("onward_countries")
            .order_by("-reported_count", "id"),
        ),
        Prefetch(
            "parties",
            queryset=DealParty.objects.select_related("organisation", "country").order_by(
                "role", "name"
            ),
        ),
    )


@extend_schema_view(
    list=extend_schema(summary="Release deals", description="Newest first."),
    retrieve=extend_schema(summary="A release deal"),
)
class DealViewSet(ReadOnlyApiViewSet):
    lookup_field = "slug"
    lookup_value_regex = r"[-a-zA-Z0-9_]+"

    def get_queryset(self) -> QuerySet[ReleaseDeal]:
        if self.action == "retrieve":
            return deal_detail_queryset(tier=self.tier)
        return deal_list(tier=self.tier)

    def get_serializer_class(self) -> type[serializers.BaseSerializer[Any]]:
        return DealDetailSerializer if self.action == "retrieve" else DealSerializer

    def get_object(self) -> ReleaseDeal:
        deal: ReleaseDeal = super().get_object()
        deal.visible_sources = list(deal_sources(deal=deal, tier=self.tier))  # type: ignore[attr-defined]
        return deal


def deal_sources(*, deal: ReleaseDeal, tier: Tier) -> QuerySet[Source]:
    """The sources cited for a deal (the deal itself or one of its fields) that a viewer may
    see, through a citation they may see."""
    citations = Citation.objects.visible_to(tier).filter(
        content_type=ContentType.objects.get_for_model(ReleaseDeal), object_id=deal.pk
    )
    return (
        Source.objects.visible_to(tier)
        .filter(pk__in=citations.values("source_id"))
        .order_by("-published_on", "-id")
    )


# --- Statistics ---------------------------------------------------------------------------
# The figures of the statistics page (``events.statistics``): kept current by database triggers,
# read in three queries whatever the number of persons, for any past day.


class CustodyPointSerializer(serializers.Serializer[Any]):
    on = serializers.DateField(read_only=True)
    in_custody = serializers.IntegerField(read_only=True)


class ReleaseMonthSerializer(serializers.Serializer[Any]):
    month = serializers.DateField(read_only=True, help_text="The first day of the month.")
    total = serializers.IntegerField(read_only=True)
    by_kind = serializers.DictField(
        child=serializers.IntegerField(), read_only=True, help_text="Releases per kind."
    )


class FlowSerializer(serializers.Serializer[Any]):
    origin = serializers.CharField(
        read_only=True, source="source", help_text="Country of origin: name (code)."
    )
    destination = serializers.CharField(
        read_only=True, source="target", help_text="Destination: name (code)."
    )
    count = serializers.IntegerField(read_only=True)


class BreakdownRowSerializer(serializers.Serializer[Any]):
    id = serializers.IntegerField(read_only=True, source="key")
    name = serializers.CharField(read_only=True, source="label")
    detail = serializers.CharField(
        read_only=True, help_text="Town of a facility, title of an article."
    )
    count = serializers.IntegerField(read_only=True)


class StatisticsSerializer(serializers.Serializer[Any]):
    as_of = serializers.DateField(read_only=True)
    in_custody = serializers.IntegerField(
        read_only=True,
        help_text="Persons in pre-trial detention, imprisoned or under house arrest.",
    )
    in_custody_by_month = serializers.SerializerMethodField(
        help_text="In custody on the last day of each month, then on the day asked for."
    )
    releases_by_month = serializers.SerializerMethodField()
    transfers = FlowSerializer(
        many=True, read_only=True, source="flows", help_text="Legs across borders, up to the day."
    )
    facilities = BreakdownRowSerializer(
        many=True, read_only=True, help_text="In custody on the day, by facility."
    )
    articles = BreakdownRowSerializer(
        many=True, read_only=True, help_text="In custody on the day, by criminal-code article."
    )
    regions = BreakdownRowSerializer(
        many=True, read_only=True, help_text="In custody on the day, by home region."
    )

    @extend_schema_field(CustodyPointSerializer(many=True))
    def get_in_custody_by_month(self, stats: Statistics) -> list[dict[str, Any]]:
        return [{"on": day, "in_custody": n} for day, n in stats.custody_series]

    @extend_schema_field(ReleaseMonthSerializer(many=True))
    def get_releases_by_month(self, stats: Statistics) -> list[dict[str, Any]]:
        kinds = [kind for kind, _label in stats.release_kinds]
        return [
            {
                "month": month.month,
                "total": month.total,
                "by_kind": dict(zip(kinds, month.counts, strict=True)),
            }
            for month in stats.release_months
        ]


AS_OF = OpenApiParameter(
    "as_of",
    OpenApiTypes.DATE,
    description="The day the figures are for (YYYY-MM-DD, from 1900 to today); default today.",
)


class StatisticsView(APIView):
    schema = ApiSchema()

    @extend_schema(
        summary="Statistics on a day",
        description=(
            "Recomputed from the events as they stood on the day, so a figure for a past day "
            "can be reproduced. Counts include persons whose name is withheld."
        ),
        parameters=[AS_OF],
        responses={200: StatisticsSerializer},
    )
    def get(self, request: Request) -> Response:
        try:
            as_of = parse_as_of(request.query_params.get("as_of"), today=today())
        except AsOfError as error:
            raise ValidationError({"as_of": [str(error)]}) from error
        stats = statistics_on(as_of=as_of, tier=request_tier(request))
        return Response(StatisticsSerializer(stats).data)
