"""Memory of the web service and of the worker service with the default settings, idle
and under load: each whole process tree, as PSS (pages the forked processes share are
counted once) with RSS beside it, against Render's 512 MB starter instance."""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Any

from bench.stack import PeakMemory, Stack, memory_mb, register_many, wait_for_emails

SETTLE_SECONDS = 3


def run(*, smoke: bool) -> dict[str, Any]:
    registrations, emails = (4, 10) if smoke else (40, 300)
    with tempfile.TemporaryDirectory() as workdir:
        stack = Stack(Path(workdir))
        try:
            stack.set_sendgrid_latency(0.02)
            web = stack.start_web(WEB_CONCURRENCY="2")
            worker = stack.start_worker()
            time.sleep(SETTLE_SECONDS)
            web_idle, worker_idle = memory_mb(web.process.pid), memory_mb(worker.process.pid)
            ids = stack.create_pending_emails(emails)
            with PeakMemory(web.process.pid) as web_peak, PeakMemory(worker.process.pid) as peak:
                stack.enqueue(ids)
                addresses = [f"mem{n}@example.com" for n in range(registrations)]
                register_many(web.url, addresses, clients=8)
                wait_for_emails(stack, emails + registrations, timeout=120)
        finally:
            stack.close()
    return {
        "web_idle": web_idle["pss"],
        "web_load": web_peak.peak["pss"],
        "worker_idle": worker_idle["pss"],
        "worker_load": peak.peak["pss"],
        "rss": {
            "web_idle": web_idle["rss"],
            "web_load": web_peak.peak["rss"],
            "worker_idle": worker_idle["rss"],
            "worker_load": peak.peak["rss"],
        },
    }
