"""The command line: exit status, output formats, --env, and never a traceback."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from blueprintcheck import cli
from tests.blueprintcheck.conftest import FIXTURES, ROOT

SCRIPT = ROOT / "scripts" / "validate_blueprint.py"
BROKEN = str(FIXTURES / "R001.yaml")
WARNING_ONLY = str(FIXTURES / "D003.yaml")


def run(capsys, *args: str) -> tuple[int, str, str]:
    code = cli.main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_own_blueprint_exits_0(capsys):
    assert run(capsys, str(ROOT / "render.yaml"))[0] == 0


def test_problems_exit_1(capsys):
    assert run(capsys, BROKEN, "--generic")[0] == 1


def test_warnings_alone_exit_0(capsys):
    assert run(capsys, WARNING_ONLY, "--generic")[0] == 0


def test_warnings_exit_1_with_strict(capsys):
    assert run(capsys, WARNING_ONLY, "--generic", "--strict")[0] == 1


def test_a_missing_file_exits_2_saying_so(capsys):
    code, _, err = run(capsys, "no/such/render.yaml")
    assert (code, "cannot read no/such/render.yaml" in err) == (2, True)


def test_a_directory_exits_2(capsys, tmp_path):
    assert run(capsys, str(tmp_path))[0] == 2


def test_an_unknown_option_exits_2(capsys):
    with pytest.raises(SystemExit) as exited:
        cli.main(["--frobnicate"])
    assert exited.value.code == 2


def test_text_lines_point_at_file_line_and_column(capsys):
    _, out, _ = run(capsys, BROKEN, "--generic")
    assert out.splitlines()[0].startswith(f"{BROKEN}:10:17: error R001 ")


def test_text_ends_with_a_summary(capsys):
    _, out, _ = run(capsys, BROKEN, "--generic")
    assert out.splitlines()[-1] == "failed: 1 error(s), 0 warning(s)"


def test_json_output_has_the_documented_fields(capsys):
    _, out, _ = run(capsys, BROKEN, "--generic", "--format", "json")
    [problem] = json.loads(out)["problems"]
    assert set(problem) == {
        "severity",
        "code",
        "name",
        "message",
        "file",
        "line",
        "column",
        "path",
        "url",
    }


def test_json_path_is_the_yaml_path(capsys):
    _, out, _ = run(capsys, BROKEN, "--generic", "--format", "json")
    assert json.loads(out)["problems"][0]["path"] == "services[0].envVars[0].fromService.name"


def test_json_links_each_problem_to_its_docs_section(capsys):
    _, out, _ = run(capsys, BROKEN, "--generic", "--format", "json")
    assert json.loads(out)["problems"][0]["url"].endswith("VALIDATOR.md#r001-unknown-service")


def test_github_format_writes_annotations(capsys):
    _, out, _ = run(capsys, BROKEN, "--generic", "--format", "github")
    assert out.splitlines()[0].startswith(f"::error file={BROKEN},line=10,col=17,title=R001::")


def test_github_is_the_default_format_under_github_actions(monkeypatch, capsys):
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    _, out, _ = run(capsys, BROKEN, "--generic")
    assert out.startswith("::error ")


def test_env_file_missing_variables_are_named(capsys, tmp_path):
    env = tmp_path / "web.env"
    env.write_text("RENDER=true\nSECRET_KEY=abc\n")
    _, out, _ = run(capsys, str(ROOT / "render.yaml"), "--env", "web", "--env-file", str(env))
    assert [w for w in ("DATABASE_URL", "REDIS_URL") if f"E001 {w}" in out] == [
        "DATABASE_URL",
        "REDIS_URL",
    ]


def test_env_check_never_prints_a_value(capsys, tmp_path):
    env = tmp_path / "worker.env"
    env.write_text("RENDER=true\nDATABASE_URL=mysql://admin:hunter2@db/x\n")
    _, out, _ = run(capsys, str(ROOT / "render.yaml"), "--env", "worker", "--env-file", str(env))
    assert "hunter2" not in out


def test_env_check_reads_the_process_environment(capsys, monkeypatch):
    for name in ("SECRET_KEY", "DATABASE_URL", "REDIS_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("RENDER", "true")
    code, out, _ = run(capsys, str(ROOT / "render.yaml"), "--env", "web")
    assert (code, "E001 SECRET_KEY" in out) == (1, True)


def test_env_file_without_env_is_a_usage_error(capsys, tmp_path):
    assert run(capsys, "--env-file", str(tmp_path / "x.env"))[0] == 2


def test_a_malformed_env_file_is_a_usage_error(capsys, tmp_path):
    env = tmp_path / "bad.env"
    env.write_text("this is not dotenv\n")
    assert run(capsys, str(ROOT / "render.yaml"), "--env", "web", "--env-file", str(env))[0] == 2


def test_the_script_runs_with_only_the_standard_interpreter_path():
    result = subprocess.run(
        [sys.executable, str(SCRIPT), str(ROOT / "render.yaml")],
        capture_output=True,
        text=True,
        cwd="/",
        env={"PATH": os.environ["PATH"]},
    )
    assert (result.returncode, result.stdout.strip().splitlines()[-1]) == (
        0,
        "ok: no problems found",
    )


def test_the_script_imports_neither_django_nor_celery():
    code = (
        "import runpy, sys; sys.argv = ['v', 'render.yaml']\n"
        "try:\n    runpy.run_path('scripts/validate_blueprint.py', run_name='__main__')\n"
        "except SystemExit:\n    pass\n"
        "print(sorted(m for m in ('django', 'celery') if m in sys.modules))"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert result.stdout.strip().splitlines()[-1] == "[]"


def test_several_paths_are_each_checked(capsys):
    _, out, _ = run(capsys, str(ROOT / "render.yaml"), BROKEN, "--generic")
    assert [line.split(":")[0] for line in out.splitlines()[:-1]] == [BROKEN]


def test_one_unreadable_path_among_several_exits_2(capsys):
    assert run(capsys, str(ROOT / "render.yaml"), "no/such/render.yaml")[0] == 2


# --- --env checks production by default, and says what it checked ---------------------------


def clean_environment(monkeypatch) -> None:
    from servicespec import envspec

    for name in envspec.BY_NAME:
        monkeypatch.delenv(name, raising=False)


def test_env_in_an_empty_environment_checks_production_and_says_so(capsys, monkeypatch):
    clean_environment(monkeypatch)
    code, out, _ = run(capsys, str(ROOT / "render.yaml"), "--env", "worker")
    missing = sorted(line.split()[3].rstrip(":") for line in out.splitlines() if " E001 " in line)
    assert (code, missing, "against production's rules" in out) == (
        1,
        sorted(["SECRET_KEY", "DATABASE_URL", "REDIS_URL", "SENDGRID_API_KEY",
                "DEFAULT_FROM_EMAIL", "EMAIL_VERIFICATION_URL", "PASSWORD_RESET_URL"]),
        True,
    ), out  # fmt: skip


def test_local_checks_the_development_rules_and_says_so(capsys, monkeypatch):
    clean_environment(monkeypatch)
    code, out, _ = run(capsys, str(ROOT / "render.yaml"), "--env", "worker", "--local")
    assert (code, "E001" in out, "against the development rules" in out) == (0, False, True)


def test_local_without_env_is_a_usage_error(capsys):
    assert run(capsys, str(ROOT / "render.yaml"), "--local")[0] == 2


def test_production_messages_leave_out_what_only_applies_locally(capsys, monkeypatch):
    clean_environment(monkeypatch)
    _, out, _ = run(capsys, str(ROOT / "render.yaml"), "--env", "web")
    [database] = [line for line in out.splitlines() if "E001 DATABASE_URL" in line]
    assert ("PostgreSQL connection URL" in database, "locally" in database) == (True, False)


def test_env_file_problems_point_at_their_line(capsys, tmp_path):
    env = tmp_path / "web.env"
    env.write_text("# the web\nSECRET_KEY=short\nDATABASE_URL=mysql://x/y\n")
    _, out, _ = run(
        capsys, str(ROOT / "render.yaml"), "--env", "web", "--env-file", str(env), "--format",
        "json",
    )  # fmt: skip
    found = {
        p["message"].split(":")[0]: (p["code"], p["file"], p["line"])
        for p in json.loads(out)["problems"]
    }
    assert (found["SECRET_KEY"], found["DATABASE_URL"], found["REDIS_URL"]) == (
        ("E002", str(env), 2),
        ("E002", str(env), 3),
        ("E001", str(env), None),  # missing: the file as a whole
    )


def test_process_environment_problems_name_no_file(capsys, monkeypatch):
    clean_environment(monkeypatch)
    _, github, _ = run(capsys, str(ROOT / "render.yaml"), "--env", "web", "--format", "github")
    _, as_json, _ = run(capsys, str(ROOT / "render.yaml"), "--env", "web", "--format", "json")
    _, text, _ = run(capsys, str(ROOT / "render.yaml"), "--env", "web")
    annotations = [line for line in github.splitlines() if line.startswith("::error")]
    assert (
        all("file=" not in line for line in annotations),
        {p["file"] for p in json.loads(as_json)["problems"]},
        text.splitlines()[0].startswith("(environment): error E001 "),
        any(line.startswith("::notice") for line in github.splitlines()),
    ) == (True, {None}, True, True)


# --- --repo ----------------------------------------------------------------------------


def test_a_copy_elsewhere_finds_its_scripts_with_repo(capsys, tmp_path):
    copy = tmp_path / "render.yaml"
    copy.write_text((ROOT / "render.yaml").read_text())
    _, without, _ = run(capsys, str(copy))
    with_repo = run(capsys, str(copy), "--repo", str(ROOT))
    [first] = [line for line in without.splitlines() if " C007 " in line][:1]
    assert (with_repo[0], "--repo" in first, f"{tmp_path}" in first) == (0, True, True), without


def test_repo_that_is_not_a_folder_is_a_usage_error(capsys, tmp_path):
    code, _, err = run(capsys, str(ROOT / "render.yaml"), "--repo", str(tmp_path / "nowhere"))
    assert (code, "no such folder" in err) == (2, True)


# --- contract mode is stricter about groups ---------------------------------------------


def test_an_undefined_group_is_an_error_in_contract_mode_and_a_warning_with_generic(
    capsys, tmp_path
):
    blueprint = tmp_path / "render.yaml"
    blueprint.write_text(
        (ROOT / "render.yaml")
        .read_text()
        .replace(
            "      - fromGroup: remosphere-shared\n",
            "      - fromGroup: remosphere-shared\n      - fromGroup: made-in-the-dashboard\n",
            1,
        )
    )
    _, contract, _ = run(capsys, str(blueprint), "--repo", str(ROOT))
    _, generic, _ = run(capsys, str(blueprint), "--generic")
    said = [line.split()[1] for line in (contract + generic).splitlines() if " R012 " in line]
    assert said == ["error", "warning"]


# --- parity with Render's own validator (render blueprints validate) ----------------------


def script(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(SCRIPT), *args], capture_output=True, text=True, cwd=ROOT
    )


def render_cli_line(error: dict) -> str:
    """How Render's CLI prints one error of its API's answer (cmd/blueprintvalidate.go)."""
    where = f"line {error['line']}, column {error['column']}" if error.get("line") else ""
    if where and error.get("path"):
        return f"  {error['path']} ({where}): {error['error']}"
    return f"  {error.get('path') or where}: {error['error']}"


def test_a_valid_blueprint_ends_with_render_s_plan_summary():
    result = script("render.yaml")
    assert (result.returncode, result.stdout.splitlines()[:7]) == (
        0,
        [
            "render.yaml is valid",
            "",
            "Plan summary:",
            "  Services:      4  remosphere-web, remosphere-worker, remosphere-sweep, "
            "remosphere-autoscaler",
            "  Databases:     1  remosphere-db",
            "  Key Value:     1  remosphere-kv",
            "  Env Groups:    1  remosphere-shared",
        ],
    )


def test_render_json_of_a_valid_blueprint_is_render_s_answer_with_its_plan():
    result = script("render.yaml", "--format", "render-json")
    assert (result.returncode, json.loads(result.stdout)) == (
        0,
        {
            "valid": True,
            "plan": {
                "services": [
                    "remosphere-web",
                    "remosphere-worker",
                    "remosphere-sweep",
                    "remosphere-autoscaler",
                ],
                "databases": ["remosphere-db"],
                "keyValue": ["remosphere-kv"],
                "envGroups": ["remosphere-shared"],
            },
        },
    )


def test_render_json_of_an_invalid_blueprint_lists_errors_a_render_tool_can_print(tmp_path):
    blueprint = tmp_path / "render.yaml"
    blueprint.write_text(
        "services:\n  - type: cron\n    name: nightly\n    runtime: python\n"
        "    plan: pro max\n    schedule: '0 3 * * *'\n"
    )
    result = script(str(blueprint), "--generic", "--format", "render-json")
    answer = json.loads(result.stdout)
    [error] = answer["errors"]
    assert (result.returncode, set(answer), set(error), render_cli_line(error)) == (
        1,
        {"valid", "errors"},
        {"error", "path", "line", "column", "code"},
        f"  services[0].plan (line 5, column 11): {error['error']}",
    )


def test_render_json_keeps_warnings_apart_unless_strict():
    lenient = json.loads(script(WARNING_ONLY, "--generic", "--format", "render-json").stdout)
    strict = json.loads(
        script(WARNING_ONLY, "--generic", "--strict", "--format", "render-json").stdout
    )
    assert (lenient["valid"], [w["code"] for w in lenient["warnings"]], strict["valid"]) == (
        True,
        ["D003"],
        False,
    ) and [e["code"] for e in strict["errors"]] == ["D003"]


def test_render_json_answers_for_one_blueprint_only(capsys):
    code, _, err = run(capsys, "render.yaml", BROKEN, "--format", "render-json")
    assert (code, "one blueprint" in err) == (2, True)


def test_no_plan_summary_when_the_blueprint_fails(capsys):
    _, out, _ = run(capsys, BROKEN, "--generic")
    assert "Plan summary" not in out


def test_json_lists_each_valid_file_s_plan(capsys):
    _, out, _ = run(capsys, str(ROOT / "render.yaml"), "--format", "json")
    [plan] = json.loads(out)["plans"]
    assert (plan["file"].endswith("render.yaml"), plan["keyValue"]) == (True, ["remosphere-kv"])


def test_a_plan_set_through_an_anchor_is_reported_once_at_the_anchor(tmp_path):
    from blueprintcheck import validate

    text = (
        "x-base: &base\n"
        "  runtime: python\n"
        "  plan: starter\n"
        "services:\n"
        "  - type: worker\n    name: one\n    <<: *base\n    startCommand: a\n"
        "  - type: worker\n    name: two\n    <<: *base\n    startCommand: b\n"
        "  - type: worker\n    name: three\n    <<: *base\n    startCommand: c\n"
    )
    d005 = [(p.line, p.code) for p in validate(text, generic=True) if p.code == "D005"]
    assert d005 == [(3, "D005")]
