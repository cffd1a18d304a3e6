"""Reading an uploaded CSV or XLSX file into a `Table`, within hard limits; no row rules here.

A CSV is UTF-8 (with or without BOM) or GB18030/GBK: strict UTF-8 is tried first, then
GB18030, each checked a block at a time and read as it streams. Imports nothing of Duban but
`supervision.errors` and the catalogue's `supervision.import_words`. Every limit is a named
constant below, and
none is ever sized by what the file declares: an XLSX is refused on the sizes its zip declares
before anything is decompressed, and on its rows, columns and cells as they stream.
"""

from __future__ import annotations

import codecs
import csv
import io
import zipfile
import zlib
from collections.abc import Iterable, Iterator, Sequence
from datetime import date, datetime
from pathlib import Path
from typing import Any, Final, overload

from openpyxl.reader.excel import ExcelReader
from openpyxl.worksheet._read_only import ReadOnlyWorksheet

from supervision.errors import ValidationFailed
from supervision.import_words import Both, ImportWord, say_import

__all__ = [
    "MAX_CELLS",
    "MAX_COLUMNS",
    "MAX_FILE_BYTES",
    "MAX_ROWS",
    "MAX_UNCOMPRESSED_BYTES",
    "MAX_WHOLE_PART_BYTES",
    "MAX_ZIP_ENTRIES",
    "Table",
    "TableError",
    "csv_encoding",
    "read_table",
]

#: The largest file read, CSV or XLSX (the web's upload and the CLI's file alike).
MAX_FILE_BYTES: Final = 10 * 1024 * 1024
#: The last row number read: a CSV line or an XLSX sheet row, the header being row 1.
MAX_ROWS: Final = 100_000
#: The last column that may hold a value.
MAX_COLUMNS: Final = 256
#: Values kept in all (empty cells are not counted): what bounds the table in memory.
MAX_CELLS: Final = 1_500_000
#: The XLSX's parts together, uncompressed, as the zip declares them (a zip bomb is refused
#: before it is opened; `zipfile` never yields more than a part declares).
MAX_UNCOMPRESSED_BYTES: Final = 96 * 1024 * 1024
#: One part read whole rather than streamed (shared strings, styles, the workbook): the
#: sheets stream, the others are held in memory at a few times their size.
MAX_WHOLE_PART_BYTES: Final = 24 * 1024 * 1024
#: Parts in the XLSX's zip (a workbook has a dozen or two).
MAX_ZIP_ENTRIES: Final = 1_000

_MB: Final = 1024 * 1024


class TableError(ValidationFailed):
    """The file itself cannot be read (format, encoding, size, no header).

    The message is the catalogue's ``word`` (`supervision.import_words`): ``str()`` is the
    English one, `supervision.labels.told` says it in a reader's language; ``key`` (``table.``
    and the word) and ``values`` name it for the API.
    """

    def __init__(self, word: ImportWord, **values: object) -> None:
        super().__init__(say_import(word, "en", **values))
        self.key = f"table.{word.value}"
        self.values = values
        self.said = lambda locale: say_import(word, locale, **values)


