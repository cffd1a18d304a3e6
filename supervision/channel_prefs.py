"""Channel preferences (接收渠道): the channels a person is reached on, in their order.

One rule for every message to a person, at write time (`supervision.outbox`) and at delivery
(`notifier.routing`); :func:`set_prefs` changes a person's list. The *route* of a message is
the list of channels, in order, that its cause allows and the person is reachable on. A person
with no preference gets the message on every chat app they are bound to and by e-mail at once
(as the cause allows), and e-mail is the last resort when a chat app fails for good; a person
with a preference gets it on the first channel of their list that reaches them, and on the
next one when that fails for good (a list none of whose channels the cause allows or reaches
them with leaves the default in force). Generic over `models.Channel`: a channel reaches a person
when it has an entry in :data:`ADDRESS_OF`. Imports models and supervision (never
`supervision.outbox`, which imports it).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from typing import Final, Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from models import Channel, Person, StepChannel
from supervision.access import Member, NotPermitted
from supervision.audit import Actor, record
from supervision.clock import Clock
from supervision.errors import NotFound, ValidationFailed
from supervision.import_words import Both, ImportWord, say_import
from supervision.labels import CATALOGUE, Sentence, refusal
from supervision.phrases import lang_of


class Reachable(Protocol):
    """The contact columns of a person (`models.Person` or a row read from them)."""

    @property
    def email(self) -> str | None: ...

    @property
    def telegram_chat_id(self) -> int | None: ...

    @property
    def wecom_userid(self) -> str | None: ...

    @property
    def dingtalk_userid(self) -> str | None: ...

    @property
    def feishu_user_id(self) -> str | None: ...

    @property
    def channel_prefs(self) -> str | None: ...


#: how each channel that reaches one person finds its address on the person; a channel
#: with no entry here is not an individual channel (group robots, the log stand-in)
ADDRESS_OF: Final[dict[Channel, Callable[[Reachable], str | None]]] = {
    Channel.TELEGRAM: lambda p: str(p.telegram_chat_id) if p.telegram_chat_id is not None else None,
    Channel.WECOM_APP: lambda p: p.wecom_userid or None,
    Channel.DINGTALK_APP: lambda p: p.dingtalk_userid or None,
    Channel.FEISHU_APP: lambda p: p.feishu_user_id or None,
    Channel.EMAIL: lambda p: p.email or None,
}
#: every channel a person can prefer, in the order of the channel enum
PERSONAL: Final = tuple(c for c in Channel if c in ADDRESS_OF)
#: the chat apps (a step's ``chat``): every individual channel but e-mail
CHAT_APPS: Final = tuple(c for c in PERSONAL if c != Channel.EMAIL)
#: what ``via`` means when a row carries none (rows written before preferences existed)
DEFAULT_VIA: Final = (StepChannel.CHAT.value, StepChannel.EMAIL.value)
#: what separates the channels of a list in a file or a form
_SPLIT = re.compile(r"[;；,，、\s]+")


def _words() -> dict[str, Channel]:
    """Every spelling of a personal channel an admin or a file may use: code, zh and en."""
    out: dict[str, Channel] = {}
    others = {c.value for c in Channel if c not in ADDRESS_OF}  # "wecom" is the group robot
    for channel in PERSONAL:
        zh, en = CATALOGUE[Channel][channel]
        for word in (channel.value, zh, en):
            if word.casefold() not in others:
                out[word.casefold()] = channel
    return out


def parse_prefs(value: str | Iterable[str] | None) -> tuple[Channel, ...]:
    """A preference list from text (``wecom_app;email``, ``企业微信；电子邮件``) or a list of
    codes; ``()`` for none (the default). Unknown or repeated channels raise
    `ValidationFailed` with a message naming the valid ones."""
    if value is None:
        return ()
    parts = _SPLIT.split(value) if isinstance(value, str) else list(value)
    words, out = _words(), []
    problems: list[tuple[ImportWord, dict[str, object]]] = []
    for part in (p.strip() for p in parts):
        if not part:
            continue
        channel = words.get(part.casefold())
        if channel is None:
            valid = Both(
                "、".join(CATALOGUE[Channel][c][0] for c in PERSONAL),
                ", ".join(c.value for c in PERSONAL),
            )
            problems.append((ImportWord.NOT_A_CHANNEL, {"text": part, "valid": valid}))
        elif channel in out:
            word = Both(CATALOGUE[Channel][channel][0], channel.value)
            problems.append((ImportWord.CHANNEL_TWICE, {"channel": word}))
        else:
            out.append(channel)
    if problems:
        raise PrefsRefused(problems)
    return tuple(out)


class PrefsRefused(ValidationFailed):
    """A preference list that cannot be kept: ``errors`` in English (``channels: …``) and
    ``errors_zh`` the same problems in Chinese."""

    def __init__(self, problems: Sequence[tuple[ImportWord, dict[str, object]]]) -> None:
        errors = [f"channels: {say_import(word, 'en', **values)}" for word, values in problems]
        super().__init__("; ".join(errors), errors)
        self.errors_zh = [say_import(word, "zh", **values) for word, values in problems]
        zh = "；".join(f"接收渠道：{text}" for text in self.errors_zh)
        self.said = lambda locale: zh if lang_of(locale) == "zh" else "; ".join(errors)


def format_prefs(channels: Sequence[Channel]) -> str | None:
    """The stored form of a preference list (``wecom_app,email``); None for the default."""
    return ",".join(c.value for c in channels) or None


def prefs_of(person: Reachable) -> tuple[Channel, ...]:
    """A person's stored preference list (``()``: the default); stored values are valid."""
    stored = person.channel_prefs
    return tuple(Channel(c) for c in stored.split(",") if c) if stored else ()


