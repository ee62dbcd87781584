"""The real PostgreSQL and Redis the tests use, and a clear stop when one is missing."""

from __future__ import annotations

import os
import socket
from urllib.parse import urlsplit, urlunsplit

DATABASE_URL = os.environ.get("TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")

HOW_TO_START = {
    "PostgreSQL": "pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start",
    "Redis": 'redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no',
}


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
    return urlunsplit(urlsplit(DATABASE_URL)._replace(path="/" + name))
