"""`supervision.timeline`: an item's history as typed entries, in order, within a scope."""

from __future__ import annotations

from datetime import date, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from models import AssignmentRole, DeliveryAttempt, Notification, Person, ReviewState, Role
from supervision.access import scope_for
from supervision.audit import Actor
from supervision.errors import NotFound
from supervision.lifecycle import cancel_item
from supervision.reports import AttachmentIn, file_report
from supervision.requests import decide_extension, request_extension
from supervision.timeline import EntryKind, FileRef, item_timeline
from testing import factories as f

TZ = ZoneInfo("Asia/Shanghai")


async def _scope(session, person: Person):
    return await scope_for(session, await session.get_one(Person, person.id))


async def test_every_kind_of_event_in_order_with_codes(session, clock):
    lead_unit = await f.unit(session, code="A", name="甲局")
    co_unit = await f.unit(session, code="B", name="乙局")
    owner = await f.person(session, name="李四", unit=lead_unit, roles={Role.OWNER})
    sup = await f.person(session, name="王五", roles={Role.SUPERVISOR})
    item = await f.item(session, ref="T-1", due_on=date(2026, 12, 14))
    lead = await f.assignment(session, item=item, unit=lead_unit, owner=owner)
    await f.assignment(session, item=item, unit=co_unit, role=AssignmentRole.CO)

    clock.advance(timedelta(minutes=1))
    report = await file_report(
        session,
        assignment=lead,
        author=owner,
        text="已完成调研",
        clock=clock,
        channel="web",
        attachments=[AttachmentIn(file_id="web-1", file_name="方案.docx", storage="db")],
    )
    clock.advance(timedelta(minutes=1))
    ext = await request_extension(
        session,
        assignment=lead,
        person=owner,
        reason="需协调省直部门",
        progress="已完成初稿",
        new_due_on=date(2026, 12, 31),
        clock=clock,
        tz=TZ,
        channel="api",
    )
    clock.advance(timedelta(minutes=1))
    await decide_extension(
        session, extension=ext, reviewer=sup, approve=True, comment="同意", clock=clock
    )
    message = await session.scalar(select(Notification).order_by(Notification.id).limit(1))
    assert message is not None  # the reviewers were told of the request
    clock.advance(timedelta(minutes=1))
    session.add(
        DeliveryAttempt(
            notification_id=message.id,
            channel=message.channel,
            started_at=clock.now(),
            outcome="transient",
            error="timeout",
        )
    )
    await session.flush()

    entries = await item_timeline(session, scope=await _scope(session, sup), item_id=item.id)

    assert [e.at for e in entries] == sorted(e.at for e in entries)
    kinds = {e.kind for e in entries}
    assert kinds == {
        EntryKind.AUDIT,
        EntryKind.NOTIFICATION,
        EntryKind.ATTEMPT,
        EntryKind.REPORT,
        EntryKind.EXTENSION,
        EntryKind.REVIEW,
    }
    filed = next(e for e in entries if e.kind is EntryKind.REPORT)
    assert (filed.subject, filed.number, filed.channel, filed.detail, filed.who) == (
        "progress",
        1,
        "web",
        "已完成调研",
        "李四",
    )
    assert (filed.assignment_id, filed.unit_name, filed.entity_id) == (lead.id, "甲局", report.id)
    assert filed.files == (FileRef(report.attachments[0].id, "方案.docx", stored_here=True),)
    asked = next(e for e in entries if e.kind is EntryKind.EXTENSION)
    assert (asked.old_due_on, asked.new_due_on, asked.detail, asked.channel) == (
        date(2026, 12, 14),
        date(2026, 12, 31),
        "需协调省直部门",
        "api",
    )
    decided = next(e for e in entries if e.kind is EntryKind.REVIEW)
    assert (decided.subject, decided.status, decided.detail, decided.who) == (
        "extension",
        ReviewState.APPROVED,
        "同意",
        "王五",
    )
    attempt = next(e for e in entries if e.kind is EntryKind.ATTEMPT)
    assert (attempt.status, attempt.detail, attempt.entity_id) == (
        "transient",
        "timeout",
        message.id,
    )
    # the audit trail names what changed, by code; the deadline move belongs to the assignment
    subjects = [e.subject for e in entries if e.kind is EntryKind.AUDIT]
    assert "report:filed" in subjects and "assignment:due_moved" in subjects
    moved = next(e for e in entries if e.subject == "assignment:due_moved")
    assert (moved.assignment_id, moved.unit_name) == (lead.id, "甲局")
    on_report = next(e for e in entries if e.subject == "report:filed")
    assert on_report.assignment_id == lead.id  # audit of a report points at its assignment


async def test_a_cancellation_reason_and_its_states(session, clock):
    unit = await f.unit(session)
    sup = await f.person(session, roles={Role.SUPERVISOR})
    item = await f.item(session)
    await f.assignment(session, item=item, unit=unit)
    clock.advance(timedelta(minutes=1))
    await cancel_item(session, item, actor=Actor.of(sup), clock=clock, reason="重复立项")
    entries = await item_timeline(session, scope=await _scope(session, sup), item_id=item.id)
    cancelled = [e for e in entries if e.kind is EntryKind.AUDIT and e.state_to == "cancelled"]
    assert cancelled and cancelled[0].state_from == "open"
    assert any(e.detail == "重复立项" for e in cancelled)


async def test_out_of_scope_or_missing_is_not_found(session, clock):
    mine = await f.unit(session)
    theirs = await f.unit(session)
    liaison = await f.person(session, unit=mine, roles={Role.LIAISON})
    item = await f.item(session)
    await f.assignment(session, item=item, unit=theirs)
    scope = await _scope(session, liaison)
    with pytest.raises(NotFound):
        await item_timeline(session, scope=scope, item_id=item.id)
    with pytest.raises(NotFound):
        await item_timeline(session, scope=scope, item_id=item.id + 1000)
    visible = await f.item(session)
    await f.assignment(session, item=visible, unit=mine)
    assert await item_timeline(session, scope=scope, item_id=visible.id) == []
