"""The docs' screenshots are what ``tools/screenshots.py`` makes: every page it names at every
width, nothing else, each shown in docs/web.md; and the script runs (on a reduced set)."""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
from pathlib import Path
from types import ModuleType

from PIL import Image

ROOT = Path(__file__).resolve().parents[3]
SCRIPT = ROOT / "tools" / "screenshots.py"
IMAGES = ROOT / "docs" / "images"
OTHER_PICTURES = {"scale.png"}  # drawn by `python -m bench --scale` (docs/performance.md)


def screenshots_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("screenshots", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def expected_names() -> set[str]:
    script = screenshots_script()
    return {f"{page}-{width}.png" for page in script.PAGES for width in script.WIDTHS}


def test_the_committed_screenshots_are_every_page_of_the_script_at_every_width() -> None:
    committed = {path.name for path in IMAGES.glob("*.png")} - OTHER_PICTURES

    assert committed == expected_names()
    for name in committed:
        with Image.open(IMAGES / name) as image:
            assert image.format == "PNG"
            assert image.width == int(name.rsplit("-", 1)[1].removesuffix(".png")), name
        assert (IMAGES / name).stat().st_size < 150 * 1024, f"{name} is not small"


def test_docs_web_shows_every_screenshot_and_the_readme_shows_only_committed_ones() -> None:
    web = (ROOT / "docs" / "web.md").read_text()
    readme = (ROOT / "README.md").read_text()

    shown_in_web = set(re.findall(r"\(images/([a-z0-9-]+\.png)\)", web))
    shown_in_readme = set(re.findall(r"docs/images/([a-z0-9-]+\.png)", readme))

    assert shown_in_web == expected_names()
    assert shown_in_readme and shown_in_readme <= expected_names()


def test_the_script_saves_the_pages_and_widths_asked_for(tmp_path: Path) -> None:
    done = subprocess.run(  # noqa: S603 - our own script, our own arguments
        [sys.executable, str(SCRIPT), "--out", str(tmp_path), "--pages", "find,pro-bookings",
         "--widths", "390"],
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip

    assert done.returncode == 0, done.stderr[-3000:]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["find-390.png", "pro-bookings-390.png"]
    with Image.open(tmp_path / "pro-bookings-390.png") as image:
        assert image.width == 390 and image.height >= 600
