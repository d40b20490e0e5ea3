"""Authentication's stores: the Redis cache in front of the revoked-token list.

The durable list is ``adapters.sql.users``.
"""
