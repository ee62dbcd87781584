"""The web's memory through bursts of logins, at the default thread count and at 16, beside
the code before the allocator was bounded (``PREVIOUS``, taken from git) in the same run.

Each login verifies an Argon2id hash, which holds 19 MiB while it runs; at most
``PASSWORD_HASHES_AT_ONCE`` run at once in a Gunicorn process (docs/SECURITY.md). With
glibc's default allocator a thread's arena keeps such blocks once freed, so a process
grows with its threads and stays there; with a fixed mmap threshold (the image and
docker/web-entrypoint.sh) each block is a mapping of its own, returned when freed.

One web instance (2 Gunicorn processes) at 0.5 CPU, with a memory limit high enough to see
the growth (2 GB; Render's starter has 512 MB): three bursts of logins, as many at once as
the web has threads; the peak PSS of the process tree during them, and its PSS a few
seconds after the last (``after``), against ``idle`` before the first.
"""

from __future__ import annotations

import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from bench import cgroups
from bench.common import ROOT, checkout
from bench.hashing import Argon2id
from bench.stack import PASSWORD, PeakMemory, Stack, memory_mb, request

PREVIOUS = "0782f26"  # the last commit before the allocator was bounded (issue 30)
PREVIOUS_FILES = ("authentication", "emails", "remosphere", "operations", "servicespec",
                  "docker", "manage.py")  # fmt: skip
THREADS = (4, 16)  # the env spec's default (GUNICORN_THREADS), and four times it
PROCESSES = 2  # WEB_CONCURRENCY's default
BURSTS = 3
SETTLE_S = 3.0


def run(*, smoke: bool) -> dict[str, Any]:
    bursts = 1 if smoke else BURSTS
    hasher = Argon2id()
    password_hash = hasher.encode(PASSWORD, hasher.salt())
    with tempfile.TemporaryDirectory() as workdir:
        stack = Stack(Path(workdir))
        try:
            previous = checkout(PREVIOUS, Path(workdir) / "previous", PREVIOUS_FILES)
            found: dict[str, dict[str, Any]] = {}
            for name, root in (("bounded", ROOT), ("unbounded", previous)):
                if root is None:
                    continue  # a shallow clone: no earlier code to compare with
                found[name] = {
                    f"threads_{threads}": instance(
                        stack, root, threads, bursts, password_hash, f"{name}{threads}"
                    )
                    for threads in THREADS
                }
        finally:
            stack.close()
    return {
        **found["bounded"],
        "baseline": found.get("unbounded"),
        "baseline_commit": PREVIOUS if "unbounded" in found else None,
        "processes": PROCESSES,
        "bursts": bursts,
        "cpu_limited": cgroups.available() is None,
        "cpu_limit_note": cgroups.available(),
    }


def instance(
    stack: Stack, root: Path, threads: int, bursts: int, password_hash: str, tag: str
) -> dict[str, float]:
    stack.reset_data()
    per_burst = threads * PROCESSES
    addresses = [f"{tag}-{n}@example.com" for n in range(per_burst)]
    stack.create_verified_users(addresses, password_hash)
    with cgroups.instance_or_none(f"web-memory-{tag}", memory=2 * 1024**3) as limits:
        web = stack.start_web(
            limits=limits, root=root, GUNICORN_THREADS=str(threads),
            WEB_CONCURRENCY=str(PROCESSES),
        )  # fmt: skip
        _burst(web.url, addresses[:PROCESSES], clients=PROCESSES)  # each process's first
        time.sleep(SETTLE_S)
        idle = memory_mb(web.process.pid)["pss"]
        with PeakMemory(web.process.pid) as peak:
            failed = sum(_burst(web.url, addresses, clients=per_burst) for _ in range(bursts))
        time.sleep(SETTLE_S)
        after = memory_mb(web.process.pid)["pss"]
        stack.stop()
    return {"idle_mb": idle, "peak_mb": peak.peak["pss"], "after_mb": after, "failed": failed}


def _burst(web_url: str, addresses: list[str], *, clients: int) -> int:
    """Every address logs in, ``clients`` at once; how many were not answered 200."""

    def one(address: str) -> int:
        body = {"email": address, "password": PASSWORD}
        return request("POST", f"{web_url}/api/auth/login", body).status

    with ThreadPoolExecutor(clients) as pool:
        return sum(status != 200 for status in pool.map(one, addresses))
