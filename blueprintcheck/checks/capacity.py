"""This project's capacity and scaling rules (C codes; skipped with --generic): what the
blueprint's instances can ask of the database at their largest, and how the worker's
instance count is governed when the autoscaler runs (docs/SCALING.md). The connection
arithmetic lives in ``servicespec.dbbudget``; the values come from the blueprint, else the
env spec."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path as FsPath

from blueprintcheck import model
from blueprintcheck.checks.contract import _int, _value, provided, roles
from blueprintcheck.loader import Document
from blueprintcheck.rules import Finding, Severity, rule
from servicespec import dbbudget, envspec

E = Severity.ERROR


def instances(document: Document, service: model.Resource) -> int:
    """The most instances a service can run: the autoscaler's maximum for the worker when
    the autoscaler runs, else its scaling maximum, else numInstances."""
    found = roles(document)
    worker = found.get(envspec.WORKER, (None, None))[1]
    if envspec.AUTOSCALE in found and worker is not None and worker.path == service.path:
        maximum = _int(_value(document, envspec.AUTOSCALE, "AUTOSCALE_MAX_INSTANCES"))
        if maximum is not None:
            return maximum
    scaling = service.data.get("scaling")
    if isinstance(scaling, dict) and _int(scaling.get("maxInstances")) is not None:
        return int(scaling["maxInstances"])
    return _int(service.data.get("numInstances", 1)) or 1


def database_of(scope: model.Scope, service: model.Resource) -> model.Resource | None:
    given = provided(scope, service).get("DATABASE_URL")
    ref = given.entry.get("fromDatabase") if given else None
    return scope.find("database", ref.get("name")) if isinstance(ref, dict) else None


def budget(document: Document) -> tuple[dbbudget.Budget, model.Resource] | None:
    """The project's connection budget and the database it draws on, if both are known."""
    found = roles(document)
    if envspec.WEB not in found or envspec.WORKER not in found:
        return None
    scope, web = found[envspec.WEB]
    database = database_of(scope, web)
    if database is None:
        return None
    worker = found[envspec.WORKER][1]
    number = {
        (role, name): _int(_value(document, role, name))
        for role, name in [
            (envspec.WEB, "WEB_CONCURRENCY"),
            (envspec.WEB, "GUNICORN_THREADS"),
            (envspec.WEB, "DATABASE_POOL_SIZE"),
            (envspec.WORKER, "CELERY_WORKER_CONCURRENCY"),
            (envspec.WORKER, "DATABASE_POOL_SIZE"),
        ]
    }
    if None in number.values():
        return None  # a malformed number: C004/S codes say so
    crons = [s for s in scope.services if s.type == "cron" and database_of(scope, s) is database]
    return (
        dbbudget.Budget(
            web_instances=instances(document, web),
            web_processes=number[envspec.WEB, "WEB_CONCURRENCY"],
            web_threads=number[envspec.WEB, "GUNICORN_THREADS"],
            web_pool_size=number[envspec.WEB, "DATABASE_POOL_SIZE"],
            worker_instances=instances(document, worker),
            worker_pool=str(_value(document, envspec.WORKER, "CELERY_WORKER_POOL")),
            worker_concurrency=number[envspec.WORKER, "CELERY_WORKER_CONCURRENCY"],
            worker_pool_size=number[envspec.WORKER, "DATABASE_POOL_SIZE"],
            cron_jobs=len(crons),
        ),
        database,
    )


@rule(
    "C011",
    "connection-budget",
    E,
    "The web, the worker and the cron jobs, at their most instances, can hold more "
    "PostgreSQL connections than the database's plan allows (Render refuses the rest: "
    "`FATAL: sorry, too many clients already`).",
    "Lower DATABASE_POOL_SIZE, WEB_CONCURRENCY or an instance maximum, or choose a "
    "database plan with more memory; docs/DEPLOY.md shows the arithmetic.",
    generic=False,
)
def connection_budget(document: Document, repo: FsPath) -> Iterator[Finding]:
    found = budget(document)
    if found is None:
        return
    plan, (database, limit) = found[0], (found[1], dbbudget.plan_limit(found[1].plan))
    if limit is None:
        return  # an unknown plan is the schema's to report
    usable = dbbudget.usable(limit)
    if plan.total > usable:
        yield Finding(
            (*database.path, "plan") if "plan" in database.data else database.path,
            f"the services can hold {plan.total} PostgreSQL connections at once "
            f'({plan.arithmetic()}), more than the {usable} database "{database.name}" '
            f"can give (plan {database.plan or dbbudget.DEFAULT_PLAN}: {limit}, less "
            f"{dbbudget.RESERVED_BY_POSTGRES} for Postgres and {dbbudget.HEADROOM} headroom): "
            "lower DATABASE_POOL_SIZE, WEB_CONCURRENCY or an instance count, or choose a "
            "plan with more memory",
        )


