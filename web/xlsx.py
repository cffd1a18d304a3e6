"""The one XLSX writer of every export: rows streamed as SpreadsheetML, no text a formula.

A `Workbook` holds `Sheet`s; each appended row is written at once as XML into the sheet's
spool (memory up to `SPOOL_BYTES`, then a temporary file), so time and memory follow the
rows exported, and `save` zips the parts. Strings are inline (no shared-strings table to
hold), styles are `Style` values gathered into one styles part, and a sheet may have column
widths and formats, merged cells, a frozen header, comments and drop-down lists.

Text from people (titles, unit names, refs) that starts like a formula would run in the
reader's spreadsheet: ``=HYPERLINK(...)`` as a link that leaks data, ``+``, ``-`` and ``@``
as formulas in Excel, a leading tab or CR as a formula after editing. Such text is written
as text with Excel's quote prefix; numbers, negative ones included, stay numbers. Characters
XML cannot carry are dropped, and a text longer than a cell holds is cut (`MAX_TEXT`).
Imports only the standard library.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import IO, Final
from xml.sax.saxutils import escape, quoteattr

__all__ = [
    "FORMULA_STARTS",
    "MAX_TEXT",
    "SPOOL_BYTES",
    "Sheet",
    "Style",
    "Styled",
    "Workbook",
    "column_letter",
]

#: How text may start for a spreadsheet to take it for a formula.
FORMULA_STARTS: Final = ("=", "+", "-", "@", "\t", "\r")
#: A sheet's rows stay in memory up to this many bytes of XML, then go to a temporary file.
SPOOL_BYTES: Final = 1 << 20
#: The longest text a cell holds (Excel's limit, in characters).
MAX_TEXT: Final = 32_767
#: Rows gathered before they are encoded and written to the spool.
_BATCH: Final = 256
#: zlib's level for the parts: the 100k month's bulletin in 58 ms CPU and 294 KiB at 1,
#: 79 ms and 247 KiB at the default 6.
_COMPRESSION: Final = 1
_EPOCH: Final = datetime(1899, 12, 30)
_DATE_FORMAT: Final = "yyyy-mm-dd"
_DEFAULT_WIDTH: Final = 9.140625  # Excel's, for a column given a style but no width
_ILLEGAL: Final = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_SPECIAL: Final = re.compile("[&<>\r\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_NS: Final = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL_NS: Final = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PKG_REL: Final = "http://schemas.openxmlformats.org/package/2006/relationships"
_HEAD: Final = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'


def column_letter(index: int) -> str:
    """1 → A, 27 → AA."""
    letters = ""
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


_LETTERS: Final = tuple(column_letter(n) for n in range(1, 257))


@dataclass(frozen=True, slots=True)
class Style:
    """How a cell looks: font, fill (an RGB like ``"DDE5F0"``), number format, alignment."""

    bold: bool = False
    size: float | None = None
    fill: str | None = None
    number_format: str | None = None
    horizontal: str | None = None
    vertical: str | None = None
    wrap: bool = False
    quote: bool = False  # Excel's quote prefix: the text is text, whatever it starts with


_PLAIN: Final = Style()


@dataclass(frozen=True, slots=True)
class Styled:
    """A value for `Sheet.append` with its style."""

    value: object
    style: Style


def _text(value: str) -> str:
    """``value`` as the content of a ``<t>``: escaped, its CRs kept, illegal characters out,
    cut to what a cell holds (Excel refuses to open a file with a longer text)."""
    if len(value) > MAX_TEXT:
        value = value[: MAX_TEXT - 1] + "…"
    if _SPECIAL.search(value):  # most text has nothing to escape: one scan finds out
        value = escape(_ILLEGAL.sub("", value)).replace("\r", "&#13;")
    if value[:1].isspace() or value[-1:].isspace():
        return f'<t xml:space="preserve">{value}</t>'
    return f"<t>{value}</t>"


class _Styles:
    """The workbook's styles part: each distinct `Style` is one cell format (xf)."""

    def __init__(self) -> None:
        self._index: dict[Style, int] = {_PLAIN: 0}
        self._attributes: dict[Style, str] = {}
        self._fonts: dict[tuple[bool, float | None], int] = {(False, None): 0}
        self._fills: dict[str | None, int] = {None: 0}  # 1 is the gray125 Excel requires
        self._formats: dict[str, int] = {}

    def of(self, style: Style) -> int:
        """The xf index of ``style``."""
        index = self._index.get(style)
        if index is None:
            index = self._index[style] = len(self._index)
        return index

    def attribute(self, style: Style | None) -> str:
        """A cell's style attribute (none for the default style)."""
        if style is None:
            return ""
        said = self._attributes.get(style)
        if said is None:
            index = self.of(style)
            said = self._attributes[style] = f' s="{index}"' if index else ""
        return said

    def _number_format(self, code: str | None) -> int:
        builtin = {None: 0, "General": 0, "0": 1, "0%": 9, "0.00%": 10, "@": 49}
        if code in builtin:
            return builtin[code]
        assert code is not None
        return self._formats.setdefault(code, 164 + len(self._formats))

    def _xf(self, style: Style) -> str:
        font = self._fonts.setdefault((style.bold, style.size), len(self._fonts))
        fill = 0
        if style.fill is not None:
            fill = self._fills.setdefault(style.fill, len(self._fills) + 1)
        number = self._number_format(style.number_format)
        attributes = (
            f'numFmtId="{number}" fontId="{font}" fillId="{fill}" borderId="0" xfId="0"'
            + (' applyNumberFormat="1"' if number else "")
            + (' applyFont="1"' if font else "")
            + (' applyFill="1"' if fill else "")
            + (' quotePrefix="1"' if style.quote else "")
        )
        align = "".join(
            f' {name}="{value}"'
            for name, value in (
                ("horizontal", style.horizontal),
                ("vertical", style.vertical),
                ("wrapText", "1" if style.wrap else None),
            )
            if value is not None
        )
        if not align:
            return f"<xf {attributes}/>"
        return f'<xf {attributes} applyAlignment="1"><alignment{align}/></xf>'

    def xml(self) -> str:
        """The styles part."""
        xfs = [self._xf(style) for style in self._index]  # fills fonts and formats first
        formats = "".join(
            f"<numFmt numFmtId={quoteattr(str(n))} formatCode={quoteattr(code)}/>"
            for code, n in self._formats.items()
        )
        fonts = "".join(
            "<font>"
            + ("<b/>" if bold else "")
            + f'<sz val="{size or 11}"/><name val="Calibri"/><family val="2"/></font>'
            for bold, size in self._fonts
        )
        fills = "".join(
            f'<fill><patternFill patternType="solid"><fgColor rgb="FF{rgb}"/></patternFill></fill>'
            for rgb in self._fills
            if rgb is not None
        )
        return (
            f'{_HEAD}<styleSheet xmlns="{_NS}">'
            + (f'<numFmts count="{len(self._formats)}">{formats}</numFmts>' if formats else "")
            + f'<fonts count="{len(self._fonts)}">{fonts}</fonts>'
            f'<fills count="{len(self._fills) + 1}"><fill><patternFill patternType="none"/></fill>'
            f'<fill><patternFill patternType="gray125"/></fill>{fills}</fills>'
            '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border>'
            "</borders>"
            '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/>'
            f'</cellStyleXfs><cellXfs count="{len(xfs)}">{"".join(xfs)}</cellXfs>'
            '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
            "</styleSheet>"
        )


