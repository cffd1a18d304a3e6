"""Hostile files over HTTP: /import and /calendar/import refuse them clearly, parse them off
the event loop, keep memory bounded and write nothing."""

from __future__ import annotations

import threading
import tracemalloc

from aiohttp import FormData
from sqlalchemy import func, select

import web.views.importing as import_view
from models import AuditEvent, CalendarDay, Item
from supervision.tabular import read_table
from testing.xlsx_files import inline, row, shared_strings_bomb, sheet_xml, workbook
from tests.web.conftest import Seed, Web

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
FAR_ROW = workbook(
    sheet_xml(
        [row([inline("ref"), inline("title")], 1), row([inline("x", "A1048576")], 1048576)],
        dimension="A1:XFD1048576",
    )
)
BOMB = workbook(sheet_xml([row([inline("ref")], 1)]), shared_strings_bomb(100))


def form(web_client: Web, data: bytes, name: str, **fields: str) -> FormData:
    body = FormData()
    body.add_field("csrf_token", web_client.token())
    for key, value in fields.items():
        body.add_field(key, value)
    body.add_field("file", data, filename=name, content_type=XLSX)
    return body


async def _counts(sessions) -> tuple[int, int, int]:
    async with sessions() as s:
        return (
            await s.scalar(select(func.count()).select_from(Item)),
            await s.scalar(select(func.count()).select_from(AuditEvent)),
            await s.scalar(select(func.count()).select_from(CalendarDay)),
        )


async def test_a_row_far_down_is_refused_in_chinese_with_memory_bounded(
    as_admin: Web, seed: Seed, sessions
) -> None:
    before = await _counts(sessions)
    tracemalloc.start()
    try:
        response = await as_admin.post(
            "/import", form(as_admin, FAR_ROW, "far.xlsx", action="check", kind="items")
        )
        html = await response.text()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert response.status == 400
    assert "文件超过 100,000 行。" in html
    assert peak < 48 * 1024 * 1024, peak
    assert await _counts(sessions) == before


async def test_a_zip_bomb_is_refused_in_the_readers_language(
    as_admin: Web, seed: Seed, sessions
) -> None:
    before = await _counts(sessions)
    response = await as_admin.post(
        "/import", form(as_admin, BOMB, "bomb.xlsx", action="check", kind="items")
    )
    assert response.status == 400
    assert "工作簿解压后达 100 MB，超过上限 96 MB。" in await response.text()
    await as_admin.get("/lang/en?next=/import")
    response = await as_admin.post(
        "/import", form(as_admin, BOMB, "bomb.xlsx", action="check", kind="items")
    )
    assert "the workbook unpacks to 100 MB, more than 96 MB" in await response.text()
    assert await _counts(sessions) == before


async def test_a_file_over_the_size_limit_is_refused(as_admin: Web, seed: Seed) -> None:
    data = b"ref\n" + b"x" * (10 * 1024 * 1024)
    response = await as_admin.post(
        "/import", form(as_admin, data, "big.csv", action="check", kind="items")
    )
    assert response.status == 400 and "文件超过 10 MB。" in await response.text()


async def test_the_calendar_import_refuses_hostile_files_too(
    as_admin: Web, seed: Seed, sessions
) -> None:
    before = await _counts(sessions)
    response = await as_admin.post("/calendar/import", form(as_admin, FAR_ROW, "far.xlsx"))
    assert response.status == 400 and "文件超过 100,000 行。" in await response.text()
    assert await _counts(sessions) == before


async def test_files_are_parsed_off_the_event_loop(
    as_supervisor: Web, seed: Seed, monkeypatch
) -> None:
    threads: list[int] = []

    def recording(data: bytes, name: str):
        threads.append(threading.get_ident())
        return read_table(data, name)

    monkeypatch.setattr(import_view, "read_table", recording)
    csv = b"ref,title,source,received_on,lead_unit,owner_email\n"
    body = FormData()
    body.add_field("csrf_token", as_supervisor.token())
    body.add_field("action", "check")
    body.add_field("kind", "items")
    body.add_field("file", csv, filename="items.csv", content_type="text/csv")
    response = await as_supervisor.post("/import", body)
    assert response.status == 200, await response.text()
    assert threads and threads[0] != threading.get_ident()
