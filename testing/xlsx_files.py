"""Workbooks built by hand with zipfile, hostile ones included, and a bounded-memory probe.

A workbook here is the five parts openpyxl needs, with the sheet XML written as given, so a
test can declare any dimension, put a row anywhere, or make a part a zip bomb.
"""

from __future__ import annotations

import io
import json
import os
import struct
import subprocess
import sys
import zipfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
CT = "application/vnd.openxmlformats-officedocument.spreadsheetml"

CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package'
    '.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    f'<Override PartName="/xl/workbook.xml" ContentType="{CT}.sheet.main+xml"/>'
    f'<Override PartName="/xl/worksheets/sheet1.xml" ContentType="{CT}.worksheet+xml"/>'
    f'<Override PartName="/xl/sharedStrings.xml" ContentType="{CT}.sharedStrings+xml"/>'
    "</Types>"
)
ROOT_RELS = (
    f'<Relationships xmlns="{PKG_REL}"><Relationship Id="rId1" '
    f'Type="{REL}/officeDocument" Target="xl/workbook.xml"/></Relationships>'
)
WORKBOOK = (
    f'<workbook xmlns="{MAIN}" xmlns:r="{REL}"><sheets>'
    '<sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>'
)
WORKBOOK_RELS = (
    f'<Relationships xmlns="{PKG_REL}">'
    f'<Relationship Id="rId1" Type="{REL}/worksheet" Target="worksheets/sheet1.xml"/>'
    f'<Relationship Id="rId2" Type="{REL}/sharedStrings" Target="sharedStrings.xml"/>'
    "</Relationships>"
)


def inline(text: str, ref: str = "") -> str:
    """One inline-string cell (``ref`` like ``B7``, or none: the next column)."""
    where = f' r="{ref}"' if ref else ""
    return f'<c{where} t="inlineStr"><is><t>{text}</t></is></c>'


def row(cells: Iterable[str], number: int | None = None) -> str:
    """One ``<row>`` (no number: the row after the previous one)."""
    where = f' r="{number}"' if number is not None else ""
    return f"<row{where}>{''.join(cells)}</row>"


def sheet_xml(rows: Iterable[str], dimension: str | None = None) -> Iterable[bytes]:
    """The sheet part in pieces, so a large one is never one string."""
    head = f'<worksheet xmlns="{MAIN}">'
    if dimension:
        head += f'<dimension ref="{dimension}"/>'
    yield (head + "<sheetData>").encode()
    for text in rows:
        yield text.encode()
    yield b"</sheetData></worksheet>"


EMPTY_STRINGS = (f'<sst xmlns="{MAIN}"/>'.encode(),)


def workbook(sheet: Iterable[bytes], shared_strings: Iterable[bytes] = EMPTY_STRINGS) -> bytes:
    """An XLSX file: the given sheet and shared strings parts, written as they stream."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.writestr("[Content_Types].xml", CONTENT_TYPES)
        archive.writestr("_rels/.rels", ROOT_RELS)
        archive.writestr("xl/workbook.xml", WORKBOOK)
        archive.writestr("xl/_rels/workbook.xml.rels", WORKBOOK_RELS)
        for name, pieces in (
            ("xl/worksheets/sheet1.xml", sheet),
            ("xl/sharedStrings.xml", shared_strings),
        ):
            with archive.open(name, "w", force_zip64=True) as part:
                for piece in pieces:
                    part.write(piece)
    return out.getvalue()


def shared_strings_bomb(megabytes: int) -> Iterable[bytes]:
    """A shared strings part of ``megabytes`` MB that deflates to a few hundred KB."""
    item = b"<si><t>" + b"A" * 1000 + b"</t></si>"
    chunk = item * (1024 * 1024 // len(item))
    yield b'<sst xmlns="' + MAIN.encode() + b'">'
    for _ in range(megabytes):
        yield chunk
    yield b"</sst>"


def understate(data: bytes, name: str, size: int) -> bytes:
    """The same zip with the central directory claiming ``size`` bytes for ``name``."""
    encoded = name.encode()
    at = data.rfind(b"PK\x01\x02")
    while at != -1:
        name_length = struct.unpack_from("<H", data, at + 28)[0]
        if data[at + 46 : at + 46 + name_length] == encoded:
            patched = bytearray(data)
            struct.pack_into("<I", patched, at + 24, size)
            return bytes(patched)
        at = data.rfind(b"PK\x01\x02", 0, at)
    raise KeyError(name)


PROBE = """
import json, resource, sys
from supervision.tabular import TableError, read_table
with open("/proc/self/status") as status:
    vm = next(int(line.split()[1]) for line in status if line.startswith("VmSize:"))
cap = vm * 1024 + int(sys.argv[2]) * 1024 * 1024
resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
answer = {}
try:
    table = read_table(sys.argv[1])
    answer["rows"] = len(table)
    answer["columns"] = table.columns
except TableError as exc:
    answer["error"] = str(exc)
    answer["key"] = exc.key
except MemoryError:
    answer["error"] = "MemoryError"
answer["grew_mb"] = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
print(json.dumps(answer))
"""


def read_in_subprocess(path: Path, *, cap_mb: int = 1024) -> dict[str, Any]:
    """`read_table(path)` in a fresh process whose address space may grow by ``cap_mb`` only:
    what it returned or raised, and how much its peak resident memory grew (MB)."""
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)}
    done = subprocess.run(
        [sys.executable, "-c", PROBE, str(path), str(cap_mb)],
        capture_output=True,
        text=True,
        check=False,
        env=env,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    result: dict[str, Any] = json.loads(done.stdout)
    return result
