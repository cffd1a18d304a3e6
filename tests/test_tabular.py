"""Reading CSV/XLSX files: formats, line numbers, and the limits hostile files run into."""

from __future__ import annotations

import io
import zipfile
from datetime import date, datetime

import pytest
from openpyxl import Workbook

from supervision.tabular import (
    MAX_CELLS,
    MAX_COLUMNS,
    MAX_FILE_BYTES,
    MAX_ROWS,
    MAX_ZIP_ENTRIES,
    Table,
    TableError,
    csv_encoding,
    read_table,
)
from testing.xlsx_files import (
    inline,
    read_in_subprocess,
    row,
    shared_strings_bomb,
    sheet_xml,
    understate,
    workbook,
)

#: What reading a hostile file may add to a process's peak memory.
BOUNDED_MB = 48


def test_read_csv_with_and_without_bom_and_line_numbers():
    text = 'code,name,parent_code\r\nA,甲,\r\n\r\n"B","乙,\n二",A\r\nC,丙,A\r\n'
    plain = read_table(text.encode("utf-8"), "u.csv")
    bom = read_table(b"\xef\xbb\xbf" + text.encode("utf-8"), "u.csv")
    assert plain == bom
    assert plain.columns == ["code", "name", "parent_code"] == bom.columns
    assert plain[1] == {"code": "B", "name": "乙,\n二", "parent_code": "A"}
    # Line numbers in the file: the header is 1, a blank line is skipped, a quoted newline
    # makes a row span two lines.
    assert plain.row_numbers == [2, 4, 6]


def test_read_xlsx_with_real_date_cells(tmp_path):
    book = Workbook()
    sheet = book.active
    sheet.append(["Ref", "received_on", "urgent", "phone"])
    sheet.append(["R1", date(2026, 11, 2), True, 13800000000])
    sheet.append([None, None, None, None])
    sheet.append(["R2", datetime(2026, 12, 15, 0, 0), 0, "025-1"])
    path = tmp_path / "items.xlsx"
    book.save(path)
    table = read_table(path)
    assert table.columns == ["ref", "received_on", "urgent", "phone"]
    assert list(table) == [
        {"ref": "R1", "received_on": "2026-11-02", "urgent": "1", "phone": "13800000000"},
        {"ref": "R2", "received_on": "2026-12-15", "urgent": "0", "phone": "025-1"},
    ]
    assert table.row_numbers == [2, 4]
    buffer = io.BytesIO()
    book.save(buffer)
    assert read_table(buffer.getvalue(), "upload.XLSX") == table


@pytest.mark.parametrize(
    ("data", "name", "message"),
    [
        (b"a,b\n\xff\xfe,x\n", "a.csv", "neither UTF-8 nor GB18030/GBK"),
        (b"", "a.csv", "empty"),
        (b"a,b\n", "a.pdf", "unsupported file type"),
        (b"not a zip", "a.xlsx", "not a readable XLSX"),
        (b"a,a\n1,2\n", "a.csv", "appears twice"),
    ],
)
def test_unreadable_files(data, name, message):
    with pytest.raises(TableError, match=message):
        read_table(data, name)


def _refused(data: bytes, name: str, key: str) -> TableError:
    with pytest.raises(TableError) as caught:
        read_table(data, name)
    assert caught.value.key == key, str(caught.value)
    return caught.value


