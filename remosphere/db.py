"""Database connections held only while they are used."""

from __future__ import annotations

from django.db import connection


def give_back_connection() -> None:
    """Return this thread's PostgreSQL connection to the process's pool before a long
    wait (a call to SendGrid), so a few connections serve many threads. Without a pool
    (SQLite locally) the connection is kept: closing it would only cost a reconnect; and
    inside a transaction it must stay (the caller's, or a test's)."""
    if connection.settings_dict.get("OPTIONS", {}).get("pool") and not connection.in_atomic_block:
        connection.close()


def discard_connection() -> None:
    """Drop this thread's connection after a database error: the pool replaces a broken
    one, so the next statement gets a working connection if PostgreSQL is back."""
    if not connection.in_atomic_block:
        connection.close()
