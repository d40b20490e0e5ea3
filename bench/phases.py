"""One function per benchmark: it measures hourbook and its floor, and returns result tables."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from uuid import UUID

import redis
from sqlalchemy import Engine

from adapters.clock import SystemClock
from adapters.idempotency.redis_store import RedisIdempotencyStore
from adapters.sql.idempotency import SqlIdempotencyStore
from adapters.sql.professional_cache import ProfessionalCache
from adapters.sql.unit_of_work import SqlUnitOfWork
from bench import api_profile, bookers, cpu, http_api, search, seed, slots, throughput
from bench.database import Database
from bench.measure import Latency, timed
from bench.report import Table, ms, per_second, ratio, us, verdict
from bench.throughput import CONCURRENCY, Contention, Limits
from booking.ports import UnitOfWork

BOOKING_TARGET = 0.5  # POST /bookings throughput, as a share of floor (b)
SLOTS_TARGET_US = 1_000.0
SEARCH_TARGET_MS = 10.0
CONTENDERS = 16
UNREACHABLE_RATE = "1000000/minute"
RATE_SETTINGS = ("DEFAULT", "LOGIN", "REGISTER", "BOOKING", "SEARCH")
# Each benchmark client holds far more than the default caps allow; the caps are measured off.
UNCAPPED_HOLDS = "1000000"
ROUNDS = 12


@dataclass(frozen=True, slots=True)
class Setup:
    database: Database
    engine: Engine
    redis_url: str
    redis_prefix: str
    limits: Limits
    workdir: Path
    known_professionals: ProfessionalCache = field(default_factory=ProfessionalCache)

    def uow(self) -> UnitOfWork:
        return SqlUnitOfWork(self.engine)

    def reader(self) -> UnitOfWork:
        """A unit of work for reads, made as the app's composition root makes it."""
        return SqlUnitOfWork(
            self.engine, known_professionals=self.known_professionals, read_only=True
        )

    def professionals(self, count: int) -> list[UUID]:
        return seed.professionals(self.uow, count)


# -- free slots ------------------------------------------------------------------------------


def free_slots(setup: Setup) -> Table:
    found = slots.run(setup.database, setup.uow, setup.reader, slots.START)
    table = Table(
        f"Free slots: one professional, 30 days, {slots.BOOKINGS:,} bookings"
        f" ({found.free} free half-hour slots)",
        ("path", "hourbook", "floor", "floor is", "hourbook / floor", "target"),
    )
    table.add(
        "`Calendar.free_slots` (domain, bookings in memory)",
        us(found.domain_us), us(found.naive_us), "naive scan, every grid position × every"
        " booking", ratio(found.domain_us, found.naive_us),
        f"< 1 ms: {verdict(found.domain_us < SLOTS_TARGET_US)}",
    )
    table.add(
        "`catalogue.free_slots` (service layer, loads the bookings from PostgreSQL)",
        us(found.service_us), us(found.psycopg_load_us), "psycopg fetching the same rows",
        ratio(found.service_us, found.psycopg_load_us), "",
    )
    table.notes.append("medians; the ratio is time taken, so below 1 is faster than the floor")
    return table


# -- search ----------------------------------------------------------------------------------


def searching(setup: Setup) -> tuple[Table, Latency]:
    """Seeds 100,000 professionals; returns the table and the service-layer latency."""
    window = search.window(datetime.now(UTC).date())
    search.seed(setup.database, window)
    found = search.run(setup.database, setup.reader, SystemClock(), window)
    table = Table(
        f"Search: {search.PROFESSIONALS:,} professionals, category + {search.RADIUS_KM:.0f} km"
        " + free for an hour in an 8-hour window",
        ("path", "median", "p95", "floor median", "floor p95", "median / floor", "target"),
    )
    table.add(
        "`catalogue.search_professionals` (service layer)",
        ms(found.service.median_ms), ms(found.service.p95_ms),
        ms(found.floor.median_ms), ms(found.floor.p95_ms),
        ratio(found.service.median_ms, found.floor.median_ms), "",
    )
    table.notes += [
        "floor: psycopg, bounding box on the `(category, location_lat, location_lng)` index,"
        " exact distance in Python, nearest 20 (no free-time check)",
        f"per query: {found.candidates:.0f} professionals of the category within the radius"
        f" (half of them booked for the whole window); a page holds {found.found:.0f}",
    ]
    return table, found.floor


