"""SendGrid's Event Webhook under its largest batches, on one web instance as Render's
starter plan runs it (0.5 CPU, 512 MB: a cgroup here), beside the code before the batch was
applied in set-based statements (``PREVIOUS``, taken from git) in the same run.

SendGrid posts a batch when it reaches 768 KB or every 30 s (its Event Webhook docs), and
a receiver that does not answer in time is posted the batch again, for up to 24 hours.
Two batches are posted, signed as SendGrid signs them, each of bounce events about emails
the outbox sent (every event applies, suppresses its address and is recorded): one of
768 KB, SendGrid's largest, and one of 4 MB, the largest the webhook takes. For each, the
seconds to the answer and the events per second; the rows are reset between posts.
"""

from __future__ import annotations

import json
import tempfile
import time
from pathlib import Path
from typing import Any

import psycopg

from bench import cgroups
from bench.common import ROOT, checkout
from bench.stack import FROM_RENDERS_PROXY, Stack
from servicespec.sendgrid import EVENT_BATCH_BYTES, EVENT_BODY_MAX_BYTES
from stack.http import call
from standins.sendgrid_events import EventSigner, event

PREVIOUS = "3dfb415"  # the last commit before set-based application: one event at a time
PREVIOUS_FILES = ("authentication", "emails", "remosphere", "operations", "servicespec",
                  "docker", "manage.py")  # fmt: skip
SENDGRID_LARGEST = EVENT_BATCH_BYTES  # SendGrid posts a batch when it reaches this
WEBHOOK_LARGEST = EVENT_BODY_MAX_BYTES  # the webhook refuses more
REASON = "550 5.1.1 The email account that you tried to reach does not exist. " * 3


def run(*, smoke: bool) -> dict[str, Any]:
    sizes = {"sendgrid_largest": 32 * 1024 if smoke else SENDGRID_LARGEST,
             "webhook_largest": 64 * 1024 if smoke else WEBHOOK_LARGEST}  # fmt: skip
    signer = EventSigner()
    with tempfile.TemporaryDirectory() as workdir:
        stack = Stack(Path(workdir))
        try:
            previous = checkout(PREVIOUS, Path(workdir) / "previous", PREVIOUS_FILES)
            roots = {"set_based": ROOT, "one_by_one": previous}
            found: dict[str, dict[str, Any]] = {}
            for name, root in roots.items():
                if root is None:
                    continue  # a shallow clone: no earlier code to compare with
                found[name] = instance(stack, root, signer, sizes, name)
        finally:
            stack.close()
    return {
        **found["set_based"],
        "baseline": found.get("one_by_one"),
        "baseline_commit": PREVIOUS if "one_by_one" in found else None,
        "cpu_limited": cgroups.available() is None,
        "cpu_limit_note": cgroups.available(),
    }


def instance(
    stack: Stack, root: Path, signer: EventSigner, sizes: dict[str, int], tag: str
) -> dict[str, Any]:
    figures: dict[str, Any] = {}
    with cgroups.instance_or_none(f"webhook-{tag}") as limits:
        web = stack.start_web(
            limits=limits, root=root, SENDGRID_WEBHOOK_PUBLIC_KEY=signer.public_key
        )
        for size_name, size in sizes.items():
            stack.reset_data()
            batch = _bounces(stack, size)
            body = json.dumps(batch).encode()
            headers = {**signer.headers(body), **FROM_RENDERS_PROXY}
            started = time.perf_counter()
            answer = call(
                "POST", f"{web.url}/webhooks/sendgrid", raw=body, headers=headers, timeout=600
            )
            seconds = time.perf_counter() - started
            applied = answer.json.get("applied") if isinstance(answer.json, dict) else None
            figures[size_name] = {
                "events": len(batch),
                "kilobytes": len(body) / 1024,
                "seconds": seconds,
                "events_per_s": len(batch) / seconds,
                "status": answer.status,
                "applied": applied,
            }
        stack.stop()
    return figures


def _bounces(stack: Stack, size: int) -> list[dict[str, Any]]:
    """Bounce events about emails the outbox sent, as many as ``size`` bytes of JSON hold."""
    one = json.dumps(_bounce(1, "x@example.com", "m1"))
    count = max(1, size // (len(one) + 2))
    with psycopg.connect(stack.database_url, autocommit=True) as conn:
        rows = conn.execute(
            "INSERT INTO authentication_email (kind, address, status, attempts, "
            "next_attempt_at, created_at, sent_at, last_error, message_id) "
            "SELECT 'verification', 'bounce' || n || '@example.com', 'sent', 1, now(), "
            "now(), now(), '', 'msg' || n FROM generate_series(1, %s) AS n "
            "RETURNING id, address, message_id",
            (count,),
        ).fetchall()
    batch = [_bounce(email_id, address, message_id) for email_id, address, message_id in rows]
    while len(json.dumps(batch).encode()) > size:  # the estimate ran over: at most ``size``
        batch = batch[: int(len(batch) * 0.99)]
    return batch


def _bounce(email_id: int, address: str, message_id: str) -> dict[str, Any]:
    return event("bounce", email=address, email_id=email_id, message_id=message_id, reason=REASON)
