"""The validator's speed: its own render.yaml, generated blueprints of 10, 100 and 1,000
services, and check-jsonschema with Render's official schema on the same files; and the
sync plan (``--against``) of a 1,000-service blueprint against another of 1,000 (every
web service's plan changed).

Every figure is a whole command (interpreter start-up included), as CI runs it. Side by
side, in the same run and alternating with it, the validator as it was before it learnt
Render's 2026-10 spec (``BASELINE``, taken from git), so the two meet the same machine.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bench.blueprints import blueprint
from bench.common import ROOT, checkout, wall_seconds
from blueprintcheck import official

SIZES = (10, 100, 1000)
BASELINE = "03ba968"  # the last commit before issue 18 (the April spec, a hand-written schema)
BASELINE_FILES = ("scripts", "blueprintcheck", "remosphere", "render.yaml")


def run(*, smoke: bool) -> dict[str, Any]:
    runs = 1 if smoke else 7
    sizes = (10,) if smoke else SIZES
    validator = [sys.executable, str(ROOT / "scripts" / "validate_blueprint.py")]
    check_jsonschema = [str(Path(sys.executable).parent / "check-jsonschema")]
    schema = official.SCHEMA_FILE
    with tempfile.TemporaryDirectory() as scratch:
        baseline = checkout(BASELINE, Path(scratch) / "baseline", BASELINE_FILES)
        before = validator  # a shallow clone: no baseline to compare with
        if baseline is not None:
            before = [sys.executable, str(baseline / "scripts" / "validate_blueprint.py")]
        # The project's blueprint as it was at the baseline: one file both versions accept
        # (today's uses the 2026 plan names, which the baseline refuses).
        then = baseline / "render.yaml" if baseline is not None else ROOT / "render.yaml"
        own_then, own_before = _side_by_side(
            [*validator, "--repo", str(ROOT), str(then)],
            [*before, "--repo", str(ROOT), str(then)],
            runs,
        )
        results: dict[str, Any] = {
            "own_blueprint_s": wall_seconds([*validator, "render.yaml"], runs=runs),
            "own_blueprint_then_s": own_then,
            "baseline_own_blueprint_s": own_before,
            "baseline": BASELINE if baseline is not None else None,
            "runs": runs,
        }
        for size in sizes:
            path = Path(scratch) / f"render-{size}.yaml"
            path.write_text(blueprint(size))
            ours, theirs = _side_by_side(
                [*validator, "--generic", str(path)], [*before, "--generic", str(path)], runs
            )
            results[f"services_{size}_s"] = ours
            results[f"baseline_services_{size}_s"] = theirs
            if schema.exists():
                results[f"check_jsonschema_{size}_s"] = wall_seconds(
                    [*check_jsonschema, "--schemafile", str(schema), str(path)], runs=runs
                )
        largest = max(sizes)
        before_path = Path(scratch) / f"render-{largest}-before.yaml"
        before_path.write_text(blueprint(largest, plan="1c-2g"))
        results[f"plan_{largest}_s"] = wall_seconds(
            [*validator, "--generic", "--against", str(before_path),
             str(Path(scratch) / f"render-{largest}.yaml")],
            runs=runs,
        )  # fmt: skip
    if schema.exists():
        results["check_jsonschema_s"] = wall_seconds(
            [*check_jsonschema, "--schemafile", str(schema), "render.yaml"], runs=runs
        )
    return results


def _side_by_side(ours: Sequence[str], theirs: Sequence[str], runs: int) -> tuple[float, float]:
    """Median wall times of two commands, run alternately so both meet the same machine."""
    samples: tuple[list[float], list[float]] = ([], [])
    for _ in range(runs):
        for command, times in ((ours, samples[0]), (theirs, samples[1])):
            started = time.perf_counter()
            subprocess.run(command, cwd=ROOT, capture_output=True, check=True)
            times.append(time.perf_counter() - started)
    return statistics.median(samples[0]), statistics.median(samples[1])
