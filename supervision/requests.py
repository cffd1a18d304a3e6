"""Asking to close (申请办结) and for more time (申请延期), sign-off and the office's review.

Seed 四(二): completion and extension requests go to the supervision office; seed 二(二): a
completion report on a leader's instruction (领导批示) is signed off by the unit's principal
first. Imports only `models/` and `supervision/`; I/O goes through the session it is given.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from datetime import date
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from models import (
    Assignment,
    Extension,
    Item,
    ItemState,
    MessageKind,
    Origin,
    Person,
    Report,
    ReportKind,
    Source,
    StepChannel,
)
from models.report import ReviewState
from supervision.access import Action, assignment_people, require, reviewers, unit_principals
from supervision.audit import Actor, record
from supervision.clock import Clock, local_today
from supervision.errors import InvalidTransition, NotAllowed, ValidationFailed
from supervision.labels import Problem, Sentence, refusal, refusals
from supervision.lead_extension import follow_lead_extension
from supervision.lifecycle import transition_assignment
from supervision.outbox import notify_person
from supervision.reports import AttachmentIn, clean_text, file_report
from supervision.schedule import reschedule

__all__ = [
    "CHANNELS",
    "MAX_COMMENT",
    "decide_completion",
    "decide_extension",
    "grant_extension",
    "may_extend",
    "reason_of",
    "request_completion",
    "request_extension",
    "sign_off",
]

CHANNELS = (StepChannel.CHAT, StepChannel.EMAIL)
MAX_COMMENT = 2000
MAX_REASON = 4000


async def _notify_all(
    session: AsyncSession,
    people: Sequence[Person],
    *,
    kind: str,
    key: str,
    assignment: Assignment,
    clock: Clock,
    payload: dict[str, object],
) -> list[int]:
    ids: list[int] = []
    for person in people:
        ids += await notify_person(
            session,
            person=person,
            kind=kind,
            key=key,
            channels=CHANNELS,
            not_before=clock.now(),
            now=clock.now(),
            assignment_id=assignment.id,
            item_id=assignment.item_id,
            payload=dict(payload),
        )
    return ids


async def request_completion(
    session: AsyncSession,
    *,
    assignment: Assignment,
    person: Person,
    summary: str | None,
    clock: Clock,
    attachments: Sequence[AttachmentIn] = (),
    channel: Origin = Origin.CHAT,
    chat_id: int | None = None,
    chat_message_id: int | None = None,
    media_group_id: str | None = None,
) -> Report:
    """File a completion report; it goes to the principal for sign-off, or to the office."""
    require(person, Action.REPORT, assignment)
    if assignment.state != ItemState.OPEN:
        raise refusal(InvalidTransition, Sentence.COMPLETION_ALREADY_ASKED)
    if not clean_text(summary) and not attachments:
        raise refusal(ValidationFailed, Sentence.SUMMARY_REQUIRED)
    item = await session.get_one(Item, assignment.item_id)
    principals = (
        await unit_principals(session, assignment.unit_id)
        if item.source == Source.INSTRUCTION
        else []
    )
    # A unit without a registered principal cannot sign off: the office gets it directly
    # (the audit trail says so) rather than the request waiting for nobody.
    needs_signoff = bool(principals)
    state = ReviewState.AWAITING_SIGNOFF if needs_signoff else ReviewState.PENDING
    report = await file_report(
        session,
        assignment=assignment,
        author=person,
        text=summary,
        clock=clock,
        attachments=attachments,
        kind=ReportKind.COMPLETION,
        channel=channel,
        chat_id=chat_id,
        chat_message_id=chat_message_id,
        review_state=state,
        media_group_id=media_group_id,
    )
    await transition_assignment(
        session,
        assignment,
        ItemState.COMPLETION_REQUESTED,
        actor=Actor.of(person),
        clock=clock,
        reason=f"report {report.id}",
    )
    if item.source == Source.INSTRUCTION and not needs_signoff:
        record(
            session,
            clock=clock,
            actor=Actor.of(person),
            entity="report",
            entity_id=report.id,
            action="signoff_skipped",
            detail={"reason": "the unit has no active principal"},
        )
    if needs_signoff:
        await _notify_all(
            session,
            principals,
            kind="signoff_request",
            key=f"r{report.id}:signoff",
            assignment=assignment,
            clock=clock,
            payload={"report_id": report.id},
        )
    else:
        await _notify_reviewers(session, assignment, clock, {"report_id": report.id}, report.id)
    return report


async def report_or_request_completion(
    session: AsyncSession,
    *,
    kind: ReportKind,
    assignment: Assignment,
    person: Person,
    text: str | None,
    clock: Clock,
    attachments: Sequence[AttachmentIn] = (),
    channel: Origin,
    milestone_id: int | None = None,
) -> Report:
    """What a person files in one go from a form or an e-mail: a completion report asks to
    close (:func:`request_completion`), anything else is a report (:func:`file_report`, which
    may name a milestone)."""
    if kind == ReportKind.COMPLETION:
        return await request_completion(
            session,
            assignment=assignment,
            person=person,
            summary=text,
            clock=clock,
            attachments=attachments,
            channel=channel,
        )
    return await file_report(
        session,
        assignment=assignment,
        author=person,
        text=text,
        clock=clock,
        attachments=attachments,
        kind=kind,
        channel=channel,
        milestone_id=milestone_id,
    )


async def _notify_reviewers(
    session: AsyncSession,
    assignment: Assignment,
    clock: Clock,
    payload: dict[str, object],
    report_id: int | None = None,
    extension_id: int | None = None,
) -> None:
    key = f"r{report_id}:review" if report_id is not None else f"x{extension_id}:review"
    pending = "completion" if report_id is not None else "extension"
    await _notify_all(
        session,
        await reviewers(session),
        kind="review_request",
        key=key,
        assignment=assignment,
        clock=clock,
        payload={**payload, "pending": pending},
    )


async def sign_off(
    session: AsyncSession, *, report: Report, principal: Person, clock: Clock
) -> Report:
    """The unit's principal signs off a completion report (签发); it then goes to the office."""
    assignment = await session.get_one(Assignment, report.assignment_id)
    require(principal, Action.SIGN_OFF, assignment)
    if report.review_state != ReviewState.AWAITING_SIGNOFF or not assignment.is_active:
        raise refusal(InvalidTransition, Sentence.NOTHING_TO_SIGN_OFF)
    report.review_state = ReviewState.PENDING
    report.signed_off_by_id = principal.id
    report.signed_off_at = clock.now()
    record(
        session,
        clock=clock,
        actor=Actor.of(principal),
        entity="report",
        entity_id=report.id,
        action="signed_off",
        from_state=ReviewState.AWAITING_SIGNOFF,
        to_state=ReviewState.PENDING,
    )
    await _notify_reviewers(session, assignment, clock, {"report_id": report.id}, report.id)
    await session.flush()
    return report


