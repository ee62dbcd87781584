"""The real PostgreSQL and Redis the tests use, and a clear stop when one is missing.

Under pytest-xdist each worker has a Redis database of its own (gw0 the one the URL names,
gw1 the next one down...), as pytest-django gives each its own test database; database 13
is the benchmarks' (bench/stack.py) and is skipped.
"""

from __future__ import annotations

import os
import socket
from urllib.parse import urlsplit, urlunsplit

from stack import postgres

DATABASE_URL = postgres.SERVER_URL
BENCH_REDIS_DB = 13

HOW_TO_START = {
    "PostgreSQL": "pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start",
    "Redis": 'redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no',
}


def worker_index() -> int:
    """This xdist worker's number (gw3: 3), 0 without xdist."""
    return int(os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw") or 0)


def _redis_url(base: str, index: int) -> str:
    parts = urlsplit(base)
    first = int(parts.path.strip("/") or 0)
    databases = [db for db in range(first, first - 16, -1) if db % 16 != BENCH_REDIS_DB]
    return urlunsplit(parts._replace(path=f"/{databases[index % 15] % 16}"))


REDIS_URL = _redis_url(
    os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15"), worker_index()
)


def unreachable() -> list[str]:
    """A message for each service the tests need that does not answer."""
    problems = []
    for name, url in (("PostgreSQL", DATABASE_URL), ("Redis", REDIS_URL)):
        parts = urlsplit(url)
        try:
            socket.create_connection((parts.hostname, parts.port), timeout=3).close()
        except OSError as error:
            problems.append(
                f"{name} is not reachable at {parts.hostname}:{parts.port} ({error}). "
                f"Start it with: {HOW_TO_START[name]} (or run .ci/run, which does)."
            )
    return problems


def database_url(name: str) -> str:
    """``DATABASE_URL`` pointing at database ``name`` on the tests' server (for processes
    that must see the test database pytest-django created)."""
    return postgres.url(name)
