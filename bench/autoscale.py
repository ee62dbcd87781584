"""The autoscaler against a fixed worker: one backlog of emails drained by one instance,
then by instances the real autoscaler starts and stops (``docker/autoscale-entrypoint.sh``
run on a period, through a local fake of Render's API that starts and stops real worker
processes as Render would), in the same run. Each instance is in its own cgroup of 0.5
CPU and 512 MB, made as it starts and removed once it has exited.

Time is compressed so that the run takes a minute, not an hour: the autoscaler runs
every ``PERIOD`` seconds (Render's cron: every 60 s) with a target of ``TARGET`` seconds
(the blueprint's 30 s) and a cool-down of ``COOLDOWN`` seconds (600 s). Instances run 4
threads each (20 emails/s at 200 ms, bound by SendGrid's latency, not by CPU) so that four
of them fit on this machine's two cores beside Redis, PostgreSQL and the fakes: what is
measured is the scaler's decisions, not how this machine's CPU is shared.

The ideal scaler spends no instance-second idle or starting: ``emails / rate`` instance-
seconds, ``rate`` being what one instance sends a second (measured by the fixed run, which
is never idle). The autoscaled run is charged from the moment the backlog starts to build
until its last email is sent, and also (reported beside) until it is back at its minimum,
the cool-down included.
"""

from __future__ import annotations

import statistics
import subprocess
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from bench import cgroups
from bench.common import ROOT
from bench.stack import Stack, wait_for_emails
from stack.fleet import Fleet
from stack.processes import with_venv_on_path
from stack.worker import WorkerProcess
from standins.render_api import FakeRender

SENDGRID_LATENCY = 0.2
THREADS = 4
PER_INSTANCE_RATE = round(THREADS / SENDGRID_LATENCY)  # AUTOSCALE_INSTANCE_RATE
MAX_INSTANCES = 4
PERIOD = 1.0
TARGET = 3
COOLDOWN = 3
API_KEY = "rnd_bench-key"


class Limits:
    """A cgroup per instance: made when it starts, removed when it has exited."""

    def __init__(self) -> None:
        self.reason = cgroups.available()
        self._made: dict[int, cgroups.Instance] = {}

    def started(self, worker: WorkerProcess) -> None:
        if self.reason is not None:
            return
        instance = cgroups.Instance(f"autoscale-{worker.process.pid}").__enter__()
        instance.add(worker.process.pid)
        self._made[worker.process.pid] = instance

    def stopped(self, worker: WorkerProcess) -> None:
        instance = self._made.pop(worker.process.pid, None)
        if instance is not None:
            instance.remove()

    def close(self) -> None:
        for instance in self._made.values():
            instance.remove()
        self._made.clear()


class Autoscaler:
    """The autoscaler cron job, compressed: its entrypoint run every ``PERIOD`` seconds."""

    def __init__(self, env: dict[str, str]):
        self.env = with_venv_on_path(env)
        self.lines: list[str] = []
        self.failures: list[str] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def __enter__(self) -> Autoscaler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _loop(self) -> None:
        while not self._stop.is_set():
            started = time.monotonic()
            run = subprocess.run(
                ["docker/autoscale-entrypoint.sh"],
                cwd=ROOT,
                env=self.env,
                capture_output=True,
                text=True,
                timeout=60,
            )
            output = run.stdout + run.stderr
            self.lines += [line for line in output.splitlines() if "autoscale:" in line]
            if run.returncode != 0:
                self.failures.append(output[-2000:])
            self._stop.wait(max(0.0, PERIOD - (time.monotonic() - started)))


