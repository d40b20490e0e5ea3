"""Growing pauses between attempts to reach a dependency that is down."""

from __future__ import annotations


class Backoff:
    """``next()`` gives ``first``, then twice that, and so on up to ``cap``; ``reset()`` after
    a success. The cap is short (seconds) so that work resumes soon after an outage ends."""

    def __init__(self, first: float = 0.5, cap: float = 5.0) -> None:
        self.first = first
        self.cap = cap
        self._next = first

    def next(self) -> float:
        pause = self._next
        self._next = min(self._next * 2, self.cap)
        return pause

    def reset(self) -> None:
        self._next = self.first
