"""How many PostgreSQL connections a deployment can hold at once, against what its
database plan allows. The validator (C011) computes it from ``render.yaml`` and the env
spec; docs/DEPLOY.md explains the arithmetic.

Every process keeps its own psycopg pool of at most ``DATABASE_POOL_SIZE`` connections,
and never uses more connections than it runs things at once:

- a web instance: ``WEB_CONCURRENCY`` Gunicorn processes x min(pool, ``GUNICORN_THREADS``);
- a worker instance: with threads, one process: min(pool, ``CELERY_WORKER_CONCURRENCY``);
  with prefork, one connection per child process; solo, one;
- a cron job run: one (Render runs one at a time per job).

Render Postgres caps connections by the plan's memory (under 8 GB: 100; under 16 GB: 200;
under 32 GB: 400; else 500; legacy plans 97, 197, 397) and keeps about ten for itself. A
plan's memory is the end of its name: ``basic-256mb``, ``pro-16gb``, and in Render's 2026
names ``0.1c-256mb``, ``4c-32g``.
Standard library only: the validator imports it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

RESERVED_BY_POSTGRES = 10  # replication, autovacuum, Render's monitoring
HEADROOM = 10  # a pre-deploy migration, a shell, psql while investigating
DEFAULT_PLAN = "basic-256mb"
LEGACY_LIMITS = {
    "starter": 97,
    "standard": 97,
    "pro": 97,
    "pro plus": 197,
    "pro max": 397,
    "pro ultra": 397,
}
_MEMORY = re.compile(r"-(\d+)(mb|gb|g)$")


def plan_limit(plan: str | None) -> int | None:
    """The connection cap of a Render Postgres plan; ``None`` for a plan not known."""
    plan = (plan or DEFAULT_PLAN).strip().lower()
    if plan in LEGACY_LIMITS:
        return LEGACY_LIMITS[plan]
    if plan == "free":
        return 100
    gigabytes = memory_gb(plan)
    if gigabytes is None:
        return None
    for below, limit in ((8, 100), (16, 200), (32, 400)):
        if gigabytes < below:
            return limit
    return 500


def memory_gb(plan: str) -> float | None:
    """The memory a plan's name gives (``basic-256mb``: 0.25), ``None`` for a legacy name."""
    match = _MEMORY.search(plan.strip().lower())
    if not match:
        return None
    size, unit = int(match.group(1)), match.group(2)
    return size / 1024 if unit == "mb" else float(size)


def usable(limit: int) -> int:
    """What the services may hold: the cap less Postgres's own slots and some headroom."""
    return limit - RESERVED_BY_POSTGRES - HEADROOM


def per_worker_instance(*, pool: str, concurrency: int, pool_size: int) -> int:
    if pool == "prefork":
        return concurrency  # a process per child, each with its own pool, using one
    if pool == "solo":
        return 1
    return min(pool_size, concurrency)


@dataclass(frozen=True)
class Budget:
    web_instances: int
    web_processes: int
    web_threads: int
    web_pool_size: int
    worker_instances: int
    worker_pool: str
    worker_concurrency: int
    worker_pool_size: int
    cron_jobs: int

    @property
    def web(self) -> int:
        return self.web_instances * self.web_processes * min(self.web_pool_size, self.web_threads)

    @property
    def worker(self) -> int:
        return self.worker_instances * per_worker_instance(
            pool=self.worker_pool,
            concurrency=self.worker_concurrency,
            pool_size=self.worker_pool_size,
        )

    @property
    def total(self) -> int:
        return self.web + self.worker + self.cron_jobs

    def arithmetic(self) -> str:
        per_web = min(self.web_pool_size, self.web_threads)
        per_worker = self.worker // self.worker_instances if self.worker_instances else 0
        return (
            f"web {self.web_instances} instance(s) x {self.web_processes} process(es) x "
            f"{per_web} = {self.web}, worker {self.worker_instances} instance(s) x "
            f"{per_worker} = {self.worker}, cron jobs {self.cron_jobs}: {self.total}"
        )
