"""Reading a large items workbook: Duban's streaming reader against python-calamine.

    .venv/bin/python -m bench.xlsx_read [--rows 100000] [--repeat 3]

Writes an items workbook of ``--rows`` sheet rows (the header and rows-1 items, 12 columns,
dates as real date cells) to a temporary file, then reads it ``--repeat`` times in a fresh
process per reader, and prints the best wall time and the process's peak RSS growth. The
readers: ``duban`` is `supervision.tabular.read_table` (openpyxl, read-only, with the limits);
``openpyxl`` is the bare read-only iteration; ``calamine`` is python-calamine's
``to_python()`` on the first sheet, measured only when the package is importable (it is not a
dependency: ``pip install python-calamine`` to compare).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from datetime import date, timedelta
from pathlib import Path

READERS = {
    "duban": ("from supervision.tabular import read_table\nrows = len(read_table(PATH))\n"),
    "openpyxl": (
        "from openpyxl import load_workbook\n"
        "book = load_workbook(PATH, read_only=True, data_only=True)\n"
        "rows = sum(1 for _ in book.worksheets[0].iter_rows(values_only=True))\n"
        "book.close()\n"
    ),
    "calamine": (
        "from python_calamine import CalamineWorkbook\n"
        "rows = len(CalamineWorkbook.from_path(str(PATH)).get_sheet_by_index(0).to_python())\n"
    ),
}

PROBE = """
import json, resource, sys, time
from pathlib import Path
PATH = Path(sys.argv[1])
{imports}
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
start = time.perf_counter()
{body}
seconds = time.perf_counter() - start
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({{"rows": rows, "seconds": seconds, "rss_mb": (after - before) / 1024}}))
"""

IMPORTS = {
    "duban": "import supervision.tabular, openpyxl",
    "openpyxl": "import openpyxl",
    "calamine": "import python_calamine",
}


def write_workbook(path: Path, rows: int) -> None:
    """An items workbook as an office would export it."""
    from openpyxl import Workbook

    from supervision.importing import COLUMNS

    book = Workbook(write_only=True)
    sheet = book.create_sheet("items")
    sheet.append(list(COLUMNS["items"]))
    start = date(2026, 1, 5)
    for n in range(1, rows):
        sheet.append(
            [
                f"督〔2026〕{n}号",
                f"第{n}项重点工作落实情况",
                "会议决定",
                "按期完成目标任务",
                f"工作内容 {n % 97}",
                start + timedelta(days=n % 300),
                start + timedelta(days=n % 300 + 30),
                "急" if n % 10 == 0 else "",
                f"U{n % 50}",
                f"U{(n + 1) % 50};U{(n + 2) % 50}",
                f"owner{n % 400}@example.gov.cn",
                f"leader{n % 40}@example.gov.cn",
            ]
        )
    book.save(path)


def measure(reader: str, path: Path) -> dict[str, float] | None:
    """One read in a fresh process, or None when the reader is not installed."""
    code = PROBE.format(imports=IMPORTS[reader], body=READERS[reader])
    done = subprocess.run(
        [sys.executable, "-c", code, str(path)], capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        if "ModuleNotFoundError" in done.stderr:
            return None
        raise RuntimeError(done.stderr)
    result: dict[str, float] = json.loads(done.stdout)
    return result


def main() -> None:
    """Write the workbook, read it with each reader, print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "items.xlsx"
        write_workbook(path, args.rows)
        print(f"workbook: {args.rows:,} rows, {path.stat().st_size / 1e6:.1f} MB on disk")
        for reader in READERS:
            runs = [measure(reader, path) for _ in range(args.repeat)]
            if runs[0] is None:
                print(f"{reader:9} not installed")
                continue
            done = [r for r in runs if r is not None]
            best = min(r["seconds"] for r in done)
            rss = max(r["rss_mb"] for r in done)
            rows = int(done[0]["rows"])
            print(f"{reader:9} {best:6.2f} s  peak RSS +{rss:5.0f} MB  ({rows:,} rows)")


if __name__ == "__main__":
    main()
