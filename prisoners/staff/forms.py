"""Forms of the staff pages. Every change asks for a reason (and optionally a source)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.contrib.auth import get_user_model
from django.contrib.auth.validators import UnicodeUsernameValidator
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from events.models import Source
from prisoners.models import Visibility

from .records import DATABASE_SET_FIELDS
from .security import ACCOUNT_ROLES, RESEARCHER
from .totp import DIGITS

REASON_REQUIRED = _("Give the reason: it is recorded in the history with your name.")
SOURCE_UNKNOWN = _("No source has this number or URL.")
CODE_FORMAT = _("Enter the 6 digits your authenticator app shows.")

ROLE_CHOICES = [
    ("editor", _("Editor: enters records, sees the staff pages")),
    ("reviewer", _("Reviewer: publishes, unpublishes and reverts changes")),
    ("admin", _("Admin: manages accounts and roles")),
    (RESEARCHER, _("Researcher: sees restricted fields, no staff pages")),
]
assert {value for value, _label in ROLE_CHOICES} == set(ACCOUNT_ROLES)


class SignInForm(forms.Form):
    username = forms.CharField(label=_("Username"), max_length=150)
    password = forms.CharField(
        label=_("Password"), strip=False, widget=forms.PasswordInput(render_value=False)
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["username"].widget.attrs.update(autocomplete="username", autofocus=True)
        self.fields["password"].widget.attrs.update(autocomplete="current-password")


class CodeForm(forms.Form):
    code = forms.CharField(
        label=_("Code from your authenticator app"),
        max_length=12,
        widget=forms.TextInput(
            attrs={
                "inputmode": "numeric",
                "autocomplete": "one-time-code",
                "pattern": r"[0-9 ]*",
                "autofocus": True,
            }
        ),
    )

    def clean_code(self) -> str:
        code = "".join(self.cleaned_data["code"].split())
        if len(code) != DIGITS or not code.isdigit():
            raise forms.ValidationError(CODE_FORMAT)
        return code


def folded_reason(value: str) -> str:
    """A reason for the history with its spaces folded; a blank one is refused."""
    reason = " ".join(value.split())
    if not reason:
        raise forms.ValidationError(REASON_REQUIRED)
    return reason


def source_by_reference(value: str) -> Source | None:
    """The source a staff member names by its number or URL; None when they name none. An
    unknown number or URL is refused."""
    value = value.strip()
    if not value:
        return None
    lookup: dict[str, Any] = {"pk": int(value)} if value.isdigit() else {"url": value}
    source = Source.objects.filter(**lookup).first()
    if source is None:
        raise forms.ValidationError(SOURCE_UNKNOWN)
    return source


class SourceReferenceMixin:
    """``reason`` and ``source`` of an entry form: the reason folded and required, the source
    named by number or URL kept as typed, the one it names in ``source_obj``."""

    cleaned_data: dict[str, Any]
    source_obj: Source | None = None

    def clean_reason(self) -> str:
        return folded_reason(self.cleaned_data["reason"])

    def clean_source(self) -> str:
        value: str = self.cleaned_data["source"].strip()
        self.source_obj = source_by_reference(value)
        return value


class AuditForm(forms.Form):
    """Why a change is made, and from which source: recorded in the history."""

    reason = forms.CharField(
        label=_("Reason for this change"),
        max_length=500,
        error_messages={"required": REASON_REQUIRED},
        help_text=_(
            "Recorded in the history with your name, e.g. 'Confirmed by the family on 3 May'."
        ),
        widget=forms.TextInput(attrs={"size": 60}),
    )
    source = forms.CharField(
        label=_("Source (optional)"),
        max_length=1000,
        required=False,
        help_text=_("The number or the URL of a source already entered."),
    )

    def clean_reason(self) -> str:
        return folded_reason(self.cleaned_data["reason"])

    def clean_source(self) -> Source | None:
        return source_by_reference(self.cleaned_data["source"])


class VisibilityForm(AuditForm):
    field_order = ["visibility", "with_names", "reason", "source"]

    visibility = forms.ChoiceField(
        label=_("New visibility"), choices=Visibility.choices, widget=forms.RadioSelect
    )
    with_names = forms.BooleanField(
        label=_("Also apply to this person's name variants"),
        required=False,
        help_text=_("Without them, the person is found only by the name shown on the profile."),
    )

    def __init__(self, *args: Any, person: bool = False, current: str = "", **kwargs: Any):
        super().__init__(*args, **kwargs)
        if not person:
            del self.fields["with_names"]
        visibility: Any = self.fields["visibility"]
        visibility.choices = [
            (value, label) for value, label in Visibility.choices if value != current
        ]


class RevertForm(AuditForm):
    pass


class ConfirmForm(AuditForm):
    """A confirmation that asks for the reason only (account actions)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        del self.fields["source"]


