"""The entrypoints' own logic, on the host (the image test runs them inside the image)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from stack import ports, proctree

ROOT = Path(__file__).resolve().parents[2]
BASE_ENV = {"PATH": os.environ["PATH"]}


def bash(script: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["bash", "-c", script],
        cwd=ROOT,
        env={**BASE_ENV, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize(
    ("entrypoint", "names"),
    [
        ("docker/web-entrypoint.sh", ["SECRET_KEY", "DATABASE_URL", "REDIS_URL"]),
        ("docker/worker-entrypoint.sh", ["SECRET_KEY", "SENDGRID_API_KEY", "DEFAULT_FROM_EMAIL"]),
    ],
)
def test_entrypoint_in_production_stops_listing_every_missing_variable(entrypoint, names):
    result = subprocess.run(
        [entrypoint],
        cwd=ROOT,
        env={**BASE_ENV, "RENDER": "true"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert (result.returncode, [n for n in names if n in result.stderr]) == (1, names)


def test_entrypoint_never_prints_a_malformed_value():
    result = subprocess.run(
        ["docker/web-entrypoint.sh"],
        cwd=ROOT,
        timeout=60,
        env={**BASE_ENV, "RENDER": "true", "DATABASE_URL": "mysql://u:hunter2@db/x"},
        capture_output=True,
        text=True,
    )
    assert "hunter2" not in result.stdout + result.stderr


def test_worker_node_name_is_the_render_instance_id():
    result = bash(
        "source docker/worker-entrypoint.sh && node_name", {"RENDER_INSTANCE_ID": "srv-1-abc"}
    )
    assert result.stdout == "srv-1-abc@%h"


def test_worker_node_name_without_render_is_the_pid_exec_keeps():
    result = bash("source docker/worker-entrypoint.sh && echo $$ && node_name", {})
    pid, name = result.stdout.splitlines()
    assert name == f"worker-{pid}@%h"


def test_defaults_come_from_the_env_spec():
    result = bash(
        "source docker/web-entrypoint.sh && load_environment && echo $GUNICORN_GRACEFUL_TIMEOUT", {}
    )
    from servicespec import envspec

    assert result.stdout.strip() == envspec.BY_NAME["GUNICORN_GRACEFUL_TIMEOUT"].default


def test_a_set_variable_wins_over_the_spec_default():
    result = bash(
        "source docker/worker-entrypoint.sh && load_environment && echo $CELERY_WORKER_CONCURRENCY",
        {"CELERY_WORKER_CONCURRENCY": "7"},
    )
    assert result.stdout.strip() == "7"


def test_the_web_bounds_its_allocator_so_freed_hash_memory_returns(start_web, worker_env):
    """Gunicorn's processes start with a fixed mmap threshold (docker/web-entrypoint.sh):
    Argon2's 19 MiB blocks are then mappings of their own, returned when freed."""
    web = start_web(worker_env)
    environments = [
        Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
        for pid in proctree.tree(web.process.pid)
    ]
    assert environments and all(b"MALLOC_MMAP_THRESHOLD_=131072" in env for env in environments)


EVERY_ADDRESS = "0.0.0.0"  # noqa: S104 (what Render's proxy needs)


@pytest.mark.parametrize(
    ("bind", "listening"), [(None, {EVERY_ADDRESS}), ("127.0.0.1", {"127.0.0.1"})]
)
def test_the_web_listens_where_render_s_proxy_reaches_it_or_on_loopback_if_told(
    start_web, worker_env, bind, listening
):
    """0.0.0.0 by default, as Render needs; WEB_BIND_HOST=127.0.0.1 (the rehearsal)."""
    env = {k: v for k, v in worker_env.items() if k != "WEB_BIND_HOST"}
    web = start_web(env if bind is None else {**env, "WEB_BIND_HOST": bind})
    assert ports.listening_addresses(web.port) == listening
