"""scripts/blueprint_up.py as a person runs it: a process whose output is read line by line,
stopped with Ctrl-C (SIGINT); and what a rehearsal may leave behind, to prove it left
nothing."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psycopg

from blueprintup.stores import MARK
from stack import netns, proctree
from stack.containers import Buildah
from tests.support import services

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "blueprint_up.py"


class BlueprintUp:
    def __init__(self, *arguments: str, log: Path, env: dict[str, str] | None = None,
                 tmpdir: Path | None = None):  # fmt: skip
        """``tmpdir``: its TMPDIR (and so its services'), to see what is left there."""
        self.log_path = log
        self.tmpdir = tmpdir
        self._log = log.open("wb")
        if tmpdir is not None:
            tmpdir.mkdir(parents=True, exist_ok=True)
            env = {
                **(env if env is not None else os.environ),
                "TMPDIR": str(tmpdir),
                # what it keeps between runs (generated values), kept with the test's files
                "XDG_STATE_HOME": str(tmpdir.parent / "state"),
            }
        self.process = subprocess.Popen(
            [sys.executable, str(SCRIPT), *arguments],
            cwd=ROOT,
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )

    @property
    def output(self) -> str:
        return self.log_path.read_text(errors="replace")

    def wait_for(self, pattern: str, timeout: float = 180.0) -> re.Match:
        """The first line matching ``pattern``, waiting for it to be printed."""
        compiled = re.compile(pattern, re.MULTILINE)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            match = compiled.search(self.output)
            if match:
                return match
            if self.process.poll() is not None:
                break
            time.sleep(0.2)
        raise AssertionError(f"no line matching {pattern!r}:\n{self.output[-6000:]}")

    def family(self) -> list[int]:
        """Every process it runs now: redis-server renames itself, so a search by command
        line would not find them all after it exits."""
        return proctree.tree(self.process.pid)

    def interrupt(self, timeout: float = 150.0) -> int:
        """Ctrl-C, and the exit status once everything has stopped."""
        self.process.send_signal(signal.SIGINT)
        return self.wait(timeout)

    def wait(self, timeout: float = 150.0) -> int:
        try:
            return self.process.wait(timeout)
        finally:
            self._log.close()

    def kill(self) -> None:
        if self.process.poll() is None:
            proctree.kill_tree(self.process.pid)
            self.process.wait()
        self._log.close()


def what_the_next_run_removed(up: BlueprintUp) -> str:
    """The line in which ``up``, the run after a killed one, says what it removed of it;
    ``up`` is stopped with Ctrl-C once live."""
    try:
        said = up.wait_for(r"removed .*left by a rehearsal that was killed").group(0)
        up.wait_for(r"everything is live")
        assert up.interrupt() == 0
    finally:
        up.kill()
    return said


def run(
    *arguments: str, env: dict[str, str] | None = None, timeout: float = 120
) -> tuple[int, str]:
    """Run to the end: the exit status and everything it printed. What it keeps between
    runs goes to a directory of its own, removed after."""
    with tempfile.TemporaryDirectory() as state:
        return _run(arguments, {**(env if env is not None else os.environ),
                                "XDG_STATE_HOME": state}, timeout)  # fmt: skip


def _run(arguments: tuple[str, ...], env: dict[str, str], timeout: float) -> tuple[int, str]:
    result = subprocess.run(
        [sys.executable, str(SCRIPT), *arguments],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    return result.returncode, result.stdout + result.stderr


def leftovers(family: list[int] | None = None) -> list[str]:
    """Processes (of ``family``, or named for a rehearsal), databases, users and
    directories of a rehearsal still on this machine."""
    found = [
        f"process {pid} still runs: {' '.join(proctree.command_line(pid))[:120]}"
        for pid in family or ()
        if _running(pid)
    ]
    for pid in proctree.tree(1):
        command = " ".join(proctree.command_line(pid))
        if "blueprint-up-" in command or str(SCRIPT) in command:
            found.append(f"process {pid}: {command[:120]}")
    with psycopg.connect(services.database_url("postgres"), autocommit=True) as connection:
        for kind, query in (
            ("database", "SELECT datname, shobj_description(oid, 'pg_database') FROM pg_database"),
            ("user", "SELECT rolname, shobj_description(oid, 'pg_authid') FROM pg_roles"),
        ):
            for name, comment in connection.execute(query).fetchall():
                if (comment or "").startswith(MARK):
                    found.append(f"{kind} {name}")
    found += [f"directory {p}" for p in Path(tempfile.gettempdir()).glob("blueprint-up-*")]
    found += [f"network namespace {name}" for name in networks_of_rehearsals()]
    return found


def networks_of_rehearsals() -> list[str]:
    """Network namespaces and bridges a rehearsal made (``stack/netns.py``) still here."""
    namespaces, bridges = netns.left_behind()
    return [*namespaces, *bridges]


def _running(pid: int) -> bool:
    """Alive, not a zombie (ended, waiting for init to reap it)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


def containers_and_images_of_rehearsals() -> list[str]:
    buildah = Buildah(storage_driver="vfs")  # as image.STORAGE
    names = buildah.container_names() + buildah.image_names()
    return [name for name in names if "blueprint-up-" in name]