async def request_extension(
    session: AsyncSession,
    *,
    assignment: Assignment,
    person: Person,
    reason: str,
    progress: str,
    new_due_on: date,
    clock: Clock,
    tz: ZoneInfo,
    channel: Origin = Origin.CHAT,
) -> Extension:
    """Ask for a later deadline: only before the current one passes, and only to a later day."""
    require(person, Action.REPORT, assignment)
    why, problems = await _extension_problems(
        session, assignment, new_due_on=new_due_on, reason=reason, clock=clock, tz=tz
    )
    done = clean_text(progress, limit=MAX_REASON)
    if not done:
        problems.append((Sentence.EXTENSION_PROGRESS_REQUIRED, {}))
    if problems:
        raise refusals(ValidationFailed, problems)
    extension = Extension(
        assignment_id=assignment.id,
        requested_by_id=person.id,
        reason=why,
        progress=done,
        old_due_on=assignment.due_on,
        new_due_on=new_due_on,
        state=ReviewState.PENDING,
        channel=channel,
        created_at=clock.now(),
    )
    session.add(extension)
    await session.flush()
    record(
        session,
        clock=clock,
        actor=Actor.of(person),
        entity="extension",
        entity_id=extension.id,
        action="requested",
        to_state=ReviewState.PENDING,
        detail={
            "assignment_id": assignment.id,
            "old_due_on": assignment.due_on.isoformat(),
            "new_due_on": new_due_on.isoformat(),
        },
    )
    await _notify_reviewers(
        session, assignment, clock, {"extension_id": extension.id}, extension_id=extension.id
    )
    return extension


