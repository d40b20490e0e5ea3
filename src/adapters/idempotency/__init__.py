"""Idempotency records for retried requests: in Redis.

The SQL store is ``adapters.sql.idempotency``.
"""
