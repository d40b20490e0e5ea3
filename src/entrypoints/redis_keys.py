"""One deployment, one key prefix: ``HOURBOOK_REDIS_PREFIX`` for every key, RQ's included.

hourbook's own keys (rate limits, idempotency, revocations, the sent log) take the prefix as
they are built. RQ names its keys (queues, jobs, registries, results, workers, the cron
scheduler) from ``RQ_KEY_PREFIX``, read once when ``rq.defaults`` is first imported, for the
whole process. So the prefix has to be in the environment before anything imports rq:
``entrypoints/__init__.py`` sets it (the package is imported before any of its modules, and
so before the worker, the app or the CLI reach rq), and every process entrypoint checks with
``config.require_rq_key_prefix`` that rq took it, refusing to start otherwise.
"""

from __future__ import annotations

import os
import re
from collections.abc import MutableMapping

DEFAULT_PREFIX = "hourbook:"
# RQ refuses any other character in RQ_KEY_PREFIX (rq.defaults); the length keeps keys short.
PREFIX_PATTERN = re.compile(r"[A-Za-z0-9_.:{}-]{1,64}")


def rq_key_prefix(redis_prefix: str) -> str:
    """RQ's keys live under ``<prefix>rq`` (``hourbook:rq:queue:hourbook``), apart from ours."""
    return f"{redis_prefix}rq"


def apply_rq_key_prefix(environ: MutableMapping[str, str]) -> None:
    """Set RQ_KEY_PREFIX in ``environ`` from HOURBOOK_REDIS_PREFIX, the one setting: a value
    inherited from a parent process of another deployment is replaced. An invalid prefix is
    left for the settings to refuse, with the reason."""
    prefix = environ.get("HOURBOOK_REDIS_PREFIX", "").strip() or DEFAULT_PREFIX
    if PREFIX_PATTERN.fullmatch(prefix):
        environ["RQ_KEY_PREFIX"] = rq_key_prefix(prefix)


def apply_to_this_process() -> None:
    apply_rq_key_prefix(os.environ)
