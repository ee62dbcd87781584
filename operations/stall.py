"""A worker that restarts itself when it stops consuming.

Render restarts a background worker only when its process exits, and a worker can keep
running, answer pings and take nothing (the known Celery failure after a broker
reconnect, a consumer cancelled, a half-open connection that the bounded sockets of
``remosphere.broker`` did not catch). The heartbeat step (``operations.liveness``) asks
``verdict`` at every heartbeat; when it names a reason the node logs one line saying why
and stops with ``EXIT_STALLED`` after a warm shutdown (its tasks finish and are
acknowledged, as on any shutdown), so Render starts a fresh instance. A node whose main
loop hangs cannot even stop warmly: the heartbeat, which runs in a thread of its own,
notices the loop stopped turning while Redis answers and ends the process
(``hung``): its unacknowledged messages come back after the visibility timeout, and the
sweep enqueues any email Redis lost.

Stalled means all of these, for longer than ``WORKER_STALL_SECONDS``:

- it took nothing from its queue (Celery's ``task_received``, counted since it took its
  last message, or started, or since Redis came back after an outage);
- there was something to take: the queue was not empty, or it published its own probe
  (which an idle node does every ``WORKER_PROBE_SECONDS``; a healthy one takes its share
  of the probes, Redis handing them to its waiting clients in turn);
- it had a thread free to take it (a node whose every thread is sending is busy, not
  stalled);
- Redis answered. An outage is not a stall: the node waits for Redis as Celery does (its
  main loop, reconnecting, runs no heartbeat meanwhile), and the clock starts again when
  Redis is back and the loop runs ("not resumed" if it then takes nothing).

Each self-restart is counted in PostgreSQL by reason (``remosphere_worker_self_restarts_total``
on ``/metrics``): a node cut off from Redis counts too.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass

logger = logging.getLogger(__name__)

EXIT_STALLED = os.EX_SOFTWARE  # 70: not a clean exit, so Render's log shows it for what it is
STALLED = "stalled"  # took nothing while there was something to take
NOT_RESUMED = "not_resumed"  # took nothing since Redis came back
MAIN_LOOP = "main_loop"  # its main loop stopped turning while Redis answered
CUT_OFF = "cut_off"  # Redis answered nothing for the bound: a partition, a long outage
REASONS = (STALLED, NOT_RESUMED, MAIN_LOOP, CUT_OFF)


@dataclass
class Watch:
    """What the node knows about its own consumption, in time.time() seconds."""

    started_at: float
    consumed_at: float | None = None  # it last took a message from its queue
    offered_at: float | None = None  # the queue last had something, or it last probed
    broker_back_at: float | None = None  # Redis answered again after failing
    broker_down: bool = False

    def since(self) -> float:
        """Since when it has taken nothing that it could have."""
        return max(self.started_at, self.consumed_at or 0.0, self.broker_back_at or 0.0)


def verdict(watch: Watch, *, now: float, free_thread: bool, bound: float) -> str | None:
    """Why the node should restart itself now, or ``None``."""
    since = watch.since()
    if watch.broker_down or not free_thread or now - since <= bound:
        return None
    if watch.offered_at is None or watch.offered_at < since:
        return None  # nothing to take since
    resumed_clock = watch.broker_back_at is not None and watch.broker_back_at >= since
    return NOT_RESUMED if resumed_clock else STALLED


def explain(reason: str, *, node: str, idle: float, queue: str, bound: float) -> str:
    """The one line a node logs when it restarts itself."""
    what = {
        STALLED: f"it has taken nothing from queue {queue} for {idle:.0f}s while there was "
        "something to take and a thread free to take it",
        NOT_RESUMED: f"it has taken nothing from queue {queue} in the {idle:.0f}s since Redis "
        "came back",
    }[reason]
    return (
        f"worker {node} restarts itself: {what} (WORKER_STALL_SECONDS={bound:.0f}); a warm "
        "shutdown, then "
        f"exit status {EXIT_STALLED}, so Render starts a fresh instance"
    )


def record(reason: str, node: str) -> None:
    """Count one self-restart. PostgreSQL down too loses only that count, said in the log;
    the connection is closed at once (this runs in the heartbeat's thread, about to end)."""
    from django.db import DatabaseError, connection

    from operations.models import SelfRestart

    try:
        SelfRestart.objects.create(node=node[:255], reason=reason)
    except DatabaseError as error:
        logger.warning("self-restart not counted: %s", type(error).__name__)
    finally:
        connection.close()


def restarts() -> dict[str, int]:
    """Self-restarts so far, by reason (every reason, counted or not)."""
    from django.db.models import Count

    from operations.models import SelfRestart

    counted = SelfRestart.objects.order_by().values_list("reason").annotate(n=Count("id"))
    return {reason: 0 for reason in REASONS} | dict(counted)


def stop(exit_code: int = EXIT_STALLED) -> None:
    """A warm shutdown with ``exit_code``: Celery's consumer loop checks this flag on every
    turn and stops as on SIGTERM (``celery.worker.state.maybe_shutdown``)."""
    from celery.worker import state

    state.should_stop = exit_code


def hung(node: str, silent: float, bound: float, *, broker: bool = True) -> None:
    """End a node whose main loop stopped turning: no warm shutdown can run. ``broker``:
    whether Redis answered meanwhile (if not, a partition or a long outage blocks the loop:
    a fresh process reconnects when the network is back)."""
    logger.error(
        "worker %s restarts itself: its main loop has not turned for %.0fs while %s "
        "(WORKER_STALL_SECONDS=%.0f); exit status %s without a warm shutdown",
        node,
        silent,
        "Redis answers" if broker else "Redis does not answer (a partition, a long outage)",
        bound,
        EXIT_STALLED,
    )
    logging.shutdown()
    os._exit(EXIT_STALLED)
