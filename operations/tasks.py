"""The worker's own task: the liveness probe (operations/liveness.py)."""

from __future__ import annotations

from celery import shared_task

from operations.liveness import PROBE_TASK


@shared_task(name=PROBE_TASK, ignore_result=True)
def probe() -> None:
    """Nothing: a worker taking it from the queue is the point, since that proves the
    node still consumes (its heartbeat records when it last took a message)."""
