"""``manage.py benchmark_import --articles N``: the import worker's throughput, as JSON.

Example (figures for the README), on a database made by ``generate_data --persons N``::

    DATABASE_URL=postgres://... python manage.py benchmark_import --articles 500

Leaves the database as it was (everything is rolled back).
"""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from events.ingest import benchmark


class Command(BaseCommand):
    help = (
        "Run N articles through the import worker's code (read, de-duplicate, find persons "
        "and events, store proposals) in this process, with no network, and print articles "
        "per second and peak memory as JSON. Nothing is kept."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--articles", type=int, default=300, help="Articles (default 300).")
        parser.add_argument("--seed", type=int, default=0, help="Seed of the generated reports.")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["articles"] < 2:
            raise CommandError("--articles must be at least 2.")
        result = benchmark.run(articles=options["articles"], seed=options["seed"])
        self.stdout.write(json.dumps(result, indent=2))
