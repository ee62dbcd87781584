"""Runs the floor (``bench/floor_app.py``) as the real worker runs: its own Celery worker
process, the same pool and concurrency, the same Redis database and local SendGrid; each
message published one at a time, timed from the publish to its arrival at SendGrid."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

from celery import Celery

from bench.common import ROOT
from bench.stack import REDIS_URL, SENDGRID_KEY, Stack
from servicespec import envspec
from stack import processes

POOL = envspec.BY_NAME["CELERY_WORKER_POOL"].default
CONCURRENCY = envspec.BY_NAME["CELERY_WORKER_CONCURRENCY"].default


def floor_ms(stack: Stack, count: int, log: Path) -> list[float]:
    """Milliseconds from publishing each of ``count`` messages to its arrival."""
    stack.reset_data()
    env = processes.with_venv_on_path(
        {
            "PATH": stack.env["PATH"],
            "FLOOR_BROKER_URL": REDIS_URL,
            "FLOOR_SENDGRID_URL": f"{stack.sendgrid.host}/v3/mail/send",
            "FLOOR_SENDGRID_KEY": SENDGRID_KEY,
        }
    )
    command = [sys.executable, "-m", "celery", "--app", "bench.floor_app", "worker"]
    command += ["--pool", POOL, "--concurrency", CONCURRENCY, "--queues", "floor"]
    command += ["--without-mingle", "--without-gossip", "--loglevel", "INFO"]
    with log.open("wb") as out:
        worker = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
        try:
            _wait_ready(log, worker)
            publisher = Celery(broker=REDIS_URL, set_as_current=False)
            timings = []
            for n in range(count):
                address = f"floor{n}@example.com"
                published = time.time()
                publisher.send_task("floor.send", args=[address], queue="floor")
                arrived = _arrival(stack, address)
                timings.append((arrived - published) * 1000)
                time.sleep(0.02)
            return timings
        finally:
            processes.terminate(worker)


def _wait_ready(log: Path, worker: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while b" ready." not in log.read_bytes():
        if worker.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"the floor worker did not start:\n{log.read_text()}")
        time.sleep(0.05)


def _arrival(stack: Stack, address: str, timeout: float = 30) -> float:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for request in stack.sendgrid.requests:
            if request.to == address:
                return request.arrived
        time.sleep(0.001)
    raise RuntimeError(f"{address} never reached the local SendGrid")
