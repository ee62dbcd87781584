"""A rehearsal owns every process it starts: killed outright (SIGKILL), it takes its
children with it, including what they started themselves; Ctrl-C while a pre-deploy
command runs ends that command too; and the next run finds and removes whatever a killed
run left, by the run's own record."""

from __future__ import annotations

import os
import signal
import textwrap
import time
from pathlib import Path

import pytest

from stack import netns, proctree
from tests.support import services
from tests.support.blueprint_up import BlueprintUp, _running, leftovers, what_the_next_run_removed

# Every test that runs a rehearsal shares one worker: its lock, ports and leftovers are
# the machine's, and the image tests run rehearsals too.
pytestmark = [pytest.mark.integration, pytest.mark.xdist_group("image")]

POSTGRES = services.database_url("postgres")
# A worker whose command leaves a child of its own behind (a shell's background job), and
# a Key Value: redis-server.
BLUEPRINT = """
services:
  - type: keyvalue
    name: cache
    ipAllowList: []
  - type: worker
    name: jobs
    runtime: python
    buildCommand: "true"
    startCommand: "sleep 600 & exec sleep 601"
"""


def blueprint(tmp_path: Path, text: str = BLUEPRINT) -> str:
    path = tmp_path / "render.yaml"
    path.write_text(textwrap.dedent(text).lstrip())
    return str(path)


def up(tmp_path: Path, path: str, name: str = "run") -> BlueprintUp:
    return BlueprintUp(
        path, "--generic", "--processes", "--postgres-url", POSTGRES, "--port", "0",
        log=tmp_path / f"{name}.log", tmpdir=tmp_path / "tmp",
    )  # fmt: skip


def still_running(pids: list[int], timeout: float = 10.0) -> list[str]:
    deadline = time.monotonic() + timeout
    while True:
        alive = [pid for pid in pids if _running(pid)]
        if not alive or time.monotonic() > deadline:
            return [" ".join(proctree.command_line(pid))[:80] for pid in alive]
        time.sleep(0.2)


def test_a_rehearsal_killed_outright_leaves_no_process_behind(tmp_path):
    first = up(tmp_path, blueprint(tmp_path))
    try:
        first.wait_for(r"everything is live")
        family = [pid for pid in first.family() if pid != first.process.pid]
        os.kill(first.process.pid, signal.SIGKILL)
        first.wait()
        survivors = still_running(family)
    finally:
        first.kill()
    assert (len(family) >= 4, survivors) == (True, [])  # redis, the worker, its child, reaper


WITH_A_DATABASE = (
    BLUEPRINT
    + """
databases:
  - name: store
    plan: free
"""
)


def test_the_next_run_removes_what_a_killed_run_left(tmp_path):
    first_dir, second_dir = tmp_path / "first", tmp_path / "second"
    first_dir.mkdir(), second_dir.mkdir()
    path = blueprint(second_dir)  # the next run's blueprint has no database
    first = up(tmp_path, blueprint(first_dir, WITH_A_DATABASE), "first")
    first.wait_for(r"everything is live")
    run_dirs = list((tmp_path / "tmp").glob("blueprint-up-*"))
    family = [pid for pid in first.family() if pid != first.process.pid]
    # as if the machine had stopped it all at once: the reaper too
    for pid in proctree.tree(first.process.pid):
        os.kill(pid, signal.SIGSTOP)
    stray = [pid for pid in family if "sleep 600" in " ".join(proctree.command_line(pid))]
    for pid in proctree.tree(first.process.pid):
        if pid not in stray:
            os.kill(pid, signal.SIGKILL)
    first.wait()
    for pid in stray:
        os.kill(pid, signal.SIGCONT)
    assert (len(run_dirs), len(stray), still_running(stray, timeout=0)) == (
        1,
        1,
        ["sleep 600"],
    )

    second = up(tmp_path, path, "second")
    said = what_the_next_run_removed(second)
    assert (
        still_running(stray),
        run_dirs[0].exists(),
        "1 process(es)" in said,
        "2 database(s) and user(s)" in said,
    ) == ([], False, True, True), said
    assert leftovers() == []


def test_ctrl_c_while_the_pre_deploy_command_runs_ends_it(tmp_path):
    marker = tmp_path / "pre-deploy-started"
    path = blueprint(
        tmp_path,
        f"""
        services:
          - type: worker
            name: jobs
            runtime: python
            buildCommand: "true"
            preDeployCommand: "touch {marker}; exec sleep 300"
            startCommand: "sleep 600"
        """,
    )
    rehearsal = up(tmp_path, path)
    try:
        rehearsal.wait_for(r"running the pre-deploy command")
        deadline = time.monotonic() + 30
        while not marker.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        family = [pid for pid in rehearsal.family() if pid != rehearsal.process.pid]
        code = rehearsal.interrupt()
    finally:
        rehearsal.kill()
    output = rehearsal.output
    ended, said_gone = output.find("jobs pre-deploy: still running"), output.find("stopped;")
    assert (code, len(family) >= 1, still_running(family, timeout=2), 0 <= ended < said_gone) == (
        0,
        True,
        [],
        True,
    ), output
    assert leftovers() == []


def test_an_instance_that_stops_answering_leaves_the_rotation_then_is_restarted(tmp_path):
    path = blueprint(
        tmp_path,
        """
        services:
          - type: web
            name: site
            runtime: python
            buildCommand: "true"
            startCommand: python3 -m http.server $PORT
            healthCheckPath: /
        """,
    )
    rehearsal = BlueprintUp(
        path, "--generic", "--processes", "--postgres-url", POSTGRES, "--port", "0",
        "--health-checks", "1,3,8", log=tmp_path / "run.log", tmpdir=tmp_path / "tmp",
    )  # fmt: skip
    try:
        rehearsal.wait_for(r"everything is live")
        [server] = [
            pid for pid in rehearsal.family()
            if "http.server" in " ".join(proctree.command_line(pid))
        ]  # fmt: skip
        os.kill(server, signal.SIGSTOP)  # alive, and answering nothing
        rehearsal.wait_for(
            r"site \w+ failed its health checks for \d+s: out of the edge's rotation"
        )
        rehearsal.wait_for(r"site \w+ failed its health checks for \d+s: restarted")
        rehearsal.wait_for(r"site \w+ is live")
        code = rehearsal.interrupt()
    finally:
        rehearsal.kill()
    assert (code, _running(server)) == (0, False), rehearsal.output
    assert leftovers() == []


@pytest.mark.skipif(netns.unavailable() is not None, reason=str(netns.unavailable()))
def test_the_next_run_removes_a_network_whose_record_went_with_its_directory(tmp_path):
    """A killed run's bridge and namespace, its directory gone too (nothing records them):
    the next run finds them by their names, which only rehearsals use, and removes them."""
    stale = netns.Network("dead01").start()
    stale.attach()
    second = up(tmp_path, blueprint(tmp_path), "second")
    try:
        said = second.wait_for(r"removed the network \(.*\) of a rehearsal that was killed")
        second.wait_for(r"everything is live")
        assert second.interrupt() == 0
    finally:
        second.kill()
    assert ("bpudead01" in said.group(0), netns.left_behind()) == (True, ([], []))
