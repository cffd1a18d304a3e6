"""Writing rows into an XLSX export so that no text becomes a formula (every export uses it).

Text from people (titles, unit names, refs) that starts like a formula would run in the
reader's spreadsheet: ``=HYPERLINK(...)`` as a link that leaks data, ``+``, ``-`` and ``@``
as formulas in Excel, a leading tab or CR as a formula after editing. Such text is written as
a text cell with Excel's quote prefix; numbers, negative ones included, stay numbers. Imports
only openpyxl.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Final, cast

from openpyxl.cell.cell import Cell, MergedCell
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.worksheet._write_only import WriteOnlyWorksheet
from openpyxl.worksheet.worksheet import Worksheet

__all__ = ["FORMULA_STARTS", "append_row", "as_text", "styled"]

#: How text may start for a spreadsheet to take it for a formula.
FORMULA_STARTS: Final = ("=", "+", "-", "@", "\t", "\r")


def as_text(cell: Cell | MergedCell) -> None:
    """Keep a cell holding formula-like text a text cell (openpyxl makes ``=…`` a formula)."""
    if (
        isinstance(cell, Cell)
        and isinstance(cell.value, str)
        and cell.value.startswith(FORMULA_STARTS)
    ):
        cell.data_type = "s"
        cell.quotePrefix = True


def append_row(sheet: Worksheet | WriteOnlyWorksheet, values: Iterable[object]) -> None:
    """Append one row to ``sheet`` (a normal or a write-only one), its formula-like text
    kept as text. A value may be a `styled` cell.

    The cells are made before they are appended: finding the appended row again through
    ``sheet.max_row`` scans every cell of the sheet, which made a sheet of n rows cost n²
    (5.7 s for a bulletin of 10,000 items).
    """
    cells: list[Any] = []
    for value in values:
        if isinstance(value, Cell):
            as_text(value)
        elif isinstance(value, str) and value.startswith(FORMULA_STARTS):
            # row and column are placeholders: append() places the cell on the new row
            value = Cell(sheet, row=1, column=1, value=value)
            as_text(value)
        cells.append(value)  # other values as they are: a cell object costs, per value
    sheet.append(cells)


def styled(
    sheet: Worksheet | WriteOnlyWorksheet,
    value: object,
    *,
    font: Font | None = None,
    fill: PatternFill | None = None,
    number_format: str | None = None,
    alignment: Alignment | None = None,
) -> Cell:
    """A cell with its style, for `append_row`: a write-only sheet (which streams its rows
    to the file and keeps none in memory) takes styles only on cells made this way."""
    cell = Cell(sheet, row=1, column=1, value=cast(Any, value))
    if font is not None:
        cell.font = font
    if fill is not None:
        cell.fill = fill
    if number_format is not None:
        cell.number_format = number_format
    if alignment is not None:
        cell.alignment = alignment
    return cell
