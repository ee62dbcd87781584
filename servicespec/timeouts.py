"""The timeout chains that keep shutdowns clean and emails from being sent twice, in one
place: the settings, the outbox, the validator (C003) and the docs all derive from here.

The worker's default pool is threads, and Celery cannot stop a thread: its soft and hard
time limits apply only to the prefork pool. So an email task is bounded by what it waits
on, each with a timeout of its own:

    the claim (PostgreSQL: a pooled connection within DATABASE_TIMEOUT_SECONDS)
  + the send (SendGrid: SENDGRID_TIMEOUT in total, connect and read together)
  + the note that SendGrid accepted it (Redis: CACHE_ATTEMPTS x CACHE_SOCKET_SECONDS, the
    second on a fresh connection, and the pause between)
  + the release (PostgreSQL again)
  = the task budget

and the task checks, once the row is claimed, that the send and the release still fit in
the claim's lease (``send_deadline``); if the claim came back late, it gives the row back
unsent. Then, strictly increasing:

    task budget < the lease on the outbox row (budget + LEASE_MARGIN)
    task budget < worker shutdown budget (budget + SHUTDOWN_MARGIN: close the pool, the
                  broker, the heartbeat) < the worker's maxShutdownDelaySeconds (Render's
                  SIGKILL) < CELERY_VISIBILITY_TIMEOUT (after which Redis hands an
                  unacknowledged task to another worker)
    the longest retry wait < CELERY_VISIBILITY_TIMEOUT

Web: Gunicorn's graceful timeout < the web's ``maxShutdownDelaySeconds``.

A worker that stops consuming restarts itself after ``WORKER_STALL_SECONDS``
(operations/stall.py), which must be longer than the liveness window (a healthy idle node
takes a probe within it) and than the shutdown budget (a node shutting down takes nothing
meanwhile):

    the liveness window (PROBES_TO_GO_STALE x WORKER_PROBE_SECONDS + a heartbeat)
        < WORKER_STALL_SECONDS
    the worker shutdown budget < WORKER_STALL_SECONDS
    Celery's longest wait between reconnection attempts < WORKER_STALL_SECONDS

Standard library only: the blueprint validator uses it with the blueprint's values.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

RENDER_DEFAULT_SHUTDOWN_DELAY = 30  # Render's maxShutdownDelaySeconds when none is set
RENDER_MAX_SHUTDOWN_DELAY = 300
DATABASE_TIMEOUT_SECONDS = 5  # to get a pooled connection, or to open one
CACHE_SOCKET_SECONDS = 2  # the cache's client: to connect, and for each reply
CACHE_ATTEMPTS = 2  # a command that fails on a connection is tried once more, on a fresh one
CACHE_COMMAND_SECONDS = CACHE_ATTEMPTS * CACHE_SOCKET_SECONDS + 1  # and the pause between
LEASE_MARGIN_SECONDS = 15  # a claim outlives the task budget by this much
SHUTDOWN_MARGIN_SECONDS = 15  # after the last task: close the pool, the broker, the heartbeat
EMAIL_RETRY_MAX_SECONDS = 600  # the longest wait between two email retries
HEARTBEAT_SECONDS = 10  # a worker's heartbeats come this often at most (operations/liveness.py)
# Celery waits up to this long between two attempts to reconnect to the broker (kombu's
# ensure_connection: 2 s, then 2 s more each time, at most 30 s): a worker can take that
# long to consume again after Redis is back.
CELERY_RECONNECT_MAX_SECONDS = 30
PROBES_TO_GO_STALE = 3  # probes without taking one before a node is "not consuming"


def task_budget(sendgrid_timeout: int) -> int:
    """The longest an email task can take: claim, send, note, release."""
    return (
        DATABASE_TIMEOUT_SECONDS + sendgrid_timeout + CACHE_COMMAND_SECONDS
        + DATABASE_TIMEOUT_SECONDS
    )  # fmt: skip


def lease(sendgrid_timeout: int) -> int:
    """How long a claim on an outbox row holds off every other task."""
    return task_budget(sendgrid_timeout) + LEASE_MARGIN_SECONDS


def send_deadline(sendgrid_timeout: int) -> int:
    """Seconds after claiming by which the send must start, so that the send, the note and
    the release (each at their longest) end inside the lease."""
    return (
        lease(sendgrid_timeout) - sendgrid_timeout - CACHE_COMMAND_SECONDS
        - DATABASE_TIMEOUT_SECONDS
    )  # fmt: skip


def celery_time_limits(sendgrid_timeout: int) -> tuple[int, int]:
    """Soft and hard limits for the prefork pool, where Celery can enforce them: a
    backstop past the budget, inside the lease."""
    budget = task_budget(sendgrid_timeout)
    return budget + 2, budget + LEASE_MARGIN_SECONDS // 2


@dataclass(frozen=True)
class Link:
    name: str
    seconds: int


def worker_chain(
    *, sendgrid_timeout: int, max_shutdown_delay: int, visibility_timeout: int
) -> list[Link]:
    budget = task_budget(sendgrid_timeout)
    return [
        Link(
            f"the email task budget (SENDGRID_TIMEOUT {sendgrid_timeout}s + database + the "
            "cache's note)",
            budget,
        ),
        Link("the worker shutdown budget", budget + SHUTDOWN_MARGIN_SECONDS),
        Link("worker maxShutdownDelaySeconds", max_shutdown_delay),
        Link("CELERY_VISIBILITY_TIMEOUT", visibility_timeout),
    ]


def liveness_window(probe_seconds: int) -> int:
    """How long a consuming node can go without taking a message: a few probes' worth,
    plus a heartbeat (its record is that old at worst)."""
    return PROBES_TO_GO_STALE * probe_seconds + min(HEARTBEAT_SECONDS, probe_seconds)


def stall_chains(
    *, probe_seconds: int, stall_seconds: int, sendgrid_timeout: int
) -> list[list[Link]]:
    stall = Link("WORKER_STALL_SECONDS", stall_seconds)
    window = Link(
        f"the liveness window ({PROBES_TO_GO_STALE} x WORKER_PROBE_SECONDS + a heartbeat)",
        liveness_window(probe_seconds),
    )
    shutdown = Link(
        "the worker shutdown budget", task_budget(sendgrid_timeout) + SHUTDOWN_MARGIN_SECONDS
    )
    reconnect = Link(
        "Celery's longest wait between two reconnections to Redis",
        CELERY_RECONNECT_MAX_SECONDS,
    )
    return [[window, stall], [shutdown, stall], [reconnect, stall]]


def web_chain(*, graceful_timeout: int, max_shutdown_delay: int) -> list[Link]:
    return [
        Link("GUNICORN_GRACEFUL_TIMEOUT", graceful_timeout),
        Link("web maxShutdownDelaySeconds", max_shutdown_delay),
    ]


def broken_links(chain: list[Link]) -> list[str]:
    """A message for each link that is not strictly shorter than the next."""
    return [
        f"{shorter.name} ({shorter.seconds}s) must be less than {longer.name} ({longer.seconds}s)"
        for shorter, longer in itertools.pairwise(chain)
        if shorter.seconds >= longer.seconds
    ]
