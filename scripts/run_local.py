"""Run the whole stack locally: migrations, a Celery worker and the web, on defaults.

    make run            (or: .venv/bin/python scripts/run_local.py)

Nothing needs to be configured: SQLite, a file-system broker (or REDIS_URL if you set
it) and emails written as files a person can open. Ctrl-C stops both processes.
"""

from __future__ import annotations

import os
import signal
import subprocess  # our own processes, fixed arguments  # nosec B404
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from servicespec import envspec  # noqa: E402 - needs the repository on sys.path
from stack import ownership, processes  # noqa: E402


def main() -> int:
    env = dict(os.environ)
    env.setdefault("DJANGO_SETTINGS_MODULE", "remosphere.settings")
    problems = envspec.check(env)
    if envspec.is_production(env):
        print("run_local.py is for development; unset RENDER and DJANGO_ENV.", file=sys.stderr)
        return 2
    if problems:
        print(envspec.format_problems(problems, production=False), file=sys.stderr)
        return 2
    values = envspec.load(env)
    port = values["PORT"]
    env.setdefault("EMAIL_VERIFICATION_URL", f"http://localhost:{port}/verify-email")
    env.setdefault("PASSWORD_RESET_URL", f"http://localhost:{port}/reset-password")
    mail_dir = ROOT / values["LOCAL_DATA_DIR"] / "mail"

    python = sys.executable
    subprocess.run(  # our own manage.py, no outside input  # nosec B603
        [python, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=ROOT, env=env, check=True
    )
    worker = ownership.popen(
        [
            python,
            "-m",
            "celery",
            "-A",
            "remosphere",
            "worker",
            "--loglevel",
            "INFO",
            "--concurrency",
            "1",
            "--without-mingle",
            "--without-gossip",
            "--hostname",
            "local@%h",
        ],
        cwd=ROOT,
        env=env,
    )
    web = ownership.popen(  # signals come from _supervise only
        [python, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"],
        cwd=ROOT,
        env=env,
    )
    print(
        f"\nRemoSphere is starting on http://localhost:{port}/ (web: Django, worker: Celery)\n"
        f"  register:  curl -X POST http://localhost:{port}/api/auth/register "
        "-H 'Content-Type: application/json' "
        '-d \'{"email": "you@example.com", "password": "a-long-passphrase"}\'\n'
        f"  emails:    {mail_dir}/ (one file per email; open the link inside)\n"
        f"  API:       http://localhost:{port}/api/schema/\n"
        f"  limits:    relaxed for trying things locally ({_relaxed_limits()});\n"
        "             production keeps its own (README: THROTTLE_RATE_*)\n"
        "Ctrl-C stops both.\n",
        flush=True,
    )
    return _supervise([web, worker])


def _relaxed_limits() -> str:
    relaxed = [
        f"{var.name.removeprefix('THROTTLE_RATE_').lower()} {var.local_default}"
        for var in envspec.SPEC
        if var.local_default is not None and var.name not in os.environ
    ]
    return ", ".join(relaxed) or "none: set in the environment"


def _supervise(started: list[subprocess.Popen]) -> int:
    """Until one of them exits or Ctrl-C: then SIGTERM to each, SIGKILL after 30 s. Both
    die with this script even if it is killed (``stack.ownership``)."""
    stopping = False

    def stop(*_: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    while not stopping and all(process.poll() is None for process in started):
        time.sleep(0.5)
    return max(processes.terminate(process) for process in started)


if __name__ == "__main__":
    raise SystemExit(main())
