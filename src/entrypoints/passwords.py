"""Argon2id password hashing, bounded: at most ``limit`` hashes at once in this process.

Each hash costs about 64 MiB and a fifth of a second of a core (RFC 9106's low-memory
profile). Registration and login are open to anyone, so without a bound a burst of them could
exhaust the process's memory; over the bound, callers wait up to ``wait_seconds`` for a turn
and are then refused (:class:`HashingBusy`, answered 503 with ``Retry-After``).
"""

from __future__ import annotations

import threading

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError


class HashingBusy(Exception):
    """Every hashing slot of this process stayed taken for the whole wait."""


class Passwords:
    def __init__(self, hasher: PasswordHasher, *, limit: int, wait_seconds: float = 2.0) -> None:
        self.hasher = hasher
        self.limit = limit
        self.wait_seconds = wait_seconds
        self.slots = threading.BoundedSemaphore(limit)

    def hash(self, password: str) -> str:
        with self._slot():
            return self.hasher.hash(password)

    def verify(self, stored: str, password: str) -> bool:
        with self._slot():
            try:
                return self.hasher.verify(stored, password)
            except (VerificationError, InvalidHashError):
                return False

    def needs_rehash(self, stored: str) -> bool:
        """True if ``stored`` was made with other (older) parameters than ours."""
        try:
            return self.hasher.check_needs_rehash(stored)
        except InvalidHashError:
            return False

    def _slot(self) -> _Slot:
        return _Slot(self)


class _Slot:
    def __init__(self, owner: Passwords) -> None:
        self.owner = owner

    def __enter__(self) -> None:
        if not self.owner.slots.acquire(timeout=self.owner.wait_seconds):
            raise HashingBusy

    def __exit__(self, *_: object) -> None:
        self.owner.slots.release()
