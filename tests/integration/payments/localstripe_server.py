"""Run localstripe on 127.0.0.1:<port> with its pickle persistence switched off.

localstripe pickles its whole state to the fixed file /tmp/localstripe.pickle after each write;
parallel test runs would share it. Started as ``python -m tests.integration.payments.
localstripe_server <port>`` by the session fixture, in its own process (its state is global).
"""

from __future__ import annotations

import sys

from aiohttp import web
from localstripe import server
from localstripe.resources import store


def main(port: int) -> None:
    store.dump_to_disk = lambda: None  # type: ignore[method-assign]
    web.run_app(server.app, host="127.0.0.1", port=port, print=None)


if __name__ == "__main__":
    main(int(sys.argv[1]))
