"""The webhook's fast path: replies to reminders filed in batches, confirmed in the response.

The common update by far is a person answering a reminder with a line of text. Routing it
through aiogram (pydantic models, filters, middlewares, an FSM lookup) and filing it with a
transaction of its own costs several ms of CPU; here such updates are recognised from the
raw JSON (:func:`classify`), queued, and everything queued while the previous batch ran is
filed in one transaction (:class:`ReplyIngest`): the updates are stored as ``done``, the
reports filed with ``supervision.reports.file_reports`` (the same use-case the handlers
call), and the commit makes both durable before any request gets its answer. The answer
carries the confirmation as the webhook response's Bot API method, which Telegram executes
(no HTTP call of our own).

Everything else, and any update the batch cannot file (an unknown reminder, a person who
may not report or whose item is closed, a replay, a person in a dialog), goes through the
dispatcher as before and gets the answer it would have got there.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from contextlib import AsyncExitStack
from dataclasses import dataclass
from functools import partial
from typing import Any

from aiogram import Bot, Dispatcher
from aiogram.fsm.storage.base import StorageKey
from aiogram.fsm.storage.redis import RedisStorage
from sqlalchemy import bindparam, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import joinedload

from bot import updates
from bot.common import status_of
from bot.config import BotConfig
from bot.reports import REQUEST_KINDS, confirmation
from models import Assignment, Item, Notification, Origin, Person
from models.db import one_writer
from supervision.calendar_store import load_calendar
from supervision.clock import Clock
from supervision.errors import DomainError
from supervision.reports import ReportIn, file_reports

__all__ = ["IN_FLIGHT", "MAX_BATCH", "Reply", "ReplyIngest", "classify"]

log = logging.getLogger("duban.bot")

MAX_BATCH = 256
IN_FLIGHT = 2  # batches at once on PostgreSQL (one computing, one committing)

# What a plain text message may carry and still take the fast path; anything else (media,
# albums, topics, forwards, business messages, ...) goes through the dispatcher.
_MESSAGE_KEYS = frozenset(
    {"message_id", "date", "chat", "from", "text", "entities", "reply_to_message",
     "link_preview_options", "quote"}
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class Reply:
    """A private text message that replies to another one, read from the raw update."""

    update_id: int
    user_id: int
    chat_id: int
    message_id: int
    replied_id: int
    text: str
    raw: dict[str, Any]


def _int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def classify(data: Any) -> Reply | None:
    """The reply in ``data`` if the fast path may take it, else None (the dispatcher will).

    Taken: an update with only a ``message``, in a private chat, from a person (not a bot),
    with text that is not a /command, replying to a message. Those are exactly the updates
    the dispatcher hands to ``bot.reports.reply_to_reminder`` when the sender is bound and
    in no dialog (checked later, with the database and the FSM storage).
    """
    if not isinstance(data, dict) or data.keys() != {"update_id", "message"}:
        return None
    message, update_id = data["message"], data["update_id"]
    if not _int(update_id) or not isinstance(message, dict) or not message.keys() <= _MESSAGE_KEYS:
        return None
    chat, sender, text, replied = (
        message.get("chat"),
        message.get("from"),
        message.get("text"),
        message.get("reply_to_message"),
    )
    if not (
        isinstance(chat, dict)
        and isinstance(sender, dict)
        and isinstance(replied, dict)
        and isinstance(text, str)
        and chat.get("type") == "private"
        and sender.get("is_bot") is False
        and isinstance(sender.get("first_name"), str)
        and _int(sender.get("id"))
        and chat.get("id") == sender["id"]
        and _int(message.get("message_id"))
        and _int(message.get("date"))
        and _int(replied.get("message_id"))
        and _int(replied.get("date"))
        and isinstance(replied.get("chat"), dict)
        and text.strip()
        and not text.startswith("/")
    ):
        return None
    return Reply(
        update_id=update_id,
        user_id=sender["id"],
        chat_id=chat["id"],
        message_id=message["message_id"],
        replied_id=replied["message_id"],
        text=text,
        raw=data,
    )


@dataclass(frozen=True, slots=True)
class _Target:
    """What a reply answers: the reminder's kind, its assignment and item."""

    kind: str
    assignment: Assignment
    item: Item  # held here: the session's identity map keeps only referenced objects


