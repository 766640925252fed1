"""Staff admin for persons, names, identity, places and organisations.

Also home to the pieces every admin of the project shares (``events/admin.py`` imports them):

- ``AuditMixin``: every add/change form asks for a reason, and every write made from the admin
  (forms with their inlines, deletes, bulk actions, list edits) runs inside ``audit_context``, so
  each history event carries the acting user and the reason. A refusal by a database rule
  (trigger, exclusion constraint) comes back as a form error, not as a server error.
- ``AuditedModelForm`` / ``InlineForm``: form bases that fill a date's precision from its date.
- ``person_filter`` / ``PersonSearchMixin``: find persons by any stored spelling of their name.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.db import DataError, IntegrityError
from django.db.models import Q, QuerySet
from django.db.models.functions import Upper
from django.http import HttpRequest, HttpResponse
from django.urls import URLPattern, path
from django.utils import timezone
from django.utils.text import smart_split, unescape_string_literal
from django.utils.translation import gettext_lazy as _

from events.models import DetentionEpisode
from events.selectors import Status, person_status, with_status

from .audit import audit_context
from .models import (
    Affiliation,
    AtRiskFlag,
    Country,
    DatePrecision,
    ExternalIdentifier,
    NameVariant,
    Organisation,
    Person,
    PersonBiography,
    PersonCitizenship,
    Place,
    Recognition,
    Region,
)
from .services import person_set_names, script_of
from .translit import search_key

if TYPE_CHECKING:
    _AdminBase = admin.ModelAdmin[Any]
else:
    _AdminBase = object

# --- Audit ------------------------------------------------------------------------------------

AUDIT_FIELD = "audit_reason"
DELETE_REASON = "Deleted in the admin by {user}"
ACTION_REASON = "Admin action {action} by {user}"
LIST_EDIT_REASON = "Edited in the admin list by {user}"
SAVE_REFUSED = "Not saved: {message}"


class DatePrecisionMixin:
    """Fill ``<date>_precision`` from ``<date>``: no date means unknown, a date at least a day.

    The database refuses a date with an unknown precision and an empty date with a known one;
    staff should not have to set both by hand.
    """

    def clean(self) -> dict[str, Any]:
        cleaned: dict[str, Any] = super().clean()  # type: ignore[misc]
        for name, value in list(cleaned.items()):
            date_name = name.removesuffix("_precision")
            if date_name == name or date_name not in cleaned:
                continue
            if cleaned[date_name] is None:
                cleaned[name] = DatePrecision.UNKNOWN
            elif value in ("", None, DatePrecision.UNKNOWN):
                cleaned[name] = DatePrecision.DAY
        return cleaned


class InlineForm(DatePrecisionMixin, forms.ModelForm):
    """Base form of the inlines (the reason is asked once, on the parent form)."""


class AuditedModelForm(DatePrecisionMixin, forms.ModelForm):
    """Base form of every admin add/change page: asks why the change is made."""

    audit_reason = forms.CharField(
        label=_("Reason for this change"),
        max_length=500,
        help_text=_(
            "Recorded in the history with your name, e.g. 'Sentence reported by Viasna "
            "on 12 May 2025'."
        ),
        widget=forms.TextInput(attrs={"class": "vTextField"}),
    )
    # Set (on a subclass made per request) when the database refused the previous attempt.
    refusal: ClassVar[str] = ""

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        if self.refusal:
            raise ValidationError(self.refusal)
        return cleaned


def _refusal_message(error: Exception) -> str:
    if isinstance(error, ValidationError):
        return " ".join(error.messages)
    diag = getattr(error.__cause__, "diag", None)
    return str(getattr(diag, "message_primary", None) or error)


class AuditMixin(_AdminBase):
    """Ask for a reason on add/change forms; attribute every admin write to user and reason.

    Put it before ``admin.ModelAdmin`` in the bases. A form class of one's own must inherit
    ``AuditedModelForm``.
    """

    form = AuditedModelForm

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return [f for f in super().get_fields(request, obj) if f != AUDIT_FIELD]

    def get_fieldsets(self, request: HttpRequest, obj: Any = None) -> Any:
        fieldsets = list(super().get_fieldsets(request, obj))
        editable = (
            self.has_change_permission(request, obj) if obj else self.has_add_permission(request)
        )
        if editable:
            fieldsets.append((_("Audit trail"), {"fields": [AUDIT_FIELD]}))
        return fieldsets

    def get_form(
        self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any
    ) -> Any:
        form = super().get_form(request, obj, change, **kwargs)
        error = getattr(request, "_audit_refusal", "")
        if error:
            form = type(form.__name__, (form,), {"refusal": error})
        return form

    def _reason(self, request: HttpRequest, default: str, **fmt: str) -> str:
        given = request.POST.get(AUDIT_FIELD, "").strip()
        return given or default.format(user=request.user.get_username(), **fmt)

    def changeform_view(
        self,
        request: HttpRequest,
        object_id: str | None = None,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        reason = request.POST.get(AUDIT_FIELD, "").strip() if request.method == "POST" else ""
        if not reason:  # GET, or a POST the form will refuse for want of a reason
            return super().changeform_view(request, object_id, form_url, extra_context)
        try:
            with audit_context(user=request.user, reason=reason):
                return super().changeform_view(request, object_id, form_url, extra_context)
        except (IntegrityError, DataError, ValidationError) as error:
            # A trigger, an exclusion constraint or a service refused after the form was valid.
            # The admin's savepoint rolled everything back; show the form again, with what was
            # entered and the refusal as a form error.
            request._audit_refusal = SAVE_REFUSED.format(  # type: ignore[attr-defined]
                message=_refusal_message(error)
            )
            return super().changeform_view(request, object_id, form_url, extra_context)

    def delete_view(
        self, request: HttpRequest, object_id: str, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        if request.method != "POST":
            return super().delete_view(request, object_id, extra_context)
        with audit_context(user=request.user, reason=self._reason(request, DELETE_REASON)):
            return super().delete_view(request, object_id, extra_context)

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        if request.method != "POST":
            return super().changelist_view(request, extra_context)
        action = request.POST.get("action", "")
        default = (
            DELETE_REASON
            if action == "delete_selected"
            else ACTION_REASON
            if action
            else LIST_EDIT_REASON
        )
        with audit_context(user=request.user, reason=self._reason(request, default, action=action)):
            return super().changelist_view(request, extra_context)


# --- Search by any spelling -------------------------------------------------------------------


def _search_keys(term: str) -> list[str]:
    keys = []
    for bit in smart_split(term):
        if bit[:1] in ('"', "'") and bit[0] == bit[-1] and len(bit) > 1:
            bit = unescape_string_literal(bit)  # a quoted phrase is one word
        key = search_key(bit)
        if key:
            keys.append(key.upper())
    return keys


def matching_persons(search_term: str) -> QuerySet[Any]:
    """Ids of the persons found by ``search_term``, as a subquery.

    Found: every word of the term is in some stored spelling of the person's name (Latin or
    Cyrillic; case, accents and ё folded), or the term is an identifier in another list, or
    the person's id. One ``UNION`` of ids, so the planner starts from the few matching rows
    (trigram index on ``UPPER(search_key)``) rather than filtering every person.
    """
    term = search_term.strip()
    parts: list[QuerySet[Any]] = []
    names: QuerySet[Any] | None = None
    keys = _search_keys(term) if any(ch.isalpha() for ch in term) else []
    for key in sorted(keys, key=len):
        # UPPER(search_key) LIKE '%KEY%', served by the index prisoners_namevariant_trgm (keys
        # of fewer than 3 characters cannot use it; they are only cheap next to a longer one).
        variants = NameVariant.objects.alias(key=Upper("search_key")).filter(key__contains=key)
        if names is not None:
            variants = variants.filter(person_id__in=names)
        names = variants.order_by().values("person_id")
    if names is not None:
        parts.append(names)
    if any(ch.isdigit() for ch in term):  # identifiers have digits, names have none
        parts.append(ExternalIdentifier.objects.filter(value=term).order_by().values("person_id"))
    if term.isdigit() and len(term) < 19:
        parts.append(Person.objects.filter(pk=int(term)).order_by().values("pk"))
    if not parts:
        return Person.objects.none().values("pk")
    return parts[0].union(*parts[1:]) if len(parts) > 1 else parts[0]


def person_filter(search_term: str) -> Q:
    """The persons found by ``search_term`` (see ``matching_persons``); none comes twice."""
    return Q(pk__in=matching_persons(search_term))


class PersonSearchMixin(_AdminBase):
    """Search (and autocomplete) the records of a person by any spelling of their name."""

    person_path = "person"
    search_help_text = _("Any spelling of the person's name, Latin or Cyrillic, or the record id.")

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Any], search_term: str
    ) -> tuple[QuerySet[Any], bool]:
        term = search_term.strip()
        if not term:
            return queryset, False
        found = Q(**{f"{self.person_path}__in": matching_persons(term)})
        if term.isdigit() and len(term) < 19:
            found |= Q(pk=int(term))
        return queryset.filter(found), False


# --- Places and organisations -------------------------------------------------------------------


@admin.register(Country)
class CountryAdmin(AuditMixin, admin.ModelAdmin):
    list_display = ("name", "code", "name_be", "name_ru", "name_uk")
    search_fields = ("name", "name_be", "name_ru", "name_uk", "=code")


@admin.register(Region)
class RegionAdmin(AuditMixin, admin.ModelAdmin):
    list_display = ("name", "country", "name_be", "name_ru")
    list_filter = (("country", admin.RelatedOnlyFieldListFilter),)
    list_select_related = ("country",)
    search_fields = ("name", "name_be", "name_ru")
    autocomplete_fields = ("country",)


@admin.register(Place)
class PlaceAdmin(AuditMixin, admin.ModelAdmin):
    list_display = ("name", "kind", "city", "region", "country")
    list_filter = ("kind", ("country", admin.RelatedOnlyFieldListFilter))
    list_select_related = ("country", "region", "city")
    search_fields = ("name", "name_be", "name_ru")
    autocomplete_fields = ("country", "region", "city")


@admin.register(Organisation)
class OrganisationAdmin(AuditMixin, admin.ModelAdmin):
    list_display = ("name", "kind", "country", "website")
    list_filter = ("kind",)
    list_select_related = ("country",)
    search_fields = ("name",)
    autocomplete_fields = ("country",)


# --- Persons ------------------------------------------------------------------------------------


class NameVariantForm(InlineForm):
    """A spelling typed by hand: its search key (and, if left empty, its script) follow the text."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if "script" in self.fields:
            self.fields["script"].required = False
            self.fields["script"].help_text = _("Left empty, it follows the text.")

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        text = " ".join((cleaned.get("text") or "").split())
        if text:
            cleaned["text"] = text
            self.instance.search_key = search_key(text)
            if "script" in self.fields and not cleaned.get("script"):
                cleaned["script"] = script_of(text)
        return cleaned


