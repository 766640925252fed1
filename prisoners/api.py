"""The read-only open-data API: shared machinery, and persons.

Every response passes the one visibility rule (``prisoners.visibility``): records through
``visible_to``/``profile_filter`` on the querysets, fields through ``TieredSerializer``, which
outputs a model field only when ``visible_fields`` lets the viewer see it. Researcher-tier
fields are optional in the OpenAPI schema and appear only for researchers (session sign-in).
Persons whose name is withheld have no record in the API outside staff (as they have no profile
page); they are still counted in ``/api/statistics/``.

Each page runs a fixed number of queries: one count, one page, one per prefetched relation.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from django import forms
from django.core.exceptions import ImproperlyConfigured
from django.db.models import Prefetch, Q, QuerySet
from django.db.models.functions import Coalesce, Upper
from django.http import JsonResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_filters import rest_framework as filters
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, extend_schema_field, extend_schema_view
from rest_framework import exceptions, pagination, serializers, viewsets
from rest_framework.request import Request

from events.models import Death, Release, ReleaseDeal, Transfer
from events.selectors import Status, with_days_in_detention, with_expected_end, with_status

from .models import (
    Affiliation,
    AtRiskFlag,
    Country,
    DatePrecision,
    ExternalIdentifier,
    NameVariant,
    Person,
    PersonBiography,
    Place,
    Recognition,
    Region,
)
from .translit import search_key
from .visibility import Tier, display_name, field_tier, profile_filter, viewer_tier, visible_fields

BIGINT_MAX = 2**63 - 1
MAX_OFFSET = 10_000_000
MAX_SEARCH_WORDS = 6
OFFSET_TOO_LARGE = "Offset must be at most %(max)d."


# --- Shared machinery ---------------------------------------------------------------------------


def request_tier(request: Any) -> Tier:
    """The viewer's tier, worked out once per request (it may cost a query for a signed-in user)."""
    tier = getattr(request, "_viewer_tier", None)
    if tier is None:
        tier = viewer_tier(getattr(request, "user", None))
        request._viewer_tier = tier
    return tier


def today() -> dt.date:
    return timezone.localdate()


class Pagination(pagination.LimitOffsetPagination):
    """``?limit=`` (default 50, at most 200) and ``?offset=`` (at most ten million)."""

    default_limit = 50
    max_limit = 200

    def get_offset(self, request: Request) -> int:
        offset = super().get_offset(request)
        if offset > MAX_OFFSET:
            raise exceptions.ValidationError({"offset": [OFFSET_TOO_LARGE % {"max": MAX_OFFSET}]})
        return offset


class ErrorSerializer(serializers.Serializer[Any]):
    """An error: ``detail`` for a missing record, or a list of messages per bad parameter."""

    detail = serializers.CharField(required=False)


class ApiSchema(AutoSchema):
    """Documents the error responses: 400 for bad parameters, 404 for an unknown record."""

    def _get_response_bodies(
        self, direction: Literal["request", "response"] = "response"
    ) -> dict[str, Any]:
        responses = super()._get_response_bodies(direction)
        if self.method != "GET":
            return responses
        code = "404" if "{" in self.path else "400"  # a record, or a list with parameters
        responses.setdefault(code, self._get_response_for_code(ErrorSerializer, code))
        return responses


class ReadOnlyApiViewSet(viewsets.ReadOnlyModelViewSet[Any]):
    pagination_class = Pagination
    schema = ApiSchema()

    @property
    def tier(self) -> Tier:
        return request_tier(self.request)

    def get_serializer_context(self) -> dict[str, Any]:
        return {**super().get_serializer_context(), "tier": self.tier}


@extend_schema_field(
    {
        "type": "string",
        "enum": DatePrecision.values,
        "description": "How much of the date beside it is known: the exact day, the month, the "
        "year, only that it was on or before it (before), or nothing (unknown).",
    },
    component_name="DatePrecision",
)
class PrecisionField(serializers.ChoiceField):
    """How much of the date beside it is known: day, month, year, before (on or before), unknown."""


