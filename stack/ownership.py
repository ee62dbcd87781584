"""What a rehearsal owns, so that nothing it starts outlives it.

- **Children die with it**, even when it is killed outright (SIGKILL, a crash): every
  process it starts asks the kernel for SIGKILL when its parent dies
  (``prctl(PR_SET_PDEATHSIG)``), which an ``exec`` keeps, so an entrypoint that execs
  Gunicorn or Celery passes it on. Gunicorn's own workers leave when their master is gone.
  A build is asked instead (SIGTERM): buildah then removes its working containers, which
  carry the base image's name, not the run's; the reaper lets it end before the rest.
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
import functools
import json
import os
import signal
import subprocess  # nosec B404
import sys
import threading
import time
from pathlib import Path
from typing import Any

from blueprintup.errors import RehearsalError
from stack import containers, netns

PR_SET_PDEATHSIG = 1
LEDGER = "owned.json"
# How long a process that is asked to stop when the rehearsal dies has to end before the
# reaper kills its session: as long as a stopped build has to remove its containers.
GRACE_SECONDS = containers.BUILD_STOP_SECONDS
_lock = threading.Lock()


def die_with_parent(death_signal: int = signal.SIGKILL) -> None:
    """``preexec_fn`` of every process the rehearsal starts: ``death_signal`` when the
    thread that started it dies (the rehearsal starts them all from its main thread)."""
    parent = os.getppid()
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, death_signal, 0, 0, 0)
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


def popen(
    argv: list[str], *, death_signal: int = signal.SIGKILL, **options: Any
) -> subprocess.Popen:
    """Start a process the rehearsal owns: in a session of its own (the terminal's Ctrl-C
    reaches the rehearsal only, which stops each service as Render does), killed if the
    rehearsal dies, and recorded in the run's ledger the moment it exists.

    ``death_signal`` other than SIGKILL: the process is asked to stop when the rehearsal
    dies, and the reaper gives it ``GRACE_SECONDS`` to end before it kills its session (a
    build, whose buildah removes its working containers when it stops)."""
    process = subprocess.Popen(  # nosec B603
        argv,
        start_new_session=True,
        preexec_fn=functools.partial(die_with_parent, death_signal),
        **options,
    )
    if _ledger is not None:
        _ledger.session(process.pid, graceful=death_signal != signal.SIGKILL)
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

    def session(self, pid: int, *, graceful: bool = False) -> None:
        """Record a process that leads a session of its own, the moment it exists;
        ``graceful``: one the reaper lets end before it kills its session."""
        with _lock:
            self.data["sessions"].append([pid, start_time(pid)])
            if graceful:
                self.data.setdefault("graceful", []).append(pid)
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
    graceful = [
        pid
        for pid in data.get("graceful", [])
        if pid in sessions and start_time(pid) == sessions[pid]
    ]
    for leader in graceful:  # a build's steps first, so buildah can remove its containers
        containers.kill_all_but_leader(leader)
    _let_end(graceful, sessions, GRACE_SECONDS)
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


def _let_end(leaders: list[int], sessions: dict[int, int | None], grace: float) -> None:
    """Wait up to ``grace`` seconds for ``leaders`` (asked to stop when the rehearsal died)
    to end on their own."""
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline and any(
        session_of(pid) is not None and start_time(pid) == sessions[pid] for pid in leaders
    ):
        time.sleep(0.1)


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
