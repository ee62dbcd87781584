"""The real stack the pipeline benchmarks run: a PostgreSQL database of their own, Redis
database 13, Gunicorn through docker/web-entrypoint.sh, Celery workers through
docker/worker-entrypoint.sh, and the local SendGrid with a set response latency.

Production mode (RENDER=true), as on Render; requests carry X-Forwarded-Proto: https as
Render's proxy sets it. Also: how much memory a process tree takes (PSS and RSS), and a
client that registers users and reads their outbox rows.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import secrets
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import redis
from celery import Celery, signals

from bench import cgroups
from bench.common import ROOT
from operations.queues import stamp_published_at
from stack import ports, postgres, processes, proctree
from stack.http import call
from stack.web import WebProcess
from stack.worker import WorkerProcess
from standins.sendgrid import Answer, FakeSendGrid

DATABASE = "remosphere_bench"
REDIS_URL = "redis://127.0.0.1:6379/13"
SENDGRID_KEY = "SG.bench-key"
PASSWORD = "a-long-and-unusual-passphrase"
TASK = "authentication.send_email"
FROM_RENDERS_PROXY = {"X-Forwarded-Proto": "https"}  # production redirects plain HTTP
QUEUE = "remosphere"


@contextlib.contextmanager
def pinned(cpus: set[int] | None) -> Iterator[None]:
    """Processes started inside inherit this CPU set (an emulated container's CPU)."""
    if cpus is None:
        yield
        return
    before = os.sched_getaffinity(0)
    os.sched_setaffinity(0, cpus)
    try:
        yield
    finally:
        os.sched_setaffinity(0, before)


@dataclass(frozen=True)
class Supervisor:
    """The single-container layout running: supervisord, and where its web answers."""

    process: subprocess.Popen
    web_url: str


class Stack:
    def __init__(self, workdir: Path):
        self.workdir = workdir
        self.database_url = postgres.url(DATABASE)
        self.sendgrid = FakeSendGrid(api_key=SENDGRID_KEY).start()
        self.env = {
            "PATH": os.environ["PATH"],
            # What the processes leave in their temporary directory (an earlier commit's
            # web, measured as the baseline, does not remove its metrics directory) goes
            # with the run's own directory.
            "TMPDIR": str(workdir),
            "RENDER": "true",
            "SECRET_KEY": secrets.token_urlsafe(50),
            "DATABASE_URL": self.database_url,
            "REDIS_URL": REDIS_URL,
            "SENDGRID_API_KEY": SENDGRID_KEY,
            "SENDGRID_API_HOST": self.sendgrid.host,
            "DEFAULT_FROM_EMAIL": "no-reply@example.com",
            "EMAIL_VERIFICATION_URL": "https://app.example.com/verify",
            "PASSWORD_RESET_URL": "https://app.example.com/reset-password",
            "LOG_LEVEL": "INFO",  # production's default; the worker says "ready" at INFO
            "THROTTLE_RATE_REGISTER": "1000000/minute",
            "THROTTLE_RATE_LOGIN": "1000000/minute",
            "THROTTLE_RATE_RESEND": "1000000/minute",
            "THROTTLE_RATE_LOGIN_ACCOUNT": "1000000/minute",
        }
        self._processes: list[WebProcess | WorkerProcess] = []
        self._celery = Celery(broker=REDIS_URL, set_as_current=False)
        # Stamped as the project's own publisher stamps them: the autoscaler reads it.
        signals.before_task_publish.connect(stamp_published_at)
        self._create_database()

    # --- data --------------------------------------------------------------------------

    def _create_database(self) -> None:
        with psycopg.connect(postgres.url("postgres"), autocommit=True) as conn:
            postgres.create_database(conn, DATABASE, replace=True)
        subprocess.run(
            [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"],
            cwd=ROOT,
            env=self.env,
            check=True,
        )

    def reset_data(self) -> None:
        """Empty the accounts, the outbox, the queue and the local SendGrid's record."""
        with psycopg.connect(self.database_url, autocommit=True) as conn:
            conn.execute(
                "TRUNCATE authentication_email, knox_authtoken, authentication_user CASCADE"
            )
        redis.Redis.from_url(REDIS_URL).flushdb()
        self.sendgrid.reset()

    def create_pending_emails(self, count: int) -> list[int]:
        """``count`` unverified users with a pending verification email each, straight
        into the database (no password hashing: what is measured is the workers); the
        outbox ids."""
        with psycopg.connect(self.database_url, autocommit=True) as conn:
            conn.execute(
                "INSERT INTO authentication_user (password, is_superuser, email, is_active, "
                "is_staff, date_joined) SELECT '!', false, 'bulk' || n || '@example.com', true, "
                "false, now() FROM generate_series(1, %s) AS n",
                (count,),
            )
            rows = conn.execute(
                "INSERT INTO authentication_email (kind, address, status, attempts, "
                "next_attempt_at, created_at, last_error) "
                "SELECT 'verification', 'bulk' || n || '@example.com', 'pending', 0, now(), "
                "now(), '' FROM generate_series(1, %s) AS n RETURNING id",
                (count,),
            ).fetchall()
        return [row[0] for row in rows]

    def enqueue(self, email_ids: list[int]) -> None:
        for email_id in email_ids:
            self._celery.send_task(TASK, args=[email_id], queue=QUEUE)

    def committed_at(self) -> dict[str, float]:
        """When each outbox row was written (just before its transaction committed)."""
        with psycopg.connect(self.database_url) as conn:
            rows = conn.execute(
                "SELECT address, extract(epoch FROM created_at) FROM authentication_email"
            ).fetchall()
        return {email: float(at) for email, at in rows}

    def api_token(self) -> str:
        """A verified user's API token, for requests that exercise the database (stored
        as django-rest-knox stores it: a SHA-512 digest and the first 15 characters)."""
        key = secrets.token_hex(32)
        with psycopg.connect(self.database_url, autocommit=True) as conn:
            [(user_id,)] = conn.execute(
                "INSERT INTO authentication_user (password, is_superuser, email, is_active, "
                "is_staff, date_joined, email_verified_at) VALUES ('!', false, %s, true, false, "
                "now(), now()) RETURNING id",
                (f"token-{key[:8]}@example.com",),
            ).fetchall()
            conn.execute(
                "INSERT INTO knox_authtoken (digest, token_key, user_id, created, expiry) "
                "VALUES (%s, %s, %s, now(), now() + interval '1 day')",
                (hashlib.sha512(key.encode()).hexdigest(), key[:15], user_id),
            )
        return key

    # --- processes -----------------------------------------------------------------------

    def start_web(
        self,
        *,
        cpus: set[int] | None = None,
        limits: cgroups.Instance | None = None,
        root: Path = ROOT,
        **env: str,
    ) -> WebProcess:
        """The web through its entrypoint; ``limits`` puts it in an emulated Render
        instance; ``root`` runs another checkout's web (an earlier commit)."""
        with pinned(cpus):
            web = WebProcess({**self.env, **env}, self._log("web"), root=root)
        if limits is not None:
            limits.add(web.process.pid)  # before Gunicorn forks its workers: they inherit it
        self._processes.append(web)
        return web.wait_ready(timeout=60)

    def create_verified_users(self, addresses: list[str], password_hash: str) -> None:
        """Verified accounts, straight into the database, each with ``password_hash``."""
        with psycopg.connect(self.database_url, autocommit=True) as conn:
            conn.execute(
                "INSERT INTO authentication_user (password, is_superuser, email, is_active, "
                "is_staff, date_joined, email_verified_at) "
                "SELECT %s, false, address, true, false, now(), now() "
                "FROM unnest(%s::text[]) AS address",
                (password_hash, addresses),
            )

    def start_worker(
        self,
        instance: int = 0,
        *,
        pool: str | None = None,
        concurrency: int | None = None,
        cpus: set[int] | None = None,
        limits: cgroups.Instance | None = None,
        root: Path = ROOT,
    ) -> WorkerProcess:
        """A worker through its entrypoint; ``pool``/``concurrency`` ``None`` keep the
        spec's defaults; ``limits`` puts it in an emulated Render instance; ``root`` runs
        another checkout's worker (an earlier commit, for a same-run comparison)."""
        env = {**self.env, "RENDER_INSTANCE_ID": f"bench-{instance}"}
        if pool:
            env["CELERY_WORKER_POOL"] = pool
        with pinned(cpus):
            worker = WorkerProcess(env, self._log("worker"), concurrency=concurrency, root=root)
        if limits is not None:
            limits.add(worker.process.pid)
        self._processes.append(worker)
        return worker.wait_ready(timeout=60)

    def stop_workers(self) -> None:
        for process in [p for p in self._processes if isinstance(p, WorkerProcess)]:
            process.stop()
            self._processes.remove(process)

    def start_supervisor(self, *, cpus: set[int] | None = None) -> Supervisor:
        """The old layout: Gunicorn and Celery in one container under supervisord."""
        config = ROOT / "bench" / "baselines" / "supervisord.conf"
        env = {
            **self.env,
            "PORT": str(ports.free()),
            "ROOT": str(ROOT),
            "BENCH_DIR": str(self.workdir),
            "WEB_CONCURRENCY": "2",
        }
        with pinned(cpus):
            process = subprocess.Popen(
                [str(Path(sys.executable).parent / "supervisord"), "-n", "-c", str(config)],
                cwd=ROOT,
                env=processes.with_venv_on_path(env),
                stdout=self._log("supervisord").open("wb"),
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        return Supervisor(process, f"http://127.0.0.1:{env['PORT']}")

    def _log(self, name: str) -> Path:
        return self.workdir / f"{name}-{len(self._processes)}-{time.monotonic_ns()}.log"

    def stop(self) -> None:
        for process in reversed(self._processes):
            process.stop()
        self._processes.clear()

    def close(self) -> None:
        """Stop everything and remove the database and the queue's data: a run leaves the
        machine as it found it."""
        self.stop()
        self.sendgrid.stop()
        redis.Redis.from_url(REDIS_URL).flushdb()
        with psycopg.connect(postgres.url("postgres"), autocommit=True) as conn:
            postgres.drop_database(conn, DATABASE)

    def set_sendgrid_latency(self, seconds: float) -> None:
        self.sendgrid.answer_always(Answer(202, delay=seconds))


# --- HTTP ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Timed:
    status: int
    seconds: float


def request(
    method: str, url: str, body: Any = None, *, token: str | None = None, timeout: float = 60
) -> Timed:
    """One request as it reaches the web behind Render's proxy, and how long it took."""
    started = time.perf_counter()
    reply = call(method, url, body, token=token, headers=FROM_RENDERS_PROXY, timeout=timeout)
    return Timed(reply.status, time.perf_counter() - started)


def register_many(web_url: str, addresses: list[str], *, clients: int) -> list[Timed]:
    """Register each address over HTTP from ``clients`` threads at once."""
    with ThreadPoolExecutor(clients) as pool:
        return list(
            pool.map(
                lambda address: request(
                    "POST",
                    f"{web_url}/api/auth/register",
                    {"email": address, "password": PASSWORD},
                ),
                addresses,
            )
        )


def wait_for_emails(stack: Stack, count: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if len(stack.sendgrid.requests) >= count:
            return True
        time.sleep(0.05)
    return False


# --- memory ---------------------------------------------------------------------------------


def cpu_seconds(pid: int) -> float:
    """User and system CPU time of ``pid`` and its living descendants, from /proc (where
    no cgroup counts it)."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for member in proctree.tree(pid):
        try:
            fields = Path(f"/proc/{member}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / ticks


def memory_mb(pid: int) -> dict[str, float]:
    """PSS (pages shared between the forked processes counted once, split between them)
    and RSS of ``pid`` and every descendant, in MB."""
    pss = rss = 0
    for member in proctree.tree(pid):
        try:
            text = Path(f"/proc/{member}/smaps_rollup").read_text()
        except OSError:
            continue
        for line in text.splitlines():
            if line.startswith("Pss:"):
                pss += int(line.split()[1])
            elif line.startswith("Rss:"):
                rss += int(line.split()[1])
    return {"pss": pss / 1024, "rss": rss / 1024}


class PeakMemory:
    """Samples a process tree's memory in the background; ``peak`` is the highest PSS."""

    def __init__(self, pid: int, interval: float = 0.25):
        self.pid, self.interval = pid, interval
        self.peak = {"pss": 0.0, "rss": 0.0}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def __enter__(self) -> PeakMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _sample(self) -> None:
        while not self._stop.is_set():
            now = memory_mb(self.pid)
            if now["pss"] > self.peak["pss"]:
                self.peak = now
            self._stop.wait(self.interval)
