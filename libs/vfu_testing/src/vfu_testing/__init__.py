"""Test support for every service's tests and the benchmarks (a development dependency)."""
