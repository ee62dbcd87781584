"""blueprintcheck: an offline validator for Render Blueprints (render.yaml).

load (YAML with line numbers) -> checks (schema, references, Render's rules, this
project's contract; each a plain function yielding coded problems) -> report (text, JSON,
Render's JSON, GitHub annotations). Needs only PyYAML and jsonschema; Render's vocabulary
comes from its official schema, vendored in ``data/``. See docs/VALIDATOR.md.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from blueprintcheck import checks
from blueprintcheck.loader import Document, LoadError, load
from blueprintcheck.problems import Problem, Severity, sort_key
from blueprintcheck.schema import check_schema
from blueprintcheck.summary import ResourceSummary, resource_summary

__all__ = ("Problem", "Result", "Severity", "check", "validate")


@dataclass(frozen=True)
class Result:
    problems: list[Problem]
    document: Document | None  # None: the file could not be read as a blueprint

    def resource_summary(self) -> ResourceSummary | None:
        return resource_summary(self.document) if self.document is not None else None


def check(
    text: str | bytes, *, file: str = "render.yaml", repo: Path | None = None, generic: bool = False
) -> Result:
    """Every problem in one blueprint, most useful first, and the blueprint as loaded."""
    try:
        document = load(text, file)
    except LoadError as error:
        return Result(sorted(error.problems, key=sort_key), None)
    problems = check_schema(document)
    problems = [p if p.file == file else _with_file(p, file) for p in problems]
    problems += checks.run(document, repo=repo or Path.cwd(), generic=generic)
    return Result(sorted(_unique(problems), key=sort_key), document)


def validate(
    text: str | bytes, *, file: str = "render.yaml", repo: Path | None = None, generic: bool = False
) -> list[Problem]:
    """Every problem in one blueprint, most useful first."""
    return check(text, file=file, repo=repo, generic=generic).problems


def _with_file(problem: Problem, file: str) -> Problem:
    from dataclasses import replace

    return replace(problem, file=file)


def _unique(problems: list[Problem]) -> list[Problem]:
    """One problem per position: a value several services reach through one anchor is
    one place to fix, reported once (at the anchor's line)."""
    seen, result = set(), []
    for problem in problems:
        where = (problem.file, problem.line, problem.column) if problem.line else problem.path
        key = (problem.code, where, problem.message)
        if key not in seen:
            seen.add(key)
            result.append(problem)
    return result
