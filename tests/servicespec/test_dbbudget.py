"""The connection arithmetic behind validator rule C011."""

from __future__ import annotations

import pytest

from servicespec import dbbudget


@pytest.mark.parametrize(
    ("plan", "limit"),
    [
        (None, 100),  # Render's default plan
        ("free", 100),
        ("basic-256mb", 100),
        ("basic-4gb", 100),
        ("pro-8gb", 200),
        ("pro-16gb", 400),
        ("accelerated-32gb", 500),
        ("pro-512gb", 500),
        ("0.1c-256mb", 100),  # Render's 2026 names: the memory after the CPUs
        ("2c-8g", 200),
        ("4c-16g", 400),
        ("128c-1024g", 500),
        ("starter", 97),  # legacy
        ("pro plus", 197),
        ("no-such-plan", None),
    ],
)
def test_a_plans_cap_follows_its_memory(plan, limit):
    assert dbbudget.plan_limit(plan) == limit


def budget(**changes) -> dbbudget.Budget:
    values = dict(
        web_instances=1,
        web_processes=2,
        web_threads=4,
        web_pool_size=4,
        worker_instances=4,
        worker_pool="threads",
        worker_concurrency=32,
        worker_pool_size=4,
        cron_jobs=2,
    )
    return dbbudget.Budget(**{**values, **changes})


def test_a_threads_worker_instance_holds_its_pool_not_its_threads():
    assert (budget().worker, budget().total) == (16, 8 + 16 + 2)


def test_a_prefork_worker_holds_a_connection_per_child():
    assert budget(worker_pool="prefork", worker_concurrency=2).worker == 8


def test_a_web_process_never_holds_more_than_its_threads():
    assert budget(web_threads=2, web_pool_size=10).web == 4


def test_the_arithmetic_reads_as_the_docs_give_it():
    assert budget().arithmetic() == (
        "web 1 instance(s) x 2 process(es) x 4 = 8, worker 4 instance(s) x 4 = 16, cron jobs 2: 26"
    )


def test_usable_leaves_room_for_postgres_and_a_shell():
    assert dbbudget.usable(100) == 80