class Table(Sequence[dict[str, str]]):
    """Rows as ``{column: text}``, with the header's columns and each row's line number.

    Held compact: a row is kept as the tuple of its values in the order of ``columns`` and
    becomes a dict when it is read (a dict per row held 100,000 rows in about 1.6 times the
    memory), so a file at the limits costs tens of MB, not hundreds.
    """

    __hash__ = None  # type: ignore[assignment]  # compared by content, like the list it was

    def __init__(
        self,
        rows: Sequence[dict[str, str]] = (),
        *,
        columns: Sequence[str] | None = None,
        row_numbers: Sequence[int] | None = None,
    ) -> None:
        self.columns: list[str] = list(columns) if columns is not None else _columns_of(rows)
        #: each column's header as the file wrote it (case and spaces kept)
        self.headers: list[str] = list(self.columns)
        self._values = [tuple(row.get(c, "") for c in self.columns) for row in rows]
        self.row_numbers: list[int] = (
            list(row_numbers) if row_numbers is not None else list(range(2, len(rows) + 2))
        )

    @classmethod
    def of_values(
        cls,
        columns: list[str],
        values: list[tuple[str, ...]],
        row_numbers: list[int],
        headers: list[str] | None = None,
    ) -> Table:
        """A table of rows already given as value tuples in the order of ``columns``."""
        table = cls(columns=columns, row_numbers=row_numbers)
        table._values = values
        if headers is not None:
            table.headers = list(headers)
        return table

    def renamed(self, columns: Sequence[str]) -> Table:
        """The same rows under other column names (one per column, in order); the headers as
        written are kept."""
        return Table.of_values(list(columns), self._values, self.row_numbers, self.headers)

    def __len__(self) -> int:
        return len(self._values)

    @overload
    def __getitem__(self, index: int) -> dict[str, str]: ...
    @overload
    def __getitem__(self, index: slice) -> list[dict[str, str]]: ...
    def __getitem__(self, index: int | slice) -> dict[str, str] | list[dict[str, str]]:
        if isinstance(index, slice):
            return [dict(zip(self.columns, v, strict=True)) for v in self._values[index]]
        return dict(zip(self.columns, self._values[index], strict=True))

    def __iter__(self) -> Iterator[dict[str, str]]:
        columns = self.columns
        for values in self._values:
            yield dict(zip(columns, values, strict=True))

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Table):
            return self.columns == other.columns and self._values == other._values
        if isinstance(other, list):
            return list(self) == other
        return NotImplemented

    def __repr__(self) -> str:
        return f"Table(columns={self.columns!r}, rows={len(self)})"


def _columns_of(rows: Sequence[dict[str, str]]) -> list[str]:
    """Every key of the rows, in the order first seen."""
    return list(dict.fromkeys(key for row in rows for key in row))


