"""Routing at delivery: a person's current channel preference, and the next channel on failure.

The route is `supervision.channel_prefs.route` read from the person's record now, so a
preference changed after a row was written holds for the rows not yet sent; a channel this
process has not configured is passed over when another one of the route is configured. The
stand-in row names the row it replaces (``fallback_of_id``), so the delivery log and the item
timeline show both. Imports models and supervision only.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from models import Channel, Notification, Person
from supervision.channel_prefs import PERSONAL, parse_via, preferred, route
from supervision.outbox import add, fallback_key, on_channel

_SUFFIX = fallback_key("")


@dataclass(frozen=True)
class Moved:
    """A row the person's preference sends elsewhere: why, and its stand-in (None: the
    message is on that channel already)."""

    reason: str
    stand_in_id: int | None


def _keys_of_message(key: str) -> list[str]:
    """Every key a row of the same message to the same person can have: on each individual
    channel, first or as a stand-in (``<key>:fallback``, once per channel at most)."""
    while key.endswith(_SUFFIX):
        key = key[: -len(_SUFFIX)]
    out = []
    for channel in PERSONAL:
        candidate = on_channel(key, channel)
        for _ in range(len(PERSONAL) + 1):
            out.append(candidate)
            candidate = fallback_key(candidate)
    return out


class Router:
    """Routes a person's rows at delivery; ``configured(kind)`` says whether this process has
    a real channel of that kind (`notifier.channels.base.ChannelRegistry.configured`)."""

    def __init__(self, configured: Callable[[str], bool]) -> None:
        self.configured = configured

    def _first(self, person: Person, row: Notification) -> list[tuple[Channel, str]]:
        """The person's usable preference for ``row``'s message now (empty: none, the default
        holds): channels this process cannot send on are left out when another one can."""
        hops = preferred(person, parse_via(row.via))
        usable = [h for h in hops if self.configured(h[0])]
        return usable or hops

    async def _taken(self, session: AsyncSession, row: Notification) -> set[str]:
        """The channels that already carry (or carried, or failed) this message to the person."""
        # Exact keys: the unique index answers (a prefix LIKE would not use it on PostgreSQL).
        found = await session.scalars(
            select(Notification.channel).where(
                Notification.dedupe_key.in_(_keys_of_message(row.dedupe_key))
            )
        )
        return {str(c) for c in found}

    async def _stand_in(
        self,
        session: AsyncSession,
        row: Notification,
        hop: tuple[Channel, str],
        *,
        key: str,
        now: datetime,
    ) -> int | None:
        channel, address = hop
        return await add(
            session,
            dedupe_key=key,
            kind=row.kind,
            channel=channel,
            not_before=now,
            now=now,
            recipient_id=row.recipient_id,
            address=address,
            assignment_id=row.assignment_id,
            item_id=row.item_id,
            locale=row.locale,
            payload=dict(row.payload or {}),
            thread_key=row.thread_key,
            fallback_of_id=row.id,
            via=row.via,
        )

    async def moved(
        self, session: AsyncSession, row: Notification, person: Person | None, *, now: datetime
    ) -> Moved | None:
        """None when ``row`` goes out on its own channel; else why not, and its stand-in.

        Only the first row of a message to a person with a usable preference moves (a
        stand-in stays where it was put, so a message moves at most once).
        """
        if person is None or row.fallback_of_id is not None:
            return None
        hops = self._first(person, row)
        if not hops:
            return None
        channel = hops[0][0]
        if channel == row.channel:
            return None
        reason = f"moved to {channel.value} by the person's channel preference"
        if channel in await self._taken(session, row):
            return Moved(f"{reason} (already there)", None)
        key = on_channel(row.dedupe_key, channel)
        return Moved(reason, await self._stand_in(session, row, hops[0], key=key, now=now))

    async def fall_back(
        self, session: AsyncSession, row: Notification, now: datetime
    ) -> int | None:
        """Queue the message of ``row`` (failed for good) on the next channel of its route
        that has not carried it yet; the new row's id, or None when there is none."""
        if row.recipient_id is None:
            return None
        person = await session.get(Person, row.recipient_id)
        if person is None or not person.active:
            return None
        hops = route(person, parse_via(row.via))
        after = next((i for i, (c, _) in enumerate(hops) if c == row.channel), -1)
        taken = await self._taken(session, row)
        rest = [h for h in hops[after + 1 :] if h[0] not in taken]
        # A configured channel first; else the log stand-in shows what was not sent.
        rest.sort(key=lambda h: not self.configured(h[0]))
        if not rest:
            return None
        return await self._stand_in(
            session, row, rest[0], key=fallback_key(row.dedupe_key), now=now
        )
