"""Benchmarks: one command each; results and method in docs/BENCHMARKS.md."""
