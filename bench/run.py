"""Run the benchmarks and regenerate docs/BENCHMARKS.md.

python -m bench.run                  # every section (make bench)
python -m bench.run --only validator # one section; the others keep their last figures
python -m bench.run --render         # rewrite the page from bench/results.json alone
python -m bench.run --smoke --results /tmp/r.json --doc /tmp/B.md
                                     # tiny counts, so the code cannot rot (the tests)
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench import (
    autoscale,
    cold_start,
    common,
    db,
    image,
    layouts,
    memory,
    pipeline,
    report,
    scaling,
    validator,
    web,
    web_memory,
    webhook,
    worker,
)

# Section name -> (function, key in results.json; None: the section's keys go top level).
SECTIONS: dict[str, tuple[Callable[..., Any], str | None]] = {
    "image": (image.run, "image"),
    "validator": (validator.run, "validator"),
    "pipeline": (pipeline.run, "pipeline"),
    "web": (web.run, "web"),
    "worker": (worker.run, "worker"),
    "db": (db.run, "db"),
    "scaling": (scaling.run, "scaling"),
    "autoscale": (autoscale.run, "autoscale"),
    "memory": (memory.run, "memory_mb"),
    "webhook": (webhook.run, "webhook"),
    "web-memory": (web_memory.run, "web_memory"),
    "cold-start": (cold_start.run, "cold_start_s"),
    "layouts": (layouts.run, None),
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.run")
    parser.add_argument("--only", help="comma-separated sections: " + ", ".join(SECTIONS))
    parser.add_argument("--smoke", action="store_true", help="tiny counts; figures mean nothing")
    parser.add_argument("--results", type=Path, default=common.RESULTS)
    parser.add_argument("--doc", type=Path, default=report.DOC)
    parser.add_argument(
        "--render", action="store_true", help="only rewrite the page from the results file"
    )
    args = parser.parse_args(argv)
    if args.render:
        args.doc.write_text(report.render(common.load_results(args.results)))
        return 0
    names = args.only.split(",") if args.only else list(SECTIONS)
    unknown = [name for name in names if name not in SECTIONS]
    if unknown:
        parser.error(f"unknown section(s): {', '.join(unknown)}")
    results = common.load_results(args.results)
    for name in names:
        started = time.monotonic()
        print(f"bench: {name}...", file=sys.stderr, flush=True)
        function, key = SECTIONS[name]
        figures = function(smoke=args.smoke)
        if figures is None:
            print(f"bench: {name} skipped", file=sys.stderr)
            continue
        if key is None:
            results.update(figures)
        else:
            results[key] = figures
        print(f"bench: {name} done in {time.monotonic() - started:.0f}s", file=sys.stderr)
    results["machine"] = common.machine()
    results["smoke"] = args.smoke
    common.save_results(results, args.results)
    args.doc.write_text(report.render(results))
    print(f"bench: wrote {args.results} and {args.doc}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
