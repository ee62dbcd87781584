"""``GET /metrics``: Prometheus' text format, through prometheus-client.

Two kinds of figures:

- **The system's**, read from Redis and PostgreSQL at scrape time (``SystemCollector``),
  so every web instance and process answers the same, however many there are: queue depth
  and latency (``operations.queues``), workers alive and consuming
  (``operations.liveness``), the outbox (``emails.selectors``), the cron jobs' last runs
  (``remosphere.cron_runs``) and the autoscaler's last decision. Where a name exists in
  celery-exporter (``celery_queue_length``, ``celery_worker_up``,
  ``celery_active_worker_count``, ``celery_active_consumer_count``), it is used with the
  same labels, so dashboards built for it work.
- **The web's own requests** (``remosphere_http_request_duration_seconds`` by route,
  method and status), counted in each process. Under Gunicorn, its processes share them
  through prometheus-client's multiprocess mode (``PROMETHEUS_MULTIPROC_DIR``, made by
  docker/web-entrypoint.sh), so one scrape sees the whole instance; each web instance is
  a target of its own.

A source that cannot be read is said so (``remosphere_metrics_source_up{source}`` 0) and
its figures are left out; the scrape still answers.
"""

from __future__ import annotations

import hmac
import logging
import time
from collections.abc import Callable, Iterator

import redis
from django.conf import settings
from django.db import DatabaseError, connection
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.cache import add_never_cache_headers
from django.views.decorators.http import require_GET
from prometheus_client import REGISTRY, CollectorRegistry, Histogram, generate_latest
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    InfoMetricFamily,
    Metric,
)
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector

from emails import selectors
from emails.selectors import Kind, Outcome, Status
from operations import autoscaler, liveness, queues, stall
from remosphere import broker, cron_runs

logger = logging.getLogger(__name__)

REQUESTS = Histogram(
    "remosphere_http_request_duration_seconds",
    "Time the web took to answer a request, by route, method and status (this instance).",
    ["route", "method", "status"],
)


