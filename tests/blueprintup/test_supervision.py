"""The rehearsal's supervision, without a real process or a real wait: a fake clock and a
fake launcher (the process factory) stand in, as honcho's manager is tested. Restart
backoff, one cron run at a time (a run due meanwhile starts when the last one ends),
Ctrl-C while the pre-deploy command runs, a stop that times out into SIGKILL."""

from __future__ import annotations

import subprocess
import textwrap
import threading
from collections import deque
from concurrent.futures import Future
from dataclasses import dataclass, field

import pytest

from blueprintcheck.loader import load
from blueprintup import topology
from blueprintup.errors import Interrupted
from blueprintup.rehearsal import Rehearsal, Settings
from blueprintup.variables import Resolver

BLUEPRINT = """
services:
  - type: worker
    name: jobs
    runtime: python
    startCommand: "python worker.py"
    preDeployCommand: "python migrate.py"
  - type: cron
    name: nightly
    runtime: python
    schedule: "0 3 * * *"
    startCommand: "python nightly.py"
"""


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


@dataclass
class FakeProcess:
    """What the rehearsal asks of a process: it ends when told to, or when SIGTERM comes
    (unless it ignores SIGTERM), and always on SIGKILL."""

    ignores_sigterm: bool = False
    code: int | None = None
    signals: list[str] = field(default_factory=list)

    def poll(self) -> int | None:
        return self.code

    def wait(self, timeout: float | None = None) -> int:
        if self.code is None:
            raise subprocess.TimeoutExpired("fake", timeout or 0)
        return self.code


class FakePump:
    def __init__(self, prefix: str) -> None:
        self.prefix, self.tail = prefix, deque(["last line"])

    def join(self, timeout: float = 5.0) -> None:
        pass


@dataclass
class FakeLaunched:
    process: FakeProcess
    pump: FakePump

    def poll(self) -> int | None:
        return self.process.poll()

    def terminate(self) -> None:
        self.process.signals.append("SIGTERM")
        if not self.process.ignores_sigterm and self.process.code is None:
            self.process.code = 0

    def kill(self) -> None:
        self.process.signals.append("SIGKILL")
        self.process.code = -9

    def end(self) -> None:
        pass


class FakeLauncher:
    """The process factory: records every start; ``next_process`` shapes the next one."""

    def __init__(self) -> None:
        self.started: list[tuple[str, FakeLaunched]] = []
        self.next_process: dict[str, FakeProcess] = {}

    def prepare(self, service, env) -> None:
        pass

    def command(self, service) -> list[str]:
        return ["python", f"{service.name}.py"]

    def spawn(self, service, argv, env, *, prefix: str, slot: str) -> FakeLaunched:
        process = self.next_process.pop(prefix.split()[-1], None) or FakeProcess()
        launched = FakeLaunched(process, FakePump(prefix))
        self.started.append((prefix, launched))
        return launched

    def of(self, word: str) -> list[FakeLaunched]:
        return [launched for prefix, launched in self.started if word in prefix]

    def release(self, service, slot: str) -> None:
        pass

    def close(self) -> None:
        pass


class Console:
    def __init__(self) -> None:
        self.said: list[str] = []

    def status(self, text: str) -> None:
        self.said.append(text)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def rehearsal(clock, tmp_path) -> Rehearsal:
    found = topology.read(load(textwrap.dedent(BLUEPRINT)))
    return Rehearsal(
        found, Resolver(found, {}), FakeLauncher(), Console(), Settings(), tmp_path, "test",
        threading.Event(), clock=clock, sleep=clock.sleep,
    )  # fmt: skip


def start_worker(rehearsal: Rehearsal) -> None:
    service = rehearsal.topology.service("jobs")
    rehearsal.instances["jobs"] = [rehearsal._spawn(service, None)]
    rehearsal.instances["jobs"][0].live = True


def crash(rehearsal: Rehearsal) -> None:
    [instance] = [i for i in rehearsal.instances["jobs"] if not i.replaced]
    instance.launched.process.code = 1


def workers_started(rehearsal: Rehearsal) -> int:
    return len([p for p, _ in rehearsal.launcher.started if p.startswith("jobs ")])


