"""A bulletin (督查通报) as an official document in DOCX, in the spirit of GB/T 9704.

版头: the 发文机关标志 (the office's name, red, centred), the 发文字号 and the red 分隔线;
主体: 标题, 主送 (the bulletin's units), 正文 (the totals, the 主办 and 协办 rankings as
tables, 节点按期率, praise and urging), the office's 署名 and the 成文日期 in Chinese; 版记:
抄送 and 印发 between lines. The figures are the bulletin's JSON form (``Bulletin.data`` or
``BulletinData.as_json()``), read as the HTML and XLSX downloads read them
(`web.bulletin_export.sections`). The English rendering says the same in English.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any, Final

from docx.document import Document
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_TAB_ALIGNMENT
from docx.shared import Mm

from supervision.labels import working_days
from web.bulletin_export import percent, sections
from web.docx_layout import (
    BODY,
    HEADING,
    RED,
    SIZE,
    TEXT_WIDTH_MM,
    TITLE,
    dated_line,
    file_safe,
    new_office_document,
    paragraph,
    rule,
    rules,
    saved,
    style_run,
    table,
    written_date,
)
from web.i18n import translate

__all__ = ["BulletinLetter", "bulletin_name", "render_bulletin_docx"]

#: the ranking table: (row key, heading's string key), the columns of the bulletin page
COLUMNS: Final = (
    ("rank", "bulletin.rank"),
    ("unit_name", "bulletin.unit"),
    ("assigned", "bulletin.assigned"),
    ("closed_in_period", "bulletin.closed"),
    ("closed_on_time", "bulletin.on_time"),
    ("overdue", "bulletin.overdue"),
    ("extensions", "bulletin.extensions"),
    ("on_time_rate", "bulletin.rate"),
)
MILESTONE_COLUMNS: Final = (
    ("unit_name", "bulletin.unit"),
    ("completed", "bulletin.ms_done"),
    ("on_time", "bulletin.on_time"),
    ("late", "bulletin.ms_late"),
    ("open_overdue", "bulletin.ms_open_overdue"),
    ("on_time_rate", "bulletin.ms_rate"),
)
#: column widths across the 156 mm 版心: the unit's name wide, the figures in 五号 fitting
#: a four-character heading (按期办结) on one line
RANKING_MM: Final = [10, 34, *[(156 - 44) / 6] * 6]
MILESTONES_MM: Final = [41, *[(156 - 41) / 5] * 5]
_ORDINALS: Final = "一二三四五六七八九十"
#: urged items named per unit in the text (the HTML and XLSX downloads list every one)
URGED_NAMED: Final = 10


@dataclass(frozen=True, slots=True)
class BulletinLetter:
    """What the document says of its sender: the office, the 发文字号, 抄送, the 成文日期."""

    office_name: str
    number: str
    copy_to: tuple[str, ...]
    dated: date


def bulletin_name(data: dict[str, Any], number: str, lang: str) -> str:
    """The download's name: 督查通报-督查通报〔2026〕12号.docx (the period when unnumbered)."""
    word = translate("nav.bulletins", lang)
    tail = number or str(data.get("period", ""))
    return f"{word}-{file_safe(tail)}.docx"


def _heading(doc: Document, n: int, text: str, lang: str) -> None:
    """一、主办单位排名 (1. … in English), in 黑体, kept with what follows it."""
    number = f"{n}. " if lang == "en" else f"{_ORDINALS[n - 1]}、"
    heading = paragraph(doc, number + text, face=HEADING, indent=lang != "en")
    heading.paragraph_format.keep_with_next = True  # never alone at a page's foot


def _cell(row: dict[str, Any], key: str) -> str:
    value = row.get(key)
    if key == "on_time_rate":
        return percent(value)
    return "" if value is None else str(value)


def _units(data: dict[str, Any]) -> list[str]:
    """The bulletin's units in the order it names them, each once (主送)."""
    rows = [*data.get("rows", []), *data.get("unranked", [])]
    return list(dict.fromkeys(str(r["unit_name"]) for r in rows if isinstance(r, dict)))


def _head(doc: Document, letter: BulletinLetter) -> None:
    """版头: 发文机关标志 in red, the 发文字号, the red line under it."""
    center = WD_ALIGN_PARAGRAPH.CENTER
    paragraph(doc, "")
    paragraph(doc, letter.office_name, face=TITLE, size=36, align=center, color=RED, line=None)
    paragraph(doc, "")
    paragraph(doc, "")
    number = paragraph(doc, letter.number, align=center)
    rule(number, color=str(RED), thick=True)
    paragraph(doc, "")


