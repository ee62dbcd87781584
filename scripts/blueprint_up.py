#!/usr/bin/env python3
"""Rehearse render.yaml on this machine: start what Render would start from it.

    python scripts/blueprint_up.py [render.yaml] [--env-file FILE] [--processes]
                                   [--port N] [--cron-now NAME] ...

A thin wrapper: the logic is the ``blueprintup`` package (docs/BLUEPRINT_UP.md).
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from blueprintup.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