def search_over_http(
    setup: Setup, server: http_api.Server, floor: Latency, table: Table
) -> None:
    # The booking runs before it leave dead rows and dirty pages: vacuum and checkpoint now
    # rather than whenever the server decides to, in the middle of the searches.
    setup.database.settle()
    client = http_api.HttpClient(server.port)
    window = search.window(datetime.now(UTC).date())
    queries = search.queries(100)

    def timed_pass() -> Latency:
        asked = iter(queries)

        def one() -> None:
            status, body = client.call("GET", search.api_path(next(asked), window))
            if status != 200 or not body["items"]:
                raise RuntimeError(f"search answered {status}: {str(body)[:200]}")

        return Latency.of(timed(one, len(queries)))

    # First pass: every query is new to the server processes (their caches of professionals'
    # hours, their prepared statements). Second pass: the same queries again, as a server
    # that has been up a while sees them. The target is judged on the second.
    for label, latency, target in (
        ("first time", timed_pass(), ""),
        ("again (steady state)", timed_pass(), "median < 10 ms: "),
    ):
        table.add(
            f"`GET /professionals?…` (API under gunicorn), {label}",
            ms(latency.median_ms), ms(latency.p95_ms), ms(floor.median_ms), ms(floor.p95_ms),
            ratio(latency.median_ms, floor.median_ms),
            target and target + verdict(latency.median_ms < SEARCH_TARGET_MS),
        )


# -- booking throughput ----------------------------------------------------------------------

THROUGHPUT_COLUMNS = ("path", *(f"{n} client{'s' if n > 1 else ''}" for n in CONCURRENCY))


def in_process_throughput(setup: Setup) -> tuple[Table, Table]:
    clients = seed.clients(setup.uow, CONTENDERS)
    store = redis.Redis.from_url(setup.redis_url)
    with_redis = RedisIdempotencyStore(store, SystemClock(), prefix=setup.redis_prefix)
    with_sql = SqlIdempotencyStore(setup.engine, SystemClock())
    runs = {
        "floor (a): psycopg overlap check + insert": bookers.plain_psycopg(
            setup.database, clients
        ),
        "`create_booking`, Redis idempotency": bookers.service_layer(
            setup.engine, with_redis, clients
        ),
        "`create_booking`, SQL idempotency": bookers.service_layer(
            setup.engine, with_sql, clients
        ),
    }
    rates = {name: _rates(setup, factory) for name, factory in runs.items()}
    table = Table("Bookings per second through the service layer (in process)",
                  THROUGHPUT_COLUMNS)
    floor = rates["floor (a): psycopg overlap check + insert"]
    for name, measured in rates.items():
        cells = [per_second(r) if name.startswith("floor") else
                 f"{per_second(r)} ({ratio(r, f)})" for r, f in zip(measured, floor, strict=True)]
        table.add(name, *cells)
    table.notes.append(
        "hourbook's ratio to floor (a) in brackets; each client books back-to-back one-hour"
        " slots of its own professional, so nothing conflicts"
    )
    contention = Table("Heavy contention: all clients at once on one professional's"
                       " overlapping slots", CONTENTION_COLUMNS)
    _contention_row(contention, "`create_booking` (Redis idempotency)",
                    _contend(setup, runs["`create_booking`, Redis idempotency"]))
    store.close()
    return table, contention


def _rates(setup: Setup, factory: bookers.BookerFactory) -> list[float]:
    return [rate for rate, _ in _rates_and_cpu(setup, factory, server_pid=None)]


