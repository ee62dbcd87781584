"""The Celery broker: the Key Value the worker's REDIS_URL names (C codes; skipped with
--generic). A broker holds the queued tasks, so it must neither evict them (C006) nor
lose them when it restarts (C015).

Sources: render.com/docs/key-value (eviction policies, and persistence: paid instances
write to disk, free ones do not; ``persistenceMode`` in the official schema:
``journal-snapshot``, ``snapshot`` or ``off``), Celery's Redis broker documentation (a
task is a list entry in Redis until a worker acknowledges it), docs/RELIABILITY.md.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path as FsPath

from blueprintcheck import model, plans
from blueprintcheck.checks.contract import provided, roles
from blueprintcheck.loader import Document
from blueprintcheck.rules import Finding, Severity, rule
from servicespec import envspec

E, W = Severity.ERROR, Severity.WARNING
DURABLE = "journal-snapshot"


def broker(document: Document) -> model.Resource | None:
    """The Key Value the worker uses as its broker, if the blueprint defines it."""
    found = roles(document)
    if envspec.WORKER not in found:
        return None
    scope, worker = found[envspec.WORKER]
    given = provided(scope, worker).get("REDIS_URL")
    ref = given.entry.get("fromService") if given else None
    target = scope.find("service", ref.get("name")) if isinstance(ref, dict) else None
    return target if target and target.type == "keyvalue" else None


@rule(
    "C006",
    "broker-evicts",
    E,
    "The Key Value the worker uses as its broker may evict keys "
    "(Render's default policy does), silently dropping queued tasks.",
    "Set `maxmemoryPolicy: noeviction` on that Key Value.",
    generic=False,
)
def broker_evicts(document: Document, repo: FsPath) -> Iterator[Finding]:
    target = broker(document)
    if target and target.data.get("maxmemoryPolicy") != "noeviction":
        policy = target.data.get("maxmemoryPolicy", "not set (Render's default evicts)")
        yield Finding(
            (*target.path, "maxmemoryPolicy") if "maxmemoryPolicy" in target.data else target.path,
            f'Key Value "{target.name}" is the Celery broker; its '
            f"maxmemoryPolicy is {policy}, which can drop queued tasks",
        )


@rule(
    "C015",
    "broker-not-durable",
    W,
    "The Key Value the worker uses as its broker does not keep its data across a restart "
    "as well as it can: `persistenceMode` is `snapshot`, `off` or not stated, or the plan "
    "is free (no persistence). A restart (maintenance, an upgrade, a crash) then drops the "
    "queued tasks and those a worker was running. The outbox's sweep enqueues them again "
    "(docs/RELIABILITY.md), so emails are late by up to EMAIL_SWEEP_AFTER_SECONDS plus the "
    "sweep's schedule, not lost: a warning, not an error.",
    "Use a paid plan with `persistenceMode: journal-snapshot` (an append-only journal "
    "fsynced every second, plus snapshots: at most about a second of tasks at risk).",
    generic=False,
)
def broker_not_durable(document: Document, repo: FsPath) -> Iterator[Finding]:
    target = broker(document)
    if target is None:
        return
    mode = target.data.get("persistenceMode")
    late = "queued emails would wait for the sweep"
    if target.plan == plans.FREE:
        yield Finding(
            (*target.path, "plan"),
            f'Key Value "{target.name}" is the Celery broker on the free plan, which keeps '
            f"nothing on disk: a restart drops every queued task ({late})",
        )
    elif mode != DURABLE:
        said = f"persistenceMode is {mode}" if mode else "persistenceMode is not stated"
        yield Finding(
            (*target.path, "persistenceMode") if mode else target.path,
            f'Key Value "{target.name}" is the Celery broker and its {said}: a restart can '
            f"drop queued tasks ({late}); use persistenceMode: {DURABLE}",
        )
