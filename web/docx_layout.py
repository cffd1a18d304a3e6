"""The layout every office document (公文) shares as DOCX: A4 with the GB/T 9704 margins,
Chinese fonts set on the east-asian slot, rules, tables and dates written in Chinese.

The item sheets (`web.item_docx`) and the bulletin (`web.bulletin_docx`) are built from these
pieces, so both open alike in WPS and Word. Imports only python-docx and lxml.
"""

from __future__ import annotations

from copy import deepcopy
from dataclasses import dataclass
from datetime import date, datetime
from io import BytesIO
from typing import Final
from urllib.parse import quote

from docx import Document as new_document
from docx.document import Document
from docx.enum.section import WD_ORIENT
from docx.enum.table import WD_CELL_VERTICAL_ALIGNMENT, WD_ROW_HEIGHT_RULE, WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_LINE_SPACING
from docx.opc.constants import RELATIONSHIP_TYPE as RT
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.oxml.text.paragraph import CT_P
from docx.oxml.text.parfmt import CT_PPr
from docx.shared import Mm, Pt, RGBColor
from docx.table import Table, _Cell
from docx.text.paragraph import Paragraph
from docx.text.run import Run
from lxml import etree

__all__ = [
    "BODY",
    "DOCX_TYPE",
    "HEADING",
    "RED",
    "SIZE",
    "TEXT_WIDTH_MM",
    "TITLE",
    "Face",
    "attachment_disposition",
    "chinese_date",
    "dated_line",
    "file_safe",
    "new_office_document",
    "paragraph",
    "rule",
    "rules",
    "saved",
    "style_run",
    "table",
    "written_date",
]

DOCX_TYPE: Final = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
#: GB/T 9704-2012 5.2.1: A4, 天头 37 mm, 订口 28 mm; bottom and right as the 版心 leaves them
MARGINS_MM: Final = {"top": 37, "bottom": 35, "left": 28, "right": 26}
#: the 版心's width: 156 mm
TEXT_WIDTH_MM: Final = 210 - MARGINS_MM["left"] - MARGINS_MM["right"]
RED: Final = RGBColor(0xE6, 0x00, 0x12)
#: points of the Chinese type sizes (字号) the standard names
SIZE: Final = {"初号": 42.0, "二号": 22.0, "三号": 16.0, "四号": 14.0, "小四": 12.0, "五号": 10.5}
LATIN: Final = "Times New Roman"


@dataclass(frozen=True, slots=True)
class Face:
    """A typeface for east-asian text, the one a machine without it falls back to, and
    whether it is set bold (a fallback 宋体 title reads right only in bold)."""

    east_asia: str
    fallback: str
    bold: bool = False


#: 正文 in 仿宋_GB2312 (仿宋 / FangSong where it is missing), titles in 方正小标宋简体 (宋体
#: / SimSun bold), headings in 黑体 (SimHei).
BODY: Final = Face("仿宋_GB2312", "仿宋")
TITLE: Final = Face("方正小标宋简体", "宋体", bold=True)
HEADING: Final = Face("黑体", "SimHei")
_FACES: Final = (BODY, TITLE, HEADING)
_CN: Final = "〇一二三四五六七八九"
#: what follows ``w:pBdr`` in a ``w:pPr`` (ECMA-376 CT_PPrBase order)
_AFTER_BORDER: Final = tuple(
    f"w:{tag}"
    for tag in [
        "shd",
        "tabs",
        "suppressAutoHyphens",
        "kinsoku",
        "wordWrap",
        "overflowPunct",
        "topLinePunct",
        "autoSpaceDE",
        "autoSpaceDN",
        "bidi",
        "adjustRightInd",
        "snapToGrid",
        "spacing",
        "ind",
        "contextualSpacing",
        "mirrorIndents",
        "suppressOverlap",
        "jc",
        "textDirection",
        "textAlignment",
        "textboxTightWrap",
        "outlineLvl",
        "divId",
        "cnfStyle",
        "rPr",
        "sectPr",
        "pPrChange",
    ]
)


def chinese_date(day: date) -> str:
    """二〇二六年十二月六日: the 成文日期 as GB/T 9704 writes it."""

    def small(n: int) -> str:
        tens, ones = divmod(n, 10)
        if not tens:
            return _CN[ones]
        return ("" if tens == 1 else _CN[tens]) + "十" + (_CN[ones] if ones else "")

    year = "".join(_CN[int(d)] for d in str(day.year))
    return f"{year}年{small(day.month)}月{small(day.day)}日"


_MONTHS: Final = (
    *("January", "February", "March", "April", "May", "June"),
    *("July", "August", "September", "October", "November", "December"),
)


def written_date(day: date, lang: str) -> str:
    """2026年12月6日 (the 印发 date, dates in a form), or 6 December 2026 in English."""
    if lang == "en":
        return f"{day.day} {_MONTHS[day.month - 1]} {day.year}"
    return f"{day.year}年{day.month}月{day.day}日"


