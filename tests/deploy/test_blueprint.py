"""render.yaml: Render's official schema, one image, and timeouts that form one chain."""

from __future__ import annotations

import os
from pathlib import Path

import jsonschema
import pytest
import yaml

from blueprintcheck import official
from servicespec import envspec, timeouts

ROOT = Path(__file__).resolve().parents[2]
BLUEPRINT = yaml.safe_load((ROOT / "render.yaml").read_text())


def service(process: str) -> dict:
    """The service of a process (found by its entrypoint), or of another type by type."""
    entrypoint = f"docker/{process}-entrypoint.sh"
    [found] = [
        s
        for s in BLUEPRINT["services"]
        if entrypoint in s.get("dockerCommand", "")
        or (process not in envspec.PROCESSES and s["type"] == process)
    ]
    return found


def value_for(svc: dict, name: str) -> int:
    """The service's value for ``name``: its own entry, its groups', else the spec default."""
    groups = {g["name"]: g["envVars"] for g in BLUEPRINT.get("envVarGroups", [])}
    entries = list(svc.get("envVars", []))
    for entry in svc.get("envVars", []):
        entries += groups.get(entry.get("fromGroup"), [])
    for entry in entries:
        if entry.get("key") == name and "value" in entry:
            return int(entry["value"])
    return int(envspec.BY_NAME[name].default)


def test_blueprint_passes_renders_official_json_schema():
    schema = official.document()  # Render's schema of 2026-10, vendored with the validator
    errors = [e.message for e in jsonschema.Draft202012Validator(schema).iter_errors(BLUEPRINT)]
    assert errors == []


def test_first_line_points_editors_at_the_schema():
    first = (ROOT / "render.yaml").read_text().splitlines()[0]
    assert first == "# yaml-language-server: $schema=https://render.com/schema/render.yaml.json"


def test_web_and_worker_build_the_same_image():
    web, worker = service("web"), service("worker")
    assert (web["dockerfilePath"], web["dockerContext"]) == (
        worker["dockerfilePath"],
        worker["dockerContext"],
    )


def test_worker_timeouts_form_one_chain():
    worker = service("worker")
    chain = timeouts.worker_chain(
        sendgrid_timeout=value_for(worker, "SENDGRID_TIMEOUT"),
        max_shutdown_delay=worker.get(
            "maxShutdownDelaySeconds", timeouts.RENDER_DEFAULT_SHUTDOWN_DELAY
        ),
        visibility_timeout=value_for(worker, "CELERY_VISIBILITY_TIMEOUT"),
    )
    assert timeouts.broken_links(chain) == []


def test_worker_shutdown_delay_is_within_renders_limit():
    assert service("worker")["maxShutdownDelaySeconds"] <= timeouts.RENDER_MAX_SHUTDOWN_DELAY


def test_longest_retry_wait_is_below_the_visibility_timeout():
    assert (
        value_for(service("worker"), "CELERY_VISIBILITY_TIMEOUT") > timeouts.EMAIL_RETRY_MAX_SECONDS
    )


def test_web_graceful_timeout_is_below_its_shutdown_delay():
    web = service("web")
    chain = timeouts.web_chain(
        graceful_timeout=value_for(web, "GUNICORN_GRACEFUL_TIMEOUT"),
        max_shutdown_delay=web.get(
            "maxShutdownDelaySeconds", timeouts.RENDER_DEFAULT_SHUTDOWN_DELAY
        ),
    )
    assert timeouts.broken_links(chain) == []


def test_a_broken_chain_names_the_link():
    chain = timeouts.worker_chain(
        sendgrid_timeout=70, max_shutdown_delay=90, visibility_timeout=3600
    )
    assert timeouts.broken_links(chain) == [
        "the worker shutdown budget (100s) must be less than worker maxShutdownDelaySeconds (90s)"
    ]


def test_the_email_task_fits_its_lease_with_the_send_started_by_its_deadline():
    for sendgrid_timeout in (1, 10, 60):
        deadline = timeouts.send_deadline(sendgrid_timeout)
        ends_by = (
            deadline + sendgrid_timeout + timeouts.CACHE_COMMAND_SECONDS
            + timeouts.DATABASE_TIMEOUT_SECONDS
        )  # fmt: skip
        assert (deadline > 2 * timeouts.DATABASE_TIMEOUT_SECONDS, ends_by) == (
            True,
            timeouts.lease(sendgrid_timeout),
        )


def test_celerys_own_limits_fall_past_the_budget_and_inside_the_lease():
    soft, hard = timeouts.celery_time_limits(10)
    assert timeouts.task_budget(10) < soft < hard < timeouts.lease(10)


def test_key_value_never_evicts_and_is_private():
    kv = service("keyvalue")
    assert (kv["maxmemoryPolicy"], kv["ipAllowList"]) == ("noeviction", [])


def test_secret_key_is_generated_once_in_a_group_every_process_reads():
    [group] = [
        g
        for g in BLUEPRINT["envVarGroups"]
        if any(e.get("key") == "SECRET_KEY" for e in g["envVars"])
    ]
    readers = [
        s["name"]
        for s in BLUEPRINT["services"]
        if {"fromGroup": group["name"]} in s.get("envVars", [])
    ]
    assert readers == [
        "remosphere-web",
        "remosphere-worker",
        "remosphere-sweep",
        "remosphere-autoscaler",
    ]


def test_only_the_autoscaler_holds_the_render_api_key():
    holders = [
        s["name"]
        for s in BLUEPRINT["services"]
        if any(e.get("key") == "RENDER_API_KEY" for e in s.get("envVars", []))
    ]
    assert holders == ["remosphere-autoscaler"]


def test_the_worker_starts_within_the_autoscalers_range_and_has_no_native_scaling():
    worker, autoscaler = service("worker"), service("autoscale")
    low, high = (value_for(autoscaler, f"AUTOSCALE_{e}_INSTANCES") for e in ("MIN", "MAX"))
    assert (low <= worker["numInstances"] <= high, "scaling" in worker) == (True, False)


def test_only_the_worker_holds_the_sendgrid_key():
    holders = [
        s["name"]
        for s in BLUEPRINT["services"]
        if any(e.get("key") == "SENDGRID_API_KEY" for e in s.get("envVars", []))
    ]
    assert holders == ["remosphere-worker"]


@pytest.mark.parametrize("process", envspec.PROCESSES)
def test_every_variable_required_in_production_is_declared(process):
    svc = service(process)
    groups = {g["name"]: g["envVars"] for g in BLUEPRINT.get("envVarGroups", [])}
    keys = {e.get("key") for e in svc["envVars"]}
    for entry in svc["envVars"]:
        keys |= {e["key"] for e in groups.get(entry.get("fromGroup"), [])}
    required = {v.name for v in envspec.vars_for(process) if v.required}
    assert required - keys == set()


@pytest.mark.parametrize("process", envspec.PROCESSES)
def test_docker_commands_are_executable_scripts_in_the_repo(process):
    script = ROOT / service(process)["dockerCommand"]
    assert script.is_file() and os.access(script, os.X_OK)