# A model serializer that outputs a model field only when the visibility rule lets the viewer see
# it. Every field is named after a field of ``Meta.model`` that ``FIELD_TIERS`` declares (public or
# researcher tier; declaring a staff-only field is a configuration error), or is listed in
# ``Meta.derived``: values computed from visible records (a status, a count, a link) or nested
# lists of visible child records, themselves ``TieredSerializer``s. A nested record whose model has
# no field the viewer may see is left out whole, so that not even its existence shows. In the
# schema, public fields are always present; researcher fields are optional.
class TieredSerializer(serializers.ModelSerializer[Any]):
    class Meta:
        model: type[Any]
        fields: tuple[str, ...]
        derived: tuple[str, ...] = ()

    def build_standard_field(self, field_name: str, model_field: Any) -> tuple[Any, Any]:
        field_class, kwargs = super().build_standard_field(field_name, model_field)
        choices = getattr(model_field, "choices", None) or ()
        if {value for value, _label in choices} == set(DatePrecision.values):
            field_class = PrecisionField  # one enum for every date precision
        return field_class, kwargs

    def get_fields(self) -> dict[str, serializers.Field[Any, Any, Any, Any]]:
        fields = super().get_fields()
        model = self.Meta.model
        derived = set(getattr(self.Meta, "derived", ()))
        for name, field in fields.items():
            if name in derived:
                child = getattr(field, "child", field)
                if isinstance(child, TieredSerializer) and not visible_fields(
                    child.Meta.model, Tier.PUBLIC
                ):
                    field.read_only, field.required = False, False  # researchers only
                continue
            tier = field_tier(model, name)
            if tier > Tier.RESEARCHER:
                raise ImproperlyConfigured(
                    f"{type(self).__name__}.{name}: not a public or researcher field of "
                    f"{model._meta.label} (prisoners.visibility.FIELD_TIERS)"
                )
            if tier > Tier.PUBLIC:
                field.read_only, field.required = False, False
            else:
                field.read_only = True
        return fields

    @property
    def tier(self) -> Tier:
        tier = self.context.get("tier")
        if tier is None:
            tier = request_tier(self.context["request"])
        return Tier(tier)

    def allowed_fields(self) -> set[str]:
        tier = self.tier
        allowed = visible_fields(self.Meta.model, tier)
        for name in getattr(self.Meta, "derived", ()):
            field = self.fields.get(name)
            child = getattr(field, "child", field)
            if isinstance(child, TieredSerializer) and not visible_fields(child.Meta.model, tier):
                continue
            allowed.add(name)
        return allowed

    @property
    def _readable_fields(self) -> Any:
        # A field the viewer may not see is never read, not only left out of the output.
        allowed = self.allowed_fields()
        return (field for field in super()._readable_fields if field.field_name in allowed)

    def to_representation(self, instance: Any) -> dict[str, Any]:
        allowed = self.allowed_fields()
        data = super().to_representation(instance)
        return {name: value for name, value in data.items() if name in allowed}


def not_found(request: Any, *args: Any, **kwargs: Any) -> JsonResponse:
    """Any other address under /api/: a JSON 404, like an unknown record."""
    return JsonResponse({"detail": str(exceptions.NotFound.default_detail)}, status=404)


# --- Reference catalogues (countries, regions, places, organisations) ---------------------------
# Public by nature: names and codes only, never a postal address.


class RegionSerializer(serializers.Serializer[Region]):
    name = serializers.CharField(read_only=True)
    country = serializers.CharField(source="country.code", read_only=True)


def country_code() -> serializers.SlugRelatedField[Any]:
    return serializers.SlugRelatedField(slug_field="code", read_only=True)


# --- Persons ------------------------------------------------------------------------------------


class NameVariantSerializer(TieredSerializer):
    class Meta:
        model = NameVariant
        fields = ("text", "language", "script", "kind", "schemes")


class IdentifierSerializer(TieredSerializer):
    class Meta:
        model = ExternalIdentifier
        fields = ("scheme", "value", "url")


class RecognitionSerializer(TieredSerializer):
    organisation = serializers.CharField(source="organisation.name", read_only=True)

    class Meta:
        model = Recognition
        fields = ("organisation", "recognised_on", "recognised_on_precision", "withdrawn_on")


class AffiliationSerializer(TieredSerializer):
    organisation = serializers.CharField(source="organisation.name", read_only=True)

    class Meta:
        model = Affiliation
        fields = ("organisation", "role")


