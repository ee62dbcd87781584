"""Process helpers: an environment whose PATH finds this
virtualenv's commands (the entrypoints call `python`, `gunicorn`, `celery`), and a stop that
asks first and insists after."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

# The checkout whose entrypoints and code run.
ROOT = Path(__file__).resolve().parents[1]


def with_venv_on_path(env: dict[str, str]) -> dict[str, str]:
    """``env`` with this interpreter's bin directory first on PATH."""
    return {**env, "PATH": f"{Path(sys.executable).parent}:{env.get('PATH', '')}"}


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
