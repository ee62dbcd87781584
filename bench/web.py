"""One web instance as Render's starter plan runs it (0.5 CPU, 512 MB: a cgroup here):
registrations and logins per second with Argon2id, beside the same web with today's
PBKDF2 (the code before issue 21, ``PREVIOUS``, taken from git) in the same run.

For each: the CPU one password hash costs (in this process), registrations per second
from 8 clients at once and the web's CPU per registration, from which the part that is
not the hash (the request, the password validators, the inserts, the enqueue); logins
per second from 8 clients at once with their p50 and p99; the web's memory (PSS of the
process tree) at its peak under that load. Gunicorn runs with the env spec's defaults
(2 processes x 4 threads). The two are measured alternately, twice (once in a smoke run).

Where cgroups cannot be made (not root, no cgroup v1), the web runs without limits and
``cpu_limited`` says so: its figures are then not a 0.5 CPU instance's.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from django.contrib.auth.hashers import PBKDF2PasswordHasher

from bench import cgroups
from bench.common import ROOT, checkout
from bench.hashing import Argon2id, hash_ms
from bench.pipeline import percentiles
from bench.stack import (
    PASSWORD,
    PeakMemory,
    Stack,
    Timed,
    cpu_seconds,
    register_many,
    request,
)

PREVIOUS = "ea5bf51"  # the last commit before issue 21: Django's default PBKDF2 first
PREVIOUS_FILES = ("authentication", "remosphere", "operations", "docker", "manage.py")
CLIENTS = 8
ROUNDS = 2


def run(*, smoke: bool) -> dict[str, Any]:
    rounds, samples = (1, 1) if smoke else (ROUNDS, 3)
    # About 15 s of each per round: PBKDF2 manages about 2 a second on 0.5 CPU.
    counts = {"argon2id": 8 if smoke else 200, "pbkdf2": 4 if smoke else 32}
    hasher = {"argon2id": Argon2id(), "pbkdf2": PBKDF2PasswordHasher()}
    with tempfile.TemporaryDirectory() as workdir:
        stack = Stack(Path(workdir))
        try:
            previous = checkout(PREVIOUS, Path(workdir) / "previous", PREVIOUS_FILES)
            roots = {"argon2id": ROOT, "pbkdf2": previous}
            runs: dict[str, list[dict]] = {"argon2id": [], "pbkdf2": []}
            for round_ in range(rounds):
                for name in ("pbkdf2", "argon2id"):
                    if roots[name] is None:
                        continue  # a shallow clone: no earlier code to compare with
                    # The hash's cost right before and after the run: this machine's
                    # CPU speed drifts, and "beside the hash" is a small difference.
                    before = hash_ms(hasher[name], samples)
                    found = instance(
                        stack, roots[name], hasher[name], counts[name], f"{name}{round_}"
                    )
                    found["hash_ms"] = (before + hash_ms(hasher[name], samples)) / 2
                    found["beside_hash_ms_per_registration"] = (
                        found["cpu_ms_per_registration"] - found["hash_ms"]
                    )
                    runs[name].append(found)
        finally:
            stack.close()
    result = {name: _mean(found) for name, found in runs.items() if found}
    new = result["argon2id"]
    return {
        **new,
        "baseline_pbkdf2": result.get("pbkdf2"),
        "baseline_commit": PREVIOUS if "pbkdf2" in result else None,
        "cpu_limited": cgroups.available() is None,
        "cpu_limit_note": cgroups.available(),
        "clients": CLIENTS,
        "rounds": rounds,
    }


def instance(stack: Stack, root: Path, hasher: Any, count: int, tag: str) -> dict[str, Any]:
    """One web instance (of ``root``'s code) in a 0.5 CPU, 512 MB cgroup: registrations,
    then logins of accounts whose password ``hasher`` hashed."""
    stack.reset_data()
    addresses = [f"{tag}-login-{n}@example.com" for n in range(count)]
    stack.create_verified_users(addresses, hasher.encode(PASSWORD, hasher.salt()))
    with cgroups.instance_or_none(f"web-{tag}") as limits:
        web = stack.start_web(limits=limits, root=root)
        used = _cpu(limits, web)
        warm = [f"{tag}-warm-{n}@example.com" for n in range(CLIENTS)]
        register_many(web.url, warm, clients=CLIENTS)  # every thread's first request
        with PeakMemory(web.process.pid) as peak:
            before, started = used(), time.perf_counter()
            registered = register_many(
                web.url, [f"{tag}-{n}@example.com" for n in range(count)], clients=CLIENTS
            )
            registering, cpu = time.perf_counter() - started, used() - before
            started = time.perf_counter()
            logins = _log_in(web.url, addresses)
            logging_in = time.perf_counter() - started
        stack.stop()
    latency = percentiles([t.seconds * 1000 for t in logins])
    return {
        "registrations_per_s_half_cpu": count / registering,
        "cpu_ms_per_registration": cpu * 1000 / count,
        "logins_per_s_half_cpu": count / logging_in,
        "login_p50_ms_half_cpu": latency["p50"],
        "login_p99_ms_half_cpu": latency["p99"],
        "memory_peak_mb": peak.peak["pss"],
        "failed": sum(t.status != 201 for t in registered) + sum(t.status != 200 for t in logins),
    }


def _log_in(web_url: str, addresses: list[str]) -> list[Timed]:
    def one(address: str) -> Timed:
        body = {"email": address, "password": PASSWORD}
        return request("POST", f"{web_url}/api/auth/login", body)

    with ThreadPoolExecutor(CLIENTS) as pool:
        return list(pool.map(one, addresses))


def _cpu(limits: cgroups.Instance | None, web: Any) -> Callable[[], float]:
    if limits is not None:
        return limits.cpu_seconds
    return lambda: cpu_seconds(web.process.pid)


def _mean(runs: list[dict]) -> dict:
    """The rounds' figures averaged (failures added up)."""
    return {
        key: sum(r[key] for r in runs) if key == "failed" else sum(r[key] for r in runs) / len(runs)
        for key in runs[0]
    }
