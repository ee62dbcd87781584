"""The autoscaler as Render's cron job runs it (docker/autoscale-entrypoint.sh, production
mode), against a local server speaking Render's API: one decision per run, at most one
scale call, and every failure a clear message with a non-zero exit and no traceback."""

from __future__ import annotations

import json
import re
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from stack.processes import with_venv_on_path
from standins.render_api import Answer, FakeRender
from tests.support.autoscaler import autoscaler_env

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parents[2]
KEY = "rnd_test-key-that-must-never-be-logged"


@pytest.fixture
def render() -> Iterator[FakeRender]:
    fake = FakeRender(KEY).start()
    yield fake
    fake.stop()


@pytest.fixture
def autoscale(render, redis_client):
    env = autoscaler_env(
        render,
        AUTOSCALE_TARGET_LATENCY_SECONDS="30",
        AUTOSCALE_MAX_INSTANCES="3",
        AUTOSCALE_INSTANCE_RATE="10",
    )

    def run(*args: str, **overrides: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            ["docker/autoscale-entrypoint.sh", *args],
            cwd=ROOT,
            env=with_venv_on_path({**env, **overrides}),
            capture_output=True,
            text=True,
            timeout=60,
        )

    return run


def backlog(redis_client, count: int, age: float) -> None:
    """``count`` task messages waiting in the worker's queue, the oldest ``age`` s old."""
    now = time.time()
    for n in range(count):
        message = {"headers": {"published_at": now - age + n * 0.001}, "body": ""}
        redis_client.lpush("remosphere", json.dumps(message))


def said(result: subprocess.CompletedProcess) -> str:
    return result.stdout + result.stderr


def test_a_backlog_over_the_target_scales_up_in_one_call(autoscale, render, redis_client):
    backlog(redis_client, 700, age=90)
    result = autoscale()
    assert (result.returncode, render.scale_calls, "instances=1->3" in said(result)) == (
        0,
        [3],  # 700 waiting at 10/s an instance drain in ~30 s with 3 (the maximum)
        True,
    ), said(result)


def test_one_line_gives_the_figures_behind_the_decision(autoscale, render, redis_client):
    backlog(redis_client, 50, age=45)
    [line] = [ln for ln in said(autoscale()).splitlines() if "autoscale:" in ln]
    latency = float(re.search(r"latency=([\d.]+)s", line).group(1))  # 45 s, and the run's start
    assert (45 <= latency < 60, "depth=50 live=0 instances=1->2" in line) == (True, True), line


def test_a_dry_run_decides_but_does_not_act(autoscale, render, redis_client):
    backlog(redis_client, 700, age=90)
    result = autoscale(AUTOSCALE_DRY_RUN="true")
    assert (result.returncode, render.scale_calls, "dry run" in said(result)) == (0, [], True)


def test_an_empty_queue_changes_nothing(autoscale, render):
    result = autoscale()
    assert (result.returncode, render.scale_calls) == (0, [])


@pytest.mark.parametrize("status", [401, 403])
def test_a_refused_key_names_the_variable_and_is_never_logged(
    autoscale, render, redis_client, status
):
    render.answer_next(Answer(status, {"message": f"nope {KEY}"}))
    result = autoscale()
    assert (
        result.returncode,
        "RENDER_API_KEY" in said(result),
        KEY in said(result),
        "Traceback" in said(result),
        render.scale_calls,
    ) == (1, True, False, False, [])


def test_an_unknown_service_id_says_which_variable(autoscale, render):
    result = autoscale(AUTOSCALE_SERVICE_ID="srv-nosuch")
    assert (result.returncode, "AUTOSCALE_SERVICE_ID" in said(result)) == (1, True)


def test_an_unknown_service_name_says_which_variable(autoscale, render):
    result = autoscale(AUTOSCALE_SERVICE_NAME="no-such-worker")
    assert (result.returncode, "AUTOSCALE_SERVICE_NAME" in said(result)) == (1, True)


def test_rate_limited_it_says_how_long_to_wait_and_acts_on_nothing(autoscale, render, redis_client):
    backlog(redis_client, 700, age=90)
    render.answer_next(Answer(429, {"message": "slow down"}, {"Retry-After": "17"}))
    result = autoscale()
    assert (result.returncode, "wait 17s" in said(result), render.scale_calls) == (1, True, [])


def test_a_server_error_reading_the_service_acts_on_nothing(autoscale, render, redis_client):
    backlog(redis_client, 700, age=90)
    render.answer_next(Answer(503, {"message": "down"}))
    result = autoscale()
    assert (result.returncode, "answered 503" in said(result), render.scale_calls) == (1, True, [])


def test_a_failed_scale_call_is_reported_not_retried(autoscale, render, redis_client):
    backlog(redis_client, 700, age=90)
    render.scale_answer = Answer(500, {"message": "oops"})
    result = autoscale()
    assert (result.returncode, "not carried out" in said(result), render.scale_calls) == (
        1,
        True,
        [3],  # one call, not retried
    )


def test_an_api_that_does_not_answer_in_time_acts_on_nothing(autoscale, render, redis_client):
    backlog(redis_client, 700, age=90)
    render.answer_next(Answer(200, [], delay=3))
    result = autoscale(RENDER_API_TIMEOUT="1")
    assert (result.returncode, "did not answer" in said(result), render.scale_calls) == (
        1,
        True,
        [],
    )


def test_with_redis_unreachable_no_decision_is_made(autoscale, render):
    result = autoscale(REDIS_URL="redis://127.0.0.1:9/0")
    assert (result.returncode, "Redis unreachable" in said(result), render.requests) == (
        1,
        True,
        [],
    )


def test_it_refuses_to_fight_renders_own_autoscaling(autoscale, render, redis_client):
    render.autoscaling = True
    backlog(redis_client, 700, age=90)
    result = autoscale()
    assert (result.returncode, "own autoscaling is on" in said(result), render.scale_calls) == (
        1,
        True,
        [],
    )


def test_runs_remember_the_cool_down_in_redis(autoscale, render, redis_client):
    render.instances = 3
    first = autoscale(AUTOSCALE_DOWN_COOLDOWN_SECONDS="2")
    time.sleep(2.5)
    second = autoscale(AUTOSCALE_DOWN_COOLDOWN_SECONDS="2")
    assert (first.returncode, second.returncode, render.scale_calls) == (0, 0, [2])
