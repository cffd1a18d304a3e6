"""Filing and editing reports (进展报告 / 办理情况报告) with their attachments and history.

Imports only `models/` and `supervision/`; I/O goes through the session it is given.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from models import Assignment, Attachment, Item, Person, Report, ReportKind, ReportRevision
from models.report import ReviewState
from supervision.access import Action, require
from supervision.audit import Actor, record
from supervision.calendar import WorkCalendar
from supervision.clock import Clock
from supervision.errors import InvalidTransition, NotAllowed, ValidationFailed
from supervision.schedule import reschedule

__all__ = [
    "EDIT_WINDOW",
    "MAX_ATTACHMENTS",
    "MAX_TEXT",
    "AttachmentIn",
    "album_report",
    "clean_text",
    "edit_report",
    "file_report",
    "report_for_message",
]

MAX_TEXT = 8000
MAX_ATTACHMENTS = 20
EDIT_WINDOW = timedelta(hours=48)


@dataclass(frozen=True, slots=True)
class AttachmentIn:
    """A file to attach: a Telegram file id (or a stored upload), with what is known of it."""

    file_id: str
    file_unique_id: str | None = None
    file_name: str | None = None
    mime_type: str | None = None
    size: int | None = None
    storage: str = "telegram"


def clean_text(text: str | None, *, limit: int = MAX_TEXT) -> str:
    """Text as stored: control characters removed (newlines and tabs kept), trimmed, bounded."""
    if text is None:
        return ""
    kept = "".join(
        ch for ch in text if ch in "\n\t" or unicodedata.category(ch) not in ("Cc", "Cs", "Co")
    ).strip()
    if len(kept) > limit:
        raise ValidationFailed(f"内容过长：最多 {limit} 字，收到 {len(kept)} 字 (text too long)")
    return kept


def _attachment(a: AttachmentIn) -> Attachment:
    if not a.file_id or len(a.file_id) > 255:
        raise ValidationFailed("附件标识无效 (bad attachment id)")
    return Attachment(
        storage=a.storage[:16],
        file_id=a.file_id,
        file_unique_id=(a.file_unique_id or None) and a.file_unique_id[:255],
        file_name=(a.file_name or None) and a.file_name[:255],
        mime_type=(a.mime_type or None) and a.mime_type[:127],
        size=a.size if a.size is None or a.size >= 0 else None,
    )


async def report_for_message(session: AsyncSession, chat_id: int, message_id: int) -> Report | None:
    """The report filed from one chat message, if any."""
    return await session.scalar(
        select(Report).where(Report.chat_id == chat_id, Report.chat_message_id == message_id)
    )


async def _next_number(session: AsyncSession, assignment_id: int) -> int:
    current = await session.scalar(
        select(func.max(Report.number)).where(Report.assignment_id == assignment_id)
    )
    return (current or 0) + 1


async def file_report(
    session: AsyncSession,
    *,
    assignment: Assignment,
    author: Person,
    text: str | None,
    clock: Clock,
    attachments: Sequence[AttachmentIn] = (),
    kind: ReportKind = ReportKind.PROGRESS,
    channel: str = "chat",
    chat_id: int | None = None,
    chat_message_id: int | None = None,
    review_state: ReviewState = ReviewState.NONE,
    calendar: WorkCalendar | None = None,
    media_group_id: str | None = None,
) -> Report:
    """File a report on an assignment; resets the periodic clock and reschedules the ladder.

    The same chat message filed twice returns the first report unchanged; the later messages
    of one chat album (``media_group_id``) add their files and captions to the album's report.
    """
    require(author, Action.REPORT, assignment)
    if not assignment.is_active:
        raise InvalidTransition("该事项已办结或撤销，不能再填报 (the assignment is closed)")
    if chat_id is not None and chat_message_id is not None:
        existing = await report_for_message(session, chat_id, chat_message_id)
        if existing is not None:
            if existing.assignment_id != assignment.id:
                raise NotAllowed("这条消息已作为其他事项的报告 (message already filed)")
            return existing
    if media_group_id and chat_id is not None:
        album = await _album_report(session, assignment, chat_id, media_group_id[:64])
        if album is not None:
            return await _add_to_album(
                session, album, author=author, text=text, attachments=attachments, clock=clock
            )
    body = clean_text(text)
    if len(attachments) > MAX_ATTACHMENTS:
        raise ValidationFailed(f"附件过多：最多 {MAX_ATTACHMENTS} 个 (too many attachments)")
    files = [_attachment(a) for a in attachments]
    if not body and not files:
        raise ValidationFailed("报告内容为空：请发送文字或文件 (empty report)")
    now = clock.now()
    report = Report(
        assignment_id=assignment.id,
        number=await _next_number(session, assignment.id),
        author_id=author.id,
        kind=kind.value,
        text=body,
        channel=channel,
        review_state=review_state.value,
        chat_id=chat_id,
        chat_message_id=chat_message_id,
        media_group_id=media_group_id[:64] if media_group_id else None,
        created_at=now,
        attachments=files,
    )
    for f in files:
        f.created_at = now
    session.add(report)
    await session.flush()
    assignment.last_report_at = now
    record(
        session,
        clock=clock,
        actor=Actor.of(author),
        entity="report",
        entity_id=report.id,
        action="filed",
        detail={
            "assignment_id": assignment.id,
            "kind": kind.value,
            "number": report.number,
            "channel": channel,
            "attachments": len(files),
        },
    )
    # One write of the assignment at commit instead of a flush before the schedule's reads.
    with session.no_autoflush:
        await reschedule(session, assignment, clock=clock, calendar=calendar)
    return report


async def album_report(session: AsyncSession, chat_id: int, media_group_id: str) -> Report | None:
    """The report a chat album already filed, if any."""
    return await session.scalar(
        select(Report).where(
            Report.chat_id == chat_id, Report.media_group_id == media_group_id[:64]
        )
    )


async def _album_report(
    session: AsyncSession, assignment: Assignment, chat_id: int, media_group_id: str
) -> Report | None:
    """The report an album already filed; the assignment row is locked so that the album's
    messages, handled at the same time, wait for each other instead of filing twice."""
    await session.execute(
        select(Assignment.id).where(Assignment.id == assignment.id).with_for_update()
    )
    return await session.scalar(
        select(Report).where(Report.chat_id == chat_id, Report.media_group_id == media_group_id)
    )


async def _add_to_album(
    session: AsyncSession,
    report: Report,
    *,
    author: Person,
    text: str | None,
    attachments: Sequence[AttachmentIn],
    clock: Clock,
) -> Report:
    if report.author_id != author.id:
        raise NotAllowed("这组文件属于另一份报告 (the album belongs to another report)")
    have = {a.file_unique_id or a.file_id for a in report.attachments}
    files = [_attachment(a) for a in attachments if (a.file_unique_id or a.file_id) not in have]
    if len(report.attachments) + len(files) > MAX_ATTACHMENTS:
        raise ValidationFailed(f"附件过多：最多 {MAX_ATTACHMENTS} 个 (too many attachments)")
    caption = clean_text(text)
    if caption and caption not in report.text:
        joined = f"{report.text}\n{caption}" if report.text else caption
        report.text = clean_text(joined)
    for f in files:
        f.created_at = clock.now()
        report.attachments.append(f)
    record(
        session,
        clock=clock,
        actor=Actor.of(author),
        entity="report",
        entity_id=report.id,
        action="attachments_added",
        detail={"attachments": len(files)},
    )
    await session.flush()
    return report


async def edit_report(
    session: AsyncSession,
    *,
    report: Report,
    editor: Person,
    text: str | None,
    clock: Clock,
    window: timedelta = EDIT_WINDOW,
) -> Report:
    """Replace a report's text within ``window`` of filing; the old text goes to its history."""
    assignment = await session.get_one(Assignment, report.assignment_id)
    if report.author_id != editor.id:
        raise NotAllowed("只能修改自己提交的报告 (only the author may edit)")
    require(editor, Action.REPORT, assignment)
    if clock.now() - report.created_at > window:
        hours = int(window.total_seconds() // 3600)
        raise NotAllowed(f"报告提交已超过 {hours} 小时，不能再修改 (edit window passed)")
    if report.review_state in (ReviewState.APPROVED, ReviewState.REJECTED):
        raise NotAllowed("报告已审核，不能再修改 (already reviewed)")
    body = clean_text(text)
    if not body and not report.attachments:
        raise ValidationFailed("报告内容为空 (empty report)")
    if body == report.text:
        return report
    session.add(ReportRevision(report_id=report.id, text=report.text, created_at=clock.now()))
    report.text = body
    report.edited_at = clock.now()
    record(
        session,
        clock=clock,
        actor=Actor.of(editor),
        entity="report",
        entity_id=report.id,
        action="edited",
    )
    await session.flush()
    return report


async def item_of(session: AsyncSession, assignment: Assignment) -> Item:
    """The item of an assignment."""
    return await session.get_one(Item, assignment.item_id)
