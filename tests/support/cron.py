"""Render's cron jobs as Render runs them: through their entrypoints, to the end."""

from __future__ import annotations

import subprocess
from pathlib import Path

from stack.processes import with_venv_on_path

ROOT = Path(__file__).resolve().parents[2]


def sweep(env: dict[str, str]) -> str:
    """The sweep, now (``--stale-after 0``, so a test need not wait the production
    threshold); what it printed. It must succeed."""
    result = subprocess.run(
        ["docker/sweep-entrypoint.sh", "--stale-after", "0"],
        cwd=ROOT,
        env=with_venv_on_path(env),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout
