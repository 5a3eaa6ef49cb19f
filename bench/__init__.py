"""Benchmarks of the hub against the sandbox: ``python -m bench.run [--quick] [--only NAME]``."""
