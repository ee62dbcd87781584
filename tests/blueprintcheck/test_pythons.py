"""The validator runs on every Python a pre-commit user may have, 3.10 to 3.14 (the
application and its image stay on 3.11): each interpreter this machine has, or that uv
can fetch, gets a virtualenv with the validator's own two dependencies, and judges the
project's blueprint and every fixture exactly as the test interpreter does."""

from __future__ import annotations

import functools
import glob
import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.blueprintcheck.conftest import ROOT

VERSIONS = ["3.10", "3.11", "3.12", "3.13", "3.14"]
# Kept between runs, like the image test's base (README: clearing the caches).
CACHE = Path(os.environ.get("VALIDATOR_PYTHONS_CACHE", "/var/tmp/remosphere-validator-pythons"))  # noqa: S108
UV = Path(sys.executable).parent / "uv"

# Runs inside each interpreter: every fixture and the project's blueprint, as codes+lines.
JUDGE = """
import json, pathlib, sys
sys.path.insert(0, sys.argv[1])
from blueprintcheck import validate
root = pathlib.Path(sys.argv[1])
files = sorted((root / "tests/blueprintcheck/fixtures").glob("[A-Z][0-9][0-9][0-9].yaml"))
result = {}
for path in [*files, root / "render.yaml"]:
    problems = validate(path.read_bytes(), file=path.name, repo=root,
                        generic=not path.stem.startswith(("C", "render")))
    result[path.name] = [[p.code, p.line, p.severity.value] for p in problems]
print(json.dumps(result))
"""


def find_python(version: str) -> str | None:
    """This machine's interpreter for ``version`` (pyenv's, or on PATH), else one uv has
    or can download; ``None`` when there is none."""
    candidates = sorted(glob.glob(os.path.expanduser(f"~/.pyenv/versions/{version}.*/bin/python3")))
    candidates += filter(None, [shutil.which(f"python{version}")])
    for candidate in candidates:
        if _reports(candidate, version):
            return candidate
    if UV.exists():
        for command in (["find", version], ["install", version]):
            found = subprocess.run(
                [str(UV), "python", *command], capture_output=True, text=True, timeout=120
            )
            if command[0] == "install" and found.returncode == 0:
                found = subprocess.run([str(UV), "python", "find", version],
                                       capture_output=True, text=True, timeout=30)  # fmt: skip
            path = found.stdout.strip()
            if found.returncode == 0 and path and _reports(path, version):
                return path
    return None


def _reports(executable: str, version: str) -> bool:
    try:
        said = subprocess.run(
            [executable, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
            capture_output=True,
            text=True,
            timeout=30,
        )
    except OSError:
        return False
    return said.returncode == 0 and said.stdout.strip() == version


def validator_env(python: str, version: str) -> Path:
    """A virtualenv with only what ``pip install .`` gives the hook: PyYAML and
    jsonschema. Kept between runs (keyed by the interpreter and the dependencies)."""
    import tomllib

    dependencies = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    key = hashlib.sha256(f"{python}{dependencies}".encode()).hexdigest()[:12]
    env = CACHE / f"{version}-{key}"
    if not (env / "ready").exists():
        shutil.rmtree(env, ignore_errors=True)
        subprocess.run([python, "-m", "venv", str(env)], check=True, timeout=120)
        subprocess.run(
            [str(env / "bin/python"), "-m", "pip", "install", "-q", *dependencies],
            check=True,
            timeout=600,
        )
        (env / "ready").touch()
    return env


def judged(python: str) -> dict:
    ran = subprocess.run([python, "-c", JUDGE, str(ROOT)], capture_output=True, text=True,
                         timeout=120)  # fmt: skip
    assert ran.returncode == 0, ran.stderr
    return json.loads(ran.stdout)


@functools.cache
def judged_here() -> dict:
    """The verdicts of the interpreter running the tests, by the same script."""
    return judged(sys.executable)


@pytest.mark.parametrize("version", VERSIONS)
def test_the_validator_judges_alike_on_python(version):
    python = find_python(version)
    if python is None:
        pytest.skip(f"no Python {version} on this machine, and uv could not fetch one")
    env = validator_env(python, version)
    verdicts = judged(str(env / "bin/python"))
    cli = subprocess.run(
        [str(env / "bin/python"), str(ROOT / "scripts/validate_blueprint.py"), "render.yaml"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert (verdicts, cli.returncode, cli.stdout.splitlines()[-1:]) == (
        judged_here(),
        0,
        ["ok: no problems found"],
    ), cli.stdout + cli.stderr