class BiographySerializer(TieredSerializer):
    class Meta:
        model = PersonBiography
        fields = ("language", "text")


class RiskFlagSerializer(TieredSerializer):
    class Meta:
        model = AtRiskFlag
        fields = ("kind", "since")


class PersonSerializer(TieredSerializer):
    """A person in a list: public fields, the current status, and the primary names."""

    name = serializers.SerializerMethodField()
    url = serializers.SerializerMethodField(help_text="The person's public profile page.")
    home_region = RegionSerializer(read_only=True, allow_null=True)
    birth_year = serializers.SerializerMethodField()
    photo = serializers.SerializerMethodField()
    names = NameVariantSerializer(
        many=True, read_only=True, source="shown_names", help_text="Primary names per language."
    )
    status = serializers.ChoiceField(
        choices=Status.choices, read_only=True, help_text="Status today, from the events."
    )
    status_country = serializers.SerializerMethodField(
        help_text="Where the person is held, or was last taken to, today (ISO code)."
    )

    class Meta:
        model = Person
        fields: tuple[str, ...] = (
            "id",
            "url",
            "name",
            "names",
            "gender",
            "occupation",
            "home_region",
            "birth_year",
            "birth_date",
            "birth_date_precision",
            "photo",
            "letter_address",
            "letters_reach",
            "status",
            "status_country",
        )
        derived: tuple[str, ...] = ("url", "names", "status", "status_country")

    @extend_schema_field(OpenApiTypes.STR)
    def get_name(self, person: Person) -> str:
        return display_name(person, self.tier)

    @extend_schema_field(OpenApiTypes.URI)
    def get_url(self, person: Person) -> str:
        return self.context["request"].build_absolute_uri(person.get_absolute_url())

    @extend_schema_field({"type": "integer", "nullable": True})
    def get_birth_year(self, person: Person) -> int | None:
        return person.birth_date.year if person.birth_date else None

    @extend_schema_field({"type": "string", "nullable": True})
    def get_status_country(self, person: Any) -> str | None:
        codes = self.context.get("_country_codes")
        if codes is None:  # one query per response, whatever its length
            codes = self.context["_country_codes"] = dict(Country.objects.values_list("pk", "code"))
        return codes.get(person.status_country_id)

    @extend_schema_field({"type": "string", "format": "uri", "nullable": True})
    def get_photo(self, person: Person) -> str | None:
        if not (person.photo and person.photo_consent):
            return None
        return str(self.context["request"].build_absolute_uri(person.photo.url))


class TransferLegSerializer(TieredSerializer):
    """One leg of a movement across a border (see ``events.models.Transfer``)."""

    from_country = country_code()
    to_country = country_code()
    from_place = serializers.CharField(source="from_place.name", read_only=True, allow_null=True)
    to_place = serializers.CharField(source="to_place.name", read_only=True, allow_null=True)

    class Meta:
        model = Transfer
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
        )


class DeathSerializer(TieredSerializer):
    class Meta:
        model = Death
        fields = ("died_on", "died_on_precision", "in_custody")


