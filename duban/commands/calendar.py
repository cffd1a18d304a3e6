"""``duban calendar import FILE``, ``duban calendar check YEAR…`` and ``duban calendar set``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from duban.runtime import Runtime
from supervision.audit import Actor
from supervision.calendar import Coverage
from supervision.calendar_admin import (
    RecomputeResult,
    coverage_report,
    import_schedule,
    set_override,
)
from supervision.errors import ValidationFailed
from supervision.import_values import parse_bool, parse_date
from supervision.tabular import read_table


def _print_recompute(result: RecomputeResult) -> None:
    """Which deadlines moved, and which stay provisional."""
    if result.changed_items:
        print(f"{len(result.changed_items)} item deadline(s) changed:")
        for change in result.changed_items:
            print(f"  {change}")
    else:
        print("no item deadline changed")
    if result.still_provisional:
        print(
            f"{len(result.still_provisional)} item deadline(s) still provisional: "
            + ", ".join(result.still_provisional)
        )


async def import_file(args: argparse.Namespace, rt: Runtime) -> int:
    """Import an official schedule and recompute provisional deadlines."""
    table = read_table(Path(args.file))
    async with rt.sessions() as session:
        result = await import_schedule(
            session, table, actor=Actor.system("cli"), clock=rt.clock, dry_run=args.dry_run
        )
        if result.ok and not args.dry_run:
            await session.commit()
    if not result.ok:
        for error in result.errors:
            print(error.said(rt.settings.office.locale), file=sys.stderr)
        bad = len({e.row for e in result.errors})
        print(
            f"duban: error: calendar: {bad} bad row(s) out of {result.rows}; nothing was written",
            file=sys.stderr,
        )
        return 1
    years = ", ".join(str(y) for y in result.years) or "-"
    print(
        f"calendar: {result.rows} day(s) for {years}: {result.created} created, "
        f"{result.updated} updated, {result.unchanged} unchanged"
        + (f", {result.kept_overrides} kept as overridden by hand" if result.kept_overrides else "")
        + (" (dry run: nothing was written)" if args.dry_run else "")
    )
    _print_recompute(
        RecomputeResult(result.changed_items, result.confirmed, result.still_provisional)
    )
    return 0


async def check(args: argparse.Namespace, rt: Runtime) -> int:
    """Say where each year's working days come from."""
    async with rt.sessions() as session:
        report = await coverage_report(session, args.years)
    for line in report:
        print(line.describe())
    return 3 if args.strict and any(y.coverage is Coverage.FALLBACK for y in report) else 0


async def set_day(args: argparse.Namespace, rt: Runtime) -> int:
    """Make one day a working day or a day off by hand."""
    try:
        day = parse_date(args.day)
        workday = (
            parse_bool(args.workday)
            if args.workday not in ("workday", "off")
            else (args.workday == "workday")
        )
    except ValueError as exc:
        raise ValidationFailed(str(exc)) from None
    async with rt.sessions() as session:
        result = await set_override(session, day, workday, args.note, Actor.system("cli"), rt.clock)
        await session.commit()
    print(f"{day.isoformat()}: {'working day' if workday else 'day off'} (override)")
    _print_recompute(result)
    return 0


def _year(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a year") from None


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``calendar import|check|set``."""
    cal = subparsers.add_parser("calendar", help="the working-day calendar (工作日)")
    sub = cal.add_subparsers(dest="calendar_command", metavar="ACTION", required=True)
    p = sub.add_parser(
        "import", help="import an official schedule (date,is_workday,note); recompute deadlines"
    )
    p.add_argument("file", help="a .csv (UTF-8) or .xlsx file")
    p.add_argument("--dry-run", action="store_true", help="check and report, write nothing")
    p.set_defaults(handler=import_file)
    p = sub.add_parser("check", help="official data, imported schedule or the fallback?")
    p.add_argument("years", nargs="+", type=_year, metavar="YEAR")
    p.add_argument(
        "--strict", action="store_true", help="exit with status 3 if any year uses the fallback"
    )
    p.set_defaults(handler=check)
    p = sub.add_parser("set", help="make one day a working day or a day off (override)")
    p.add_argument("day", help="e.g. 2027-01-01")
    p.add_argument("workday", help="workday or off (also 1/0, 是/否)")
    p.add_argument("--note", default="")
    p.set_defaults(handler=set_day)
