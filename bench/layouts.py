"""The two layouts side by side, in the same run: the old single container (Gunicorn and
Celery under supervisord, bench/baselines/supervisord.conf) and this project's two
services; total memory, emails per second, and the web's p99 latency while the worker
drains a backlog.

A Render starter instance has its own share of CPU. The benchmark emulates that with CPU
affinity: the single container gets one core for both processes, the two services one
core each (web on core 0, worker on core 1). That is the real difference between the
layouts, and what it costs: two instances instead of one.
"""

from __future__ import annotations

import os
import signal
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

import redis

from bench.stack import REDIS_URL, PeakMemory, Stack, memory_mb, request, wait_for_emails
from bench.webload import WebLoad

HEARTBEAT = "remosphere:worker-heartbeat:*"


def _busy_worker(stack: Stack, web_url: str, emails: int) -> dict[str, float]:
    """Drain ``emails`` while a client calls the web; the web's p99 and the email rate."""
    stack.reset_data()
    stack.set_sendgrid_latency(0.0)  # the worker as busy as it can be: CPU-bound
    token = stack.api_token()
    ids = stack.create_pending_emails(emails)
    with WebLoad(web_url, token, threads=1, pause=0.01) as load:
        stack.enqueue(ids)
        wait_for_emails(stack, emails, timeout=180)
    arrivals = sorted(r.arrived for r in stack.sendgrid.requests)
    span = arrivals[-1] - arrivals[0] if len(arrivals) > 1 else 0
    return {
        "emails_per_s": len(arrivals) / span if span else 0.0,
        "web_p99_ms_worker_busy": load.p99_ms,
    }


def _wait_ready(url: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    client = redis.Redis.from_url(REDIS_URL)
    while time.monotonic() < deadline:
        try:
            healthy = request("GET", f"{url}/healthz", timeout=2).status == 200
        except OSError:
            healthy = False
        if healthy and any(client.scan_iter(HEARTBEAT)):
            return
        time.sleep(0.2)
    raise RuntimeError("the supervisord layout did not come up")


def split(stack: Stack, emails: int) -> dict[str, float]:
    two_cores = len(os.sched_getaffinity(0)) >= 2
    web = stack.start_web(WEB_CONCURRENCY="2", cpus={0} if two_cores else None)
    worker = stack.start_worker(cpus={1} if two_cores else None)
    with PeakMemory(web.process.pid) as web_peak, PeakMemory(worker.process.pid) as peak:
        figures = _busy_worker(stack, web.url, emails)
    stack.stop()
    return {**figures, "memory_mb": web_peak.peak["pss"] + peak.peak["pss"]}


def baseline(stack: Stack, emails: int) -> dict[str, float]:
    supervisor = stack.start_supervisor(cpus={0})
    process = supervisor.process
    try:
        _wait_ready(supervisor.web_url)
        with PeakMemory(process.pid) as peak:
            figures = _busy_worker(stack, supervisor.web_url, emails)
        idle = memory_mb(process.pid)
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(90)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    return {**figures, "memory_mb": peak.peak["pss"], "memory_idle_mb": idle["pss"]}


def run(*, smoke: bool) -> dict[str, Any]:
    emails = 10 if smoke else 300
    with tempfile.TemporaryDirectory() as workdir:
        stack = Stack(Path(workdir))
        try:
            results = {
                "split": split(stack, emails),
                "baseline_supervisor": baseline(stack, emails),
            }
        finally:
            stack.close()
    return {**results, "emails": emails}
