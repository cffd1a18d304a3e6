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
from supervision.labels import co_marked, days_phrase, lang_of, told, working_days
from supervision.periods import parse_period
from web.i18n import translate


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


_HEAD = ("rank", "unit", "assigned", "closed", "on_time", "overdue", "extensions", "rate")


def format_table(data: BulletinData, lang: str = "zh") -> str:
    """The bulletin as plain text in ``lang``, in the print view's words: 主办 and 协办
    rankings, totals, milestones, overdue items, praise and urging."""

    def t(key: str, **values: object) -> str:
        return translate(f"bulletin.{key}", lang, **values)

    en = lang_of(lang) == "en"
    glue = ", " if en else "、"
    period = data.period.key if en else data.period.label
    head = [t(k) for k in _HEAD]
    lines = [
        f"{translate('doc.bulletin_title', lang, period=period)} "
        f"({data.period.starts_on.isoformat()} – {data.period.ends_on.isoformat()}, "
        f"{t('as_of')} {data.as_of.isoformat()})",
    ]
    for role in AssignmentRole:
        ranked = data.ranking(role)
        if ranked:
            lines += ["", f"{t('section.' + role.value)}:", _ranking(head, ranked)]
    if not data.rows:
        lines += ["", translate("doc.nothing_ranked", lang)]
    if data.unranked:
        names = glue.join(co_marked(r.unit_name, r.role, lang, force=True) for r in data.unranked)
        lines += ["", f"{t('section.unranked')}: {names}"]
    totals = data.totals()
    lines.append(
        f"{t('totals')}: {t('assigned')} {totals['assigned']}, "
        f"{t('on_time')} {totals['closed_on_time']}, {t('overdue')} {totals['overdue']}, "
        f"{t('extensions')} {totals['extensions']}, {t('rate')} {_rate(totals['on_time_rate'])}"
    )
    if data.milestones:
        lines += ["", f"{t('milestones')}:"]
        for m in [*data.milestones, data.milestone_totals()]:
            lines.append(
                f"  {m.unit_name if m.unit_id is not None else t('totals')}: "
                f"{t('ms_done')} {m.completed}, {t('ms_on_time')} {m.on_time}, "
                f"{t('ms_late')} {m.late}, {t('ms_open_overdue')} {m.open_overdue}, "
                f"{t('ms_rate')} {_rate(m.on_time_rate)}"
            )
    if data.overdue_items:
        lines += ["", f"{t('overdue_items')}:"]
        for o in data.overdue_items:
            state = t("closed_late" if o.closed_late else "still_open")
            lines.append(
                f"  {o.ref} {o.title} — {co_marked(o.unit_name, o.role, lang, force=True)}, "
                f"{t('due')} {o.due_on.isoformat()}, {state}, {days_phrase(-o.days_overdue, lang)}"
            )
    if data.praised_units:
        lines += ["", f"{t('praised')}: {glue.join(data.praised_units)}"]
    if data.urged:
        lines += [f"{t('urged')}: {glue.join(data.urged_units)}"]
        for u in data.urged:
            items = glue.join(f"{o.ref} {working_days(o.days_overdue, lang)}" for o in u.items)
            line = translate(
                "doc.urged_line",
                lang,
                unit=u.unit_name,
                count=len(u.items),
                days=working_days(u.days_overdue, lang),
                items=items,
            )
            lines.append(f"  {line}")
    return "\n".join(lines)


async def _docx(
    args: argparse.Namespace,
    rt: Runtime,
    session: AsyncSession,
    data: BulletinData,
    stored: int | None,
    lang: str,
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
        raise CliError(told(exc, lang)) from None
    letter = BulletinLetter(office.name, number, office.copy_to, data.issued_on)
    body = await asyncio.to_thread(render_bulletin_docx, data.as_json(), letter, lang)
    try:
        await asyncio.to_thread(Path(args.docx).write_bytes, body)
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise CliError(
            translate("bulletin.cannot_write", lang, path=args.docx, reason=reason)
        ) from None
    print(translate("bulletin.wrote", lang, path=args.docx, number=number))


async def bulletin(args: argparse.Namespace, rt: Runtime) -> int:
    """Compute and print the bulletin; with --send, store it and queue it to its readers;
    with --docx FILE, write it as an official document too."""
    tz = rt.settings.office.tz
    lang = args.lang or rt.settings.office.locale  # --lang, else the office's language
    period = parse_period(args.period)
    today = local_today(rt.clock, tz)
    if args.today:
        try:
            today = date.fromisoformat(args.today)
        except ValueError:
            raise CliError(
                translate("bulletin.bad_date", lang, option="--today", value=repr(args.today))
            ) from None
    async with rt.sessions() as session, session.begin():
        calendar = await load_calendar(session)
        data = await compute_bulletin(session, period, today=today, calendar=calendar, tz=tz)
        if not args.send:
            print(format_table(data, lang))
            if args.docx:
                await _docx(args, rt, session, data, None, lang)
            return 0
        recipients = await default_recipients(session)
        if not recipients:
            raise CliError(translate("bulletin.nobody", lang))
        actor = Actor.system("cli")
        stored = await freeze_bulletin(session, data, actor=actor, clock=rt.clock)
        queued = await send_bulletin(
            session, stored, recipients, actor=actor, clock=rt.clock, calendar=calendar, tz=tz
        )
        if args.docx:
            await _docx(args, rt, session, data, stored.id, lang)
    print(format_table(data, lang))
    print()
    print(
        translate(
            "bulletin.stored",
            lang,
            id=stored.id,
            number=data.number,
            queued=queued,
            recipients=len(recipients),
        )
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
        "--lang",
        choices=("zh", "en"),
        help="the printout's and the document's language (default: the office's locale)",
    )
    p.set_defaults(handler=bulletin)