async def _extension_problems(
    session: AsyncSession,
    assignment: Assignment,
    *,
    new_due_on: date,
    reason: str,
    clock: Clock,
    tz: ZoneInfo,
) -> tuple[str, list[Problem]]:
    """The rules of any extension (延期) of ``assignment``, asked or granted: open and not
    past its deadline (raised at once), a later day, a reason, no request pending. Returns
    the cleaned reason and the problems found."""
    may_extend(assignment, today=local_today(clock, tz))
    problems: list[Problem] = []
    if new_due_on <= assignment.due_on:
        problems.append((Sentence.NEW_DATE_NOT_LATER, {"due": assignment.due_on.isoformat()}))
    why = clean_text(reason, limit=MAX_REASON)
    if not why:
        problems.append((Sentence.EXTENSION_REASON_REQUIRED, {}))
    pending = await session.scalar(
        select(Extension.id).where(
            Extension.assignment_id == assignment.id,
            Extension.state == ReviewState.PENDING,
        )
    )
    if pending is not None:
        problems.append((Sentence.EXTENSION_PENDING, {}))
    return why, problems


async def grant_extension(
    session: AsyncSession,
    *,
    assignment: Assignment,
    reviewer: Person,
    new_due_on: date,
    reason: str,
    clock: Clock,
    tz: ZoneInfo,
) -> Extension:
    """延期 given by the office itself (the items list's batch action): the rules of a
    request, then approved at once by ``reviewer`` through `decide_extension` (the deadline
    moves, the ladder is replanned, the co units follow; each step audited). Nobody asked,
    so the people the assignment concerns are told (kind ``due_moved``, 期限调整通知)."""
    require(reviewer, Action.REVIEW, assignment)
    why, problems = await _extension_problems(
        session, assignment, new_due_on=new_due_on, reason=reason, clock=clock, tz=tz
    )
    if problems:
        raise refusals(ValidationFailed, problems)
    extension = Extension(
        assignment_id=assignment.id,
        requested_by_id=None,  # nobody asked: the office decided (its audit names who)
        reason=why,
        progress="",
        old_due_on=assignment.due_on,
        new_due_on=new_due_on,
        state=ReviewState.PENDING,
        channel=Origin.WEB,
        created_at=clock.now(),
    )
    session.add(extension)
    await session.flush()
    record(
        session,
        clock=clock,
        actor=Actor.of(reviewer),
        entity="extension",
        entity_id=extension.id,
        action="requested",
        to_state=ReviewState.PENDING,
        detail={
            "assignment_id": assignment.id,
            "old_due_on": assignment.due_on.isoformat(),
            "new_due_on": new_due_on.isoformat(),
            "by_office": True,
        },
    )
    await decide_extension(
        session, extension=extension, reviewer=reviewer, approve=True, comment=why, clock=clock
    )
    await _notify_all(
        session,
        await assignment_people(session, assignment),
        kind=MessageKind.DUE_MOVED,
        key=f"x{extension.id}:{MessageKind.DUE_MOVED}",
        assignment=assignment,
        clock=clock,
        payload={"extension_id": extension.id},
    )
    return extension


def may_extend(assignment: Assignment, *, today: date) -> None:
    """Refuse asking ``assignment`` for more time unless it is open and its deadline has not
    passed (the bot asks this before its dialog, the use-case again when filing)."""
    if assignment.state != ItemState.OPEN:
        raise refusal(InvalidTransition, Sentence.NOT_OPEN_FOR_EXTENSION)
    if today > assignment.due_on:
        raise refusal(ValidationFailed, Sentence.DEADLINE_PASSED, due=assignment.due_on.isoformat())


def reason_of(comment: str | None) -> str | None:
    """A reviewer's comment as stored, or None when it says nothing: blank, or without a
    single letter or digit (``…``, an invisible character). A 退回 needs one."""
    note = clean_text(comment, limit=MAX_COMMENT)
    return note if any(unicodedata.category(ch)[0] in "LN" for ch in note) else None


def _record_decision(
    session: AsyncSession,
    *,
    entity: str,
    entity_id: int,
    reviewer: Person,
    approve: bool,
    comment: str | None,
    clock: Clock,
) -> tuple[ReviewState, str | None]:
    """The outcome of a review and its cleaned comment, audited. 退回 without a reason is
    refused here, for every surface (web, API, bot, e-mail), before anything changes."""
    note = reason_of(comment)
    if not approve and note is None:
        raise refusal(ValidationFailed, Sentence.REASON_REQUIRED)
    if note is None:
        note = clean_text(comment, limit=MAX_COMMENT) or None
    state = ReviewState.APPROVED if approve else ReviewState.REJECTED
    record(
        session,
        clock=clock,
        actor=Actor.of(reviewer),
        entity=entity,
        entity_id=entity_id,
        action="reviewed",
        from_state=ReviewState.PENDING,
        to_state=state.value,
        detail={"comment": note} if note else None,
    )
    return state, note


