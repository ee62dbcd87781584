"""The worker's own task: the liveness probe (operations/liveness.py)."""

from __future__ import annotations

from operations.liveness import PROBE_TASK
from remosphere.celery import app


@app.task(name=PROBE_TASK, ignore_result=True)
def probe() -> None:
    """Nothing: a worker taking it from the queue is the point, since that proves the
    node still consumes (its heartbeat records when it last took a message)."""
