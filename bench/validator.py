"""The validator's speed: its own render.yaml, generated blueprints of 10, 100 and 1,000
services, and check-jsonschema with Render's official schema on the same files.

Every figure is a whole command (interpreter start-up included), as CI runs it.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path
from typing import Any

from bench.blueprints import blueprint
from bench.common import ROOT, wall_seconds
from blueprintcheck import docs

SIZES = (10, 100, 1000)


def run(*, smoke: bool) -> dict[str, Any]:
    runs = 1 if smoke else 7
    sizes = (10,) if smoke else SIZES
    validator = [sys.executable, str(ROOT / "scripts" / "validate_blueprint.py")]
    check_jsonschema = [str(Path(sys.executable).parent / "check-jsonschema")]
    schema = docs.reference_dir() / "render-blueprint.schema.json"
    results: dict[str, Any] = {
        "own_blueprint_s": wall_seconds([*validator, "render.yaml"], runs=runs),
        "runs": runs,
    }
    with tempfile.TemporaryDirectory() as scratch:
        for size in sizes:
            path = Path(scratch) / f"render-{size}.yaml"
            path.write_text(blueprint(size))
            results[f"services_{size}_s"] = wall_seconds(
                [*validator, "--generic", str(path)], runs=runs
            )
            if schema.exists():
                results[f"check_jsonschema_{size}_s"] = wall_seconds(
                    [*check_jsonschema, "--schemafile", str(schema), str(path)], runs=runs
                )
    if schema.exists():
        results["check_jsonschema_s"] = wall_seconds(
            [*check_jsonschema, "--schemafile", str(schema), "render.yaml"], runs=runs
        )
    return results
