"""Benchmarks over the real stack: `python -m benchmarks` (see README, "Benchmarks")."""
