"""Render's official Blueprint JSON Schema, vendored: the validator's one source for Render's
vocabulary (service types, runtimes, regions, plans per resource, every field of every
resource, the properties a reference may name).

The file is ``blueprintcheck/data/render-blueprint.schema.json``, byte for byte as
render.com serves it at https://render.com/schema/render.yaml.json (its provenance and
digest: ``blueprintcheck/data/README.md``). ``schema.py`` builds the validator's own
schema from it; the checks read their value lists from it. Updating to Render's next
schema is replacing that one file (docs/VALIDATOR.md, "Updating Render's schema").

A missing or damaged file makes the installation unusable: :class:`InstallationError`
says so, and the command line exits 2 with that message instead of a traceback.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

SCHEMA_FILE = Path(__file__).resolve().parent / "data" / "render-blueprint.schema.json"
SCHEMA_URL = "https://render.com/schema/render.yaml.json"
# The copy vendored here: render.com's schema as served in October 2026.
VERSION = "2026-10"
SHA256 = "a0d4e8a3eb119a1b63657741757e3c25c091b3ce463c4be8c90e8026678d8163"
_REINSTALL = "reinstall the validator (pip install --force-reinstall), or restore the file from git"


class InstallationError(Exception):
    """The vendored schema is missing or is not Render's Blueprint schema."""


@cache
def document() -> dict[str, Any]:
    """The whole schema, read once."""
    try:
        raw = SCHEMA_FILE.read_bytes()
    except OSError as error:
        raise InstallationError(
            f"Render's Blueprint schema is missing from this installation ({SCHEMA_FILE}: "
            f"{error.strerror or error}); {_REINSTALL}"
        ) from None
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise InstallationError(
            f"Render's Blueprint schema in this installation is corrupt ({SCHEMA_FILE} is not "
            f"JSON); {_REINSTALL}"
        ) from None
    if not (isinstance(data, dict) and isinstance(data.get("definitions"), dict)):
        raise InstallationError(
            f"{SCHEMA_FILE} is not Render's Blueprint schema (it has no definitions); {_REINSTALL}"
        )
    return data


def definition(name: str) -> dict[str, Any]:
    """One of the schema's ``definitions``, as written (``$ref`` not followed)."""
    found = document()["definitions"].get(name)
    if not isinstance(found, dict):
        raise InstallationError(
            f"{SCHEMA_FILE} has no definition {name!r}: it is not the schema this validator "
            f"reads (Render's of {VERSION}); {_REINSTALL}"
        )
    return found


def resolve(schema: Any) -> Any:
    """``schema`` with a top-level ``$ref`` replaced by what it points to (sibling keys such
    as ``description`` are kept, as draft 2020-12 does)."""
    if isinstance(schema, dict) and "$ref" in schema:
        target = resolve(definition(schema["$ref"].rsplit("/", 1)[-1]))
        return {**target, **{k: v for k, v in schema.items() if k != "$ref"}}
    return schema


def properties(name: str) -> dict[str, Any]:
    """The fields a definition allows, by name (each sub-schema resolved)."""
    return {key: resolve(value) for key, value in definition(name).get("properties", {}).items()}


def required(name: str) -> tuple[str, ...]:
    return tuple(definition(name).get("required", ()))


def values(schema: Any) -> list[Any]:
    """The values a sub-schema allows: its ``enum``, or its ``const`` as a list of one."""
    schema = resolve(schema)
    if "const" in schema:
        return [schema["const"]]
    return list(schema.get("enum", []))


def enum(name: str) -> list[str]:
    """The values of a definition that is a list of values (``region``, ``serverPlan``...)."""
    return [str(v) for v in values(definition(name))]


def service_definitions() -> list[str]:
    """The definitions a ``services`` entry may be, in the schema's order."""
    items = properties("resources")["services"]["items"]
    return [branch["$ref"].rsplit("/", 1)[-1] for branch in items["anyOf"]]


def root_properties() -> dict[str, Any]:
    """The top level's own fields, beside the resources (``previews``, ``projects``...)."""
    own: dict[str, Any] = {}
    for part in document().get("allOf", []):
        own.update({k: resolve(v) for k, v in part.get("properties", {}).items()})
    return own
