"""Every way a rehearsal can be refused or fail: a clear message naming what to fix, a
non-zero exit, and nothing left running (no process, database, user or directory)."""

from __future__ import annotations

import os
import socket
import sys
import textwrap
from pathlib import Path

import pytest

from stack import proctree
from tests.support import services
from tests.support.blueprint_up import BlueprintUp, leftovers, run

# Every test that runs a rehearsal shares one worker with the image tests (which run
# rehearsals too): the rehearsal's lock, ports and leftovers are the machine's.
pytestmark = [pytest.mark.integration, pytest.mark.xdist_group("image")]

POSTGRES = services.database_url("postgres")
WORKER = """
  - type: worker
    name: {name}
    runtime: python
    buildCommand: "true"
    startCommand: {command}
"""


def blueprint(tmp_path: Path, services_yaml: str, extra: str = "") -> str:
    path = tmp_path / "render.yaml"
    items = textwrap.indent(textwrap.dedent(services_yaml).strip("\n"), "  ")
    path.write_text(f"services:\n{items}\n{extra.lstrip(chr(10))}")
    return str(path)


def up(*arguments: str, **kwargs) -> tuple[int, str]:
    return run(*arguments, "--generic", "--postgres-url", POSTGRES, "--port", "0", **kwargs)


@pytest.fixture(autouse=True)
def nothing_left_behind():
    yield
    assert leftovers() == []


def test_a_blueprint_the_validator_rejects_never_starts(tmp_path):
    path = blueprint(tmp_path, "  - type: wroker\n    name: jobs\n    runtime: python\n")
    code, output = up(path)
    assert code == 1
    assert "the validator rejects" in output and "nothing was started" in output
    assert "S00" in output or "R0" in output  # the validator's own problem lines
    assert "is available" not in output and "Traceback" not in output


def test_missing_sync_false_values_are_listed_by_service_and_nothing_starts():
    code, output = run("render.yaml", "--postgres-url", POSTGRES, "--port", "0", "--processes")
    assert code == 1
    assert "remosphere-worker: SENDGRID_API_KEY, DEFAULT_FROM_EMAIL, EMAIL_VERIFICATION_URL, " \
        "PASSWORD_RESET_URL" in output  # fmt: skip
    assert "remosphere-web: CORS_ALLOWED_ORIGINS, SENDGRID_WEBHOOK_PUBLIC_KEY" in output
    assert "remosphere-autoscaler: RENDER_API_KEY" in output
    assert "--env-file" in output and "Nothing was started" in output
    assert "is available" not in output


def test_an_env_file_that_cannot_be_read_is_named(tmp_path):
    bad = tmp_path / "bad.env"
    bad.write_text("this is not NAME=value\n")
    code, output = up(blueprint(tmp_path, WORKER.format(name="a", command="sleep 60")),
                      "--env-file", str(bad))  # fmt: skip
    assert code == 1 and f"{bad}:1: expected NAME=value" in output
    code, output = up("render.yaml", "--env-file", str(tmp_path / "absent.env"))
    assert code == 1 and "cannot read the env file" in output and "No such file" in output


def test_an_unknown_cron_job_is_named_with_the_ones_there_are(tmp_path):
    code, output = up(blueprint(tmp_path, WORKER.format(name="a", command="sleep 60")),
                      "--cron-now", "nightly")  # fmt: skip
    assert code == 1 and "--cron-now nightly: no such cron job (cron jobs: none)" in output


def test_a_port_in_use_is_named_and_what_had_started_is_removed(tmp_path):
    web = """
      - type: web
        name: site
        runtime: python
        buildCommand: "true"
        startCommand: python3 -m http.server $PORT
    """
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        extra = "  - type: keyvalue\n    name: cache\n    ipAllowList: []\n"
        code, output = run(
            blueprint(tmp_path, web, extra), "--generic", "--postgres-url", POSTGRES,
            "--port", str(port), "--processes",
        )  # fmt: skip
    assert code == 1
    assert f"port {port} (site's public URL; choose another with --port) is in use" in output
    assert "cache is available" in output  # it had started, and is gone (the fixture)


def test_redis_server_missing_names_the_package(tmp_path):
    extra = "  - type: keyvalue\n    name: cache\n    ipAllowList: []\n"
    path = blueprint(tmp_path, WORKER.format(name="a", command="sleep 60"), extra)
    env = {**os.environ, "PATH": str(Path(sys.executable).parent)}  # no redis-server on it
    code, output = up(path, "--processes", env=env)
    assert code == 1
    assert "redis-server is not installed" in output and "apt-get install redis-server" in output


def test_postgresql_that_does_not_answer_is_named_and_redis_is_stopped(tmp_path):
    extra = textwrap.dedent(
        """
          - type: keyvalue
            name: cache
            ipAllowList: []
        databases:
          - name: db
        """
    )
    path = blueprint(tmp_path, WORKER.format(name="a", command="sleep 60"), extra)
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    nowhere = f"postgresql://postgres@127.0.0.1:{port}/postgres"
    code, output = run(path, "--generic", "--processes", "--port", "0", "--postgres-url", nowhere)
    assert code == 1
    assert f"PostgreSQL does not answer at 127.0.0.1:{port}" in output
    assert "apt-get install postgresql" in output and "--postgres-url" in output