def format_via(channels: Iterable[str]) -> str:
    """The ``via`` column of a row: the channels its cause allowed."""
    return ",".join(channels)


def parse_via(via: str | None) -> tuple[str, ...]:
    """The channels a row's cause allowed (``chat``/``email`` or channel codes)."""
    return tuple(v for v in via.split(",") if v) if via else DEFAULT_VIA


def allowed(via: Iterable[str]) -> tuple[Channel, ...]:
    """The individual channels that a cause's channels allow: ``chat`` is every chat app."""
    wanted: set[Channel] = set()
    for name in via:
        if name == StepChannel.CHAT:
            wanted.update(CHAT_APPS)
        elif name in PERSONAL:
            wanted.add(Channel(name))
    return tuple(c for c in PERSONAL if c in wanted)


def _reached(person: Reachable, order: Iterable[Channel]) -> list[tuple[Channel, str]]:
    out: list[tuple[Channel, str]] = []
    for channel in order:
        address = ADDRESS_OF[channel](person)
        if address:
            out.append((channel, address))
    return out


def preferred(person: Reachable, via: Iterable[str]) -> list[tuple[Channel, str]]:
    """The person's list, less what the cause does not allow or what does not reach them;
    empty when they have no list, or when nothing of it is left (then the default holds:
    a list is a preference, never a way to miss a message the office sends)."""
    prefs = prefs_of(person)
    if not prefs:
        return []
    ok = set(allowed(via))
    return _reached(person, (c for c in prefs if c in ok))


def route(person: Reachable, via: Iterable[str]) -> list[tuple[Channel, str]]:
    """The (channel, address) pairs a message reaches the person on, in the order tried.

    With a usable preference (:func:`preferred`): that list. Otherwise the default: the chat
    apps the cause allows, then e-mail (always last: the stand-in of a failed chat app even
    when the cause allowed chat only).
    """
    via = tuple(via)
    return preferred(person, via) or _reached(
        person, [*(c for c in CHAT_APPS if c in allowed(via)), Channel.EMAIL]
    )


def first_sends(person: Reachable, via: Iterable[str]) -> list[tuple[Channel, str]]:
    """Where a new message goes: the first channel of a usable preference; otherwise every
    channel of the route that the cause allows, at once (the default)."""
    via = tuple(via)
    mine = preferred(person, via)
    if mine:
        return mine[:1]
    ok = allowed(via)
    return [(c, a) for c, a in route(person, via) if c in ok]


async def set_prefs(
    session: AsyncSession,
    *,
    person_id: int,
    channels: str | Iterable[str] | None,
    actor: Person,
    clock: Clock,
) -> Person:
    """Set a person's channel preference, in order (empty: the default); audited.

    A person may change their own, an admin of people anyone's (`supervision.access`); the
    rows not yet sent follow the new order at delivery. Bad input raises and changes nothing.
    """
    if not Member.of(actor).sets_channels_of(person_id):
        raise refusal(NotPermitted, Sentence.CHANNELS_OWN_ONLY)
    person = await session.get(Person, person_id)
    if person is None:
        raise NotFound(f"no person #{person_id}")
    stored = format_prefs(parse_prefs(channels))
    if stored != person.channel_prefs:
        record(
            session,
            clock=clock,
            actor=Actor.of(actor),
            entity="person",
            entity_id=person.id,
            action="update",
            detail={"changes": {"channel_prefs": [person.channel_prefs, stored]}},
        )
        person.channel_prefs = stored
        await session.flush()
    return person
