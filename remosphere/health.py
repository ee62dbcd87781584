"""Liveness and readiness endpoints for Render's health check and for people.

``/healthz`` does no I/O: the process answers, so it is alive. ``/readyz`` checks what a
request needs (PostgreSQL, Redis) and answers 503 naming whatever is unreachable; it also
lists the Celery worker nodes whose heartbeat is fresh, and those of them not consuming
their queue (see ``operations.liveness``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import redis
from django.conf import settings
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import resolve
from django.views.decorators.http import require_GET

from operations.liveness import WorkerState, worker_states
from servicespec import endpoints

logger = logging.getLogger(__name__)

TIMEOUT_SECONDS = 2


@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok"})


@require_GET
def readyz(request: HttpRequest) -> JsonResponse:
    workers: list[WorkerState] = []
    checks = {"database": _database(), "redis": _redis(workers)}
    if checks["redis"] == "not configured":  # local: heartbeats are files
        workers = worker_states()
    ready = all(result in ("ok", "not configured") for result in checks.values())
    # Workers are reported, not required: registrations queue up while none runs. A worker
    # alive but not consuming is named apart (its heartbeat alone would hide it).
    return JsonResponse(
        {
            "status": "ok" if ready else "unavailable",
            "checks": checks,
            "workers": [w.node for w in workers],
            "workers_not_consuming": [w.node for w in workers if w.consuming() is False],
        },
        status=200 if ready else 503,
    )


def _database() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception as error:  # any driver error means "not ready"
        logger.warning("readyz: database unreachable: %s", type(error).__name__)
        connection.close_if_unusable_or_obsolete()
        return "unreachable"
    return "ok"


def _redis(workers: list[WorkerState]) -> str:
    """Ping Redis, and fill ``workers`` with the worker nodes alive."""
    url = settings.REDIS_URL
    if not url:
        return "not configured"
    try:
        client = redis.Redis.from_url(
            url, socket_timeout=TIMEOUT_SECONDS, socket_connect_timeout=TIMEOUT_SECONDS
        )
        try:
            client.ping()
            workers.extend(worker_states(client))
        finally:
            client.close()
    except redis.RedisError as error:
        logger.warning("readyz: redis unreachable: %s", type(error).__name__)
        return "unreachable"
    return "ok"


class HostFreeHealthChecks:
    """Render's health checks (and a rehearsal's) reach an instance at its own address
    (``Host: 10.x.y.z:10000``), which ``ALLOWED_HOSTS`` does not name and should not: the
    two health paths are answered here, before Django checks the host, so a health check
    never fails on its Host header. Their views read nothing of the request but its
    method; every other path is checked as before."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response
        self.paths = frozenset(endpoints.HEALTH_CHECK_PATHS)

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path_info not in self.paths:
            return self.get_response(request)
        match = resolve(request.path_info)  # the URLconf's view, and its route for /metrics
        request.resolver_match = match
        return match.func(request, *match.args, **match.kwargs)
