"""The validator stands alone: its wheel holds the validator and the service spec it reads
(no Django project), installs in a fresh virtualenv with only PyYAML and jsonschema, and
there validates the project's blueprint with the project's contract, environments too."""

from __future__ import annotations

import secrets
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.blueprintcheck.conftest import ROOT

pytestmark = pytest.mark.xdist_group("validator-wheel")
UV = Path(sys.executable).parent / "uv"

WORKER_ENV = {
    "SECRET_KEY": secrets.token_urlsafe(50),
    "DATABASE_URL": "postgresql://remosphere:secret@db.internal:5432/remosphere",
    "REDIS_URL": "redis://kv.internal:6379",
    "SENDGRID_API_KEY": "SG.a-key-for-this-test",
    "DEFAULT_FROM_EMAIL": "no-reply@remosphere.example",
    "EMAIL_VERIFICATION_URL": "https://remosphere.example/verify-email",
    "PASSWORD_RESET_URL": "https://remosphere.example/reset-password",
}


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """The wheel ``pip install .`` would install, built from the files git tracks."""
    tree = tmp_path_factory.mktemp("source")
    tracked = subprocess.run(
        ["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True
    ).stdout.split(b"\0")
    for name in filter(None, (n.decode() for n in tracked)):
        if (ROOT / name).is_file():
            (tree / name).parent.mkdir(parents=True, exist_ok=True)
            (tree / name).write_bytes((ROOT / name).read_bytes())
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [str(UV), "build", "--wheel", "--quiet", "--out-dir", str(out), str(tree)],
        check=True, capture_output=True, timeout=300,
    )  # fmt: skip
    [built] = out.glob("*.whl")
    return built


@pytest.fixture(scope="module")
def venv(wheel, tmp_path_factory) -> Path:
    """A fresh virtualenv with the wheel and what it depends on, nothing else."""
    env = tmp_path_factory.mktemp("venv")
    subprocess.run([sys.executable, "-m", "venv", str(env)], check=True, timeout=120)
    subprocess.run(
        [str(UV), "pip", "install", "--quiet", "--python", str(env / "bin/python"), str(wheel)],
        check=True, capture_output=True, timeout=600,
    )  # fmt: skip
    return env


def run(venv: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(venv / "bin/validate-blueprint"), *args],
        cwd=ROOT,
        env={"PATH": "/usr/bin:/bin", **(env or {})},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_wheel_holds_the_validator_and_the_service_spec_only(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    tops = {name.split("/")[0] for name in names}
    assert (
        sorted(t for t in tops if not t.endswith(".dist-info")),
        "blueprintcheck/data/render-blueprint.schema.json" in names,
        "servicespec/envspec.py" in names,
    ) == (["blueprintcheck", "servicespec"], True, True)


def test_the_installed_validator_has_no_django_and_runs_from_the_virtualenv(venv, tmp_path):
    probe = subprocess.run(
        [str(venv / "bin/python"), "-c",
         "import importlib.util, blueprintcheck; "
         "print(importlib.util.find_spec('django') is None, blueprintcheck.__file__)"],
        cwd=tmp_path, capture_output=True, text=True, check=True,
    )  # fmt: skip
    no_django, location = probe.stdout.split()
    assert (no_django, location.startswith(str(venv))) == ("True", True)


def test_it_validates_the_projects_blueprint_with_the_projects_contract(venv):
    result = run(venv, "render.yaml", "--strict", "--format", "text")
    assert (result.returncode, result.stdout.splitlines()[-1:], result.stderr) == (
        0,
        ["ok: no problems found"],
        "",
    )


def test_it_checks_an_environment_against_the_env_spec(venv):
    empty = run(venv, "render.yaml", "--env", "worker")
    missing = sorted(
        line.split()[3].rstrip(":") for line in empty.stdout.splitlines() if " E001 " in line
    )
    complete = run(venv, "render.yaml", "--env", "worker", env=WORKER_ENV)
    assert (empty.returncode, missing, complete.returncode) == (
        1,
        sorted(WORKER_ENV),
        0,
    ), empty.stdout + complete.stdout + complete.stderr