async def _tell_requester(
    session: AsyncSession,
    *,
    requester_id: int | None,
    assignment: Assignment,
    key: str,
    clock: Clock,
    payload: dict[str, object],
) -> None:
    if requester_id is None:
        return
    requester = await session.get(Person, requester_id)
    if requester is not None:
        await _notify_all(
            session,
            [requester],
            kind="review_outcome",
            key=key,
            assignment=assignment,
            clock=clock,
            payload=payload,
        )


async def decide_completion(
    session: AsyncSession,
    *,
    report: Report,
    reviewer: Person,
    approve: bool,
    comment: str | None,
    clock: Clock,
) -> Report:
    """Approve (close the assignment) or reject (reopen it, with a comment) a completion report."""
    assignment = await session.get_one(Assignment, report.assignment_id)
    require(reviewer, Action.REVIEW, assignment)
    if report.kind != ReportKind.COMPLETION or report.review_state != ReviewState.PENDING:
        raise refusal(InvalidTransition, Sentence.NOT_AWAITING_REVIEW)
    if assignment.state != ItemState.COMPLETION_REQUESTED:
        raise refusal(InvalidTransition, Sentence.NO_LONGER_ASKING_TO_CLOSE)
    state, note = _record_decision(
        session,
        entity="report",
        entity_id=report.id,
        reviewer=reviewer,
        approve=approve,
        comment=comment,
        clock=clock,
    )
    report.review_state = state
    report.reviewed_by_id = reviewer.id
    report.reviewed_at = clock.now()
    report.review_comment = note
    actor = Actor.of(reviewer)
    target = ItemState.CLOSED if approve else ItemState.OPEN
    await transition_assignment(
        session,
        assignment,
        target,
        actor=actor,
        clock=clock,
        reason=f"review of report {report.id}",
    )
    await _tell_requester(
        session,
        requester_id=report.author_id,
        assignment=assignment,
        key=f"r{report.id}:outcome",
        clock=clock,
        payload={"report_id": report.id, "subject": "completion", "decision": state.value},
    )
    await session.flush()
    return report


async def decide_extension(
    session: AsyncSession,
    *,
    extension: Extension,
    reviewer: Person,
    approve: bool,
    comment: str | None,
    clock: Clock,
) -> Extension:
    """Approve (move ``due_on`` and reschedule the ladder) or reject an extension request."""
    assignment = await session.get_one(Assignment, extension.assignment_id)
    require(reviewer, Action.REVIEW, assignment)
    if extension.state != ReviewState.PENDING:
        raise refusal(InvalidTransition, Sentence.EXTENSION_DECIDED)
    if not assignment.is_active:
        raise refusal(InvalidTransition, Sentence.ASSIGNMENT_CLOSED)
    if approve and extension.old_due_on != assignment.due_on:
        raise refusal(NotAllowed, Sentence.DEADLINE_CHANGED)
    state, note = _record_decision(
        session,
        entity="extension",
        entity_id=extension.id,
        reviewer=reviewer,
        approve=approve,
        comment=comment,
        clock=clock,
    )
    extension.state = state
    extension.decided_by_id = reviewer.id
    extension.decided_at = clock.now()
    extension.comment = note
    actor = Actor.of(reviewer)
    if approve:
        before = assignment.due_on
        assignment.due_on = extension.new_due_on
        record(
            session,
            clock=clock,
            actor=actor,
            entity="assignment",
            entity_id=assignment.id,
            action="due_moved",
            detail={
                "from": before.isoformat(),
                "to": extension.new_due_on.isoformat(),
                "extension_id": extension.id,
            },
        )
        await reschedule(session, assignment, clock=clock)
        # The co units' input is due a fixed number of working days before the lead's
        # deadline: it moves with the lead's.
        await follow_lead_extension(
            session, assignment, extension_id=extension.id, actor=actor, clock=clock
        )
    await _tell_requester(
        session,
        requester_id=extension.requested_by_id,
        assignment=assignment,
        key=f"x{extension.id}:outcome",
        clock=clock,
        payload={"extension_id": extension.id, "subject": "extension", "decision": state.value},
    )
    await session.flush()
    return extension
