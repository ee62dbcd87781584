"""`make bench` cannot rot: a smoke run of every section (tiny counts, figures not checked)
against the real stack writes its results and the page. The image section is left to the
image test, which builds the same image in the same test command."""

from __future__ import annotations

import json

import psycopg
import pytest

from bench import run
from tests.support import services

# One xdist worker runs this module: one smoke run serves all its tests.
pytestmark = [pytest.mark.integration, pytest.mark.xdist_group("bench")]

EXPECTED_KEYS = {
    "validator",
    "pipeline",
    "web",
    "worker",
    "db",
    "scaling",
    "autoscale",
    "memory_mb",
    "cold_start_s",
    "split",
    "baseline_supervisor",
}


@pytest.fixture(scope="module")
def smoke_run(tmp_path_factory):
    directory = tmp_path_factory.mktemp("bench")
    results, doc = directory / "results.json", directory / "BENCHMARKS.md"
    run.main(["--smoke", "--results", str(results), "--doc", str(doc)])
    return json.loads(results.read_text()), doc.read_text()


def test_smoke_run_records_every_section(smoke_run):
    results, _ = smoke_run
    assert EXPECTED_KEYS - set(results) == set()


def test_smoke_run_delivers_every_email_of_the_pipeline_once(smoke_run):
    results, _ = smoke_run
    assert (results["pipeline"]["lost"], results["pipeline"]["duplicated"]) == (0, 0)


def test_smoke_run_measures_both_pools_with_nothing_lost(smoke_run):
    results, _ = smoke_run
    worker = results["worker"]
    assert (
        worker["pool"],
        worker["baseline_prefork2"]["pool"],
        worker["lost"] + worker["baseline_prefork2"]["lost"],
        worker["duplicated"] + worker["baseline_prefork2"]["duplicated"],
    ) == ("threads", "prefork", 0, 0)


def test_the_benchmarks_leave_no_cgroup_behind(smoke_run):
    from bench import cgroups

    left = [
        p.name for c in cgroups.CONTROLLERS for p in (cgroups.ROOT / c).glob("remosphere-bench-*")
    ]
    assert left == []


def test_the_benchmarks_leave_no_database_behind(smoke_run):
    from bench.stack import DATABASE

    with psycopg.connect(services.database_url("postgres")) as conn:
        left = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (DATABASE,))
        assert left.fetchall() == []


def test_smoke_run_records_the_latency_floor_and_the_connection_budget(smoke_run):
    results, _ = smoke_run
    keys = {
        "floor": set(results["pipeline"]["floor_ms"]),
        "ratio": set(results["pipeline"]["overhead_ratio"]),
        "db": {"max_connections_blueprint", "plan_limit"} <= set(results["db"]),
    }
    assert keys == {"floor": {"p50", "p95", "p99"}, "ratio": {"p50", "p99"}, "db": True}


def test_smoke_run_writes_every_section_of_the_page(smoke_run):
    _, page = smoke_run
    headings = [
        "## Email pipeline",
        "## One worker instance, sized for I/O",
        "## Database connections",
        "## Independent worker scaling",
        "## Autoscaling on the queue's latency",
        "## Memory",
        "## Cold start",
        "## Side by side with the single-container layout",
        "## Validator",
    ]
    assert [h for h in headings if h not in page] == []


def test_smoke_run_drains_the_same_backlog_fixed_and_autoscaled_with_nothing_lost(smoke_run):
    results, _ = smoke_run
    autoscale = results["autoscale"]
    keys = {
        "drain_s_fixed",
        "drain_s_autoscaled",
        "p95_latency_s_fixed",
        "p95_latency_s_autoscaled",
        "instance_seconds_fixed",
        "instance_seconds_autoscaled",
        "max_instances",
        "target_latency_s",
    }
    assert (keys - set(autoscale), autoscale["lost"], autoscale["duplicated"]) == (set(), 0, 0)


def test_smoke_run_measures_argon2id_beside_pbkdf2_on_a_limited_web_with_nothing_failed(smoke_run):
    results, _ = smoke_run
    web = results["web"]
    assert (
        web["failed"],
        web["baseline_pbkdf2"]["failed"],
        web["hash_ms"] < web["baseline_pbkdf2"]["hash_ms"],
    ) == (0, 0, True)
