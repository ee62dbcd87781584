"""The email pipeline: registrations per second against the web's hashing ceiling, emails
per second, latency from the user's commit to SendGrid, and nothing lost or duplicated.

The web (Gunicorn, the spec's default 2 processes x 4 threads) and one worker (the spec's
defaults) run in production mode. Throughput: 8 clients register over HTTP as fast as the
web answers. Latency: one registration at a time, the next once the email reached
SendGrid, so the worker is not starved of CPU by the web's password hashing on the same
two cores (on Render each has its own); measured from the outbox row's creation (just
before the registration's commit) to SendGrid's request; SendGrid's own latency is added
for the latency, not for the overhead. The floor (bench/floor.py) is measured the same way.
"""

from __future__ import annotations

import multiprocessing
import os
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.floor import floor_ms
from bench.hashing import Argon2id
from bench.stack import PASSWORD, Stack, cpu_seconds, register_many, wait_for_emails

SENDGRID_LATENCY = 0.05
CLIENTS = 8


def parallel_hash_seconds(samples: int = 3) -> float:
    """Seconds per hash with every core hashing at once: the true ceiling, where cores
    share caches or are hyperthreads of one physical core."""
    cores = os.cpu_count() or 1
    with multiprocessing.Pool(cores) as pool:
        pool.map(_one_hash, range(cores))  # warm
        started = time.perf_counter()
        pool.map(_one_hash, range(cores * samples))
        elapsed = time.perf_counter() - started
    return elapsed * cores / (cores * samples)


def _one_hash(_: int) -> None:
    hasher = Argon2id()
    hasher.encode(PASSWORD, hasher.salt())


def hash_seconds(samples: int = 5) -> float:
    """What one registration costs above all: the password's hash, with the production
    hasher's parameters (Argon2id, remosphere/hashers.py)."""
    hasher = Argon2id()
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
    """``clients`` registering at once; ``clients=0``: one registration at a time, each
    after the previous email reached SendGrid (the pipeline's own latency, as the floor's
    is measured: nothing else on the CPU meanwhile)."""
    stack.reset_data()
    stack.set_sendgrid_latency(SENDGRID_LATENCY)
    addresses = [f"{tag}-{n}@example.com" for n in range(registrations)]
    started = time.perf_counter()
    if clients:
        statuses = register_many(web_url, addresses, clients=clients)
    else:
        statuses = []
        for n, address in enumerate(addresses):
            statuses += register_many(web_url, [address], clients=1)
            wait_for_emails(stack, n + 1, timeout=30)
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


def machine_busy() -> tuple[int, int]:
    """Total and idle jiffies of the whole machine so far (/proc/stat)."""
    fields = [int(f) for f in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    return sum(fields), fields[3] + fields[4]


def loaded_run(stack: Stack, web: Any, registrations: int, tag: str, samples: int) -> dict:
    """One full-load run, with the hash's cost measured right before and right after it
    (this machine's CPU speed drifts), and where the CPU went meanwhile."""
    before = hash_seconds(samples)
    total0, idle0 = machine_busy()
    web0 = cpu_seconds(web.process.pid)
    result = one_run(stack, web.url, registrations, tag)
    total1, idle1 = machine_busy()
    web_cpu = cpu_seconds(web.process.pid) - web0
    cost = (before + hash_seconds(samples)) / 2
    ceiling = (os.cpu_count() or 1) / cost
    return {
        **result,
        "hash_ms": cost * 1000,
        "ceiling_per_s": ceiling,
        "of_ceiling": result["registrations_per_s"] / ceiling,
        "machine_busy": 1 - (idle1 - idle0) / max(total1 - total0, 1),
        "web_cpu_ms_per_registration": web_cpu * 1000 / registrations,
    }


def run(*, smoke: bool) -> dict[str, Any]:
    registrations, runs, floor_count = (4, 1, 4) if smoke else (128, 3, 120)
    samples = 2 if smoke else 5
    with tempfile.TemporaryDirectory() as workdir:
        stack = Stack(Path(workdir))
        try:
            web = stack.start_web(WEB_CONCURRENCY="2")
            stack.start_worker()
            results = [
                loaded_run(stack, web, registrations, f"run{n}", samples) for n in range(runs)
            ]
            paced = [
                one_run(stack, web.url, registrations, f"paced{n}", clients=0) for n in range(runs)
            ]
            stack.stop()
            floor = floor_ms(stack, floor_count, Path(workdir) / "floor.log")
        finally:
            stack.close()
    parallel_cost = parallel_hash_seconds(1 if smoke else 3)
    overhead = [ms for r in paced for ms in r["overhead_ms"]]
    loaded = [ms for r in results for ms in r["overhead_ms"]]
    overhead_p, floor_p = percentiles(overhead), percentiles(floor)

    def median(key: str) -> float:
        return statistics.median(r[key] for r in results)

    return {
        "registrations_per_s": median("registrations_per_s"),
        "registrations_ceiling_per_s": median("ceiling_per_s"),
        "registrations_of_ceiling": median("of_ceiling"),
        "registrations_of_ceiling_runs": [r["of_ceiling"] for r in results],
        "registrations_parallel_ceiling_per_s": (os.cpu_count() or 1) / parallel_cost,
        "hash_ms": median("hash_ms"),
        "hash_ms_all_cores_busy": parallel_cost * 1000,
        "machine_busy": median("machine_busy"),
        "web_cpu_ms_per_registration": median("web_cpu_ms_per_registration"),
        "floor_ms": floor_p,
        "overhead_ratio": {k: overhead_p[k] / floor_p[k] for k in ("p50", "p99")},
        "emails_per_s": median("emails_per_s"),
        "latency_ms": {k: v + SENDGRID_LATENCY * 1000 for k, v in overhead_p.items()},
        "overhead_ms": overhead_p,
        "overhead_ms_at_full_load": percentiles(loaded),
        "lost": sum(r["lost"] for r in results + paced),
        "duplicated": sum(r["duplicated"] for r in results + paced),
        "failed_registrations": sum(r["failed_registrations"] for r in results + paced),
        "registrations": registrations,
        "runs": runs,
        "sendgrid_latency_ms": SENDGRID_LATENCY * 1000,
    }
