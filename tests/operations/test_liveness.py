"""A worker counts as consuming only if it took a message from its queue recently: its
heartbeat alone would show a worker whose consumer stopped as alive. Checked for real: a
live worker's consumer is cancelled (``celery control cancel_consumer``) while an email
waits, and restored (``add_consumer``)."""

from __future__ import annotations

import time

import pytest

from operations.liveness import FileHeartbeats, WorkerState
from stack.http import call

NOW = 100_000.0


@pytest.mark.parametrize(
    ("state", "consuming"),
    [
        # took a message a moment ago
        (WorkerState("w", NOW, NOW - 500, NOW - 5, probe_every=30, every=10), True),
        # started a moment ago, nothing taken yet: given the benefit of the doubt
        (WorkerState("w", NOW, NOW - 20, None, probe_every=30, every=10), True),
        # three probes' worth and a heartbeat without taking anything: not consuming
        (WorkerState("w", NOW, NOW - 500, NOW - 101, probe_every=30, every=10), False),
        (WorkerState("w", NOW, NOW - 500, None, probe_every=30, every=10), False),
        # no probes (local, file-system broker): not judged
        (WorkerState("w", NOW, NOW - 500, None, probe_every=None), None),
    ],
)
def test_consuming_means_a_message_taken_within_a_few_probes(state, consuming):
    assert state.consuming(NOW) is consuming


def test_a_record_from_an_older_worker_is_alive_but_not_judged():
    assert WorkerState.from_json("old@host", b"1790000000").consuming() is None


def test_local_heartbeat_files_list_the_worker_without_judging_it(tmp_path):
    store = FileHeartbeats(tmp_path)
    store.beat(WorkerState("local@machine", time.time()), ttl=30)

    [state] = store.states()

    assert (state.node, state.consuming()) == ("local@machine", None)


def readyz(live_server) -> dict:
    return call("GET", f"{live_server.url}/readyz").json


def wait_until(condition, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.25)
    raise AssertionError(f"not within {timeout}s: {what}")


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_a_worker_whose_consumer_stops_is_reported_while_an_email_waits_then_clears(
    live_server, start_worker, fake_sendgrid
):
    from remosphere.celery import app

    worker = start_worker(RENDER_INSTANCE_ID="consumer-test", WORKER_PROBE_SECONDS="1")
    node = next(n for n in readyz(live_server)["workers"] if n.startswith("consumer-test@"))
    time.sleep(6)  # idle past its window (3 probes and a heartbeat): the probes keep it fresh
    idle_but_consuming = readyz(live_server)["workers_not_consuming"]

    app.control.cancel_consumer("remosphere", destination=[node], reply=True, timeout=5)
    body = {"email": "waiting@example.com", "password": "a-long-and-unusual-passphrase"}
    assert call("POST", f"{live_server.url}/api/auth/register", body).status == 201
    # Bounded: its window (4 s) and a heartbeat, with room for a slow machine.
    wait_until(
        lambda: node in readyz(live_server)["workers_not_consuming"],
        timeout=30,
        what="the stopped consumer reported",
    )
    delivered_meanwhile = len(fake_sendgrid.requests)

    app.control.add_consumer("remosphere", destination=[node], reply=True, timeout=5)
    fake_sendgrid.wait_for(1, timeout=30)
    wait_until(
        lambda: node not in readyz(live_server)["workers_not_consuming"],
        timeout=15,
        what="the restored consumer cleared",
    )

    probes_logged = "Task operations.probe" in worker.log  # a line a second would bury the rest

    assert (idle_but_consuming, delivered_meanwhile, probes_logged) == ([], 0, False)
