"""Benchmarks: run with ``./dev.sh bench``. Figures are ratios against a baseline of the same run."""
