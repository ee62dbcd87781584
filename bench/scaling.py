"""Independent worker scaling: emails per second with 1, 2 and 4 worker instances at a
fixed concurrency and SendGrid latency, against the ideal (concurrency x instances /
latency); and the web's throughput meanwhile, which should not move.

Each instance runs 4 threads: bound by SendGrid's latency, not by CPU, so what is measured
is how instances add up, not how this machine's two cores are shared (the `worker`
section measures one instance at its limits)."""

from __future__ import annotations

import statistics
import tempfile
from pathlib import Path
from typing import Any

from bench.stack import Stack, wait_for_emails
from bench.webload import WebLoad

SENDGRID_LATENCY = 0.1
POOL = "threads"
CONCURRENCY = 4


def drain(stack: Stack, web_url: str, instances: int, per_instance: int) -> tuple[float, float]:
    """Emails per second delivered by ``instances`` workers draining a full queue, and
    the web's requests per second meanwhile."""
    stack.reset_data()
    stack.set_sendgrid_latency(SENDGRID_LATENCY)
    token = stack.api_token()
    for instance in range(instances):
        stack.start_worker(instance, pool=POOL, concurrency=CONCURRENCY)
    ids = stack.create_pending_emails(per_instance * instances)
    # A paced client (not a flood): the web's own capacity is not what is measured here,
    # and a flood would take the cores the workers are being measured on.
    with WebLoad(web_url, token, threads=1, pause=0.01) as load:
        stack.enqueue(ids)
        wait_for_emails(stack, len(ids), timeout=120)
    stack.stop_workers()
    arrivals = sorted(r.arrived for r in stack.sendgrid.requests)
    # From the first request to the last answer: every email's full send is inside.
    span = arrivals[-1] + SENDGRID_LATENCY - arrivals[0]
    return len(arrivals) / span, load.requests_per_s


def run(*, smoke: bool) -> dict[str, Any] | list[dict[str, Any]]:
    points, per_instance, runs = ((1, 2), 4, 1) if smoke else ((1, 2, 4), 120, 3)
    results = []
    with tempfile.TemporaryDirectory() as workdir:
        stack = Stack(Path(workdir))
        try:
            web = stack.start_web(WEB_CONCURRENCY="2")
            for instances in points:
                samples = [drain(stack, web.url, instances, per_instance) for _ in range(runs)]
                results.append(
                    {
                        "instances": instances,
                        "emails_per_s": statistics.median(s[0] for s in samples),
                        "emails_per_s_runs": [s[0] for s in samples],
                        "web_requests_per_s": statistics.median(s[1] for s in samples),
                        "ideal_emails_per_s": CONCURRENCY * instances / SENDGRID_LATENCY,
                    }
                )
        finally:
            stack.close()
    single = results[0]["emails_per_s"]
    for point in results:
        point["efficiency"] = point["emails_per_s"] / (single * point["instances"])
        point["efficiency_range"] = [
            rate / (single * point["instances"])
            for rate in (min(point["emails_per_s_runs"]), max(point["emails_per_s_runs"]))
        ]
        point["of_ideal"] = point["emails_per_s"] / point["ideal_emails_per_s"]
    return results
