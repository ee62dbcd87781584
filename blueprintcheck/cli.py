"""Command line: ``python scripts/validate_blueprint.py`` / ``validate-blueprint``.

Several paths may be given (pre-commit passes every matching file); each is checked on its
own and its problems are listed together.

Exit status: 0 no errors (warnings allowed unless --strict), 1 problems, 2 usage error or
unreadable file. Never a traceback.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from blueprintcheck import validate
from blueprintcheck.environment import EnvFileError, check_environment, parse_dotenv
from blueprintcheck.problems import Problem, Severity, sort_key
from blueprintcheck.report import FORMATS
from remosphere import envspec

EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE = 0, 1, 2
ROLES = envspec.PROCESSES


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="validate_blueprint.py",
        description="Check a Render Blueprint (render.yaml) offline: YAML, Render's schema and "
        "rules, references, and this project's contract; optionally an environment.",
        epilog="Exit status: 0 no errors, 1 problems found, 2 usage error or unreadable file. "
        "Every code: docs/VALIDATOR.md.",
    )
    p.add_argument(
        "paths",
        nargs="*",
        metavar="PATH",
        default=["render.yaml"],
        help="blueprint(s) to check (default: render.yaml)",
    )
    p.add_argument(
        "--env",
        choices=ROLES,
        metavar="ROLE",
        help="also check the environment for this process (" + ", ".join(ROLES) + ")",
    )
    p.add_argument(
        "--env-file",
        metavar="FILE",
        help="with --env: read the environment from this dotenv file instead",
    )
    p.add_argument(
        "--format",
        choices=sorted(FORMATS),
        default="github" if os.environ.get("GITHUB_ACTIONS") == "true" else "text",
        help="output format (default: github under GitHub Actions, else text)",
    )
    p.add_argument("--strict", action="store_true", help="warnings fail too")
    p.add_argument(
        "--generic",
        action="store_true",
        help="only Render's own rules (any blueprint), not this project's contract",
    )
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if args.env_file and not args.env:
        return _usage("--env-file needs --env " + "|".join(ROLES))
    problems: list[Problem] = []
    for path in map(Path, args.paths):
        try:
            text = path.read_bytes()
        except OSError as error:
            return _usage(f"cannot read {path}: {error.strerror or error}")
        display = str(path) if path.is_absolute() or path.parent != Path(".") else path.name
        # Scripts a blueprint names are looked up next to it.
        problems += validate(text, file=display, repo=path.resolve().parent, generic=args.generic)
    if args.env:
        try:
            environ = _environment(args.env_file)
        except (OSError, EnvFileError) as error:
            return _usage(f"cannot read the env file: {error}")
        problems = sorted(
            problems + check_environment(environ, args.env, file=args.env_file or "environment"),
            key=sort_key,
        )
    failing = [p for p in problems if args.strict or p.severity == Severity.ERROR]
    ok = not failing
    print(FORMATS[args.format](problems, ok=ok))
    return EXIT_OK if ok else EXIT_PROBLEMS


def _environment(env_file: str | None) -> dict[str, str]:
    if env_file is None:
        return dict(os.environ)
    return parse_dotenv(Path(env_file).read_text(encoding="utf-8"), env_file)


def _usage(message: str) -> int:
    print(f"validate_blueprint.py: error: {message}", file=sys.stderr)
    return EXIT_USAGE


def run() -> None:
    """Console-script entry point."""
    try:
        code = main()
    except KeyboardInterrupt:
        code = 130
    raise SystemExit(code)
