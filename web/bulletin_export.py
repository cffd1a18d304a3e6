"""A bulletin (督查通报) as a standalone HTML document and as an XLSX workbook.

Both render the JSON form of a bulletin (``Bulletin.data`` or ``BulletinData.as_json()``),
so a preview and a stored bulletin download alike. The workbook is written by `web.xlsx`,
so no unit name or item title becomes a formula. Imports only jinja2, `web.xlsx` and
`web.views.common` for the templates folder; no database access here.
"""

from __future__ import annotations

from io import BytesIO
from typing import Any, Final

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from models import AssignmentRole
from supervision.labels import label, working_days
from web.views.common import TEMPLATES_DIR
from web.xlsx import Style, Styled, Workbook

__all__ = ["XLSX_TYPE", "filename", "render_html", "render_xlsx", "sections"]

XLSX_TYPE: Final = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
COLUMNS: Final = (
    ("rank", "排名"),
    ("unit_name", "单位"),
    ("assigned", "交办"),
    ("closed_in_period", "办结"),
    ("closed_on_time", "按期办结"),
    ("closed_late", "逾期办结"),
    ("open_overdue", "逾期未办结"),
    ("overdue", "逾期合计"),
    ("extensions", "延期"),
    ("on_time_rate", "按期率"),
)
#: the 节点按期率 table and sheet: (key in ``Bulletin.data["milestones"]`` rows, heading)
MILESTONE_COLUMNS: Final = (
    ("unit_name", "单位"),
    ("completed", "完成节点"),
    ("on_time", "按期完成"),
    ("late", "逾期完成"),
    ("open_overdue", "逾期未完成"),
    ("on_time_rate", "节点按期率"),
)
_env = Environment(
    loader=FileSystemLoader(str(TEMPLATES_DIR)),
    autoescape=select_autoescape(default=True),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


def percent(value: float | None) -> str:
    """0.25 → 25.0%; None → —."""
    return "—" if value is None else f"{value * 100:.1f}%"


_env.filters["percent"] = percent


SECTION_TITLES: Final = {
    "all": "排名",
    **{role.value: f"{label(role)}单位排名" for role in AssignmentRole},
    "unranked": "本期无到期事项",
}


def sections(data: dict[str, Any]) -> list[dict[str, Any]]:
    """The unit tables of a bulletin: 主办 and 协办 rankings and the unranked rows.

    A bulletin frozen before lead and co were counted apart (no ``version``) has one table
    of every row, as it was issued.
    """
    rows = [r for r in data.get("rows", []) if isinstance(r, dict)]
    if not data.get("version"):
        return [{"key": "all", "title": SECTION_TITLES["all"], "rows": rows}]
    out = [
        {"key": role, "title": SECTION_TITLES[role], "rows": [r for r in rows if r["role"] == role]}
        for role in ("lead", "co")
    ]
    unranked = [dict(r, rank="—") for r in data.get("unranked", [])]
    out.append({"key": "unranked", "title": SECTION_TITLES["unranked"], "rows": unranked})
    return [s for s in out if s["rows"] or s["key"] == "lead"]


def filename(data: dict[str, Any], ext: str) -> str:
    """An ASCII file name for a download, e.g. ``bulletin-2026-11.xlsx``."""
    period = "".join(c for c in str(data.get("period", "")) if c.isalnum() or c == "-")
    return f"bulletin-{period or 'period'}.{ext}"


def render_html(data: dict[str, Any], *, office_name: str) -> str:
    """The bulletin as one printable HTML page (no scripts, no external resources)."""
    return _env.get_template("bulletins/export.html").render(
        b=data,
        office_name=office_name,
        columns=COLUMNS,
        sections=sections(data),
        milestone_columns=MILESTONE_COLUMNS,
    )


_BOLD: Final = Style(bold=True)
_HEAD: Final = Style(bold=True, fill="DDE5F0")
_HEAD_CENTRED: Final = Style(bold=True, fill="DDE5F0", horizontal="center")
_RATE: Final = Style(number_format="0.0%")
_BOLD_RATE: Final = Style(bold=True, number_format="0.0%")


def _rate(value: float | None, style: Style = _RATE) -> Styled:
    return Styled("—" if value is None else value, style)


def _milestone_sheet(book: Workbook, data: dict[str, Any]) -> None:
    """The 节点按期率 sheet (annual tasks' milestones, seed 二(三)), when any was judged."""
    figures = data.get("milestones")
    if not isinstance(figures, dict) or not figures.get("units"):
        return  # a bulletin frozen before milestones were counted, or none judged
    sheet = book.add_sheet("节点按期率")
    sheet.widths([24, 10, 10, 10, 12, 12])
    sheet.append([f"{data['period_label']}  年度重点工作节点按期率"])
    sheet.append([Styled(h, _HEAD) for _, h in MILESTONE_COLUMNS])
    units = figures["units"]
    totals = dict(figures["totals"], unit_name="合计")
    for row in units:
        sheet.append(
            [row.get(key) for key, _ in MILESTONE_COLUMNS[:-1]] + [_rate(row.get("on_time_rate"))]
        )
    sheet.append(
        [Styled(totals.get(key), _BOLD) for key, _ in MILESTONE_COLUMNS[:-1]]
        + [_rate(totals.get("on_time_rate"), _BOLD_RATE)]
    )


def render_xlsx(data: dict[str, Any], *, office_name: str) -> bytes:
    """The bulletin as a workbook: the ranking, the overdue items and 节点按期率 sheets,
    written by `web.xlsx` (rows streamed, so time and memory follow the rows exported:
    thousands of overdue items at a provincial office)."""
    book = Workbook()
    ws = book.add_sheet("通报")
    ws.widths([6, 24, 8, 8, 10, 10, 12, 10, 8, 10])
    title = f"{office_name}督查通报"
    if data.get("number"):
        title += f"（{data['number']}）"
    ws.append([Styled(title, Style(bold=True, size=14))])
    ws.append([f"{data['period_label']}  统计截至 {data['as_of']}"])
    ws.append(())
    for section in sections(data):
        if section["key"] != "all":
            ws.append([Styled(section["title"], _BOLD)])
        ws.append([Styled(label, _HEAD_CENTRED) for _, label in COLUMNS])
        for row in section["rows"]:
            ws.append([row[key] for key, _ in COLUMNS[:-1]] + [_rate(row["on_time_rate"])])
    totals = data["totals"]
    sums: list[object] = [
        "合计",
        "",
        totals["assigned"],
        totals["closed_in_period"],
        totals["closed_on_time"],
        "",
        "",
        totals["overdue"],
        totals["extensions"],
    ]
    ws.append([Styled(v, _BOLD) for v in sums] + [_rate(totals["on_time_rate"], _BOLD_RATE)])
    ws.append(())
    if data["praised_units"]:
        ws.append(["通报表扬（总结推广）", "、".join(data["praised_units"])])
    if data["urged_units"]:
        ws.append(["督促整改", "、".join(data["urged_units"])])
    for urged in data.get("urged", []):
        named = "；".join(
            f"{o['ref']} {o['title']} 逾期{working_days(o['days_overdue'])}" for o in urged["items"]
        )
        ws.append(["", urged["unit_name"], urged["overdue"], urged["days_overdue"], named])
    late = book.add_sheet("逾期事项")
    late.widths([20, 40, 20, 12, 12, 12, 8])
    late.append(
        [
            Styled(v, _BOLD)
            for v in ["文号", "事项", "单位", "完成时限", "逾期工作日", "情况", "承办"]
        ]
    )
    for o in data["overdue_items"]:
        late.append(
            [
                o["ref"],
                o["title"],
                o["unit_name"],
                o["due_on"],
                o["days_overdue"],
                "逾期办结" if o["closed_late"] else "逾期未办结",
                o.get("role_label", ""),
            ]
        )
    _milestone_sheet(book, data)
    out = BytesIO()
    book.save(out)
    return out.getvalue()