class NameVariantAdminForm(AuditedModelForm, NameVariantForm):
    pass


class NameVariantInline(admin.TabularInline):
    model = NameVariant
    form = NameVariantForm
    fields = ("text", "language", "kind", "script", "visibility", "generated", "schemes")
    readonly_fields = ("generated", "schemes")
    extra = 0


class ExternalIdentifierInline(admin.TabularInline):
    model = ExternalIdentifier
    form = InlineForm
    fields = ("scheme", "value", "url", "visibility")
    extra = 0


class PersonCitizenshipInline(admin.TabularInline):
    model = PersonCitizenship
    form = InlineForm
    autocomplete_fields = ("country",)
    extra = 0


class RecognitionInline(admin.TabularInline):
    model = Recognition
    form = InlineForm
    fields = (
        "organisation",
        "recognised_on",
        "recognised_on_precision",
        "withdrawn_on",
        "visibility",
    )
    autocomplete_fields = ("organisation",)
    extra = 0


class AtRiskFlagInline(admin.TabularInline):
    model = AtRiskFlag
    form = InlineForm
    fields = ("kind", "since", "until", "note", "visibility")
    extra = 0


class AffiliationInline(admin.TabularInline):
    model = Affiliation
    form = InlineForm
    fields = ("organisation", "role", "since", "until", "visibility")
    autocomplete_fields = ("organisation",)
    extra = 0


