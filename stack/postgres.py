"""PostgreSQL databases and users on a local server, created and dropped with quoted
identifiers (``psycopg.sql``), never by formatting a name into SQL."""

from __future__ import annotations

import os
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg import sql

# The local server: the tests' and the benchmarks' (TEST_DATABASE_URL, as the tests read
# it), else the machine's own with trust authentication.
SERVER_URL = os.environ.get("TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")


def url(database: str, server: str = SERVER_URL) -> str:
    """``server``'s URL, pointing at ``database``."""
    return urlunsplit(urlsplit(server)._replace(path="/" + database))


def create_database(connection: psycopg.Connection, name: str, *, owner: str | None = None,
                    replace: bool = False) -> None:  # fmt: skip
    """``replace``: drop a database of that name first (its connections too)."""
    if replace:
        drop_database(connection, name)
    statement = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name))
    if owner is not None:
        statement = sql.SQL("{} OWNER {}").format(statement, sql.Identifier(owner))
    connection.execute(statement)


def drop_database(connection: psycopg.Connection, name: str) -> None:
    connection.execute(
        sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
    )


def create_user(connection: psycopg.Connection, name: str, password: str) -> None:
    connection.execute(
        sql.SQL("CREATE ROLE {} LOGIN PASSWORD {}").format(
            sql.Identifier(name), sql.Literal(password)
        )
    )


def drop_user(connection: psycopg.Connection, name: str) -> None:
    connection.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(name)))


def comment(connection: psycopg.Connection, kind: str, name: str, text: str) -> None:
    """A comment on a database or a role (``kind``: ``DATABASE`` or ``ROLE``): the mark a
    later run recognises what it made by."""
    if kind not in ("DATABASE", "ROLE"):
        raise ValueError(f"comment on a DATABASE or a ROLE, not {kind!r}")
    connection.execute(
        sql.SQL("COMMENT ON {} {} IS {}").format(
            sql.SQL(kind), sql.Identifier(name), sql.Literal(text)
        )
    )