@dataclass(frozen=True, slots=True)
class _Comment:
    ref: str
    row: int
    column: int
    text: str
    width: int
    height: int


class Sheet:
    """One worksheet: rows appended in order and written at once; its settings (widths,
    merges, frozen header, comments, drop-downs) may be given before or after the rows."""

    def __init__(self, book: Workbook, name: str, number: int) -> None:
        self.name = name
        self.number = number
        self._styles = book.styles
        self._spool: IO[bytes] = tempfile.SpooledTemporaryFile(  # noqa: SIM115
            max_size=SPOOL_BYTES
        )  # closed by write_to, or with the sheet if never saved
        self._pending: list[str] = []
        self._rows = 0
        self._columns = 0
        self._widths: dict[int, float] = {}
        self._column_styles: dict[int, Style] = {}
        self._merged: list[str] = []
        self._frozen_rows = 0
        self._validations: list[tuple[str, Sequence[str]]] = []
        self.comments: list[_Comment] = []

    @property
    def rows(self) -> int:
        """How many rows were appended."""
        return self._rows

    def widths(self, widths: Iterable[float], *, first: int = 1) -> None:
        """Column widths in characters, from column ``first`` on."""
        for index, width in enumerate(widths, start=first):
            self._widths[index] = width

    def column_style(self, column: int, style: Style) -> None:
        """The style of the cells people add to a column (no cell is written for it)."""
        self._column_styles[column] = style

    def merge(self, first_row: int, first_column: int, last_row: int, last_column: int) -> None:
        """Merge a block of cells (the value stays in its top-left cell)."""
        self._merged.append(
            f"{_LETTERS[first_column - 1]}{first_row}:{_LETTERS[last_column - 1]}{last_row}"
        )

    def freeze_rows(self, rows: int) -> None:
        """Keep the first ``rows`` rows in view while scrolling."""
        self._frozen_rows = rows

    def comment(self, row: int, column: int, text: str, *, width: int, height: int) -> None:
        """A note on a cell, shown on hover; ``width`` and ``height`` in pixels."""
        ref = f"{_LETTERS[column - 1]}{row}"
        self.comments.append(_Comment(ref, row, column, text, width, height))

    def choices(self, cells: str, values: Sequence[str]) -> None:
        """A drop-down offering ``values`` on ``cells`` (e.g. ``"B2:B5000"``): it offers and
        does not refuse (the imports read other spellings too), blank allowed."""
        self._validations.append((cells, values))

    def append(self, values: Iterable[object], *, height: float | None = None) -> None:
        """Write the next row; a value may be `Styled`, ``None`` leaves its cell empty."""
        self._rows = r = self._rows + 1
        styles = self._styles
        cells: list[str] = []
        column = 0
        for column, value in enumerate(values, start=1):
            style: Style | None = None
            if isinstance(value, Styled):
                style = value.style
                value = value.value
            ref = f"{_LETTERS[column - 1]}{r}"
            if isinstance(value, str):
                if value.startswith(FORMULA_STARTS):
                    style = replace(style or _PLAIN, quote=True)
                s = styles.attribute(style)
                cells.append(f'<c r="{ref}"{s} t="inlineStr"><is>{_text(value)}</is></c>')
            elif value is None:
                if style is not None:
                    cells.append(f'<c r="{ref}"{styles.attribute(style)}/>')
            elif isinstance(value, bool):
                cells.append(f'<c r="{ref}"{styles.attribute(style)} t="b"><v>{int(value)}</v></c>')
            elif isinstance(value, int):
                cells.append(f'<c r="{ref}"{styles.attribute(style)}><v>{value}</v></c>')
            elif isinstance(value, float) and value - value == 0:  # finite
                cells.append(f'<c r="{ref}"{styles.attribute(style)}><v>{value!r}</v></c>')
            elif isinstance(value, date):
                if style is None or style.number_format is None:
                    style = replace(style or _PLAIN, number_format=_DATE_FORMAT)
                s = styles.attribute(style)
                cells.append(f'<c r="{ref}"{s}><v>{_serial(value)!r}</v></c>')
            else:  # a non-finite float, a Decimal…: its text
                s = styles.attribute(style)
                cells.append(f'<c r="{ref}"{s} t="inlineStr"><is>{_text(str(value))}</is></c>')
        self._columns = max(self._columns, column)
        ht = f' ht="{height}" customHeight="1"' if height is not None else ""
        self._pending.append(f'<row r="{r}"{ht}>{"".join(cells)}</row>')
        if len(self._pending) >= _BATCH:
            self._flush()

    def _flush(self) -> None:
        self._spool.write("".join(self._pending).encode())
        self._pending.clear()

    def _head(self, selected: bool) -> str:
        last = f"{_LETTERS[max(self._columns, 1) - 1]}{max(self._rows, 1)}"
        view = ' tabSelected="1"' if selected else ""
        pane = ""
        if self._frozen_rows:
            top = f"A{self._frozen_rows + 1}"
            pane = (
                f'<pane ySplit="{self._frozen_rows}" topLeftCell="{top}" activePane="bottomLeft"'
                f' state="frozen"/><selection pane="bottomLeft" activeCell="{top}" sqref="{top}"/>'
            )
        columns = sorted(self._widths.keys() | self._column_styles.keys())
        cols = "".join(
            f'<col min="{n}" max="{n}"'
            + (
                f' width="{self._widths[n]}" customWidth="1"'
                if n in self._widths
                else f' width="{_DEFAULT_WIDTH}"'
            )
            + (
                f' style="{self._styles.of(self._column_styles[n])}"'
                if n in self._column_styles
                else ""
            )
            + "/>"
            for n in columns
        )
        return (
            f'{_HEAD}<worksheet xmlns="{_NS}" xmlns:r="{_REL_NS}">'
            f'<dimension ref="A1:{last}"/>'
            f'<sheetViews><sheetView workbookViewId="0"{view}>{pane}</sheetView></sheetViews>'
            '<sheetFormatPr defaultRowHeight="15"/>'
            + (f"<cols>{cols}</cols>" if cols else "")
            + "<sheetData>"
        )

    def _tail(self) -> str:
        merged = "".join(f'<mergeCell ref="{ref}"/>' for ref in self._merged)
        validations = "".join(
            f'<dataValidation type="list" allowBlank="1" sqref="{cells}">'
            f"<formula1>{escape(chr(34) + ','.join(values) + chr(34))}</formula1>"
            "</dataValidation>"
            for cells, values in self._validations
        )
        return (
            "</sheetData>"
            + (f'<mergeCells count="{len(self._merged)}">{merged}</mergeCells>' if merged else "")
            + (
                f'<dataValidations count="{len(self._validations)}">{validations}</dataValidations>'
                if validations
                else ""
            )
            + '<pageMargins left="0.75" right="0.75" top="1" bottom="1" header="0.5" footer="0.5"/>'
            + ('<legacyDrawing r:id="rId2"/>' if self.comments else "")
            + "</worksheet>"
        )

    def write_to(self, archive: zipfile.ZipFile, *, selected: bool) -> None:
        """Zip this sheet's part, its rows read back from the spool."""
        self._flush()
        self._spool.seek(0)
        with archive.open(f"xl/worksheets/sheet{self.number}.xml", "w") as part:
            part.write(self._head(selected).encode())
            shutil.copyfileobj(self._spool, part, 1 << 16)
            part.write(self._tail().encode())
        self._spool.close()