class PersonBiographyInline(admin.StackedInline):
    model = PersonBiography
    form = InlineForm
    fields = ("language", "text", "visibility")
    extra = 0


class PersonEpisodeInline(admin.TabularInline):
    """The person's detention episodes, as links: they are edited on their own page."""

    model = DetentionEpisode
    fields = ("arrested_on", "country", "ended_on", "end_reason", "visibility")
    readonly_fields = fields
    show_change_link = True
    can_delete = False
    extra = 0
    verbose_name_plural = _("detention episodes (open one to edit it)")

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def get_queryset(self, request: HttpRequest) -> QuerySet[DetentionEpisode]:
        return super().get_queryset(request).select_related("country")


@admin.register(Person)
class PersonAdmin(AuditMixin, admin.ModelAdmin):
    list_display = (
        "name",
        "status_today",
        "visibility",
        "gender",
        "birth_date",
        "home_region",
        "updated_at",
    )
    list_filter = (
        "visibility",
        "gender",
        "name_withheld",
        "letters_reach",
        ("merged_into", admin.EmptyFieldListFilter),
    )
    list_select_related = ("home_region",)
    # The search itself is ``person_filter``; these name what it looks at.
    search_fields = ("name_variants__search_key", "=identifiers__value")
    search_help_text = _(
        "Any spelling of the name, Latin or Cyrillic (case and accents do not matter), "
        "an identifier in another list, or the record id."
    )
    show_full_result_count = False
    autocomplete_fields = ("home_region", "merged_into")
    readonly_fields = (
        "status_today_label",
        "place_today",
        "days_in_detention",
        "expected_end",
        "created_at",
        "updated_at",
    )
    fieldsets = (
        (None, {"fields": ("name", "name_withheld", "visibility", "merged_into")}),
        (
            _("Identity"),
            {
                "fields": (
                    ("birth_date", "birth_date_precision"),
                    "gender",
                    "home_region",
                    "occupation",
                )
            },
        ),
        (_("Photo"), {"fields": ("photo", "photo_consent")}),
        (_("Letters"), {"fields": ("letter_address", "letters_reach")}),
        (_("Staff only"), {"fields": ("staff_notes", "created_at", "updated_at")}),
    )
    derived_fieldset = (
        _("Today (derived from the events, not editable)"),
        {"fields": ("status_today_label", "place_today", "days_in_detention", "expected_end")},
    )
    actions = ("generate_spellings",)
    inlines = (
        NameVariantInline,
        ExternalIdentifierInline,
        PersonCitizenshipInline,
        RecognitionInline,
        AtRiskFlagInline,
        AffiliationInline,
        PersonBiographyInline,
        PersonEpisodeInline,
    )

    def get_fieldsets(self, request: HttpRequest, obj: Person | None = None) -> Any:
        fieldsets = list(super().get_fieldsets(request, obj))
        if obj is not None:
            fieldsets.insert(1, self.derived_fieldset)
        return fieldsets

    def get_queryset(self, request: HttpRequest) -> QuerySet[Person]:
        return with_status(super().get_queryset(request), timezone.localdate())

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Any], search_term: str
    ) -> tuple[QuerySet[Person], bool]:
        if not search_term.strip():
            return queryset, False
        return queryset.filter(person_filter(search_term)), False

    def get_urls(self) -> list[URLPattern]:
        from .admin_import import csv_import_view

        return [
            path(
                "import/",
                self.admin_site.admin_view(csv_import_view),
                name="prisoners_person_import",
            ),
            *super().get_urls(),
        ]

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: Any) -> None:
        super().save_related(request, form, formsets, change)
        names_touched = any(
            fs.model is NameVariant and (fs.new_objects or fs.changed_objects) for fs in formsets
        )
        if not change or "name" in form.changed_data or names_touched:
            # The shown name is findable too, and Cyrillic primaries get their Latin spellings.
            person_set_names(person=form.instance, name=form.instance.name)

    @admin.action(description=_("Generate the Latin spellings of the Cyrillic primary names"))
    def generate_spellings(self, request: HttpRequest, queryset: QuerySet[Person]) -> None:
        for person in queryset:
            person_set_names(person=person, name=person.name)

    # Derived facts: one computation per page, kept on the object.
    def _status(self, obj: Person) -> Any:
        if not hasattr(obj, "_status_today"):
            obj._status_today = person_status(  # type: ignore[attr-defined]
                person=obj, on=timezone.localdate()
            )
        return obj._status_today  # type: ignore[attr-defined]

    @admin.display(description=_("status today"))
    def status_today(self, obj: Person) -> str:
        status = getattr(obj, "status", None)
        return str(Status(status).label) if status else "—"

    @admin.display(description=_("status today"))
    def status_today_label(self, obj: Person) -> str:
        return self._status(obj).label

    @admin.display(description=_("where today"))
    def place_today(self, obj: Person) -> str:
        status = self._status(obj)
        parts = [
            str(model.objects.filter(pk=pk).first() or "")
            for model, pk in ((Country, status.country_id), (Place, status.place_id))
            if pk is not None
        ]
        return ", ".join(p for p in parts if p) or "—"

    @admin.display(description=_("days in detention"))
    def days_in_detention(self, obj: Person) -> int:
        return int(self._status(obj).days_in_detention)

    @admin.display(description=_("expected end of term"))
    def expected_end(self, obj: Person) -> Any:
        return self._status(obj).expected_end or "—"


