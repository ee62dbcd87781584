"""What changed between two copies of Render's Blueprint schema, in words: definitions,
fields, required fields, allowed values and closed mappings, added or removed.

    python -m blueprintcheck.schemadiff OLD.json NEW.json

Used when Render publishes a new schema (docs/VALIDATOR.md, "Updating Render's schema"),
and by the test that pins the vendored copy, so a replaced file fails naming what changed.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any


def changes(old: dict, new: dict) -> list[str]:
    before, after = dict(_facts(old)), dict(_facts(new))
    nodes_added = {w for w, kind in after.keys() - before.keys() if not kind}
    nodes_removed = {w for w, kind in before.keys() - after.keys() if not kind}
    lines = []
    for where, kind in sorted(before.keys() | after.keys()):
        if _inside(where, nodes_added | nodes_removed, strictly=bool(kind)):
            continue
        was, now = before.get((where, kind)), after.get((where, kind))
        if was == now:
            continue
        label = f"{where} {kind}".rstrip()
        if was is None or now is None:
            lines.append(f"{label}: {'added' if was is None else 'removed'}")
            continue
        added, removed = sorted(set(now) - set(was)), sorted(set(was) - set(now))
        said = [f"+ {', '.join(added)}"] if added else []
        said += [f"- {', '.join(removed)}"] if removed else []
        lines.append(f"{label}: {'; '.join(said) or 'reordered'}")
    return lines


def _inside(where: str, nodes: set[str], *, strictly: bool) -> bool:
    """Whether ``where`` is one of ``nodes`` (when ``strictly`` is false, below one only)."""
    for node in nodes:
        if where == node:
            if strictly:
                return True
        elif where.startswith(node) and where[len(node)] in ".[":
            return True
    return False


def _facts(schema: dict) -> Iterator[tuple[tuple[str, str], tuple[str, ...]]]:
    """(place, what it lists) for every list of fields, required fields and values."""
    for name, definition in schema.get("definitions", {}).items():
        yield from _walk(definition, f"definitions.{name}")
    for index, part in enumerate(schema.get("allOf", [])):
        yield from _walk(part, f"allOf[{index}]")


def _walk(schema: Any, where: str) -> Iterator[tuple[tuple[str, str], tuple[str, ...]]]:
    """((place, what kind of list), the list); the place itself has the kind ""."""
    if not isinstance(schema, dict):
        return
    yield (where, ""), ()
    if "properties" in schema:
        yield (where, "fields"), tuple(schema["properties"])
        for key, value in schema["properties"].items():
            yield from _walk(value, f"{where}.{key}")
    for key in ("required", "enum"):
        if key in schema:
            yield (where, key), tuple(map(str, schema[key]))
    if "const" in schema:
        yield (where, "const"), (str(schema["const"]),)
    if "$ref" in schema:
        yield (where, "$ref"), (schema["$ref"],)
    if False in (schema.get("additionalProperties"), schema.get("unevaluatedProperties")):
        yield (where, "closed to other keys"), ("closed",)
    for key in ("items", "if", "then", "not"):
        yield from _walk(schema.get(key), f"{where}.{key}")
    for key in ("allOf", "anyOf", "oneOf"):
        for index, branch in enumerate(schema.get(key, [])):
            yield from _walk(branch, f"{where}.{key}[{index}]")


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 2:
        print("usage: python -m blueprintcheck.schemadiff OLD.json NEW.json", file=sys.stderr)
        return 2
    try:
        old, new = (json.loads(Path(a).read_text(encoding="utf-8")) for a in args)
    except (OSError, ValueError) as error:
        print(f"schemadiff: cannot read a schema: {error}", file=sys.stderr)
        return 2
    print("\n".join(changes(old, new)) or "no change in fields, required fields or values")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