def _serial(value: date) -> float:
    """Excel's day number of a date or datetime (1900 date system; a datetime's wall clock)."""
    moment = value if isinstance(value, datetime) else datetime(value.year, value.month, value.day)
    delta = moment.replace(tzinfo=None) - _EPOCH
    return delta.days + delta.seconds / 86400 if delta.seconds else float(delta.days)


class Workbook:
    """Sheets written in the order they are added, saved once."""

    def __init__(self) -> None:
        self.styles = _Styles()
        self.sheets: list[Sheet] = []

    def add_sheet(self, name: str) -> Sheet:
        """A new sheet named ``name`` (at most 31 characters, none of ``[]:*?/\\``)."""
        sheet = Sheet(self, name, len(self.sheets) + 1)
        self.sheets.append(sheet)
        return sheet

    def save(self, target: str | os.PathLike[str] | IO[bytes]) -> None:
        """Write the workbook to a path or a binary file."""
        with zipfile.ZipFile(
            target, "w", zipfile.ZIP_DEFLATED, compresslevel=_COMPRESSION
        ) as archive:
            archive.writestr("[Content_Types].xml", self._content_types())
            archive.writestr(
                "_rels/.rels",
                f'{_HEAD}<Relationships xmlns="{_PKG_REL}"><Relationship Id="rId1" '
                f'Type="{_REL_NS}/officeDocument" Target="xl/workbook.xml"/></Relationships>',
            )
            archive.writestr("xl/workbook.xml", self._workbook())
            archive.writestr("xl/_rels/workbook.xml.rels", self._workbook_rels())
            for sheet in self.sheets:
                sheet.write_to(archive, selected=sheet.number == 1)
                if sheet.comments:
                    _write_comments(archive, sheet)
            archive.writestr("xl/styles.xml", self.styles.xml())

    def _content_types(self) -> str:
        ct = "application/vnd.openxmlformats-officedocument"
        parts = [
            f'<Override PartName="/xl/workbook.xml" '
            f'ContentType="{ct}.spreadsheetml.sheet.main+xml"/>',
            f'<Override PartName="/xl/styles.xml" ContentType="{ct}.spreadsheetml.styles+xml"/>',
        ]
        for sheet in self.sheets:
            parts.append(
                f'<Override PartName="/xl/worksheets/sheet{sheet.number}.xml" '
                f'ContentType="{ct}.spreadsheetml.worksheet+xml"/>'
            )
            if sheet.comments:
                parts.append(
                    f'<Override PartName="/xl/comments{sheet.number}.xml" '
                    f'ContentType="{ct}.spreadsheetml.comments+xml"/>'
                )
        return (
            f'{_HEAD}<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
            'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>'
            f'<Default Extension="vml" ContentType="{ct}.vmlDrawing"/>'
            + "".join(parts)
            + "</Types>"
        )

    def _workbook(self) -> str:
        sheets = "".join(
            f"<sheet name={quoteattr(sheet.name)} "
            f'sheetId="{sheet.number}" r:id="rId{sheet.number}"/>'
            for sheet in self.sheets
        )
        return (
            f'{_HEAD}<workbook xmlns="{_NS}" xmlns:r="{_REL_NS}">'
            f"<bookViews><workbookView/></bookViews><sheets>{sheets}</sheets></workbook>"
        )

    def _workbook_rels(self) -> str:
        rels = "".join(
            f'<Relationship Id="rId{sheet.number}" Type="{_REL_NS}/worksheet" '
            f'Target="worksheets/sheet{sheet.number}.xml"/>'
            for sheet in self.sheets
        )
        styles = len(self.sheets) + 1
        return (
            f'{_HEAD}<Relationships xmlns="{_PKG_REL}">{rels}'
            f'<Relationship Id="rId{styles}" Type="{_REL_NS}/styles" Target="styles.xml"/>'
            "</Relationships>"
        )