class PersonDetailSerializer(PersonSerializer):
    """A person: everything in the list, plus every spelling, identifiers in other lists,
    recognition, organisations, biographies, at-risk flags (researchers), where they are,
    days in detention, expected end of term, the transfer chain and a death."""

    names = NameVariantSerializer(
        many=True, read_only=True, source="visible_names", help_text="Every spelling."
    )
    identifiers = IdentifierSerializer(many=True, read_only=True, source="visible_identifiers")
    recognitions = RecognitionSerializer(many=True, read_only=True, source="visible_recognitions")
    affiliations = AffiliationSerializer(many=True, read_only=True, source="visible_affiliations")
    biographies = BiographySerializer(many=True, read_only=True, source="visible_biographies")
    risk_flags = RiskFlagSerializer(
        many=True, read_only=True, source="visible_risk_flags", required=False
    )
    status_place = serializers.SerializerMethodField(
        help_text="The facility holding the person today, or the place they were last taken to."
    )
    days_in_detention = serializers.IntegerField(read_only=True)
    expected_end = serializers.DateField(
        read_only=True, allow_null=True, help_text="Expected end of the current term."
    )
    transfers = TransferLegSerializer(many=True, read_only=True, source="visible_transfers")
    death = DeathSerializer(read_only=True, allow_null=True, source="visible_death")
    events = serializers.SerializerMethodField(help_text="The person's detention episodes.")

    class Meta(PersonSerializer.Meta):
        fields = (
            *PersonSerializer.Meta.fields,
            "status_place",
            "days_in_detention",
            "expected_end",
            "identifiers",
            "recognitions",
            "affiliations",
            "biographies",
            "risk_flags",
            "transfers",
            "death",
            "events",
        )
        derived = (
            *PersonSerializer.Meta.derived,
            "status_place",
            "days_in_detention",
            "expected_end",
            "identifiers",
            "recognitions",
            "affiliations",
            "biographies",
            "risk_flags",
            "transfers",
            "death",
            "events",
        )

    @extend_schema_field({"type": "string", "nullable": True})
    def get_status_place(self, person: Any) -> str | None:
        if person.status_place_id is None:
            return None
        return (
            Place.objects.filter(pk=person.status_place_id).values_list("name", flat=True).first()
        )

    @extend_schema_field(OpenApiTypes.URI)
    def get_events(self, person: Person) -> str:
        path = reverse("api:event-list") + f"?person={person.pk}"
        return str(self.context["request"].build_absolute_uri(path))


@extend_schema_field(OpenApiTypes.INT64)
class IdFilter(filters.NumberFilter):
    """A record id: a whole number from 1 to the largest id the database holds."""

    field_class = forms.IntegerField

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", BIGINT_MAX)
        super().__init__(*args, **kwargs)


def name_matches(queryset: QuerySet[Any], value: str, tier: Tier, person_path: str = "pk") -> Any:
    """Rows whose person has, for every word of ``value``, a visible spelling containing it.

    Case, accents and apostrophes are folded (``search_key``); the trigram index on
    ``UPPER(search_key)`` serves the match. Ranked search is the search page's job.
    """
    keys = [key.upper() for key in (search_key(word) for word in value.split()) if key]
    for key in sorted(keys, key=len, reverse=True)[:MAX_SEARCH_WORDS]:
        variants = (
            NameVariant.objects.visible_to(tier)
            .alias(key=Upper("search_key"))
            .filter(key__contains=key)
            .order_by()
            .values("person_id")
        )
        queryset = queryset.filter(**{f"{person_path}__in": variants})
    return queryset


class PersonFilter(filters.FilterSet):
    q = filters.CharFilter(
        method="filter_q",
        max_length=200,
        label=_("Every word in some spelling of the name (Latin or Cyrillic)"),
    )
    gender = filters.ChoiceFilter(choices=Person.Gender.choices)
    deal = filters.CharFilter(
        method="filter_deal", max_length=120, label=_("Released in this deal (its slug)")
    )

    class Meta:
        model = Person
        fields: tuple[str, ...] = ("q", "gender", "deal")

    def filter_q(self, queryset: QuerySet[Person], name: str, value: str) -> QuerySet[Person]:
        return name_matches(queryset, value, request_tier(self.request))  # type: ignore[no-any-return]

    def filter_deal(self, queryset: QuerySet[Person], name: str, value: str) -> QuerySet[Person]:
        tier = request_tier(self.request)
        deals = ReleaseDeal.objects.visible_to(tier).filter(slug=value).values("pk")
        releases = Release.objects.visible_to(tier).filter(deal__in=deals)
        return queryset.filter(pk__in=releases.values("episode__person_id"))


def person_queryset(tier: Tier) -> QuerySet[Person]:
    """The persons a viewer may open: published, not merged, name not withheld (outside staff)."""
    return Person.objects.filter(profile_filter(tier))


def _names_prefetch(tier: Tier, *, primary_only: bool, to_attr: str) -> Prefetch[Any]:
    variants = NameVariant.objects.visible_to(tier)
    if primary_only:
        variants = variants.filter(kind=NameVariant.Kind.PRIMARY)
    return Prefetch(
        "name_variants", queryset=variants.order_by("language", "kind", "id"), to_attr=to_attr
    )


