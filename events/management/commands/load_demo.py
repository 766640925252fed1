from typing import Any

from django.core.management.base import BaseCommand

from events.demo import load_demo
from events.models import ReleaseDeal


class Command(BaseCommand):
    help = "Load the demo data: the report of 14 Dec 2025 on the release of 123 prisoners."

    def handle(self, *args: Any, **options: Any) -> None:
        deal = load_demo()
        identified = deal.releases.count()
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo loaded: {deal.title} ({deal.reported_total} reported, "
                f"{identified} identified); {ReleaseDeal.objects.count()} deal(s) in the database."
            )
        )
