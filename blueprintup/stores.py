"""The managed datastores, on this machine: a ``redis-server`` per Key Value instance, and a
database and user per PostgreSQL database on a local PostgreSQL server.

Everything made here is removed at the end. A database or user this module made is marked
with a comment, so one left behind by a run that could not clean up (killed with SIGKILL)
is recognised and replaced, and one it did not make is never touched.
"""

from __future__ import annotations

import secrets
import subprocess  # nosec B404
from pathlib import Path
from urllib.parse import urlsplit

import psycopg

from blueprintup.errors import RehearsalError
from blueprintup.output import Console, Pump
from blueprintup.topology import Database, KeyValue
from blueprintup.variables import DatabaseAccess, Endpoint
from stack import postgres
from stack.ports import HOST
from stack.redis_server import RedisServer, StackError

DEFAULT_POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
MARK = "made by blueprint_up"
_REDIS_DEFAULT_SAVE = "3600 1 300 100 60 10000"  # redis-server's own default
PERSISTENCE = {  # Render's persistenceMode -> redis-server's options
    "off": ["--save", "", "--appendonly", "no"],
    "snapshot": ["--save", _REDIS_DEFAULT_SAVE, "--appendonly", "no"],
    "journal-snapshot": [
        "--save",
        _REDIS_DEFAULT_SAVE,
        "--appendonly",
        "yes",
        "--appendfsync",
        "everysec",
    ],
}


class RedisInstance:
    """A Key Value instance: a redis-server of its own, with the instance's eviction
    policy, memory and persistence, its log prefixed with the instance's name."""

    def __init__(self, key_value: KeyValue, directory: Path, console: Console):
        self.key_value, self.directory, self.console = key_value, directory, console
        self.server: RedisServer | None = None
        self.endpoint: Endpoint | None = None

    def start(self, timeout: float = 15.0, also_on: tuple[str, ...] = ()) -> Endpoint:
        """``also_on``: the run network's gateway, where its instances reach this machine."""
        try:
            self.server = RedisServer(
                also_on=also_on,
                maxmemory_policy=self.key_value.policy,
                memory_mb=self.key_value.memory_mb,
                persistence=PERSISTENCE.get(self.key_value.persistence, PERSISTENCE["off"]),
                directory=self.directory,
                output=subprocess.PIPE,
            )
        except StackError as error:
            raise RehearsalError(f"{self.key_value.name}: {error}") from None
        process = self.server.launch()
        pump = Pump(self.console, self.key_value.name, process.stdout)
        if not self.server.ready(timeout):
            code = process.poll()
            self.server.stop()
            pump.join()
            said = f"exited with {code}" if code is not None else f"did not answer in {timeout}s"
            raise RehearsalError(
                f"{self.key_value.name}: redis-server {said}:\n" + "\n".join(pump.tail)
            )
        self.endpoint = Endpoint(HOST, self.server.port)
        return self.endpoint

    def stop(self) -> None:
        if self.server is not None:
            self.server.stop()


class PostgresServer:
    """A PostgreSQL server this machine can reach as a superuser (``--postgres-url``)."""

    def __init__(self, admin_url: str, console: Console, *, run: str):
        self.admin_url, self.console, self.run = admin_url, console, run
        parts = urlsplit(admin_url)
        self.host, self.port = parts.hostname or HOST, parts.port or 5432
        self.made: list[DatabaseAccess] = []

    def _connect(self) -> psycopg.Connection:
        try:
            return psycopg.connect(self.admin_url, autocommit=True, connect_timeout=5)
        except psycopg.OperationalError as error:
            raise RehearsalError(
                f"PostgreSQL does not answer at {self.host}:{self.port} "
                f"({type(error).__name__}). Start it (Debian/Ubuntu: apt-get install "
                "postgresql, the package postgresql; then pg_ctlcluster <version> main start), "
                "or pass --postgres-url with a superuser's URL"
            ) from None

    def create(self, database: Database) -> DatabaseAccess:
        password = secrets.token_urlsafe(24)
        with self._connect() as connection:
            self._note_version(connection, database)
            self._clear_leftover(connection, database)
            mark = f"{MARK} for {database.name} (run {self.run})"
            postgres.create_user(connection, database.user, password)
            postgres.comment(connection, "ROLE", database.user, mark)
            postgres.create_database(connection, database.database, owner=database.user)
            postgres.comment(connection, "DATABASE", database.database, mark)
        access = DatabaseAccess(self.host, self.port, database.user, password, database.database)
        self.made.append(access)
        return access

    def _note_version(self, connection: psycopg.Connection, database: Database) -> None:
        major = str(connection.info.server_version // 10000)
        if database.major_version and database.major_version != major:
            self.console.status(
                f"{database.name} asks for PostgreSQL {database.major_version}; the local "
                f"server is {major}: rehearsing on {major}"
            )

    def _clear_leftover(self, connection: psycopg.Connection, database: Database) -> None:
        found = connection.execute(
            "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = %s",
            (database.database,),
        ).fetchone()
        role = connection.execute(
            "SELECT shobj_description(oid, 'pg_authid') FROM pg_roles WHERE rolname = %s",
            (database.user,),
        ).fetchone()
        for kind, row, name in (
            ("database", found, database.database),
            ("user", role, database.user),
        ):
            if row is not None and not (row[0] or "").startswith(MARK):
                raise RehearsalError(
                    f"{database.name}: the {kind} {name!r} already exists on the PostgreSQL at "
                    f"{self.host}:{self.port} and blueprint_up did not make it; it is left "
                    "alone. Pass --postgres-url for another server, or remove it yourself"
                )
        if found is not None or role is not None:
            self.console.status(f"{database.name}: removing what an earlier run left behind")
            _drop(connection, database.database, database.user)

    def drop_left_by(self, run: str) -> int:
        """Drop every database and user an earlier run (``run``, killed) made and left;
        how many. Recognised by the run's mark in their comments, never by their names.
        Nothing when the server cannot be reached (the next run tries again)."""
        try:
            connection = self._connect()
        except RehearsalError:
            return 0
        pattern = f"{MARK} for % (run {run})"
        with connection:
            databases = connection.execute(
                "SELECT datname FROM pg_database "
                "WHERE shobj_description(oid, 'pg_database') LIKE %s",
                (pattern,),
            ).fetchall()
            users = connection.execute(
                "SELECT rolname FROM pg_roles WHERE shobj_description(oid, 'pg_authid') LIKE %s",
                (pattern,),
            ).fetchall()
            for (name,) in databases:
                postgres.drop_database(connection, name)
            for (name,) in users:
                postgres.drop_user(connection, name)
        return len(databases) + len(users)

    def drop_all(self) -> None:
        if not self.made:
            return
        with self._connect() as connection:
            while self.made:
                access = self.made.pop()
                _drop(connection, access.database, access.user)


def _drop(connection: psycopg.Connection, database: str, user: str) -> None:
    postgres.drop_database(connection, database)
    postgres.drop_user(connection, user)
