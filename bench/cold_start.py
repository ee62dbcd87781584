"""Cold start: from starting docker/web-entrypoint.sh to the first 200 from /healthz, and
from starting docker/worker-entrypoint.sh to its first task consumed (an email waiting in
the queue reaches SendGrid)."""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.stack import Stack, wait_for_emails


def run(*, smoke: bool) -> dict[str, Any]:
    runs = 1 if smoke else 3
    web_s, worker_s = [], []
    with tempfile.TemporaryDirectory() as workdir:
        stack = Stack(Path(workdir))
        try:
            for _ in range(runs):
                started = time.perf_counter()
                stack.start_web(WEB_CONCURRENCY="2")
                web_s.append(time.perf_counter() - started)
                stack.stop()

                stack.reset_data()
                stack.enqueue(stack.create_pending_emails(1))
                started_at = time.time()
                stack.start_worker()
                wait_for_emails(stack, 1, timeout=60)
                worker_s.append(stack.sendgrid.requests[0].arrived - started_at)
                stack.stop()
        finally:
            stack.close()
    return {"web": statistics.median(web_s), "worker": statistics.median(worker_s), "runs": runs}
