"""Process helpers shared by the tests and the benchmarks: a free port to listen on, an
environment whose PATH finds this virtualenv's commands (the entrypoints call `python`,
`gunicorn`, `celery`), the tree under a process (from /proc), and a stop that asks first
and insists after."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
from pathlib import Path


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def with_venv_on_path(env: dict[str, str]) -> dict[str, str]:
    """``env`` with this interpreter's bin directory first on PATH."""
    return {**env, "PATH": f"{Path(sys.executable).parent}:{env.get('PATH', '')}"}


def children() -> dict[int, list[int]]:
    """Every process's children, by parent pid."""
    found: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            found.setdefault(ppid, []).append(int(entry.name))
    return found


def tree(pid: int) -> list[int]:
    """``pid`` and all its descendants."""
    below = children()
    found, pending = [], [pid]
    while pending:
        current = pending.pop()
        found.append(current)
        pending.extend(below.get(current, []))
    return found


def terminate(process: subprocess.Popen, timeout: float = 30.0) -> int:
    """SIGTERM, as Render sends it; SIGKILL if it has not exited within ``timeout``."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    return process.returncode
