"""The environment spec: one declaration per variable, one message for every problem."""

from __future__ import annotations

import ast
import base64
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

from servicespec import envspec

ROOT = Path(__file__).resolve().parents[2]
PRODUCTION = {"RENDER": "true"}
COMPLETE_WEB = {
    **PRODUCTION,
    "SECRET_KEY": "Zq3-vL9sT1_wE7rN2bK8mD4yH6cX0pG5jF",
    "DATABASE_URL": "postgresql://u:p@db.internal:5432/remosphere",
    "REDIS_URL": "redis://kv.internal:6379",
}
COMPLETE_WORKER = {
    **COMPLETE_WEB,
    "SENDGRID_API_KEY": "SG.secret",
    "DEFAULT_FROM_EMAIL": "no-reply@example.com",
    "EMAIL_VERIFICATION_URL": "https://app.example.com/verify",
    "PASSWORD_RESET_URL": "https://app.example.com/reset-password",
}


def names(problems: list[envspec.Problem]) -> list[str]:
    return [problem.name for problem in problems]


def test_spec_imports_without_django_or_celery():
    code = (
        "import sys, servicespec.envspec; print('django' in sys.modules or 'celery' in sys.modules)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={"PATH": os.environ["PATH"]},
        check=True,
    )
    assert result.stdout.strip() == "False"


def test_every_variable_is_declared_once():
    all_names = [var.name for var in envspec.SPEC]
    assert len(all_names) == len(set(all_names))


def test_no_environment_is_development_mode():
    assert envspec.is_production({}) is False


@pytest.mark.parametrize(
    "environ", [{"RENDER": "true"}, {"RENDER": "1"}, {"DJANGO_ENV": "production"}]
)
def test_render_or_django_env_turns_production_on(environ):
    assert envspec.is_production(environ) is True


def test_no_environment_has_no_problems():
    assert envspec.check({}, envspec.WEB) == []


def test_production_web_lists_every_missing_variable():
    assert names(envspec.check(PRODUCTION, envspec.WEB)) == [
        "SECRET_KEY",
        "DATABASE_URL",
        "REDIS_URL",
    ]


def test_production_worker_also_needs_sendgrid_and_sender():
    assert names(envspec.check(COMPLETE_WEB, envspec.WORKER)) == [
        "SENDGRID_API_KEY",
        "DEFAULT_FROM_EMAIL",
        "EMAIL_VERIFICATION_URL",
        "PASSWORD_RESET_URL",
    ]


def test_complete_production_worker_has_no_problems():
    assert envspec.check(COMPLETE_WORKER, envspec.WORKER) == []


def test_sqlite_is_refused_in_production():
    problems = envspec.check({**COMPLETE_WEB, "DATABASE_URL": "sqlite:///db.sqlite3"}, "web")
    assert "local development only" in problems[0].message


def test_sqlite_is_accepted_locally():
    assert envspec.check({"DATABASE_URL": "sqlite:///x.sqlite3"}, "web") == []


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("REDIS_URL", "http://kv:6379"),
        ("DATABASE_URL", "mysql://db/x"),
        ("PORT", "ten"),
        ("PORT", "0"),
        ("DEFAULT_FROM_EMAIL", "not-an-email"),
        ("DJANGO_ENV", "staging"),
        ("LOG_LEVEL", "LOUD"),
        ("REDIS_URL", "redis://kv:port"),
        ("THROTTLE_RATE_LOGIN", "ten per minute"),
        ("THROTTLE_RATE_LOGIN", "10/fortnight"),
    ],
)
def test_malformed_value_is_a_problem(name, value):
    assert names(envspec.check({name: value}, None)) == [name]


def test_a_short_secret_key_is_refused_in_production():
    assert names(envspec.check({**COMPLETE_WEB, "SECRET_KEY": "short-key"}, "web")) == [
        "SECRET_KEY"
    ]


