"""A real Celery worker process, started by docker/worker-entrypoint.sh as in production."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

from stack import processes
from stack.processes import ROOT


class WorkerProcess:
    """``concurrency=None`` keeps the spec's default."""

    def __init__(
        self,
        env: dict[str, str],
        log_path: Path,
        *,
        concurrency: int | None = None,
        root: Path = ROOT,
    ):
        """``root``: the checkout whose entrypoint and code run (the benchmark runs an
        earlier commit's beside this one)."""
        self.log_path = log_path
        self._log = log_path.open("wb")
        if concurrency is not None:
            env = {**env, "CELERY_WORKER_CONCURRENCY": str(concurrency)}
        self.process = subprocess.Popen(
            ["docker/worker-entrypoint.sh"],
            cwd=root,
            env=processes.with_venv_on_path(env),
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, so kill() takes the pool too
        )

    @property
    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def wait_ready(self, timeout: float = 30.0) -> WorkerProcess:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if " ready." in self.log:
                return self
            if self.process.poll() is not None:
                raise AssertionError(
                    f"the worker exited with {self.process.returncode}:\n{self.log}"
                )
            time.sleep(0.1)
        raise AssertionError(f"the worker was not ready within {timeout}s:\n{self.log}")

    def kill(self) -> None:
        """SIGKILL the whole worker, pool processes included, as Render does after the
        shutdown delay: nothing gets to clean up."""
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()

    def stop(self, timeout: float = 30.0) -> int:
        if self._log.closed:
            return self.process.returncode
        code = processes.terminate(self.process, timeout)
        self._log.close()
        return code
