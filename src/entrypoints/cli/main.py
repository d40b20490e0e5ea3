"""``hourbook``: the command line. Each subcommand parses its arguments and calls one thing.

    hourbook demo            the embedded default end to end (seed, serve, book, pay, confirm)
    hourbook serve           the API under gunicorn (configuration from the environment)
    hourbook worker          the RQ worker and its cron scheduler (needs REDIS_URL)
    hourbook db upgrade      migrate the database to this version's schema
    hourbook create-admin    make an administrator account
    hourbook seed            add the sample catalogue of professionals
    hourbook jobs failed     list the dead letters: events whose notification job was given up
    hourbook jobs requeue    run dead letters' notifications again (by outbox id, or --all)
"""

from __future__ import annotations

import argparse
import getpass
import ipaddress
import os
import sys
from collections.abc import Sequence

from sqlalchemy import Engine
from sqlalchemy.exc import OperationalError

from adapters.jobs import dead_letters, rq_tasks
from adapters.jobs.outbox_relay import QueueUnavailable
from adapters.sql import migrate
from adapters.sql.unit_of_work import SqlUnitOfWork
from booking.errors import BookingError
from entrypoints import accounts
from entrypoints.bootstrap import DEFAULT_QUEUE, Container, build, make_database
from entrypoints.cli import demo, seed, walkthrough
from entrypoints.config import ConfigError, Settings, require_rq_key_prefix
from entrypoints.worker.main import main as run_worker


class CommandFailed(Exception):
    """A user-facing failure: printed as ``hourbook: <message>``, exit status 1."""


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args, rest = parser.parse_known_args(argv)
    if args.command != "worker" and rest:
        parser.error(f"unrecognized arguments: {' '.join(rest)}")
    try:
        return int(args.run(args, rest))
    except (ConfigError, CommandFailed, BookingError, migrate.DatabaseNotMigrated) as error:
        print(f"hourbook {args.command}: {error}", file=sys.stderr)
        return 2 if isinstance(error, ConfigError) else 1
    except OperationalError as error:
        print(f"hourbook {args.command}: cannot use the database: {error.orig}", file=sys.stderr)
        return 1
    except walkthrough.WalkthroughFailed as error:
        print(f"hourbook demo: the walk-through failed: {error}", file=sys.stderr)
        return 1


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="hourbook",
        description="hourbook: a booking engine for hiring professionals by the hour.",
        epilog="Configuration comes from the environment; see docs/deploy.md.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run_demo = commands.add_parser(
        "demo", help="run the embedded default and book one appointment end to end",
        description=demo.__doc__, formatter_class=argparse.RawDescriptionHelpFormatter,
    )  # fmt: skip
    run_demo.add_argument("--host", default="127.0.0.1", help="address to serve on")
    run_demo.add_argument("--port", type=int, default=8000, help="port (0: any free one)")
    run_demo.add_argument(
        "--professionals", type=_positive, default=300, help="size of the seeded catalogue"
    )
    run_demo.add_argument(
        "--no-walkthrough", action="store_true", help="just seed and serve; book nothing"
    )
    run_demo.add_argument(
        "--exit-after-walkthrough", action="store_true", help="stop once the booking is confirmed"
    )
    run_demo.set_defaults(run=_demo)

    serve = commands.add_parser("serve", help="serve the API under gunicorn")
    serve.add_argument("--bind", help="host:port (default HOURBOOK_BIND or 127.0.0.1:8000)")
    serve.add_argument("--workers", type=_positive, help="processes (default: cores, at most 8)")
    serve.add_argument("--threads", type=_positive, help="threads per process (default 4)")
    serve.set_defaults(run=_serve)

    worker = commands.add_parser(
        "worker", help="run background jobs from Redis (see `hourbook worker --help`)",
        add_help=False,
    )  # fmt: skip
    worker.set_defaults(run=_worker)

    db = commands.add_parser("db", help="database schema: upgrade, downgrade, current")
    db_commands = db.add_subparsers(dest="db_command", required=True, metavar="ACTION")
    upgrade = db_commands.add_parser("upgrade", help="migrate up to the latest schema")
    upgrade.add_argument("--revision", default="head", help="target revision (default head)")
    downgrade = db_commands.add_parser("downgrade", help="migrate down (base drops everything)")
    downgrade.add_argument("revision", help="target revision, e.g. base")
    db_commands.add_parser("current", help="print the database's revision and the code's")
    db.set_defaults(run=_db)

    admin = commands.add_parser("create-admin", help="create an administrator account")
    admin.add_argument("--email", required=True)
    admin.add_argument(
        "--password-stdin", action="store_true", help="read the password from standard input"
    )
    admin.set_defaults(run=_create_admin)

    incidents = commands.add_parser(
        "payment-incidents",
        help="list stray payments (refunded in full) and disputes, newest first",
    )
    incidents.add_argument("--limit", type=_positive, default=50)
    incidents.set_defaults(run=_payment_incidents)

    sample = commands.add_parser("seed", help="add the sample catalogue of professionals")
    sample.add_argument("--professionals", type=_positive, default=300)
    sample.add_argument("--random-seed", type=int, default=1, help="same seed, same catalogue")
    sample.set_defaults(run=_seed)

    jobs = commands.add_parser("jobs", help="dead letters: list and requeue given-up jobs")
    job_commands = jobs.add_subparsers(dest="jobs_command", required=True, metavar="ACTION")
    failed = job_commands.add_parser("failed", help="list the dead letters, oldest first")
    failed.add_argument("--limit", type=_positive, default=100, help="at most so many")
    requeue = job_commands.add_parser("requeue", help="run dead letters' notifications again")
    requeue.add_argument("ids", nargs="*", type=_positive, metavar="ID", help="outbox ids")
    requeue.add_argument("--all", action="store_true", help="every dead letter")
    for sub in (failed, requeue):
        sub.add_argument("--queue", default=DEFAULT_QUEUE, help="the worker's RQ queue")
    jobs.set_defaults(run=_jobs)
    return parser


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be 1 or more")
    return value


