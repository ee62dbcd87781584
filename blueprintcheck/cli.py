"""Command line: ``python scripts/validate_blueprint.py`` / ``validate-blueprint``.

Several paths may be given (pre-commit passes every matching file); each is checked on its
own and its problems are listed together.

On success the text output ends with the resource summary Render's own validator prints (what
the blueprint would create); ``--format render-json`` answers in the shape of Render's
validate API, for tools written for it.

Exit status: 0 no errors (warnings allowed unless --strict), 1 problems, 2 usage error,
unreadable file or an unusable installation (Render's schema missing from the package).
Never a traceback.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from blueprintcheck import check, official
from blueprintcheck.loader import Document, LoadError, load
from blueprintcheck.problems import Problem, Severity, sort_key
from blueprintcheck.report import FORMATS, Report
from blueprintcheck.syncplan.plan import SyncPlan, sync_plan
from blueprintcheck.syncplan.source import SourceError, read_before
from blueprintcheck.variables import (
    EnvFileError,
    Variables,
    check_variables,
    parse_dotenv,
)
from servicespec import envspec

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
        help="also check the environment for this process (" + ", ".join(ROLES) + "), "
        "as production needs it unless --local",
    )
    p.add_argument(
        "--env-file",
        metavar="FILE",
        help="with --env: read the environment from this dotenv file instead",
    )
    p.add_argument(
        "--local",
        action="store_true",
        help="with --env: the development rules (nothing is required) instead of production's",
    )
    p.add_argument(
        "--repo",
        metavar="DIR",
        help="the repository the blueprint's scripts are looked up in (default: the "
        "blueprint's own folder)",
    )
    p.add_argument(
        "--fix",
        action="store_true",
        help="first rewrite deprecated spellings in place where the replacement is certain "
        "(needs ruamel.yaml)",
    )
    p.add_argument(
        "--format",
        choices=sorted(FORMATS),
        default="github" if os.environ.get("GITHUB_ACTIONS") == "true" else "text",
        help="output format (default: github under GitHub Actions, else text); render-json: "
        "the shape of Render's validate API",
    )
    p.add_argument(
        "--against",
        metavar="REF",
        help="also print the sync plan: what merging this blueprint makes Render do, against "
        "the same file at a git ref (origin/main, a commit) or another file",
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
    if (args.env_file or args.local) and not args.env:
        return _usage("--env-file and --local need --env " + "|".join(ROLES))
    if args.repo and not Path(args.repo).is_dir():
        return _usage(f"--repo {args.repo}: no such folder")
    if args.format == "render-json" and len(args.paths) > 1:
        return _usage("--format render-json answers for one blueprint, as Render's API does")
    if args.against and len(args.paths) > 1:
        return _usage("--against plans the sync of one blueprint at a time")
    try:
        return _check(args)
    except official.InstallationError as error:
        return _usage(str(error))


def _check(args: argparse.Namespace) -> int:
    problems: list[Problem] = []
    summaries = []
    plan = None
    for path in map(Path, args.paths):
        try:
            text = path.read_bytes()
        except OSError as error:
            return _usage(f"cannot read {path}: {error.strerror or error}")
        display = str(path) if path.is_absolute() or path.parent != Path(".") else path.name
        if args.fix:
            text = _fix(path, text, display)
        repo = Path(args.repo) if args.repo else path.resolve().parent
        result = check(text, file=display, repo=repo, generic=args.generic)
        problems += result.problems
        summary = result.resource_summary()
        if summary is not None:
            summaries.append(summary)
        if args.against and result.document is not None:
            try:
                plan = _sync_plan(args.against, path, result.document)
            except SourceError as error:
                return _usage(str(error))
            problems = sorted(problems + plan.problems, key=sort_key)
    notes = []
    if args.env:
        try:
            variables = _variables(args.env_file)
        except (OSError, UnicodeDecodeError, EnvFileError) as error:
            return _usage(f"cannot read the env file: {error}")
        production = not args.local
        problems = sorted(
            problems + check_variables(variables, args.env, production=production),
            key=sort_key,
        )
        source = args.env_file or "this process's environment"
        mode = (
            "production's rules (--local for the development rules)"
            if production
            else "the development rules (--local: nothing is required)"
        )
        notes.append(f"checked the {args.env} process's variables in {source} against {mode}")
    failing = [p for p in problems if args.strict or p.severity == Severity.ERROR]
    report = Report(problems, failing, notes, summaries, plan)
    print(FORMATS[args.format](report))
    return EXIT_OK if report.ok else EXIT_PROBLEMS


def _sync_plan(against: str, path: Path, after: Document) -> SyncPlan:
    """The plan of merging ``after`` over the blueprint at ``against``."""
    before = read_before(against, path)
    old = None
    if before.text is not None:
        try:
            old = load(before.text, before.label)
        except LoadError as error:
            first = error.problems[0]
            where = f":{first.line}" if first.line else ""
            raise SourceError(
                f"--against {against}: the blueprint there ({before.label}{where}) cannot be "
                f"read: {first.message}"
            ) from None
    return sync_plan(old, after, before.label)


def _fix(path: Path, raw: bytes, display: str) -> bytes:
    """Rewrite ``path`` in place (say what changed on stderr); the text to validate."""
    from blueprintcheck.fix import FixError, fix_text

    try:
        result = fix_text(raw.decode("utf-8"))
    except (FixError, UnicodeDecodeError) as error:
        print(f"{display}: not fixed: {error}", file=sys.stderr)
        return raw
    for change in result.changes:
        print(f"{display}:{change.line}: fixed {change.before} -> {change.after}", file=sys.stderr)
    for left in result.skipped:
        print(f"{display}:{left.line}: not fixed: {left.before} ({left.after})", file=sys.stderr)
    if not result.changes:
        print(f"{display}: nothing to fix", file=sys.stderr)
        return raw
    path.write_text(result.text, encoding="utf-8")
    return result.text.encode("utf-8")


def _variables(env_file: str | None) -> Variables:
    if env_file is None:
        return Variables(dict(os.environ))
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
    except BrokenPipeError:  # the reader (head, a pager) stopped reading: not our error
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        code = EXIT_PROBLEMS
    raise SystemExit(code)
