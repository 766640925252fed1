"""``manage.py create_researcher USERNAME [--email EMAIL]``: an account for a vetted researcher.

The account is in the group ``prisoners.visibility.RESEARCHER_GROUP`` (researcher-tier fields on
pages, in the API and in exports), is not staff, and gets a generated password that is printed
once and stored only as a hash.
"""

from __future__ import annotations

import secrets
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from prisoners.visibility import RESEARCHER_GROUP

USER_EXISTS = "A user named {username!r} already exists; nothing was changed."
PASSWORD_BYTES = 18  # 24 URL-safe characters


@transaction.atomic
def researcher_create(*, username: str, email: str = "") -> tuple[Any, str]:
    """Create a researcher account; return it with its generated password (shown once)."""
    user_model = get_user_model()
    if user_model._default_manager.filter(username=username).exists():
        raise ValidationError(USER_EXISTS.format(username=username))
    password = secrets.token_urlsafe(PASSWORD_BYTES)
    user = user_model(username=username, email=email, is_staff=False, is_superuser=False)
    user.set_password(password)
    user.full_clean()
    user.save()
    group, _ = Group.objects.get_or_create(name=RESEARCHER_GROUP)
    user.groups.add(group)
    return user, password


class Command(BaseCommand):
    help = (
        "Create a researcher account (group 'researchers'): it sees researcher-tier fields on "
        "the pages, in the API and in exports. The generated password is printed once."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument("--email", default="", help="The researcher's e-mail address.")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            user, password = researcher_create(username=options["username"], email=options["email"])
        except ValidationError as error:
            raise CommandError(" ".join(error.messages)) from error
        self.stdout.write(f"Researcher account created: {user.get_username()}")
        self.stdout.write(f"Password: {password}")
        self.stdout.write(
            "The password is shown only now; pass it on safely. Sign in at /accounts/login/."
        )