def _body(doc: Document, data: dict[str, Any], letter: BulletinLetter, lang: str) -> None:
    """标题, 主送 and 正文."""

    def t(key: str, **values: object) -> str:
        return translate(key, lang, **values)

    glue = ", " if lang == "en" else "、"
    period = data["period_label"] if lang != "en" else data["period"]
    as_of = date.fromisoformat(data["as_of"])
    center = WD_ALIGN_PARAGRAPH.CENTER
    title = t("doc.bulletin_title", period=period)
    paragraph(doc, title, face=TITLE, size=SIZE["二号"], align=center, line=36)
    paragraph(doc, "")
    units = _units(data)
    paragraph(doc, t("doc.main_to", units=glue.join(units) if units else t("doc.all_units")))
    paragraph(doc, t("doc.intro", period=period, as_of=written_date(as_of, lang)), indent=True)
    totals = data["totals"]
    paragraph(
        doc,
        t(
            "doc.totals",
            assigned=totals["assigned"],
            closed=totals["closed_in_period"],
            on_time=totals["closed_on_time"],
            overdue=totals["overdue"],
            extensions=totals["extensions"],
            rate=percent(totals["on_time_rate"]),
        ),
        indent=True,
    )
    n = 0
    head = [t(key) for _, key in COLUMNS]
    for section in sections(data):
        if section["key"] == "unranked":
            names = glue.join(str(r["unit_name"]) for r in section["rows"])
            paragraph(doc, t("doc.unranked", units=names), indent=True)
            continue
        n += 1
        _heading(doc, n, t(f"bulletin.section.{section['key']}"), lang)
        if not section["rows"]:
            paragraph(doc, t("doc.nothing_ranked"), indent=True)
            continue
        rows = [[_cell(r, key) for key, _ in COLUMNS] for r in section["rows"]]
        table(doc, head, rows, size=SIZE["五号"], widths_mm=RANKING_MM, row_height=20)
    figures = data.get("milestones")
    if isinstance(figures, dict) and figures.get("units"):
        n += 1
        _heading(doc, n, t("bulletin.milestones"), lang)
        rows = [[_cell(m, key) for key, _ in MILESTONE_COLUMNS] for m in figures["units"]]
        totals_row = dict(figures["totals"], unit_name=t("bulletin.totals"))
        rows.append([_cell(totals_row, key) for key, _ in MILESTONE_COLUMNS])
        heads = [t(key) for _, key in MILESTONE_COLUMNS]
        table(doc, heads, rows, size=SIZE["五号"], widths_mm=MILESTONES_MM, row_height=20)
    if data.get("praised_units") or data.get("urged_units"):
        n += 1
        _heading(doc, n, t("doc.praise"), lang)
    if data.get("praised_units"):
        paragraph(doc, t("doc.praised", units=glue.join(data["praised_units"])), indent=True)
    if data.get("urged_units") and not data.get("urged"):  # frozen before the details were
        paragraph(doc, t("doc.urged_units", units=glue.join(data["urged_units"])), indent=True)
        paragraph(doc, t("doc.closing", office=letter.office_name), indent=True)
    if data.get("urged"):
        paragraph(doc, t("doc.urged"), indent=True)
        for u in data["urged"]:
            named = [f"{o['ref']} {o['title']}" for o in u["items"][:URGED_NAMED]]
            more = "…" if u["overdue"] > len(named) else ""
            paragraph(
                doc,
                t(
                    "doc.urged_line",
                    unit=u["unit_name"],
                    count=u["overdue"],
                    days=working_days(u["days_overdue"], lang),
                    items=glue.join(named) + more,
                ),
                indent=True,
            )
        paragraph(doc, t("doc.closing", office=letter.office_name), indent=True)


def _signature(doc: Document, letter: BulletinLetter, lang: str) -> None:
    """署名 and 成文日期, right-aligned four characters in from the edge."""
    right = WD_ALIGN_PARAGRAPH.RIGHT
    paragraph(doc, "")
    paragraph(doc, "")
    pad = "" if lang == "en" else "　　　　"
    paragraph(doc, letter.office_name + pad, align=right)
    paragraph(doc, dated_line(letter.dated, lang) + pad, align=right)


def _record(doc: Document, letter: BulletinLetter, lang: str) -> None:
    """版记: 抄送 and 印发, between a thick first line, thin middle and thick last line."""
    paragraph(doc, "")
    size = SIZE["四号"]
    printed = translate("doc.printed", lang, date=written_date(letter.dated, lang))
    if letter.copy_to:
        glue = ", " if lang == "en" else "、"
        offices = glue.join(letter.copy_to)
        copied = paragraph(doc, translate("doc.copy_to", lang, offices=offices), size=size)
        rules(copied, top_thick=True, bottom_thick=False)
    issued = paragraph(doc, "", size=size)
    edge = Mm(TEXT_WIDTH_MM)  # a right tab at the 版心's edge: 印发 date flush right
    issued.paragraph_format.tab_stops.add_tab_stop(edge, WD_TAB_ALIGNMENT.RIGHT)
    style_run(issued.add_run(f"{letter.office_name}\t{printed}"), BODY, size)
    rules(issued, top_thick=not letter.copy_to, bottom_thick=True)


def render_bulletin_docx(data: dict[str, Any], letter: BulletinLetter, lang: str) -> bytes:
    """The bulletin as a .docx file (``lang`` ``en``: in English)."""
    title = translate("doc.bulletin_title", lang, period=data.get("period_label", ""))
    doc = new_office_document(title=title, author=letter.office_name, created=letter.dated)
    _head(doc, letter)
    _body(doc, data, letter, lang)
    _signature(doc, letter, lang)
    _record(doc, letter, lang)
    return saved(doc)