def _rates_and_cpu(
    setup: Setup, factory: bookers.BookerFactory, server_pid: int | None
) -> list[tuple[float, dict[str, float]]]:
    """Bookings per second at each concurrency, with the CPU milliseconds that each part of
    the system spent per booking (when ``server_pid`` names the server and /proc is there)."""
    first = seed.first_day()
    found = []
    for clients in CONCURRENCY:
        meter = (
            cpu.measuring(server_pid)
            if server_pid is not None and cpu.available()
            else nullcontext(cpu.CpuUse())
        )
        with meter as use:
            run = throughput.non_conflicting(
                factory, setup.professionals, clients, first, setup.limits
            )
        if run.errors:
            raise RuntimeError(f"{clients} clients: {run.errors[:3]}")
        found.append((run.per_second, use.ms_per(run.operations)))
    return found


@contextmanager
def hourbook_server(setup: Setup) -> Iterator[http_api.Server]:
    environment = {
        **_gunicorn_sizes(),
        "DATABASE_URL": setup.database.url,
        "REDIS_URL": setup.redis_url,
        "HOURBOOK_SECRET_KEY": secrets.token_urlsafe(48),
        "HOURBOOK_REDIS_PREFIX": setup.redis_prefix,
        # Limits on but out of reach: with HOURBOOK_RATE_LIMITS_ENABLED=false the limiter is
        # garbage-collected and the rate-limited views (login, POST /bookings) answer 500.
        **{f"HOURBOOK_RATE_LIMIT_{name}": UNREACHABLE_RATE for name in RATE_SETTINGS},
        "HOURBOOK_MAX_HOLDS_PER_CLIENT": UNCAPPED_HOLDS,
        "HOURBOOK_MAX_HOLDS_PER_CLIENT_AND_PROFESSIONAL": UNCAPPED_HOLDS,
    }
    with http_api.gunicorn(
        "entrypoints.api.app:create_app()", environment, setup.workdir / "hourbook.log"
    ) as server:
        yield server


HttpRuns = list[tuple[float, dict[str, float]]]  # per concurrency: rate, CPU ms by part


def http_throughput(setup: Setup, server: http_api.Server) -> tuple[HttpRuns, Contention]:
    accounts = [http_api.register_client(server.port) for _ in range(CONTENDERS)]
    factory = http_api.api(server.port, accounts)
    return _rates_and_cpu(setup, factory, server.pid), _contend(setup, factory)


PROFILED_CLIENTS = 4


def api_cpu_profile(setup: Setup, server: http_api.Server) -> Table | None:
    """py-spy on the API processes while four clients book: where their CPU goes."""
    if not (api_profile.available() and cpu.available()):
        return None
    accounts = [http_api.register_client(server.port) for _ in range(PROFILED_CLIENTS)]
    factory = http_api.api(server.port, accounts)
    raw = setup.workdir / "py-spy.txt"
    limits = Limits(seconds=2 * setup.limits.seconds)  # twice as long: more samples
    sampler = api_profile.record(server.pid, limits.seconds + 1, raw)
    with cpu.measuring(server.pid) as use:
        run = throughput.non_conflicting(factory, setup.professionals, PROFILED_CLIENTS,
                                         seed.first_day(), limits)
    if run.errors:
        raise RuntimeError(f"profiled run: {run.errors[:3]}")
    _, problems = sampler.communicate(timeout=60)
    if sampler.returncode != 0 or not raw.exists():
        raise RuntimeError(f"py-spy failed: {problems.decode(errors='replace')[-500:]}")
    found = api_profile.shares(raw)
    api_ms = use.ms_per(run.operations)["API processes"]
    table = Table(
        f"Where an API process spends its CPU on `POST /bookings` ({PROFILED_CLIENTS} clients,"
        f" py-spy, {found.samples:,} samples)",
        ("part", "share", "ms per booking"),
    )
    for part, share in found.by_part.items():
        table.add(part, f"{share:.0%}", f"{share * api_ms:.2f}")
    table.notes.append(
        f"samples of threads holding the GIL in the gunicorn workers; ms are the shares of the"
        f" {api_ms:.2f} ms of CPU the API processes spent per booking during this run; each"
        " sample counts in the first part (top down) whose function is on its stack"
    )
    return table


