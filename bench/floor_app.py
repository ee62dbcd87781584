"""The floor the email pipeline is measured against: a bare Celery app (no Django, no
database, no outbox) whose one task posts to SendGrid's API, on the same broker, the same
local SendGrid and the same pool as the real worker. Whatever the real pipeline costs
above this is the application's own overhead.

    celery --app bench.floor_app worker --pool threads --concurrency 32 --queues floor
"""

from __future__ import annotations

import json
import os

import urllib3
from celery import Celery

QUEUE = "floor"
BROKER = os.environ.get("FLOOR_BROKER_URL", "redis://127.0.0.1:6379/13")
SENDGRID = os.environ.get("FLOOR_SENDGRID_URL", "http://127.0.0.1:1/v3/mail/send")
KEY = os.environ.get("FLOOR_SENDGRID_KEY", "")

app = Celery("floor", broker=BROKER)
app.conf.update(
    task_acks_late=True,
    worker_prefetch_multiplier=1,
    task_serializer="json",
    accept_content=["json"],
    task_ignore_result=True,
    task_default_queue=QUEUE,
    worker_hijack_root_logger=False,
)
_http = urllib3.PoolManager(maxsize=64, block=True)


@app.task(name="floor.send")
def send(to: str) -> None:
    body = {
        "personalizations": [{"to": [{"email": to}]}],
        "from": {"email": "no-reply@example.com"},
        "subject": "floor",
        "content": [{"type": "text/plain", "value": "floor"}],
    }
    _http.request(
        "POST",
        SENDGRID,
        body=json.dumps(body).encode(),
        headers={"Authorization": f"Bearer {KEY}", "Content-Type": "application/json"},
        timeout=10,
    )