def _demo(args: argparse.Namespace, _: Sequence[str]) -> int:
    demo.quiet_request_log()
    options = demo.DemoOptions(
        host=args.host,
        port=args.port,
        professionals=args.professionals,
        walkthrough=not args.no_walkthrough,
        keep_serving=not args.exit_after_walkthrough,
    )
    return demo.run(options)


def _serve(args: argparse.Namespace, _: Sequence[str]) -> int:
    settings = Settings.from_env()  # fail here, once, rather than in every gunicorn worker
    require_rq_key_prefix(settings)
    bind = args.bind or os.environ.get("HOURBOOK_BIND") or "127.0.0.1:8000"
    if not settings.is_production and not is_loopback(bind):
        # Outside production the payment simulator may be on and hashing may be weak: such a
        # server is for this machine only.
        raise CommandFailed(
            f"refusing to serve on {bind} outside production (HOURBOOK_ENV={settings.env.value}):"
            " bind to 127.0.0.1, or set HOURBOOK_ENV=production with its required settings"
        )
    engine = make_database(settings)
    try:
        migrate.ensure_up_to_date(engine)
    finally:
        engine.dispose()
    environ = dict(os.environ)
    for name, value in (("BIND", args.bind), ("WORKERS", args.workers), ("THREADS", args.threads)):
        if value is not None:
            environ[f"HOURBOOK_{name}"] = str(value)
    if settings.redis_url is None:
        # Embedded default: jobs, payment simulation and rate limits live in the one process.
        environ["HOURBOOK_WORKERS"] = "1"
    config = "python:entrypoints.serve.gunicorn_conf"
    command = [sys.executable, "-m", "gunicorn", "--config", config]
    os.execve(sys.executable, [*command, "entrypoints.serve.wsgi:application()"], environ)  # noqa: S606


def is_loopback(bind: str) -> bool:
    """True for a gunicorn bind only this machine can reach (loopback or a unix socket)."""
    if bind.startswith("unix:"):
        return True
    if bind.startswith("["):  # [::1]:8000
        host = bind[1:].split("]", 1)[0]
    elif bind.count(":") == 1:  # 127.0.0.1:8000
        host = bind.split(":", 1)[0]
    else:  # a bare host or IPv6 address
        host = bind
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False  # a host name could resolve anywhere


