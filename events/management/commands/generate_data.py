"""``manage.py generate_data --persons N``: synthetic persons and events for benchmarks."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from events import synthetic


class Command(BaseCommand):
    help = (
        "Write N synthetic persons with names, episodes, sentences, placements, releases, "
        "deals and transfers, in batches with COPY. Every write is audited unless --no-history."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--persons", type=int, required=True, help="How many persons.")
        parser.add_argument(
            "--seed", type=int, default=0, help="Random seed; run again with another to add more."
        )
        parser.add_argument(
            "--batch", type=int, default=5000, help="Persons per transaction (default 5000)."
        )
        parser.add_argument(
            "--workers",
            type=int,
            default=2,
            help="Batches loaded at once, each on its own connection (default 2).",
        )
        parser.add_argument(
            "--no-history",
            action="store_true",
            help="Skip the pghistory triggers of the generated tables (faster, not audited).",
        )
        parser.add_argument(
            "--today",
            type=dt.date.fromisoformat,
            default=None,
            help="The date the data ends on, YYYY-MM-DD (default: today).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["persons"] < 0 or options["batch"] < 1 or options["workers"] < 1:
            raise CommandError("--persons must be >= 0, --batch and --workers >= 1.")
        result = synthetic.generate(
            persons=options["persons"],
            seed=options["seed"],
            batch=options["batch"],
            workers=options["workers"],
            history=not options["no_history"],
            today=options["today"],
            progress=lambda message: self.stdout.write(message),
        )
        self.stdout.write(json.dumps(result.as_dict(), sort_keys=True))
