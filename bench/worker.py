"""One worker instance as Render's starter plan runs it (0.5 CPU, 512 MB: a cgroup here),
the old default (prefork, 2 processes) beside the new one (the env spec's: threads, 32),
in the same run: emails per second at SendGrid latencies of 100 and 300 ms against the
ideal (concurrency / latency), CPU time per email, memory idle and under load, and nothing
lost or duplicated. Also in the same run, the default as the code was before SendGrid's
library built each payload (``PREVIOUS``, taken from git): what the row id, the category
and the message id cost each send.

Where cgroups cannot be made (not root, no cgroup v1), the instance runs without limits
and ``cpu_limited`` says so.
"""

from __future__ import annotations

import contextlib
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from bench import cgroups
from bench.common import ROOT, checkout
from bench.stack import PeakMemory, Stack, cpu_seconds, memory_mb, wait_for_emails
from servicespec import envspec

LATENCIES = (0.1, 0.3)
SETTLE_SECONDS = 3
BASELINE = ("prefork", 2)
PREVIOUS = "42db737"  # the last commit before issue 20 (a hand-built payload, no correlation)
PREVIOUS_FILES = ("authentication", "remosphere", "operations", "docker", "manage.py")
ROUNDS = 2
DEFAULT = (
    envspec.BY_NAME["CELERY_WORKER_POOL"].default,
    int(envspec.BY_NAME["CELERY_WORKER_CONCURRENCY"].default),
)


@contextlib.contextmanager
def starter_instance(name: str) -> Iterator[cgroups.Instance | None]:
    if cgroups.available() is not None:
        yield None
        return
    with cgroups.Instance(name) as instance:
        yield instance


def drain(
    stack: Stack,
    pool: str,
    concurrency: int,
    latency: float,
    emails: int,
    settle: float,
    root: Path = ROOT,
) -> dict:
    """One instance, started idle (for ``settle`` seconds), then draining ``emails``
    queued emails."""
    stack.reset_data()
    stack.set_sendgrid_latency(latency)
    with starter_instance(f"{pool}{concurrency}") as limits:
        worker = stack.start_worker(pool=pool, concurrency=concurrency, limits=limits, root=root)
        time.sleep(settle)
        idle = memory_mb(worker.process.pid)["pss"]
        ids = stack.create_pending_emails(emails)

        def used() -> float:
            return limits.cpu_seconds() if limits else cpu_seconds(worker.process.pid)

        before = used()
        with PeakMemory(worker.process.pid) as peak:
            stack.enqueue(ids)
            wait_for_emails(stack, emails, timeout=60 + emails)
        cpu = used() - before
        time.sleep(min(1, settle))  # a duplicate would arrive now
        stack.stop_workers()
    sent = stack.sendgrid.requests
    arrivals = sorted(r.arrived for r in sent)
    span = arrivals[-1] + latency - arrivals[0] if arrivals else 0
    delivered = {r.to for r in sent}
    return {
        "emails_per_s": len(delivered) / span if span else 0.0,
        "cpu_ms_per_email": cpu * 1000 / max(len(sent), 1),
        "pss_idle_mb": idle,
        "pss_load_mb": peak.peak["pss"],
        "lost": emails - len(delivered),
        "duplicated": len(sent) - len(delivered),
    }


def measure(
    stack: Stack,
    pool: str,
    concurrency: int,
    emails: dict[float, int],
    settle: float,
    root: Path = ROOT,
) -> dict:
    runs = {
        latency: drain(stack, pool, concurrency, latency, emails[latency], settle, root)
        for latency in LATENCIES
    }
    fast, slow = runs[0.1], runs[0.3]
    return {
        "pool": pool,
        "concurrency": concurrency,
        "emails_per_s_100ms": fast["emails_per_s"],
        "emails_per_s_300ms": slow["emails_per_s"],
        "ideal_100ms": concurrency / 0.1,
        "ideal_300ms": concurrency / 0.3,
        "cpu_ms_per_email": fast["cpu_ms_per_email"],
        "pss_idle_mb": fast["pss_idle_mb"],
        "pss_load_mb": max(fast["pss_load_mb"], slow["pss_load_mb"]),
        "lost": fast["lost"] + slow["lost"],
        "duplicated": fast["duplicated"] + slow["duplicated"],
    }


def run(*, smoke: bool) -> dict[str, Any]:
    # About 15 s of sending each: the old default sends an email at a time per process.
    emails_default = {0.1: 10, 0.3: 10} if smoke else {0.1: 1500, 0.3: 1500}
    emails_baseline = {0.1: 6, 0.3: 6} if smoke else {0.1: 240, 0.3: 100}
    with tempfile.TemporaryDirectory() as workdir:
        stack = Stack(Path(workdir))
        try:
            settle = 0.2 if smoke else SETTLE_SECONDS  # a smoke run's figures mean nothing
            previous = checkout(PREVIOUS, Path(workdir) / "previous", PREVIOUS_FILES)
            # Before and now alternately, twice: one drain's CPU per email moves by 20%
            # from run to run on this machine, more than what is compared.
            nows, befores = [], []
            for _ in range(1 if smoke else ROUNDS):
                if previous is not None:
                    befores.append(measure(stack, *DEFAULT, emails_default, settle, previous))
                nows.append(measure(stack, *DEFAULT, emails_default, settle))
            result = _mean(nows)
            if befores:
                result["previous"] = {"commit": PREVIOUS, **_mean(befores)}
            baseline = measure(stack, *BASELINE, emails_baseline, settle)
        finally:
            stack.close()
    result["baseline_prefork2"] = baseline
    result["cpu_limited"] = cgroups.available() is None
    if not result["cpu_limited"]:
        result["cpu_limit_note"] = cgroups.available()
    return result


def _mean(runs: list[dict]) -> dict:
    """The runs' figures averaged (lost and duplicated emails added up)."""
    result = dict(runs[0])
    for key, value in runs[0].items():
        if key in ("lost", "duplicated"):
            result[key] = sum(r[key] for r in runs)
        elif isinstance(value, float):
            result[key] = sum(r[key] for r in runs) / len(runs)
    result["rounds"] = len(runs)
    return result
