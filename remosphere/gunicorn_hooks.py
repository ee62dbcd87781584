"""Gunicorn's server hooks for the web (docker/web-entrypoint.sh passes
``--config python:remosphere.gunicorn_hooks``; its command-line options stay the settings).

The entrypoint makes a fresh metrics directory for each instance when
``PROMETHEUS_MULTIPROC_DIR`` is unset, and then execs Gunicorn, so nothing of the shell is
left to remove it. On Render the container's /tmp goes with the instance; on a machine
that runs the web as a process (``make up --processes``, the tests) each start would leave
one behind. The directory carries a marker file when the entrypoint made it; one an
operator named is theirs and is kept."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

MADE_BY_ENTRYPOINT = ".made-by-web-entrypoint"


def on_exit(server: Any) -> None:
    """Gunicorn's master, shutting down: remove the metrics directory made for it."""
    directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if directory and (Path(directory) / MADE_BY_ENTRYPOINT).is_file():
        shutil.rmtree(directory, ignore_errors=True)
