"""Benchmarks: `python -m bench.<name>`; each prints figures next to a reference."""
