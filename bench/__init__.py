"""Benchmarks: `make bench` runs every section and regenerates docs/BENCHMARKS.md from
bench/results.json. One module per section; see bench/run.py."""
