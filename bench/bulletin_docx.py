"""Building the 督查通报 DOCX of a large office: time and size against the number of units.

    .venv/bin/python -m bench.bulletin_docx [--units 50 200 400] [--repeat 3]

For each ``--units`` count, makes a bulletin's JSON form with that many ranked 主办 rows, a
协办 row for every fourth unit, and every tenth unit urged with ten overdue items, then
renders it with `web.bulletin_docx.render_bulletin_docx` ``--repeat`` times in this process
and prints the best wall time and the file's size. Pure CPU: no database, no network.
"""

from __future__ import annotations

import argparse
import time
from datetime import date
from typing import Any

from web.bulletin_docx import BulletinLetter, render_bulletin_docx


def bulletin(units: int) -> dict[str, Any]:
    """A month's bulletin with ``units`` ranked lead rows, as `BulletinData.as_json` shapes it."""

    def row(n: int, role: str) -> dict[str, Any]:
        return {
            "rank": n + 1,
            "unit_id": n,
            "unit_name": f"第{n + 1}单位",
            "role": role,
            "assigned": 12,
            "closed_in_period": 8,
            "closed_on_time": 7,
            "overdue": 2,
            "extensions": 1,
            "on_time_rate": 7 / 10,
        }

    urged = [
        {
            "unit_name": f"第{n + 1}单位",
            "overdue": 10,
            "days_overdue": 55,
            "items": [
                {"ref": f"督〔2026〕{n}-{k}号", "title": "推进重点项目建设"} for k in range(10)
            ],
        }
        for n in range(0, units, 10)
    ]
    return {
        "version": 2,
        "period": "2026-11",
        "period_label": "2026年11月",
        "as_of": "2026-11-30",
        "issued_on": "2026-12-01",
        "rows": [row(n, "lead") for n in range(units)] + [row(n, "co") for n in range(0, units, 4)],
        "unranked": [],
        "praised_units": [f"第{n + 1}单位" for n in range(1, units, 10)],
        "urged_units": [u["unit_name"] for u in urged],
        "urged": urged,
        "totals": {
            "assigned": 12 * units,
            "closed_in_period": 8 * units,
            "closed_on_time": 7 * units,
            "overdue": 2 * units,
            "extensions": units,
            "on_time_rate": 0.7,
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--units", type=int, nargs="+", default=[50, 200, 400])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    letter = BulletinLetter(
        "某市人民政府督查室", "督查通报〔2026〕12号", ("市委办公室",), date(2026, 12, 1)
    )
    for units in args.units:
        data = bulletin(units)
        best, size = float("inf"), 0
        for _ in range(args.repeat):
            start = time.perf_counter()
            size = len(render_bulletin_docx(data, letter, "zh"))
            best = min(best, time.perf_counter() - start)
        print(f"{units} units: best {best:.2f} s of {args.repeat}, {size / 1024:.0f} KiB")


if __name__ == "__main__":
    main()
