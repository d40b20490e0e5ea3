"""Settings for an app reading from the test standby, and which server a connection reaches."""

from __future__ import annotations

import sqlalchemy as sa

from entrypoints.config import Environment, Replicas, Settings
from tests.integration.conftest import REDIS_URL
from tests.integration.replicas.cluster import Cluster
from tests.integration.support import UNCAPPED


def replica_settings(cluster: Cluster, redis_prefix: str, **replicas: float) -> Settings:
    return Settings(
        env=Environment.TEST,
        secret_key="test-secret-" * 4,
        rate_limits_enabled=False,
        hold_limits=UNCAPPED,
        database_url=cluster.primary.url,
        redis_url=REDIS_URL,
        redis_prefix=redis_prefix,
        replicas=Replicas(urls=(cluster.standby.url,), **replicas),
    )


def in_recovery(connection: sa.Connection) -> bool:
    """Whether the server on the other end of this connection is a standby."""
    return bool(connection.exec_driver_sql("SELECT pg_is_in_recovery()").scalar())
