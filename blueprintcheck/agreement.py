"""Compare the validator with Render's official JSON Schema on real-world blueprints.

Both judge each file of ``$BLUEPRINT_REFERENCE_DIR/blueprints`` in the strictest
generic sense (the validator with --generic --strict: any problem fails the file); every
disagreement gets its reason from the codes involved. docs/VALIDATOR.md shows the result.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import jsonschema
import yaml

from blueprintcheck import validate

# Why the validator fails a file the official schema passes, by the code that fails it.
REASONS = {
    "D001": "`type: redis`: the official schema still accepts the deprecated alias",
    "D003": "`autoDeploy`: Render's docs replace it with `autoDeployTrigger`; the official "
    "schema still accepts it",
    "D004": "old preview settings: the official schema marks them deprecated but accepts them",
    "R003": "`envVarKey` names a variable the target does not declare: a reference, which a "
    "schema cannot check",
    "R011": "`fromDatabase` names a database that is not defined: a reference, which a "
    "schema cannot check",
    "R012": "`fromGroup` names a group the file does not define (it may exist in the "
    "workspace): a reference, which a schema cannot check",
    "S004": "a `type: web` service without `runtime`: the official schema's `anyOf` accepts "
    "it as a static site, where Render needs a runtime for a web service",
}


@dataclass(frozen=True)
class Verdict:
    file: str
    ours: bool  # valid for the validator (--generic --strict)
    official: bool  # valid for the official schema
    codes: tuple[str, ...]

    @property
    def reason(self) -> str:
        if self.ours == self.official:
            return ""
        if not self.ours:
            return "; ".join(REASONS.get(c, f"{c}: no reason recorded") for c in self.codes)
        return "the official schema refuses it and the validator does not: no reason recorded"


def verdicts(reference: Path) -> list[Verdict]:
    schema = json.loads((reference / "render-blueprint.schema.json").read_text())
    official = jsonschema.Draft202012Validator(schema)
    results = []
    for path in sorted((reference / "blueprints").glob("*.y*ml")):
        raw = path.read_bytes()
        problems = validate(raw, file=path.name, repo=path.parent, generic=True)
        try:
            data = yaml.safe_load(raw)
            official_ok = not any(official.iter_errors(data))
        except yaml.YAMLError:
            official_ok = False
        results.append(
            Verdict(path.name, not problems, official_ok, tuple(sorted({p.code for p in problems})))
        )
    return results
