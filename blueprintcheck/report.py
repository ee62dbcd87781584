"""Output formats: pure functions from a report (the problems, which of them fail, notes on
what was checked, and the resource summary of each valid blueprint) to text, one per
format. A problem without a file (the process's environment) is shown as such, never as a
file that does not exist."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from blueprintcheck.problems import Problem, Severity, format_path
from blueprintcheck.rules import RULES
from blueprintcheck.summary import ResourceSummary
from blueprintcheck.syncplan import report as plan_report
from blueprintcheck.syncplan.plan import SyncPlan


@dataclass(frozen=True)
class Report:
    problems: Sequence[Problem]
    failing: Sequence[Problem]  # the errors, and the warnings too with --strict
    notes: Sequence[str] = ()
    summaries: Sequence[ResourceSummary] = ()  # what each blueprint would create
    plan: SyncPlan | None = None  # with --against: what merging it makes a sync do

    @property
    def ok(self) -> bool:
        return not self.failing


def _summary(problems: Sequence[Problem]) -> str:
    errors = sum(p.severity == Severity.ERROR for p in problems)
    warnings = len(problems) - errors
    if not problems:
        return "no problems found"
    return f"{errors} error(s), {warnings} warning(s)"


NO_FILE = "(environment)"


def text(report: Report) -> str:
    lines = []
    for p in report.problems:
        where = (p.file or NO_FILE) + (f":{p.line}:{p.column}" if p.line else "")
        lines.append(f"{where}: {p.severity.value} {p.code} {p.message}")
    if report.ok:
        for summary in report.summaries:  # as Render's CLI: "<file> is valid", then "Plan summary"
            lines += [f"{summary.file} is valid", "", "Plan summary:", *summary.lines(), ""]
    if report.plan is not None:
        lines += [*plan_report.text(report.plan), ""]
    lines += [f"note: {note}" for note in report.notes]
    lines.append(("ok: " if report.ok else "failed: ") + _summary(report.problems))
    return "\n".join(lines)


def as_json(report: Report) -> str:
    return json.dumps(
        {
            "ok": report.ok,
            "notes": list(report.notes),
            **({"sync_plan": plan_report.as_data(report.plan)} if report.plan else {}),
            "plans": [{"file": s.file, **s.as_render()} for s in report.summaries]
            if report.ok
            else [],
            "problems": [
                {
                    "severity": p.severity.value,
                    "code": p.code,
                    "name": RULES[p.code].name if p.code in RULES else None,
                    "message": p.message,
                    "file": p.file,
                    "line": p.line,
                    "column": p.column,
                    "path": format_path(p.path),
                    "url": RULES[p.code].url if p.code in RULES else None,
                }
                for p in report.problems
            ],
        },
        indent=2,
    )


def render_json(report: Report) -> str:
    """The shape of Render's validate API (and ``render blueprints validate -o json``):
    ``{valid, errors: [{error, path, line, column}], plan: {...}}``, with ``errors`` only
    when invalid and ``plan`` only when valid, as there. Each problem also carries its
    ``code``; warnings that do not fail the file are listed apart, under ``warnings``."""

    def entry(p: Problem) -> dict:
        found: dict = {"error": p.message}
        if p.path:
            found["path"] = format_path(p.path)
        if p.line:
            found.update(line=p.line, column=p.column)
        return {**found, "code": p.code}

    answer: dict = {"valid": report.ok}
    if not report.ok:
        answer["errors"] = [entry(p) for p in report.failing]
    elif report.summaries:
        answer["plan"] = report.summaries[0].as_render()
    warnings = [entry(p) for p in report.problems if p not in report.failing]
    if warnings:
        answer["warnings"] = warnings
    return json.dumps(answer, indent=2)


def _escape(value: str, *, property_: bool = False) -> str:
    value = value.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    if property_:
        value = value.replace(":", "%3A").replace(",", "%2C")
    return value


def github(report: Report) -> str:
    """GitHub Actions workflow commands: one annotation per problem, on its file and line
    where it has them (a problem of the process's environment is annotated on the run)."""
    lines = []
    for p in report.problems:
        level = "error" if p.severity == Severity.ERROR else "warning"
        props = [f"file={_escape(p.file, property_=True)}"] if p.file else []
        if p.file and p.line:
            props += [f"line={p.line}", f"col={p.column}"]
        props.append(f"title={_escape(p.code, property_=True)}")
        lines.append(f"::{level} {','.join(props)}::{_escape(p.message)}")
    lines += [f"::notice title=validate_blueprint::{_escape(note)}" for note in report.notes]
    if report.ok:
        for summary in report.summaries:
            said = "; ".join(" ".join(line.split()) for line in summary.lines())
            where = _escape(summary.file, property_=True)
            lines.append(f"::notice file={where},title=plan summary::{_escape(said)}")
    if report.plan is not None:
        said = "; ".join(line.strip() for line in plan_report.text(report.plan))
        lines.append(f"::notice title=sync plan::{_escape(said)}")
    lines.append(_summary(report.problems))
    return "\n".join(lines)


def markdown(report: Report) -> str:
    """A pull request's summary: the sync plan with its problems, or the problems alone."""
    if report.plan is not None:
        text_ = plan_report.markdown(report.plan, list(report.problems))
    else:
        rows = [
            f"| {p.severity.value} | {p.code} | {p.line or ''} | {p.message} |"
            for p in report.problems
        ]
        head = ["## Blueprint check", "", "| | Code | Line | Problem |", "|---|---|---|---|"]
        text_ = "\n".join([*head, *rows]) if rows else "## Blueprint check"
    return text_ + "\n\n" + ("ok: " if report.ok else "failed: ") + _summary(report.problems)


FORMATS: dict[str, Callable[[Report], str]] = {
    "text": text,
    "json": as_json,
    "render-json": render_json,
    "github": github,
    "markdown": markdown,
}
