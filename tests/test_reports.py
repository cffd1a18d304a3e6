"""Filing and editing reports: numbering, attachments, the periodic clock, history, limits."""

from __future__ import annotations

import unicodedata
from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from models import Assignment, AuditEvent, ItemState, Report, ReportRevision
from supervision.audit import Actor
from supervision.clock import FixedClock
from supervision.errors import InvalidTransition, NotAllowed, ValidationFailed
from supervision.lifecycle import transition_assignment
from supervision.reports import MAX_TEXT, AttachmentIn, clean_text, edit_report, file_report
from testing.bot_world import build_world


async def test_file_report_numbers_stores_files_and_resets_periodic_clock(
    session: AsyncSession, clock: FixedClock
) -> None:
    w = await build_world(session)
    a = w.a_document
    first = await file_report(
        session,
        assignment=a,
        author=w.owner,
        text="  已完成初步调研  ",
        attachments=[AttachmentIn("F1", "U1", "调研.pdf", "application/pdf", 1234)],
        clock=clock,
        chat_id=1001,
        chat_message_id=7,
    )
    clock.advance(timedelta(days=3))
    second = await file_report(session, assignment=a, author=w.liaison, text="续报", clock=clock)
    await session.commit()
    assert (first.number, second.number) == (1, 2)
    assert first.text == "已完成初步调研"
    assert [(x.file_id, x.file_name, x.size) for x in first.attachments] == [
        ("F1", "调研.pdf", 1234)
    ]
    assert a.last_report_at == clock.now()
    assert a.next_action_at is not None and a.next_action_at > clock.now()
    audit = await session.scalar(
        select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "filed")
    )
    assert audit == 2


async def test_same_chat_message_is_filed_once(session: AsyncSession, clock: FixedClock) -> None:
    w = await build_world(session)
    kw = {"assignment": w.a_document, "author": w.owner, "text": "x", "clock": clock}
    one = await file_report(session, **kw, chat_id=1001, chat_message_id=9)  # type: ignore[arg-type]
    two = await file_report(session, **kw, chat_id=1001, chat_message_id=9)  # type: ignore[arg-type]
    assert one.id == two.id
    assert await session.scalar(select(func.count()).select_from(Report)) == 1


async def test_bad_reports_change_nothing(session: AsyncSession, clock: FixedClock) -> None:
    w = await build_world(session)
    a = w.a_document
    with pytest.raises(NotAllowed):
        await file_report(session, assignment=a, author=w.outsider, text="x", clock=clock)
    with pytest.raises(ValidationFailed):
        await file_report(session, assignment=a, author=w.owner, text=" \x00\x07 ", clock=clock)
    with pytest.raises(ValidationFailed):
        await file_report(session, assignment=a, author=w.owner, text="长" * 9000, clock=clock)
    await transition_assignment(session, a, ItemState.CLOSED, actor=Actor.system(), clock=clock)
    with pytest.raises(InvalidTransition):
        await file_report(session, assignment=a, author=w.owner, text="x", clock=clock)
    assert await session.scalar(select(func.count()).select_from(Report)) == 0


async def test_edit_keeps_history_within_window_only(
    session: AsyncSession, clock: FixedClock
) -> None:
    w = await build_world(session)
    report = await file_report(
        session, assignment=w.a_document, author=w.owner, text="初稿", clock=clock
    )
    clock.advance(timedelta(hours=47))
    await edit_report(session, report=report, editor=w.owner, text="修改稿", clock=clock)
    assert report.text == "修改稿" and report.edited_at == clock.now()
    history = (await session.scalars(select(ReportRevision.text))).all()
    assert history == ["初稿"]
    with pytest.raises(NotAllowed):
        await edit_report(session, report=report, editor=w.liaison, text="别人改", clock=clock)
    clock.advance(timedelta(hours=2))
    with pytest.raises(NotAllowed):
        await edit_report(session, report=report, editor=w.owner, text="太晚了", clock=clock)
    assert report.text == "修改稿"


@given(st.text(max_size=300))
def test_clean_text_keeps_printable_text_and_drops_control_characters(raw: str) -> None:
    cleaned = clean_text(raw)
    assert cleaned == cleaned.strip()
    assert all(ch in "\n\t" or unicodedata.category(ch) not in ("Cc", "Cs", "Co") for ch in cleaned)
    assert len(cleaned) <= len(raw)


@given(st.integers(min_value=0, max_value=50))
def test_clean_text_limit(extra: int) -> None:
    raw = ("界" * (MAX_TEXT + extra))[: MAX_TEXT + extra]
    if extra == 0:
        assert clean_text(raw) == raw
    else:
        with pytest.raises(ValidationFailed, match="过长"):
            clean_text(raw)


async def test_a_close_committed_after_loading_refuses_the_report(
    session: AsyncSession, sessions, clock: FixedClock
) -> None:
    """The state is checked on the locked row, not on the copy the caller loaded earlier."""
    w = await build_world(session)
    a = w.a_document
    assert a.is_active  # what the caller (bot, web) saw when it loaded the assignment
    async with sessions() as other, other.begin():
        await other.execute(
            update(Assignment).where(Assignment.id == a.id).values(state=ItemState.CLOSED.value)
        )
    with pytest.raises(InvalidTransition, match="closed"):
        await file_report(session, assignment=a, author=w.owner, text="迟到的报告", clock=clock)
    await session.commit()
    assert await session.scalar(select(func.count()).select_from(Report)) == 0
