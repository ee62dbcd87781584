"""``manage.py doctor``: the troubleshooting list as one command, from any service's shell.

Each check is a plain function that takes what the checks share (``Reach``: one Redis
client, the workers seen) and yields ``Finding``s: ``ok``, ``fail`` (something to fix;
the command exits 1) or ``unknown`` (it could not be told; says why). A service that
cannot be reached is a finding, never a traceback; errors are named by their type, never
by a message that could hold a URL with its password; secrets are never printed.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass, field
from functools import cached_property

import redis
from django.conf import settings
from django.db import DatabaseError, connection
from django.db.migrations.executor import MigrationExecutor

from emails import selectors
from operations import liveness, queues
from remosphere import broker, cron_runs
from servicespec import envspec

OK, FAIL, UNKNOWN = "ok", "fail", "unknown"
SEND_EMAIL_TASK = selectors.SEND_EMAIL_TASK
INSPECT_TIMEOUT = 2.0
OUTBOX_STUCK_SECONDS = 15 * 60  # three sweeps past EMAIL_SWEEP_AFTER_SECONDS's default
SWEEP_LATE_SECONDS = 15 * 60  # it runs every 5 minutes
AUTOSCALER_LATE_SECONDS = 5 * 60  # it runs every minute
# Mailbox providers start filtering a sender whose bounces pass a few percent; above this,
# out of at least this many reports, the addresses written to the outbox need a look.
BOUNCE_RATE_ALARM = 0.05
BOUNCE_RATE_MIN_REPORTS = 20
DELIVERY_EVENTS_FIX = (
    "set up SendGrid's signed Event Webhook to POST /webhooks/sendgrid and "
    "SENDGRID_WEBHOOK_PUBLIC_KEY on the web (docs/OPERATIONS.md, delivery events)"
)
# Render's RENDER_SERVICE_TYPE -> the process whose variables to check there.
PROCESS_OF_SERVICE_TYPE = {"web": envspec.WEB, "worker": envspec.WORKER}


@dataclass(frozen=True)
class Finding:
    check: str
    status: str  # ok | fail | unknown
    detail: str
    fix: str = ""


@dataclass
class Reach:
    """What the checks share, each opened once: the Redis client, the workers seen."""

    process: str | None
    now: float = field(default_factory=time.time)
    redis_error: str | None = None

    @cached_property
    def database_error(self) -> str | None:
        """Why PostgreSQL cannot be reached (the error's type), or ``None``; tried once, so
        the checks after the first do not each wait for the pool's timeout again."""
        try:
            connection.ensure_connection()
        except DatabaseError as error:
            connection.close_if_unusable_or_obsolete()
            return type(error).__name__
        return None

    @cached_property
    def redis(self) -> redis.Redis | None:
        if not settings.REDIS_URL:
            return None
        client = broker.redis_client()
        try:
            client.ping()
        except redis.RedisError as error:
            self.redis_error = type(error).__name__
            return None
        return client

    @cached_property
    def workers(self) -> list[liveness.WorkerState] | None:
        if settings.REDIS_URL and self.redis is None:
            return None
        try:
            return liveness.worker_states(self.redis)
        except (redis.RedisError, OSError):
            return None


REDIS_FIX = "check REDIS_URL and the Key Value's status in the Render dashboard"
DATABASE_FIX = "check DATABASE_URL and the database's status in the Render dashboard"


def check_environment(reach: Reach) -> Iterator[Finding]:
    who = f"the {reach.process} process" if reach.process else "every process"
    problems = envspec.check(os.environ, reach.process)
    if not problems:
        yield Finding("environment", OK, f"every variable {who} needs is set and well-formed")
        return
    names = ", ".join(problem.name for problem in problems)
    yield Finding(
        "environment",
        FAIL,
        f"{len(problems)} problem(s) for {who}: " + "; ".join(str(problem) for problem in problems),
        f"set {names} in the service's environment (render.yaml, or the dashboard for "
        "secrets); every variable: README.md#environment-variables",
    )


def check_postgresql(reach: Reach) -> Iterator[Finding]:
    started = time.perf_counter()
    if reach.database_error:
        yield Finding("postgresql", FAIL, f"unreachable ({reach.database_error})", DATABASE_FIX)
        return
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        took = (time.perf_counter() - started) * 1000
        executor = MigrationExecutor(connection)
        pending = executor.migration_plan(executor.loader.graph.leaf_nodes())
    except DatabaseError as error:
        connection.close_if_unusable_or_obsolete()
        yield Finding("postgresql", FAIL, f"unreachable ({type(error).__name__})", DATABASE_FIX)
        return
    yield Finding("postgresql", OK, f"reachable ({took:.0f} ms, {connection.vendor})")
    if pending:
        names = ", ".join(f"{m.app_label}.{m.name}" for m, _ in pending[:5])
        yield Finding(
            "migrations",
            FAIL,
            f"{len(pending)} not applied: {names}",
            "run python manage.py migrate (the web's preDeployCommand runs it on deploy)",
        )
    else:
        yield Finding("migrations", OK, "every migration is applied")


def check_redis(reach: Reach) -> Iterator[Finding]:
    if not settings.REDIS_URL:
        yield Finding("redis", OK, "not used here (REDIS_URL unset: local file-system broker)")
        return
    client = reach.redis
    if client is None:
        yield Finding("redis", FAIL, f"unreachable ({reach.redis_error})", REDIS_FIX)
        return
    yield Finding("redis", OK, "reachable")
    policy = _eviction_policy(client)
    if policy is None:
        yield Finding(
            "redis eviction policy",
            UNKNOWN,
            "cannot be read here (INFO and CONFIG GET refused)",
            "check in the Key Value's settings that its maxmemory policy is noeviction",
        )
    elif policy != "noeviction":
        yield Finding(
            "redis eviction policy",
            FAIL,
            f"{policy}: under memory pressure Redis deletes keys, and a deleted task is a lost "
            "email",
            "set maxmemoryPolicy: noeviction on the Key Value (render.yaml) and apply it",
        )
    else:
        yield Finding("redis eviction policy", OK, "noeviction: Redis never drops a task")


def _eviction_policy(client: redis.Redis) -> str | None:
    try:
        policy = client.info("memory").get("maxmemory_policy")
        if policy:
            return str(policy)
    except redis.RedisError:
        pass
    try:
        return str(client.config_get("maxmemory-policy").get("maxmemory-policy") or "") or None
    except redis.RedisError:
        return None


def check_broker(reach: Reach) -> Iterator[Finding]:
    from celery import current_app as app

    try:
        with app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, interval_start=0, interval_step=0, timeout=5)
            transport = conn.transport_cls
    except Exception as error:  # kombu and redis raise their own types
        yield Finding("broker", FAIL, f"unreachable ({type(error).__name__})", REDIS_FIX)
        return
    yield Finding("broker", OK, f"Celery reaches its broker ({transport})")


