"""The email pipeline: registrations per second against the web's hashing ceiling, emails
per second, latency from the user's commit to SendGrid, and nothing lost or duplicated.

The web (Gunicorn, the spec's default 2 processes x 4 threads) and one worker (the
default concurrency 2) run in production mode. Throughput: 8 clients register over HTTP
as fast as the web answers. Latency: one client registers at a steady pace, so the
worker is not starved of CPU by the web's password hashing on the same two cores (on
Render each has its own); measured from the outbox row's creation (just before the
registration's commit) to SendGrid's answer; the overhead is that minus SendGrid's own
latency.
"""

from __future__ import annotations

import os
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from django.contrib.auth.hashers import PBKDF2PasswordHasher

from bench.stack import PASSWORD, Stack, register_many, wait_for_emails

SENDGRID_LATENCY = 0.05
CLIENTS = 8


def hash_seconds(samples: int = 5) -> float:
    """What one registration costs above all: Django's default PBKDF2 of the password."""
    hasher = PBKDF2PasswordHasher()
    timings = []
    for _ in range(samples):
        started = time.perf_counter()
        hasher.encode(PASSWORD, hasher.salt())
        timings.append(time.perf_counter() - started)
    return statistics.median(timings)


def percentiles(values: list[float]) -> dict[str, float]:
    if len(values) < 2:
        value = values[0] if values else 0.0
        return {"p50": value, "p95": value, "p99": value}
    cuts = statistics.quantiles(values, n=100, method="inclusive")
    return {"p50": statistics.median(values), "p95": cuts[94], "p99": cuts[98]}


def one_run(
    stack: Stack, web_url: str, registrations: int, tag: str, *, clients: int = CLIENTS
) -> dict[str, Any]:
    stack.reset_data()
    stack.set_sendgrid_latency(SENDGRID_LATENCY)
    addresses = [f"{tag}-{n}@example.com" for n in range(registrations)]
    started = time.perf_counter()
    statuses = register_many(web_url, addresses, clients=clients)
    registering = time.perf_counter() - started
    wait_for_emails(stack, registrations, timeout=60 + registrations)
    time.sleep(1)  # a duplicate would arrive now
    committed = stack.committed_at()
    sent = stack.sendgrid.requests
    first_arrival: dict[str, float] = {}
    for sent_request in sorted(sent, key=lambda r: r.arrived):
        first_arrival.setdefault(sent_request.to, sent_request.arrived)
    overhead = [(first_arrival[a] - committed[a]) * 1000 for a in first_arrival if a in committed]
    delivered_at = [at + SENDGRID_LATENCY for at in first_arrival.values()]
    span = max(delivered_at) - min(committed.values()) if delivered_at else 0
    return {
        "registrations_per_s": registrations / registering,
        "failed_registrations": sum(s.status != 201 for s in statuses),
        "emails_per_s": len(first_arrival) / span if span else 0.0,
        "overhead_ms": overhead,
        "lost": len(set(addresses) - set(first_arrival)),
        "duplicated": len(sent) - len(first_arrival),
    }


def run(*, smoke: bool) -> dict[str, Any]:
    registrations, runs = (4, 1) if smoke else (60, 3)
    with tempfile.TemporaryDirectory() as workdir:
        stack = Stack(Path(workdir))
        try:
            web = stack.start_web(WEB_CONCURRENCY="2")
            stack.start_worker()
            results = [one_run(stack, web.url, registrations, f"run{n}") for n in range(runs)]
            paced = [
                one_run(stack, web.url, registrations, f"paced{n}", clients=1) for n in range(runs)
            ]
        finally:
            stack.close()
    cost = hash_seconds(2 if smoke else 5)
    overhead = [ms for r in paced for ms in r["overhead_ms"]]
    loaded = [ms for r in results for ms in r["overhead_ms"]]
    return {
        "registrations_per_s": statistics.median(r["registrations_per_s"] for r in results),
        "registrations_ceiling_per_s": (os.cpu_count() or 1) / cost,
        "hash_ms": cost * 1000,
        "emails_per_s": statistics.median(r["emails_per_s"] for r in results),
        "latency_ms": {k: v + SENDGRID_LATENCY * 1000 for k, v in percentiles(overhead).items()},
        "overhead_ms": percentiles(overhead),
        "overhead_ms_at_full_load": percentiles(loaded),
        "lost": sum(r["lost"] for r in results + paced),
        "duplicated": sum(r["duplicated"] for r in results + paced),
        "failed_registrations": sum(r["failed_registrations"] for r in results + paced),
        "registrations": registrations,
        "runs": runs,
        "sendgrid_latency_ms": SENDGRID_LATENCY * 1000,
    }
