"""The timeout chains that keep shutdowns clean and tasks from running twice.

Worker: task soft limit < task hard limit < worker shutdown budget (hard limit plus a
margin to close connections) < the worker's ``maxShutdownDelaySeconds`` (Render's SIGKILL)
< the broker's visibility timeout (after which Redis hands an unacknowledged task to
another worker). The longest retry wait must also stay below the visibility timeout.

Web: Gunicorn's graceful timeout < the web's ``maxShutdownDelaySeconds``.

Standard library only: the blueprint validator uses it with the blueprint's values.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

RENDER_DEFAULT_SHUTDOWN_DELAY = 30  # Render's maxShutdownDelaySeconds when none is set
RENDER_MAX_SHUTDOWN_DELAY = 300
SHUTDOWN_MARGIN_SECONDS = 15  # after the last task: close the pool, the broker, the heartbeat
EMAIL_RETRY_MAX_SECONDS = 600  # the longest wait between two email retries


@dataclass(frozen=True)
class Link:
    name: str
    seconds: int


def worker_chain(
    *, soft_limit: int, hard_limit: int, max_shutdown_delay: int, visibility_timeout: int
) -> list[Link]:
    return [
        Link("CELERY_TASK_SOFT_TIME_LIMIT", soft_limit),
        Link("CELERY_TASK_TIME_LIMIT", hard_limit),
        Link("the worker shutdown budget", hard_limit + SHUTDOWN_MARGIN_SECONDS),
        Link("worker maxShutdownDelaySeconds", max_shutdown_delay),
        Link("CELERY_VISIBILITY_TIMEOUT", visibility_timeout),
    ]


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
