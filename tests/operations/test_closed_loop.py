"""The autoscaler in a closed loop with real workers: a backlog of registrations builds,
the real autoscaler command (through its entrypoint, on a short period) scales through a
local fake of Render's API that really starts and stops worker processes (SIGTERM on the
way down, as Render does), on the real Redis and PostgreSQL, with the local SendGrid
answering after 200 ms. Instances go up, latency falls under the target, instances come
back down after the cool-down, and every email is delivered exactly once."""

from __future__ import annotations

import itertools
import subprocess
import time
from pathlib import Path

import pytest

from emails.models import Email
from stack.fleet import Fleet
from stack.http import call
from stack.processes import with_venv_on_path
from standins.render_api import FakeRender
from standins.sendgrid import Answer
from tests.support import services
from tests.support.autoscaler import autoscaler_env
from tests.support.settle import settled

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parents[2]
KEY = "rnd_closed-loop-test-key"
REGISTRATIONS = 150


def test_instances_follow_the_backlog_up_and_down_and_every_email_goes_once(
    live_server, fake_sendgrid, worker_env, tmp_path
):
    fake_sendgrid.answer_always(Answer(202, delay=0.2))
    # 2 threads an instance at 200 ms: about 10 emails/s each, so the backlog is felt.
    fleet = Fleet({**worker_env, "CELERY_WORKER_CONCURRENCY": "2"}, tmp_path)
    render = FakeRender(KEY, instances=1, on_scale=fleet.scale).start()
    fleet.scale(1)
    env = with_venv_on_path(
        autoscaler_env(
            render,
            AUTOSCALE_TARGET_LATENCY_SECONDS="3",
            AUTOSCALE_DOWN_COOLDOWN_SECONDS="6",
            AUTOSCALE_MAX_INSTANCES="3",
            AUTOSCALE_INSTANCE_RATE="10",
        )
    )
    addresses = [f"loop{n}@example.com" for n in range(REGISTRATIONS)]
    runs = []
    try:
        for address in addresses:
            body = {"email": address, "password": "a-long-and-unusual-passphrase"}
            assert call("POST", f"{live_server.url}/api/auth/register", body).status == 201
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            run = subprocess.run(
                ["docker/autoscale-entrypoint.sh"],
                cwd=ROOT,
                env=env,
                capture_output=True,
                text=True,
                timeout=60,
            )
            runs.append(run.stdout + run.stderr)
            assert run.returncode == 0, runs[-1]
            delivered = len({r.to for r in fake_sendgrid.requests}) == REGISTRATIONS
            if delivered and render.instances == 1 and max(render.scale_calls, default=1) > 1:
                break
            time.sleep(1)
        settled(services.REDIS_URL)  # a duplicate would be on its way now
    finally:
        fleet.close()
        render.stop()

    sent = [r.to for r in fake_sendgrid.requests]
    counts = [count for _, count in render.history]
    assert (
        max(counts) > 1,  # it scaled up on the backlog
        counts[-1],  # and back down to the minimum after the cool-down
        sorted(sent),  # every email, exactly once
        set(Email.objects.values_list("status", flat=True)),
    ) == (True, 1, sorted(addresses), {Email.Status.SENT}), "\n".join(runs)
    steps_down = [b - a for a, b in itertools.pairwise(counts) if b < a]
    assert set(steps_down) == {-1}, counts  # down one step at a time
