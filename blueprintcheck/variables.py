"""Environment variables as the validator reads them (the process's, or a dotenv file's),
and ``--env ROLE``: checking them against the env spec, as the entrypoints do, in
production mode unless ``--local``. Names only: a value is never printed. A problem in a
dotenv file points at its line; one in the process's environment has no file."""

from __future__ import annotations

import io
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from dotenv import dotenv_values
from dotenv.parser import Original, parse_stream

from blueprintcheck.problems import Problem
from servicespec import envspec


class EnvFileError(Exception):
    pass


@dataclass(frozen=True)
class Variables:
    values: Mapping[str, str]
    file: str | None = None  # None: the process's own environment
    lines: Mapping[str, int] = field(default_factory=dict)  # name -> 1-based line


def parse_dotenv(text: str, file: str) -> Variables:
    """An env file, read exactly as python-dotenv reads it (quotes and their escapes,
    multi-line quoted values, ``export``, comments, ``${NAME}`` from the names above it or
    this process's environment), remembering the line each name is set on. A line
    python-dotenv cannot read, or a name with no ``=``, is refused with its line number:
    never misread. A name set twice keeps its last value and line."""
    lines: dict[str, int] = {}
    for binding in parse_stream(io.StringIO(text)):
        if binding.error:
            raise EnvFileError(f"{file}:{binding.original.line}: expected NAME=value")
        if binding.key is not None:
            if binding.value is None:
                raise EnvFileError(
                    f"{file}:{binding.original.line}: {binding.key} has no '=': write "
                    f"{binding.key}= for an empty value"
                )
            lines[binding.key] = _line_of(binding.key, binding.original)
    values = dotenv_values(stream=io.StringIO(text), interpolate=True)
    return Variables({name: value or "" for name, value in values.items()}, file, lines)


def _line_of(name: str, original: Original) -> int:
    """The line ``name`` is set on: python-dotenv's statement may begin with the blank and
    comment lines before it."""
    match = re.search(rf"^[ \t]*(?:export[ \t]+)?{re.escape(name)}\b", original.string, re.M)
    before = original.string[: match.start()] if match else ""
    return original.line + before.count("\n")


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
