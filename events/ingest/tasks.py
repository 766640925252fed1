"""Celery tasks of the import. They take IDs, are idempotent, acknowledged late (a task lost
with its worker runs again) and time-limited; a failure is recorded on the item with its reason.
"""

from __future__ import annotations

import logging

from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded

from . import pipeline

log = logging.getLogger(__name__)

ITEM_SOFT_LIMIT = 120
FEED_SOFT_LIMIT = 120


@shared_task(
    name="ingest.process_item",
    acks_late=True,
    reject_on_worker_lost=True,
    soft_time_limit=ITEM_SOFT_LIMIT,
    time_limit=ITEM_SOFT_LIMIT + 30,
)
def process_item(item_id: int) -> str:
    try:
        return pipeline.process_item(item_id)
    except SoftTimeLimitExceeded:
        return pipeline.fail_item(item_id, f"took longer than {ITEM_SOFT_LIMIT} seconds")
    except Exception as exc:
        log.exception("import item %s failed", item_id)
        return pipeline.fail_item(item_id, f"unexpected error: {type(exc).__name__}: {exc}")


@shared_task(
    name=pipeline.POLL_TASK,
    acks_late=True,
    reject_on_worker_lost=True,
    soft_time_limit=FEED_SOFT_LIMIT,
    time_limit=FEED_SOFT_LIMIT + 30,
)
def poll_feed(feed_id: int, run_id: int | None = None) -> int | None:
    run = pipeline.poll_feed(feed_id, run_id)
    return run.pk if run else None