def _worker(_: argparse.Namespace, rest: Sequence[str]) -> int:
    return run_worker(rest)


def _db(args: argparse.Namespace, _: Sequence[str]) -> int:
    settings = Settings.from_env()
    engine = make_database(settings)
    try:
        if args.db_command == "upgrade":
            migrate.upgrade(engine, args.revision)
        elif args.db_command == "downgrade":
            migrate.downgrade(engine, args.revision)
        print(f"database at {migrate.current_revision(engine) or 'base'};"
              f" this code needs {migrate.head_revision()}")  # fmt: skip
    finally:
        engine.dispose()
    return 0


def _payment_incidents(args: argparse.Namespace, _: Sequence[str]) -> int:
    """One line per incident: when, kind, reference, intent, booking, amount, refunded, detail."""
    engine = make_database(Settings.from_env())
    try:
        migrate.ensure_up_to_date(engine)
        uow = SqlUnitOfWork(engine, read_only=True)
        with uow:
            found = uow.incidents.latest(args.limit)
    finally:
        engine.dispose()
    for incident in found:
        print(
            f"{incident.recorded_at.isoformat()}\t{incident.kind}\t{incident.reference}"
            f"\t{incident.payment_intent_id}\t{incident.booking_id or '-'}"
            f"\t{incident.amount_cents} {incident.currency}"
            f"\trefunded {incident.refunded_cents}/{incident.refund_due_cents}"
            f"\t{incident.detail}"
        )
    return 0


def _create_admin(args: argparse.Namespace, _: Sequence[str]) -> int:
    password = _read_password(from_stdin=args.password_stdin)
    container = build(Settings.from_env())
    try:
        migrate.ensure_up_to_date(container.engine)
        user = accounts.create_admin(container, args.email, password)
    finally:
        container.close()
    print(f"admin {user.email} created ({user.id})")
    return 0


def _read_password(*, from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\n")
    first = getpass.getpass("Password: ")
    if getpass.getpass("Again: ") != first:
        raise CommandFailed("the passwords differ")
    return first


def _seed(args: argparse.Namespace, _: Sequence[str]) -> int:
    container = build(Settings.from_env())
    try:
        migrate.ensure_up_to_date(container.engine)
        added = seed.seed(container.uow, args.professionals, random_seed=args.random_seed)
    finally:
        container.close()
    print(f"{added} professionals added ({args.professionals - added} were there already)")
    return 0


def _jobs(args: argparse.Namespace, _: Sequence[str]) -> int:
    container = build(Settings.from_env())
    try:
        migrate.ensure_up_to_date(container.engine)
        if args.jobs_command == "failed":
            return _list_dead_letters(container.engine, args.limit)
        return _requeue(container, args)
    finally:
        container.close()


def _list_dead_letters(engine: Engine, limit: int) -> int:
    letters = dead_letters.listing(engine, limit=limit)
    for letter in letters:
        failed = letter.failed_at.isoformat(timespec="seconds")
        fields = (str(letter.outbox_id), letter.event_type, failed, letter.request_id or "-")
        print("\t".join((*fields, letter.error)))
    print(f"{len(letters)} dead letter(s): outbox id, event, failed at, request id, error",
          file=sys.stderr)  # fmt: skip
    return 0


def _requeue(container: Container, args: argparse.Namespace) -> int:
    if bool(args.ids) == args.all:
        raise CommandFailed("name outbox ids, or --all")
    engine = container.engine
    ids = args.ids or [letter.outbox_id for letter in dead_letters.listing(engine, limit=None)]
    queue = rq_tasks.queue(args.queue, container.redis) if container.redis else None
    missing = []
    for outbox_id in ids:
        if not dead_letters.revive(engine, outbox_id, redispatch=queue is None):
            missing.append(outbox_id)
            continue
        if queue is not None:
            try:
                rq_tasks.requeue(queue, engine, outbox_id)
            except QueueUnavailable as error:
                dead_letters.give_up(engine, outbox_id, error)  # still dead: nothing is lost
                raise CommandFailed(f"outbox {outbox_id} not requeued: {error}") from error
        print(f"{outbox_id}\trequeued")
    if missing:
        raise CommandFailed(f"not dead letters: {', '.join(map(str, missing))}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
