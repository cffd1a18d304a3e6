"""发文字号 (typed or by the office's pattern) and the small pieces of the DOCX layout."""

from __future__ import annotations

from datetime import date

import pytest

from supervision.doc_numbers import (
    DEFAULT_PATTERN,
    check_pattern,
    document_number,
    given_number,
)
from supervision.errors import ValidationFailed
from supervision.labels import told
from web.docx_layout import (
    attachment_disposition,
    chinese_date,
    dated_line,
    file_safe,
    written_date,
)


def test_pattern_numbers_the_issue():
    assert document_number(DEFAULT_PATTERN, year=2026, n=12) == "督查通报〔2026〕12号"
    assert document_number("市督通〔{year}〕第{n}期", year=2027, n=1) == "市督通〔2027〕第1期"
    assert document_number("{n}", year=2026, n=3) == "3"


@pytest.mark.parametrize(
    "pattern", ["督查通报〔{year}〕号", "{n}{x}", "{n:>3}", "{n!r}", "{}", "{0}", "{n", "n}{n}"]
)
def test_a_bad_pattern_is_refused(pattern):
    with pytest.raises(ValidationFailed) as err:
        check_pattern(pattern)
    assert "须含 {n}" in told(err.value, "zh")
    assert "must contain {n}" in told(err.value, "en")


def test_a_typed_number_is_one_short_line():
    assert given_number("  督查通报〔2026〕7号 ") == "督查通报〔2026〕7号"
    assert given_number("x" * 50) == "x" * 50
    for bad in ("", "   ", "x" * 51, "一\n二", "tab\there", "\u202e反转"):
        with pytest.raises(ValidationFailed) as err:
            given_number(bad)
        assert "1 至 50 个字符" in told(err.value, "zh")


@pytest.mark.parametrize(
    ("day", "written"),
    [
        (date(2026, 12, 6), "二〇二六年十二月六日"),
        (date(2030, 10, 21), "二〇三〇年十月二十一日"),
        (date(2026, 1, 10), "二〇二六年一月十日"),
        (date(2027, 11, 30), "二〇二七年十一月三十日"),
        (date(2000, 2, 29), "二〇〇〇年二月二十九日"),
    ],
)
def test_chinese_date(day, written):
    assert chinese_date(day) == written


def test_download_names():
    assert file_safe('督〔2026〕1/2号:*?"<>|\\') == "督〔2026〕1-2号--------"
    header = attachment_disposition("督办单-督〔2026〕1号.docx", 'sheet-"1".docx')
    assert header == (
        "attachment; filename=\"sheet-1.docx\"; filename*=UTF-8''"
        "%E7%9D%A3%E5%8A%9E%E5%8D%95-%E7%9D%A3%E3%80%942026%E3%80%951%E5%8F%B7.docx"
    )


def test_written_dates():
    day = date(2026, 12, 6)
    assert written_date(day, "zh") == "2026年12月6日"
    assert written_date(day, "en") == "6 December 2026"
    assert dated_line(day, "zh") == "二〇二六年十二月六日"
    assert dated_line(day, "en") == "6 December 2026"


def test_a_closed_items_urging_sheet_says_it_is_closed():
    from io import BytesIO

    from docx import Document as open_docx

    from models import AssignmentRole, ItemState, Source
    from supervision.labels import Document
    from supervision.light import Light
    from web.item_docx import ItemSheet, SheetUnit, render_sheet

    sheet = ItemSheet(
        kind=Document.URGING_SHEET,
        office_name="督查室",
        ref="督〔2026〕3号",
        title="事项",
        source=Source.MEETING,
        requirement="",
        assigned_on=date(2026, 10, 9),
        due_on=date(2026, 10, 23),
        urgent=False,
        units=(SheetUnit("甲单位", AssignmentRole.LEAD, "", ""),),
        state=ItemState.CLOSED,
        light=Light.GREY,
        days_left=-6,
        latest=None,
        made_on=date(2026, 11, 2),
    )
    doc = open_docx(BytesIO(render_sheet(sheet, "zh")))
    rows = {r.cells[0].text: r.cells[1].text for r in doc.tables[0].rows}
    assert rows["时限情况"] == "已办结" and rows["最新进展"] == "暂无"
    assert rows["要求"] == "暂无" and rows["责任人"] == "暂无" and rows["牵头领导"] == "暂无"
