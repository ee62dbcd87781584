"""What a valid blueprint would create: the resource summary Render's validator prints
(Render's API calls it the ``plan``; here "plan" is only ever a compute plan).

Render's ``render blueprints validate`` (and ``POST /v1/blueprints/validate``) answers a
valid file with the names of the services, databases, Key Value instances and environment
groups it would create; this is the same list, offline. Render also counts the actions a
sync would take against the workspace as it is, which needs the workspace: not given here.
"""

from __future__ import annotations

from dataclasses import dataclass

from blueprintcheck import model
from blueprintcheck.loader import Document


@dataclass(frozen=True)
class ResourceSummary:
    file: str
    services: tuple[str, ...]
    databases: tuple[str, ...]
    key_value: tuple[str, ...]
    env_groups: tuple[str, ...]

    def as_render(self) -> dict[str, list[str]]:
        """The ``plan`` object of Render's validate API (an empty list is left out, as there)."""
        fields = {
            "services": self.services,
            "databases": self.databases,
            "keyValue": self.key_value,
            "envGroups": self.env_groups,
        }
        return {key: list(names) for key, names in fields.items() if names}

    def lines(self) -> list[str]:
        """Render's CLI summary, with the names after each count."""
        rows = [
            ("Services:", self.services),
            ("Databases:", self.databases),
            ("Key Value:", self.key_value),
            ("Env Groups:", self.env_groups),
        ]
        return [f"  {label:<14} {len(names)}  {', '.join(names)}" for label, names in rows if names]


def resource_summary(document: Document) -> ResourceSummary:
    resources = [resource for _, resource in model.all_resources(document.data)]
    services = [r for r in resources if r.kind == "service"]
    return ResourceSummary(
        file=document.file,
        services=tuple(r.name for r in services if r.type != "keyvalue"),
        databases=tuple(r.name for r in resources if r.kind == "database"),
        key_value=tuple(r.name for r in services if r.type == "keyvalue"),
        env_groups=tuple(r.name for r in resources if r.kind == "group"),
    )
