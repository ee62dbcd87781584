"""Every problem code: its name, severity and documentation, in one table.

Checks register with ``@rule(...)``; the loader (Y), the schema (S) and the environment
check (E) register their codes with ``describe(...)``. ``docs/VALIDATOR.md`` is generated
from this table and the example fixtures (``python -m blueprintcheck.docs --write``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from blueprintcheck.problems import Path, Severity

DOCS_URL = "https://github.com/remosphere/remosphere-backend/blob/main/docs/VALIDATOR.md"


@dataclass(frozen=True)
class Finding:
    """What a check yields: where, and what is wrong there. The runner adds the rest."""

    path: Path
    message: str
    at_key: bool = False
    severity: Severity | None = None  # overrides the rule's own severity


Check = Callable[..., Iterable[Finding]]


@dataclass(frozen=True)
class Rule:
    code: str
    name: str
    severity: Severity
    summary: str
    fix: str
    generic: bool = True  # False: this project's contract, skipped with --generic
    check: Check | None = None
    # A Render rule this project's contract holds more strictly (outside --generic).
    contract_severity: Severity | None = None
    contract_reason: str = ""

    @property
    def anchor(self) -> str:
        return f"{self.code.lower()}-{self.name}"

    @property
    def url(self) -> str:
        return f"{DOCS_URL}#{self.anchor}"


RULES: dict[str, Rule] = {}


def describe(
    code: str, name: str, severity: Severity, summary: str, fix: str, *, generic: bool = True
) -> Rule:
    rule_ = Rule(code, name, severity, summary, fix, generic)
    RULES[code] = rule_
    return rule_


def rule(
    code: str,
    name: str,
    severity: Severity,
    summary: str,
    fix: str,
    *,
    generic: bool = True,
    contract_severity: Severity | None = None,
    contract_reason: str = "",
) -> Callable[[Check], Check]:
    def register(check: Check) -> Check:
        RULES[code] = Rule(
            code, name, severity, summary, fix, generic, check, contract_severity, contract_reason
        )
        return check

    return register


E, W = Severity.ERROR, Severity.WARNING

describe(
    "Y001",
    "invalid-yaml",
    E,
    "The file is not valid YAML.",
    "Fix the syntax at the line and column given (indentation, an unclosed bracket or "
    "quote, a tab).",
)
describe(
    "Y002",
    "duplicate-key",
    E,
    "A mapping sets the same key twice. YAML keeps only the last one, silently.",
    "Keep one of the two entries.",
)
describe(
    "Y003",
    "root-not-mapping",
    E,
    "The top level is a list or a single value.",
    "Start the file with keys such as `services:` and `databases:`.",
)
describe(
    "Y004",
    "empty-file",
    E,
    "The file is empty or holds only comments.",
    "Declare at least one service or database.",
)
describe(
    "Y005",
    "too-large",
    E,
    "The file, or what its aliases expand to, is far larger than any blueprint.",
    "Remove the alias chain (an 'alias bomb') or split the file.",
)
describe(
    "S001",
    "unknown-key",
    E,
    "A key that Render does not know at this place: an error where Render's own schema "
    "refuses it, a warning where Render's schema leaves the mapping open (a header, a "
    "route, an `ipAllowList` entry, `scaling`, a `fromService`): Render accepts the file "
    "and ignores the key, which is then most likely a typo that does nothing.",
    "Fix the spelling (the message suggests the closest key) or remove it.",
)
describe(
    "S002",
    "wrong-type",
    E,
    "A value of the wrong type (a string where a number goes...).",
    "Write the value as the type named in the message; quote numbers meant as strings.",
)
describe(
    "S003",
    "invalid-value",
    E,
    "A value outside the allowed set (service type, runtime, plan, region, maxmemoryPolicy...).",
    "Use one of the values the message lists.",
)
describe("S004", "missing-key", E, "A required key is missing.", "Add the key named.")
describe(
    "S005", "schema", E, "Another rule of the Blueprint schema is broken.", "Follow the message."
)
describe(
    "E001",
    "missing-variable",
    E,
    "A variable the env spec requires for this process is not set (`--env`: production's "
    "rules unless `--local`).",
    "Set it in the process's environment or the `--env-file`.",
    generic=False,
)
describe(
    "E002",
    "malformed-variable",
    E,
    "A variable is set but not in its expected format (`--env`).",
    "Fix its value: the message says what is expected (never what was found).",
    generic=False,
)
