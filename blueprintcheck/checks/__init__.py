"""The checks: plain functions, registered with a code, run over a loaded blueprint.

Importing this package registers every check (one module per family).
"""

from __future__ import annotations

from pathlib import Path as FsPath

from blueprintcheck.checks import (  # noqa: F401 - importing registers the checks
    broker,
    build_sources,
    capacity,
    contract,
    deprecations,
    hazards,
    platform,
    references,
    schedules,
    services,
    storage,
    values,
)
from blueprintcheck.loader import Document
from blueprintcheck.problems import Problem
from blueprintcheck.rules import RULES, Severity, describe

describe(
    "X001",
    "internal-error",
    Severity.ERROR,
    "A check failed on this input: a bug in the validator, not in the blueprint.",
    "Report it with the blueprint that caused it.",
)


def run(document: Document, *, repo: FsPath, generic: bool) -> list[Problem]:
    problems = []
    for rule in RULES.values():
        if rule.check is None or (generic and not rule.generic):
            continue
        kwargs = {} if rule.generic else {"repo": repo}
        try:
            findings = list(rule.check(document, **kwargs))
        except Exception as error:  # a bug here must not hide the other problems
            problems.append(
                Problem(
                    "X001",
                    f"internal error in check {rule.code} "
                    f"({type(error).__name__}: {error}); please report it",
                    file=document.file,
                )
            )
            continue
        stricter = not generic and rule.contract_severity is not None
        for finding in findings:
            line, column = document.position(finding.path, at_key=finding.at_key)
            severity = finding.severity or rule.severity
            message = finding.message
            if stricter:
                severity, message = rule.contract_severity, f"{message}: {rule.contract_reason}"
            problems.append(
                Problem(
                    code=rule.code,
                    message=message,
                    path=finding.path,
                    severity=severity,
                    line=line,
                    column=column,
                    file=document.file,
                    at_key=finding.at_key,
                )
            )
    return problems