class RequestMetricsMiddleware:
    """Times every request into ``REQUESTS``. Labelled by the URL pattern that matched,
    never the path itself (a scanner's random paths are one ``unmatched`` series)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        response = self.get_response(request)
        match = getattr(request, "resolver_match", None)
        route = f"/{match.route}" if match is not None and match.route else "unmatched"
        REQUESTS.labels(route, request.method, str(response.status_code)).observe(
            time.perf_counter() - started
        )
        return response


class SystemCollector(Collector):
    """The figures every instance reads alike, from Redis and PostgreSQL, at scrape time."""

    def collect(self) -> Iterator[Metric]:
        up = GaugeMetricFamily(
            "remosphere_metrics_source_up",
            "1 when this scrape could read the source (redis, postgresql), else 0.",
            labels=["source"],
        )
        for source, read in (("redis", self._redis), ("postgresql", self._postgresql)):
            try:
                families = list(read())
            except (redis.RedisError, DatabaseError, OSError) as error:
                logger.warning("metrics: %s unreadable (%s)", source, type(error).__name__)
                if isinstance(error, DatabaseError):
                    connection.close_if_unusable_or_obsolete()
                up.add_metric([source], 0)
                continue
            up.add_metric([source], 1)
            yield from families
        yield up

    def _redis(self) -> Iterator[Metric]:
        client = broker.redis_client()
        try:
            now = time.time()
            yield from _queue_families(queues.read(client, now=now))
            yield from _worker_families(liveness.worker_states(client), now)
            yield from _run_families({job: cron_runs.last(job, client) for job in cron_runs.JOBS})
            yield from _decision_families(autoscaler.load_memory(client).last_decision)
        finally:
            client.close()

    def _postgresql(self) -> Iterator[Metric]:
        yield from _outbox_families(selectors.outbox_summary())
        yield from _restart_families(stall.restarts())


def _queue_families(states: list[queues.QueueState]) -> Iterator[Metric]:
    length = GaugeMetricFamily(
        "celery_queue_length", "Messages waiting in the queue.", labels=["queue_name"]
    )
    latency = GaugeMetricFamily(
        "remosphere_queue_latency_seconds",
        "How long the oldest waiting message has waited (0 when the queue is empty).",
        labels=["queue_name"],
    )
    for state in states:
        length.add_metric([state.name], state.depth)
        latency.add_metric([state.name], state.latency or 0.0)
    yield from (length, latency)


def _worker_families(states: list[liveness.WorkerState], now: float) -> Iterator[Metric]:
    queue = settings.CELERY_TASK_DEFAULT_QUEUE
    up = GaugeMetricFamily(
        "celery_worker_up", "1 for each worker node whose heartbeat is fresh.", labels=["hostname"]
    )
    consuming = GaugeMetricFamily(
        "remosphere_worker_consuming",
        "1 when the node took a message from its queue recently, 0 when alive but not "
        "consuming (operations/liveness.py).",
        labels=["hostname"],
    )
    idle = GaugeMetricFamily(
        "remosphere_worker_idle_seconds",
        "Seconds since the node last took a message from its queue (or started).",
        labels=["hostname"],
    )
    for state in states:
        up.add_metric([state.node], 1)
        verdict = state.consuming(now)
        if verdict is not None:
            consuming.add_metric([state.node], int(verdict))
        if (seconds := state.idle_for(now)) is not None:
            idle.add_metric([state.node], seconds)
    workers = GaugeMetricFamily(
        "celery_active_worker_count", "Worker nodes alive.", labels=["queue_name"]
    )
    workers.add_metric([queue], len(states))
    consumers = GaugeMetricFamily(
        "celery_active_consumer_count",
        "Worker nodes alive and consuming the queue.",
        labels=["queue_name"],
    )
    consumers.add_metric([queue], sum(1 for s in states if s.consuming(now) is not False))
    yield from (up, consuming, idle, workers, consumers)


def _restart_families(restarts: dict[str, int]) -> Iterator[Metric]:
    counted = CounterMetricFamily(
        "remosphere_worker_self_restarts",
        "Worker nodes that restarted themselves, by reason: stalled (took nothing while there "
        "was something to take), not_resumed (took nothing after Redis came back), main_loop "
        "(its main loop stopped), cut_off (Redis answered nothing for WORKER_STALL_SECONDS: a "
        "partition) (operations/stall.py).",
        labels=["reason"],
    )
    for reason, count in sorted(restarts.items()):
        counted.add_metric([reason], count)
    yield counted


def _outbox_families(summary: selectors.OutboxSummary) -> Iterator[Metric]:
    rows = GaugeMetricFamily(
        "remosphere_outbox_emails",
        "Emails in the outbox, by kind and status.",
        labels=["kind", "status"],
    )
    for (kind, status), n in sorted(summary.rows.items()):
        rows.add_metric([kind, status], n)
    sent = CounterMetricFamily(
        "remosphere_emails_sent", "Emails SendGrid accepted.", labels=["kind"]
    )
    failed = CounterMetricFamily(
        "remosphere_emails_failed",
        "Emails given up on (refused by SendGrid, or every attempt failed).",
        labels=["kind"],
    )
    retries = CounterMetricFamily(
        "remosphere_email_retries", "Attempts beyond each email's first.", labels=["kind"]
    )
    for kind in Kind.values:
        sent.add_metric([kind], summary.count(status=Status.SENT, kind=kind))
        failed.add_metric([kind], summary.count(status=Status.FAILED, kind=kind))
        retries.add_metric([kind], summary.retries.get(kind, 0))
    oldest = GaugeMetricFamily(
        "remosphere_outbox_oldest_open_age_seconds",
        "How long the oldest email not yet sent (pending or sending) has waited; 0 if none.",
        value=summary.oldest_open_age or 0.0,
    )
    recent = GaugeMetricFamily(
        "remosphere_emails_failed_last_hour",
        "Emails that failed in the last hour.",
        value=summary.failed_recently,
    )
    yield from (rows, sent, failed, retries, oldest, recent)
    for outcome, said in (
        (Outcome.DELIVERED, "delivered to the recipient's server"),
        (Outcome.BOUNCED, "bounced"),
        (Outcome.BLOCKED, "blocked (the receiving server refused it for now)"),
        (Outcome.DROPPED, "dropped by SendGrid"),
        (Outcome.DEFERRED, "deferred by the recipient's server (delivered later or not)"),
        (Outcome.SPAM_REPORT, "reported as spam"),
    ):
        yield GaugeMetricFamily(
            f"remosphere_emails_{outcome}_last_hour",
            f"Emails SendGrid reported {said} in the last hour (its Event Webhook), each "
            "counted for what happened in the hour whatever was reported of it since.",
            value=summary.outcomes_recently.get(outcome, 0),
        )
    if summary.bounce_rate is not None:
        yield GaugeMetricFamily(
            "remosphere_emails_bounce_rate_last_hour",
            "Bounced / (delivered + bounced) of the last hour's reports; absent without any.",
            value=summary.bounce_rate,
        )
    yield GaugeMetricFamily(
        "remosphere_suppressed_addresses",
        "Addresses no email is sent to (they bounced, were dropped or reported spam).",
        value=summary.suppressed_addresses,
    )


def _run_families(last: dict[str, cron_runs.Run | None]) -> Iterator[Metric]:
    at = GaugeMetricFamily(
        "remosphere_job_last_run_timestamp_seconds",
        "When the cron job (sweep, autoscale) last ran.",
        labels=["job"],
    )
    ok = GaugeMetricFamily(
        "remosphere_job_last_run_success", "1 when its last run succeeded.", labels=["job"]
    )
    for job, run in last.items():
        if run is not None:
            at.add_metric([job], run.at)
            ok.add_metric([job], int(run.ok))
    yield from (at, ok)


def _decision_families(decision: dict | None) -> Iterator[Metric]:
    if not decision:
        return
    instances = GaugeMetricFamily(
        "remosphere_autoscaler_last_decision_instances",
        "The worker's instances before and after the autoscaler's last decision.",
        labels=["when"],
    )
    instances.add_metric(["before"], decision.get("instances_before", 0))
    instances.add_metric(["after"], decision.get("instances_after", 0))
    info = InfoMetricFamily(
        "remosphere_autoscaler_last_decision", "The autoscaler's last decision and its reason."
    )
    info.add_metric(
        [],
        {
            "at": str(decision.get("at", "")),
            "acted": str(bool(decision.get("acted"))).lower(),
            "dry_run": str(bool(decision.get("dry_run"))).lower(),
            "reason": str(decision.get("reason", ""))[:200],
        },
    )
    yield from (instances, info)


def exposition() -> bytes:
    """Everything, in Prometheus' text format: the web's requests (every process of this
    instance in multiprocess mode, else this process), then the system's figures."""
    if settings.PROMETHEUS_MULTIPROC_DIR:
        requests = CollectorRegistry()
        MultiProcessCollector(requests, path=settings.PROMETHEUS_MULTIPROC_DIR)
    else:
        requests = REGISTRY
    system = CollectorRegistry(auto_describe=False)
    system.register(SystemCollector())
    return generate_latest(requests) + generate_latest(system)


@require_GET
def metrics(request: HttpRequest) -> HttpResponse:
    token = settings.METRICS_TOKEN
    if not token:
        raise Http404("metrics are off: METRICS_TOKEN is not set")
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(given.encode(), token.encode()):
        response = HttpResponse(
            "401 Unauthorized: send Authorization: Bearer <METRICS_TOKEN>\n",
            status=401,
            content_type="text/plain; charset=utf-8",
        )
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
    else:
        # generate_latest writes the classic text format (0.0.4), which Prometheus 2 and 3
        # both read; the library's CONTENT_TYPE_LATEST would announce 1.0.0.
        response = HttpResponse(exposition(), content_type=CONTENT_TYPE_PLAIN_0_0_4)
    add_never_cache_headers(response)
    return response
