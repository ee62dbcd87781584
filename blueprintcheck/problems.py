"""What every check returns: frozen problems with a code, a severity and a position."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum

Path = tuple[str | int, ...]


class Severity(str, Enum):  # StrEnum is 3.11+; the validator runs on 3.10 too
    ERROR = "error"
    WARNING = "warning"

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True)
class Problem:
    code: str
    message: str
    path: Path = ()
    severity: Severity = Severity.ERROR
    line: int | None = None  # 1-based
    column: int | None = None  # 1-based
    file: str | None = "render.yaml"  # None: not in a file (the process's environment)
    # Where ``line``/``column`` should point: at the key (an unexpected key) or its value.
    at_key: bool = field(default=False, compare=False)


def format_path(path: Path) -> str:
    """``("services", 1, "envVars", 2, "key")`` -> ``services[1].envVars[2].key``."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def sort_key(problem: Problem) -> tuple:
    """Most useful first: errors before warnings, then by position in the file."""
    return (
        problem.severity != Severity.ERROR,
        problem.line if problem.line is not None else 0,
        problem.column or 0,
        problem.code,
    )
