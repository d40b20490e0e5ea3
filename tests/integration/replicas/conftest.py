"""A primary and its streaming standby for the whole module, and an app reading from it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask

from adapters.sql import migrate
from adapters.sql.engine import make_engine
from entrypoints.api.app import create_app
from entrypoints.bootstrap import Container, build
from entrypoints.config import Settings
from tests.factories import FixedClock
from tests.integration.api.support import Api
from tests.integration.conftest import service_unavailable
from tests.integration.replicas.cluster import Cluster, postgres_bin, primary_and_standby
from tests.integration.replicas.support import replica_settings


@pytest.fixture(scope="module")
def cluster() -> Iterator[Cluster]:
    bin_dir = postgres_bin()
    if bin_dir is None:
        service_unavailable("PostgreSQL's binaries", "install Debian's postgresql", OSError())
    assert bin_dir is not None
    with primary_and_standby(bin_dir) as built:
        engine = make_engine(built.primary.url)
        migrate.upgrade(engine)
        engine.dispose()
        built.wait_for_replay()
        yield built


@pytest.fixture
def settings(cluster: Cluster, redis_prefix: str) -> Settings:
    """Reads on the standby; a bound and a window long enough for a paused replay."""
    return replica_settings(
        cluster, redis_prefix, max_lag_seconds=600.0, read_your_writes_seconds=600.0
    )


@pytest.fixture
def container(settings: Settings) -> Iterator[Container]:
    built = build(settings, clock=FixedClock())
    yield built
    built.close()


@pytest.fixture
def app(container: Container) -> Flask:
    return create_app(container.settings, container)


@pytest.fixture
def api(app: Flask) -> Api:
    return Api(app.test_client())
