"""The renderer: resolve each part's template (admin override, else default file) and have a
render worker render it; and :func:`validate` for admin templates on the sample context.

Nothing here runs a template: jobs go to a :class:`~notifier.templating.pool.RenderPool`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from notifier.templating.errors import TemplateError, TemplateMissing
from notifier.templating.fitting import markdown_title
from notifier.templating.jobs import MessageJob, PartSource, ValidateJob, check_key
from notifier.templating.keys import (
    CHANNELS,
    DEFAULT_LOCALE,
    DEFAULT_TEMPLATES_DIR,
    parts_for,
    template_channels,
)
from notifier.templating.pool import RenderPool, default_pool
from notifier.templating.views import MessageContext, RenderedMessage, sample_context


class TemplateStore(Protocol):
    """Admin overrides (the DB layer implements this)."""

    async def get(self, step: str, channel: str, locale: str, part: str) -> str | None:
        """The override source, or None to use the default."""
        ...


class InMemoryTemplateStore:
    """A TemplateStore backed by a dict; for tests and previews."""

    def __init__(self, sources: Mapping[tuple[str, str, str, str], str] | None = None) -> None:
        self.sources: dict[tuple[str, str, str, str], str] = dict(sources or {})

    def set(self, step: str, channel: str, locale: str, part: str, source: str) -> None:
        """Store an override."""
        self.sources[(step, channel, locale, part)] = source

    async def get(self, step: str, channel: str, locale: str, part: str) -> str | None:
        """The override for this key, if any."""
        return self.sources.get((step, channel, locale, part))


@dataclass(frozen=True)
class RenderRequest:
    """One message to render: ``step`` for ``channel`` in ``locale``."""

    step: str
    channel: str
    locale: str
    context: MessageContext


async def validate(
    source: str,
    *,
    step: str,
    channel: str,
    part: str = "text",
    locale: str = DEFAULT_LOCALE,
    templates_dir: Path = DEFAULT_TEMPLATES_DIR,
    pool: RenderPool | None = None,
) -> str:
    """Check an admin template and return its preview on the sample context, or raise.

    For the ``group`` pseudo-channel the template is checked for every group channel and
    the WeCom preview (the strictest limit) is returned.
    """
    check_key(step, channel, part)
    job = ValidateJob(
        source, step, channel, part, locale, templates_dir, sample_context(step, locale)
    )
    [result] = await (pool or default_pool()).run([job])
    if isinstance(result, TemplateError):
        raise result
    return result


class Renderer:
    """Renders ladder and review messages: admin override, else the default file."""

    def __init__(
        self,
        store: TemplateStore | None = None,
        templates_dir: Path = DEFAULT_TEMPLATES_DIR,
        pool: RenderPool | None = None,
    ) -> None:
        self.store = store
        self.templates_dir = templates_dir
        self._pool = pool

    @property
    def pool(self) -> RenderPool:
        """The render workers this renderer uses (the default pool unless given one)."""
        return self._pool or default_pool()

    async def _source(self, step: str, channel: str, locale: str, part: str) -> PartSource | None:
        channels = template_channels(channel)
        locales = [locale] if locale == DEFAULT_LOCALE else [locale, DEFAULT_LOCALE]
        for loc in locales:
            if self.store is not None:
                for ch in channels:
                    text = await self.store.get(step, ch, loc, part)
                    if text is not None:
                        return PartSource(part, loc, override=text)
            for ch in channels:
                name = f"{loc}/{step}.{ch}.{part}.j2"
                if (self.templates_dir / name).is_file():
                    return PartSource(part, loc, name=name)
        return None

    async def _job(self, request: RenderRequest) -> MessageJob:
        # Plain strings (an outbox row's channel is a models enum): the job is unpickled in a
        # render worker, which must not have to load the models.
        step, channel, locale = str(request.step), str(request.channel), str(request.locale)
        if channel not in CHANNELS:
            raise TemplateError(f"未知渠道 / unknown channel {channel!r}")
        sources: list[PartSource] = []
        for part in parts_for(channel):
            source = await self._source(step, channel, locale, part)
            if source is not None:
                sources.append(source)
            elif part != "html":
                raise TemplateMissing(
                    f"没有模板 / no template for {step}.{channel}.{part} ({locale})"
                )
        return MessageJob(channel, request.context, tuple(sources), self.templates_dir)

    async def render_many(
        self, requests: Sequence[RenderRequest]
    ) -> list[RenderedMessage | TemplateError]:
        """Render many messages in one call to the workers; each comes back or fails alone."""
        results: list[RenderedMessage | TemplateError | None] = []
        jobs: list[MessageJob] = []
        for request in requests:
            try:
                jobs.append(await self._job(request))
                results.append(None)
            except TemplateError as exc:
                results.append(exc)
        try:
            done = iter(await self.pool.run(jobs))
        except TemplateError as exc:  # the workers are unavailable: every message fails so
            done = iter([exc] * len(jobs))
        for n, (request, result) in enumerate(zip(requests, results, strict=True)):
            if result is None:
                parts = next(done)
                results[n] = parts if isinstance(parts, TemplateError) else _message(request, parts)
        return [r for r in results if r is not None]

    async def render(
        self, step: str, channel: str, locale: str, context: MessageContext
    ) -> RenderedMessage:
        """Render every part of ``step`` for ``channel`` in ``locale``; raise TemplateError."""
        [result] = await self.render_many([RenderRequest(step, channel, locale, context)])
        if isinstance(result, TemplateError):
            raise result
        return result


def _message(request: RenderRequest, parts: dict[str, str]) -> RenderedMessage:
    text = parts["text"]
    subject = parts.get("subject")
    if request.channel == "dingtalk":
        # DingTalk markdown needs a title (shown in the chat list): the first line, plain.
        subject = markdown_title(text)
    return RenderedMessage(subject=subject, text=text, html=parts.get("html"))
