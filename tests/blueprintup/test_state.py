"""generateValue made once and kept between runs, as Render keeps it between deploys:
private files outside the repository, never printed; --regenerate starts afresh."""

from __future__ import annotations

import hashlib
import stat
import textwrap

import pytest

from blueprintcheck.loader import load
from blueprintup import topology
from blueprintup.state import GeneratedValues
from blueprintup.variables import Resolver
from tests.support import services
from tests.support.blueprint_up import BlueprintUp, leftovers

BLUEPRINT = """
services:
  - type: worker
    name: jobs
    runtime: python
    buildCommand: "true"
    startCommand: >-
      python -c "import hashlib, os, time;
      print('key digest', hashlib.sha256(os.environ['SECRET_KEY'].encode()).hexdigest()[:16],
      flush=True); time.sleep(600)"
    envVars:
      - key: SECRET_KEY
        generateValue: true
"""


def secret_of(blueprint, state) -> str:
    found = topology.read(load(textwrap.dedent(BLUEPRINT)))
    resolver = Resolver(found, {})
    resolver.generated = state
    value = resolver.environment(found.service("jobs"), instance_id="jobs-1", port=None)
    state.save()
    return value["SECRET_KEY"]


@pytest.fixture(autouse=True)
def private_state(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))


def test_a_generated_value_is_kept_between_runs_and_regenerated_on_request(tmp_path):
    blueprint = tmp_path / "render.yaml"
    first = secret_of(blueprint, GeneratedValues(blueprint))
    second = secret_of(blueprint, GeneratedValues(blueprint))
    fresh = secret_of(blueprint, GeneratedValues(blueprint, regenerate=True))
    assert (first == second, fresh != first) == (True, True)


def test_the_kept_values_are_private_to_their_owner(tmp_path):
    blueprint = tmp_path / "render.yaml"
    state = GeneratedValues(blueprint)
    secret_of(blueprint, state)
    modes = (
        stat.S_IMODE(state.path.stat().st_mode),
        stat.S_IMODE(state.path.parent.stat().st_mode),
    )
    assert modes == (0o600, 0o700)


@pytest.mark.integration
@pytest.mark.xdist_group("image")
def test_two_rehearsals_in_a_row_see_the_same_secret_key_and_never_print_it(tmp_path):
    path = tmp_path / "render.yaml"
    path.write_text(textwrap.dedent(BLUEPRINT).lstrip())
    digests, outputs = [], []
    for name in ("first", "second"):
        up = BlueprintUp(
            str(path), "--generic", "--processes", "--port", "0",
            "--postgres-url", services.database_url("postgres"),
            log=tmp_path / f"{name}.log", tmpdir=tmp_path / "tmp",
        )  # fmt: skip
        try:
            digests.append(up.wait_for(r"key digest (\w+)").group(1))
            up.wait_for(r"everything is live")
            assert up.interrupt() == 0
        finally:
            up.kill()
        outputs.append(up.output)
    [kept] = (tmp_path / "state" / "blueprint-up").glob("generated-*.json")
    secret = next(iter(GeneratedValues(path).values()))
    assert (
        digests[0] == digests[1],
        hashlib.sha256(secret.encode()).hexdigest()[:16] == digests[0],
        any(secret in output for output in outputs),
        kept.exists(),
    ) == (True, True, False, True)
    assert leftovers() == []
