"""``duban scan --once [--now ISO-DATETIME]``: send the ladder steps due now, once (and group
what is due into digests, as the running notifier does)."""

from __future__ import annotations

import argparse
from datetime import datetime
from zoneinfo import ZoneInfo

from duban.commands import CliError
from duban.runtime import Runtime
from notifier.digest import scan_and_group
from supervision.clock import Clock, FixedClock


def parse_now(value: str, tz: ZoneInfo) -> datetime:
    """An ISO date-time, with or without offset (naive = office time); one-line error if bad."""
    try:
        at = datetime.fromisoformat(value.strip())
    except ValueError:
        raise CliError(
            f"--now {value!r} is not an ISO date-time (e.g. 2026-12-07T09:00 or "
            "2026-12-07T09:00+08:00)"
        ) from None
    return at.replace(tzinfo=tz) if at.tzinfo is None else at


async def scan(args: argparse.Namespace, rt: Runtime) -> int:
    """Run one scan and print what it did."""
    if not args.once:
        raise CliError("pass --once: the periodic scan runs inside `duban run` and `duban worker`")
    if args.batch < 1:
        raise CliError(f"--batch must be at least 1, got {args.batch}")
    tz = rt.settings.office.tz
    clock: Clock = FixedClock(parse_now(args.now, tz)) if args.now else rt.clock
    result = await scan_and_group()(rt.sessions, clock=clock, tz=tz, batch=args.batch)
    print(f"scan at {clock.now().astimezone(tz).isoformat(timespec='seconds')}: {result}")
    return 0


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``scan``."""
    p = subparsers.add_parser("scan", help="write the due reminders and escalations to the outbox")
    p.add_argument("--once", action="store_true", help="scan once and exit")
    p.add_argument(
        "--now", help="pretend it is this ISO date-time (naive = office time zone), for tests"
    )
    p.add_argument("--batch", type=int, default=500, help="assignments per transaction")
    p.set_defaults(handler=scan)
