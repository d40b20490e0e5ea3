"""Benchmarks of hourbook against floors measured in the same run, on PostgreSQL.

Run them all with ``python -m bench`` (options: ``python -m bench --help``); the results table
is written into ``docs/performance.md``. Nothing here is part of the test suite.
"""