@rule(
    "C012",
    "render-api-key-scope",
    E,
    "RENDER_API_KEY reaches a service other than the autoscaler's cron job. The key can "
    "change every service of the workspace; only the process that scales needs it.",
    "Declare RENDER_API_KEY (`sync: false`) on the autoscaler's cron job alone, not in a "
    "group others read and not on another service.",
    generic=False,
)
def render_api_key_scope(document: Document, repo: FsPath) -> Iterator[Finding]:
    autoscaler = roles(document).get(envspec.AUTOSCALE, (None, None))[1]
    for scope, service in model.all_resources(document.data):
        if service.kind != "service" or (autoscaler and service.path == autoscaler.path):
            continue
        given = provided(scope, service).get("RENDER_API_KEY")
        if given is not None:
            via = f' (through group "{given.group}")' if given.group else ""
            yield Finding(
                (*given.path, "key"),
                f'service "{service.name}" gets RENDER_API_KEY{via}; only the autoscaler\'s '
                "cron job may hold it",
            )


@rule(
    "C013",
    "native-scaling-with-autoscaler",
    E,
    "The worker has a `scaling` block (Render's own autoscaling) while the autoscaler runs: "
    "Render ignores the autoscaler's /scale calls as long as its own autoscaling is on, and "
    "it scales on CPU and memory, which an email worker waiting on SendGrid barely uses.",
    "Remove the worker's `scaling` block and set `numInstances`, or remove the autoscaler's "
    "cron job.",
    generic=False,
)
def native_scaling_with_autoscaler(document: Document, repo: FsPath) -> Iterator[Finding]:
    found = roles(document)
    if envspec.AUTOSCALE not in found or envspec.WORKER not in found:
        return
    worker = found[envspec.WORKER][1]
    if "scaling" in worker.data:
        yield Finding(
            (*worker.path, "scaling"),
            f'worker "{worker.name}" has a scaling block while the autoscaler scales it; '
            "Render would ignore the autoscaler",
            True,
        )


@rule(
    "C014",
    "instances-outside-autoscale-range",
    E,
    "The worker's `numInstances` is outside the autoscaler's range (AUTOSCALE_MIN_INSTANCES "
    "to AUTOSCALE_MAX_INSTANCES), or the range is empty: every deploy of the blueprint would "
    "set a count the autoscaler then undoes.",
    "Set `numInstances` between the two, and the minimum at most the maximum.",
    generic=False,
)
def instances_outside_autoscale_range(document: Document, repo: FsPath) -> Iterator[Finding]:
    found = roles(document)
    if envspec.AUTOSCALE not in found or envspec.WORKER not in found:
        return
    worker, autoscaler = found[envspec.WORKER][1], found[envspec.AUTOSCALE][1]
    low, high = (
        _int(_value(document, envspec.AUTOSCALE, f"AUTOSCALE_{end}_INSTANCES"))
        for end in ("MIN", "MAX")
    )
    if low is None or high is None:
        return
    if low > high:
        yield Finding(
            (*autoscaler.path, "envVars") if "envVars" in autoscaler.data else autoscaler.path,
            f"AUTOSCALE_MIN_INSTANCES ({low}) is above AUTOSCALE_MAX_INSTANCES ({high})",
        )
        return
    count = _int(worker.data.get("numInstances", 1))
    if count is not None and not low <= count <= high:
        yield Finding(
            (*worker.path, "numInstances") if "numInstances" in worker.data else worker.path,
            f'worker "{worker.name}" starts {count} instance(s), outside the autoscaler\'s '
            f"range {low} to {high}",
        )
