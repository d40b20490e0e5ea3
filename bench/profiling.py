"""Where the time goes: pyinstrument over the slow paths, summed by library and by function.

Each path runs in this process (Flask's test client instead of gunicorn, so HTTP parsing is not
included). Time spent waiting for PostgreSQL or Redis shows under the driver that waited.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

_SITE = re.compile(r"site-packages/([A-Za-z0-9_]+)")
_OURS = re.compile(r"/src/(booking|adapters|entrypoints)/")
_STDLIB = re.compile(r"/lib/python3\.\d+/([A-Za-z0-9_]+)")


@dataclass(frozen=True, slots=True)
class Profile:
    title: str
    calls: int
    seconds: float
    by_library: list[tuple[str, float]]  # (library, share of the time)
    by_function: list[tuple[str, float]]


def available() -> bool:
    try:
        import pyinstrument  # noqa: F401
    except ImportError:
        return False
    return True


def profile(title: str, operation: Callable[[], object], calls: int) -> Profile:
    from pyinstrument import Profiler

    profiler = Profiler(interval=0.001)
    profiler.start()
    for _ in range(calls):
        operation()
    profiler.stop()
    root = profiler.last_session.root_frame() if profiler.last_session else None
    libraries: Counter[str] = Counter()
    functions: Counter[str] = Counter()
    if root is not None:
        _walk(root, libraries, functions)
    total = sum(libraries.values()) or 1.0
    return Profile(
        title=title,
        calls=calls,
        seconds=root.time if root is not None else 0.0,
        by_library=[(name, t / total) for name, t in libraries.most_common(8)],
        by_function=[(name, t / total) for name, t in functions.most_common(8)],
    )


def _walk(frame: Any, libraries: Counter[str], functions: Counter[str]) -> None:
    own = frame.time - sum(child.time for child in frame.children)
    # pyinstrument records a function's own time in synthetic "[self]" children.
    owner = frame.parent if frame.is_synthetic and frame.parent is not None else frame
    if own > 0 and owner.file_path:
        libraries[_library(owner.file_path)] += own
        functions[f"{owner.function} ({owner.file_path_short}:{owner.line_no})"] += own
    for child in frame.children:
        _walk(child, libraries, functions)


def _library(path: str) -> str:
    if match := _SITE.search(path):
        return match.group(1)
    if match := _OURS.search(path):
        return f"hourbook {match.group(1)}"
    if match := _STDLIB.search(path):
        return f"stdlib {match.group(1)}"
    return "C built-ins"
