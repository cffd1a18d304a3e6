"""The renderer: resolve a template (admin override, else default file), render it in the
sandbox, fit it to the channel; and ``validate`` for admin templates on the sample context."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Final, Protocol

from jinja2 import (
    Template,
    TemplateSyntaxError,
)

from notifier.templating.errors import (
    ADMIN_FILENAME,
    TemplateError,
    TemplateInvalid,
    TemplateMissing,
    TemplateTooLong,
    TemplateUnsafe,
    translate,
)
from notifier.templating.fitting import (
    finish,
    limit_problem,
    markdown_title,
    telegram_tag_problems,
    tidy,
)
from notifier.templating.keys import (
    CHANNELS,
    DEFAULT_LOCALE,
    DEFAULT_TEMPLATES_DIR,
    GROUP,
    GROUP_CHANNELS,
    STEPS,
    parts_for,
)
from notifier.templating.sandbox import (
    _BUDGET,
    MAX_RAW_OUTPUT,
    MAX_SOURCE_CHARS,
    SandboxEnvironment,
    _Budget,
)
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
class _Source:
    text: str
    origin: str  # "override" or the template file name
    filename: str
    locale: str


_ENV_CACHE: dict[tuple[str, str, Path], SandboxEnvironment] = {}


def _environment(channel: str, part: str, templates_dir: Path) -> SandboxEnvironment:
    key = (channel, part, templates_dir)
    env = _ENV_CACHE.get(key)
    if env is None:
        env = _ENV_CACHE[key] = SandboxEnvironment(
            channel=channel, part=part, templates_dir=templates_dir
        )
    return env


def _check_source(source: str) -> None:
    if len(source) > MAX_SOURCE_CHARS:
        raise TemplateTooLong(
            f"模板过长：{len(source)} 字符，上限 {MAX_SOURCE_CHARS} / template source is "
            f"{len(source)} characters, limit {MAX_SOURCE_CHARS}"
        )


_COMPILED: dict[tuple[int, str], Template] = {}
_COMPILED_MAX: Final = 512


def _compile(env: SandboxEnvironment, source: str) -> Template:
    key = (id(env), source)
    template = _COMPILED.get(key)
    if template is None:
        _check_source(source)
        try:
            template = env.from_string(source)
        except TemplateSyntaxError as exc:
            raise translate(exc, ADMIN_FILENAME, at_render=False) from exc
        template.filename = ADMIN_FILENAME
        if len(_COMPILED) >= _COMPILED_MAX:
            _COMPILED.pop(next(iter(_COMPILED)))
        _COMPILED[key] = template
    return template


def _run(template: Template, variables: dict[str, object]) -> str:
    """Render with a fresh work budget, stopping once the raw output is absurdly long."""
    token = _BUDGET.set(_Budget())
    try:
        chunks: list[str] = []
        size = 0
        for chunk in template.generate(variables):
            size += len(chunk)
            if size > MAX_RAW_OUTPUT:
                raise TemplateTooLong(
                    f"输出超过 {MAX_RAW_OUTPUT} 字符，已停止 / output exceeded "
                    f"{MAX_RAW_OUTPUT} characters, rendering stopped"
                )
            chunks.append(chunk)
        return "".join(chunks)
    finally:
        _BUDGET.reset(token)


_ACTIVE_HTML: Final = re.compile(
    r"<\s*(script|iframe|object|embed|form|meta\s+http-equiv)\b|\son\w+\s*=|javascript:",
    re.IGNORECASE,
)


def _check_channel_part(channel: str, part: str) -> None:
    if channel != GROUP and channel not in CHANNELS:
        raise TemplateError(f"未知渠道 / unknown channel {channel!r}")
    allowed = parts_for("email" if channel == "email" else "telegram")
    if part not in allowed:
        raise TemplateError(f"渠道 {channel} 没有 {part} 部分 / channel has no part {part!r}")


def validate(
    source: str,
    *,
    step: str,
    channel: str,
    part: str = "text",
    locale: str = DEFAULT_LOCALE,
    templates_dir: Path = DEFAULT_TEMPLATES_DIR,
) -> str:
    """Check an admin template and return its preview on the sample context, or raise.

    For the ``group`` pseudo-channel the template is checked for every group channel and
    the WeCom preview (the strictest limit) is returned.
    """
    if step not in STEPS:
        raise TemplateError(f"未知的消息类型 / unknown step {step!r}")
    _check_channel_part(channel, part)
    _check_source(source)
    targets = sorted(GROUP_CHANNELS, key=lambda c: c != "wecom") if channel == GROUP else [channel]
    variables = sample_context(step, locale).as_template_vars()
    previews: list[str] = []
    for target in targets:
        env = _environment(target, part, templates_dir)
        template = _compile(env, source)
        try:
            raw = _run(template, variables | {"channel": target, "locale": locale})
        except Exception as exc:
            raise translate(exc, ADMIN_FILENAME, at_render=False) from exc
        text = tidy(raw, part)
        if not text:
            raise TemplateInvalid("模板输出为空 / the template renders to nothing")
        if target == "telegram":
            problems = telegram_tag_problems(text)
            if problems:
                raise TemplateUnsafe("；".join(problems))
        if part == "html":
            active = _ACTIVE_HTML.search(text)
            if active:
                raise TemplateUnsafe(
                    f"邮件 HTML 不允许脚本或事件属性 / email HTML may not contain "
                    f"scripts, frames, forms or event handlers: {active.group(0)!r}"
                )
        problem = limit_problem(target, part, text)
        if problem:
            raise TemplateTooLong(problem)
        previews.append(text)
    return previews[0]


class Renderer:
    """Renders ladder and review messages: admin override, else the default file."""

    def __init__(
        self, store: TemplateStore | None = None, templates_dir: Path = DEFAULT_TEMPLATES_DIR
    ) -> None:
        self.store = store
        self.templates_dir = templates_dir

    async def _source(self, step: str, channel: str, locale: str, part: str) -> _Source | None:
        channels = [channel, GROUP] if channel in GROUP_CHANNELS else [channel]
        locales = [locale] if locale == DEFAULT_LOCALE else [locale, DEFAULT_LOCALE]
        for loc in locales:
            if self.store is not None:
                for ch in channels:
                    text = await self.store.get(step, ch, loc, part)
                    if text is not None:
                        return _Source(text, "override", ADMIN_FILENAME, loc)
            for ch in channels:
                name = f"{loc}/{step}.{ch}.{part}.j2"
                path = self.templates_dir / name
                if path.is_file():
                    return _Source("", name, str(path), loc)
        return None

    def _render_part(
        self, source: _Source, channel: str, part: str, variables: dict[str, object]
    ) -> str:
        env = _environment(channel, part, self.templates_dir)
        filename: str | None = source.filename
        try:
            if source.origin == "override":
                template = _compile(env, source.text)
            else:
                template = env.get_template(source.origin)
                filename = template.filename
            raw = _run(template, variables)
        except Exception as exc:
            raise translate(exc, filename, at_render=True) from exc
        return finish(channel, part, raw)

    async def render(
        self, step: str, channel: str, locale: str, context: MessageContext
    ) -> RenderedMessage:
        """Render every part of ``step`` for ``channel`` in ``locale``."""
        if channel not in CHANNELS:
            raise TemplateError(f"未知渠道 / unknown channel {channel!r}")
        variables = context.as_template_vars()
        rendered: dict[str, str | None] = {}
        for part in parts_for(channel):
            source = await self._source(step, channel, locale, part)
            if source is None:
                if part == "html":
                    rendered[part] = None
                    continue
                raise TemplateMissing(
                    f"没有模板 / no template for {step}.{channel}.{part} ({locale})"
                )
            part_vars = variables | {"channel": channel, "locale": source.locale}
            rendered[part] = self._render_part(source, channel, part, part_vars)
        text = rendered["text"]
        assert text is not None
        if channel == "dingtalk":
            # DingTalk markdown needs a title (shown in the chat list): the first line, plain.
            rendered["subject"] = markdown_title(text)
        return RenderedMessage(
            subject=rendered.get("subject"), text=text, html=rendered.get("html")
        )
