"""Capture what the root logger emits, formatted as production formats it: JSON lines."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from entrypoints.logs import JsonFormatter


class JsonLog:
    def __init__(self, stream: io.StringIO) -> None:
        self.stream = stream

    def lines(self) -> list[dict[str, Any]]:
        """Every line emitted so far, each parsed (a line that is not JSON fails the test)."""
        return [json.loads(line) for line in self.stream.getvalue().splitlines()]

    def from_logger(self, name: str) -> list[dict[str, Any]]:
        return [line for line in self.lines() if line["logger"] == name]


@contextmanager
def capture_json_log(level: int = logging.INFO) -> Iterator[JsonLog]:
    """Format at emit time, in the emitting thread, exactly as the production handler does."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    previous = root.level
    root.addHandler(handler)
    root.setLevel(level)
    try:
        yield JsonLog(stream)
    finally:
        root.removeHandler(handler)
        root.setLevel(previous)
