"""A test-owned PostgreSQL primary and a streaming hot standby of it, in a temporary folder.

Built with Debian's PostgreSQL binaries: ``initdb`` a primary on a free port, then
``pg_basebackup -R`` a copy of it that starts as a standby on another free port, streaming from
the primary. The shared server at 5432 is never touched. PostgreSQL refuses to run as root, so
as root the binaries run as the ``postgres`` user (``runuser``), which then owns the folder.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.pool import NullPool

PG_ROOT = Path("/usr/lib/postgresql")


def postgres_bin() -> Path | None:
    """The newest installed PostgreSQL's bin folder, if there is one."""
    versions = sorted(
        (path for path in PG_ROOT.glob("*/bin") if (path / "initdb").exists()),
        key=lambda path: int(path.parent.name) if path.parent.name.isdigit() else 0,
    )
    return versions[-1] if versions else None


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_until(condition: Callable[[], bool], what: str, seconds: float = 30.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting for {what}")
        time.sleep(0.05)


@dataclass
class Server:
    bin: Path
    data: Path
    port: int
    sockets: Path

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def start(self) -> None:
        options = (
            f"-p {self.port} -k {self.sockets} -c listen_addresses=127.0.0.1"
            " -c fsync=off -c full_page_writes=off"
        )
        log = self.data.parent / f"{self.data.name}.log"
        run(self.bin / "pg_ctl", "-D", self.data, "-o", options, "-l", log, "-w", "start")

    def stop(self) -> None:
        """Stop at once, like a crash (``immediate``: every backend is killed)."""
        run(self.bin / "pg_ctl", "-D", self.data, "-m", "immediate", "-w", "stop", check=False)

    def sql(self, statement: str) -> object:
        engine = sa.create_engine(self.url, poolclass=NullPool, isolation_level="AUTOCOMMIT")
        try:
            with engine.connect() as connection:
                return connection.exec_driver_sql(statement).scalar()
        finally:
            engine.dispose()


@dataclass
class Cluster:
    primary: Server
    standby: Server

    def caught_up(self) -> bool:
        """The standby has replayed everything the primary has written so far."""
        written = self.primary.sql("SELECT pg_current_wal_insert_lsn()::text")
        return bool(self.standby.sql(f"SELECT pg_last_wal_replay_lsn() >= '{written}'::pg_lsn"))

    def received(self) -> bool:
        """The standby has received (maybe not replayed) everything the primary wrote."""
        written = self.primary.sql("SELECT pg_current_wal_insert_lsn()::text")
        return bool(self.standby.sql(f"SELECT pg_last_wal_receive_lsn() >= '{written}'::pg_lsn"))

    def wait_for_replay(self) -> None:
        wait_until(self.caught_up, "the standby to replay the primary's writes")

    @contextmanager
    def replay_paused(self) -> Iterator[None]:
        """The standby keeps receiving WAL but applies none of it until the block ends."""
        self.standby.sql("SELECT pg_wal_replay_pause()")
        try:
            yield
        finally:
            self.standby.sql("SELECT pg_wal_replay_resume()")


def run(*command: object, check: bool = True) -> None:
    args = [str(part) for part in command]
    if os.geteuid() == 0:
        args = ["runuser", "-u", "postgres", "--", *args]
    # Our own binaries and paths: no outside input reaches the command line.
    done = subprocess.run(args, capture_output=True, text=True, timeout=120, check=False)  # noqa: S603
    if check and done.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} failed: {done.stdout}{done.stderr}")


@contextmanager
def primary_and_standby(bin_dir: Path) -> Iterator[Cluster]:
    base = Path(tempfile.mkdtemp(prefix="hourbook-replicas-"))
    if os.geteuid() == 0:
        shutil.chown(base, "postgres", "postgres")
    primary = Server(bin_dir, base / "primary", free_port(), base)
    standby = Server(bin_dir, base / "standby", free_port(), base)
    try:
        run(bin_dir / "initdb", "-D", primary.data, "-U", "postgres", "--auth=trust",
            "-E", "UTF8", "--no-sync")  # fmt: skip
        primary.start()
        run(bin_dir / "pg_basebackup", "-h", "127.0.0.1", "-p", primary.port, "-U", "postgres",
            "-D", standby.data, "-R", "-X", "stream", "-c", "fast", "--no-sync")  # fmt: skip
        standby.start()
        cluster = Cluster(primary, standby)
        wait_until(lambda: bool(standby.sql("SELECT pg_is_in_recovery()")), "a standby")
        yield cluster
    finally:
        standby.stop()
        primary.stop()
        shutil.rmtree(base, ignore_errors=True)
