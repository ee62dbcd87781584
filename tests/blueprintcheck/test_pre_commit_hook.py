"""Other repositories can run the validator as a pre-commit hook: pre-commit installs this
repository with pip (the `validate-blueprint` console script, PyYAML and jsonschema only)
and runs the hook on their render.yaml."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.blueprintcheck.conftest import FIXTURES, ROOT
from tests.blueprintcheck.test_pythons import find_python

HOOKS = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())


def test_the_hook_runs_the_console_script_the_package_installs():
    import tomllib

    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    assert {hook["id"]: hook["entry"].split()[0] in scripts for hook in HOOKS} == {
        "validate-blueprint": True,
        "fix-blueprint": True,
    }


def git_repo(directory: Path, *, commit: bool) -> Path:
    git = ["git", "-C", str(directory), "-c", "user.name=t", "-c", "user.email=t@example.com"]
    subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run([*git, "add", "-A"], check=True)
    if commit:
        subprocess.run([*git, "commit", "-q", "-m", "snapshot"], check=True)
    return directory


@pytest.fixture(scope="module")
def this_repo(tmp_path_factory) -> Path:
    """This working tree as a committed repository (pre-commit clones what is committed)."""
    snapshot = tmp_path_factory.mktemp("this-repo")
    listed = subprocess.run(
        ["git", "-C", str(ROOT), "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        check=True,
        capture_output=True,
    ).stdout.decode()
    for name in filter(None, listed.split("\0")):
        if (ROOT / name).is_file():
            (snapshot / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, snapshot / name)
    return git_repo(snapshot, commit=True)


@pytest.fixture(scope="module")
def newer_python(tmp_path_factory) -> tuple[str, Path]:
    """A Python newer than the application's, as ``pythonX.Y`` in a folder for PATH."""
    for version in ("3.13", "3.12"):
        python = find_python(version)
        if python:
            folder = tmp_path_factory.mktemp("bin")
            (folder / f"python{version}").symlink_to(python)
            return version, folder
    pytest.skip("neither Python 3.12 nor 3.13 is on this machine")


@pytest.fixture(scope="module")
def other_repo(tmp_path_factory, this_repo, newer_python) -> Path:
    """A repository with a broken render.yaml that uses this one's hook, as documented,
    on a Python newer than the application's."""
    repo = tmp_path_factory.mktemp("other-repo")
    shutil.copy(FIXTURES / "R001.yaml", repo / "render.yaml")
    rev = subprocess.run(
        ["git", "-C", str(this_repo), "rev-parse", "HEAD"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    version, _ = newer_python
    hook = {"id": "validate-blueprint", "language_version": f"python{version}"}
    config = {"repos": [{"repo": str(this_repo), "rev": rev, "hooks": [hook]}]}
    (repo / ".pre-commit-config.yaml").write_text(yaml.safe_dump(config))
    return git_repo(repo, commit=False)


def test_the_hook_installs_on_a_newer_python_and_fails_a_broken_blueprint(
    other_repo, newer_python, tmp_path
):
    version, folder = newer_python
    env = {
        **os.environ,
        "PATH": f"{folder}{os.pathsep}{os.environ['PATH']}",
        "PRE_COMMIT_HOME": str(tmp_path / "cache"),
        "GITHUB_ACTIONS": "",
    }
    result = subprocess.run(
        [sys.executable, "-m", "pre_commit", "run", "validate-blueprint", "--files", "render.yaml"],
        cwd=other_repo,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    [hook_python] = (tmp_path / "cache").glob("repo*/py_env-*/bin/python")
    said = subprocess.run(
        [str(hook_python), "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
        capture_output=True,
        text=True,
    ).stdout.strip()
    assert (result.returncode, "error R001" in result.stdout, said) == (1, True, version), (
        result.stdout
    )