def _write_comments(archive: zipfile.ZipFile, sheet: Sheet) -> None:
    """A sheet's comments part, the legacy drawing Excel and WPS show them with, and the
    sheet's relationships to both."""
    n = sheet.number
    archive.writestr(
        f"xl/worksheets/_rels/sheet{n}.xml.rels",
        f'{_HEAD}<Relationships xmlns="{_PKG_REL}">'
        f'<Relationship Id="rId1" Type="{_REL_NS}/comments" Target="../comments{n}.xml"/>'
        f'<Relationship Id="rId2" Type="{_REL_NS}/vmlDrawing" '
        f'Target="../drawings/vmlDrawing{n}.vml"/></Relationships>',
    )
    listed = "".join(
        f'<comment ref="{c.ref}" authorId="0"><text>{_text(c.text)}</text></comment>'
        for c in sheet.comments
    )
    archive.writestr(
        f"xl/comments{n}.xml",
        f'{_HEAD}<comments xmlns="{_NS}"><authors><author>Duban</author></authors>'
        f"<commentList>{listed}</commentList></comments>",
    )
    shapes = "".join(
        f'<v:shape id="_x0000_s{1024 * n + 1 + i}" type="#_x0000_t202" '
        f'style="position:absolute;margin-left:59.25pt;margin-top:1.5pt;width:{c.width}px;'
        f'height:{c.height}px;z-index:{i + 1};visibility:hidden" fillcolor="#ffffe1" '
        'o:insetmode="auto"><v:fill color2="#ffffe1"/><v:shadow color="black" '
        'obscured="t"/><v:path o:connecttype="none"/><v:textbox style="mso-direction-alt:auto">'
        '<div style="text-align:left"></div></v:textbox><x:ClientData ObjectType="Note">'
        f"<x:MoveWithCells/><x:SizeWithCells/><x:AutoFill>False</x:AutoFill>"
        f"<x:Row>{c.row - 1}</x:Row><x:Column>{c.column - 1}</x:Column></x:ClientData>"
        "</v:shape>"
        for i, c in enumerate(sheet.comments)
    )
    archive.writestr(
        f"xl/drawings/vmlDrawing{n}.vml",
        '<xml xmlns:v="urn:schemas-microsoft-com:vml" '
        'xmlns:o="urn:schemas-microsoft-com:office:office" '
        'xmlns:x="urn:schemas-microsoft-com:office:excel">'
        f'<o:shapelayout v:ext="edit"><o:idmap v:ext="edit" data="{n}"/></o:shapelayout>'
        '<v:shapetype id="_x0000_t202" coordsize="21600,21600" o:spt="202" '
        'path="m,l,21600r21600,l21600,xe"><v:stroke joinstyle="miter"/>'
        '<v:path gradientshapeok="t" o:connecttype="rect"/></v:shapetype>'
        f"{shapes}</xml>",
    )
