"""Invite links in the outbox are sealed: never in a payload, a stored body or a log line."""

from __future__ import annotations

import logging

import pytest
from sqlalchemy import select

from models import DeliveryAttempt, Notification, Person
from notifier.channels.base import HIDDEN, ChannelRegistry
from notifier.channels.log import LogChannel
from notifier.context import ContextConfig
from notifier.delivery import Deliverer, DeliveryOptions
from notifier.ratelimit import MemoryLimiter
from notifier.templating import Renderer
from supervision.calendar import WorkCalendar
from supervision.invites import SEALED_LINK, create_invite, deep_link, queue_invite_email
from supervision.sealing import SealBroken, Sealer
from testing import SHANGHAI
from testing import factories as f

KEY = "k" * 40


def test_a_seal_opens_only_with_its_key() -> None:
    sealed = Sealer(KEY).seal("https://t.me/bot?start=abc")
    assert "abc" not in sealed
    assert Sealer(KEY).open(sealed) == "https://t.me/bot?start=abc"
    with pytest.raises(SealBroken):
        Sealer("another key " * 4).open(sealed)
    with pytest.raises(SealBroken):
        Sealer(KEY).open(sealed[:-4] + "AAAA")
    assert KEY not in repr(Sealer(KEY))


async def _queued(sessions, clock) -> tuple[int, str]:
    async with sessions() as s, s.begin():
        person = await f.person(s, email="sunqi@example.gov.cn")
        new = await create_invite(s, person=person, clock=clock)
        link = deep_link("duban_bot", new.token)
        assert await queue_invite_email(
            s, new=new, link=link, sealer=Sealer(KEY), clock=clock, tz=SHANGHAI
        )
        row = await s.scalar(select(Notification).where(Notification.kind == "invite"))
        assert row is not None and new.token not in str(row.payload)
        assert SEALED_LINK in row.payload
        return row.id, link


async def _deliver(sessions, clock, row_id: int, key: str) -> None:
    await Deliverer(
        sessions,
        channels=ChannelRegistry([], substitute=LogChannel()),
        renderer=Renderer(),
        clock=clock,
        limiter=MemoryLimiter(clock),
        options=DeliveryOptions(
            calendar=WorkCalendar(), worker="test", context=ContextConfig(sealer=Sealer(key))
        ),
    ).deliver(row_id)


async def test_the_log_channel_and_the_stored_body_hide_the_link(sessions, clock, caplog) -> None:
    row_id, link = await _queued(sessions, clock)
    with caplog.at_level(logging.INFO, logger="duban.notifier.log_channel"):
        await _deliver(sessions, clock, row_id, KEY)
    assert "NOT SENT" in caplog.text and HIDDEN in caplog.text
    assert link not in caplog.text
    async with sessions() as s:
        row = await s.get_one(Notification, row_id)
    assert row.status == "sent"
    assert HIDDEN in (row.body_text or "") and link not in (row.body_text or "")
    assert link not in (row.body_html or "")


async def test_a_seal_from_another_key_is_not_sent(sessions, clock) -> None:
    row_id, _link = await _queued(sessions, clock)
    await _deliver(sessions, clock, row_id, "a different secret key, rotated meanwhile")
    async with sessions() as s:
        row = await s.get_one(Notification, row_id)
        attempts = (await s.scalars(select(DeliveryAttempt))).all()
        assert await s.scalar(select(Person.email)) == "sunqi@example.gov.cn"
    assert row.status != "sent" and not row.body_text
    assert [a.outcome for a in attempts] == ["transient"]
    assert "SealBroken" in (attempts[0].error or "")
