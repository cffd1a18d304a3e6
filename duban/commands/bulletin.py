"""``duban bulletin --period 2026-11 [--send] [--docx FILE]``: print a period's 督查通报,
optionally send it, and write it as an official document (DOCX)."""

from __future__ import annotations

import argparse
import asyncio
from datetime import date
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession

from duban import table
from duban.commands import CliError
from duban.runtime import Runtime
from models import AssignmentRole
from supervision.audit import Actor
from supervision.bulletins import (
    BulletinData,
    UnitFigures,
    compute_bulletin,
    default_recipients,
    freeze_bulletin,
    send_bulletin,
)
from supervision.calendar_store import load_calendar
from supervision.clock import local_today
from supervision.doc_numbers import document_number, given_number, year_sequence
from supervision.errors import DomainError
from supervision.labels import co_marked, label, told
from supervision.periods import parse_period


def _rate(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"


def _ranking(head: list[str], rows: list[UnitFigures]) -> str:
    cells = [
        [
            str(r.rank),
            r.unit_name,
            str(r.assigned),
            str(r.closed_in_period),
            str(r.closed_on_time),
            str(r.overdue),
            str(r.extensions),
            _rate(r.on_time_rate),
        ]
        for r in rows
    ]
    return table.format_table(head, cells, right={0, *range(2, len(head))})


def format_table(data: BulletinData) -> str:
    """The bulletin as plain text: 主办 and 协办 rankings, overdue items, praise, urging."""
    head = ["排名", "单位", "交办", "办结", "按期办结", "逾期", "延期", "按期率"]
    lines = [
        f"督查通报 {data.period.label} ({data.period.key}: "
        f"{data.period.starts_on.isoformat()} – {data.period.ends_on.isoformat()}, "
        f"as of {data.as_of.isoformat()})",
    ]
    for role in AssignmentRole:
        ranked = data.ranking(role)
        if ranked:
            lines += ["", f"{label(role)}排名:", _ranking(head, ranked)]
    if not data.rows:
        lines += ["", "(no unit had anything due in this period)"]
    if data.unranked:
        names = "、".join(co_marked(r.unit_name, r.role, force=True) for r in data.unranked)
        lines += ["", f"本期无到期事项: {names}"]
    totals = data.totals()
    lines.append(
        f"合计: 交办 {totals['assigned']}, 按期办结 {totals['closed_on_time']}, "
        f"逾期 {totals['overdue']}, 延期 {totals['extensions']}, "
        f"按期率 {_rate(totals['on_time_rate'])}"
    )
    if data.milestones:
        lines += ["", "年度重点工作节点按期率:"]
        for m in [*data.milestones, data.milestone_totals()]:
            lines.append(
                f"  {m.unit_name if m.unit_id is not None else '合计'}: 完成节点 {m.completed}, "
                f"按期 {m.on_time}, 逾期完成 {m.late}, 逾期未完成 {m.open_overdue}, "
                f"节点按期率 {_rate(m.on_time_rate)}"
            )
    if data.overdue_items:
        lines += ["", "逾期事项:"]
        for o in data.overdue_items:
            state = "逾期办结" if o.closed_late else "逾期未办结"
            lines.append(
                f"  {o.ref} {o.title} — {co_marked(o.unit_name, o.role, force=True)}, "
                f"完成时限 {o.due_on.isoformat()}, {state} {o.days_overdue} 个工作日"
            )
    if data.praised_units:
        lines += ["", "通报表扬 (总结推广): " + "、".join(data.praised_units)]
    if data.urged:
        lines += ["督促整改: " + "、".join(data.urged_units)]
        for u in data.urged:
            items = "、".join(f"{o.ref} 逾期 {o.days_overdue} 个工作日" for o in u.items)
            lines.append(f"  {u.unit_name}: 逾期 {len(u.items)} 项 — {items}")
    return "\n".join(lines)


async def _docx(
    args: argparse.Namespace,
    rt: Runtime,
    session: AsyncSession,
    data: BulletinData,
    stored: int | None,
) -> None:
    """Write the bulletin as an official document (DOCX) to ``--docx FILE``: a refused
    number or a file that cannot be written is a CLI error, and with --send nothing is
    stored (the caller's transaction rolls back)."""
    # imported here: python-docx and the web edge's layout load only when a document is asked
    from web.bulletin_docx import BulletinLetter, render_bulletin_docx

    office = rt.settings.office
    try:
        if args.number:
            number = given_number(args.number)
        else:
            year = data.period.starts_on.year
            n = await year_sequence(session, year, bulletin_id=stored)
            number = document_number(office.bulletin_number, year=year, n=n)
    except DomainError as exc:
        raise CliError(told(exc, args.lang)) from None
    letter = BulletinLetter(office.name, number, office.copy_to, data.issued_on)
    body = await asyncio.to_thread(render_bulletin_docx, data.as_json(), letter, args.lang)
    try:
        await asyncio.to_thread(Path(args.docx).write_bytes, body)
    except OSError as exc:
        raise CliError(f"cannot write {args.docx}: {exc.strerror or exc}") from None
    print(f"wrote {args.docx} ({number})")


async def bulletin(args: argparse.Namespace, rt: Runtime) -> int:
    """Compute and print the bulletin; with --send, store it and queue it to its readers;
    with --docx FILE, write it as an official document too."""
    tz = rt.settings.office.tz
    period = parse_period(args.period)
    today = local_today(rt.clock, tz)
    if args.today:
        try:
            today = date.fromisoformat(args.today)
        except ValueError:
            raise CliError(f"--today {args.today!r} is not a date like 2026-12-03") from None
    async with rt.sessions() as session, session.begin():
        calendar = await load_calendar(session)
        data = await compute_bulletin(session, period, today=today, calendar=calendar, tz=tz)
        if not args.send:
            print(format_table(data))
            if args.docx:
                await _docx(args, rt, session, data, None)
            return 0
        recipients = await default_recipients(session)
        if not recipients:
            raise CliError("nobody to send to: add supervisors or unit principals first")
        actor = Actor.system("cli")
        stored = await freeze_bulletin(session, data, actor=actor, clock=rt.clock)
        queued = await send_bulletin(
            session, stored, recipients, actor=actor, clock=rt.clock, calendar=calendar, tz=tz
        )
        if args.docx:
            await _docx(args, rt, session, data, stored.id)
    print(format_table(data))
    print()
    print(
        f"bulletin #{stored.id} ({data.number}) stored; queued {queued} messages "
        f"to {len(recipients)} recipients (supervisors and unit principals)"
    )
    return 0


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``bulletin``."""
    p = subparsers.add_parser("bulletin", help="print a period's 督查通报; --send queues it")
    p.add_argument(
        "--period", required=True, help="2026-11 (month), 2026-W47 (ISO week) or 2026-Q4"
    )
    p.add_argument(
        "--send",
        action="store_true",
        help="store it and queue it to supervisors and unit principals",
    )
    p.add_argument("--today", help="judge the period as of this date (default: today)")
    p.add_argument("--docx", metavar="FILE", help="also write it as an official document (DOCX)")
    p.add_argument(
        "--number",
        help="the document's 发文字号 (default: DUBAN_BULLETIN_NUMBER with its number in the year)",
    )
    p.add_argument(
        "--lang", choices=("zh", "en"), default="zh", help="the document's language (default zh)"
    )
    p.set_defaults(handler=bulletin)