def dated_line(day: date, lang: str) -> str:
    """The 成文日期 under a signature: 二〇二六年十二月六日, or 6 December 2026."""
    return written_date(day, lang) if lang == "en" else chinese_date(day)


def file_safe(text: str) -> str:
    """``text`` fit for a file name on Windows too: path and wildcard characters become -."""
    return "".join("-" if c in '/\\:*?"<>|' or not c.isprintable() else c for c in text)


def attachment_disposition(name: str, fallback: str) -> str:
    """``Content-Disposition`` of a download named ``name`` (RFC 5987 ``filename*``, UTF-8)
    with the ASCII ``fallback`` for clients that read only ``filename``."""
    ascii_name = "".join(c for c in fallback if c.isascii() and c not in '"\\\r\n') or "file"
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name, safe='')}"


def _fonts_with_fallbacks(doc: Document) -> None:
    """Name each face's fallback in the font table (``w:altName``), with the GB2312 charset,
    so Word and WPS substitute a Chinese face of the same kind when one is missing."""
    for rel in doc.part.rels.values():
        if rel.reltype != RT.FONT_TABLE or rel.is_external:
            continue
        part = rel.target_part
        root = etree.fromstring(part.blob)
        have = {f.get(qn("w:name")) for f in root.findall(qn("w:font"))}
        for face in _FACES:
            if face.east_asia in have:
                continue
            font = etree.SubElement(root, qn("w:font"))
            font.set(qn("w:name"), face.east_asia)
            for tag, value in (("w:altName", face.fallback), ("w:charset", "86")):
                etree.SubElement(font, qn(tag)).set(qn("w:val"), value)
            etree.SubElement(font, qn("w:family")).set(qn("w:val"), "modern")
        part._blob = etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)


def new_office_document(*, title: str, author: str, created: date) -> Document:
    """An empty A4 document with the GB/T 9704 margins, 正文 in 三号仿宋, and its properties
    (no template thumbnail, no template author)."""
    doc = new_document()
    section = doc.sections[0]
    section.orientation = WD_ORIENT.PORTRAIT
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.top_margin, section.bottom_margin = Mm(MARGINS_MM["top"]), Mm(MARGINS_MM["bottom"])
    section.left_margin, section.right_margin = Mm(MARGINS_MM["left"]), Mm(MARGINS_MM["right"])
    normal = doc.styles["Normal"]
    rpr = normal.element.get_or_add_rPr()
    fonts = rpr.get_or_add_rFonts()
    for slot in ("w:ascii", "w:hAnsi"):
        fonts.set(qn(slot), LATIN)
    fonts.set(qn("w:eastAsia"), BODY.east_asia)
    normal.font.size = Pt(SIZE["三号"])
    _fonts_with_fallbacks(doc)
    package = doc.part.package
    for rid, rel in list(package.rels.items()):
        if rel.reltype == RT.THUMBNAIL:
            del package.rels[rid]
    props = doc.core_properties
    props.title, props.author, props.last_modified_by = title, author, author
    props.subject = props.keywords = props.comments = ""
    props.created = props.modified = props.last_printed = datetime(
        created.year, created.month, created.day
    )
    props.revision = 1
    _page_numbers(doc)
    return doc


def _page_numbers(doc: Document) -> None:
    """页码 under the 版心: ``— 1 —`` in 四号 type, centred (GB/T 9704 7.5)."""
    footer = doc.sections[0].footer.paragraphs[0]
    footer.alignment = WD_ALIGN_PARAGRAPH.CENTER
    style_run(footer.add_run("— "), BODY, SIZE["四号"])
    field = OxmlElement("w:fldSimple")
    field.set(qn("w:instr"), "PAGE")
    number = style_run(footer.add_run("1"), BODY, SIZE["四号"])
    field.append(number._r)  # moved out of the paragraph into the field
    footer._p.append(field)
    style_run(footer.add_run(" —"), BODY, SIZE["四号"])


def style_run(
    run: Run, face: Face, size: float, *, bold: bool | None = None, color: RGBColor | None = None
) -> Run:
    """Set ``run`` in ``face`` (east-asian slot, Times New Roman for Latin) at ``size`` pt."""
    run.font.name = LATIN
    run._r.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), face.east_asia)
    run.font.size = Pt(size)
    run.font.bold = face.bold if bold is None else bold
    if color is not None:
        run.font.color.rgb = color
    return run


