"""Writing the bulletin's XLSX (`web.bulletin_export.render_xlsx`): CPU against its rows.

    .venv/bin/python -m bench.bulletin_xlsx [--overdue 500 5000 50000] [--units 300] [--repeat 9]

The bulletin's JSON form of `bench.bulletin_docx` with ``--units`` ranked units, and
``--overdue`` overdue items spread over them (the 100k-item month of `bench.web_scale`
names 4,913 in 600 ranking rows). Prints the median and best CPU time of ``--repeat``
renders in this process (CPU, not wall: the machine is shared), the rows and the file's
size. Pure CPU: no database, no network.
"""

from __future__ import annotations

import argparse
import statistics
import time
from typing import Any

from bench.bulletin_docx import bulletin
from web.bulletin_export import render_xlsx


def with_overdue(units: int, overdue: int) -> dict[str, Any]:
    """The bulletin of `bench.bulletin_docx` naming ``overdue`` items (its urged units' too)."""
    data = bulletin(units)
    items = [
        {
            "ref": f"督〔2026〕{n}号",
            "title": f"关于推进第{n}项重点工作落实情况的督查事项",
            "unit_name": f"第{n % units + 1}单位",
            "due_on": "2026-11-03",
            "days_overdue": 1 + n % 40,
            "closed_late": n % 5 == 0,
            "role_label": "主办",
        }
        for n in range(overdue)
    ]
    data["overdue_items"] = items
    for row in data["rows"]:
        row.update(closed_late=1, open_overdue=1)
    by_unit: dict[str, list[dict[str, Any]]] = {}
    for o in items:
        by_unit.setdefault(o["unit_name"], []).append(o)
    for urged in data["urged"]:
        urged["items"] = by_unit.get(urged["unit_name"], [])
    return data


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--overdue", type=int, nargs="+", default=[500, 5000, 50000])
    parser.add_argument("--units", type=int, default=300)
    parser.add_argument("--repeat", type=int, default=9)
    args = parser.parse_args()
    for overdue in args.overdue:
        data = with_overdue(args.units, overdue)
        render_xlsx(data, office_name="某省人民政府督查室")  # warm-up
        spent, size = [], 0
        for _ in range(args.repeat):
            start = time.process_time()
            size = len(render_xlsx(data, office_name="某省人民政府督查室"))
            spent.append((time.process_time() - start) * 1000)
        rows = len(data["rows"]) + len(data["urged"]) + overdue
        print(
            f"{overdue} overdue ({rows} rows): cpu median {statistics.median(spent):.1f} ms, "
            f"best {min(spent):.1f} ms of {args.repeat}, {size / 1024:.0f} KiB"
        )


if __name__ == "__main__":
    main()
