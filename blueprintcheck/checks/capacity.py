"""This project's capacity rules (C codes; skipped with --generic): what the blueprint's
instances can ask of the database at their largest. The arithmetic lives in
``remosphere.dbbudget``; the values come from the blueprint, else the env spec."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path as FsPath

from blueprintcheck import model
from blueprintcheck.checks.contract import _int, _value, provided, roles
from blueprintcheck.loader import Document
from blueprintcheck.rules import Finding, Severity, rule
from remosphere import dbbudget, envspec

E = Severity.ERROR


def instances(service: model.Resource) -> int:
    """The most instances a service can run: its scaling maximum, else numInstances."""
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
            web_instances=instances(web),
            web_processes=number[envspec.WEB, "WEB_CONCURRENCY"],
            web_threads=number[envspec.WEB, "GUNICORN_THREADS"],
            web_pool_size=number[envspec.WEB, "DATABASE_POOL_SIZE"],
            worker_instances=instances(worker),
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
