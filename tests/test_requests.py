"""Completion (with sign-off) and extension requests, and the office's decisions."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from models import AuditEvent, Item, ItemState, MessageKind, Notification
from models.report import ReviewState
from notifier.context import ContextConfig, build_context
from notifier.templating import CHANNELS, Renderer, sample_context
from supervision import labels
from supervision.calendar import WorkCalendar
from supervision.clock import FixedClock
from supervision.errors import InvalidTransition, NotAllowed, ValidationFailed
from supervision.reports import file_report
from supervision.requests import (
    decide_completion,
    decide_extension,
    grant_extension,
    request_completion,
    request_extension,
    sign_off,
)
from testing import SHANGHAI
from testing.bot_world import build_world


async def _outbox(session: AsyncSession) -> list[tuple[str, int | None, dict[str, object]]]:
    rows = (await session.scalars(select(Notification).order_by(Notification.id))).all()
    return [(n.kind, n.recipient_id, n.payload) for n in rows if n.channel == "telegram"]


async def test_instruction_completion_needs_signoff_then_review_closes(
    session: AsyncSession, clock: FixedClock
) -> None:
    w = await build_world(session)
    a = w.a_instruction
    report = await request_completion(
        session, assignment=a, person=w.owner, summary="已按批示完成整改", clock=clock
    )
    assert report.review_state == ReviewState.AWAITING_SIGNOFF
    assert a.state == ItemState.COMPLETION_REQUESTED
    assert await _outbox(session) == [("signoff_request", w.principal.id, {"report_id": report.id})]
    with pytest.raises(InvalidTransition):  # not before the principal signed off
        await decide_completion(
            session, report=report, reviewer=w.supervisor, approve=True, comment=None, clock=clock
        )
    with pytest.raises(NotAllowed):
        await sign_off(session, report=report, principal=w.owner, clock=clock)
    await sign_off(session, report=report, principal=w.principal, clock=clock)
    assert report.review_state == ReviewState.PENDING
    assert report.signed_off_by_id == w.principal.id
    assert (await _outbox(session))[-1] == (
        "review_request",
        w.supervisor.id,
        {"report_id": report.id, "pending": "completion"},
    )
    with pytest.raises(NotAllowed):
        await decide_completion(
            session, report=report, reviewer=w.owner, approve=True, comment=None, clock=clock
        )
    await decide_completion(
        session, report=report, reviewer=w.supervisor, approve=True, comment=None, clock=clock
    )
    await session.commit()
    assert a.state == ItemState.CLOSED and a.next_action_at is None
    item = await session.get_one(Item, w.instruction.id)
    assert item.state == ItemState.CLOSED
    assert (await _outbox(session))[-1][:2] == ("review_outcome", w.owner.id)
    with pytest.raises(InvalidTransition):  # a second decision on the same report
        await decide_completion(
            session, report=report, reviewer=w.supervisor, approve=False, comment="x", clock=clock
        )
    actions = (await session.scalars(select(AuditEvent.action))).all()
    assert {"signed_off", "reviewed", "transition"} <= set(actions)


async def test_rejected_completion_reopens_and_needs_a_comment(
    session: AsyncSession, clock: FixedClock
) -> None:
    w = await build_world(session)
    a = w.a_document
    report = await request_completion(
        session, assignment=a, person=w.liaison, summary="完成", clock=clock
    )
    assert report.review_state == ReviewState.PENDING  # not an instruction: no sign-off
    for nothing in (" ", "……", "\u200b", "。！"):  # a reason needs a letter or a digit
        with pytest.raises(ValidationFailed) as refused:
            await decide_completion(
                session,
                report=report,
                reviewer=w.supervisor,
                approve=False,
                comment=nothing,
                clock=clock,
            )
        assert labels.told(refused.value) == labels.say(labels.Sentence.REASON_REQUIRED)
        assert labels.told(refused.value, "en").startswith("A rejection needs a reason")
    assert a.state == ItemState.COMPLETION_REQUESTED
    reviewed = select(AuditEvent).where(
        AuditEvent.entity == "report",
        AuditEvent.entity_id == report.id,
        AuditEvent.action == "reviewed",
    )
    assert (await session.scalars(reviewed)).all() == []  # the refusal changed nothing
    await decide_completion(
        session,
        report=report,
        reviewer=w.supervisor,
        approve=False,
        comment="缺少验收材料",
        clock=clock,
    )
    [event] = (await session.scalars(reviewed)).all()
    assert (event.from_state, event.to_state) == ("pending", "rejected")
    assert event.detail == {"comment": "缺少验收材料"}
    assert a.state == ItemState.OPEN and report.review_comment == "缺少验收材料"
    assert a.next_action_at is not None
    assert (await _outbox(session))[-1] == (
        "review_outcome",
        w.liaison.id,
        {"report_id": report.id, "subject": "completion", "decision": "rejected"},
    )


async def test_completion_twice_is_refused(session: AsyncSession, clock: FixedClock) -> None:
    w = await build_world(session)
    await request_completion(
        session, assignment=w.a_document, person=w.owner, summary="完成", clock=clock
    )
    with pytest.raises(InvalidTransition):
        await request_completion(
            session, assignment=w.a_document, person=w.owner, summary="再次", clock=clock
        )


async def test_extension_approved_moves_deadline_and_reschedules(
    session: AsyncSession, clock: FixedClock
) -> None:
    w = await build_world(session)
    a = w.a_document  # due 2026-12-21; the urge step (-1 working day) is next on 12-15
    clock.set(datetime(2026, 12, 15, 9, 0, tzinfo=SHANGHAI))
    await file_report(session, assignment=a, author=w.owner, text="进展", clock=clock)
    before = a.next_action_at
    assert before is not None and before < datetime(2026, 12, 21, tzinfo=SHANGHAI)
    ext = await request_extension(
        session,
        assignment=a,
        person=w.owner,
        reason="需等待上级批复",
        progress="方案已完成",
        new_due_on=date(2027, 1, 29),
        clock=clock,
        tz=SHANGHAI,
    )
    assert (await _outbox(session))[-1] == (
        "review_request",
        w.supervisor.id,
        {"extension_id": ext.id, "pending": "extension"},
    )
    await decide_extension(
        session, extension=ext, reviewer=w.supervisor, approve=True, comment=None, clock=clock
    )
    await session.commit()
    assert a.due_on == date(2027, 1, 29) and ext.state == ReviewState.APPROVED
    # The deadline ladder moved with due_on: next is the periodic report, not the old urge.
    assert a.next_action_at is not None and a.next_action_at > before
    assert a.next_action_at > datetime(2026, 12, 25, tzinfo=SHANGHAI)
    moved = await session.scalar(select(AuditEvent).where(AuditEvent.action == "due_moved"))
    assert moved is not None and moved.detail["to"] == "2027-01-29"


async def test_extension_rules(session: AsyncSession, clock: FixedClock) -> None:
    w = await build_world(session)
    a = w.a_document  # due 2026-12-21
    kw = {"assignment": a, "reason": "原因", "progress": "进展", "clock": clock, "tz": SHANGHAI}
    with pytest.raises(ValidationFailed):  # not later than the current deadline
        await request_extension(session, person=w.owner, new_due_on=a.due_on, **kw)  # type: ignore[arg-type]
    with pytest.raises(ValidationFailed):  # a reason is required
        await request_extension(
            session,
            person=w.owner,
            new_due_on=date(2027, 1, 5),
            **{**kw, "reason": " "},  # type: ignore[arg-type]
        )
    with pytest.raises(ValidationFailed, match="目前进展"):  # so is the progress (seed 四(二))
        await request_extension(
            session,
            person=w.owner,
            new_due_on=date(2027, 1, 5),
            **{**kw, "progress": " "},  # type: ignore[arg-type]
        )
    with pytest.raises(NotAllowed):
        await request_extension(session, person=w.outsider, new_due_on=date(2027, 1, 5), **kw)  # type: ignore[arg-type]
    ext = await request_extension(session, person=w.owner, new_due_on=date(2027, 1, 5), **kw)  # type: ignore[arg-type]
    with pytest.raises(ValidationFailed):  # one pending request at a time
        await request_extension(session, person=w.owner, new_due_on=date(2027, 1, 6), **kw)  # type: ignore[arg-type]
    with pytest.raises(NotAllowed):
        await decide_extension(
            session, extension=ext, reviewer=w.owner, approve=True, comment=None, clock=clock
        )
    await decide_extension(
        session, extension=ext, reviewer=w.supervisor, approve=False, comment="不同意", clock=clock
    )
    assert a.due_on == date(2026, 12, 21) and ext.state == ReviewState.REJECTED
    clock.set(datetime(2026, 12, 22, 9, 0, tzinfo=SHANGHAI))  # the deadline has passed
    with pytest.raises(ValidationFailed):
        await request_extension(session, person=w.owner, new_due_on=date(2027, 1, 5), **kw)  # type: ignore[arg-type]


async def test_extension_on_the_due_day_is_allowed(
    session: AsyncSession, clock: FixedClock
) -> None:
    w = await build_world(session)
    clock.set(datetime(2026, 12, 21, 17, 0, tzinfo=SHANGHAI))
    ext = await request_extension(
        session,
        assignment=w.a_document,
        person=w.owner,
        reason="原因",
        progress="进展",
        new_due_on=w.a_document.due_on + timedelta(days=7),
        clock=clock,
        tz=SHANGHAI,
    )
    assert ext.state == ReviewState.PENDING


async def test_instruction_without_a_principal_goes_straight_to_the_office(
    session: AsyncSession, clock: FixedClock
) -> None:
    w = await build_world(session)
    w.principal.active = False
    report = await request_completion(
        session, assignment=w.a_instruction, person=w.owner, summary="完成", clock=clock
    )
    assert report.review_state == ReviewState.PENDING
    assert (await _outbox(session))[-1][:2] == ("review_request", w.supervisor.id)
    skipped = await session.scalar(select(AuditEvent).where(AuditEvent.action == "signoff_skipped"))
    assert skipped is not None and skipped.entity_id == report.id


async def test_an_extension_the_office_gives_tells_the_unit_in_words(
    session: AsyncSession, clock: FixedClock
) -> None:
    """A batch 延期 has no requester: the assignment's owner hears of it (期限调整通知), on
    the chat and by e-mail, in their language; without an owner, the unit's liaisons."""
    w = await build_world(session)
    w.owner.locale = "en"
    for assignment, told in ((w.a_document, w.owner), (w.a_instruction, w.liaison)):
        if told is w.liaison:
            assignment.owner_id = None
        ext = await grant_extension(
            session,
            assignment=assignment,
            reviewer=w.supervisor,
            new_due_on=date(2027, 1, 29),
            reason="汛期施工顺延",
            clock=clock,
            tz=SHANGHAI,
        )
        rows = (
            await session.scalars(
                select(Notification).where(
                    Notification.kind == MessageKind.DUE_MOVED,
                    Notification.assignment_id == assignment.id,
                )
            )
        ).all()
        assert {(r.recipient_id, r.channel) for r in rows} == {
            (told.id, "telegram"),
            (told.id, "email"),
        }
        assert all(r.payload == {"extension_id": ext.id} for r in rows)
        await session.commit()
        for row in rows:
            built = await build_context(
                session, row, config=ContextConfig(), clock=clock, calendar=WorkCalendar()
            )
            message = await Renderer().render(
                built.template_step, row.channel, row.locale, built.context
            )
            assert "汛期施工顺延" in message.text
            if row.locale == "en":
                assert "Deadline changed" in message.text and "to Fri 29 Jan 2027" in message.text
            else:
                assert "期限调整通知" in message.text and "调整为2027年1月29日" in message.text
    # Nobody asked for it: no review outcome goes to anyone.
    outcomes = await session.scalars(
        select(Notification.id).where(Notification.kind == MessageKind.REVIEW_OUTCOME)
    )
    assert outcomes.all() == []


@pytest.mark.parametrize("channel", CHANNELS)
@pytest.mark.parametrize("locale", ["zh", "en"])
async def test_the_deadline_notice_reads_on_every_channel(channel: str, locale: str) -> None:
    context = sample_context("due_moved", locale=locale)
    message = await Renderer().render("due_moved", channel, locale, context)
    moved = (
        ("2026年11月12日", "2026年12月10日") if locale == "zh" else ("12 Nov 2026", "10 Dec 2026")
    )
    assert all(day in message.text for day in moved)
    assert ("燃气管线" if locale == "zh" else "gas-pipe") in message.text
    if message.subject is not None:
        assert ("期限调整" if locale == "zh" else "Deadline changed") in message.subject
