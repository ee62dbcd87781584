"""Output formats: pure functions from problems (and notes on what was checked) to text,
one per format. A problem without a file (the process's environment) is shown as such,
never as a file that does not exist."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence

from blueprintcheck.problems import Problem, Severity, format_path
from blueprintcheck.rules import RULES


def _summary(problems: Sequence[Problem]) -> str:
    errors = sum(p.severity == Severity.ERROR for p in problems)
    warnings = len(problems) - errors
    if not problems:
        return "no problems found"
    return f"{errors} error(s), {warnings} warning(s)"


NO_FILE = "(environment)"


def text(problems: Sequence[Problem], *, ok: bool, notes: Sequence[str] = ()) -> str:
    lines = []
    for p in problems:
        where = (p.file or NO_FILE) + (f":{p.line}:{p.column}" if p.line else "")
        lines.append(f"{where}: {p.severity.value} {p.code} {p.message}")
    lines += [f"note: {note}" for note in notes]
    lines.append(("ok: " if ok else "failed: ") + _summary(problems))
    return "\n".join(lines)


def as_json(problems: Sequence[Problem], *, ok: bool, notes: Sequence[str] = ()) -> str:
    return json.dumps(
        {
            "ok": ok,
            "notes": list(notes),
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
                for p in problems
            ],
        },
        indent=2,
    )


def _escape(value: str, *, property_: bool = False) -> str:
    value = value.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    if property_:
        value = value.replace(":", "%3A").replace(",", "%2C")
    return value


def github(problems: Sequence[Problem], *, ok: bool, notes: Sequence[str] = ()) -> str:
    """GitHub Actions workflow commands: one annotation per problem, on its file and line
    where it has them (a problem of the process's environment is annotated on the run)."""
    lines = []
    for p in problems:
        level = "error" if p.severity == Severity.ERROR else "warning"
        props = [f"file={_escape(p.file, property_=True)}"] if p.file else []
        if p.file and p.line:
            props += [f"line={p.line}", f"col={p.column}"]
        props.append(f"title={_escape(p.code, property_=True)}")
        lines.append(f"::{level} {','.join(props)}::{_escape(p.message)}")
    lines += [f"::notice title=validate_blueprint::{_escape(note)}" for note in notes]
    lines.append(_summary(problems))
    return "\n".join(lines)


FORMATS: dict[str, Callable[..., str]] = {"text": text, "json": as_json, "github": github}
