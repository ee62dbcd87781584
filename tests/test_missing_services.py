"""A service the tests need that is down stops the run with how to start it, never a skip."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_unreachable_redis_stops_the_run_with_the_command_that_starts_it():
    env = {**os.environ, "TEST_REDIS_URL": "redis://127.0.0.1:9/0"}
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "tests/remosphere/test_envdocs.py"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert (result.returncode, "redis-server --daemonize yes" in result.stdout + result.stderr) == (
        3,
        True,
    )
