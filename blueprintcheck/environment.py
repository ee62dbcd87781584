"""``--env ROLE``: check an environment (the process's, or a dotenv file) against the
env spec, as the entrypoints do. Names only: a value is never printed."""

from __future__ import annotations

import re
from collections.abc import Mapping

from blueprintcheck.problems import Problem
from remosphere import envspec

_LINE = re.compile(r"^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*?)\s*$")


class EnvFileError(Exception):
    pass


def parse_dotenv(text: str, file: str) -> dict[str, str]:
    """``NAME=value`` lines; ``#`` comments, blank lines, ``export`` and quotes allowed."""
    values = {}
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        match = _LINE.match(line)
        if not match:
            raise EnvFileError(f"{file}:{number}: expected NAME=value")
        name, value = match.groups()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        elif " #" in value:
            value = value.split(" #", 1)[0].rstrip()
        values[name] = value
    return values


def check_environment(environ: Mapping[str, str], role: str, *, file: str) -> list[Problem]:
    problems = []
    for problem in envspec.check(environ, role):
        code = "E001" if problem.message.startswith("missing") else "E002"
        problems.append(
            Problem(
                code, f"{problem.name}: {problem.message}", file=file, path=("env", problem.name)
            )
        )
    return problems