def check_workers(reach: Reach) -> Iterator[Finding]:
    workers = reach.workers
    if workers is None:
        yield Finding("workers", UNKNOWN, "cannot be listed: Redis is unreachable", REDIS_FIX)
        return
    if not workers:
        yield Finding(
            "workers",
            FAIL,
            "no worker alive: emails wait in the queue until one starts",
            "check the worker service: its status, its logs (docker/worker-entrypoint.sh "
            "says why it stopped) and its instance count",
        )
        return
    stuck = [w for w in workers if w.consuming(reach.now) is False]
    if stuck:
        described = ", ".join(f"{w.node} (idle {w.idle_for(reach.now):.0f}s)" for w in stuck)
        yield Finding(
            "workers",
            FAIL,
            f"{len(workers)} alive, {len(stuck)} not consuming their queue: {described}",
            "restart the worker service (Render dashboard: Manual Deploy -> Restart "
            "service); its log says whether it lost Redis",
        )
        return
    judged = all(w.consuming(reach.now) is not None for w in workers)
    how = "all consuming" if judged else "consumption not judged locally"
    yield Finding(
        "workers", OK, f"{len(workers)} alive, {how}: {', '.join(w.node for w in workers)}"
    )


def check_registered(reach: Reach) -> Iterator[Finding]:
    workers = reach.workers
    if not settings.REDIS_URL:
        yield Finding(
            "email task",
            UNKNOWN,
            "workers cannot be asked with the local file-system broker",
        )
        return
    if not workers:
        return  # nobody to ask: check_workers said why
    from celery import current_app as app

    nodes = [w.node for w in workers]
    try:
        answers = app.control.inspect(timeout=INSPECT_TIMEOUT, destination=nodes).registered()
    except Exception as error:  # kombu and redis raise their own types
        yield Finding("email task", FAIL, f"workers cannot be asked ({type(error).__name__})")
        return
    answers = answers or {}
    silent = [node for node in nodes if node not in answers]
    missing = [node for node, tasks in answers.items() if SEND_EMAIL_TASK not in tasks]
    if silent or missing:
        said = []
        if silent:
            said.append(f"no answer within {INSPECT_TIMEOUT:.0f}s from {', '.join(silent)}")
        if missing:
            said.append(f"{SEND_EMAIL_TASK} not registered on {', '.join(missing)}")
        yield Finding(
            "email task",
            FAIL,
            "; ".join(said),
            "restart the worker service; a worker without the task runs another image or "
            "app (its command must be docker/worker-entrypoint.sh)",
        )
        return
    yield Finding("email task", OK, f"{SEND_EMAIL_TASK} registered on {len(nodes)} worker(s)")


