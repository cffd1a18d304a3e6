"""``duban import units|people|items FILE`` and ``duban items list``."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TextIO

from duban.runtime import Runtime
from duban.table import format_table, truncate
from models import ItemState
from supervision.audit import Actor
from supervision.calendar import WorkCalendar
from supervision.calendar_store import load_calendar
from supervision.clock import local_today
from supervision.importing import ImportKind, import_rows
from supervision.items import ItemRow, list_items
from supervision.labels import ImportWord, label, label_of, say_import, told
from supervision.tabular import TableError, read_table

PROGRESS_MIN_ROWS = 300  # smaller files finish before a bar would help
BAR_WIDTH = 30
TITLE_WIDTH = 40


class ProgressBar:
    """A one-line progress bar redrawn on stderr, about a hundred times at most."""

    def __init__(self, label: str, total: int, stream: TextIO | None = None) -> None:
        self.label = label
        self.total = max(total, 1)
        self.stream = stream or sys.stderr
        self._shown = -1

    def __call__(self, done: int, total: int) -> None:
        """Redraw when the percentage changes."""
        percent = done * 100 // max(total, 1)
        if percent == self._shown:
            return
        self._shown = percent
        filled = BAR_WIDTH * done // max(total, 1)
        bar = "#" * filled + "-" * (BAR_WIDTH - filled)
        self.stream.write(f"\r{self.label} [{bar}] {done}/{total} {percent:3d}%")
        if done >= total:
            self.stream.write("\n")
        self.stream.flush()


def warn_fallback(years: Iterable[int], locale: str | None) -> None:
    """Tell the operator that some years use the fallback calendar (the calendar logs it too)."""
    for year in sorted(set(years)):
        print(
            f"duban: warning: {say_import(ImportWord.FALLBACK_YEAR, locale, year=year)}",
            file=sys.stderr,
        )


async def import_file(args: argparse.Namespace, rt: Runtime) -> int:
    """Import one CSV or XLSX file, all or nothing; problems and the summary are said in the
    office's language (``DUBAN_OFFICE_LOCALE``)."""
    kind = ImportKind(args.kind)
    locale = rt.settings.office.locale
    try:
        table = read_table(Path(args.file))
    except TableError as exc:
        print(f"duban: error: {told(exc, locale)}", file=sys.stderr)
        return 1
    progress = (
        ProgressBar(f"importing {kind.value}", len(table))
        if (len(table) > PROGRESS_MIN_ROWS)
        else None
    )
    async with rt.sessions() as session:
        result = await import_rows(
            session,
            kind,
            table,
            dry_run=args.dry_run,
            actor=Actor.system("import"),
            clock=rt.clock,
            progress=progress,
        )
        if result.written:
            await session.commit()
    for error in result.errors:
        print(error.said(locale), file=sys.stderr)
    if not result.ok:
        print(f"duban: error: {result.summary(locale)}", file=sys.stderr)
        return 1
    print(result.summary(locale))
    for note in result.deadline_notes(locale):
        print(note)
    warn_fallback(result.fallback_years, locale)
    return 0


def item_table(rows: Sequence[ItemRow]) -> str:
    """The items list as an aligned table; a provisional deadline is marked with ``*``."""
    header = ("REF", "LIGHT", "DUE", "STATE", "LEAD", "OWNER", "TITLE")
    body = [
        (
            r.ref,
            label(r.light).removesuffix("灯"),  # the column is narrow: 红, 黄, 绿, 已办结
            r.due_on.isoformat() + ("*" if r.due_is_provisional else ""),
            label_of(ItemState, r.state),
            r.lead_unit or "-",
            r.owner_email or "-",
            truncate(("【急】" if r.urgent else "") + r.title, TITLE_WIDTH),
        )
        for r in rows
    ]
    return format_table(header, body)


def fallback_years_in_use(rows: Sequence[ItemRow], calendar: WorkCalendar, year: int) -> list[int]:
    """Years of this year and of the listed open deadlines that have no official data."""
    years = {year} | {r.due_on.year for r in rows if r.state in ("open", "completion_requested")}
    return calendar.fallback_years(years)


async def items_list(args: argparse.Namespace, rt: Runtime) -> int:
    """Print items with their light."""
    today = local_today(rt.clock, rt.settings.office.tz)
    async with rt.sessions() as session:
        calendar = await load_calendar(session)
        rows = await list_items(
            session,
            today=today,
            calendar=calendar,
            overdue_only=args.overdue,
            unit_code=args.unit,
            tz=rt.settings.office.tz,
        )
    warn_fallback(fallback_years_in_use(rows, calendar, today.year), rt.settings.office.locale)
    if args.format == "json":
        print(json.dumps([r.as_json() for r in rows], ensure_ascii=False, indent=2))
        return 0
    if not rows:
        print("no items")
        return 0
    print(item_table(rows))
    if any(r.due_is_provisional for r in rows):
        print("* provisional deadline (no official calendar for that year: Mon–Fri less holidays)")
    return 0


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``import`` and ``items``."""
    p = subparsers.add_parser(
        "import",
        help="import units, people, items or milestones from CSV or XLSX; all or nothing",
    )
    p.add_argument("kind", choices=[k.value for k in ImportKind])
    p.add_argument(
        "file",
        help="a .csv (UTF-8 with or without BOM, or GBK/GB18030) or .xlsx file; "
        "headers in Chinese (文号, 标题, ...) or English (ref, title, ...)",
    )
    p.add_argument("--dry-run", action="store_true", help="check and count, write nothing")
    p.set_defaults(handler=import_file)

    items = subparsers.add_parser("items", help="supervised items")
    sub = items.add_subparsers(dest="items_command", metavar="ACTION", required=True)
    p = sub.add_parser("list", help="list items with their light (红黄绿灯)")
    p.add_argument("--overdue", action="store_true", help="only overdue items (red)")
    p.add_argument("--unit", metavar="CODE", help="only items of this unit and the units below")
    p.add_argument("--format", choices=("table", "json"), default="table")
    p.set_defaults(handler=items_list)
