"""End to end: the review and sign-off requests the notifier delivers carry their own buttons.

同意 / 退回 under a review request and 签发 under a sign-off request; every press is re-checked
(who presses, whether the request is still pending) and a decided request loses its buttons.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from aiogram.filters.callback_data import CallbackData
from sqlalchemy import func, select

from models import (
    Assignment,
    AuditEvent,
    Extension,
    Notification,
    NotificationStatus,
    Person,
    Report,
)
from models.report import ReviewState
from notifier.channels.base import OutgoingMessage
from notifier.channels.telegram import (
    APPROVE,
    COMPLETION,
    EXTENSION,
    REJECT,
    AssignmentAction,
    ReviewAction,
    SignoffAction,
    keyboard_for,
)
from supervision.requests import request_completion, request_extension
from testing import SHANGHAI
from testing.bot_harness import Harness
from testing.bot_world import OWNER_TG, PRINCIPAL_TG, SUPERVISOR_TG, World
from testing.fakes.telegram import CALLBACK_DATA_LIMIT, SentMessage


async def deliver_request(h: Harness, person: Person, kind: str) -> SentMessage:
    """Deliver the one queued Telegram row of ``kind`` for ``person`` written by the domain."""
    assert person.telegram_chat_id is not None
    async with h.sessions() as session:
        [row_id] = (
            await session.scalars(
                select(Notification.id).where(
                    Notification.recipient_id == person.id,
                    Notification.kind == kind,
                    Notification.channel == "telegram",
                    Notification.status == NotificationStatus.PENDING.value,
                )
            )
        ).all()
    return await h.deliver(person, row_id)


def buttons(message: SentMessage) -> dict[str, str]:
    """Button text -> callback data under a delivered message."""
    assert message.reply_markup is not None
    return {
        b["text"]: b["callback_data"]
        for row in message.reply_markup["inline_keyboard"]
        for b in row
    }


async def press(h: Harness, user: int, message: SentMessage, data: str) -> str:
    """Press a button with ``data`` under ``message``; the text of the answer (or "")."""
    answered = len(h.fake.answers)
    await h.feed(h.fake.make_callback_query(user, message, data))
    assert len(h.fake.answers) == answered + 1  # every press is answered
    return str(h.fake.answers[-1].get("text", ""))


def keyboard_gone(h: Harness, message: SentMessage) -> bool:
    return "reply_markup" not in h.fake.message(message.chat_id, message.message_id)


async def snapshot(h: Harness) -> tuple[list[tuple[int, str]], list[str], list[str], int, int]:
    """Everything a press could change: assignments, reports, extensions, audit, outbox."""
    async with h.sessions() as session:
        assignments = [
            (a.id, a.state)
            for a in (await session.scalars(select(Assignment).order_by(Assignment.id))).all()
        ]
        reports = list(
            (await session.scalars(select(Report.review_state).order_by(Report.id))).all()
        )
        extensions = list(
            (await session.scalars(select(Extension.state).order_by(Extension.id))).all()
        )
        audit = await session.scalar(select(func.count()).select_from(AuditEvent))
        outbox = await session.scalar(select(func.count()).select_from(Notification))
    return assignments, reports, extensions, int(audit or 0), int(outbox or 0)


async def _complete(h: Harness, world: World, assignment: Assignment, text: str) -> int:
    async with h.sessions() as session:
        report = await request_completion(
            session,
            assignment=await session.get_one(Assignment, assignment.id),
            person=await session.get_one(Person, world.owner.id),
            summary=text,
            clock=h.clock,
        )
        await session.commit()
        return report.id


async def _extend(h: Harness, world: World) -> int:
    async with h.sessions() as session:
        ext = await request_extension(
            session,
            assignment=await session.get_one(Assignment, world.a_document.id),
            person=await session.get_one(Person, world.owner.id),
            reason="需等待省厅批复",
            progress="方案已报送",
            new_due_on=date(2027, 1, 29),
            clock=h.clock,
            tz=SHANGHAI,
        )
        await session.commit()
        return ext.id


async def test_approve_under_a_delivered_review_request_closes_and_tells_the_owner(
    h: Harness, world: World
) -> None:
    report_id = await _complete(h, world, world.a_document, "项目已全部完成")
    request = await deliver_request(h, world.supervisor, "review_request")
    assert buttons(request) == {
        "同意": ReviewAction(decision=APPROVE, subject=COMPLETION, subject_id=report_id).pack(),
        "退回": ReviewAction(decision=REJECT, subject=COMPLETION, subject_id=report_id).pack(),
    }

    await press(h, SUPERVISOR_TG, request, buttons(request)["同意"])
    async with h.sessions() as session:
        assignment = await session.get_one(Assignment, world.a_document.id)
        report = await session.get_one(Report, report_id)
    assert assignment.state == "closed"
    assert report.review_state == ReviewState.APPROVED
    assert report.reviewed_by_id == world.supervisor.id
    assert keyboard_gone(h, request)
    assert h.fake.edits[-1].method == "editMessageReplyMarkup"
    assert "已同意" in h.last_text(SUPERVISOR_TG)
    outcome = await deliver_request(h, world.owner, "review_outcome")
    assert outcome.chat_id == OWNER_TG

    # The same button pressed again (a second supervisor's copy, a double tap): nothing changes.
    before = await snapshot(h)
    answer = await press(h, SUPERVISOR_TG, request, buttons(request)["同意"])
    assert "失效" in answer
    assert await snapshot(h) == before


async def test_reject_under_an_extension_request_asks_for_a_comment(
    h: Harness, world: World
) -> None:
    ext_id = await _extend(h, world)
    request = await deliver_request(h, world.supervisor, "review_request")
    assert set(buttons(request)) == {"同意", "退回"}
    assert (
        buttons(request)["退回"]
        == ReviewAction(decision=REJECT, subject=EXTENSION, subject_id=ext_id).pack()
    )

    await press(h, SUPERVISOR_TG, request, buttons(request)["退回"])
    assert "退回意见" in h.last_text(SUPERVISOR_TG)
    async with h.sessions() as session:
        assert (await session.get_one(Extension, ext_id)).state == ReviewState.PENDING
    assert not keyboard_gone(h, request)  # undecided until the comment comes

    await h.feed(h.fake.make_private_message(SUPERVISOR_TG, "理由不充分，请按期完成"))
    async with h.sessions() as session:
        ext = await session.get_one(Extension, ext_id)
        assignment = await session.get_one(Assignment, world.a_document.id)
    assert ext.state == ReviewState.REJECTED
    assert ext.comment == "理由不充分，请按期完成"
    assert ext.decided_by_id == world.supervisor.id
    assert assignment.due_on == date(2026, 12, 21)
    assert "已退回" in h.last_text(SUPERVISOR_TG)
    assert keyboard_gone(h, request)
    outcome = await deliver_request(h, world.owner, "review_outcome")
    assert outcome.chat_id == OWNER_TG

    before = await snapshot(h)
    assert "失效" in await press(h, SUPERVISOR_TG, request, buttons(request)["同意"])
    assert "失效" in await press(h, SUPERVISOR_TG, request, buttons(request)["退回"])
    assert await snapshot(h) == before


async def test_signoff_button_under_a_delivered_request_forwards_to_review(
    h: Harness, world: World
) -> None:
    report_id = await _complete(h, world, world.a_instruction, "整改已全部完成")
    request = await deliver_request(h, world.principal, "signoff_request")
    assert buttons(request) == {"签发": SignoffAction(report_id=report_id).pack()}

    # Neither the owner nor a supervisor may sign off for the unit.
    before = await snapshot(h)
    for user in (OWNER_TG, SUPERVISOR_TG):
        assert "无权" in await press(h, user, request, buttons(request)["签发"])
    assert await snapshot(h) == before

    await press(h, PRINCIPAL_TG, request, buttons(request)["签发"])
    async with h.sessions() as session:
        report = await session.get_one(Report, report_id)
    assert report.review_state == ReviewState.PENDING
    assert report.signed_off_by_id == world.principal.id
    assert keyboard_gone(h, request)
    assert "已签发" in h.last_text(PRINCIPAL_TG)

    review = await deliver_request(h, world.supervisor, "review_request")
    assert (
        buttons(review)["同意"]
        == ReviewAction(decision=APPROVE, subject=COMPLETION, subject_id=report_id).pack()
    )
    await press(h, SUPERVISOR_TG, review, buttons(review)["同意"])
    async with h.sessions() as session:
        assert (await session.get_one(Assignment, world.a_instruction.id)).state == "closed"

    before = await snapshot(h)
    assert "失效" in await press(h, PRINCIPAL_TG, request, buttons(request)["签发"])
    assert await snapshot(h) == before


async def test_forged_review_buttons_change_nothing(h: Harness, world: World) -> None:
    report_id = await _complete(h, world, world.a_document, "已完成")
    request = await deliver_request(h, world.supervisor, "review_request")
    # The owner forges the supervisor's buttons under a message of their own.
    await h.feed(h.fake.make_private_message(OWNER_TG, "/help"))
    own = h.fake.sent_to(OWNER_TG)[-1]
    before = await snapshot(h)
    for data in buttons(request).values():
        assert "无权" in await press(h, OWNER_TG, own, data)
    assert "无权" in await press(
        h, PRINCIPAL_TG, request, buttons(request)["同意"]
    )  # a principal is no reviewer
    assert await snapshot(h) == before
    async with h.sessions() as session:
        assert (await session.get_one(Report, report_id)).review_state == ReviewState.PENDING
    # The owner's Return started no comment dialog: their next text is not a rejection.
    await h.feed(h.fake.make_private_message(OWNER_TG, "随便说一句"))
    async with h.sessions() as session:
        assert (await session.get_one(Report, report_id)).review_state == ReviewState.PENDING
    assert not keyboard_gone(h, request)
    # Unknown codes inside a well-formed prefix are expired, not guessed at.
    for data in (f"v:z:c:{report_id}", f"v:a:q:{report_id}", "v:a:c:999999", "s:999999"):
        assert "失效" in await press(h, SUPERVISOR_TG, request, data)
    assert await snapshot(h) == before


async def test_english_supervisor_gets_english_buttons(h: Harness, world: World) -> None:
    async with h.sessions() as session:
        (await session.get_one(Person, world.supervisor.id)).locale = "en"
        await session.commit()
    ext_id = await _extend(h, world)
    request = await deliver_request(h, world.supervisor, "review_request")
    assert buttons(request) == {
        "Approve": ReviewAction(decision=APPROVE, subject=EXTENSION, subject_id=ext_id).pack(),
        "Return": ReviewAction(decision=REJECT, subject=EXTENSION, subject_id=ext_id).pack(),
    }
    await press(h, SUPERVISOR_TG, request, buttons(request)["Approve"])
    async with h.sessions() as session:
        ext = await session.get_one(Extension, ext_id)
        assignment = await session.get_one(Assignment, world.a_document.id)
    assert ext.state == ReviewState.APPROVED
    assert assignment.due_on == date(2027, 1, 29)
    assert keyboard_gone(h, request)


MAX_ID = 2**63 - 1  # the largest id any of our integer keys can hold (BIGINT)


@pytest.mark.parametrize(
    "data",
    [
        *(
            ReviewAction(decision=d, subject=s, subject_id=i)
            for d in (APPROVE, REJECT)
            for s in (COMPLETION, EXTENSION)
            for i in (MAX_ID, -MAX_ID - 1)
        ),
        SignoffAction(report_id=MAX_ID),
        SignoffAction(report_id=-MAX_ID - 1),
        *(AssignmentAction(action=a, assignment_id=MAX_ID) for a in ("r", "c", "e")),
    ],
    ids=repr,
)
def test_every_callback_data_fits_telegrams_64_bytes(data: CallbackData) -> None:
    packed = data.pack()
    assert 1 <= len(packed.encode()) <= CALLBACK_DATA_LIMIT == 64
    assert type(data).unpack(packed) == data


def _message(kind: str, payload: dict[str, Any], **extra: Any) -> OutgoingMessage:
    return OutgoingMessage(
        notification_id=1,
        kind=kind,
        channel="telegram",
        address="1",
        text="x",
        payload=payload,
        **extra,
    )


def _datas(message: OutgoingMessage) -> list[str]:
    markup = keyboard_for(message)
    if markup is None:
        return []
    return [str(b.callback_data) for row in markup.inline_keyboard for b in row]


def test_buttons_are_built_from_the_rows_kind_and_payload() -> None:
    review = {"report_id": 7, "pending": "completion"}
    assert _datas(_message("review_request", review)) == ["v:a:c:7", "v:r:c:7"]
    assert _datas(_message("review_request", {"extension_id": "9"})) == ["v:a:x:9", "v:r:x:9"]
    assert _datas(_message("signoff_request", {"report_id": 7})) == ["s:7"]
    assert _datas(_message("remind", {}, assignment_id=3, buttons=True)) == [
        "a:r:3",
        "a:c:3",
        "a:e:3",
    ]
    # A payload without a usable id gets no buttons rather than a broken one.
    for payload in ({}, {"report_id": None}, {"report_id": "abc"}, {"report_id": True}):
        assert _datas(_message("review_request", payload)) == []
        assert _datas(_message("signoff_request", payload)) == []
    assert _datas(_message("review_outcome", review)) == []
    assert _datas(_message("remind", {}, assignment_id=3, buttons=False)) == []


async def test_a_return_whose_comment_says_nothing_is_refused_and_changes_nothing(
    h: Harness, world: World
) -> None:
    """退回 needs a reason (supervision.requests): "……" is none; the dialog stays open."""
    ext_id = await _extend(h, world)
    request = await deliver_request(h, world.supervisor, "review_request")
    await press(h, SUPERVISOR_TG, request, buttons(request)["退回"])
    before = await snapshot(h)
    await h.feed(h.fake.make_private_message(SUPERVISOR_TG, "……"))
    assert "退回须填写理由" in h.last_text(SUPERVISOR_TG)
    assert await snapshot(h) == before
    async with h.sessions() as session:
        assert (await session.get_one(Extension, ext_id)).state == ReviewState.PENDING
    assert not keyboard_gone(h, request)

    await h.feed(h.fake.make_private_message(SUPERVISOR_TG, "请先报送调研材料"))
    async with h.sessions() as session:
        ext = await session.get_one(Extension, ext_id)
    assert (ext.state, ext.comment) == (ReviewState.REJECTED, "请先报送调研材料")
