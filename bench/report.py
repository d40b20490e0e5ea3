"""The results as Markdown, written between markers in ``docs/performance.md``.

Only the part between the markers is replaced, so the analysis written around it by hand
survives the next run.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

START = "<!-- bench:results:start (written by python -m bench; edit outside these markers) -->"
END = "<!-- bench:results:end -->"
SCALE_START = (
    "<!-- bench:scale:start (written by python -m bench --scale; edit outside these markers) -->"
)
SCALE_END = "<!-- bench:scale:end -->"


@dataclass(slots=True)
class Table:
    title: str
    columns: tuple[str, ...]
    rows: list[tuple[str, ...]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def add(self, *cells: str) -> None:
        if len(cells) != len(self.columns):
            raise ValueError(f"{self.title}: {len(cells)} cells for {len(self.columns)} columns")
        self.rows.append(cells)

    def markdown(self) -> str:
        lines = [f"### {self.title}", ""]
        lines.append("| " + " | ".join(self.columns) + " |")
        lines.append("|" + "|".join("---" for _ in self.columns) + "|")
        lines += ["| " + " | ".join(row) + " |" for row in self.rows]
        if self.notes:
            lines.append("")
            lines += [f"- {note}" for note in self.notes]
        return "\n".join(lines)


def render(
    machine: dict[str, str], tables: list[Table], *, start: str = START, end: str = END,
    extra: str = "",
) -> str:
    facts = "\n".join(f"| {name} | {value} |" for name, value in machine.items())
    parts = [start, "", "| machine and run | |", "|---|---|", facts, ""]
    if extra:
        parts += [extra, ""]
    parts += [table.markdown() + "\n" for table in tables]
    parts.append(end)
    return "\n".join(parts)


def write(path: Path, results: str, *, start: str = START, end: str = END) -> None:
    """Put ``results`` between the markers of ``path`` (made with a heading if missing)."""
    text = path.read_text() if path.exists() else f"# Performance\n\n{start}\n{end}\n"
    before, found_start, rest = text.partition(start)
    _, found_end, after = rest.partition(end)
    if not found_start or not found_end:
        text = text.rstrip() + "\n\n" + start + "\n" + end + "\n"
        before, _, rest = text.partition(start)
        _, _, after = rest.partition(end)
    path.write_text(before + results + after)


# -- formatting ------------------------------------------------------------------------------


def per_second(value: float) -> str:
    return f"{value:,.0f}/s"


def ms(value: float) -> str:
    return "n/a" if math.isnan(value) else f"{value:,.1f} ms" if value >= 10 else f"{value:.2f} ms"


def us(value: float) -> str:
    return f"{value:,.0f} µs"


def ratio(value: float, floor: float) -> str:
    return f"{value / floor:.2f}×" if floor else "n/a"


def verdict(met: bool) -> str:
    return "met" if met else "**missed**"
