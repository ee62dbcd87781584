"""The PostgreSQL connections the project's own render.yaml can hold at its largest
(validator rule C011's arithmetic, servicespec/dbbudget.py), against its plan's cap. No
process runs: this is arithmetic on the blueprint."""

from __future__ import annotations

from typing import Any

from bench.common import ROOT
from blueprintcheck.checks.capacity import budget
from blueprintcheck.loader import load
from servicespec import dbbudget


def run(*, smoke: bool) -> dict[str, Any]:
    document = load((ROOT / "render.yaml").read_bytes(), "render.yaml")
    plan, database = budget(document)
    limit = dbbudget.plan_limit(database.plan)
    return {
        "max_connections_blueprint": plan.total,
        "plan_limit": limit,
        "usable": dbbudget.usable(limit),
        "plan": database.plan or dbbudget.DEFAULT_PLAN,
        "arithmetic": plan.arithmetic(),
    }