class ReviewFilterForm(forms.Form):
    visibility = forms.ChoiceField(
        label=_("Visibility"),
        required=False,
        choices=[("", _("Any")), *Visibility.choices],
    )
    unsourced = forms.BooleanField(label=_("Only records citing no source"), required=False)
    q = forms.CharField(label=_("Person's name"), required=False, max_length=200)


class AccountRolesField(forms.MultipleChoiceField):
    widget = forms.CheckboxSelectMultiple

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(choices=ROLE_CHOICES, label=_("Roles"), required=False, **kwargs)


class AccountCreateForm(forms.Form):
    username = forms.CharField(
        label=_("Username"), max_length=150, validators=[UnicodeUsernameValidator()]
    )
    email = forms.EmailField(label=_("E-mail"), required=False)
    roles = AccountRolesField()

    def clean_username(self) -> str:
        username = self.cleaned_data["username"].strip()
        if get_user_model()._default_manager.filter(username__iexact=username).exists():
            raise forms.ValidationError(_("A user with this username already exists."))
        return username


class AccountUpdateForm(forms.Form):
    roles = AccountRolesField()
    is_active = forms.BooleanField(
        label=_("Active (may sign in)"),
        required=False,
        help_text=_("Deactivate rather than delete: the history keeps the name."),
    )


# --- Claims: what each source says a field's value is ---------------------------------------------

CLAIM_SOURCE_MISSING = _("Give a source: the number or URL of one entered, or a new URL and title.")
CLAIM_SOURCE_BOTH = _("Give either a source already entered or a new one, not both.")
CLAIM_TITLE_MISSING = _("Give the title of the new source.")
CLAIM_FIELD_NOT_CLAIMABLE = _("Claims cannot be made about this field.")
CLAIM_UNKNOWN = _("This record has no such claim.")
# Set by the database or by other pages (publication), never by a claim.
NOT_CLAIMABLE = frozenset({"visibility", "created_at", "updated_at"})


def claimable_fields(model: type[models.Model]) -> list[models.Field[Any, Any]]:
    """The fields of ``model`` a claim may be about: the concrete fields ``claim_add`` accepts,
    but not the primary key, the fields the database sets, visibility or bookkeeping."""
    database_set = DATABASE_SET_FIELDS.get(model._meta.label, frozenset())
    return [
        f
        for f in model._meta.concrete_fields
        if not f.primary_key
        and f.editable
        and f.name not in NOT_CLAIMABLE
        and f.name not in database_set
    ]


def json_value(value: Any) -> Any:
    """A field's cleaned value as the claim stores it (JSON): dates and the like as text."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, dt.date | dt.datetime | dt.time):
        return value.isoformat()
    return str(value)


class ClaimForm(AuditForm):
    """A claim about one field of a record, from a source already entered or a new one."""

    field_order = ["field_name", "value", "source", "new_source_url", "new_source_title"]

    field_name = forms.ChoiceField(label=_("Field"))
    value = forms.CharField(label=_("Claimed value"), max_length=5000)
    new_source_url = forms.URLField(
        label=_("Or a new source: URL"), max_length=1000, required=False, assume_scheme="https"
    )
    new_source_title = forms.CharField(
        label=_("Title of the new source"), max_length=500, required=False
    )
    quote = forms.CharField(
        label=_("Quote"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )

    def __init__(self, *args: Any, model: type[models.Model], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.model_fields = {f.name: f for f in claimable_fields(model)}
        field_name: Any = self.fields["field_name"]
        field_name.choices = [
            (name, str(f.verbose_name).capitalize()) for name, f in self.model_fields.items()
        ]
        self.fields["source"].label = _("Source")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        name, raw = data.get("field_name"), data.get("value")
        if name and raw is not None:
            model_field = self.model_fields.get(name)
            if model_field is None:
                self.add_error("field_name", CLAIM_FIELD_NOT_CLAIMABLE)
            else:
                try:
                    data["value"] = json_value(model_field.clean(raw.strip(), None))
                except ValidationError as error:
                    self.add_error("value", error)
        existing, url = data.get("source"), data.get("new_source_url")
        if "source" in data and "new_source_url" in data:
            if existing is not None and url:
                self.add_error(None, CLAIM_SOURCE_BOTH)
            elif existing is None and not url:
                self.add_error(None, CLAIM_SOURCE_MISSING)
            elif url and not data.get("new_source_title", "").strip():
                self.add_error("new_source_title", CLAIM_TITLE_MISSING)
        return data


class ClaimAcceptForm(AuditForm):
    """Which claim to accept, and why."""

    claim = forms.IntegerField(widget=forms.HiddenInput)

    def __init__(self, *args: Any, claims: models.QuerySet[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        del self.fields["source"]  # the claim's own source is recorded
        self.claims = claims

    def clean_claim(self) -> Any:
        claim = self.claims.filter(pk=self.cleaned_data["claim"]).first()
        if claim is None:
            raise forms.ValidationError(CLAIM_UNKNOWN)
        return claim
