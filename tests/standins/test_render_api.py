"""The Render API stand-in, driven by the autoscaler's own Render client: the worker is
found by name, a scale call is recorded and reported, a wrong key refused."""

from __future__ import annotations

import pytest

from operations.render_api import RenderAPI, RenderAPIError
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