def paragraph(
    doc: Document | _Cell,
    text: str = "",
    *,
    face: Face = BODY,
    size: float = SIZE["三号"],
    align: WD_ALIGN_PARAGRAPH | None = None,
    indent: bool = False,
    bold: bool | None = None,
    color: RGBColor | None = None,
    line: float | None = 29.0,
    before: float = 0,
) -> Paragraph:
    """A paragraph of one run; ``indent`` 首行缩进 two characters; ``line`` an exact line
    pitch in pt (22 lines a page at 三号: GB/T 9704 5.2.2), None: single spacing;
    ``before``: space above it in pt."""
    par = doc.add_paragraph()
    fmt = par.paragraph_format
    fmt.space_before, fmt.space_after = Pt(before), Pt(0)
    if line is not None:
        fmt.line_spacing_rule = WD_LINE_SPACING.EXACTLY
        fmt.line_spacing = Pt(max(line, size + 2))
    if indent:
        fmt.first_line_indent = Pt(size * 2)
    if align is not None:
        par.alignment = align
    if text:
        style_run(par.add_run(text), face, size, bold=bold, color=color)
    return par


def _border(par: Paragraph, sides: dict[str, tuple[int, str]]) -> None:
    """Borders of ``par``: side → (eighths of a point, hex colour)."""
    ppr: CT_PPr = par._p.get_or_add_pPr()
    bdr = OxmlElement("w:pBdr")
    for side, (size, color) in sides.items():
        edge = OxmlElement(f"w:{side}")
        for key, value in (("val", "single"), ("sz", str(size)), ("space", "1"), ("color", color)):
            edge.set(qn(f"w:{key}"), value)
        bdr.append(edge)
    ppr.insert_element_before(bdr, *_AFTER_BORDER)


def rule(
    par: Paragraph, *, color: str = "000000", thick: bool = False, above: bool = False
) -> None:
    """A line across the 版心 under (or ``above``) ``par``: the red 分隔线 of the 版头
    (``thick``, red) or the lines of the 版记."""
    _border(par, {("top" if above else "bottom"): (12 if thick else 6, color)})


def rules(par: Paragraph, *, top_thick: bool, bottom_thick: bool) -> None:
    """Lines above and below ``par`` (the 版记's 抄送 and 印发 lines)."""
    _border(
        par,
        {
            "top": (12 if top_thick else 6, "000000"),
            "bottom": (12 if bottom_thick else 6, "000000"),
        },
    )


def table(
    doc: Document,
    head: list[str],
    rows: list[list[str]],
    *,
    size: float = SIZE["小四"],
    widths_mm: list[float] | None = None,
    label_column: bool = False,
    row_height: float | None = None,
) -> Table:
    """A ruled table, centred on the page: the ``head`` row (none when empty) in 黑体; with
    ``label_column`` a form (field names in 黑体 and centred, values flush left), else every
    cell centred. ``row_height``: each row at least this many pt (room to sign)."""
    lines = ([head] if head else []) + rows
    grid: Table = doc.add_table(rows=len(lines), cols=len(lines[0]))
    grid.style = doc.styles["Table Grid"]
    grid.alignment = WD_TABLE_ALIGNMENT.CENTER
    grid.autofit = widths_mm is None
    cell_text = _CellText(size)
    # Row by row, each row's cells once: python-docx's `Table.cell` and `rows[i]` rebuild
    # the whole grid on every call, which made a 400-unit ranking take minutes.
    for r, (row, values) in enumerate(zip(grid.rows, lines, strict=True)):
        if row_height is not None:
            row.height_rule = WD_ROW_HEIGHT_RULE.AT_LEAST
            row.height = Pt(row_height)
        for c, (cell, value) in enumerate(zip(row.cells, values, strict=True)):
            if widths_mm:
                cell.width = Mm(widths_mm[c])
            named = (bool(head) and r == 0) or (label_column and c == 0)
            cell_text(cell, value, named=named, center=not label_column or c == 0)
    return grid


class _CellText:
    """Writes a cell's text, one paragraph per line, vertically centred, from a styled
    paragraph made once per kind of cell and copied: styling each run through python-docx
    costs a few milliseconds a cell, which a ranking of hundreds of units multiplies."""

    def __init__(self, size: float) -> None:
        self.size = size
        self.protos: dict[tuple[bool, bool], CT_P] = {}

    def _proto(self, named: bool, center: bool) -> CT_P:
        key = (named, center)
        if key not in self.protos:
            par = Paragraph(OxmlElement("w:p"), None)  # type: ignore[arg-type]
            par.paragraph_format.space_before = par.paragraph_format.space_after = Pt(0)
            if center:
                par.alignment = WD_ALIGN_PARAGRAPH.CENTER
            style_run(par.add_run("x"), HEADING if named else BODY, self.size)
            self.protos[key] = par._p
        return self.protos[key]

    def __call__(self, cell: _Cell, text: str, *, named: bool, center: bool) -> None:
        cell.vertical_alignment = WD_CELL_VERTICAL_ALIGNMENT.CENTER
        tc = cell._tc
        for empty in tc.p_lst:
            tc.remove(empty)
        for line in text.split("\n") if text else [""]:
            p = deepcopy(self._proto(named, center))
            run = p.r_lst[0]
            if line:
                run.text = line
            else:
                p.remove(run)
            tc.append(p)


def saved(doc: Document) -> bytes:
    """The document as the bytes of a .docx file."""
    out = BytesIO()
    doc.save(out)
    return out.getvalue()
