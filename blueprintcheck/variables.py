"""Environment variables as the validator reads them (the process's, or a dotenv file's),
and ``--env ROLE``: checking them against the env spec, as the entrypoints do, in
production mode unless ``--local``. Names only: a value is never printed. A problem in a
dotenv file points at its line; one in the process's environment has no file."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from blueprintcheck.problems import Problem
from servicespec import envspec

_LINE = re.compile(r"^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=(.*)$")
_QUOTED = re.compile(r"""^\s*(["'])(.*?)\1\s*(?:#.*)?$""")
_COMMENT = re.compile(r"\s#.*$")


class EnvFileError(Exception):
    pass


@dataclass(frozen=True)
class Variables:
    values: Mapping[str, str]
    file: str | None = None  # None: the process's own environment
    lines: Mapping[str, int] = field(default_factory=dict)  # name -> 1-based line


def parse_dotenv(text: str, file: str) -> Variables:
    """``NAME=value`` lines; ``#`` comments, blank lines, ``export`` and quotes allowed.
    A name set twice keeps its last value and line, as shells and Docker read it."""
    values, lines = {}, {}
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        match = _LINE.match(line)
        if not match:
            raise EnvFileError(f"{file}:{number}: expected NAME=value")
        name, value = match.groups()
        # A "#" after whitespace starts a comment, as python-dotenv reads it ("A= # x" is
        # empty); "A=#x" and "A=a#b" keep theirs, and so does a quoted value.
        quoted = _QUOTED.match(value)
        value = quoted.group(2) if quoted else _COMMENT.sub("", value).strip()
        values[name], lines[name] = value, number
    return Variables(values, file, lines)


def check_variables(variables: Variables, role: str, *, production: bool) -> list[Problem]:
    problems = []
    for problem in envspec.check(variables.values, role, production=production):
        code = "E001" if problem.message.startswith("missing") else "E002"
        line = variables.lines.get(problem.name)
        problems.append(
            Problem(
                code,
                f"{problem.name}: {problem.message}",
                file=variables.file,
                path=("env", problem.name),
                line=line,
                column=1 if line else None,
            )
        )
    return problems