def drain(stack: Stack, workdir: Path, emails: int, *, autoscaled: bool) -> dict[str, Any]:
    stack.reset_data()
    stack.set_sendgrid_latency(SENDGRID_LATENCY)
    limits = Limits()
    env = {**stack.env, "CELERY_WORKER_POOL": "threads", "CELERY_WORKER_CONCURRENCY": "4"}
    fleet = Fleet(env, workdir, started=limits.started, stopped=limits.stopped)
    render = FakeRender(API_KEY, instances=1, on_scale=fleet.scale).start()
    autoscaler_env = {
        **stack.env,
        "RENDER_API_KEY": API_KEY,
        "RENDER_API_URL": render.url,
        "AUTOSCALE_TARGET_LATENCY_SECONDS": str(TARGET),
        "AUTOSCALE_DOWN_COOLDOWN_SECONDS": str(COOLDOWN),
        "AUTOSCALE_MIN_INSTANCES": "1",
        "AUTOSCALE_MAX_INSTANCES": str(MAX_INSTANCES),
        "AUTOSCALE_INSTANCE_RATE": str(PER_INSTANCE_RATE),
        "AUTOSCALE_DRY_RUN": "false" if autoscaled else "true",
    }
    try:
        fleet.scale(1)
        fleet.running[0].wait_ready(timeout=60)
        ids = stack.create_pending_emails(emails)
        began = time.monotonic()
        with Autoscaler(autoscaler_env) as autoscaler:
            stack.enqueue(ids)
            wait_for_emails(stack, emails, timeout=60 + emails / PER_INSTANCE_RATE * 2)
            drained = time.monotonic()
            deadline = drained + 10 * COOLDOWN * MAX_INSTANCES
            while autoscaled and render.instances > 1 and time.monotonic() < deadline:
                time.sleep(0.2)
            back_at_minimum = time.monotonic()
        if autoscaler.failures:  # a broken benchmark, not a slow one
            raise RuntimeError("the autoscaler failed:\n" + autoscaler.failures[0])
        time.sleep(1)  # a duplicate would arrive now
        spent = fleet.instance_seconds(began, drained)
        spent_to_minimum = fleet.instance_seconds(began, back_at_minimum)
    finally:
        fleet.close()
        render.stop()
        limits.close()
    committed = stack.committed_at()
    sent = stack.sendgrid.requests
    first: dict[str, float] = {}
    for request in sorted(sent, key=lambda r: r.arrived):
        first.setdefault(request.to, request.arrived + SENDGRID_LATENCY)
    waits = [first[address] - committed[address] for address in first]
    return {
        "drain_s": drained - began,
        "p95_latency_s": statistics.quantiles(waits, n=100, method="inclusive")[94],
        "instance_seconds": spent,
        "instance_seconds_to_minimum": spent_to_minimum,
        "back_at_minimum_s": back_at_minimum - began,
        "max_instances": max(count for _, count in render.history),
        "instances_over_time": [
            [round(at - began, 1), count] for at, count in render.history if at >= began
        ],
        "lost": emails - len(first),
        "duplicated": len(sent) - len(first),
        "decisions": [line for line in autoscaler.lines if "(scaled)" in line],
    }


def run(*, smoke: bool) -> dict[str, Any]:
    emails = 40 if smoke else 1000
    with tempfile.TemporaryDirectory() as workdir:
        stack = Stack(Path(workdir))
        try:
            fixed = drain(stack, Path(workdir), emails, autoscaled=False)
            scaled = drain(stack, Path(workdir), emails, autoscaled=True)
        finally:
            stack.close()
    rate = emails / fixed["drain_s"]  # one instance, never idle
    return {
        "emails": emails,
        "sendgrid_latency_s": SENDGRID_LATENCY,
        "threads_per_instance": THREADS,
        "period_s": PERIOD,
        "cooldown_s": COOLDOWN,
        "target_latency_s": TARGET,
        "max_instances": MAX_INSTANCES,
        "drain_s_fixed": fixed["drain_s"],
        "drain_s_autoscaled": scaled["drain_s"],
        "p95_latency_s_fixed": fixed["p95_latency_s"],
        "p95_latency_s_autoscaled": scaled["p95_latency_s"],
        "instance_seconds_fixed": fixed["instance_seconds"],
        "instance_seconds_autoscaled": scaled["instance_seconds"],
        "instance_seconds_autoscaled_to_minimum": scaled["instance_seconds_to_minimum"],
        "instance_seconds_ideal": emails / rate,
        "back_at_minimum_s": scaled["back_at_minimum_s"],
        "instances_reached": scaled["max_instances"],
        "instances_over_time": scaled["instances_over_time"],
        "decisions": scaled["decisions"],
        "lost": fixed["lost"] + scaled["lost"],
        "duplicated": fixed["duplicated"] + scaled["duplicated"],
        "cpu_limited": cgroups.available() is None,
    }