# --- The records of a person, each on its own too -----------------------------------------------


class PersonChildAdmin(PersonSearchMixin, AuditMixin, admin.ModelAdmin):
    """A record owned by a person: found by the person's names, person chosen by autocomplete."""

    search_fields: ClassVar[tuple[str, ...]] = ("person__name",)
    autocomplete_fields: ClassVar[tuple[str, ...]] = ("person",)
    list_select_related: ClassVar[tuple[str, ...]] = ("person",)
    ordering: ClassVar[tuple[str, ...]] = ("-id",)
    show_full_result_count = False


@admin.register(NameVariant)
class NameVariantAdmin(PersonChildAdmin):
    form = NameVariantAdminForm
    list_display = ("text", "person", "language", "script", "kind", "generated", "visibility")
    list_filter = ("kind", "script", "generated", "visibility")  # no DISTINCT over millions
    fields = (
        "person",
        "text",
        "language",
        "kind",
        "script",
        "visibility",
        "search_key",
        "generated",
        "schemes",
    )
    readonly_fields = ("search_key", "generated", "schemes")


@admin.register(ExternalIdentifier)
class ExternalIdentifierAdmin(PersonChildAdmin):
    list_display = ("value", "scheme", "person", "url", "visibility")
    list_filter = ("scheme", "visibility")

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Any], search_term: str
    ) -> tuple[QuerySet[Any], bool]:
        by_person, duplicates = super().get_search_results(request, queryset, search_term)
        term = search_term.strip()
        return (by_person | queryset.filter(value=term)) if term else by_person, duplicates


