#!/usr/bin/env python3
"""Validate render.yaml (and optionally an environment) before a deploy.

    python scripts/validate_blueprint.py [PATH] [--env web|worker] [--env-file FILE]
                                         [--format text|json|render-json|github]
                                         [--strict] [--generic]

A thin wrapper: the logic is the ``blueprintcheck`` package (docs/VALIDATOR.md).
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from blueprintcheck.cli import run

if __name__ == "__main__":
    run()
