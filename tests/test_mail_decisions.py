"""Signing off and reviewing by replying to the request e-mail (same use-cases as the bot)."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from models import (
    Assignment,
    Extension,
    InboundOutcome,
    ItemState,
    Notification,
    NotificationStatus,
    Person,
    Report,
)
from models.report import ReviewState
from supervision.clock import FixedClock
from supervision.mail_replies import MailRef, MailResult
from supervision.requests import request_completion, request_extension
from testing import SHANGHAI
from testing.bot_world import build_world
from testing.mail_support import DOMAIN, Reply, replies


async def _request_mail(
    session: AsyncSession, kind: str, assignment: Assignment, to: Person, payload: dict[str, object]
) -> str:
    """A sent sign-off or review request e-mail; its Message-ID."""
    row = Notification(
        dedupe_key=f"{kind}:{assignment.id}:{to.id}:{len(payload)}:{sorted(payload)}",
        kind=kind,
        channel="email",
        assignment_id=assignment.id,
        item_id=assignment.item_id,
        recipient_id=to.id,
        address=to.email,
        status=NotificationStatus.SENT.value,
        not_before=datetime(2026, 11, 1, tzinfo=UTC),
        payload=payload,
    )
    session.add(row)
    await session.flush()
    row.provider_message_id = f"<notification-{row.id}@{DOMAIN}>"
    await session.commit()
    return row.provider_message_id


async def _reply(
    sessions: async_sessionmaker[AsyncSession], clock: FixedClock, reply: Reply, uid: int
) -> MailResult:
    async with sessions() as s, s.begin():
        return await replies(clock).handle(s, MailRef("INBOX", 1, uid), reply.raw())


async def test_the_principal_signs_off_and_the_office_approves_by_e_mail(
    session: AsyncSession, sessions: async_sessionmaker[AsyncSession], clock: FixedClock
) -> None:
    w = await build_world(session)
    report = await request_completion(
        session, assignment=w.a_instruction, person=w.owner, summary="整改完成", clock=clock
    )
    await session.commit()
    signoff = await _request_mail(
        session, "signoff_request", w.a_instruction, w.principal, {"report_id": report.id}
    )
    signed = await _reply(
        sessions,
        clock,
        Reply(w.principal.email or "", "签发", in_reply_to=signoff, message_id="<s@x>"),
        1,
    )
    assert (signed.outcome, signed.command, signed.report_id) == ("filed", "sign_off", report.id)
    review = await _request_mail(
        session,
        "review_request",
        w.a_instruction,
        w.supervisor,
        {"report_id": report.id, "pending": "completion"},
    )
    # The owner cannot approve their own request, even with the review e-mail's Message-ID.
    forged = await _reply(
        sessions,
        clock,
        Reply(w.owner.email or "", "同意", in_reply_to=review, message_id="<f@x>"),
        2,
    )
    assert forged.outcome == InboundOutcome.REFUSED and forged.reason and "无权" in forged.reason
    approved = await _reply(
        sessions,
        clock,
        Reply(
            w.supervisor.email or "",
            "同意。按期办结，效果良好。",
            in_reply_to=review,
            message_id="<a@x>",
        ),
        3,
    )
    assert (approved.outcome, approved.command) == ("filed", "review")
    async with sessions() as s:
        stored = await s.get_one(Report, report.id)
        assert (stored.review_state, stored.signed_off_by_id, stored.reviewed_by_id) == (
            ReviewState.APPROVED,
            w.principal.id,
            w.supervisor.id,
        )
        assert stored.review_comment == "按期办结，效果良好。"
        state = await s.scalar(select(Assignment.state).where(Assignment.id == w.a_instruction.id))
        assert state == ItemState.CLOSED
        answers = (
            await s.scalars(
                select(Notification)
                .where(Notification.kind == "mail_reply")
                .order_by(Notification.id)
            )
        ).all()
        assert [a.payload["outcome"] for a in answers] == ["filed", "refused", "filed"]


async def test_returning_an_extension_needs_a_comment_and_a_decision_word(
    session: AsyncSession, sessions: async_sessionmaker[AsyncSession], clock: FixedClock
) -> None:
    w = await build_world(session)
    extension = await request_extension(
        session,
        assignment=w.a_document,
        person=w.owner,
        reason="协调",
        progress="过半",
        new_due_on=datetime(2027, 1, 20).date(),
        clock=clock,
        tz=SHANGHAI,
    )
    await session.commit()
    review = await _request_mail(
        session,
        "review_request",
        w.a_document,
        w.supervisor,
        {"extension_id": extension.id, "pending": "extension"},
    )
    who = w.supervisor.email or ""
    bare = await _reply(
        sessions, clock, Reply(who, "退回", in_reply_to=review, message_id="<1@x>"), 1
    )
    assert bare.outcome == InboundOutcome.REFUSED and bare.reason and "意见" in bare.reason
    vague = await _reply(
        sessions, clock, Reply(who, "收到", in_reply_to=review, message_id="<2@x>"), 2
    )
    assert vague.outcome == InboundOutcome.REFUSED and vague.reason and "第一行" in vague.reason
    returned = await _reply(
        sessions,
        clock,
        Reply(who, "不同意：理由不充分，请按原时限完成", in_reply_to=review, message_id="<3@x>"),
        3,
    )
    assert (returned.outcome, returned.extension_id) == ("filed", extension.id)
    async with sessions() as s:
        stored = await s.get_one(Extension, extension.id)
        assert (stored.state, stored.comment) == (
            ReviewState.REJECTED,
            "理由不充分，请按原时限完成",
        )


async def test_a_refused_reply_is_answered_in_the_senders_language(
    session: AsyncSession, sessions: async_sessionmaker[AsyncSession], clock: FixedClock
) -> None:
    """The reason comes from the catalogue in the sender's locale (labels.Sentence), and the
    rule is the use-case's: 退回 without a reason changes nothing."""
    w = await build_world(session)
    w.supervisor.locale = "en"
    extension = await request_extension(
        session,
        assignment=w.a_document,
        person=w.owner,
        reason="协调",
        progress="过半",
        new_due_on=datetime(2027, 1, 20).date(),
        clock=clock,
        tz=SHANGHAI,
    )
    await session.commit()
    review = await _request_mail(
        session, "review_request", w.a_document, w.supervisor, {"extension_id": extension.id}
    )
    who = w.supervisor.email or ""
    bare = await _reply(
        sessions, clock, Reply(who, "退回", in_reply_to=review, message_id="<e1@x>"), 11
    )
    assert bare.outcome == InboundOutcome.REFUSED
    assert (
        bare.reason == "A rejection needs a reason: write it in the comment. Nothing was changed."
    )
    lost = await _reply(
        sessions, clock, Reply(who, "done", in_reply_to="<nothing@x>", message_id="<e2@x>"), 12
    )
    assert lost.reason is not None and lost.reason.startswith("We could not tell which reminder")
    async with sessions() as s:
        assert (await s.get_one(Extension, extension.id)).state == ReviewState.PENDING