def deployed_beside_a_steady_worker(tmp_path, failing: str) -> tuple[int, str, bool]:
    """A blueprint of ``failing`` and a steady worker, rehearsed until live, then stopped:
    the exit status, the output, and whether the steady worker ran all along."""
    steady = WORKER.format(name="steady", command="sleep 600")
    both = textwrap.dedent(failing).strip("\n") + "\n" + textwrap.dedent(steady).strip("\n")
    path = blueprint(tmp_path, both)
    rehearsal = BlueprintUp(path, "--generic", "--processes", "--port", "0",
                            "--postgres-url", POSTGRES, log=tmp_path / "up.log")  # fmt: skip
    try:
        rehearsal.wait_for(r"everything else is live; the deploy of \S+ failed", timeout=90)
        steady_ran = any(
            "sleep 600" in " ".join(proctree.command_line(pid)) for pid in rehearsal.family()
        )
        code = rehearsal.interrupt()
    finally:
        rehearsal.kill()
    return code, rehearsal.output, steady_ran


def test_a_service_that_exits_while_starting_fails_its_deploy_and_the_others_stay_up(tmp_path):
    broken = WORKER.format(
        name="broken", command="'echo starting; echo \"boom: CONFIG_PATH is not set\" >&2; exit 3'"
    )
    code, output, steady_ran = deployed_beside_a_steady_worker(tmp_path, broken)
    assert (code, steady_ran, "steady is live" in output) == (1, True, True), output
    assert "DEPLOY FAILED: broken" in output and "exited with 3 while starting" in output
    assert "boom: CONFIG_PATH is not set" in output
    assert "the deploy of broken failed: exit status 1" in output


def test_a_failing_pre_deploy_command_fails_that_service_only(tmp_path):
    site = """
      - type: web
        name: site
        runtime: python
        buildCommand: "true"
        preDeployCommand: "echo migrating; echo 'relation does not exist' >&2; exit 4"
        startCommand: python3 -m http.server $PORT
    """
    code, output, steady_ran = deployed_beside_a_steady_worker(tmp_path, site)
    assert (code, steady_ran, "site is live" in output) == (1, True, False), output
    assert "the pre-deploy command exited with 4" in output
    assert "relation does not exist" in output
    assert "the deploy of site failed: exit status 1" in output


def test_when_every_deploy_fails_nothing_runs(tmp_path):
    web = """
      - type: web
        name: site
        runtime: python
        buildCommand: "true"
        preDeployCommand: "exit 4"
        startCommand: python3 -m http.server $PORT
    """
    code, output = up(blueprint(tmp_path, web), "--processes")
    assert (code, "every service's deploy failed; nothing runs" in output) == (1, True), output


def test_a_second_run_while_one_runs_is_refused_and_the_first_keeps_running(tmp_path):
    path = blueprint(tmp_path, WORKER.format(name="steady", command="sleep 600"))
    first = BlueprintUp(path, "--generic", "--processes", "--postgres-url", POSTGRES,
                        log=tmp_path / "first.log")  # fmt: skip
    try:
        first.wait_for(r"everything is live", timeout=60)
        code, output = up(path, "--processes")
        assert code == 1
        assert f"another blueprint_up is running (pid {first.process.pid})" in output
        assert first.process.poll() is None
        family = first.family()
        assert first.interrupt() == 0
        assert leftovers(family) == []
    finally:
        first.kill()


def test_a_live_instance_that_exits_is_replaced_as_render_does(tmp_path):
    path = blueprint(tmp_path, WORKER.format(name="flaky", command="'echo up; sleep 7; exit 70'"))
    rehearsal = BlueprintUp(path, "--generic", "--processes", "--postgres-url", POSTGRES,
                            log=tmp_path / "up.log")  # fmt: skip
    try:
        rehearsal.wait_for(r"flaky is live", timeout=60)
        replaced = rehearsal.wait_for(r"==> flaky (\w+) exited with 70; as Render does, a new "
                                      r"instance starts in \d+s", timeout=30)  # fmt: skip
        # the new instance prints "up" under an instance id of its own
        rehearsal.wait_for(rf"^flaky (?!{replaced.group(1)})\w+ +\| up$", timeout=30)
        family = rehearsal.family()
        assert rehearsal.interrupt() == 0
        assert leftovers(family) == []
    finally:
        rehearsal.kill()


def test_a_lock_file_that_cannot_be_opened_is_a_message_not_a_traceback(tmp_path):
    from blueprintup.cli import single_run
    from blueprintup.errors import RehearsalError

    planted = tmp_path / "blueprint-up.lock"
    planted.symlink_to(tmp_path / "someone-elses-file")  # a link is refused, not followed
    with (
        pytest.raises(RehearsalError, match=r"cannot open .*blueprint-up\.lock"),
        single_run(planted),
    ):
        pass
    assert not (tmp_path / "someone-elses-file").exists()
