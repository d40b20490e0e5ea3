"""gunicorn configuration for ``hourbook serve``
(``gunicorn -c python:entrypoints.serve.gunicorn_conf``).

Every value can be overridden from the environment, so one file serves a laptop and a
production host. Defaults are the ones measured in ``docs/performance.md``: the ``gthread``
worker (``entrypoints.serve.gunicorn_worker``, which answers gunicorn's own errors in JSON) with
2 processes × 4 threads per 2 cores, which overlaps the waits on PostgreSQL and Redis without
the memory of more processes. Each worker process builds its own app (and so its own database
pool) after the fork: ``preload_app`` stays off so no connection is shared across processes.
"""

from __future__ import annotations

import multiprocessing
import os
import shutil
import tempfile

from gunicorn.arbiter import Arbiter
from gunicorn.workers.base import Worker

from entrypoints import logs  # not entrypoints.metrics: prometheus_client must wait (below)
from entrypoints.config import trusted_proxies

bind = os.environ.get("HOURBOOK_BIND", "127.0.0.1:8000")
# gthread, answering the errors gunicorn raises itself (414, 431, 400) as JSON
worker_class = "entrypoints.serve.gunicorn_worker.JsonErrorsWorker"
workers = int(os.environ.get("HOURBOOK_WORKERS", str(min(multiprocessing.cpu_count(), 8))))
threads = int(os.environ.get("HOURBOOK_THREADS", "4"))
# Behind a load balancer: requests must finish well inside its idle timeout.
timeout = int(os.environ.get("HOURBOOK_WORKER_TIMEOUT", "30"))
graceful_timeout = 20
keepalive = 5
# Recycle workers now and then so a slow leak in a dependency cannot grow without bound.
max_requests = 10_000
max_requests_jitter = 1_000
preload_app = False
# The proxies in front (docs/deploy.md) set X-Forwarded-*: gunicorn believes their scheme
# header exactly where the app believes their X-Forwarded-For (HOURBOOK_TRUSTED_PROXIES).
_TRUSTED = trusted_proxies(os.environ.get("HOURBOOK_TRUSTED_PROXIES"))
forwarded_allow_ips = _TRUSTED.gunicorn_allow_ips()
accesslog = None  # the app logs every request itself, as JSON with its request id
# so that gunicorn builds no access line:
logger_class = "entrypoints.serve.gunicorn_logger.AppLogsRequests"
errorlog = "-"
loglevel = os.environ.get("HOURBOOK_LOG_LEVEL", "info")
logconfig_dict = logs.dict_config(loglevel)  # gunicorn's own lines as JSON too

# Metrics of several workers must add up (docs/operations.md): each writes its values to files
# in PROMETHEUS_MULTIPROC_DIR and a scrape adds them. Without one from the operator, a folder of
# this server's own, set here before anything imports prometheus_client (it reads the variable
# at import), removed on exit. The folder starts empty and dead workers are forgotten.
_MADE_METRICS_DIR: str | None = None
if workers > 1 and not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    _MADE_METRICS_DIR = tempfile.mkdtemp(prefix="hourbook-metrics-")
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = _MADE_METRICS_DIR


def on_starting(server: Arbiter) -> None:
    from entrypoints import metrics  # here, not at the top: after the variable is settled

    metrics.clear_multiprocess_dir()
    if metrics.multiprocess_dir() is not None:
        server.log.info("metrics of %s workers add up in %s", workers, metrics.multiprocess_dir())


def child_exit(server: Arbiter, worker: Worker) -> None:
    from entrypoints import metrics

    metrics.forget_worker(worker.pid)


def on_exit(server: Arbiter) -> None:
    if _MADE_METRICS_DIR is not None:
        shutil.rmtree(_MADE_METRICS_DIR, ignore_errors=True)
