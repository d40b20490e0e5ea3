"""The WSGI application ``hourbook serve`` hands to gunicorn:
``entrypoints.serve.wsgi:application()``.

With Redis configured, jobs go through the outbox to RQ and ``hourbook worker`` runs them. In
the embedded default (no Redis) this process runs them itself with the in-process job runner,
which is why ``hourbook serve`` keeps the embedded default to a single gunicorn process.
"""

from __future__ import annotations

import atexit

from flask import Flask

from adapters.jobs.inline_runner import InlineJobRunner
from entrypoints.api.app import create_app
from entrypoints.bootstrap import build, make_job_context
from entrypoints.config import Settings, require_rq_key_prefix


def application() -> Flask:
    settings = Settings.from_env()
    require_rq_key_prefix(settings)
    container = build(settings)
    app = create_app(settings, container)
    if settings.redis_url is None:
        runner = InlineJobRunner(make_job_context(container))
        runner.start()
        atexit.register(runner.stop)
    atexit.register(container.close)
    return app
