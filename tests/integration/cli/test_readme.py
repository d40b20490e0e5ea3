"""The README's walk-through, run line by line against ``hourbook demo --no-walkthrough``."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
from pathlib import Path

from tests.integration.cli.support import environment, free_port, get_when_up

README = Path(__file__).resolve().parents[3] / "README.md"
MARKER = "<!-- walkthrough:"


def walkthrough_script() -> str:
    text = README.read_text()
    block = re.search(r"```sh\n(.*?)```", text[text.index(MARKER) :], re.DOTALL)
    assert block is not None, "the README lost its walk-through"
    # The first line starts the server, which the test does itself on a free port.
    lines = block[1].splitlines()
    assert lines[0].startswith("hourbook demo --no-walkthrough &")
    return "\n".join(lines[1:])


def test_the_readme_walkthrough_books_and_pays_with_curl(tmp_path: Path) -> None:
    port = free_port()
    server = subprocess.Popen(  # noqa: S603
        [sys.executable, "-m", "entrypoints.cli.main", "demo", "--no-walkthrough",
         "--port", str(port), "--professionals", "48"],
        env=environment(tmp_path), cwd=tmp_path, stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    try:
        get_when_up(f"http://127.0.0.1:{port}/healthz", server)
        run = subprocess.run(  # noqa: S603
            ["/bin/bash", "-euo", "pipefail", "-c", walkthrough_script()],
            env=environment(tmp_path, API=f"http://127.0.0.1:{port}"), cwd=tmp_path,
            capture_output=True, text=True, timeout=120, check=False,
        )  # fmt: skip
    finally:
        server.send_signal(signal.SIGINT)  # Ctrl-C
        output, _ = server.communicate(timeout=30)

    assert run.returncode == 0, run.stdout + run.stderr
    printed = run.stdout.splitlines()
    assert "pending" in printed
    assert "confirmed" in printed
    assert len([line for line in printed if line.endswith(".eml")]) == 2
    assert server.returncode == 0, output
    assert "Stopping." in output

