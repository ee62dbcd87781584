"""`make bench` cannot rot: a smoke run (tiny counts, figures not checked) writes its
results and the page."""

from __future__ import annotations

import json

import pytest

from bench import run


@pytest.fixture(scope="module")
def smoke_run(tmp_path_factory):
    directory = tmp_path_factory.mktemp("bench")
    results, doc = directory / "results.json", directory / "BENCHMARKS.md"
    run.main(["--smoke", "--results", str(results), "--doc", str(doc)])
    return json.loads(results.read_text()), doc.read_text()


def test_smoke_run_records_the_validator_figures(smoke_run):
    results, _ = smoke_run
    assert "own_blueprint_s" in results["validator"]


def test_smoke_run_writes_the_benchmarks_page(smoke_run):
    _, page = smoke_run
    assert "## Validator" in page
