"""The blueprint a merge starts from: another file, or the same file at a git ref
(``origin/main``, a commit), read with ``git`` without touching the work tree."""

from __future__ import annotations

import shutil
import subprocess  # nosec B404: git, with arguments never passed through a shell
from dataclasses import dataclass
from pathlib import Path


class SourceError(Exception):
    """``--against`` cannot be read; the message says what to do."""


@dataclass(frozen=True)
class Before:
    text: bytes | None  # None: the file does not exist there, so everything is created
    label: str  # where it was read: "origin/main:render.yaml", or a file's path


def read_before(against: str, path: Path) -> Before:
    """``path`` as it is at ``against``: a file of that name, else a git ref."""
    other = Path(against)
    if other.is_file():
        return Before(other.read_bytes(), against)
    git = shutil.which("git")
    if git is None:
        raise SourceError(f"--against {against}: no such file, and git is not installed")
    folder = path.resolve().parent
    top = _git(git, folder, "rev-parse", "--show-toplevel")
    if top.returncode != 0:
        raise SourceError(
            f"--against {against}: no such file, and {folder} is not in a git repository"
        )
    if _git(git, folder, "rev-parse", "--verify", "--quiet", f"{against}^{{commit}}").returncode:
        raise SourceError(
            f"--against {against}: no such file or git ref here (a branch of the remote needs "
            "fetching first: git fetch origin <branch>; in CI, check out with fetch-depth: 0)"
        )
    inside = path.resolve().relative_to(Path(top.stdout.decode().strip())).as_posix()
    label = f"{against}:{inside}"
    if _git(git, folder, "cat-file", "-e", label).returncode != 0:
        return Before(None, label)
    shown = _git(git, folder, "show", label)
    if shown.returncode != 0:
        said = shown.stderr.decode(errors="replace").strip()
        raise SourceError(f"--against {against}: git could not read {inside}: {said}")
    return Before(shown.stdout, label)


def _git(git: str, folder: Path, *arguments: str) -> subprocess.CompletedProcess:
    return subprocess.run(  # noqa: S603  # nosec B603: git, never a shell
        [git, "-C", str(folder), *arguments], capture_output=True, check=False, timeout=60
    )
