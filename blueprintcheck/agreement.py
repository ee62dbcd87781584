"""Compare the validator with Render's official JSON Schema (the copy vendored in
``blueprintcheck/data/``) on real-world blueprints.

Both judge each file of ``$BLUEPRINT_REFERENCE_DIR/blueprints`` in the strictest
generic sense (the validator with --generic --strict: any problem fails the file); every
disagreement gets its reason from the codes involved. docs/VALIDATOR.md shows the result.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import jsonschema
import yaml

from blueprintcheck import official, validate

# Why the validator fails a file the official schema passes, by the code that fails it.
REASONS = {
    "D001": "`type: redis`: the official schema still accepts the deprecated alias",
    "D003": "`autoDeploy`: Render's docs replace it with `autoDeployTrigger`; the official "
    "schema still accepts it",
    "D004": "old preview settings: the official schema marks them deprecated but accepts them",
    "D005": "legacy plan names (`starter`...): the official schema still lists them beside the "
    "2026 names",
    "R003": "`envVarKey` names a variable the target does not declare: a reference, which a "
    "schema cannot check",
    "R011": "`fromDatabase` names a database that is not defined: a reference, which a "
    "schema cannot check",
    "R012": "`fromGroup` names a group the file does not define (it may exist in the "
    "workspace): a reference, which a schema cannot check",
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
    schema = jsonschema.Draft202012Validator(official.document())
    results = []
    for path in sorted((reference / "blueprints").glob("*.y*ml")):
        raw = path.read_bytes()
        problems = validate(raw, file=path.name, repo=path.parent, generic=True)
        try:
            data = yaml.safe_load(raw)
            official_ok = not any(schema.iter_errors(data))
        except yaml.YAMLError:
            official_ok = False
        results.append(
            Verdict(path.name, not problems, official_ok, tuple(sorted({p.code for p in problems})))
        )
    return results
