"""When a worker restarts itself: only when it took nothing for longer than the bound while
there was something to take, a thread free and Redis answering; an outage restarts the
clock; and the validator holds the bound above the liveness window, the shutdown budget
and Celery's reconnection interval (C003)."""

from __future__ import annotations

import pytest

from blueprintcheck import validate
from operations.stall import EXIT_STALLED, NOT_RESUMED, STALLED, Watch, explain, verdict
from servicespec import timeouts
from tests.blueprintcheck.conftest import ROOT

BOUND = 180.0
T0 = 1_000_000.0


@pytest.mark.parametrize(
    ("watch", "now", "free", "expected"),
    [
        # offered a probe, took nothing for longer than the bound, a thread free: stalled
        (Watch(T0, consumed_at=T0 + 10, offered_at=T0 + 150), T0 + 200, True, STALLED),
        # the same, inside the bound
        (Watch(T0, consumed_at=T0 + 10, offered_at=T0 + 150), T0 + 180, True, None),
        # every thread busy sending: busy, not stalled
        (Watch(T0, consumed_at=T0 + 10, offered_at=T0 + 150), T0 + 200, False, None),
        # nothing offered since it last took a message (no probe yet): nothing to take
        (Watch(T0, consumed_at=T0 + 10, offered_at=T0 + 5), T0 + 200, True, None),
        # Redis does not answer: an outage is not a stall
        (Watch(T0, consumed_at=T0 + 10, offered_at=T0 + 150, broker_down=True), T0 + 200,
         True, None),
        # Redis came back 30 s ago: the clock started again then
        (Watch(T0, consumed_at=T0 + 10, offered_at=T0 + 190, broker_back_at=T0 + 170),
         T0 + 200, True, None),
        # ...and it has taken nothing in the bound since: not resumed
        (Watch(T0, consumed_at=T0 + 10, offered_at=T0 + 390, broker_back_at=T0 + 170),
         T0 + 400, True, NOT_RESUMED),
        # an idle node that takes its probes is never stalled
        (Watch(T0, consumed_at=T0 + 395, offered_at=T0 + 390), T0 + 400, True, None),
    ],
    ids=["stalled", "inside-the-bound", "busy", "nothing-offered", "outage", "back-recently",
         "not-resumed", "idle-and-healthy"],
)  # fmt: skip
def test_the_verdict(watch, now, free, expected):
    assert verdict(watch, now=now, free_thread=free, bound=BOUND) == expected


def test_the_default_bound_fits_the_default_chain():
    chains = timeouts.stall_chains(probe_seconds=30, stall_seconds=180, sendgrid_timeout=10)
    assert [timeouts.broken_links(chain) for chain in chains] == [[], [], []]


def test_the_validator_refuses_a_bound_inside_the_liveness_window():
    text = (
        (ROOT / "render.yaml")
        .read_text()
        .replace(
            "      - key: CELERY_WORKER_POOL\n",
            '      - key: WORKER_STALL_SECONDS\n        value: "60"\n'
            '      - key: WORKER_PROBE_SECONDS\n        value: "30"\n'
            "      - key: CELERY_WORKER_POOL\n",
        )
    )
    problems = [p for p in validate(text, repo=ROOT) if p.code == "C003"]
    assert [p.message for p in problems] == [
        "the liveness window (3 x WORKER_PROBE_SECONDS + a heartbeat) (100s) must be less "
        "than WORKER_STALL_SECONDS (60s)"
    ]


@pytest.mark.parametrize("reason", [STALLED, NOT_RESUMED])
def test_the_line_a_restarting_node_logs_says_why_the_bound_and_the_exit(reason):
    line = explain(reason, node="remosphere@srv-1", idle=183.4, queue="remosphere", bound=BOUND)
    assert "remosphere@srv-1 restarts itself" in line
    assert "183s" in line and "WORKER_STALL_SECONDS=180" in line
    assert f"exit status {EXIT_STALLED}" in line and "\n" not in line