def check_queue(reach: Reach) -> Iterator[Finding]:
    if reach.redis is None:
        if settings.REDIS_URL:
            yield Finding("queue", UNKNOWN, "cannot be read: Redis is unreachable", REDIS_FIX)
        return
    target = settings.AUTOSCALE_TARGET_LATENCY_SECONDS
    for state in queues.read(reach.redis, now=reach.now):
        waited = "empty" if state.empty else f"{state.depth} waiting"
        if state.latency is not None:
            waited += f", the oldest for {state.latency:.0f}s"
        if state.latency is not None and state.latency > target:
            yield Finding(
                f"queue {state.name}",
                FAIL,
                f"{waited}: over the {target}s target (AUTOSCALE_TARGET_LATENCY_SECONDS)",
                "more worker instances (docs/SCALING.md), or see why the workers are not "
                "taking them (the workers finding above)",
            )
        else:
            yield Finding(f"queue {state.name}", OK, waited)


def check_outbox(reach: Reach) -> Iterator[Finding]:
    if reach.database_error:
        yield Finding("outbox", UNKNOWN, "cannot be read: PostgreSQL is unreachable", DATABASE_FIX)
        return
    try:
        summary = selectors.outbox_summary()
    except DatabaseError as error:
        connection.close_if_unusable_or_obsolete()
        yield Finding(
            "outbox",
            UNKNOWN,
            f"cannot be read ({type(error).__name__})",
            DATABASE_FIX + ", and that every migration is applied",
        )
        return
    open_ = summary.count(status="pending") + summary.count(status="sending")
    age = summary.oldest_open_age
    backlog = f"{open_} email(s) not sent yet" + (f", the oldest for {age:.0f}s" if age else "")
    if age is not None and age > OUTBOX_STUCK_SECONDS:
        yield Finding(
            "outbox backlog",
            FAIL,
            backlog,
            "emails are retried with backoff while SendGrid fails, and enqueued again by the "
            "sweep when their task was lost: check the failures, the workers and the sweep",
        )
    else:
        yield Finding("outbox backlog", OK, backlog)
    if summary.failed_recently:
        reasons = "; ".join(f"{n}x {reason}" for reason, n in summary.reasons)
        yield Finding(
            "outbox failures",
            FAIL,
            f"{summary.failed_recently} email(s) failed in the last hour: {reasons}",
            "a SendGrid 401/403 is SENDGRID_API_KEY or an unverified DEFAULT_FROM_EMAIL; "
            "see docs/OPERATIONS.md",
        )
    else:
        sent = summary.count(status="sent")
        yield Finding("outbox failures", OK, f"none in the last hour ({sent} sent in all)")
    yield _delivery_finding(summary)


