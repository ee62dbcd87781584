"""What every benchmark section shares: timing whole commands, the machine, the results."""

from __future__ import annotations

import json
import os
import platform
import statistics
import subprocess
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results.json"


def wall_seconds(command: Sequence[str], *, runs: int, cwd: Path = ROOT) -> float:
    """Median wall time of ``command`` over ``runs`` runs, interpreter start-up included.
    A command that fails is a broken benchmark, not a slow one: it raises."""
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(command, cwd=cwd, capture_output=True, check=True)
        samples.append(time.perf_counter() - started)
    return statistics.median(samples)


def machine() -> dict[str, Any]:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory_gb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gb": round(memory_gb, 1),
        "os": platform.platform(terse=True),
        "python": platform.python_version(),
    }


def load_results(path: Path = RESULTS) -> dict[str, Any]:
    return json.loads(path.read_text()) if path.exists() else {}


def save_results(results: dict[str, Any], path: Path = RESULTS) -> None:
    path.write_text(json.dumps(results, indent=2, sort_keys=True) + "\n")


def checkout(commit: str, folder: Path, paths: Sequence[str]) -> Path | None:
    """``paths`` of the repository as they were at ``commit``, extracted into ``folder``
    (for a same-run comparison with an earlier version); ``None`` where git cannot give
    them (a shallow clone)."""
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", commit, *paths], capture_output=True
    )
    if archive.returncode != 0:
        return None
    folder.mkdir(parents=True)
    subprocess.run(["tar", "-x", "-C", str(folder)], input=archive.stdout, check=True)
    return folder
