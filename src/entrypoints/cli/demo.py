"""``hourbook demo``: the embedded default, end to end, on a machine with nothing else installed.

It always runs embedded, whatever the environment says about services: a SQLite file in the
instance folder (created or migrated here: the demo owns it), the payment simulator, mail
written to a folder and the in-process job runner. It seeds the catalogue, serves the API and
the web pages on one threaded HTTP server and, unless told not to, walks one booking from
search to the confirmation email over that API, then points the person to the web pages.
Ctrl-C stops the server and the job runner cleanly.
"""

from __future__ import annotations

import logging
import os
import secrets
import socket
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace

from werkzeug.serving import make_server

from adapters.jobs.inline_runner import InlineJobRunner
from adapters.sql import migrate
from entrypoints.api.app import create_app
from entrypoints.bootstrap import build, make_job_context
from entrypoints.cli import seed, walkthrough
from entrypoints.config import ConfigError, Settings

# Settings that point at outside services: the demo runs without every one of them.
_SERVICES = ("DATABASE_URL", "REDIS_URL", "STRIPE_API_KEY", "STRIPE_API_BASE", "SMTP_URL")


@dataclass(frozen=True, slots=True, kw_only=True)
class DemoOptions:
    host: str = "127.0.0.1"
    port: int = 8000
    professionals: int = 300
    walkthrough: bool = True
    keep_serving: bool = True


def demo_settings(environ: Mapping[str, str], base_url: str) -> Settings:
    """The embedded default, with the rest of the environment's settings (instance dir, ...)."""
    embedded = {
        name: value
        for name, value in environ.items()
        if name not in _SERVICES and not name.startswith("STRIPE_")
    }
    if embedded.get("HOURBOOK_ENV", "").lower() == "production":
        raise ConfigError("hourbook demo does not run with HOURBOOK_ENV=production")
    embedded.setdefault("HOURBOOK_SECRET_KEY", secrets.token_urlsafe(48))  # this run only
    return replace(Settings.from_env(embedded), public_url=base_url)


def run(options: DemoOptions, say: Callable[[str], None] = print) -> int:
    port = _free_port(options.host, options.port, say)
    base_url = f"http://{options.host}:{port}"
    settings = demo_settings(os.environ, base_url)
    container = build(settings)
    say(f"Database: {container.engine.url.render_as_string(hide_password=True)}")
    migrate.upgrade(container.engine)
    added = seed.seed(container.uow, options.professionals)
    say(f"Catalogue: {options.professionals} professionals ({added} added now)")

    server = make_server(options.host, port, create_app(settings, container), threaded=True)
    runner = InlineJobRunner(make_job_context(container))
    serving = threading.Thread(target=server.serve_forever, name="hourbook-http", daemon=True)
    runner.start()
    serving.start()
    say(f"API:      {base_url}   (docs: {base_url}/docs, spec: {base_url}/openapi.json)")
    say(f"Web:      {base_url}/   (find a professional, book and pay in your browser)")
    say(f"Mail:     {settings.mail_dir.resolve()}")
    try:
        if options.walkthrough:
            booking = walkthrough.walk(base_url, settings.mail_dir, say)
            say(f"\nDone: {base_url}/bookings/{booking['id']} is {booking['status']}.")
            say(f"Now open {base_url}/ in your browser and book one yourself"
                " (test card 4242 4242 4242 4242; 4000 0000 0000 0002 is declined).")
        if options.keep_serving:
            say("\nServing. Press Ctrl-C to stop.")
            threading.Event().wait()
    except KeyboardInterrupt:
        say("\nStopping.")
    finally:
        server.shutdown()
        runner.stop()
        container.close()
    return 0


def _free_port(host: str, wanted: int, say: Callable[[str], None]) -> int:
    """``wanted`` if it can be bound, else any free port (0 always means any)."""
    for port in (wanted, 0) if wanted else (0,):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            try:
                probe.bind((host, port))
            except OSError:
                say(f"Port {port} is taken; using a free one instead.")
                continue
            return int(probe.getsockname()[1])
    raise OSError(f"no free port on {host}")


def quiet_request_log() -> None:
    """The walk-through prints its own steps; werkzeug's line per request would bury them."""
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