def _delivery_finding(summary: selectors.OutboxSummary) -> Finding:
    """What SendGrid reported in the last hour, and whether it reports at all."""
    counts = summary.outcomes_recently
    delivered, bounced = counts.get("delivered", 0), counts.get("bounced", 0)
    rate = summary.bounce_rate
    blocked = counts.get("blocked", 0)
    said = (
        f"last hour: {delivered} delivered, {bounced} bounced, {blocked} blocked, "
        f"{counts.get('dropped', 0)} dropped, {counts.get('spam_report', 0)} reported as spam"
        + (f" (bounce rate {rate:.1%})" if rate is not None else "")
        + f"; {summary.suppressed_addresses} address(es) suppressed"
    )
    enough = delivered + bounced >= BOUNCE_RATE_MIN_REPORTS
    attempts = delivered + bounced + blocked
    if attempts >= BOUNCE_RATE_MIN_REPORTS and blocked / attempts > BOUNCE_RATE_ALARM:
        return Finding(
            "email delivery",
            FAIL,
            said,
            f"over {BOUNCE_RATE_ALARM:.0%} of emails are blocked: receiving servers refuse "
            "them for now, most often for the sender's reputation or the content, not the "
            "addresses (nothing is suppressed): check the blocked rows' reasons in the admin "
            "and SendGrid's blocks list, the sending domain's SPF, DKIM and DMARC",
        )
    if rate is not None and enough and rate > BOUNCE_RATE_ALARM:
        return Finding(
            "email delivery",
            FAIL,
            said,
            f"over {BOUNCE_RATE_ALARM:.0%} of emails bounce: look at the bounced rows' "
            "reasons in the admin (outbox, outcome bounced); bounced addresses are "
            "suppressed already",
        )
    if summary.sent_recently and not any(counts.values()):
        return Finding(
            "email delivery",
            UNKNOWN,
            f"SendGrid accepted {summary.sent_recently} email(s) in the last hour and reported "
            "nothing about them",
            DELIVERY_EVENTS_FIX,
        )
    return Finding("email delivery", OK, said)


def check_jobs(reach: Reach) -> Iterator[Finding]:
    if reach.redis is None:
        if settings.REDIS_URL:
            yield Finding("cron jobs", UNKNOWN, "cannot be read: Redis is unreachable", REDIS_FIX)
        else:
            yield Finding("cron jobs", UNKNOWN, "not recorded without Redis (make run)")
        return
    sweep = cron_runs.last(cron_runs.SWEEP, reach.redis)
    if sweep is None:
        yield Finding(
            "sweep",
            FAIL if settings.PRODUCTION else UNKNOWN,
            "no run recorded",
            "check that the remosphere-sweep cron job exists and succeeds "
            "(locally: python manage.py sweep_emails)",
        )
    else:
        yield _job_finding("sweep", sweep, reach.now, SWEEP_LATE_SECONDS, "remosphere-sweep")
    autoscale = cron_runs.last(cron_runs.AUTOSCALE, reach.redis)
    if autoscale is None:
        yield Finding("autoscaler", OK, "not in use (no run recorded; docs/SCALING.md)")
    else:
        yield _job_finding(
            "autoscaler", autoscale, reach.now, AUTOSCALER_LATE_SECONDS, "remosphere-autoscaler"
        )


def _job_finding(name: str, run: cron_runs.Run, now: float, late: float, service: str) -> Finding:
    ago = now - run.at
    if not run.ok:
        return Finding(name, FAIL, f"its last run, {ago:.0f}s ago, failed: {run.summary}",
                       f"the cron job {service}'s logs have the whole run")  # fmt: skip
    if ago > late:
        return Finding(
            name,
            FAIL,
            f"last ran {ago:.0f}s ago (every run records itself): {run.summary}",
            f"check that the cron job {service} is not suspended and that its runs succeed",
        )
    return Finding(name, OK, f"ran {ago:.0f}s ago: {run.summary}")


CHECKS: tuple[Callable[[Reach], Iterable[Finding]], ...] = (
    check_environment,
    check_postgresql,
    check_redis,
    check_broker,
    check_workers,
    check_registered,
    check_queue,
    check_outbox,
    check_jobs,
)


def examine(process: str | None) -> list[Finding]:
    reach = Reach(process)
    findings = [finding for check in CHECKS for finding in check(reach)]
    if reach.redis is not None:
        reach.redis.close()
    return findings


def default_process() -> str | None:
    """The process this shell belongs to, from Render's RENDER_SERVICE_TYPE."""
    return PROCESS_OF_SERVICE_TYPE.get(settings.RENDER_SERVICE_TYPE or "")


MARKS = {OK: "✓", FAIL: "✗", UNKNOWN: "?"}


def as_text(findings: list[Finding]) -> str:
    lines = []
    for finding in findings:
        lines.append(f"{MARKS[finding.status]} {finding.check}: {finding.detail}")
        if finding.fix and finding.status != OK:
            lines.append(f"    fix: {finding.fix}")
    failed = sum(1 for f in findings if f.status == FAIL)
    lines.append(f"doctor: {failed} problem(s) found" if failed else "doctor: nothing wrong found")
    return "\n".join(lines)


def as_json(findings: list[Finding], process: str | None) -> dict:
    return {
        "ok": not any(f.status == FAIL for f in findings),
        "process": process,
        "findings": [asdict(f) for f in findings],
    }
