"""``manage.py benchmark --persons N``: server time of the public pages, as JSON.

Example (figures for the README)::

    DATABASE_URL=postgres://... python manage.py benchmark --persons 1000000 --requests 200

Progress goes to stderr; stdout carries one JSON document: per page family the number of
requests, p50/p95/max/mean in milliseconds, SQL queries per request and the status codes.
"""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from events import benchmark


class Command(BaseCommand):
    help = (
        "Make sure the database holds N synthetic persons (generate_data), then time the "
        "listing with filters, search, suggestions, profiles, deal pages and statistics "
        "in-process, and print p50/p95/max and queries per request as JSON."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--persons", type=int, required=True, help="Synthetic persons the data must hold."
        )
        parser.add_argument(
            "--requests", type=int, default=50, help="Requests per page family (default 50)."
        )
        parser.add_argument(
            "--skip-generate",
            action="store_true",
            help="Measure the data as it is; generate nothing.",
        )
        parser.add_argument("--workers", type=int, default=2, help="Generator threads (default 2).")
        parser.add_argument(
            "--no-history",
            action="store_true",
            help="Generate without the audit triggers (faster; see generate_data).",
        )
        parser.add_argument(
            "--seed", type=int, default=0, help="Seed of the choice of pages and queries."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["persons"] < 0 or options["requests"] < 1 or options["workers"] < 1:
            raise CommandError("--persons must be >= 0, --requests and --workers >= 1.")
        try:
            result = benchmark.run(
                persons=options["persons"],
                requests=options["requests"],
                skip_generate=options["skip_generate"],
                workers=options["workers"],
                history=not options["no_history"],
                seed=options["seed"],
                say=lambda message: self.stderr.write(message),
            )
        except benchmark.BenchmarkError as error:
            raise CommandError(str(error)) from error
        self.stdout.write(json.dumps(result, indent=2, sort_keys=True))
