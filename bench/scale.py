"""``python -m bench --scale``: how each operation's cost grows with the data, size by size.

At each size (``--sizes``, bookings:professionals) the benchmark database is made afresh and
loaded by ``COPY`` (``bench.scale_data``), then each operation is measured on it:

- ``POST /bookings`` over HTTP (gunicorn, 4 clients, on professionals with history) as a ratio
  to floor (b), the one-INSERT Flask app, measured right after it at the same size;
- free slots of the busy professional over the next 30 days (service layer);
- search with a free window (service layer), median and p95;
- ``GET /bookings`` over HTTP, first page, for the busy client and the busy professional;
- the hold-expiry job (100 stale holds) and the reminder job (50 due) run once each;
- the database's size.

The goal: each operation's cost at the largest size within 1.3× of its cost at the smallest.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from uuid import UUID

from adapters.clock import SystemClock
from adapters.jobs.tasks import JobContext, send_reminders
from adapters.notifications.mail import FolderNotifier
from adapters.notifications.sent_log import InMemorySentLog
from adapters.payments.simulator import SimulatedPayments
from adapters.sql.engine import make_engine
from adapters.sql.professional_cache import ProfessionalCache
from adapters.sql.unit_of_work import SqlUnitOfWork
from bench import http_api, phases, scale_data, search, seed, throughput
from bench.accounts import client_accounts, copy_clients
from bench.database import Database, fresh
from bench.measure import Latency, timed
from bench.report import Table, ms
from booking import catalogue, services
from booking.slot import Slot

DEFAULT_SIZES = "10k:10k,100k:30k,1M:100k"
GOAL = 1.3
CLIENTS = 4
ACCOUNTS = 6_000


@dataclass(frozen=True, slots=True)
class Size:
    bookings: int
    professionals: int

    @property
    def label(self) -> str:
        return f"{_short(self.bookings)} bookings / {_short(self.professionals)} professionals"


@dataclass(slots=True)
class Measured:
    size: Size
    load_seconds: float
    database_mb: float
    booking_ratio: float = 0.0
    booking_rate: float = 0.0
    floor_rate: float = 0.0
    latencies: dict[str, Latency] = field(default_factory=dict)


OPERATIONS = (  # what is timed, in ms, besides the booking ratio
    "free slots, busy professional, 30 days",
    "search with a free window",
    "GET /bookings, busy client",
    "GET /bookings, busy professional",
    "hold-expiry job (100 stale holds)",
    "reminder job (50 due)",
)


def parse_sizes(text: str) -> list[Size]:
    sizes = []
    for part in text.split(","):
        bookings, _, professionals = part.strip().partition(":")
        sizes.append(Size(_number(bookings), _number(professionals or bookings)))
    return sizes


def run(database_url: str, redis_url: str, prefix: str, sizes: list[Size],
        seconds: float, say: Callable[[str], None]) -> list[Measured]:  # fmt: skip
    found = []
    with tempfile.TemporaryDirectory(prefix="hourbook-scale-") as workdir:
        for size in sizes:
            say(f"scale: loading {size.label}")
            database = fresh(database_url)
            began = time.monotonic()
            loaded = scale_data.load(database, size.professionals, size.bookings)
            load_seconds = time.monotonic() - began
            say(f"scale: loaded in {load_seconds:.0f} s; measuring")
            measured = Measured(size, load_seconds, _database_mb(database))
            _measure(database, redis_url, prefix, loaded, measured, seconds, Path(workdir))
            found.append(measured)
    return found


def _measure(database: Database, redis_url: str, prefix: str, loaded: scale_data.Loaded,
             measured: Measured, seconds: float, workdir: Path) -> None:  # fmt: skip
    engine = make_engine(database.url)
    setup = phases.Setup(database, engine, redis_url, prefix, throughput.Limits(seconds), workdir)
    known = ProfessionalCache()

    def reader() -> SqlUnitOfWork:
        return SqlUnitOfWork(engine, known_professionals=known, read_only=True)

    clock = SystemClock()
    span = Slot(loaded.now, loaded.now + timedelta(days=30))
    busy = loaded.professionals[0]
    measured.latencies[OPERATIONS[0]] = _latency(
        lambda: catalogue.free_slots(busy, span, seed.DURATION, uow=reader(), clock=clock), 30
    )
    window = search.window(loaded.now.date())
    asked = iter(search.queries(60) * 2)
    measured.latencies[OPERATIONS[1]] = _latency(
        lambda: search.through_service(next(asked), window, reader(), clock), 60
    )
    _over_http(setup, loaded, measured)
    measured.latencies[OPERATIONS[4]] = _once(lambda: services.expire_holds(
        uow=SqlUnitOfWork(engine), payments=SimulatedPayments("whsec_bench"), clock=clock,
    ))
    context = JobContext(
        engine=engine, uow=lambda: SqlUnitOfWork(engine), payments=SimulatedPayments("whsec_b"),
        notifier=FolderNotifier(workdir / "mail"), clock=clock, sent_log=InMemorySentLog(),
    )
    measured.latencies[OPERATIONS[5]] = _once(lambda: send_reminders(context))
    engine.dispose()


def _over_http(setup: phases.Setup, loaded: scale_data.Loaded, measured: Measured) -> None:
    settings = phases.server_settings(setup)
    accounts = client_accounts(setup.database, settings, ACCOUNTS)
    first = loaded.now + timedelta(days=100)  # after every loaded booking
    pros = iter(loaded.booking_professionals)

    def professionals(count: int) -> list[UUID]:
        return [next(pros) for _ in range(count)]

    with phases.hourbook_server(setup) as server:
        run = throughput.non_conflicting(http_api.api(server.port, accounts), professionals,
                                         CLIENTS, first, setup.limits)  # fmt: skip
        if run.errors:
            raise RuntimeError(f"POST /bookings: {run.errors[:3]}")
        measured.booking_rate = run.per_second
        client = http_api.HttpClient(server.port)
        for operation, who, role in (
            (OPERATIONS[2], loaded.busy_client, "client"),
            (OPERATIONS[3], loaded.professionals[0], "professional"),
        ):
            headers = _token(settings, who, role)

            def listed(headers: dict[str, str] = headers) -> None:
                status, body = client.call("GET", "/bookings?limit=50", headers=headers)
                if status != 200 or len(body["items"]) != 50:
                    raise RuntimeError(f"GET /bookings answered {status}: {str(body)[:200]}")

            measured.latencies[operation] = _latency(listed, 40)
        client.close()
    floor_clients = copy_clients(setup.database, CLIENTS)
    environment = {**phases._gunicorn_sizes(), "BENCH_FLOOR_DSN": setup.database.conninfo}
    with http_api.gunicorn("bench.floor_app:create_app()", environment,
                           setup.workdir / "floor.log") as server:  # fmt: skip
        floor = throughput.non_conflicting(
            http_api.floor_app(server.port, floor_clients), professionals, CLIENTS,
            first + timedelta(days=200), setup.limits,
        )
    measured.floor_rate = floor.per_second
    measured.booking_ratio = run.per_second / floor.per_second if floor.per_second else 0.0


def _token(settings: object, who: UUID, role: str) -> dict[str, str]:
    from flask_jwt_extended import create_access_token

    from entrypoints.api.app import create_app

    app = create_app(settings)  # type: ignore[arg-type]
    with app.test_request_context():
        token = create_access_token(identity=str(who), additional_claims={"role": role})
    app.extensions["hourbook"].close()
    return {"Authorization": f"Bearer {token}"}


def _latency(operation: Callable[[], object], count: int) -> Latency:
    operation()  # warm: caches and prepared statements, as a server that has been up
    return Latency.of(timed(operation, count))


def _once(operation: Callable[[], object]) -> Latency:
    began = time.perf_counter()
    operation()
    return Latency.of([time.perf_counter() - began])


def _database_mb(database: Database) -> float:
    with database.connect() as connection:
        row = connection.execute("SELECT pg_database_size(current_database())").fetchone()
    return float(row[0]) / 2**20 if row else 0.0


# -- the report ------------------------------------------------------------------------------


def tables(found: list[Measured]) -> list[Table]:
    if not found:
        return []
    columns = ("operation", *(m.size.label for m in found), "largest / smallest", "goal ≤ 1.3×")
    table = Table("Scale: each operation's cost by size (medians; p95 for search)", columns)
    smallest, largest = found[0], found[-1]
    # Its cost is the inverse of the share of the floor it reaches.
    growth = smallest.booking_ratio / largest.booking_ratio if largest.booking_ratio else 0.0
    table.add(
        "`POST /bookings` over HTTP, share of floor (b) (cost: its inverse)",
        *(f"{m.booking_ratio:.2f}× ({m.booking_rate:,.0f}/s)" for m in found),
        f"{growth:.2f}×", _verdict(growth) if growth else "n/a",
    )
    for operation in OPERATIONS:
        cells = [m.latencies[operation] for m in found]
        growth = cells[-1].median_ms / cells[0].median_ms
        shown = [ms(c.median_ms) for c in cells]
        if operation == OPERATIONS[1]:
            shown = [f"{ms(c.median_ms)} (p95 {ms(c.p95_ms)})" for c in cells]
        table.add(operation, *shown, f"{growth:.2f}×", _verdict(growth))
    table.add("database size", *(f"{m.database_mb:,.0f} MB" for m in found), "", "")
    table.add("load (COPY, indexes, VACUUM ANALYZE)",
              *(f"{m.load_seconds:,.0f} s" for m in found), "", "")  # fmt: skip
    table.notes += [
        "each size is a fresh database loaded by COPY: two years of history and two months"
        " ahead, about 20% cancelled, spread over the professionals; the busy professional"
        " (~2,000 bookings), the busy client (1,000), the 100 stale holds and the 50 due"
        " reminders are the same at every size, so only the tables around them grow",
        f"`POST /bookings`: {CLIENTS} clients for the run's seconds on professionals with"
        " history, against floor (b) at the same size right after; a job's runtime is one run",
    ]
    return [table]


def _verdict(growth: float) -> str:
    return "met" if growth <= GOAL else "**missed**"


def plot(found: list[Measured], path: Path, machine: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    x = [m.size.bookings for m in found]
    figure, (left, right) = plt.subplots(1, 2, figsize=(12, 5))
    for operation in OPERATIONS:
        left.plot(x, [m.latencies[operation].median_ms for m in found], marker="o",
                  label=operation)  # fmt: skip
    left.plot(x, [m.latencies[OPERATIONS[1]].p95_ms for m in found], marker="x",
              linestyle="--", label="search with a free window, p95")  # fmt: skip
    left.set_xscale("log")
    left.set_yscale("log")
    left.set_xlabel("bookings in the database (professionals grow alongside)")
    left.set_ylabel("ms (median)")
    left.set_title("Cost per operation by size")
    left.legend(fontsize=7)
    left.grid(True, which="both", alpha=0.3)
    right.plot(x, [m.booking_ratio for m in found], marker="o")
    right.set_xscale("log")
    right.set_ylim(bottom=0)
    right.set_xlabel("bookings in the database")
    right.set_ylabel("POST /bookings rate / floor (b) rate")
    right.set_title("Booking throughput as a share of its floor")
    right.grid(True, which="both", alpha=0.3)
    figure.suptitle(f"hourbook scale curve ({machine})", fontsize=9)
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=100)
    plt.close(figure)


def _number(text: str) -> int:
    text = text.strip().lower().replace("_", "").replace(",", "")
    factor = {"k": 1_000, "m": 1_000_000}.get(text[-1:], 1)
    return int(float(text[:-1] if factor != 1 else text) * factor)


def _short(value: int) -> str:
    if value >= 1_000_000 and value % 100_000 == 0:
        return f"{value / 1_000_000:g}M"
    if value >= 1_000 and value % 100 == 0:
        return f"{value / 1_000:g}k"
    return f"{value:,}"

