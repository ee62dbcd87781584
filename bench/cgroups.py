"""A Render starter instance on this machine: a cgroup v1 with 0.5 CPU and 512 MB.

``Instance`` makes one cgroup in each of the ``cpu``, ``cpuacct`` and ``memory``
controllers under ``/sys/fs/cgroup/``, puts a process (and so all it starts) in them, reads
the CPU time it used, and removes them. Root is needed; where the controllers cannot be
written (not root, cgroup v2 only) ``available()`` says why and the benchmarks run without
limits, saying so in their results.
"""

from __future__ import annotations

import contextlib
import os
import time
from pathlib import Path

ROOT = Path("/sys/fs/cgroup")
CONTROLLERS = ("cpu", "cpuacct", "memory")
PERIOD_US = 100_000
STARTER_CPU = 0.5
STARTER_MEMORY = 512 * 2**20


def available() -> str | None:
    """``None`` when cgroups can be made here, else the reason they cannot."""
    if os.geteuid() != 0:
        return "not root: cgroups cannot be created"
    for controller in CONTROLLERS:
        if not (ROOT / controller / "cgroup.procs").exists():
            return f"no cgroup v1 {controller} controller at {ROOT / controller}"
    return None


class Instance:
    """One emulated instance: ``cpu`` CPUs, ``memory`` bytes."""

    def __init__(self, name: str, *, cpu: float = STARTER_CPU, memory: int = STARTER_MEMORY):
        self.name = f"remosphere-bench-{name}-{os.getpid()}"
        self.cpu, self.memory = cpu, memory
        self.paths = {c: ROOT / c / self.name for c in CONTROLLERS}

    def __enter__(self) -> Instance:
        for path in self.paths.values():
            path.mkdir()
        (self.paths["cpu"] / "cpu.cfs_period_us").write_text(str(PERIOD_US))
        (self.paths["cpu"] / "cpu.cfs_quota_us").write_text(str(int(self.cpu * PERIOD_US)))
        (self.paths["memory"] / "memory.limit_in_bytes").write_text(str(self.memory))
        return self

    def __exit__(self, *exc: object) -> None:
        self.remove()

    def add(self, pid: int) -> None:
        """Put process ``pid`` in the instance; what it starts from then on is inside too
        (call it right after starting the entrypoint, before it starts its pool)."""
        for path in self.paths.values():
            (path / "cgroup.procs").write_text(str(pid))

    def cpu_seconds(self) -> float:
        """CPU time used by everything that ran inside, so far."""
        return int((self.paths["cpuacct"] / "cpuacct.usage").read_text()) / 1e9

    def throttled_seconds(self) -> float:
        for line in (self.paths["cpu"] / "cpu.stat").read_text().splitlines():
            if line.startswith("throttled_time"):
                return int(line.split()[1]) / 1e9
        return 0.0

    def memory_peak_mb(self) -> float:
        return int((self.paths["memory"] / "memory.max_usage_in_bytes").read_text()) / 2**20

    def remove(self) -> None:
        """Remove the cgroups; a process still inside is moved back to the root first."""
        for controller, path in self.paths.items():
            if not path.exists():
                continue
            for pid in (path / "cgroup.procs").read_text().split():
                with contextlib.suppress(OSError):  # it exited meanwhile
                    (ROOT / controller / "cgroup.procs").write_text(pid)
            for _ in range(50):
                try:
                    path.rmdir()
                    break
                except OSError:
                    time.sleep(0.1)


def instance_or_none(name: str, **sizes: int | float) -> contextlib.AbstractContextManager:
    """An emulated instance named ``name`` (starter's sizes unless given), or ``None`` where
    cgroups cannot be made (``available`` says why)."""
    if available() is not None:
        return contextlib.nullcontext()
    return Instance(name, **sizes)  # type: ignore[arg-type]
