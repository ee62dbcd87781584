"""What a rehearsal owns, so that nothing it starts outlives it.

- **Children die with it**, even when it is killed outright (SIGKILL, a crash): every
  process it starts asks the kernel for SIGKILL when its parent dies
  (``prctl(PR_SET_PDEATHSIG)``), which an ``exec`` keeps, so an entrypoint that execs
  Gunicorn or Celery passes it on. Gunicorn's own workers leave when their master is gone.
  A build is not: killed, buildah would leave its working containers, which carry the
  base image's name, not the run's. The reaper makes it fail instead (its steps killed),
  and buildah removes them as it exits.
- **What still survives is found by the run's mark, never by a name**: each process the
  rehearsal starts leads a session of its own, and the run writes the session (its leader's
  pid and start time) to ``owned.json`` in its directory the moment it exists, with the
  buildah storage its containers and images are in (they carry the run's id in their
  names). A later rehearsal that finds the directory of a run that is gone ends every
  process still in those sessions, removes the run's containers and images, then the
  directory (``clear_run``).
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import os
import signal
import subprocess  # nosec B404
import sys
import threading
from pathlib import Path
from typing import Any

from blueprintup.errors import RehearsalError
from stack import containers, netns

PR_SET_PDEATHSIG = 1
LEDGER = "owned.json"
# How long a killed run's build has to fail and remove its containers before the reaper
# kills it.
GRACE = containers.BUILD_STOP_SECONDS
_lock = threading.Lock()


def die_with_parent() -> None:
    """``preexec_fn`` of every process the rehearsal starts: SIGKILL when the thread that
    started it dies (the rehearsal starts them all from its main thread)."""
    parent = os.getppid()
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != parent:  # the parent died before the request was made
        os._exit(1)


_ledger: Ledger | None = None


def keep_ledger(run_dir: Path, *, storage_driver: str | None = None) -> Ledger:
    """From now on, every process ``popen`` starts is recorded in ``run_dir``."""
    global _ledger
    _ledger = Ledger(run_dir, storage_driver=storage_driver)
    return _ledger


def ledger() -> Ledger | None:
    """The run's ledger, once ``keep_ledger`` made it."""
    return _ledger


def popen(argv: list[str], *, build: bool = False, **options: Any) -> subprocess.Popen:
    """Start a process the rehearsal owns: in a session of its own (the terminal's Ctrl-C
    reaches the rehearsal only, which stops each service as Render does), killed if the
    rehearsal dies, and recorded in the run's ledger the moment it exists.

    ``build``: a buildah build, which is not killed with the rehearsal (it would leave its
    working containers); the reaper makes it fail instead (``containers.fail_build``)."""
    process = subprocess.Popen(  # nosec B603
        argv,
        start_new_session=True,
        preexec_fn=None if build else die_with_parent,
        **options,
    )
    if _ledger is not None:
        _ledger.session(process.pid, build=build)
    return process


def start_time(pid: int) -> int | None:
    """The process's start time, in clock ticks since boot: with the pid, it names one
    process (a pid alone may have been reused)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return int(fields[19])


def session_of(pid: int) -> int | None:
    """The session of a live process (``None`` for one gone, or a zombie)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return None if fields[0] == "Z" else int(fields[3])
    except (OSError, IndexError, ValueError):
        return None


class Ledger:
    """The run's record of what it started, in its own directory."""

    def __init__(self, run_dir: Path, *, storage_driver: str | None = None):
        self.path = run_dir / LEDGER
        self.data: dict = {"owner": os.getpid(), "storage_driver": storage_driver, "sessions": []}
        self._write()

    def session(self, pid: int, *, build: bool = False) -> None:
        """Record a process that leads a session of its own (``build``: a buildah build),
        the moment it exists."""
        with _lock:
            self.data["sessions"].append([pid, start_time(pid)])
            if build:
                self.data.setdefault("builds", []).append(pid)
            self._write()

    def network(self, bridge: str, namespaces: list[str]) -> None:
        """Record the run's network (its bridge and namespaces) as it grows."""
        with _lock:
            self.data["bridge"], self.data["namespaces"] = bridge, list(namespaces)
            self._write()

    def _write(self) -> None:
        temporary = self.path.with_suffix(".tmp")
        temporary.write_text(json.dumps(self.data))
        temporary.replace(self.path)


def clear_run(run_dir: Path, run: str) -> list[str]:
    """End what the killed run of ``run_dir`` left: the processes of its sessions, its
    containers and its images. What was removed, one line each."""
    try:
        data = json.loads((run_dir / LEDGER).read_text())
    except (OSError, ValueError):
        data = {}
    said = []
    sessions = {pid: started for pid, started in data.get("sessions", [])}
    for build in data.get("builds", []):
        if build in sessions:
            containers.fail_build(build, lambda pid=build: not _is(pid, sessions[pid]), GRACE)
    stray = _members(sessions)
    for pid in stray:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signal.SIGKILL)
    if stray:
        said.append(f"{len(stray)} process(es)")
    if data.get("bridge") or data.get("namespaces"):
        netns.remove(list(data.get("namespaces", [])), data.get("bridge"))
        said.append("its network")
    if data and containers.Buildah.available():
        with contextlib.suppress(RehearsalError):  # buildah's storage may be another's
            buildah = containers.Buildah(data.get("storage_driver"))
            removed = buildah.remove_marked(f"blueprint-up-{run}-")
            if removed:
                said.append(f"{removed} container(s) and image(s)")
    return said


def _is(pid: int, started: int | None) -> bool:
    """``pid`` still runs, and is the process recorded (not a later one with its pid)."""
    return session_of(pid) is not None and start_time(pid) == started


def _members(sessions: dict[int, int | None]) -> list[int]:
    """Every live process in one of the recorded sessions whose leader, if it still runs,
    is the process recorded (not a later one that reused its pid)."""
    valid = {
        leader for leader, started in sessions.items() if start_time(leader) in (None, started)
    }
    members = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and int(entry.name) != os.getpid():
            sid = session_of(int(entry.name))
            if sid in valid:
                started = start_time(int(entry.name))
                if started is not None and started >= (sessions[sid] or 0):
                    members.append(int(entry.name))
    return members


def start_reaper(run_dir: Path, run: str) -> subprocess.Popen:
    """A small process that outlives the rehearsal only if the rehearsal is killed: it
    waits for the rehearsal's end of a pipe to close, and if the run's directory is still
    there then (a clean stop removes it), ends what the run left (``clear_run``) at once."""
    return subprocess.Popen(  # nosec B603
        [sys.executable, "-m", "stack.ownership", str(run_dir), run],
        stdin=subprocess.PIPE,
        start_new_session=True,  # Ctrl-C in the terminal is the rehearsal's alone
        cwd=Path(__file__).resolve().parent.parent,
    )


def _reap(run_dir: Path, run: str) -> None:
    sys.stdin.buffer.read()  # returns when the rehearsal's end closes: it ended
    if (run_dir / LEDGER).exists():
        clear_run(run_dir, run)


if __name__ == "__main__":
    _reap(Path(sys.argv[1]), sys.argv[2])
