"""Generate docs/VALIDATOR.md from the rule table, the example fixtures and the
agreement with Render's official schema.

    python -m blueprintcheck.docs --write     # rewrite docs/VALIDATOR.md
    python -m blueprintcheck.docs --check     # exit 1 if it is out of date
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from blueprintcheck import agreement, checks, validate  # noqa: F401 - registers the checks
from blueprintcheck.report import Report, text
from blueprintcheck.rules import RULES, Rule
from blueprintcheck.sources import SOURCES

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "VALIDATOR.md"
FIXTURES = ROOT / "tests" / "blueprintcheck" / "fixtures"
INTRO = ROOT / "blueprintcheck" / "VALIDATOR.intro.md"
FAMILIES = {
    "Y": "YAML",
    "S": "Schema",
    "R": "References",
    "P": "Render's rules",
    "D": "Deprecated forms (warnings)",
    "C": "This project's contract (not with --generic)",
    "E": "Environment (`--env`)",
    "X": "The validator itself",
}


def reference_dir() -> Path:
    return Path(os.environ.get("BLUEPRINT_REFERENCE_DIR", ROOT.parent / "shared" / "reference"))


def example(code: str) -> tuple[str, str] | None:
    fixture = FIXTURES / f"{code}.yaml"
    if not fixture.exists():
        return None
    body = fixture.read_text().split("\n", 1)[1]  # drop the "# expect:" line the tests read
    problems = validate(body, file="render.yaml", repo=ROOT, generic=not code.startswith("C"))
    return body, text(Report(problems, failing=problems))


def codes_section() -> str:
    lines = ["## Codes", "", "| Code | Name | Severity | Meaning |", "|---|---|---|---|"]
    for rule in sorted(RULES.values(), key=lambda r: r.code):
        lines.append(
            f"| [{rule.code}](#{rule.anchor}) | {rule.name} | {_severity(rule)} | {rule.summary} |"
        )
    family = None
    for rule in sorted(RULES.values(), key=lambda r: r.code):
        if rule.code[0] != family:
            family = rule.code[0]
            lines += ["", f"## {FAMILIES[family]}"]
        lines += [
            "",
            f"### {rule.code} {rule.name}",
            "",
            f"*{_severity(rule)}*"
            + ("" if rule.generic else ", this project's contract")
            + f". {rule.summary}"
            + (
                f" Outside `--generic` it is an error: {rule.contract_reason}."
                if rule.contract_severity
                else ""
            ),
            "",
            f"**Fix:** {rule.fix}",
        ]
        if rule.code in SOURCES:
            lines += ["", f"**Why an error:** {SOURCES[rule.code]}."]
        shown = example(rule.code)
        if shown:
            body, output = shown
            lines += ["", "```yaml", body.rstrip("\n"), "```", "", "```text", output, "```"]
    return "\n".join(lines)


def _severity(rule: Rule) -> str:
    if rule.contract_severity is None:
        return rule.severity.value
    return f"{rule.severity.value} ({rule.contract_severity.value} in the contract)"


AGREEMENT_HEADING = "## Agreement with Render's official JSON Schema"


def has_reference() -> bool:
    return (reference_dir() / "blueprints").is_dir()


def agreement_section() -> str:
    reference = reference_dir()
    results = agreement.verdicts(reference)
    agreeing = sum(v.ours == v.official for v in results)
    lines = [
        AGREEMENT_HEADING,
        "",
        f"On the {len(results)} real-world blueprints of the reference corpus "
        "(`$BLUEPRINT_REFERENCE_DIR/blueprints`), the validator in `--generic --strict` mode "
        "(any problem, warnings included, fails a file) and Render's official schema "
        f"agree on **{agreeing} of {len(results)}** files "
        f"({100 * agreeing / len(results):.0f}%): both valid for "
        f"{sum(v.ours and v.official for v in results)}, both invalid for "
        f"{sum(not v.ours and not v.official for v in results)}. Every disagreement:",
        "",
        "| File | Validator | Official schema | Why |",
        "|---|---|---|---|",
    ]
    for v in results:
        if v.ours != v.official:
            lines.append(
                f"| `{v.file}` | {'valid' if v.ours else 'invalid'} | "
                f"{'valid' if v.official else 'invalid'} | {v.reason} |"
            )
    lines += [
        "",
        "Where the official schema reports a knock-on error (its top-level "
        "`unevaluatedProperties` flags all of `services` when anything inside one "
        "service is wrong), the validator reports the inner cause at its own line.",
    ]
    return "\n".join(lines)


def render() -> str:
    """The whole page; without the reference data, everything up to the agreement section."""
    parts = [INTRO.read_text().rstrip("\n"), codes_section()]
    if has_reference():
        parts.append(agreement_section())
    return "\n\n".join(parts) + "\n"


def current() -> str:
    """The page as committed, cut like ``render()`` when the reference data is absent."""
    text = DOC.read_text() if DOC.exists() else ""
    if not has_reference() and AGREEMENT_HEADING in text:
        text = text.split("\n\n" + AGREEMENT_HEADING, 1)[0] + "\n"
    return text


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m blueprintcheck.docs")
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument("--write", action="store_true")
    mode.add_argument("--check", action="store_true")
    args = parser.parse_args(argv)
    expected = render()
    if args.write:
        if not has_reference():
            print(
                f"Render's reference data is not at {reference_dir()}; set BLUEPRINT_REFERENCE_DIR",
                file=sys.stderr,
            )
            return 2
        DOC.write_text(expected)
        print(f"wrote {DOC.relative_to(ROOT)}")
        return 0
    if current() != expected:
        print(
            "docs/VALIDATOR.md is out of date: run python -m blueprintcheck.docs --write",
            file=sys.stderr,
        )
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
