"""``manage.py import_prisoners FILE.csv [--dry-run]``: import a prisoner list.

A thin wrapper around ``prisoners.imports.person_csv_import``; see there for the file's format.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from prisoners.imports import DRY_RUN_DONE, NOTHING_WRITTEN, person_csv_import
from prisoners.models import ExternalIdentifier

UNREADABLE = "Cannot read {path}: {error}"
UNKNOWN_USER = "No user named {username!r}."


class Command(BaseCommand):
    help = (
        "Import a prisoner list from a CSV file (UTF-8, comma or semicolon separated, with a "
        "header). Re-importing updates instead of duplicating; a file with any bad row writes "
        "nothing."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path, help="The CSV file.")
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="Check and show what would change; write nothing.",
        )
        parser.add_argument(
            "--reason", default="", help="Why, for the audit trail (default: the command and file)."
        )
        parser.add_argument("--user", default="", help="Username the changes are recorded under.")
        parser.add_argument(
            "--id-scheme",
            default=ExternalIdentifier.Scheme.IMPORT,
            choices=ExternalIdentifier.Scheme.values,
            help="The list the external_id column belongs to (default: import).",
        )
        parser.add_argument("--source-title", default="", help="Default: the file name.")
        parser.add_argument("--source-url", default="", help="Where the list was published.")

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["file"]
        try:
            data = path.read_bytes()
        except OSError as problem:
            raise CommandError(UNREADABLE.format(path=path, error=problem.strerror)) from problem
        user = None
        if options["user"]:
            model = get_user_model()
            user = model._default_manager.filter(**{model.USERNAME_FIELD: options["user"]}).first()
            if user is None:
                raise CommandError(UNKNOWN_USER.format(username=options["user"]))
        report = person_csv_import(
            data=data,
            filename=path.name,
            reason=options["reason"],
            user=user,
            dry_run=options["dry_run"],
            id_scheme=options["id_scheme"],
            source_title=options["source_title"],
            source_url=options["source_url"],
        )
        for warning in report.warnings:
            self.stderr.write(self.style.WARNING(warning))
        for message in report.errors:
            self.stderr.write(self.style.ERROR(message))
        if options["dry_run"] or options["verbosity"] > 1:
            for row in report.changed_rows:
                changes = "; ".join(row.changes)
                self.stdout.write(f"line {row.line}: {row.outcome} {row.person_name}: {changes}")
        self.stdout.write(report.summary)
        if report.errors:
            raise CommandError(NOTHING_WRITTEN.format(count=len(report.errors)))
        if options["dry_run"]:
            self.stdout.write(DRY_RUN_DONE)
