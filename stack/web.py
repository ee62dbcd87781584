"""A real web process: docker/web-entrypoint.sh starting Gunicorn, as in production, for
the tests that need the web on its own Redis or database connection."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

from stack import ports, processes
from stack.http import call
from stack.processes import ROOT


class WebProcess:
    def __init__(self, env: dict[str, str], log_path: Path, *, root: Path = ROOT):
        """``root``: the checkout whose entrypoint and code run (the benchmark runs an
        earlier commit's beside this one)."""
        self.port = ports.free()
        self.log_path = log_path
        self._log = log_path.open("wb")
        self.process = subprocess.Popen(
            ["docker/web-entrypoint.sh"],
            cwd=root,
            env=processes.with_venv_on_path(
                {
                    "WEB_CONCURRENCY": "1",  # one Gunicorn process is enough for a test
                    **env,
                    "PORT": str(self.port),
                }
            ),
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def wait_ready(self, timeout: float = 30.0) -> WebProcess:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"the web exited with {self.process.returncode}:\n{self.log}")
            try:
                if call("GET", f"{self.url}/healthz").status == 200:
                    return self
            except OSError:
                pass
            time.sleep(0.1)
        raise AssertionError(f"the web did not answer /healthz within {timeout}s:\n{self.log}")

    def stop(self) -> None:
        processes.terminate(self.process)
        self._log.close()
