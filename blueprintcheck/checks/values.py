"""Values Render's schema rejects that a generic schema check lets through (P codes):
an ``ipAllowList`` source that is not an IP address or a CIDR block, and a PostgreSQL major
version written as a YAML number. Source: Render's Blueprint specification
(render.com/docs/blueprint-spec: ``ipAllowList`` entries are CIDR blocks; the official
schema types ``postgresMajorVersion`` as a string)."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator

from blueprintcheck import model
from blueprintcheck.loader import Document
from blueprintcheck.rules import Finding, Severity, rule


@rule(
    "P024",
    "invalid-ip-allow-list-source",
    Severity.ERROR,
    "An `ipAllowList` entry's `source` is not an IP address or a CIDR block "
    "(`10.0.0.0/33`, `999.1.1.1`, `office`): Render refuses the Blueprint.",
    "Write an address or a block in CIDR notation: `203.0.113.4`, `203.0.113.0/24`, "
    "`0.0.0.0/0` (everyone); `ipAllowList: []` keeps the resource private.",
)
def invalid_ip_allow_list_source(document: Document) -> Iterator[Finding]:
    for _, resource in model.all_resources(document.data):
        entries = resource.data.get("ipAllowList")
        if not isinstance(entries, list):
            continue
        for index, entry in enumerate(entries):
            source = entry.get("source") if isinstance(entry, dict) else None
            if not isinstance(source, str):
                continue
            try:
                ipaddress.ip_network(source.strip(), strict=False)
            except ValueError:
                yield Finding(
                    (*resource.path, "ipAllowList", index, "source"),
                    f"ipAllowList source {source!r} is not an IP address or a CIDR block "
                    "(such as 203.0.113.0/24)",
                )


@rule(
    "P025",
    "postgres-major-version-not-a-string",
    Severity.ERROR,
    "`postgresMajorVersion` written as a YAML number (`16`): Render's schema wants a string.",
    'Quote it: `postgresMajorVersion: "16"`.',
)
def postgres_major_version_not_a_string(document: Document) -> Iterator[Finding]:
    for database in model.databases(document.data):
        version = database.data.get("postgresMajorVersion")
        if isinstance(version, int | float) and not isinstance(version, bool):
            yield Finding(
                (*database.path, "postgresMajorVersion"),
                f'postgresMajorVersion {version} is a number; write it as a string: "{version}"',
            )
