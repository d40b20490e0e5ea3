"""``python -m bench``: every benchmark once, results into ``docs/performance.md``.

Needs PostgreSQL and Redis on this machine; the benchmark database (``bench`` by default) is
dropped and made again. Takes about two minutes on two cores.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from uuid import uuid4

import redis

from adapters.sql.engine import make_engine
from bench import phases, profiling, scale
from bench.database import Database, fresh, require_loopback
from bench.phases import Setup
from bench.profiles import all_profiles
from bench.report import SCALE_END, SCALE_START, Table, render, write
from bench.throughput import Limits

COMMAND = "python -m bench"
DEFAULT_DATABASE = "postgresql+psycopg://postgres@127.0.0.1:5432/bench"
DEFAULT_REDIS = "redis://127.0.0.1:6379/0"


def main(argv: list[str] | None = None) -> None:
    args = _arguments(argv)
    require_loopback(args.redis_url)
    if args.scale:
        _scale(args)
        return
    began = time.monotonic()
    database = fresh(args.database_url)
    engine = make_engine(database.url)
    prefix = f"bench:{uuid4().hex[:8]}:"
    with tempfile.TemporaryDirectory(prefix="hourbook-bench-") as workdir:
        setup = Setup(database, engine, args.redis_url, prefix, Limits(args.seconds),
                      Path(workdir))
        tables = _run(setup, profile=not args.no_profile)
    _forget_redis_keys(args.redis_url, prefix)
    engine.dispose()
    machine = _machine(database.server_version(), args.redis_url, time.monotonic() - began)
    write(args.output, render(machine, tables))
    print(f"results written to {args.output}")


def _scale(args: argparse.Namespace) -> None:
    require_loopback(args.database_url)
    began = time.monotonic()
    prefix = f"bench:{uuid4().hex[:8]}:"
    sizes = scale.parse_sizes(args.sizes)
    found = scale.run(args.database_url, args.redis_url, prefix, sizes, args.seconds, _say)
    _forget_redis_keys(args.redis_url, prefix)
    database = Database(args.database_url)
    machine = _machine(database.server_version(), args.redis_url, time.monotonic() - began)
    machine["command"] = f"`{COMMAND} --scale --sizes {args.sizes}`"
    image = args.output.parent / "images" / "scale.png"
    scale.plot(found, image, f"{machine['cores']} cores, {machine['CPU']}, {machine['date']}")
    picture = f"![the scale curve](images/{image.name})"
    write(args.output, render(machine, scale.tables(found), start=SCALE_START, end=SCALE_END,
                              extra=picture), start=SCALE_START, end=SCALE_END)  # fmt: skip
    print(f"results written to {args.output} and {image}")


def _run(setup: Setup, *, profile: bool) -> list[Table]:
    _say("free slots")
    slots_table = phases.free_slots(setup)
    _say("search: seeding 100,000 professionals, then the service layer and its floor")
    search_table, search_floor = phases.searching(setup)
    _say("booking throughput in process, and contention")
    service_table, contention_table = phases.in_process_throughput(setup)
    _say("over HTTP: POST /bookings, contention, search")
    with phases.hourbook_server(setup) as server:
        http_rates, http_contention = phases.http_throughput(setup, server)
        phases.search_over_http(setup, server, search_floor, search_table)
        _say("where an API process spends its CPU (py-spy)")
        api_cpu = phases.api_cpu_profile(setup, server)
    phases.add_http_contention(contention_table, http_contention)
    _say("floor (b): the one-INSERT Flask app")
    http_tables = phases.http_tables(http_rates, phases.floor_b_throughput(setup))
    tables = [*http_tables, *([api_cpu] if api_cpu else []), service_table, contention_table,
              slots_table, search_table]
    if profile and profiling.available():
        _say("profiles")
        tables += all_profiles(setup)
    return tables


def _machine(postgres: str, redis_url: str, seconds: float) -> dict[str, str]:
    client = redis.Redis.from_url(redis_url)
    redis_version = str(client.info("server").get("redis_version", "?"))
    client.close()
    return {
        "command": f"`{COMMAND}`",
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "cores": str(os.cpu_count()),
        "CPU": _cpu_model(),
        "Python": f"{platform.python_implementation()} {platform.python_version()}"
        f" ({sys.executable})",
        "PostgreSQL": postgres,
        "Redis": redis_version,
        "run took": f"{seconds / 60:.1f} min",
    }


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _forget_redis_keys(url: str, prefix: str) -> None:
    client = redis.Redis.from_url(url)
    for key in client.scan_iter(match=f"{prefix}*", count=1000):
        client.delete(key)
    client.close()


def _say(what: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {what}", flush=True)


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog=COMMAND, description=__doc__)
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL",
                                                                 DEFAULT_DATABASE))
    parser.add_argument("--redis-url", default=os.environ.get("BENCH_REDIS_URL", DEFAULT_REDIS))
    parser.add_argument("--output", type=Path, default=Path("docs/performance.md"))
    parser.add_argument("--seconds", type=float, default=4.0,
                        help="length of each throughput measurement (default 4)")
    parser.add_argument("--no-profile", action="store_true", help="skip the pyinstrument part")
    parser.add_argument("--scale", action="store_true",
                        help="the scale curve instead: each operation's cost size by size")
    parser.add_argument("--sizes", default=scale.DEFAULT_SIZES,
                        help="with --scale: bookings:professionals per size, comma-separated"
                        f" (default {scale.DEFAULT_SIZES}; the issue's largest is 10M:1M)")
    return parser.parse_args(argv)


if __name__ == "__main__":
    main()
