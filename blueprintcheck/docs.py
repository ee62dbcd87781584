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
from blueprintcheck.loader import load
from blueprintcheck.report import Report, text
from blueprintcheck.rules import RULES, Rule
from blueprintcheck.sources import SOURCES
from blueprintcheck.syncplan.plan import sync_plan

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "VALIDATOR.md"
FIXTURES = ROOT / "tests" / "blueprintcheck" / "fixtures"
PAIRS = ROOT / "tests" / "blueprintcheck" / "syncplan"  # before/after, one per M code
SPEC_PAGE = "render.com/docs/blueprint-spec"
INTRO = ROOT / "blueprintcheck" / "VALIDATOR.intro.md"
FAMILIES = {
    "Y": "YAML",
    "S": "Schema",
    "R": "References",
    "P": "Render's rules",
    "D": "Deprecated forms (warnings)",
    "C": "This project's contract (not with --generic)",
    "M": "The sync plan's codes (`--against`)",
    "E": "Environment (`--env`)",
    "X": "The validator itself",
}


def reference_dir() -> Path:
    return Path(os.environ.get("BLUEPRINT_REFERENCE_DIR", ROOT.parent / "shared" / "reference"))


def example(code: str) -> tuple[str, str] | None:
    if code.startswith("M"):
        return plan_example(PAIRS / code)
    fixture = FIXTURES / f"{code}.yaml"
    if not fixture.exists():
        return None
    body = fixture.read_text().split("\n", 1)[1]  # drop the "# expect:" line the tests read
    problems = validate(body, file="render.yaml", repo=ROOT, generic=not code.startswith("C"))
    return body, text(Report(problems, failing=problems))


def plan_example(pair: Path, *, whole: bool = False) -> tuple[str, str] | None:
    """A pair of blueprints (before, after) and what ``--against`` says of it: its problems,
    and with ``whole`` the plan too."""
    if not pair.is_dir():
        return None
    before = (pair / "before.yaml").read_text()
    after = (pair / "after.yaml").read_text()
    if after.startswith("# expect:"):  # the line the tests read
        after = after.split("\n", 1)[1]
    against = "origin/main:render.yaml"
    plan = sync_plan(load(before, "before.yaml"), load(after, "render.yaml"), against)
    report = Report(plan.problems, failing=plan.problems, plan=plan if whole else None)
    shown = f"# before (origin/main)\n{before.rstrip()}\n\n# after (this pull request)\n{after}"
    return shown, text(report)


# The warnings' sources (an error's is under its code: blueprintcheck/sources.py).
PLAN_SOURCES = {
    "M002": "render.com/docs/infrastructure-as-code: a resource removed from the blueprint is "
    "not deleted; it is no longer managed by the blueprint, and runs (and is billed) on",
    "M006": "Render's Blueprint mistakes, 3 (render-oss/skills, render-blueprints): "
    "`readReplicas` is authoritative, `[]` destroys every replica",
    "M007": "Render's Blueprint mistakes, 2: a sync replaces both build filter lists, a "
    "missing one with an empty one",
    "M008": "render.com/docs/postgresql-creating-connecting (the IP allow list; without one, "
    "every address may connect) and render.com/docs/key-value",
    "M009": "render.com/pricing (the monthly prices, `blueprintcheck/syncplan/prices.py` with "
    "the date they were checked); render.com/docs/scaling (a new instance type restarts the "
    "service)",
    "M010": f"{SPEC_PAGE}#environment-variables: a sync sets a service's variables to the "
    "blueprint's",
    "M011": f"{SPEC_PAGE}#prompting-for-secret-values: Render asks for each `sync: false` "
    "value when the blueprint is synced",
}


def plan_section() -> str:
    shown, output = plan_example(PAIRS / "example", whole=True) or ("", "")
    return "\n".join([
        "## The sync plan (`--against`)", "",
        "`python scripts/validate_blueprint.py --against origin/main render.yaml` also says "
        "what merging the blueprint makes Render do at the next sync, offline: the same file "
        "at a git ref (or another file) is the blueprint before. Resources are matched as "
        "Render matches them, by name within their scope (the top level, or one environment "
        "of a project): a new name is a new resource, and a resource the blueprint drops is "
        "left running, no longer managed, still billed (render.com/docs/infrastructure-as-code). "
        "The plan lists what is created, what changes (field by field, old -> new; variables "
        "by name, never a value) and what is left unmanaged, with the monthly price before and "
        "after (`blueprintcheck/syncplan/prices.py`: render.com/pricing, and the date it was "
        "checked); each change that destroys, fails or costs is an M-coded problem at its key. "
        "Formats: text, `json` (the plan as data, `sync_plan`), `github` (annotations on the "
        "changed lines) and `markdown` (a summary for the pull request; the project's CI "
        "posts it). A ref that does not exist, or a blueprint there that cannot be read, is a "
        "message and exit status 2; a file missing at the ref makes every resource a create.",
        "", "```yaml", shown.rstrip("\n"), "```", "", "```text", output, "```",
        "", "Where each claim about Render comes from:", "",
        *[f"- {code}: {source}" for code, source in PLAN_SOURCES.items()],
    ])  # fmt: skip


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
    parts = [INTRO.read_text().rstrip("\n"), plan_section(), codes_section()]
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
