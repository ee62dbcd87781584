"""The sync plan as text, as data (JSON) and as Markdown for a pull request. Variables by
name only: a value is never shown, changed or not."""

from __future__ import annotations

from typing import Any

from blueprintcheck.syncplan import prices
from blueprintcheck.syncplan.plan import ABSENT, ResourcePlan, SyncPlan

WIDTH = 60  # a field's value is cut to this many characters


def _value(value: Any) -> str:
    shown = repr(value)
    return shown if len(shown) <= WIDTH else shown[: WIDTH - 3] + "..."


def _what(resource: ResourcePlan) -> str:
    where = "" if resource.scope == "the top level" else f" ({resource.scope})"
    return f'{resource.type} "{resource.name}"{where}'


def changes(resource: ResourcePlan) -> list[str]:
    """What changes on one resource, one item each: fields old -> new, variables by name."""
    said = [f"{c.field}: {_value(c.old)} -> {_value(c.new)}" for c in resource.fields]
    said += [f"+{name}" for name in resource.env_added]
    said += [f"-{name}" for name in resource.env_removed]
    said += [f"~{name} (its value or source)" for name in resource.env_changed]
    return said


def money(plan: SyncPlan) -> str:
    before, after, unknown = plan.monthly()
    step = after - before
    line = f"${before} -> ${after} a month ({'+' if step >= 0 else '-'}${abs(step)})"
    if unknown:
        line += f"; not counted, price not known here: {', '.join(unknown)}"
    return f"{line} [{prices.SOURCE}, {prices.AS_OF}]"


def text(plan: SyncPlan) -> list[str]:
    nothing_there = "" if plan.existed else " (no blueprint there: everything is created)"
    lines = [f"Sync plan against {plan.against}{nothing_there}:"]
    if not plan.resources:
        lines.append("  no change: the sync does nothing")
    for resource in plan.resources:
        head = f"  {resource.action:<10} {_what(resource)}"
        said = changes(resource)
        if resource.action == "unmanaged":
            head += ": left running, no longer managed, still billed"
        lines.append(head + (":" if said else ""))
        lines += [f"      {item}" for item in said]
    lines.append(f"  monthly: {money(plan)}")
    return lines


def as_data(plan: SyncPlan) -> dict[str, Any]:
    before, after, unknown = plan.monthly()
    return {
        "against": plan.against,
        "existed": plan.existed,
        "resources": [
            {
                "action": r.action,
                "kind": r.kind,
                "type": r.type,
                "name": r.name,
                "scope": r.scope,
                "fields": [
                    {"field": c.field, "old": _plain(c.old), "new": _plain(c.new)} for c in r.fields
                ],
                "env": {"added": r.env_added, "removed": r.env_removed, "changed": r.env_changed},
                "monthly_before": r.monthly_before,
                "monthly_after": r.monthly_after,
            }
            for r in plan.resources
        ],
        "monthly": {
            "before": before,
            "after": after,
            "unknown": unknown,
            "source": prices.SOURCE,
            "as_of": prices.AS_OF,
        },
    }


def _plain(value: Any) -> Any:
    """JSON's own values; ``None`` for a field that is absent on that side."""
    return None if value is ABSENT else value


def markdown(plan: SyncPlan, problems: list) -> str:
    """A summary a CI job posts on the pull request."""
    lines = ["## Render sync plan", "",
             f"Against `{plan.against}`" + ("" if plan.existed else " (no blueprint there)")
             + f". Monthly: {money(plan)}.", ""]  # fmt: skip
    if plan.resources:
        lines += ["| Action | Resource | Changes |", "|---|---|---|"]
        for resource in plan.resources:
            said = "<br>".join(_cell(item) for item in changes(resource)) or "-"
            lines.append(f"| {resource.action} | {_cell(_what(resource))} | {said} |")
    else:
        lines.append("No change: the sync does nothing.")
    if problems:
        lines += ["", "| | Code | Line | What the sync does |", "|---|---|---|---|"]
        for p in problems:
            mark = ":x:" if p.severity.value == "error" else ":warning:"
            lines.append(f"| {mark} | {p.code} | {p.line or ''} | {_cell(p.message)} |")
    return "\n".join(lines)


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")
