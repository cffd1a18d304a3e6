"""The 台账 download: ``GET /items/ledger.xlsx`` with the items list's filters and order.

The workbook (`web.xlsx`: each row written at once, spooled to a temporary file past a
megabyte) is filled one batch of `supervision.ledger.ledger_rows` at a time in a worker
thread, then saved and sent in chunks: memory holds one batch whatever the number of rows,
and the event loop keeps answering meanwhile. Every viewer gets what their scope shows
(`supervision.access.Scope` through the list's filter). No formulas from people's text.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
from collections.abc import Sequence
from typing import Final

from aiohttp import web

from models import AssignmentRole, ItemState, Source
from supervision.access import Permission
from supervision.calendar_store import load_calendar
from supervision.clock import local_today
from supervision.labels import days_phrase, label, label_of
from supervision.ledger import LedgerRow, ledger_rows
from web.access import require
from web.app import DEPS, WebDeps
from web.bulletin_export import XLSX_TYPE
from web.i18n import translate
from web.views.common import lang_of
from web.views.items import parse_filters
from web.xlsx import Sheet, Style, Styled, Workbook

__all__ = ["COLUMNS", "routes"]

#: The 台账's columns, in the order offices keep them (UI strings ``ledger.<key>``).
COLUMNS: Final = (
    "no",
    "ref",
    "title",
    "source",
    "assigned_on",
    "leader",
    "units",
    "owners",
    "due_on",
    "latest",
    "completion",
    "light",
)
WIDTHS: Final = (6, 18, 40, 12, 12, 10, 30, 16, 12, 50, 20, 8)
CHUNK: Final = 256 * 1024


def _cells(line: LedgerRow, number: int, lang: str) -> list[object]:
    """One row of the sheet, in ``lang``'s words."""
    row = line.row
    units = "；".join(
        f"{unit}（{label_of(AssignmentRole, role, lang)}）"
        if lang == "zh"
        else f"{unit} ({label_of(AssignmentRole, role, lang)})"
        for unit, role in line.units
    )
    latest = f"{line.latest_on.isoformat()} {line.latest}" if line.latest_on else ""
    state = label_of(ItemState, row.state, lang)
    if line.closed_on is not None:
        completion = f"{state} {line.closed_on.isoformat()}"
    elif row.days_left is not None:
        comma = "，" if lang == "zh" else ", "
        completion = f"{state}{comma}{days_phrase(row.days_left, lang)}"
    else:
        completion = state
    return [
        number,
        row.ref,
        row.title,
        label_of(Source, row.source, lang),
        line.assigned_on,
        line.leader,
        units,
        "；".join(line.owners) if lang == "zh" else "; ".join(line.owners),
        row.due_on,
        latest,
        completion,
        label(row.light, lang),
    ]


_HEADER: Final = Style(bold=True, horizontal="center", vertical="center", wrap=True)


def _write(sheet: Sheet, lines: Sequence[LedgerRow], first: int, lang: str) -> None:
    for n, line in enumerate(lines, start=first):
        sheet.append(_cells(line, n, lang))


def _new_book(lang: str) -> tuple[Workbook, Sheet]:
    book = Workbook()
    sheet = book.add_sheet(translate("ledger.sheet", lang))
    sheet.widths(WIDTHS)
    sheet.append([Styled(translate(f"ledger.{key}", lang), _HEADER) for key in COLUMNS])
    return book, sheet


async def ledger_xlsx(request: web.Request) -> web.StreamResponse:
    """GET /items/ledger.xlsx?…: the 台账 of the filtered, ordered list, as the viewer sees it."""
    me = require(request, Permission.VIEW)
    deps: WebDeps = request.app[DEPS]
    filters = parse_filters(request.query)
    lang = lang_of(request)
    book, sheet = _new_book(lang)
    handle, path = tempfile.mkstemp(prefix="duban-ledger-", suffix=".xlsx")
    os.close(handle)
    try:
        async with deps.sessions() as session:
            calendar = await load_calendar(session)
            today = local_today(deps.clock, deps.config.tz)
            written = 0
            async for lines in ledger_rows(
                session,
                filters.where(me.scope),
                sort=filters.sort,
                today=today,
                calendar=calendar,
                tz=deps.config.tz,
            ):
                await asyncio.to_thread(_write, sheet, lines, written + 1, lang)
                written += len(lines)
        await asyncio.to_thread(book.save, path)
        size = await asyncio.to_thread(os.path.getsize, path)
        response = web.StreamResponse(
            headers={
                "Content-Type": XLSX_TYPE,
                "Content-Disposition": f'attachment; filename="ledger-{today.isoformat()}.xlsx"',
                "Cache-Control": "private, no-store",
                "Content-Length": str(size),
            }
        )
        await response.prepare(request)
        with open(path, "rb") as file:  # noqa: ASYNC230 - chunks of a local temporary file
            while chunk := await asyncio.to_thread(file.read, CHUNK):
                await response.write(chunk)
        await response.write_eof()
        return response
    finally:
        os.unlink(path)


def routes(app: web.Application) -> None:
    """Register the 台账 download."""
    app.router.add_get("/items/ledger.xlsx", ledger_xlsx, name="items_ledger")
