"""The rehearsal's stand-ins, as the rehearsal starts them: Render's API starts from the
blueprint's instance count and hands each scale call to the rehearsal."""

from __future__ import annotations

from blueprintup import standins
from blueprintup.output import Console
from operations.render_api import RenderAPI
from stack import ports


def test_render_s_stand_in_reports_the_blueprint_s_count_and_passes_scale_calls_on(tmp_path):
    env = {"RENDER_API_URL": f"http://127.0.0.1:{ports.free()}/v1", "RENDER_API_KEY": "rnd_k"}
    calls: list[tuple[str, int]] = []
    started = standins.start(
        env, Console(), tmp_path, forced=False,
        instances={"remosphere-worker": 2}.__getitem__,
        scale=lambda name, count: calls.append((name, count)),
    )  # fmt: skip
    try:
        api = RenderAPI(env["RENDER_API_URL"], "rnd_k", timeout=5)
        service = api.find_service("remosphere-worker")
        api.scale(service.id, 3)
    finally:
        for server in started:
            server.stop()
    assert (service.num_instances, calls) == (2, [("remosphere-worker", 3)])