def test_an_instance_that_keeps_exiting_soon_is_restarted_after_a_growing_pause(rehearsal, clock):
    start_worker(rehearsal)
    starts_by_second: list[tuple[float, int]] = []
    for _ in range(3):
        clock.now += 1  # it exits a second after starting
        crash(rehearsal)
        crashed_at = clock.now
        while workers_started(rehearsal) == len(starts_by_second) + 1:
            rehearsal._tend_instances()
            clock.now += 0.25
        starts_by_second.append((clock.now - 0.25 - crashed_at, workers_started(rehearsal)))
    assert starts_by_second == [(2.0, 2), (4.0, 3), (8.0, 4)]


def test_an_instance_that_ran_a_while_is_restarted_at_once(rehearsal, clock):
    start_worker(rehearsal)
    clock.now += 120
    crash(rehearsal)
    rehearsal._tend_instances()
    assert workers_started(rehearsal) == 2


def test_a_cron_run_due_while_one_runs_starts_when_it_ends_and_only_once(rehearsal):
    nightly = rehearsal.topology.service("nightly")
    rehearsal.run_cron(nightly)
    rehearsal.run_cron(nightly)  # due again while the first runs
    rehearsal.run_cron(nightly)  # and again: still one run waiting, not two
    runs_while_the_first_ran = len(rehearsal.launcher.of("nightly"))
    rehearsal.cron_runs["nightly"].launched.process.code = 0
    rehearsal._tend_crons()
    assert (runs_while_the_first_ran, len(rehearsal.launcher.of("nightly"))) == (1, 2)


def test_ctrl_c_during_the_pre_deploy_command_ends_it_at_the_stop(rehearsal):
    jobs = rehearsal.topology.service("jobs")
    rehearsal.launcher.next_process["pre-deploy"] = FakeProcess(ignores_sigterm=True)
    rehearsal.stop_requested.set()
    with pytest.raises(Interrupted):
        rehearsal._pre_deploy(jobs)
    rehearsal.stop()
    [pre_deploy] = rehearsal.launcher.of("pre-deploy")
    assert (pre_deploy.process.signals, pre_deploy.poll() is not None) == (["SIGKILL"], True)


def test_a_stop_that_outlasts_the_shutdown_delay_ends_in_sigkill(rehearsal, clock):
    start_worker(rehearsal)
    [instance] = rehearsal.instances["jobs"]
    instance.launched.process.ignores_sigterm = True
    rehearsal.stop()
    assert (
        instance.launched.process.signals,
        any("SIGKILL" in line for line in rehearsal.console.said),
    ) == (["SIGTERM", "SIGKILL"], True)


def test_an_instance_that_heeds_sigterm_is_not_killed(rehearsal):
    start_worker(rehearsal)
    [instance] = rehearsal.instances["jobs"]
    rehearsal.stop()
    assert instance.launched.process.signals == ["SIGTERM"]


# --- health checks while live, as Render's (render.com/docs/health-checks) ---------------

WEB = """
services:
  - type: web
    name: site
    runtime: python
    startCommand: "python -m http.server $PORT"
    healthCheckPath: /healthz
"""


class AtOnce:
    """An executor that runs each health check when it is submitted."""

    def submit(self, function, *args):
        future: Future = Future()
        future.set_result(function(*args))
        return future

    def shutdown(self, wait: bool = True, cancel_futures: bool = False) -> None:
        pass


@pytest.fixture
def site(clock, tmp_path) -> tuple[Rehearsal, list[bool]]:
    """A live web instance whose health checks answer as ``answers`` says."""
    found = topology.read(load(textwrap.dedent(WEB)))
    rehearsal = Rehearsal(
        found, Resolver(found, {}), FakeLauncher(), Console(), Settings(), tmp_path, "test",
        threading.Event(), clock=clock, sleep=clock.sleep, probes=AtOnce(),
    )  # fmt: skip
    answers = [True]
    rehearsal._answers = lambda instance: answers[0]
    instance = rehearsal._spawn(found.service("site"), 10001)
    instance.live = True
    rehearsal.instances["site"] = [instance]
    return rehearsal, answers


def run_for(rehearsal: Rehearsal, clock: Clock, seconds: float) -> None:
    end = clock.now + seconds
    while clock.now < end:
        rehearsal._tend_instances()
        clock.now += 0.25


def test_failing_checks_take_an_instance_out_of_rotation_at_15s_and_restart_it_at_60s(site, clock):
    rehearsal, answers = site
    [first] = rehearsal.instances["site"]
    run_for(rehearsal, clock, 10)
    answers[0] = False
    run_for(rehearsal, clock, 14)
    out_at_14 = first.out_of_rotation
    run_for(rehearsal, clock, 6)
    out_at_20 = first.out_of_rotation
    run_for(rehearsal, clock, 30)
    alive_at_50 = not first.replaced
    run_for(rehearsal, clock, 15)
    assert (out_at_14, out_at_20, alive_at_50, first.replaced, first.launched.process.signals) == (
        False, True, True, True, ["SIGKILL"],
    )  # fmt: skip
    assert any("restarted, as Render restarts it" in line for line in rehearsal.console.said)


