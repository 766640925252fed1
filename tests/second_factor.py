"""Staff sessions in tests: signed in and past the second factor."""

from typing import Any


def pass_second_factor(client: Any, user: Any) -> Any:
    """Sign ``client`` in as ``user`` with a session that passed the staff second factor (a
    confirmed authenticator is made if the user has none). Without it a staff account gets no
    staff tier and no admin (prisoners.staff.middleware)."""
    from django.utils import timezone

    from prisoners.staff.models import TOTPDevice
    from prisoners.staff.roles import VERIFIED_SESSION_KEY
    from prisoners.staff.totp import new_secret

    device, _created = TOTPDevice.objects.get_or_create(
        user=user, defaults={"secret": new_secret(), "confirmed_at": timezone.now()}
    )
    client.force_login(user)
    session = client.session
    session[VERIFIED_SESSION_KEY] = device.pk
    session.save()
    return client