def read_table(path_or_bytes: str | Path | bytes, filename: str | None = None) -> Table:
    """Read a CSV (UTF-8 with or without BOM, or GB18030/GBK) or XLSX file; the name's
    extension picks the format.

    Blocking and CPU-bound: an event loop calls it through ``asyncio.to_thread``.
    """
    if isinstance(path_or_bytes, bytes):
        data = path_or_bytes
        name = filename or ""
    else:
        path = Path(path_or_bytes)
        with path.open("rb") as file:
            data = file.read(MAX_FILE_BYTES + 1)
        name = filename or path.name
    if len(data) > MAX_FILE_BYTES:
        raise TableError(ImportWord.TOO_LARGE, mb=MAX_FILE_BYTES // _MB)
    suffix = Path(name).suffix.lower()
    if suffix == ".xlsx" or (not suffix and data[:2] == b"PK"):
        return _read_xlsx(data)
    if suffix in (".csv", ".txt", ""):
        return _read_csv(data)
    raise TableError(ImportWord.UNSUPPORTED, suffix=suffix)


class _Budget:
    """The row, column and cell limits, checked as rows arrive."""

    def __init__(self) -> None:
        self.cells = 0

    def take(self, number: int, values: list[str]) -> None:
        if number > MAX_ROWS:
            raise TableError(ImportWord.TOO_MANY_ROWS, limit=MAX_ROWS, row=number)
        if len(values) > MAX_COLUMNS:
            raise TableError(ImportWord.TOO_MANY_COLUMNS, row=number, limit=MAX_COLUMNS)
        self.cells += sum(1 for v in values if v)
        if self.cells > MAX_CELLS:
            raise TableError(ImportWord.TOO_MANY_CELLS, row=number, limit=MAX_CELLS)


def _filled(values: Sequence[Any]) -> Sequence[Any]:
    """The values up to the last filled one, and never more than one past the last column."""
    width = len(values)
    while width and values[width - 1] in (None, ""):
        width -= 1
    return values[: min(width, MAX_COLUMNS + 1)]


def _written_header(header: Sequence[object]) -> list[str]:
    return [str(h if h is not None else "").strip().lstrip("\ufeff").strip() for h in header]


def _cell_text(value: object) -> str:
    """An XLSX cell as text: dates as ISO, whole numbers without ``.0``."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _build(records: Iterable[tuple[int, list[str]]]) -> Table:
    """The table from numbered records: the first non-blank one is the header."""
    budget = _Budget()
    header: list[str] | None = None
    written: list[str] = []
    rows: list[tuple[str, ...]] = []
    numbers: list[int] = []
    # One object per distinct value: units, people, sources and dates repeat down a column,
    # and a string object costs 50-100 bytes (a third of a large file's table, measured).
    shared: dict[str, str] = {}
    for number, values in records:
        budget.take(number, values)
        if not any(v.strip() for v in values):
            continue  # blank lines are not rows
        if header is None:
            written = _written_header(values[:MAX_COLUMNS])
            header = _checked_header(written)
            continue
        rows.append(
            tuple(
                shared.setdefault(value := values[i].strip(), value) if i < len(values) else ""
                for i, name in enumerate(header)
                if name
            )
        )
        numbers.append(number)
    if header is None:
        raise TableError(ImportWord.EMPTY)
    kept = [i for i, h in enumerate(header) if h]
    return Table.of_values([header[i] for i in kept], rows, numbers, [written[i] for i in kept])


def _checked_header(written: list[str]) -> list[str]:
    """The header's names as rows are keyed (lower case), each once."""
    header = [name.lower() for name in written]
    if not any(header):
        raise TableError(ImportWord.EMPTY)
    seen: set[str] = set()
    for name, text in zip(header, written, strict=True):
        if name and name in seen:
            raise TableError(ImportWord.DUPLICATE_COLUMN, column=text)
        seen.add(name)
    return header


#: Bytes checked at a time while finding a CSV's encoding (nothing decoded is kept).
_BLOCK: Final = 256 * 1024


def _first_bad_byte(data: bytes, encoding: str) -> int | None:
    """The offset of the first byte that ``encoding`` cannot decode, or None when all can."""
    decoder = codecs.getincrementaldecoder(encoding)("strict")
    view = memoryview(data)
    for start in range(0, len(data), _BLOCK) or (0,):
        pending = len(decoder.getstate()[0])  # bytes of a character begun in the last block
        try:
            decoder.decode(view[start : start + _BLOCK], final=start + _BLOCK >= len(data))
        except UnicodeDecodeError as exc:
            return start - pending + exc.start
    return None


def csv_encoding(data: bytes) -> str:
    """The encoding a CSV file is read with: UTF-8 (BOM skipped) if it is valid UTF-8, else
    GB18030 (which GBK and GB2312 are part of); neither is a `TableError` naming the first
    byte that cannot be read (of the encoding that read further)."""
    utf8 = _first_bad_byte(data, "utf-8")
    if utf8 is None:
        return "utf-8-sig"
    gb = _first_bad_byte(data, "gb18030")
    if gb is None:
        return "gb18030"
    offset = max(utf8, gb)
    line = data.count(b"\n", 0, offset) + 1
    raise TableError(ImportWord.NOT_TEXT, offset=offset, byte=f"{data[offset]:02X}", line=line)


def _read_csv(data: bytes) -> Table:
    encoding = csv_encoding(data)
    text = io.TextIOWrapper(io.BytesIO(data), encoding=encoding, errors="strict", newline="")
    reader = csv.reader(text)

    def records() -> Iterable[tuple[int, list[str]]]:
        while True:
            start = reader.line_num + 1
            try:
                values = next(reader)
            except StopIteration:
                return
            yield start, list(_filled(values))

    try:
        return _build(records())
    except csv.Error:
        raise TableError(ImportWord.BAD_CSV, row=reader.line_num) from None


# What a damaged or hostile workbook raises from `zipfile`, `zlib`, the XML parser
# (`ParseError` is a `SyntaxError`) or openpyxl's readers.
_BROKEN: Final = (
    zipfile.BadZipFile,
    zlib.error,
    KeyError,
    ValueError,
    TypeError,
    IndexError,
    AttributeError,
    SyntaxError,
    EOFError,
    OSError,
)


_MANIFEST: Final = "[Content_Types].xml"
_TYPES_NS: Final = "{http://schemas.openxmlformats.org/package/2006/content-types}"
_WORKSHEET_TYPE: Final = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"
# Read whole by openpyxl at a fixed path, whatever the manifest calls it.
_FIXED_PARTS: Final = frozenset({_MANIFEST, "xl/styles.xml"})


def _bad_xlsx(exc: BaseException) -> TableError:
    return TableError(ImportWord.BAD_XLSX, reason=exc.__class__.__name__)


def _megabytes(size: int) -> int:
    return -(-size // _MB)  # rounded up: 96.1 MB is not "96 MB, more than 96 MB"


def _too_big(what: Both, size: int, limit: int) -> TableError:
    return TableError(
        ImportWord.TOO_BIG_UNPACKED, what=what, mb=_megabytes(size), limit=limit // _MB
    )


def _part(name: str) -> Both:
    return Both(f"工作簿的部件 {name} ", f"the workbook's part {name}")


_WORKBOOK: Final = Both("工作簿", "the workbook")


def _streamed_parts(archive: zipfile.ZipFile) -> frozenset[str]:
    """The parts openpyxl streams: declared worksheets only, and never as anything else."""
    from xml.etree import ElementTree

    manifest = archive.getinfo(_MANIFEST)
    if manifest.file_size > MAX_WHOLE_PART_BYTES:
        raise _too_big(_part(_MANIFEST), manifest.file_size, MAX_WHOLE_PART_BYTES)
    root = ElementTree.fromstring(archive.read(manifest))  # noqa: S314 -- size checked; expat
    sheets: set[str] = set()
    others: set[str] = set()
    for override in root.iter(f"{_TYPES_NS}Override"):
        name = override.get("PartName", "").lstrip("/")
        (sheets if override.get("ContentType") == _WORKSHEET_TYPE else others).add(name)
    return frozenset(sheets - others - _FIXED_PARTS)


def _check_zip(data: bytes) -> None:
    """Refuse a workbook by what its zip declares, before anything big is decompressed."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            parts = archive.infolist()
            if len(parts) > MAX_ZIP_ENTRIES:
                raise TableError(ImportWord.TOO_MANY_PARTS, limit=MAX_ZIP_ENTRIES)
            declared = sum(part.file_size for part in parts)
            if declared > MAX_UNCOMPRESSED_BYTES:
                raise _too_big(_WORKBOOK, declared, MAX_UNCOMPRESSED_BYTES)
            streamed = _streamed_parts(archive)
    except _BROKEN as exc:
        raise _bad_xlsx(exc) from None
    for part in parts:
        if part.file_size > MAX_WHOLE_PART_BYTES and part.filename not in streamed:
            raise _too_big(_part(part.filename), part.file_size, MAX_WHOLE_PART_BYTES)


class _UnsizedSheet(ReadOnlyWorksheet):
    """A read-only sheet that never learns its declared dimension.

    openpyxl pads every row to the declared width and yields the declared number of rows, so
    rows here are as long as their last cell and the budget stops a far-away row as the gap
    before it streams by. And a sheet without a ``<dimension>`` would be parsed whole just
    to look for one, keeping every row element: 860 MB for an 89 KB file.
    """

    def _get_size(self) -> None:
        return None


class _FirstSheetReader(ExcelReader):
    """openpyxl's workbook reader, read-only, that opens only the first worksheet."""

    first: _UnsizedSheet | None = None

    def read_worksheets(self) -> None:
        for sheet, rel in self.parser.find_sheets():
            if rel.target in self.valid_files and "chartsheet" not in rel.Type:
                self.first = _UnsizedSheet(self.wb, sheet.name, rel.target, self.shared_strings)
                # As openpyxl's own read-only branch does, so defined names find the sheet.
                self.wb._sheets.append(self.first)  # type: ignore[attr-defined]
                return


def _xlsx_records(sheet: Any) -> Iterable[tuple[int, list[str]]]:
    for number, cells in enumerate(sheet.iter_rows(values_only=True), start=1):
        yield number, [_cell_text(c) for c in _filled(cells)]


def _read_xlsx(data: bytes) -> Table:
    _check_zip(data)
    try:
        reader = _FirstSheetReader(io.BytesIO(data), read_only=True, data_only=True)
        reader.read()
    except _BROKEN as exc:
        raise _bad_xlsx(exc) from None
    try:
        if reader.first is None:
            raise TableError(ImportWord.NO_SHEET)
        return _build(_xlsx_records(reader.first))
    except _BROKEN as exc:
        raise _bad_xlsx(exc) from None
    finally:
        reader.wb.close()
