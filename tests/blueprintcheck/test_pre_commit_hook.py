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

HOOKS = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())


def test_the_hook_runs_the_console_script_the_package_installs():
    import tomllib

    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    [hook] = HOOKS
    assert hook["entry"].split()[0] in scripts


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
def other_repo(tmp_path_factory, this_repo) -> Path:
    """A repository with a broken render.yaml that uses this one's hook, as documented."""
    repo = tmp_path_factory.mktemp("other-repo")
    shutil.copy(FIXTURES / "R001.yaml", repo / "render.yaml")
    rev = subprocess.run(
        ["git", "-C", str(this_repo), "rev-parse", "HEAD"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    config = {
        "repos": [{"repo": str(this_repo), "rev": rev, "hooks": [{"id": "validate-blueprint"}]}]
    }
    (repo / ".pre-commit-config.yaml").write_text(yaml.safe_dump(config))
    return git_repo(repo, commit=False)


def test_the_hook_fails_a_broken_blueprint_in_another_repository(other_repo, tmp_path):
    env = {**os.environ, "PRE_COMMIT_HOME": str(tmp_path / "cache"), "GITHUB_ACTIONS": ""}
    result = subprocess.run(
        [sys.executable, "-m", "pre_commit", "run", "validate-blueprint", "--files", "render.yaml"],
        cwd=other_repo,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert (result.returncode, "error R001" in result.stdout) == (1, True), result.stdout
