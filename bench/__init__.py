"""Benchmarks: each script prints its figures and the ratio against its limit or baseline."""
