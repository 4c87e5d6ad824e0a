"""Performance measurements: `make bench` (see bench/run.py and the README's Performance section)."""