def test_a_file_over_the_size_limit_is_refused_unread(tmp_path):
    error = _refused(b"a\n" * (MAX_FILE_BYTES // 2 + 1), "big.csv", "table.too_large")
    assert str(error) == "the file is larger than 10 MB"
    path = tmp_path / "big.csv"
    path.write_bytes(b"code\n" + b"x" * MAX_FILE_BYTES)
    with pytest.raises(TableError, match="larger than 10 MB"):
        read_table(path)


def test_rows_up_to_the_limit_and_not_one_more():
    last = b"code\n" + b"a\n" * (MAX_ROWS - 1)
    assert len(read_table(last, "u.csv")) == MAX_ROWS - 1
    error = _refused(last + b"a\n", "u.csv", "table.too_many_rows")
    assert str(error) == "the file has more than 100,000 rows (row 100,001 and beyond)"


def test_a_value_beyond_the_last_column_is_refused_but_empty_cells_there_are_not():
    wide = ",".join(f"h{i}" for i in range(MAX_COLUMNS)) + "," * 500 + "\n1\n"
    assert len(read_table(wide.encode(), "w.csv").columns) == MAX_COLUMNS
    too_wide = "code\n" + "," * MAX_COLUMNS + "x\n"
    error = _refused(too_wide.encode(), "w.csv", "table.too_many_columns")
    assert str(error) == "row 2: a value beyond column 256 (at most 256 columns)"


def test_filled_cells_are_counted_against_the_limit():
    line = ",".join(["1"] * 250) + "\n"
    header = ",".join(f"c{i}" for i in range(250)) + "\n"
    rows = MAX_CELLS // 250  # the header's cells count too, so this is one row too many
    error = _refused((header + line * rows).encode(), "c.csv", "table.too_many_cells")
    assert f"more than {MAX_CELLS:,} filled cells" in str(error)
    assert len(read_table((header + line * (rows - 1)).encode(), "c.csv")) == rows - 1


def test_a_declared_dimension_is_not_trusted(tmp_path):
    # 3 KB that declare the whole grid, A1:XFD1048576; openpyxl's read-only mode pads every
    # row to 16,384 cells by that dimension unless told to forget it.
    rows = [row([inline("code"), inline("name")], 1)]
    rows += [row([inline("U"), inline("单位")])] * 3_000
    data = workbook(sheet_xml(rows, dimension="A1:XFD1048576"))
    assert len(data) < 3_000
    path = tmp_path / "dimension.xlsx"
    path.write_bytes(data)
    answer = read_in_subprocess(path)
    assert answer.get("error") is None, answer
    assert answer["rows"] == 3_000 and answer["columns"] == ["code", "name"]
    assert answer["grew_mb"] < BOUNDED_MB, answer


def test_a_row_far_down_is_refused_as_it_streams(tmp_path):
    rows = [row([inline("code"), inline("name")], 1), row([inline("x", "A1048576")], 1048576)]
    path = tmp_path / "far.xlsx"
    path.write_bytes(workbook(sheet_xml(rows, dimension="A1:XFD1048576")))
    answer = read_in_subprocess(path)
    assert answer["key"] == "table.too_many_rows", answer
    assert answer["error"] == "the file has more than 100,000 rows (row 100,001 and beyond)"
    assert answer["grew_mb"] < BOUNDED_MB, answer


def test_a_sheet_without_a_dimension_is_not_parsed_whole_to_find_one(tmp_path):
    # openpyxl looks for a missing <dimension> by parsing the whole sheet and keeping every
    # row element: 860 MB and 20 s for these 89 KB of ten million empty rows.
    def rows():
        yield row([inline("code")], 1)
        for _ in range(100):
            yield "<row/>" * 100_000

    path = tmp_path / "nodim.xlsx"
    path.write_bytes(workbook(sheet_xml(rows())))
    assert path.stat().st_size < 100_000
    answer = read_in_subprocess(path)
    assert answer["key"] == "table.too_many_rows", answer
    assert answer["grew_mb"] < BOUNDED_MB, answer


def test_a_cell_in_the_last_column_is_refused(tmp_path):
    rows = [row([inline("code"), inline("far", "XFD1")], 1)]
    data = workbook(sheet_xml(rows))
    error = _refused(data, "far.xlsx", "table.too_many_columns")
    assert str(error) == "row 1: a value beyond column 256 (at most 256 columns)"


def test_a_shared_strings_bomb_is_refused_by_its_declared_size(tmp_path):
    data = workbook(sheet_xml([row([inline("code")], 1)]), shared_strings_bomb(100))
    assert len(data) < 1024 * 1024
    path = tmp_path / "bomb.xlsx"
    path.write_bytes(data)
    answer = read_in_subprocess(path)
    assert answer["key"] == "table.too_big_unpacked", answer
    assert answer["error"] == "the workbook unpacks to 100 MB, more than 96 MB"
    assert answer["grew_mb"] < BOUNDED_MB, answer
    smaller = workbook(sheet_xml([row([inline("code")], 1)]), shared_strings_bomb(30))
    error = _refused(smaller, "bomb.xlsx", "table.too_big_unpacked")
    assert str(error) == (
        "the workbook's part xl/sharedStrings.xml unpacks to 30 MB, more than 24 MB"
    )


def test_a_bomb_that_understates_its_size_stops_at_the_stated_size(tmp_path):
    data = workbook(sheet_xml([row([inline("code")], 1)]), shared_strings_bomb(60))
    path = tmp_path / "liar.xlsx"
    path.write_bytes(understate(data, "xl/sharedStrings.xml", 4096))
    answer = read_in_subprocess(path)
    assert answer["key"] == "table.bad_xlsx", answer
    assert answer["error"].startswith("not a readable XLSX workbook")
    assert answer["grew_mb"] < BOUNDED_MB, answer


def test_a_sheet_declared_as_shared_strings_is_not_streamed():
    # The manifest decides what openpyxl reads whole: a part it calls both a worksheet and
    # the shared strings is held to the whole-part limit.
    data = workbook(sheet_xml([row([inline("code")], 1)]), shared_strings_bomb(30))
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        manifest = archive.read("[Content_Types].xml").decode()
    ct = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"
    lying = manifest.replace(
        "</Types>", f'<Override PartName="/xl/sharedStrings.xml" ContentType="{ct}"/></Types>'
    )
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(out, "w") as target:
        for info in source.infolist():
            body = lying.encode() if info.filename == "[Content_Types].xml" else source.read(info)
            target.writestr(info.filename, body, zipfile.ZIP_DEFLATED)
    _refused(out.getvalue(), "x.xlsx", "table.too_big_unpacked")


def test_a_zip_of_many_parts_is_refused():
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for n in range(MAX_ZIP_ENTRIES + 1):
            archive.writestr(f"p{n}", b"")
    error = _refused(out.getvalue(), "many.xlsx", "table.too_many_parts")
    assert str(error) == "not a workbook: the file holds more than 1000 parts"


def test_a_handmade_workbook_reads_like_a_saved_one():
    rows = [row([inline("Code"), inline("name")], 1), row([inline("A"), inline("甲")], 3)]
    table = read_table(workbook(sheet_xml(rows, dimension="A1:B3")), "u.xlsx")
    assert list(table) == [{"code": "A", "name": "甲"}] and table.row_numbers == [3]


def test_a_table_reads_its_rows_as_dicts_and_keeps_them_compact():
    table = read_table("ref,title\nR1,甲\n\nR2,乙\n".encode(), "t.csv")
    assert len(table) == 2 and table[1] == {"ref": "R2", "title": "乙"}
    assert table[0:1] == [{"ref": "R1", "title": "甲"}] and table.row_numbers == [2, 4]
    assert table == [{"ref": "R1", "title": "甲"}, {"ref": "R2", "title": "乙"}]
    assert table != read_table("ref,title\nR1,甲\n".encode(), "t.csv")
    # Held as one tuple per row, not a dict: the dicts are made as rows are read.
    assert all(type(values) is tuple for values in table._values)
    # Rows given as dicts keep every column any of them names (missing ones read empty).
    plain = Table([{"code": "A"}, {"code": "B", "name": "乙"}])
    assert plain.columns == ["code", "name"] and plain[0] == {"code": "A", "name": ""}


# --- encodings: UTF-8 (BOM or not), then GB18030/GBK ------------------------------------

CHINESE_CSV = "文号,标题,牵头单位\n督〔2026〕1号,老旧小区改造「一期」,江宁区\n"


@pytest.mark.parametrize(
    "data",
    [
        CHINESE_CSV.encode("utf-8"),
        b"\xef\xbb\xbf" + CHINESE_CSV.encode("utf-8"),
        CHINESE_CSV.encode("gbk"),
        CHINESE_CSV.encode("gb18030"),
        "\ufeff".encode("gb18030") + CHINESE_CSV.encode("gb18030"),
    ],
    ids=["utf8", "utf8-bom", "gbk", "gb18030", "gb18030-bom"],
)
def test_a_chinese_csv_reads_the_same_in_every_encoding_offices_save(data):
    table = read_table(data, "items.csv")
    assert table.columns == ["文号", "标题", "牵头单位"]
    assert table.headers == ["文号", "标题", "牵头单位"]
    assert list(table) == [
        {"文号": "督〔2026〕1号", "标题": "老旧小区改造「一期」", "牵头单位": "江宁区"}
    ]


def test_the_encoding_is_utf8_first_then_gb18030():
    assert csv_encoding("名称".encode()) == "utf-8-sig"
    assert csv_encoding(b"plain ascii") == "utf-8-sig"
    assert csv_encoding("名称".encode("gbk")) == "gb18030"
    # a character only GB18030 has beyond GBK (four bytes): read as GB18030 too
    assert csv_encoding("𠀀,x".encode("gb18030")) == "gb18030"


def test_a_file_in_neither_encoding_names_its_first_bad_byte():
    # line 2 starts at byte 4; 0xFF is never a byte of UTF-8 or GB18030 text
    with pytest.raises(TableError) as caught:
        read_table(b"a,b\n\xff\xfe,x\n", "bad.csv")
    error = caught.value
    assert error.key == "table.not_text" and error.values["offset"] == 4
    assert "byte 4 (0xFF, line 2)" in str(error)
    assert error.said is not None and "第 2 行第 4 字节（0xFF）" in error.said("zh")


def test_the_bad_byte_is_found_past_a_block_boundary():
    """The check reads a block at a time: a character split across blocks is no error, and
    a bad byte far into the file is named at its real offset (the GBK text reads further as
    GB18030, whose offset is the one named)."""
    line = "督办事项,江宁区\n".encode("gbk")
    body = line * (600_000 // len(line))
    assert csv_encoding(body) == "gb18030"
    bad = body + b"\x81\x20\n"  # a GB18030 lead byte followed by a space
    with pytest.raises(TableError) as caught:
        read_table(bad, "big.csv")
    assert caught.value.values["offset"] == len(body)
    assert caught.value.values["line"] == body.count(b"\n") + 1
    split = "甲".encode() * 300_000  # 900,000 bytes: some characters straddle the blocks
    assert csv_encoding(split) == "utf-8-sig"
