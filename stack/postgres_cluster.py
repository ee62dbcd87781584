"""A PostgreSQL cluster of a rehearsal's own: made with ``initdb`` in a directory of its
own, listening on 127.0.0.1 only, every connection asked for its user's password
(scram-sha-256, as a Render database is), removed with its directory at the end.

``initdb`` and ``postgres`` never run as root: as root, the cluster runs as the ``postgres``
user Debian's package makes, in a directory that user owns.
"""

from __future__ import annotations

import os
import pwd
import re
import secrets
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path
from urllib.parse import quote

import psycopg

from blueprintup.errors import RehearsalError
from stack import ownership, ports

SUPERUSER = "postgres"
RUN_AS = "postgres"  # as root: Debian's postgresql package makes this user
_DEBIAN_BINARIES = Path("/usr/lib/postgresql")


def binaries() -> Path:
    """The directory of ``initdb`` and ``postgres``: the newest of Debian's versions, else
    the ``PATH``'s."""
    versions = sorted(
        (d for d in _DEBIAN_BINARIES.glob("*/bin") if (d / "initdb").exists()),
        key=lambda d: [int(part) for part in re.findall(r"\d+", d.parent.name)],
    )
    if versions:
        return versions[-1]
    found = shutil.which("initdb")
    if found is None:
        raise RehearsalError(
            "PostgreSQL's server programs are not installed (Debian/Ubuntu: apt-get install "
            "postgresql), so the rehearsal cannot start a cluster of its own; or pass "
            "--postgres-url with a superuser's URL on a server you run"
        )
    return Path(found).parent


class PostgresCluster:
    """``initdb`` into a new directory under ``parent`` (named ``prefix`` + random), then a
    ``postgres`` on a free port of 127.0.0.1."""

    def __init__(
        self, parent: Path, prefix: str, *, also_on: tuple[str, ...] = (),
        clients: tuple[str, ...] = (),
    ):  # fmt: skip
        """``also_on``: addresses it listens on besides 127.0.0.1 (a run's gateway);
        ``clients``: networks (CIDR) it takes connections from besides this machine's
        (a run's network), with the same password check."""
        self.parent, self.prefix = parent, prefix
        self.also_on, self.clients = also_on, clients
        self.directory: Path | None = None
        self.process: subprocess.Popen | None = None
        self.port = 0
        self.log = Path(os.devnull)
        self._password = secrets.token_urlsafe(24)
        self._owner = _owner()

    @property
    def admin_url(self) -> str:
        """The superuser's URL: password and all. Never printed."""
        return (
            f"postgresql://{SUPERUSER}:{quote(self._password, safe='')}@{ports.HOST}:"
            f"{self.port}/postgres"
        )

    def start(self, timeout: float = 30.0) -> str:
        """Make and start the cluster; its superuser's URL."""
        if self._owner is not None and not _reachable(self.parent, self._owner):
            raise RehearsalError(
                f"as root, PostgreSQL runs as the user {RUN_AS!r}, which cannot reach "
                f"{self.parent}: set TMPDIR to a directory every user can pass through "
                "(/tmp), or pass --postgres-url with a superuser's URL on a server you run"
            )
        self.directory = Path(tempfile.mkdtemp(prefix=self.prefix, dir=self.parent))
        data, sockets = self.directory / "data", self.directory / "sockets"
        sockets.mkdir()
        password_file = self.directory / "superuser-password"
        password_file.write_text(self._password + "\n")
        password_file.chmod(0o600)
        if self._owner is not None:
            for path in (self.directory, sockets, password_file):
                os.chown(path, self._owner.pw_uid, self._owner.pw_gid)
        bin_dir = binaries()
        made = subprocess.run(
            [
                str(bin_dir / "initdb"), "--pgdata", str(data), "--username", SUPERUSER,
                "--pwfile", str(password_file), "--auth", "scram-sha-256",
                "--encoding", "UTF8", "--locale", "C", "--no-sync", "--no-instructions",
            ],
            capture_output=True, text=True, check=False, **self._as_owner(),
        )  # fmt: skip
        password_file.unlink()
        if made.returncode == 0 and self.clients:
            with (data / "pg_hba.conf").open("a") as rules:
                rules.writelines(f"host all all {cidr} scram-sha-256\n" for cidr in self.clients)
        if made.returncode != 0:
            said = made.stderr.strip()[-1500:]
            raise RehearsalError(f"initdb failed ({made.returncode}): {said}")
        self.port = ports.free()
        self.log = self.directory / "postgres.log"
        with self.log.open("wb") as log:
            if self._owner is not None:
                os.chown(self.log, self._owner.pw_uid, self._owner.pw_gid)
            self.process = ownership.popen(
                [
                    str(bin_dir / "postgres"), "-D", str(data), "-p", str(self.port),
                    "-c", f"listen_addresses={','.join((ports.HOST, *self.also_on))}",
                    "-c", f"unix_socket_directories={sockets}",
                    "-c", "fsync=off",  # a rehearsal's data is thrown away at its end
                ],
                stdout=log, stderr=subprocess.STDOUT, **self._as_owner(),
            )  # fmt: skip
        self._wait_ready(self.process, timeout)
        return self.admin_url

    def _as_owner(self) -> dict:
        if self._owner is None:
            return {}
        return {"user": self._owner.pw_uid, "group": self._owner.pw_gid, "extra_groups": []}

    def _wait_ready(self, process: subprocess.Popen, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if process.poll() is not None:
                said = self.log.read_text(errors="replace").strip()[-1500:]
                raise RehearsalError(f"postgres exited with {process.returncode}: {said}")
            try:
                psycopg.connect(self.admin_url, connect_timeout=2).close()
                return
            except psycopg.OperationalError:
                time.sleep(0.1)
        self.stop()
        raise RehearsalError(f"postgres did not accept connections in {timeout:.0f}s")

    def stop(self, timeout: float = 15.0) -> None:
        """A fast shutdown (SIGINT: sessions ended, no checkpoint wait), then the
        directory goes."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.directory is not None:
            shutil.rmtree(self.directory, ignore_errors=True)
            self.directory = None


def _owner() -> pwd.struct_passwd | None:
    """Who the cluster runs as: ``None`` (this user) unless this is root."""
    if os.geteuid() != 0:
        return None
    try:
        return pwd.getpwnam(RUN_AS)
    except KeyError:
        raise RehearsalError(
            "PostgreSQL does not run as root, and there is no 'postgres' user to run the "
            "rehearsal's own cluster as (Debian/Ubuntu: apt-get install postgresql makes "
            "it); or pass --postgres-url with a superuser's URL on a server you run"
        ) from None


def _reachable(directory: Path, user: pwd.struct_passwd) -> bool:
    """Whether ``user`` may pass through every directory down to ``directory``."""
    groups = set(os.getgrouplist(user.pw_name, user.pw_gid))
    for step in [directory.resolve(), *directory.resolve().parents]:
        info = step.stat()
        if info.st_uid == user.pw_uid:
            allowed = info.st_mode & 0o100
        elif info.st_gid in groups:
            allowed = info.st_mode & 0o010
        else:
            allowed = info.st_mode & 0o001
        if not allowed:
            return False
    return True
