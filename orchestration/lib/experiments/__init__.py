"""Experiment readouts: pure statistics (`stats`) on per-unit sufficient statistics."""
