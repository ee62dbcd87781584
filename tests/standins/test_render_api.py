"""The Render API stand-in, driven by the autoscaler's own Render client: the worker is
found by name, a scale call is recorded and reported, a wrong key refused."""

from __future__ import annotations

import pytest

from operations.render_api import RenderAPI, RenderAPIError
from stack.http import call
from standins.render_api import FakeRender

KEY = "rnd_stand_in"


@pytest.fixture
def render():
    scaled: list[int] = []
    server = FakeRender(KEY, name="remosphere-worker", on_scale=scaled.append).start()
    yield server, scaled
    server.stop()


def test_a_scale_call_is_recorded_and_reported(render):
    server, scaled = render
    api = RenderAPI(server.url, KEY, timeout=5)
    service = api.find_service("remosphere-worker")
    api.scale(service.id, 3)
    assert (service.num_instances, server.scale_calls, scaled, server.instances) == (1, [3], [3], 3)


def test_a_wrong_key_is_refused(render):
    server, scaled = render
    with pytest.raises(RenderAPIError):
        RenderAPI(server.url, "rnd_wrong", timeout=5).find_service("remosphere-worker")
    assert scaled == []


def test_a_cron_job_run_is_triggered_by_id_or_name_and_an_unknown_one_is_404():
    asked: list[str] = []
    server = FakeRender(KEY, on_cron_run=lambda job: asked.append(job) or job == "nightly")
    server.start()
    try:
        headers = {"Authorization": f"Bearer {KEY}"}
        known = call("POST", f"{server.url}/cron-jobs/nightly/runs", {}, headers=headers)
        unknown = call("POST", f"{server.url}/cron-jobs/nope/runs", {}, headers=headers)
    finally:
        server.stop()
    assert (known.status, unknown.status, asked) == (202, 404, ["nightly", "nope"])
