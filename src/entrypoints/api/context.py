"""Access to the per-app composition root from inside a request."""

from __future__ import annotations

from flask import current_app

from entrypoints.bootstrap import Container

EXTENSION = "hourbook"


def container() -> Container:
    found = current_app.extensions[EXTENSION]
    if not isinstance(found, Container):
        raise RuntimeError("the app was not built by create_app")
    return found
