"""gunicorn's logger for ``hourbook serve``: its error log as configured, no access log.

The app logs every request itself, as JSON with its request id (``api/request_ids.py``). gunicorn
still builds an access line for every request whenever it is given a logging configuration
(``logconfig_dict``), and only then finds that its logger drops it: about 2 % of an API process's
CPU per booking (docs/performance.md). This logger says there is no access log to build.
"""

from __future__ import annotations

from typing import Any

from gunicorn.glogging import Logger


class AppLogsRequests(Logger):
    @property
    def access_log_enabled(self) -> bool:
        return False

    def access(self, resp: Any, req: Any, environ: Any, request_time: Any) -> None:
        return None