def test_an_instance_that_answers_again_is_back_in_rotation(site, clock):
    rehearsal, answers = site
    [instance] = rehearsal.instances["site"]
    answers[0] = False
    run_for(rehearsal, clock, 25)
    answers[0] = True
    run_for(rehearsal, clock, 10)
    assert (instance.out_of_rotation, instance.replaced) == (False, False)


def test_a_cron_run_is_stopped_at_renders_twelve_hours(rehearsal, clock):
    nightly = rehearsal.topology.service("nightly")
    rehearsal.run_cron(nightly)
    [run] = rehearsal.launcher.of("nightly")
    clock.now += 12 * 3600 - 1
    rehearsal._tend_crons()
    before = list(run.process.signals)
    clock.now += 2
    rehearsal._tend_crons()
    assert (before, run.process.signals, "nightly" in rehearsal.cron_runs) == (
        [], ["SIGTERM"], False,
    )  # fmt: skip


# --- scaling, as Render's API does it on the autoscaler's scale call ---------------------


def running(rehearsal: Rehearsal) -> list:
    return [i for i in rehearsal.instances["jobs"] if i.launched.poll() is None]


def test_a_scale_call_starts_instances_and_a_smaller_one_stops_the_newest(rehearsal, clock):
    start_worker(rehearsal)
    [first] = rehearsal.instances["jobs"]
    rehearsal.request_scale("jobs", 3)  # from the stand-in's thread
    rehearsal._tend_scaling()
    up = len(running(rehearsal))
    clock.now += 10
    rehearsal.request_scale("jobs", 1)
    rehearsal._tend_scaling()
    left = running(rehearsal)
    stopped = [launched.process.signals for launched in rehearsal.launcher.of("jobs")[1:]]
    assert (up, left, stopped) == (3, [first], [["SIGTERM"], ["SIGTERM"]])
    assert "jobs: 3 -> 1 instance(s), as Render scales it (SIGTERM to 2)" in rehearsal.console.said


def test_an_instance_scaled_away_that_outlasts_its_shutdown_delay_is_killed(rehearsal, clock):
    start_worker(rehearsal)
    rehearsal.launcher.next_process = {}
    rehearsal.request_scale("jobs", 2)
    rehearsal._tend_scaling()
    newest = rehearsal.instances["jobs"][1]
    newest.launched.process.ignores_sigterm = True
    rehearsal.request_scale("jobs", 1)
    rehearsal._tend_scaling()
    clock.now += 29
    rehearsal._tend_scaling()
    before = list(newest.launched.process.signals)
    clock.now += 2  # past the default maxShutdownDelaySeconds, 30
    rehearsal._tend_scaling()
    assert (before, newest.launched.process.signals) == (["SIGTERM"], ["SIGTERM", "SIGKILL"])


def test_scaling_down_drops_an_instance_waiting_to_restart_first(rehearsal, clock):
    start_worker(rehearsal)
    rehearsal.request_scale("jobs", 2)
    rehearsal._tend_scaling()
    clock.now += 1
    rehearsal.instances["jobs"][0].launched.process.code = 1  # exits soon: restart waits
    rehearsal._tend_instances()
    rehearsal.request_scale("jobs", 1)
    rehearsal._tend_scaling()
    clock.now += 60
    rehearsal._tend_instances()  # the restart that was due is not made
    assert (len(rehearsal.instances["jobs"]), workers_started(rehearsal)) == (1, 2)


def test_a_scale_call_for_a_service_not_running_here_is_said_not_raised(rehearsal):
    rehearsal.request_scale("nowhere", 2)
    rehearsal._tend_scaling()
    assert "scale nowhere to 2: no such service runs here" in rehearsal.console.said


def test_a_cron_run_triggered_through_render_s_api_starts_on_the_next_turn(rehearsal):
    asked = (rehearsal.request_cron_run("nightly"), rehearsal.request_cron_run("jobs"))
    before = len(rehearsal.launcher.of("nightly"))
    rehearsal._tend_scaling()
    assert (asked, before, len(rehearsal.launcher.of("nightly"))) == ((True, False), 0, 1)
