"""blueprintcheck: an offline validator for Render Blueprints (render.yaml).

load (YAML with line numbers) -> checks (schema, references, Render's rules, this
project's contract; each a plain function yielding coded problems) -> report (text, JSON,
GitHub annotations). Needs only PyYAML and jsonschema. See docs/VALIDATOR.md.
"""

from __future__ import annotations

from pathlib import Path

from blueprintcheck import checks
from blueprintcheck.loader import LoadError, load
from blueprintcheck.problems import Problem, Severity, sort_key
from blueprintcheck.schema import check_schema

__all__ = ("Problem", "Severity", "validate")


def validate(
    text: str | bytes, *, file: str = "render.yaml", repo: Path | None = None, generic: bool = False
) -> list[Problem]:
    """Every problem in one blueprint, most useful first."""
    try:
        document = load(text, file)
    except LoadError as error:
        return sorted(error.problems, key=sort_key)
    problems = check_schema(document)
    problems = [p if p.file == file else _with_file(p, file) for p in problems]
    problems += checks.run(document, repo=repo or Path.cwd(), generic=generic)
    return sorted(_unique(problems), key=sort_key)


def _with_file(problem: Problem, file: str) -> Problem:
    from dataclasses import replace

    return replace(problem, file=file)


def _unique(problems: list[Problem]) -> list[Problem]:
    seen, result = set(), []
    for problem in problems:
        key = (problem.code, problem.path, problem.message)
        if key not in seen:
            seen.add(key)
            result.append(problem)
    return result