class ReplyIngest:
    """Files fast-path replies in batches; call it with the raw update JSON.

    Returns the webhook response body (the confirmation as a ``sendMessage``) once the
    report is committed, or None when the update must go through the dispatcher.
    """

    def __init__(
        self,
        dispatcher: Dispatcher,
        bot: Bot,
        sessions: async_sessionmaker[AsyncSession],
        config: BotConfig,
        clock: Clock,
        *,
        max_batch: int = MAX_BATCH,
        in_flight: int | None = None,
    ) -> None:
        self.dispatcher = dispatcher
        self.bot = bot
        self.sessions = sessions
        self.config = config
        self.clock = clock
        self.max_batch = max_batch
        if in_flight is None:
            in_flight = 1 if one_writer(sessions) else IN_FLIGHT
        self.in_flight = in_flight
        self._queue: list[tuple[Reply, asyncio.Future[dict[str, Any] | None]]] = []
        self._batches: set[asyncio.Task[None]] = set()
        self._computing: set[asyncio.Task[None]] = set()  # batches not yet committing

    async def __call__(self, data: Any) -> dict[str, Any] | None:
        """The webhook answer for ``data`` if the fast path filed it, else None."""
        reply = classify(data)
        if reply is None:
            return None
        future: asyncio.Future[dict[str, Any] | None] = asyncio.get_running_loop().create_future()
        self._queue.append((reply, future))
        self._start()
        return await future

    async def close(self) -> None:
        """Let the batches in progress finish (their requests are waiting for their answers)."""
        while self._batches:
            await asyncio.shield(asyncio.gather(*self._batches, return_exceptions=True))

    def _start(self) -> None:
        # What arrives while a batch runs forms the next batch: under load batches grow by
        # themselves, and a lone request waits for nobody. One batch computes at a time; the
        # next may start once it is committing (waiting for PostgreSQL to flush), up to
        # ``in_flight`` batches, so the commit wait no longer idles the process and batches
        # stay as large as before.
        while self._queue and not self._computing and len(self._batches) < self.in_flight:
            batch, self._queue = self._queue[: self.max_batch], self._queue[self.max_batch :]
            task = asyncio.create_task(self._run(batch))
            self._batches.add(task)
            self._computing.add(task)
            task.add_done_callback(self._finished)

    def _committing(self, task: asyncio.Task[None]) -> None:
        self._computing.discard(task)
        self._start()

    def _finished(self, task: asyncio.Task[None]) -> None:
        self._batches.discard(task)
        self._computing.discard(task)
        self._start()

    async def _run(self, batch: list[tuple[Reply, asyncio.Future[dict[str, Any] | None]]]) -> None:
        answers: list[dict[str, Any] | None] = [None] * len(batch)
        task = asyncio.current_task()
        assert task is not None
        try:
            answers = await self.handle(
                [reply for reply, _ in batch], committing=partial(self._committing, task)
            )
        except Exception as exc:
            # Nothing of the batch was committed: each update goes the normal way, so one
            # bad update cannot sink the others.
            log.exception("reply batch of %d failed: %s", len(batch), exc.__class__.__name__)
        finally:
            for (_, future), answer in zip(batch, answers, strict=True):
                if not future.done():
                    future.set_result(answer)

    async def handle(
        self, replies: Sequence[Reply], *, committing: Callable[[], object] | None = None
    ) -> list[dict[str, Any] | None]:
        """File what can be filed in one transaction; one answer (or None) per reply.

        ``committing`` is called when only the commit is left (the answers are built).
        """
        answers: list[dict[str, Any] | None] = [None] * len(replies)
        keys = self._keys([(r.chat_id, r.user_id) for r in replies])
        async with AsyncExitStack() as held:
            # The dispatcher handles one person's updates one at a time under these locks; the
            # batch takes them too (in one order, so two batches cannot deadlock), so a reply
            # cannot slip past a button press whose dialog is still being set up.
            isolation = self.dispatcher.fsm.events_isolation
            for key in sorted(set(keys), key=lambda k: (k.chat_id, k.user_id)):
                await held.enter_async_context(isolation.lock(key))
            idle = await self._idle(keys)
            async with self.sessions() as session, session.begin():
                await self._file(session, replies, idle, answers)
                if committing is not None:
                    committing()
        return answers

    async def _file(
        self,
        session: AsyncSession,
        replies: Sequence[Reply],
        idle: Sequence[bool],
        answers: list[dict[str, Any] | None],
    ) -> None:
        """The batch's statements and answers, in the caller's transaction."""
        people = await _people(session, {r.user_id for r in replies})
        targets = await _targets(session, {(r.chat_id, r.replied_id) for r in replies})
        picked: dict[int, tuple[int, Person, Assignment]] = {}
        items = {t.item.id: t.item for t in targets.values()}
        for i, r in enumerate(replies):
            person = people.get(r.user_id)
            target = targets.get((r.chat_id, r.replied_id))
            if (
                person is None  # strangers are told how to bind
                or target is None  # a reply to something else: the item picker
                or target.kind in REQUEST_KINDS  # the request is shown again
                or not idle[i]  # a dialog step takes the message
                or r.update_id in picked  # the same update twice: one is a replay
            ):
                continue
            picked[r.update_id] = (i, person, target.assignment)
        stored = await updates.store_handled(
            session, [(u, replies[i].raw) for u, (i, _, _) in picked.items()], self.clock
        )
        work = [picked[u] for u in picked if u in stored]  # not stored: seen before
        if not work:
            return
        calendar = await load_calendar(session)
        outcomes = await file_reports(
            session,
            [
                ReportIn(
                    assignment=assignment,
                    author=person,
                    text=replies[i].text,
                    channel=Origin.CHAT,
                    chat_id=replies[i].chat_id,
                    chat_message_id=replies[i].message_id,
                )
                for i, person, assignment in work
            ],
            clock=self.clock,
            calendar=calendar,
        )
        refused = [
            replies[i].update_id
            for (i, _, _), outcome in zip(work, outcomes, strict=True)
            if isinstance(outcome, DomainError)
        ]
        await updates.reopen(session, refused)  # the dispatcher says why, as ever
        filed = [
            (i, person, assignment, outcome)
            for (i, person, assignment), outcome in zip(work, outcomes, strict=True)
            if not isinstance(outcome, DomainError)
        ]
        rows = await status_of(
            session,
            [assignment for _, _, assignment, _ in filed],
            clock=self.clock,
            config=self.config,
            calendar=calendar,
            items=items,
        )
        for (i, person, _, report), row in zip(filed, rows, strict=True):
            text = confirmation(person, report, replies[i].message_id, row)
            answers[i] = self._send(replies[i].chat_id, text) if text else {"ok": True}

    def _send(self, chat_id: int, text: str) -> dict[str, Any]:
        """A ``sendMessage`` as a webhook response body, with the bot's default parse mode."""
        body: dict[str, Any] = {"method": "sendMessage", "chat_id": chat_id, "text": text}
        parse_mode = self.bot.default.parse_mode
        if isinstance(parse_mode, str):
            body["parse_mode"] = parse_mode
        return body

    def _keys(self, chats: Sequence[tuple[int, int]]) -> list[StorageKey]:
        """The FSM keys of (chat, user) pairs, as the dispatcher's FSM middleware makes them."""
        keys: list[StorageKey] = []
        for chat_id, user_id in chats:
            context = self.dispatcher.fsm.resolve_context(self.bot, chat_id, user_id)
            assert context is not None
            keys.append(context.key)
        return keys

    async def _idle(self, keys: Sequence[StorageKey]) -> list[bool]:
        """For each key: True when no dialog (FSM state) is waiting for a message."""
        storage = self.dispatcher.fsm.storage
        if isinstance(storage, RedisStorage):  # one round trip for the batch
            names = [storage.key_builder.build(key, "state") for key in keys]
            return [state is None for state in await storage.redis.mget(names)]
        return [await storage.get_state(key) is None for key in keys]


# Built once: a statement built per call costs more CPU than PostgreSQL spends running it.
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


async def _people(session: AsyncSession, user_ids: set[int]) -> dict[int, Person]:
    """Active people bound to these Telegram users, with their roles."""
    found = await session.scalars(_PEOPLE, {"users": list(user_ids)})
    return {p.telegram_user_id: p for p in found.unique() if p.telegram_user_id is not None}


async def _targets(
    session: AsyncSession, keys: set[tuple[int, int]]
) -> dict[tuple[int, int], _Target]:
    """The notifier's messages (chat, message id) with their assignments and items."""
    rows = await session.execute(_TARGETS, {"keys": list(keys)})
    out: dict[tuple[int, int], _Target] = {}
    for chat_id, message_id, kind, assignment, item in rows:
        if chat_id is not None and message_id is not None:
            out.setdefault((chat_id, message_id), _Target(kind, assignment, item))
    return out
