"""Benchmarks (issue #7): transform speed and memory, API cost per participant-day, end-to-end scaling.

Run with ``make bench`` or ``python -m benchmarks --json``. Everything runs offline against the
simulator. Performance is measured here, side by side in one run, and never asserted by timed tests.
"""
