"""The web pages: a driving adapter beside the API, in the same app, on the same use cases.

``init_web(app, settings)`` registers the blueprint (``blueprint.web``) with its pages
(``find_page``, ``professional_page``, ``booking_pages``, ``my_bookings``, ``account_pages``;
the professional's ``pro_account``, ``pro_hours``, ``pro_time_off``, ``pro_bookings``),
configures the session cookie (``sessions``); CSRF is ``csrf``, the Content-Security-Policy
``csp`` and every English sentence ``text``. Templates are in ``templates/web/``, the
stylesheet and scripts in ``static/web/``.
"""

from __future__ import annotations

from flask import Flask

from entrypoints.config import Settings
from entrypoints.web import (  # noqa: F401 - importing a page module registers its routes
    account_pages,
    booking_pages,
    find_page,
    my_bookings,
    pro_account,
    pro_bookings,
    pro_hours,
    pro_time_off,
    professional_page,
)
from entrypoints.web.blueprint import web
from entrypoints.web.sessions import configure


def init_web(app: Flask, settings: Settings) -> None:
    configure(app, settings)
    app.register_blueprint(web)
