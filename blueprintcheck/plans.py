"""Render's compute plans: which resource takes which plan (the official schema's lists),
and the legacy instance types Render renamed in 2026.

Sources: the official schema's ``serverPlan``, ``cronPlan``, ``keyValuePlan`` and
``postgresPlan``; render.com/pricing and render.com/docs/workflows-limits for what each
legacy type is (starter 0.5 CPU and 512 MB, standard 1 CPU and 2 GB, pro 2 CPU and 4 GB,
pro plus 4 CPU and 8 GB, pro max 4 CPU and 16 GB, pro ultra 8 CPU and 32 GB), which is
the name each was given; render.com/docs/key-value for Key Value's memory per type.
"""

from __future__ import annotations

import re

from blueprintcheck import official

# The official definition of each resource's plan list, and what messages call its owners.
KINDS = {
    "serverPlan": "services (web, private, worker)",
    "cronPlan": "cron jobs",
    "keyValuePlan": "Key Value",
    "postgresPlan": "PostgreSQL",
}

# A legacy name and the compute plan with the same CPU and memory: one correct replacement.
RENAMED = {
    "serverPlan": {
        "starter": "0.5c-512mb",
        "standard": "1c-2g",
        "pro": "2c-4g",
        "pro plus": "4c-8g",
        "pro max": "4c-16g",
        "pro ultra": "8c-32g",
    },
    "cronPlan": {"starter": "0.5c-512mb", "standard": "1c-2g", "pro": "2c-4g", "pro plus": "4c-8g"},
    "keyValuePlan": {
        "starter": "256mb",
        "standard": "1g",
        "pro": "5g",
        "pro plus": "10g",
        "pro max": "20g",
        "pro ultra": "40g",
    },
}
# PostgreSQL's legacy instance types: retired for flexible plans, with no one-to-one successor
# (the storage is chosen apart now), so a message can only point at the current families.
LEGACY_POSTGRES = ("starter", "standard", "pro", "pro plus")
FREE = "free"
FREE_CPUS = "0.1"  # render.com/pricing: a free instance has 0.1 CPU
DEFAULT_COMPUTE_PLAN = "starter"  # what Render gives a service or cron job that names none
_CPUS = re.compile(r"^(\d+(?:\.\d+)?)c-")
# The plan list a resource's plan fields (`plan`, `previewPlan`, `previews.plan`) draw from,
# by its type as the model names it (a static site, a workflow and a group have no plan).
KIND_OF = {
    "web": "serverPlan",
    "worker": "serverPlan",
    "pserv": "serverPlan",
    "cron": "cronPlan",
    "keyvalue": "keyValuePlan",
    "redis": "keyValuePlan",
    "postgres": "postgresPlan",
}


def plans(kind: str) -> list[str]:
    """The plans of one resource kind (``serverPlan``...), as the official schema lists them."""
    return official.enum(kind)


def owners(plan: str) -> list[str]:
    """What takes ``plan``: the labels of every kind whose list has it."""
    return [label for kind, label in KINDS.items() if plan in plans(kind)]


def replacement(kind: str, plan: str) -> str | None:
    """The current name of a legacy plan, when there is exactly one."""
    return RENAMED.get(kind, {}).get(plan)


def is_legacy(kind: str, plan: str) -> bool:
    return plan in RENAMED.get(kind, {}) or (kind == "postgresPlan" and plan in LEGACY_POSTGRES)


def cpu_count(kind: str, plan: object) -> str | None:
    """``RENDER_CPU_COUNT`` as Render sets it for a service on ``plan`` (``"0.5"`` on
    starter, ``"2"`` on ``2c-4g``); ``None`` for a plan whose CPUs its name does not say."""
    name = plan if isinstance(plan, str) and plan else DEFAULT_COMPUTE_PLAN
    if name == FREE:
        return FREE_CPUS
    match = _CPUS.match(replacement(kind, name) or name)
    return match.group(1) if match else None
