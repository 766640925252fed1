"""Sign-in security for staff: the second factor of each account and the record of failures.

Failures and lockouts are rows in the database, not process memory, so that every web process
sees them. They are security records, not curated facts: no visibility and no history.
"""

from __future__ import annotations

import re

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from prisoners.audit import tracked
from prisoners.models import TimeStampedModel, choice_check

from . import totp

SECRET_FORMAT = re.compile(r"[A-Z2-7]{16,64}")


class TOTPDevice(TimeStampedModel):
    """An authenticator app of one user: the shared secret of RFC 6238 time-based codes.

    ``confirmed_at`` is set once the user has entered a code from the app (enrolment done);
    ``last_step`` is the time step of the last code accepted, so a code is never accepted twice.
    """

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="totp_device"
    )
    sealed_secret = models.TextField(
        _("sealed secret"), help_text=_("The base32 secret of the app, encrypted (totp.seal).")
    )
    confirmed_at = models.DateTimeField(_("confirmed at"), null=True, blank=True)
    last_step = models.BigIntegerField(_("last time step used"), default=0)

    class Meta:
        verbose_name = _("authenticator")
        verbose_name_plural = _("authenticators")
        constraints = [
            models.CheckConstraint(
                condition=Q(sealed_secret__startswith="fernet:"),  # noqa: S106 (a format)
                name="staff_totpdevice_sealed",
            ),
        ]

    def __str__(self) -> str:
        return f"authenticator of user {self.user_id}"

    @property
    def secret(self) -> str:
        """The base32 secret the app shares (unsealed; ``totp.UnsealError`` if no key opens
        it)."""
        return totp.unseal(self.sealed_secret)

    @secret.setter
    def secret(self, value: str) -> None:
        if not SECRET_FORMAT.fullmatch(value):
            raise ValueError("an authenticator secret is 16 to 64 base32 characters")
        self.sealed_secret = totp.seal(value)


class LoginStage(models.TextChoices):
    PASSWORD = "password", _("Password")
    CODE = "code", _("Authenticator code")


class LoginFailure(TimeStampedModel):
    """One failed staff sign-in for a username (as typed, case-folded): wrong password or code.

    ``created_at`` is when. A successful sign-in sets ``cleared`` on the failures before it.
    """

    Stage = LoginStage

    username = models.CharField(_("username"), max_length=150)
    stage = models.CharField(_("stage"), max_length=8, choices=Stage.choices)
    ip_address = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    cleared = models.BooleanField(_("cleared by a later sign-in"), default=False)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("failed sign-in")
        verbose_name_plural = _("failed sign-ins")
        indexes = [
            models.Index(fields=["username", "created_at"], name="staff_loginfailure_user_idx")
        ]
        constraints = [choice_check("staff_loginfailure", "stage", LoginStage)]

    def __str__(self) -> str:
        return f"{self.username} {self.stage} {self.created_at:%Y-%m-%d %H:%M}"


class LoginLockout(TimeStampedModel):
    """A username that may not sign in until ``locked_until`` (too many failures)."""

    username = models.CharField(_("username"), max_length=150, unique=True)
    locked_until = models.DateTimeField(_("locked until"))

    class Meta:
        verbose_name = _("locked account")
        verbose_name_plural = _("locked accounts")

    def __str__(self) -> str:
        return f"{self.username} until {self.locked_until:%Y-%m-%d %H:%M}"


@tracked()
class DuplicateDismissal(TimeStampedModel):
    """Two persons a staff member found not to be the same person: never suggested again.

    The pair is stored once, the lower id first. Written in ``audit_context`` with the reason.
    """

    person_low = models.ForeignKey(
        "prisoners.Person", on_delete=models.CASCADE, related_name="+", verbose_name=_("person")
    )
    person_high = models.ForeignKey(
        "prisoners.Person",
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("other person"),
    )
    reason = models.TextField(_("reason"))
    dismissed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("dismissed by"),
    )

    class Meta:
        verbose_name = _("dismissed duplicate")
        verbose_name_plural = _("dismissed duplicates")
        constraints = [
            models.UniqueConstraint(
                fields=["person_low", "person_high"], name="staff_duplicatedismissal_unique"
            ),
            models.CheckConstraint(
                condition=Q(person_low__lt=models.F("person_high")),
                name="staff_duplicatedismissal_ordered",
            ),
            models.CheckConstraint(condition=~Q(reason=""), name="staff_duplicatedismissal_reason"),
        ]

    def __str__(self) -> str:
        return f"persons {self.person_low_id} and {self.person_high_id} differ"