@admin.register(PersonCitizenship)
class PersonCitizenshipAdmin(PersonChildAdmin):
    list_display = ("person", "country")
    list_select_related = ("person", "country")
    autocomplete_fields = ("person", "country")


@admin.register(Recognition)
class RecognitionAdmin(PersonChildAdmin):
    list_display = ("person", "organisation", "recognised_on", "withdrawn_on", "visibility")
    list_filter = ("visibility",)
    list_select_related = ("person", "organisation")
    autocomplete_fields = ("person", "organisation")


@admin.register(AtRiskFlag)
class AtRiskFlagAdmin(PersonChildAdmin):
    list_display = ("person", "kind", "since", "until", "visibility")
    list_filter = ("kind", "visibility")


@admin.register(Affiliation)
class AffiliationAdmin(PersonChildAdmin):
    list_display = ("person", "organisation", "role", "since", "until", "visibility")
    list_filter = ("visibility",)
    list_select_related = ("person", "organisation")
    autocomplete_fields = ("person", "organisation")


@admin.register(PersonBiography)
class PersonBiographyAdmin(PersonChildAdmin):
    list_display = ("person", "language", "visibility", "updated_at")
    list_filter = ("visibility",)


__all__ = [
    "AUDIT_FIELD",
    "AuditMixin",
    "AuditedModelForm",
    "InlineForm",
    "PersonChildAdmin",
    "PersonSearchMixin",
    "matching_persons",
    "person_filter",
]
