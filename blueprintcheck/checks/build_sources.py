"""Build sources (``buildSources`` and a service's ``buildSource``): one repository and build
shared by several services (R013, P019, P020).

Sources: the official Blueprint schema's ``buildSource``, ``buildSourceGit`` and
``serverService`` (a linked service "may not set" its own source and build fields; a
Git build source's ``baseDir``, ``dockerfilePath`` and ``registryCredential`` need
``runtime: docker``), and render.com/docs/blueprint-spec. The field lists are read from
the vendored schema, so they follow it.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterator
from functools import cache

from blueprintcheck import model, official
from blueprintcheck.loader import Document
from blueprintcheck.rules import Finding, Severity, rule

E = Severity.ERROR


@cache
def owned_by_build_source() -> tuple[str, ...]:
    """The fields a service linked to a build source may not set (the schema's
    ``then: {properties: {runtime: false, ...}}`` under ``if: {required: [buildSource]}``)."""
    for condition in official.definition("serverService").get("allOf", []):
        if condition.get("if") == {"required": ["buildSource"]}:
            forbidden = condition["then"]["properties"]
            return tuple(k for k, v in forbidden.items() if v is False)
    return ()


@cache
def docker_only() -> tuple[str, ...]:
    """A Git build source's fields that need ``runtime: docker``."""
    for condition in official.definition("buildSourceGit").get("allOf", []):
        branches = condition.get("if", {}).get("anyOf", [])
        if condition.get("then") == {"properties": {"runtime": {"const": "docker"}}}:
            return tuple(b["required"][0] for b in branches)
    return ()


@rule(
    "R013",
    "unknown-build-source",
    E,
    "A service's `buildSource` names a build source the blueprint does not define.",
    "Fix the name, or define the build source under `buildSources:` (at the top level, in "
    "`ungrouped` or in the service's project).",
)
def unknown_build_source(document: Document) -> Iterator[Finding]:
    names = sorted({source.name for source in model.build_sources(document.data)})
    for service in model.services(document.data):
        wanted = service.data.get("buildSource")
        if isinstance(wanted, str) and wanted not in names:
            close = difflib.get_close_matches(wanted, names, n=1)
            hint = (
                f'; did you mean "{close[0]}"?'
                if close
                else (f" (defined: {', '.join(names)})" if names else "")
            )
            yield Finding((*service.path, "buildSource"), f'no build source named "{wanted}"{hint}')


@rule(
    "P019",
    "build-source-owns-field",
    E,
    "A service linked to a build source (`buildSource`) also sets a field the build source "
    "owns (`runtime`, `repo`, `branch`, `image`, `buildCommand`, `dockerfilePath`...). The "
    "build source says where the code is and how it is built, for every service linked to it.",
    "Remove the field from the service, or set it on the build source.",
)
def build_source_owns_field(document: Document) -> Iterator[Finding]:
    for service in model.services(document.data):
        source = service.data.get("buildSource")
        if not isinstance(source, str):
            continue
        for field in owned_by_build_source():
            if field in service.data:
                yield Finding(
                    (*service.path, field),
                    f'"{service.name}" is built by build source "{source}", which owns '
                    f"`{field}`: remove it here (or set it on the build source)",
                    True,
                )


@rule(
    "P020",
    "docker-only-build-source-field",
    E,
    "A Git build source sets `baseDir`, `dockerfilePath` or `registryCredential` with a "
    "`runtime` other than `docker`: those fields only apply to a Docker build.",
    "Set `runtime: docker`, or remove the Docker fields.",
)
def docker_only_build_source_field(document: Document) -> Iterator[Finding]:
    for source in model.build_sources(document.data):
        git = source.data.get("git")
        if not isinstance(git, dict) or git.get("runtime") in (None, "docker"):
            continue
        for field in docker_only():
            if field in git:
                yield Finding(
                    (*source.path, "git", field),
                    f'`{field}` applies only to a Docker build; build source "{source.name}" '
                    f'builds with runtime "{git["runtime"]}"',
                    True,
                )
