"""``hourbook demo``: the README's first command, on a fresh folder, to a confirmed booking."""

from __future__ import annotations

import re
from email import message_from_bytes, policy
from pathlib import Path

from tests.integration.cli.support import environment, hourbook
from tests.integration.conftest import POSTGRES_URL


def test_the_demo_walks_a_booking_from_search_to_confirmation_emails(tmp_path: Path) -> None:
    # A configured DATABASE_URL must not matter: the demo always runs the embedded default.
    env = environment(tmp_path, DATABASE_URL=POSTGRES_URL)

    done = hourbook(
        "demo", "--exit-after-walkthrough", "--port", "0", "--professionals", "48",
        env=env, cwd=tmp_path,
    )  # fmt: skip

    assert done.returncode == 0, done.stderr
    assert f"sqlite+pysqlite:///{tmp_path}/instance/hourbook.sqlite3" in done.stdout
    assert "Catalogue: 48 professionals (48 added now)" in done.stdout
    assert "Idempotent-Replayed: true" in done.stdout
    web = re.search(r"^Web: +(http://127\.0\.0\.1:[0-9]+/) ", done.stdout, re.MULTILINE)
    assert web is not None, done.stdout
    assert f"Now open {web[1]} in your browser" in done.stdout
    booking_id = re.search(r"booking (\S+) is confirmed", done.stdout)
    assert booking_id is not None, done.stdout
    bodies = [
        message_from_bytes(path.read_bytes(), policy=policy.default).get_body(("plain",))
        for path in (tmp_path / "instance" / "mail").glob("*.eml")
    ]
    confirmations = [b for b in bodies if b is not None and booking_id[1] in b.get_content()]
    assert len(confirmations) == 2  # the client's and the professional's


def test_a_second_demo_run_reuses_its_database_and_adds_nothing(tmp_path: Path) -> None:
    env = environment(tmp_path)
    first = hourbook("demo", "--exit-after-walkthrough", "--port", "0", "--professionals", "24",
                     env=env, cwd=tmp_path)  # fmt: skip
    assert first.returncode == 0, first.stderr

    again = hourbook("demo", "--exit-after-walkthrough", "--port", "0", "--professionals", "24",
                     env=env, cwd=tmp_path)  # fmt: skip

    assert again.returncode == 0, again.stderr
    assert "(0 added now)" in again.stdout
    assert len(re.findall(r"is confirmed\.", first.stdout + again.stdout)) == 2


def test_the_demo_refuses_to_run_as_production(tmp_path: Path) -> None:
    done = hourbook(
        "demo", "--port", "0", env=environment(tmp_path, HOURBOOK_ENV="production"), cwd=tmp_path
    )

    assert done.returncode == 2
    assert "HOURBOOK_ENV=production" in done.stderr
    assert not (tmp_path / "instance").exists()