def test_a_key_as_long_as_renders_generated_ones_is_accepted_in_production():
    # generateValue: 256 random bits, base64-encoded: 44 characters.
    key = base64.b64encode(secrets.token_bytes(32)).decode()
    assert envspec.check({**COMPLETE_WEB, "SECRET_KEY": key}, "web") == []


@pytest.mark.parametrize("key", ["a" * 32, "ab" * 25, "k" * 44, "0123" * 10])
def test_a_long_but_guessable_key_is_refused_in_production_before_any_stretching(key):
    [problem] = envspec.check({**COMPLETE_WEB, "SECRET_KEY": key}, "web")
    assert (problem.name, "secrets.token_urlsafe" in problem.message) == ("SECRET_KEY", True)


def test_a_guessable_key_is_accepted_locally():
    assert envspec.check({"SECRET_KEY": "a" * 32}, "web") == []


def test_a_hex_key_of_128_random_bits_is_accepted_in_production():
    keys = [secrets.token_hex(16) for _ in range(200)]
    assert [k for k in keys if envspec.check({**COMPLETE_WEB, "SECRET_KEY": k}, "web")] == []


@pytest.mark.parametrize(
    ("rate", "parsed"),
    [
        ("10/minute", (10, 60)),
        ("10/5minutes", (10, 300)),
        ("3/h", (3, 3600)),
        ("1/2d", (1, 172800)),
    ],
)
def test_rates_read_as_requests_per_window(rate, parsed):
    assert envspec.parse_rate(rate) == parsed


def test_problem_messages_never_contain_the_value():
    secret = "postgresql-but-wrong://user:hunter2@db/x"
    problems = envspec.check({**COMPLETE_WEB, "DATABASE_URL": secret}, "web")
    assert "hunter2" not in envspec.format_problems(problems, production=True)


def test_load_fills_local_defaults():
    assert envspec.load({})["PORT"] == 10000


def test_load_raises_once_with_every_problem():
    with pytest.raises(envspec.EnvError) as raised:
        envspec.load(PRODUCTION, "web")
    assert names(list(raised.value.problems)) == ["SECRET_KEY", "DATABASE_URL", "REDIS_URL"]


def test_check_command_exits_1_naming_missing_variables():
    result = subprocess.run(
        [sys.executable, "-m", "servicespec.envspec", "check", "worker"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={"PATH": os.environ["PATH"], "RENDER": "true"},
    )
    assert (result.returncode, "SENDGRID_API_KEY" in result.stderr) == (1, True)


def test_manage_py_in_production_lists_every_missing_variable_without_traceback():
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={"PATH": os.environ["PATH"], "RENDER": "true"},
    )
    reported = [
        name for name in ("SECRET_KEY", "DATABASE_URL", "REDIS_URL") if name in result.stderr
    ]
    assert (result.returncode != 0, reported, "Traceback" in result.stderr) == (
        True,
        ["SECRET_KEY", "DATABASE_URL", "REDIS_URL"],
        False,
    )


def _environment_names_read_in(path: Path) -> set[str]:
    """Names in os.environ[...], os.environ.get(...), os.getenv(...) and env.setdefault(...)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Subscript) and ast.unparse(node.value) == "os.environ":
            key = node.slice
        elif isinstance(node, ast.Call) and ast.unparse(node.func) in {
            "os.environ.get",
            "os.getenv",
            "os.environ.setdefault",
            "os.environ.pop",
        }:
            key = node.args[0] if node.args else None
        else:
            continue
        if isinstance(key, ast.Constant) and isinstance(key.value, str):
            found.add(key.value)
    return found


def test_every_environment_name_in_the_code_comes_from_the_spec():
    sources = [
        *ROOT.glob("remosphere/*.py"),
        *ROOT.glob("authentication/*.py"),
        *ROOT.glob("scripts/*.py"),
        ROOT / "manage.py",
    ]
    read = set().union(*(_environment_names_read_in(path) for path in sources))
    assert read - set(envspec.BY_NAME) == {"DJANGO_SETTINGS_MODULE"}
