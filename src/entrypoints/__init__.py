"""Driving entrypoints: the Flask app, the RQ worker, the CLI and the composition root.

Importing this package puts ``RQ_KEY_PREFIX`` in the environment from
``HOURBOOK_REDIS_PREFIX`` (``entrypoints.redis_keys``): rq reads it once, when first imported,
and this package is imported before any entrypoint that reaches rq.
"""

from entrypoints.redis_keys import apply_to_this_process

apply_to_this_process()
