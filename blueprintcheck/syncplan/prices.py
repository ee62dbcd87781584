"""What Render charges a month for an instance of each plan, to say what a merge changes
in the bill. Compute (web, private services and workers: per instance), Key Value and
PostgreSQL; cron jobs (billed by the second they run), static sites and workflows are
left out, as is storage.

Source: render.com/pricing (the instance types' monthly prices, a full month of running;
Render bills by the second). Checked on the date below; a plan not in the table is
said to have no known price, never guessed.
"""

from __future__ import annotations

from blueprintcheck import plans

SOURCE = "render.com/pricing"
AS_OF = "2026-12-03"

# US dollars a month, by each kind's current plan name (a legacy name is read through
# its rename, blueprintcheck.plans.RENAMED).
COMPUTE = {
    "free": 0,
    "0.5c-512mb": 7,  # starter
    "1c-2g": 25,  # standard
    "2c-4g": 85,  # pro
    "4c-8g": 175,  # pro plus
    "4c-16g": 225,  # pro max
    "8c-32g": 450,  # pro ultra
}
KEY_VALUE = {
    "free": 0,
    "256mb": 10,  # starter
    "1g": 32,  # standard
    "5g": 135,  # pro
    "10g": 250,  # pro plus
}
POSTGRES = {
    "free": 0,
    "basic-256mb": 6,
    "basic-1gb": 19,
    "basic-4gb": 75,
}
TABLES = {"serverPlan": COMPUTE, "keyValuePlan": KEY_VALUE, "postgresPlan": POSTGRES}
DEFAULTS = {"serverPlan": "starter", "keyValuePlan": "starter", "postgresPlan": "basic-256mb"}


def monthly(kind: str, plan: object, instances: int = 1) -> int | None:
    """Dollars a month for ``instances`` of ``plan`` (``None``: no plan given, Render's
    default); ``None`` when the price is not known here."""
    table = TABLES.get(kind)
    if table is None:
        return None
    name = plan if isinstance(plan, str) and plan else DEFAULTS[kind]
    price = table.get(plans.replacement(kind, name) or name)
    return None if price is None else price * instances
