"""``hourbook db``, ``create-admin``, ``seed`` and ``serve``, as an operator runs them."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import pytest

from adapters.sql.engine import make_engine
from adapters.sql.unit_of_work import SqlUnitOfWork
from entrypoints import accounts
from entrypoints.bootstrap import build
from entrypoints.cli.seed import CATEGORIES, CITIES, catalogue_of
from entrypoints.config import Environment, Settings
from tests.integration.cli.support import (
    environment,
    free_port,
    get_when_up,
    hourbook,
    sqlite_in,
)


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return environment(
        tmp_path, DATABASE_URL=sqlite_in(tmp_path), HOURBOOK_SECRET_KEY="cli-secret-" * 4
    )


def test_db_upgrade_migrates_and_downgrade_to_base_empties(tmp_path: Path, env: dict[str, str]):
    upgraded = hourbook("db", "upgrade", env=env, cwd=tmp_path)
    current = hourbook("db", "current", env=env, cwd=tmp_path)
    emptied = hourbook("db", "downgrade", "base", env=env, cwd=tmp_path)

    assert upgraded.returncode == 0, upgraded.stderr
    assert current.stdout == upgraded.stdout
    head = upgraded.stdout.split("needs ")[1].strip()
    assert upgraded.stdout.startswith(f"database at {head};")
    assert emptied.returncode == 0, emptied.stderr
    assert emptied.stdout.startswith("database at base;")


def test_create_admin_makes_an_account_that_logs_in_as_admin(tmp_path: Path, env: dict[str, str]):
    hourbook("db", "upgrade", env=env, cwd=tmp_path)

    made = hourbook("create-admin", "--email", "Root@Example.com", "--password-stdin",
                    env=env, cwd=tmp_path, stdin="a long admin password\n")  # fmt: skip

    assert made.returncode == 0, made.stderr
    container = build(Settings(env=Environment.TEST, database_url=env["DATABASE_URL"]))
    user = accounts.authenticate(container, "root@example.com", "a long admin password")
    container.close()
    assert user is not None and user.role == "admin"


def test_create_admin_refuses_a_short_password_and_says_why(tmp_path: Path, env: dict[str, str]):
    hourbook("db", "upgrade", env=env, cwd=tmp_path)

    refused = hourbook("create-admin", "--email", "root@example.com", "--password-stdin",
                       env=env, cwd=tmp_path, stdin="short\n")  # fmt: skip

    assert refused.returncode == 1
    assert "passwords have 10 to 256 characters" in refused.stderr


def test_commands_on_an_unmigrated_database_name_the_fix(tmp_path: Path, env: dict[str, str]):
    for command in (["serve"], ["seed"], ["create-admin", "--email", "a@example.com",
                                          "--password-stdin"]):  # fmt: skip
        refused = hourbook(*command, env=env, cwd=tmp_path, stdin="a long admin password\n")

        assert refused.returncode == 1, command
        assert "run `hourbook db upgrade`" in refused.stderr


def test_a_malformed_setting_stops_a_command_with_the_variable_named(tmp_path: Path):
    env = environment(tmp_path, DATABASE_URL="mysql://nowhere/db")

    refused = hourbook("db", "upgrade", env=env, cwd=tmp_path)

    assert refused.returncode == 2
    assert "DATABASE_URL must be sqlite" in refused.stderr


def test_seeding_twice_adds_the_catalogue_once(tmp_path: Path, env: dict[str, str]) -> None:
    hourbook("db", "upgrade", env=env, cwd=tmp_path)

    first = hourbook("seed", "--professionals", "30", env=env, cwd=tmp_path)
    second = hourbook("seed", "--professionals", "40", env=env, cwd=tmp_path)

    assert first.stdout.startswith("30 professionals added")
    assert second.stdout.startswith("10 professionals added (30 were there already)")
    engine = make_engine(env["DATABASE_URL"])
    with SqlUnitOfWork(engine) as uow:
        stored = [uow.professionals.get(p.id) for p in catalogue_of(40)]
    engine.dispose()
    assert all(stored)


def test_the_catalogue_has_every_category_in_every_city_and_is_reproducible() -> None:
    catalogue = list(catalogue_of(len(CITIES) * len(CATEGORIES)))

    pairs = {(pro.time_zone, pro.category) for pro in catalogue}

    assert pairs == {(city.time_zone, category) for city in CITIES for category in CATEGORIES}
    assert [p.id for p in catalogue] == [p.id for p in catalogue_of(len(catalogue))]
    assert [p.name for p in catalogue] != [p.name for p in catalogue_of(len(catalogue), 2)]


def test_serve_runs_one_gunicorn_worker_on_the_embedded_default_until_terminated(
    tmp_path: Path, env: dict[str, str]
) -> None:
    hourbook("db", "upgrade", env=env, cwd=tmp_path)
    port = free_port()
    server = subprocess.Popen(  # noqa: S603
        [sys.executable, "-m", "entrypoints.cli.main", "serve", "--bind", f"127.0.0.1:{port}"],
        env=env, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    try:
        health = get_when_up(f"http://127.0.0.1:{port}/readyz", server)
        assert health == {"status": "ok", "checks": {"database": "ok"}}
    finally:
        server.send_signal(signal.SIGTERM)
        output, _ = server.communicate(timeout=30)
    assert server.returncode == 0, output
    # The embedded default keeps to one process: its jobs and simulated payments live there.
    assert output.count("Booting worker") == 1, output


def test_db_upgrade_on_a_fresh_machine_makes_the_embedded_database(tmp_path: Path) -> None:
    upgraded = hourbook("db", "upgrade", env=environment(tmp_path), cwd=tmp_path)

    assert upgraded.returncode == 0, upgraded.stderr
    assert (tmp_path / "instance" / "hourbook.sqlite3").is_file()


def test_a_database_in_a_missing_folder_is_an_error_not_a_new_folder(tmp_path: Path) -> None:
    missing = tmp_path / "typo" / "db.sqlite3"
    env = environment(tmp_path, DATABASE_URL=f"sqlite+pysqlite:///{missing}")

    refused = hourbook("db", "upgrade", env=env, cwd=tmp_path)

    assert refused.returncode == 1
    assert "cannot use the database" in refused.stderr
    assert not missing.parent.exists()


@pytest.mark.parametrize(
    ("setting", "value"),
    [("HOURBOOK_EXPIRE_HOLDS_EVERY_SECONDS", "1"), ("REDIS_URL", "http://cache")],
)
def test_the_worker_exits_non_zero_on_a_setting_it_cannot_work_with(
    tmp_path: Path, setting: str, value: str
) -> None:
    result = hourbook("worker", env=environment(tmp_path, **{setting: value}), cwd=tmp_path)

    assert result.returncode == 2
    assert setting in result.stderr


@pytest.mark.parametrize(
    ("bind_flag", "bind_env"),
    [(["--bind", "0.0.0.0:8000"], None), ([], "10.1.2.3:8000"), (["--bind", "[::]:8000"], None)],
)
def test_serve_refuses_a_public_address_outside_production(
    tmp_path: Path, env: dict[str, str], bind_flag: list[str], bind_env: str | None
) -> None:
    hourbook("db", "upgrade", env=env, cwd=tmp_path)
    if bind_env is not None:
        env = {**env, "HOURBOOK_BIND": bind_env}

    refused = hourbook("serve", *bind_flag, env=env, cwd=tmp_path, timeout=60)

    assert refused.returncode == 1
    assert "refusing to serve on" in refused.stderr
    assert "outside production" in refused.stderr
