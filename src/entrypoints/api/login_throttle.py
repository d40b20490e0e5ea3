"""Back-off after wrong passwords, per (client address, account). Reasoning: docs/security.md.

Each address may get an account's password wrong ``free_failures`` times; after that it waits
``base_seconds``, then twice as long after each further failure, up to ``max_seconds``. A right
password clears that address's count. The wait belongs to the (address, account) pair, never to
the account alone, so nobody can lock the owner out by failing on purpose: the owner, from an
address that has not failed, logs in at once.

An account attacked from many addresses (more than ``account_alarm`` failures within an hour)
leaves no free failures to any address that fails on it: each failing address waits from its
first failure on, while an address that gives the right password still passes.

Counters live in Redis when ``REDIS_URL`` is set (shared by every API process, keys under
``<HOURBOOK_REDIS_PREFIX>login:``), else in this process. E-mail addresses are hashed in keys.
If the store is unreachable the throttle lets the attempt through (the per-address rate limit
still holds) and logs it.
"""

from __future__ import annotations

import hashlib
import logging
import math
import time

from flask import Flask, current_app, request
from limits.errors import ConfigurationError, StorageError
from limits.storage import Storage, storage_from_string
from werkzeug.exceptions import TooManyRequests

from entrypoints.config import LoginThrottle, Settings

logger = logging.getLogger(__name__)

_EXTENSION = "hourbook_login_throttle"
_WINDOW_SECONDS = 3600  # failures are forgotten an hour after the first one


class Throttle:
    def __init__(self, storage: Storage, prefix: str, rules: LoginThrottle) -> None:
        self.storage = storage
        self.prefix = f"{prefix}login:"
        self.rules = rules
        backend = storage.base_exceptions
        self.unreachable = (StorageError, *(backend if isinstance(backend, tuple) else (backend,)))

    def check(self, address: str, email: str) -> None:
        """Raise 429 with ``Retry-After`` while ``address`` must wait before trying ``email``."""
        wait_key = self._key("wait", address, email)
        try:
            if self.storage.get(wait_key) <= 0:
                return
            remaining = self.storage.get_expiry(wait_key) - time.time()
        except self.unreachable as error:
            logger.warning("login throttle store unreachable, not checking: %s", error)
            return
        if remaining > 0:
            raise TooManyRequests(
                description="too many wrong passwords for this account from your address;"
                " wait before trying again",
                retry_after=math.ceil(remaining),
            )

    def failed(self, address: str, email: str) -> None:
        try:
            failures = self.storage.incr(self._key("fail", address, email), _WINDOW_SECONDS)
            on_account = self.storage.incr(self._key("account", "", email), _WINDOW_SECONDS)
            free = 0 if on_account > self.rules.account_alarm else self.rules.free_failures
            if failures >= free:
                wait_key = self._key("wait", address, email)
                self.storage.clear(wait_key)
                self.storage.incr(wait_key, self.wait_seconds(failures - free + 1))
        except self.unreachable as error:
            logger.warning("login throttle store unreachable, failure not counted: %s", error)

    def succeeded(self, address: str, email: str) -> None:
        try:
            self.storage.clear(self._key("fail", address, email))
            self.storage.clear(self._key("wait", address, email))
        except self.unreachable as error:
            logger.warning("login throttle store unreachable: %s", error)

    def wait_seconds(self, over: int) -> int:
        """The wait after the ``over``-th failure counted from the last free one: doubling
        from ``base_seconds``, capped at ``max_seconds``."""
        return min(self.rules.base_seconds << min(over - 1, 30), self.rules.max_seconds)

    def _key(self, kind: str, address: str, email: str) -> str:
        account = hashlib.sha256(email.strip().lower().encode()).hexdigest()[:32]
        return f"{self.prefix}{kind}:{address}:{account}"


def init_login_throttle(app: Flask, settings: Settings) -> None:
    try:
        storage = storage_from_string(settings.redis_url or "memory://")
    except ConfigurationError as error:  # pragma: no cover - the URL was validated in config
        raise RuntimeError(f"login throttle: {error}") from error
    app.extensions[_EXTENSION] = Throttle(storage, settings.redis_prefix, settings.login_throttle)


def throttle() -> Throttle:
    return current_app.extensions[_EXTENSION]  # type: ignore[no-any-return]


def client_address() -> str:
    """The client's address as the proxy settings resolved it (``entrypoints.api.proxies``)."""
    return request.remote_addr or "unknown"