def floor_b_throughput(setup: Setup) -> HttpRuns:
    environment = {**_gunicorn_sizes(), "BENCH_FLOOR_DSN": setup.database.conninfo}
    clients = seed.clients(setup.uow, CONTENDERS)
    with http_api.gunicorn(
        "bench.floor_app:create_app()", environment, setup.workdir / "floor.log"
    ) as server:
        return _rates_and_cpu(setup, http_api.floor_app(server.port, clients), server.pid)


def http_tables(hourbook_runs: HttpRuns, floor_runs: HttpRuns) -> list[Table]:
    hourbook = [rate for rate, _ in hourbook_runs]
    floor = [rate for rate, _ in floor_runs]
    table = Table("Bookings per second over HTTP (gunicorn gthread, 2 workers × 4 threads)",
                  THROUGHPUT_COLUMNS)
    table.add("floor (b): Flask route doing one INSERT", *map(per_second, floor))
    table.add("`POST /bookings` (JWT, validation, idempotency, hold, payment intent)",
              *(f"{per_second(h)} ({ratio(h, f)})" for h, f in zip(hourbook, floor, strict=True)))
    table.add("target ≥ 0.5× floor (b)", *(verdict(h >= BOOKING_TARGET * f)
                                          for h, f in zip(hourbook, floor, strict=True)))
    table.notes.append(
        "the load generator (threads with keep-alive connections) runs on the same 2 cores"
    )
    return [table, _cpu_table(hourbook_runs, floor_runs)]


def _cpu_table(hourbook_runs: HttpRuns, floor_runs: HttpRuns) -> Table:
    table = Table(
        "CPU per booking over HTTP, by process (ms), from the same runs",
        ("path", "clients", *cpu.PARTS, "all"),
    )
    for name, runs in (("floor (b)", floor_runs), ("`POST /bookings`", hourbook_runs)):
        for clients, (_, spent) in zip(CONCURRENCY, runs, strict=True):
            table.add(name, str(clients), *(f"{spent[part]:.2f}" for part in cpu.PARTS),
                      f"{sum(spent.values()):.2f}")
    table.notes.append(
        "user + system time read from /proc before and after each run, divided by the bookings"
        " made; with two cores, 1,000 bookings/s is at most 2 ms of CPU each, all parts together"
    )
    return table


def _gunicorn_sizes() -> dict[str, str]:
    return {"HOURBOOK_WORKERS": "2", "HOURBOOK_THREADS": "4"}


# -- contention ------------------------------------------------------------------------------

CONTENTION_COLUMNS = (
    "path", "attempts", "booked", "refused (409)", "refusal median", "refusal p95",
    "booked median", "booked p95", "errors", "double bookings",
)


def _contend(setup: Setup, factory: bookers.BookerFactory) -> Contention:
    professional = setup.professionals(1)[0]
    first = seed.first_day() + timedelta(days=60)
    return throughput.contention(
        factory, professional, setup.database, clients=CONTENDERS, rounds=ROUNDS, first=first
    )


def _contention_row(table: Table, name: str, found: Contention) -> None:
    if found.double_bookings != 0:
        raise RuntimeError(f"{name}: {found.double_bookings} double bookings")
    table.add(
        name, str(found.attempts), str(found.booked), str(found.conflicts),
        ms(found.conflict_latency.median_ms), ms(found.conflict_latency.p95_ms),
        ms(found.booked_latency.median_ms), ms(found.booked_latency.p95_ms),
        str(len(found.errors)), f"{found.double_bookings} ✓",
    )
    if found.errors:
        table.notes.append(f"{name}: errors, first: {found.errors[0]}")


def add_http_contention(table: Table, found: Contention) -> None:
    _contention_row(table, "`POST /bookings` over HTTP", found)
    table.notes.append(
        f"{CONTENDERS} clients, {ROUNDS} rounds; each round every client asks at the same"
        " instant for one of four one-hour slots 30 minutes apart (at most two can be held);"
        " double bookings are counted in the database afterwards"
    )