def _with_status_today(queryset: QuerySet[Person], tier: Tier) -> Any:
    """The status today, from the records ``tier`` sees (a derived fact follows the visibility
    rule of the records it is computed from)."""
    return with_status(queryset, today(), tier)


def person_list(*, tier: Tier) -> QuerySet[Person]:
    """Persons for the API list: ordered by name (index ``prisoners_person_name_idx``), with
    their primary names. Their status is added to the page only (``add_status_today``)."""
    return (
        person_queryset(tier)
        .select_related("home_region__country")
        .prefetch_related(_names_prefetch(tier, primary_only=True, to_attr="shown_names"))
        .order_by("name", "id")
    )


def add_status_today(persons: list[Person], tier: Tier) -> list[Person]:
    """Set ``status`` and ``status_country_id`` on a page of persons, in one query.

    The status rule (``events.selectors.with_status``) is a dozen correlated subqueries per
    person: run on the page's ids only, never on the rows a sort or an offset passes over.
    """
    rows = _with_status_today(
        Person.objects.filter(pk__in=[p.pk for p in persons]), tier
    ).values_list("pk", "status", "status_country_id")
    found = {pk: (status, country_id) for pk, status, country_id in rows}
    for person in persons:
        person.status, person.status_country_id = found[person.pk]  # type: ignore[attr-defined]
    return persons


def person_detail_queryset(*, tier: Tier) -> Any:
    """Persons for the API detail: everything the detail serializer reads, prefetched."""
    on = today()
    prefetches: list[Any] = [
        _names_prefetch(tier, primary_only=False, to_attr="visible_names"),
        Prefetch(
            "identifiers",
            queryset=ExternalIdentifier.objects.visible_to(tier).order_by("scheme", "value"),
            to_attr="visible_identifiers",
        ),
        Prefetch(
            "recognitions",
            queryset=Recognition.objects.visible_to(tier)
            .select_related("organisation")
            .order_by("recognised_on", "id"),
            to_attr="visible_recognitions",
        ),
        Prefetch(
            "affiliations",
            queryset=Affiliation.objects.visible_to(tier)
            .select_related("organisation")
            .order_by("since", "id"),
            to_attr="visible_affiliations",
        ),
        Prefetch(
            "biographies",
            queryset=PersonBiography.objects.visible_to(tier).order_by("language"),
            to_attr="visible_biographies",
        ),
        Prefetch(
            "transfers",
            queryset=Transfer.objects.visible_to(tier)
            .select_related("from_country", "to_country", "from_place", "to_place")
            .annotate(leg_on=Coalesce("transferred_on", "release__released_on"))
            .order_by("leg_on", "release_id", "sequence", "id"),
            to_attr="visible_transfers",
        ),
        Prefetch("death", queryset=Death.objects.visible_to(tier), to_attr="visible_death"),
    ]
    if visible_fields(AtRiskFlag, tier):
        prefetches.append(
            Prefetch(
                "risk_flags",
                queryset=AtRiskFlag.objects.visible_to(tier)
                .filter(Q(until__isnull=True) | Q(until__gte=on))
                .order_by("kind"),
                to_attr="visible_risk_flags",
            )
        )
    queryset = _with_status_today(
        person_queryset(tier).select_related("home_region__country").prefetch_related(*prefetches),
        tier,
    )
    return with_expected_end(with_days_in_detention(queryset, on, tier), tier)


@extend_schema_view(
    list=extend_schema(
        summary="Persons",
        description=(
            "Published persons, by name. Persons whose name is withheld are not listed "
            "(they are counted in the statistics)."
        ),
    ),
    retrieve=extend_schema(summary="A person"),
)
class PersonViewSet(ReadOnlyApiViewSet):
    filterset_class = PersonFilter

    def get_queryset(self) -> Any:
        if self.action == "retrieve":
            return person_detail_queryset(tier=self.tier)
        return person_list(tier=self.tier)

    def get_serializer_class(self) -> type[serializers.BaseSerializer[Any]]:
        return PersonDetailSerializer if self.action == "retrieve" else PersonSerializer

    def paginate_queryset(self, queryset: Any) -> list[Any] | None:
        page = super().paginate_queryset(queryset)
        return add_status_today(list(page), self.tier) if page else page
