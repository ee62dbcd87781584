"""The sync plan (--against): for each kind of change a pair of blueprints, before and
after, and the one problem it brings at its line; the plan itself (creates, changes field by
field, variables by name only, what is left unmanaged, the bill); the same from a real git
history; and every way --against can fail, as a message."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from blueprintcheck import cli
from blueprintcheck.loader import load
from blueprintcheck.rules import RULES
from blueprintcheck.syncplan.plan import sync_plan
from tests.blueprintcheck.conftest import expectation

PAIRS = Path(__file__).parent / "syncplan"


def pairs() -> list[Path]:
    return sorted(PAIRS.glob("M[0-9][0-9][0-9]"))


def plan_of(before: str | None, after: str):
    old = load(before, "before.yaml") if before is not None else None
    return sync_plan(old, load(after, "render.yaml"), "before.yaml")


@pytest.mark.parametrize("pair", pairs(), ids=lambda p: p.name)
def test_each_change_brings_its_code_at_its_line(pair):
    after = pair / "after.yaml"
    found = plan_of((pair / "before.yaml").read_text(), after.read_text()).problems
    assert [(p.code, p.line) for p in found] == [expectation(after)], [p.message for p in found]


def test_every_sync_plan_code_has_a_pair():
    codes = {code for code in RULES if code.startswith("M")}
    assert codes == {pair.name for pair in pairs()}


BEFORE = """
services:
  - type: web
    name: api
    runtime: python
    plan: 0.5c-512mb
    startCommand: gunicorn app:app
    envVars:
      - key: API_TOKEN
        value: old-secret-value
      - key: DROPPED
        value: "1"
  - type: worker
    name: old-jobs
    runtime: python
    startCommand: python jobs.py
"""
AFTER = """
services:
  - type: web
    name: api
    runtime: python
    plan: 1c-2g
    numInstances: 2
    startCommand: gunicorn app:app
    envVars:
      - key: API_TOKEN
        value: new-secret-value
      - key: ADDED
        generateValue: true
  - type: cron
    name: nightly
    runtime: python
    schedule: "0 3 * * *"
    startCommand: python nightly.py
"""


def test_the_plan_says_creates_changes_field_by_field_variables_by_name_and_the_bill():
    plan = plan_of(BEFORE, AFTER)
    [api] = plan.of("change")
    assert (
        [(r.type, r.name) for r in plan.of("create")],
        [(r.type, r.name) for r in plan.of("unmanaged")],
        [(c.field, c.old, c.new) for c in api.fields],
        (api.env_added, api.env_removed, api.env_changed),
        plan.monthly(),
    ) == (
        [("cron", "nightly")],
        [("worker", "old-jobs")],
        [("numInstances", api.fields[0].old, 2), ("plan", "0.5c-512mb", "1c-2g")],
        (["ADDED"], ["DROPPED"], ["API_TOKEN"]),
        (14, 50, []),  # $7 + $7 before; 2 x $25 after (a cron job is billed by its runs)
    )


def test_no_value_of_a_variable_is_ever_printed(capsys, tmp_path):
    (tmp_path / "before.yaml").write_text(BEFORE)
    (tmp_path / "render.yaml").write_text(AFTER)
    for format_ in ("text", "json", "github", "markdown"):
        cli.main(["--generic", "--format", format_, "--against", str(tmp_path / "before.yaml"),
                  str(tmp_path / "render.yaml")])  # fmt: skip
        out = capsys.readouterr().out
        assert ("API_TOKEN" in out, "secret-value" in out) == (True, False), format_


def test_the_plan_as_data_and_as_a_pull_request_summary(capsys, tmp_path):
    (tmp_path / "before.yaml").write_text(BEFORE)
    (tmp_path / "render.yaml").write_text(AFTER)
    args = ["--generic", "--against", str(tmp_path / "before.yaml"), str(tmp_path / "render.yaml")]
    cli.main([*args, "--format", "json"])
    data = json.loads(capsys.readouterr().out)["sync_plan"]
    cli.main([*args, "--format", "markdown"])
    summary = capsys.readouterr().out
    assert (
        [(r["action"], r["name"]) for r in data["resources"]],
        data["monthly"]["before"], data["monthly"]["after"], data["monthly"]["source"],
        summary.startswith("## Render sync plan"),
        "| unmanaged | worker \"old-jobs\" |" in summary,
        "M002" in summary,
    ) == (
        [("change", "api"), ("create", "nightly"), ("unmanaged", "old-jobs")],
        14, 50, "render.com/pricing", True, True, True,
    )  # fmt: skip


def test_without_against_nothing_changes(capsys):
    cli.main(["--generic", str(PAIRS / "M001" / "after.yaml")])
    assert "Sync plan" not in capsys.readouterr().out


# --- against a real git history -------------------------------------------------------------


def git(folder: Path, *arguments: str) -> None:
    subprocess.run(["git", "-C", str(folder), *arguments], check=True, capture_output=True)


@pytest.fixture
def history(tmp_path) -> Path:
    """A repository with two commits: the blueprint as on main, then the pull request's."""
    git(tmp_path, "init", "-q", "-b", "main")
    git(tmp_path, "config", "user.email", "ci@example.com")
    git(tmp_path, "config", "user.name", "CI")
    (tmp_path / "render.yaml").write_text((PAIRS / "M001" / "before.yaml").read_text())
    git(tmp_path, "add", "render.yaml")
    git(tmp_path, "commit", "-q", "-m", "the database")
    (tmp_path / "render.yaml").write_text((PAIRS / "M001" / "after.yaml").read_text())
    git(tmp_path, "commit", "-q", "-am", "rename it")
    return tmp_path


def test_against_a_git_ref_the_rename_of_a_database_fails_the_check(capsys, history):
    code, out = cli.main(["--generic", "--against", "HEAD~1", str(history / "render.yaml")]), ""
    out = capsys.readouterr().out
    assert (code, "error M001" in out, "Sync plan against HEAD~1:render.yaml:" in out) == (
        1, True, True,
    ), out  # fmt: skip


def test_a_ref_that_does_not_exist_is_a_message(capsys, history):
    code = cli.main(["--generic", "--against", "origin/main", str(history / "render.yaml")])
    err = capsys.readouterr().err
    assert (code, "no such file or git ref" in err, "git fetch origin" in err) == (2, True, True)


def test_a_blueprint_missing_at_the_ref_is_all_creates(capsys, history):
    (history / "new.yaml").write_text("databases:\n  - name: app-db\n    plan: basic-1gb\n")
    code = cli.main(["--generic", "--against", "HEAD", str(history / "new.yaml")])
    out = capsys.readouterr().out
    assert (code, "(no blueprint there: everything is created)" in out,
            'create     postgres "app-db"' in out) == (0, True, True), out  # fmt: skip


def test_a_blueprint_that_does_not_parse_at_the_ref_is_a_message(capsys, history):
    (history / "render.yaml").write_text("services: [\n")
    git(history, "commit", "-q", "-am", "broken")
    (history / "render.yaml").write_text((PAIRS / "M001" / "after.yaml").read_text())
    code = cli.main(["--generic", "--against", "HEAD", str(history / "render.yaml")])
    err = capsys.readouterr().err
    assert (code, "the blueprint there (HEAD:render.yaml:" in err, "Traceback" in err) == (
        2, True, False,
    ), err  # fmt: skip


def test_against_takes_one_blueprint(capsys):
    code = cli.main(["--against", "HEAD", "a.yaml", "b.yaml"])
    assert (code, "one blueprint at a time" in capsys.readouterr().err) == (2, True)
