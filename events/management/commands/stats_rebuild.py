"""``manage.py stats_rebuild``: recompute the statistics tables from the events."""

from __future__ import annotations

import json
import time
from typing import Any

from django.core.management.base import BaseCommand

from events.statistics import stats_rebuild


class Command(BaseCommand):
    help = (
        "Recompute the statistics tables (events_statsfact, events_statsdelta) from the events. "
        "Triggers keep them current after every write; run this after a load made with the "
        "triggers disabled, or to check them."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        started = time.monotonic()
        result = stats_rebuild()
        self.stdout.write(
            json.dumps(
                {
                    "facts": result.facts,
                    "deltas": result.deltas,
                    "seconds": round(time.monotonic() - started, 2),
                }
            )
        )
