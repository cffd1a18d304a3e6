"""Filing and editing reports (进展报告 / 办理情况报告) with their attachments and history.

Imports only `models/` and `supervision/`; I/O goes through the session it is given, except
:class:`ReplyFiler`, which opens its own (one transaction per batch of chat replies).
"""

from __future__ import annotations

import logging
import unicodedata
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, Protocol

from sqlalchemy import bindparam, func, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import joinedload

from models import (
    ACTIVE_STATES,
    Assignment,
    Attachment,
    Item,
    Milestone,
    Notification,
    Origin,
    Person,
    Report,
    ReportKind,
    ReportRevision,
)
from models.db import one_writer
from models.report import ReviewState
from supervision.access import Action, require
from supervision.audit import Actor, Event, record, record_all
from supervision.calendar import WorkCalendar
from supervision.calendar_store import load_calendar
from supervision.clock import Clock
from supervision.co_input import forward_co_input
from supervision.errors import DomainError, InvalidTransition, NotAllowed, ValidationFailed
from supervision.group_commit import GroupCommit
from supervision.labels import Sentence, refusal
from supervision.policy import load_policy_for
from supervision.schedule import Ladder, reschedule

__all__ = [
    "EDIT_WINDOW",
    "MAX_ATTACHMENTS",
    "MAX_TEXT",
    "AttachmentIn",
    "ChatReply",
    "Receipt",
    "ReceiptLog",
    "ReplyFiled",
    "ReplyFiler",
    "ReplyNotFiled",
    "ReportIn",
    "Unfiled",
    "album_report",
    "clean_text",
    "edit_report",
    "file_report",
    "file_reports",
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
    #: the bytes of a file kept in the database (storage ``db``: a web upload, a mail part)
    content: bytes | None = field(default=None, repr=False, compare=False)


def clean_text(text: str | None, *, limit: int = MAX_TEXT) -> str:
    """Text as stored: control characters removed (newlines and tabs kept), trimmed, bounded."""
    if text is None:
        return ""
    kept = "".join(
        ch for ch in text if ch in "\n\t" or unicodedata.category(ch) not in ("Cc", "Cs", "Co")
    ).strip()
    if len(kept) > limit:
        raise refusal(ValidationFailed, Sentence.TEXT_TOO_LONG, limit=limit, got=len(kept))
    return kept


def _attachment(a: AttachmentIn) -> Attachment:
    if not a.file_id or len(a.file_id) > 255:
        raise refusal(ValidationFailed, Sentence.BAD_ATTACHMENT_ID)
    return Attachment(
        storage=a.storage[:16],
        file_id=a.file_id,
        file_unique_id=(a.file_unique_id or None) and a.file_unique_id[:255],
        file_name=(a.file_name or None) and a.file_name[:255],
        mime_type=(a.mime_type or None) and a.mime_type[:127],
        size=a.size if a.size is None or a.size >= 0 else None,
        content=a.content,
    )


async def report_for_message(session: AsyncSession, chat_id: int, message_id: int) -> Report | None:
    """The report filed from one chat message, if any."""
    return await session.scalar(
        select(Report).where(Report.chat_id == chat_id, Report.chat_message_id == message_id)
    )


# The statements of every filing, built once (building one costs about as much CPU as
# PostgreSQL spends running it). The lock takes the assignment rows in id order, so two
# filings at once cannot deadlock; the numbers are read after it, in a statement of their
# own, so they include what a filing we waited for committed.
_LOCK = (
    select(Assignment.id, Assignment.state)
    .where(Assignment.id.in_(bindparam("ids", expanding=True)))
    .order_by(Assignment.id)
    .with_for_update()
)
_EARLIER = select(Report).where(
    tuple_(Report.chat_id, Report.chat_message_id).in_(bindparam("keys", expanding=True))
)
_NUMBERS = (
    select(Report.assignment_id, func.max(Report.number))
    .where(Report.assignment_id.in_(bindparam("ids", expanding=True)))
    .group_by(Report.assignment_id)
)


@dataclass(frozen=True, slots=True)
class ReportIn:
    """One report to file: on what, by whom, with what (see :func:`file_reports`)."""

    assignment: Assignment
    author: Person
    text: str | None
    attachments: Sequence[AttachmentIn] = ()
    kind: ReportKind = ReportKind.PROGRESS
    channel: Origin = Origin.CHAT
    chat_id: int | None = None
    chat_message_id: int | None = None
    review_state: ReviewState = ReviewState.NONE
    media_group_id: str | None = None
    milestone_id: int | None = None  # a milestone of the assignment's item


async def file_report(
    session: AsyncSession,
    *,
    assignment: Assignment,
    author: Person,
    text: str | None,
    clock: Clock,
    attachments: Sequence[AttachmentIn] = (),
    kind: ReportKind = ReportKind.PROGRESS,
    channel: Origin = Origin.CHAT,
    chat_id: int | None = None,
    chat_message_id: int | None = None,
    review_state: ReviewState = ReviewState.NONE,
    calendar: WorkCalendar | None = None,
    media_group_id: str | None = None,
    milestone_id: int | None = None,
) -> Report:
    """File one report (:func:`file_reports` with one request); a broken rule raises."""
    request = ReportIn(
        assignment=assignment,
        author=author,
        text=text,
        attachments=attachments,
        kind=kind,
        channel=channel,
        chat_id=chat_id,
        chat_message_id=chat_message_id,
        review_state=review_state,
        media_group_id=media_group_id,
        milestone_id=milestone_id,
    )
    [outcome] = await file_reports(session, [request], clock=clock, calendar=calendar)
    if isinstance(outcome, DomainError):
        raise outcome
    return outcome


async def file_reports(
    session: AsyncSession,
    requests: Sequence[ReportIn],
    *,
    clock: Clock,
    calendar: WorkCalendar | None = None,
) -> list[Report | DomainError]:
    """File reports on assignments; each resets the periodic clock and reschedules the ladder.

    One outcome per request, in order: the report, or the rule it broke (which changed
    nothing for that request; the others are filed). The statements are per call, not per
    request: the assignments are locked (so numbers do not collide with reports filed
    concurrently), then one query each finds earlier reports of the same chat messages and
    the current numbers, and the reports and audit events are inserted together.

    The same chat message filed twice returns the first report unchanged; the later messages
    of one chat album (``media_group_id``) add their files and captions to the album's report.
    """
    outcomes: list[Report | DomainError | None] = [None] * len(requests)
    for i, r in enumerate(requests):
        try:
            require(r.author, Action.REPORT, r.assignment)
            # Early refusal on what the caller loaded; the state read under the lock below
            # is what decides (a close may commit in between).
            if not r.assignment.is_active:
                raise refusal(InvalidTransition, Sentence.REPORT_ON_CLOSED)
        except DomainError as exc:
            outcomes[i] = exc
    await _check_milestones(session, requests, outcomes)
    live = [i for i, o in enumerate(outcomes) if o is None]
    if not live:
        return _done(outcomes)
    locked = await session.execute(
        _LOCK, {"ids": sorted({requests[i].assignment.id for i in live})}
    )
    # The state as committed when the lock was granted: a close that committed after the
    # caller loaded the assignment (and before the lock) refuses the report.
    states = {assignment_id: state for assignment_id, state in locked}
    for i in live:
        if states.get(requests[i].assignment.id) not in ACTIVE_STATES:
            outcomes[i] = refusal(InvalidTransition, Sentence.REPORT_ON_CLOSED)
    live = [i for i in live if outcomes[i] is None]
    if not live:
        return _done(outcomes)
    earlier = await _reports_for_messages(session, [requests[i] for i in live])
    fresh: list[int] = []
    for i in live:
        r = requests[i]
        try:
            if r.chat_id is not None and r.chat_message_id is not None:
                existing = earlier.get((r.chat_id, r.chat_message_id))
                if existing is not None:
                    if existing.assignment_id != r.assignment.id:
                        raise refusal(NotAllowed, Sentence.MESSAGE_ALREADY_FILED)
                    outcomes[i] = existing
                    continue
            if r.media_group_id and r.chat_id is not None:
                album = await album_report(session, r.chat_id, r.media_group_id)
                if album is not None:
                    outcomes[i] = await _add_to_album(
                        session,
                        album,
                        author=r.author,
                        text=r.text,
                        attachments=r.attachments,
                        clock=clock,
                    )
                    continue
            outcomes[i] = _new_report(r, clock.now())
            fresh.append(i)
        except DomainError as exc:
            outcomes[i] = exc
    if fresh:
        await _number_and_store(session, requests, outcomes, fresh, clock=clock, calendar=calendar)
    return _done(outcomes)


async def _check_milestones(
    session: AsyncSession,
    requests: Sequence[ReportIn],
    outcomes: list[Report | DomainError | None],
) -> None:
    """Refuse (in ``outcomes``) the requests naming a milestone of another item (one query)."""
    wanted = {r.milestone_id for r, o in zip(requests, outcomes, strict=True) if o is None} - {None}
    if not wanted:
        return
    found = await session.execute(
        select(Milestone.id, Milestone.item_id).where(Milestone.id.in_(sorted(wanted)))
    )
    item_of_milestone = {milestone_id: item_id for milestone_id, item_id in found}
    for i, r in enumerate(requests):
        wrong = item_of_milestone.get(r.milestone_id or 0) != r.assignment.item_id
        if outcomes[i] is None and r.milestone_id is not None and wrong:
            outcomes[i] = refusal(ValidationFailed, Sentence.MILESTONE_NOT_OF_ITEM)


def _done(outcomes: list[Report | DomainError | None]) -> list[Report | DomainError]:
    out = [o for o in outcomes if o is not None]
    assert len(out) == len(outcomes)
    return out


async def _reports_for_messages(
    session: AsyncSession, requests: Sequence[ReportIn]
) -> dict[tuple[int, int], Report]:
    """Reports already filed from the requests' chat messages, by (chat, message)."""
    keys = {
        (r.chat_id, r.chat_message_id)
        for r in requests
        if r.chat_id is not None and r.chat_message_id is not None
    }
    if not keys:
        return {}
    found = await session.scalars(_EARLIER, {"keys": list(keys)})
    return {(r.chat_id, r.chat_message_id): r for r in found if r.chat_id and r.chat_message_id}


def _new_report(r: ReportIn, now: datetime) -> Report:
    """The report a request files, validated (not numbered, not added yet)."""
    body = clean_text(r.text)
    if len(r.attachments) > MAX_ATTACHMENTS:
        raise refusal(ValidationFailed, Sentence.TOO_MANY_ATTACHMENTS, max=MAX_ATTACHMENTS)
    files = [_attachment(a) for a in r.attachments]
    if not body and not files:
        raise refusal(ValidationFailed, Sentence.EMPTY_REPORT)
    for f in files:
        f.created_at = now
    return Report(
        assignment_id=r.assignment.id,
        author_id=r.author.id,
        kind=r.kind,
        text=body,
        channel=r.channel,
        review_state=r.review_state,
        chat_id=r.chat_id,
        chat_message_id=r.chat_message_id,
        media_group_id=r.media_group_id[:64] if r.media_group_id else None,
        milestone_id=r.milestone_id,
        created_at=now,
        attachments=files,
    )


async def _number_and_store(
    session: AsyncSession,
    requests: Sequence[ReportIn],
    outcomes: list[Report | DomainError | None],
    fresh: list[int],
    *,
    clock: Clock,
    calendar: WorkCalendar | None,
) -> None:
    """Number the new reports (1, 2, 3... per assignment), insert them, audit, reschedule."""
    ids = {requests[i].assignment.id for i in fresh}
    rows = await session.execute(_NUMBERS, {"ids": list(ids)})
    numbers: dict[int, int] = {aid: n or 0 for aid, n in rows}
    first: dict[tuple[int, int], Report] = {}
    filed: list[tuple[ReportIn, Report]] = []
    for i in fresh:
        report = outcomes[i]
        assert isinstance(report, Report)
        if report.chat_id is not None and report.chat_message_id is not None:
            key = (report.chat_id, report.chat_message_id)
            if key in first:  # the same chat message twice in one call: the first one's report
                outcomes[i] = first[key]
                continue
            first[key] = report
        numbers[report.assignment_id] = report.number = numbers.get(report.assignment_id, 0) + 1
        filed.append((requests[i], report))
    session.add_all([report for _, report in filed])
    await session.flush()
    now = clock.now()
    await record_all(
        session,
        clock=clock,
        events=[
            Event(
                actor=Actor.of(r.author),
                entity="report",
                entity_id=report.id,
                action="filed",
                detail={
                    "assignment_id": report.assignment_id,
                    "kind": report.kind,
                    "number": report.number,
                    "channel": report.channel,
                    "attachments": len(report.attachments),
                },
            )
            for r, report in filed
        ],
    )
    assignments: dict[int, Assignment] = {}
    for r, _ in filed:
        assignments[r.assignment.id] = r.assignment
        r.assignment.last_report_at = now
    await _reschedule(session, list(assignments.values()), clock=clock, calendar=calendar)
    await forward_co_input(session, [(r.assignment, report) for r, report in filed], clock=clock)


async def _reschedule(
    session: AsyncSession,
    assignments: Sequence[Assignment],
    *,
    clock: Clock,
    calendar: WorkCalendar | None,
) -> None:
    """`reschedule` each assignment, with the calendar loaded once and each policy's ladder
    built once (its step moments are memoised per ladder, so assignments sharing a deadline
    share them too)."""
    # One write of each assignment at commit instead of a flush before the schedule's reads.
    with session.no_autoflush:
        if calendar is None:
            calendar = await load_calendar(session)
        ladders: dict[tuple[str, bool], Ladder | None] = {}
        for a in assignments:
            item = await session.get_one(Item, a.item_id)  # often from the identity map
            key = (item.source, item.urgent)
            if key not in ladders:
                policy = await load_policy_for(session, item.source, item.urgent)
                ladders[key] = Ladder.of(policy) if policy is not None else None
            await reschedule(session, a, clock=clock, calendar=calendar, policy=ladders[key])


async def album_report(session: AsyncSession, chat_id: int, media_group_id: str) -> Report | None:
    """The report a chat album already filed, if any."""
    return await session.scalar(
        select(Report).where(
            Report.chat_id == chat_id, Report.media_group_id == media_group_id[:64]
        )
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
        raise refusal(NotAllowed, Sentence.ALBUM_ELSEWHERE)
    have = {a.file_unique_id or a.file_id for a in report.attachments}
    files = [_attachment(a) for a in attachments if (a.file_unique_id or a.file_id) not in have]
    if len(report.attachments) + len(files) > MAX_ATTACHMENTS:
        raise refusal(ValidationFailed, Sentence.TOO_MANY_ATTACHMENTS, max=MAX_ATTACHMENTS)
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
        raise refusal(NotAllowed, Sentence.ONLY_AUTHOR_EDITS)
    require(editor, Action.REPORT, assignment)
    if clock.now() - report.created_at > window:
        hours = int(window.total_seconds() // 3600)
        raise refusal(NotAllowed, Sentence.EDIT_WINDOW_PASSED, hours=hours)
    if report.review_state in (ReviewState.APPROVED, ReviewState.REJECTED):
        raise refusal(NotAllowed, Sentence.REPORT_REVIEWED)
    body = clean_text(text)
    if not body and not report.attachments:
        raise refusal(ValidationFailed, Sentence.EMPTY_REPORT)
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


# ---------------------------------------------------------------------------------------------
# Chat replies, filed in batches (group commit)

log = logging.getLogger("duban.reports")

MAX_BATCH = 256
IN_FLIGHT = 2  # batches at once on PostgreSQL: one computing, one committing


@dataclass(frozen=True, slots=True)
class Receipt:
    """The caller's record of an incoming message (e.g. a Telegram update): kept once, in the
    transaction that files its report, so a replay is recognised and files nothing."""

    key: int
    record: dict[str, Any] = field(compare=False)


class ReceiptLog(Protocol):
    """Where receipts are kept; both calls run in the filing batch's transaction."""

    async def claim(self, session: AsyncSession, receipts: Sequence[Receipt]) -> set[int]:
        """Keep the receipts as handled; the keys kept now (the others were seen before)."""
        ...

    async def release(self, session: AsyncSession, keys: Sequence[int]) -> None:
        """Mark claimed receipts as not handled after all (their reports were refused)."""
        ...


@dataclass(frozen=True, slots=True)
class ChatReply:
    """A chat message that answers a message the notifier sent (a reminder, an escalation):
    a progress report on that message's assignment, by the person bound to the sender."""

    sender: int  # the chat user id (Person.telegram_user_id)
    chat_id: int
    message_id: int
    replied_to: int  # the notifier's message (Notification.chat_message_id) in that chat
    text: str
    attachments: Sequence[AttachmentIn] = ()
    receipt: Receipt | None = None


class Unfiled(StrEnum):
    """Why a chat reply filed nothing (its caller answers it the ordinary way)."""

    STRANGER = "stranger"  # no active person is bound to the sender
    ELSEWHERE = "elsewhere"  # not an answer to a reminder the notifier sent in that chat
    SEEN = "seen"  # its receipt was kept before: a replay
    REFUSED = "refused"  # a rule of :func:`file_reports` refused it (see ``error``)


@dataclass(frozen=True, slots=True)
class ReplyNotFiled:
    """A chat reply that filed nothing, and why."""

    why: Unfiled
    error: DomainError | None = None


@dataclass(frozen=True, slots=True)
class ReplyFiled:
    """A chat reply's report, committed, with what its confirmation shows (no query needed)."""

    report: Report
    author: Person
    assignment: Assignment
    item: Item
    calendar: WorkCalendar


ReplyOutcome = ReplyFiled | ReplyNotFiled
# Built once, like the filing's statements above.
_PEOPLE = (
    select(Person)
    .options(joinedload(Person.role_links))
    .where(Person.telegram_user_id.in_(bindparam("users", expanding=True)), Person.active)
)
_TARGETS = (
    select(Notification.chat_id, Notification.chat_message_id, Notification.kind, Assignment, Item)
    .join(Assignment, Notification.assignment_id == Assignment.id)
    .join(Item, Item.id == Assignment.item_id)
    .where(
        tuple_(Notification.chat_id, Notification.chat_message_id).in_(
            bindparam("keys", expanding=True)
        )
    )
)


class ReplyFiler:
    """Files chat replies with group commit: ``await filer.file(reply)`` from any number of
    callers at once; what arrives while a batch runs forms the next batch.

    A batch is one transaction: the senders' people (one query), the replied-to messages with
    their assignments and items (one), the receipts, then :func:`file_reports` with every rule
    of filing, and the commit before any caller gets its outcome, so a filed reply is on disk.
    On PostgreSQL the next batch computes while the previous one commits (``in_flight`` 2);
    SQLite writes one transaction at a time (1). A batch that fails commits nothing and each
    of its callers gets the exception.
    """

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        clock: Clock,
        *,
        receipts: ReceiptLog | None = None,
        not_reports: Collection[str] = (),
        max_batch: int = MAX_BATCH,
        in_flight: int | None = None,
    ) -> None:
        self.sessions = sessions
        self.clock = clock
        self.receipts = receipts
        # Kinds of notification whose replies are no reports (the caller shows a request again).
        self.not_reports = frozenset(not_reports)
        self.max_batch = max_batch
        self.in_flight = in_flight or (1 if one_writer(sessions) else IN_FLIGHT)
        self._group: GroupCommit[ChatReply, ReplyOutcome] = GroupCommit(
            lambda replies, committing: self.file_batch(replies, committing=committing),
            max_batch=max_batch,
            in_flight=self.in_flight,
            name="reply batch",
        )

    async def file(self, reply: ChatReply) -> ReplyOutcome:
        """File ``reply`` in the next batch; its outcome once that batch has committed."""
        return await self._group.submit(reply)

    async def close(self) -> None:
        """Let the batches in progress finish (their callers are waiting for them)."""
        await self._group.close()

    async def file_batch(
        self, replies: Sequence[ChatReply], *, committing: Callable[[], object] | None = None
    ) -> list[ReplyOutcome]:
        """File ``replies`` in one transaction; one outcome each, in order.

        ``committing`` is called when only the commit is left.
        """
        async with self.sessions() as session, session.begin():
            outcomes = await self._file(session, replies)
            if committing is not None:
                committing()
        return outcomes

    async def _file(
        self, session: AsyncSession, replies: Sequence[ChatReply]
    ) -> list[ReplyOutcome]:
        outcomes: list[ReplyOutcome | None] = [None] * len(replies)
        people = await _people(session, {r.sender for r in replies})
        targets = await _targets(session, {(r.chat_id, r.replied_to) for r in replies})
        work: list[tuple[int, Person, tuple[str, Assignment, Item]]] = []
        receipts: dict[int, Receipt] = {}
        for i, r in enumerate(replies):
            person, target = people.get(r.sender), targets.get((r.chat_id, r.replied_to))
            if person is None:
                outcomes[i] = ReplyNotFiled(Unfiled.STRANGER)
            elif target is None or target[0] in self.not_reports:
                outcomes[i] = ReplyNotFiled(Unfiled.ELSEWHERE)
            elif r.receipt is not None and r.receipt.key in receipts:
                outcomes[i] = ReplyNotFiled(Unfiled.SEEN)  # the same message twice in a batch
            else:
                if r.receipt is not None:
                    receipts[r.receipt.key] = r.receipt
                work.append((i, person, target))
        if receipts and self.receipts is not None:
            kept = await self.receipts.claim(session, list(receipts.values()))
            for i, _, _ in work:
                receipt = replies[i].receipt
                if receipt is not None and receipt.key not in kept:
                    outcomes[i] = ReplyNotFiled(Unfiled.SEEN)
            work = [w for w in work if outcomes[w[0]] is None]
        if work:
            await self._file_work(session, replies, work, outcomes)
        return [o for o in outcomes if o is not None]

    async def _file_work(
        self,
        session: AsyncSession,
        replies: Sequence[ChatReply],
        work: list[tuple[int, Person, tuple[str, Assignment, Item]]],
        outcomes: list[ReplyOutcome | None],
    ) -> None:
        calendar = await load_calendar(session)
        requests = [
            ReportIn(
                assignment=assignment,
                author=person,
                text=replies[i].text,
                attachments=replies[i].attachments,
                channel=Origin.CHAT,
                chat_id=replies[i].chat_id,
                chat_message_id=replies[i].message_id,
            )
            for i, person, (_, assignment, _) in work
        ]
        filed = await file_reports(session, requests, clock=self.clock, calendar=calendar)
        refused: list[int] = []
        for (i, person, (_, assignment, item)), outcome in zip(work, filed, strict=True):
            if isinstance(outcome, DomainError):
                outcomes[i] = ReplyNotFiled(Unfiled.REFUSED, outcome)
                if (receipt := replies[i].receipt) is not None:
                    refused.append(receipt.key)
            else:
                outcomes[i] = ReplyFiled(outcome, person, assignment, item, calendar)
        if refused and self.receipts is not None:
            await self.receipts.release(session, refused)


async def _people(session: AsyncSession, user_ids: set[int]) -> dict[int, Person]:
    """Active people bound to these chat users, with their roles."""
    found = await session.scalars(_PEOPLE, {"users": list(user_ids)})
    return {p.telegram_user_id: p for p in found.unique() if p.telegram_user_id is not None}


async def _targets(
    session: AsyncSession, keys: set[tuple[int, int]]
) -> dict[tuple[int, int], tuple[str, Assignment, Item]]:
    """The notifier's messages (chat, message id): their kind, assignment and item."""
    rows = await session.execute(_TARGETS, {"keys": list(keys)})
    out: dict[tuple[int, int], tuple[str, Assignment, Item]] = {}
    for chat_id, message_id, kind, assignment, item in rows:
        if chat_id is not None and message_id is not None:
            out.setdefault((chat_id, message_id), (kind, assignment, item))
    return out
