"""constraints.txt pins what CI installs, and this environment is what it pins."""

from __future__ import annotations

import re
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PIN = re.compile(r"([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;]+)")
# pip leaves its own tools out of `pip freeze`; hourbook is the project itself.
UNPINNED = {"pip", "setuptools", "wheel", "distribute", "hourbook"}
INSTALL = "pip install -c constraints.txt -e '.[dev]'"


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def pins() -> dict[str, str]:
    found = {}
    for line in (ROOT / "constraints.txt").read_text().splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        matched = PIN.fullmatch(line.strip())
        assert matched, f"not a name==version pin: {line!r}"
        found[canonical(matched.group(1))] = matched.group(2)
    return found


def test_every_line_of_the_constraints_pins_one_exact_version() -> None:
    assert len(pins()) > 50  # the whole development install, not a few hand-picked names


def test_ci_and_the_readme_install_with_the_constraints() -> None:
    assert INSTALL in (ROOT / ".ci" / "run").read_text().replace("python -m pip", "pip")
    assert INSTALL in (ROOT / "README.md").read_text()


def test_every_installed_distribution_is_pinned_at_its_installed_version() -> None:
    pinned = pins()
    installed = {
        canonical(dist.metadata["Name"]): dist.version for dist in metadata.distributions()
    }

    unpinned = sorted(set(installed) - set(pinned) - UNPINNED)
    different = {
        name: (version, pinned[name]) for name, version in installed.items()
        if name in pinned and version != pinned[name]
    }  # fmt: skip

    assert not unpinned, f"installed but not in constraints.txt (refresh it): {unpinned}"
    assert not different, f"installed (left) differs from constraints.txt (right): {different}"
