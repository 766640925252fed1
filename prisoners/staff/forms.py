"""Forms of the staff pages. Every change asks for a reason (and optionally a source)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth import get_user_model
from django.contrib.auth.validators import UnicodeUsernameValidator
from django.utils.translation import gettext_lazy as _

from events.models import Source
from prisoners.models import Visibility

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
        reason = " ".join(self.cleaned_data["reason"].split())
        if not reason:
            raise forms.ValidationError(REASON_REQUIRED)
        return reason

    def clean_source(self) -> Source | None:
        value = self.cleaned_data["source"].strip()
        if not value:
            return None
        lookup = {"pk": int(value)} if value.isdigit() else {"url": value}
        source = Source.objects.filter(**lookup).first()
        if source is None:
            raise forms.ValidationError(SOURCE_UNKNOWN)
        return source


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
