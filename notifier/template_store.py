"""Admin template overrides in the database: the renderer's store, and save/reset/history.

``DbTemplateStore`` implements ``notifier.templating.TemplateStore`` from the ``templates``
table (cached briefly so a burst of deliveries does not query it per message). The web admin
calls :func:`save_override`, :func:`reset_override`, :func:`restore_version` and
:func:`history` in its own transaction.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from models import Template, TemplateVersion
from notifier.templating import RenderPool, TemplateError, validate
from supervision.audit import Actor, record
from supervision.clock import Clock
from supervision.errors import ValidationFailed
from supervision.labels import Sentence, refusal

Key = tuple[str, str, str, str]  # step, channel, locale, part


class TemplateRejected(ValidationFailed):
    """An override that does not validate; ``error`` is the renderer's TemplateError."""

    def __init__(self, error: TemplateError) -> None:
        super().__init__(str(error))
        self.error = error


class DbTemplateStore:
    """Overrides from the ``templates`` table, reloaded at most every ``ttl`` seconds."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        *,
        ttl: float = 10.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.sessions = sessions
        self.ttl = ttl
        self._monotonic = monotonic
        self._cache: dict[Key, str] | None = None
        self._loaded_at = 0.0

    def invalidate(self) -> None:
        """Forget the cache (after a save in this process)."""
        self._cache = None

    async def _load(self) -> dict[Key, str]:
        now = self._monotonic()
        if self._cache is None or now - self._loaded_at >= self.ttl:
            async with self.sessions() as session:
                rows = (await session.scalars(select(Template))).all()
            self._cache = {(r.step, r.channel, r.locale, r.part): r.body for r in rows}
            self._loaded_at = now
        return self._cache

    async def get(self, step: str, channel: str, locale: str, part: str) -> str | None:
        """The override source, or None to use the default file."""
        return (await self._load()).get((step, channel, locale, part))


@dataclass(frozen=True)
class SavedOverride:
    """The stored override and its preview on the sample context."""

    template: Template
    preview: str


async def _next_version(session: AsyncSession, key: Key) -> int:
    step, channel, locale, part = key
    current = await session.scalar(
        select(func.max(TemplateVersion.version)).where(
            TemplateVersion.step == step,
            TemplateVersion.channel == channel,
            TemplateVersion.locale == locale,
            TemplateVersion.part == part,
        )
    )
    return (current or 0) + 1


async def _current(session: AsyncSession, key: Key) -> Template | None:
    step, channel, locale, part = key
    return await session.scalar(
        select(Template)
        .where(
            Template.step == step,
            Template.channel == channel,
            Template.locale == locale,
            Template.part == part,
        )
        .with_for_update()
    )


async def _log_version(
    session: AsyncSession,
    template: Template,
    key: Key,
    *,
    version: int,
    body: str,
    action: str,
    actor: Actor,
    clock: Clock,
    note: str | None,
    restored_from: int | None = None,
) -> None:
    """Keep ``body`` as ``version`` of ``key`` (empty for a reset) and audit the change."""
    step, channel, locale, part = key
    session.add(
        TemplateVersion(
            step=step,
            channel=channel,
            locale=locale,
            part=part,
            version=version,
            body=body,
            created_by_id=actor.person_id,
            note=note,
            restored_from=restored_from,
            created_at=clock.now(),
        )
    )
    await session.flush()
    record(
        session,
        clock=clock,
        actor=actor,
        entity="template",
        entity_id=template.id,
        action=action,
        detail={
            "step": step,
            "channel": channel,
            "locale": locale,
            "part": part,
            "version": version,
        }
        | ({"restored_from": restored_from} if restored_from is not None else {}),
    )


async def save_override(
    session: AsyncSession,
    *,
    step: str,
    channel: str,
    locale: str,
    part: str,
    body: str,
    actor: Actor,
    clock: Clock,
    note: str | None = None,
    pool: RenderPool | None = None,
) -> SavedOverride:
    """Validate and store an admin override (new version, audit event); raise TemplateRejected.

    The template is tried in ``pool``'s render workers (the default pool when None)."""
    try:
        preview = await validate(
            body, step=step, channel=channel, part=part, locale=locale, pool=pool
        )
    except TemplateError as exc:
        raise TemplateRejected(exc) from exc
    key = (step, channel, locale, part)
    template = await _store(session, key, body, actor=actor, clock=clock, note=note)
    return SavedOverride(template, preview)


async def _store(
    session: AsyncSession,
    key: Key,
    body: str,
    *,
    actor: Actor,
    clock: Clock,
    note: str | None,
    restored_from: int | None = None,
) -> Template:
    """Make ``body`` the override of ``key`` as its next version (audited)."""
    step, channel, locale, part = key
    version = await _next_version(session, key)
    template = await _current(session, key)
    if template is None:
        template = Template(step=step, channel=channel, locale=locale, part=part, body=body)
        session.add(template)
    template.body = body
    template.version = version
    template.updated_by_id = actor.person_id
    template.updated_at = clock.now()
    await _log_version(
        session,
        template,
        key,
        version=version,
        body=body,
        action="template.save" if restored_from is None else "template.restore",
        actor=actor,
        clock=clock,
        note=note,
        restored_from=restored_from,
    )
    return template


class VersionNotRestorable(ValidationFailed):
    """The version does not exist for this template, or is a reset (nothing to restore)."""


async def restore_version(
    session: AsyncSession,
    *,
    step: str,
    channel: str,
    locale: str,
    part: str,
    version: int,
    actor: Actor,
    clock: Clock,
    pool: RenderPool | None = None,
) -> Template:
    """Make an earlier version's body the override again, as a new version (audited
    ``template.restore``); raise VersionNotRestorable or TemplateRejected (it must still
    validate: the sandbox or the sample may have changed since)."""
    key = (step, channel, locale, part)
    old = await session.scalar(
        select(TemplateVersion).where(
            TemplateVersion.step == step,
            TemplateVersion.channel == channel,
            TemplateVersion.locale == locale,
            TemplateVersion.part == part,
            TemplateVersion.version == version,
        )
    )
    if old is None or not old.body:
        raise refusal(VersionNotRestorable, Sentence.TEMPLATE_VERSION_MISSING, version=version)
    try:
        await validate(old.body, step=step, channel=channel, part=part, locale=locale, pool=pool)
    except TemplateError as exc:
        raise TemplateRejected(exc) from exc
    return await _store(
        session, key, old.body, actor=actor, clock=clock, note=None, restored_from=version
    )


async def reset_override(
    session: AsyncSession,
    *,
    step: str,
    channel: str,
    locale: str,
    part: str,
    actor: Actor,
    clock: Clock,
) -> bool:
    """Drop the override so the default file applies again; False when there was none."""
    key = (step, channel, locale, part)
    template = await _current(session, key)
    if template is None:
        return False
    version = await _next_version(session, key)
    await _log_version(
        session,
        template,
        key,
        version=version,
        body="",
        action="template.reset",
        actor=actor,
        clock=clock,
        note="reset to default",
    )
    await session.delete(template)
    await session.flush()
    return True


async def history(
    session: AsyncSession, *, step: str, channel: str, locale: str, part: str
) -> list[TemplateVersion]:
    """Every saved body of one template, oldest first (a reset is an empty body)."""
    rows = await session.scalars(
        select(TemplateVersion)
        .where(
            TemplateVersion.step == step,
            TemplateVersion.channel == channel,
            TemplateVersion.locale == locale,
            TemplateVersion.part == part,
        )
        .order_by(TemplateVersion.version)
    )
    return list(rows.all())
