"""The processes under a process, from /proc (Linux): what a stop must reach."""

from __future__ import annotations

import contextlib
import os
import signal
from pathlib import Path


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


def command_line(pid: int) -> list[str]:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().decode().rstrip("\0").split("\0")
    except OSError:
        return []


def session(sid: int) -> list[int]:
    """Every live process (not a zombie) in session ``sid``: what a leader that has ended
    left, reparented, which ``tree`` no longer finds under it."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except (OSError, IndexError):
                continue
            if fields[0] != "Z" and int(fields[3]) == sid:
                found.append(int(entry.name))
    return found


def kill_tree(pid: int) -> None:
    """SIGKILL ``pid`` and everything under it (what is gone already is skipped)."""
    for member in reversed(tree(pid)):
        with contextlib.suppress(ProcessLookupError):
            os.kill(member, signal.SIGKILL)
