"""Render jobs: plain data sent to a render worker, and the code that runs them there.

A job is pickled into the worker (``notifier.templating.pool``), where ``run()`` compiles and
renders in the sandbox and fits the output to the channel. Environments and compiled admin
templates are cached per worker process (by source hash). Nothing here is called on the
service's event loop except to build jobs.
"""

from __future__ import annotations

import hashlib
import html
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from jinja2 import Template, TemplateSyntaxError

from notifier.templating.allowlists import sanitize_email_html
from notifier.templating.errors import (
    ADMIN_FILENAME,
    TemplateError,
    TemplateInvalid,
    TemplateTooLong,
    TemplateUnsafe,
    translate,
)
from notifier.templating.fitting import (
    OUTPUT_LIMITS,
    finish,
    limit_problem,
    measure,
    telegram_tag_problems,
    tidy,
)
from notifier.templating.keys import CHANNELS, GROUP, GROUP_CHANNELS, STEPS, parts_for
from notifier.templating.sandbox import SandboxEnvironment, check_source, run
from notifier.templating.views import MessageContext

_ENV_CACHE: dict[tuple[str, str, Path], SandboxEnvironment] = {}
_COMPILED: dict[tuple[str, str, Path, bytes], Template] = {}
_COMPILED_MAX: Final = 512


def _environment(channel: str, part: str, templates_dir: Path) -> SandboxEnvironment:
    key = (channel, part, templates_dir)
    env = _ENV_CACHE.get(key)
    if env is None:
        env = _ENV_CACHE[key] = SandboxEnvironment(
            channel=channel, part=part, templates_dir=templates_dir
        )
    return env


def _compile(channel: str, part: str, templates_dir: Path, source: str) -> Template:
    """An admin template compiled for one channel part, from this worker's cache."""
    key = (channel, part, templates_dir, hashlib.sha256(source.encode()).digest())
    template = _COMPILED.get(key)
    if template is None:
        check_source(source)
        env = _environment(channel, part, templates_dir)
        try:
            # Compiled with a name, so its includes and imports pass through join_path.
            code = env.compile(source, name=ADMIN_FILENAME, filename=ADMIN_FILENAME)
        except TemplateSyntaxError as exc:
            raise translate(exc, ADMIN_FILENAME, at_render=False) from exc
        template = env.template_class.from_code(env, code, env.make_globals(None))
        template.filename = ADMIN_FILENAME
        if len(_COMPILED) >= _COMPILED_MAX:
            _COMPILED.pop(next(iter(_COMPILED)))
        _COMPILED[key] = template
    return template


@dataclass(frozen=True)
class PartSource:
    """Where one part's template comes from: an override's text, or a default file."""

    part: str
    locale: str
    #: the admin override's source; None to use the default file ``name``
    override: str | None = None
    name: str = ADMIN_FILENAME


@dataclass(frozen=True)
class MessageJob:
    """Render every part of one message; ``run()`` returns the text of each part."""

    channel: str
    context: MessageContext
    parts: tuple[PartSource, ...]
    templates_dir: Path

    def run(self) -> dict[str, str]:
        """Render each part (in the worker) and fit it to the channel."""
        variables = self.context.as_template_vars() | {"channel": self.channel}
        return {p.part: self._part(p, variables | {"locale": p.locale}) for p in self.parts}

    def _part(self, source: PartSource, variables: dict[str, object]) -> str:
        filename: str | None = ADMIN_FILENAME
        try:
            if source.override is not None:
                template = _compile(self.channel, source.part, self.templates_dir, source.override)
            else:
                env = _environment(self.channel, source.part, self.templates_dir)
                template = env.get_template(source.name)
                filename = template.filename
            raw = run(template, variables)
        except Exception as exc:
            raise translate(exc, filename, at_render=True) from exc
        return finish(self.channel, source.part, raw)


_ACTIVE_HTML: Final = re.compile(
    r"<\s*(script|iframe|object|embed|form|svg|style|meta\s+http-equiv)\b|\son\w+\s*=",
    re.IGNORECASE,
)
_SCRIPT_URL: Final = re.compile(r"(?:java|vb)script:", re.IGNORECASE)
_BLANKS: Final = re.compile(r"[\x00-\x20]+")


def check_key(step: str, channel: str, part: str) -> None:
    """Refuse an unknown step, channel or part (``group`` is the robots' shared channel)."""
    if step not in STEPS:
        raise TemplateError(f"未知的消息类型 / unknown step {step!r}")
    if channel != GROUP and channel not in CHANNELS:
        raise TemplateError(f"未知渠道 / unknown channel {channel!r}")
    allowed = parts_for("email" if channel == "email" else "telegram")
    if part not in allowed:
        raise TemplateError(f"渠道 {channel} 没有 {part} 部分 / channel has no part {part!r}")


@dataclass(frozen=True)
class ValidateJob:
    """Check an admin template on the sample context; ``run()`` returns its preview.

    For the ``group`` pseudo-channel the template is checked for every group channel and
    the WeCom preview (the strictest limit) is returned.
    """

    source: str
    step: str
    channel: str
    part: str
    locale: str
    templates_dir: Path
    #: what the template is tried on (built by the caller: ``sample_context`` and the views)
    context: MessageContext

    def run(self) -> str:
        """Compile, render on the sample context and check the output (in the worker)."""
        check_key(self.step, self.channel, self.part)
        check_source(self.source)
        targets = (
            sorted(GROUP_CHANNELS, key=lambda c: c != "wecom")
            if self.channel == GROUP
            else [self.channel]
        )
        variables = self.context.as_template_vars()
        previews = [self._one(target, variables) for target in targets]
        return previews[0]

    def _one(self, target: str, variables: dict[str, object]) -> str:
        template = _compile(target, self.part, self.templates_dir, self.source)
        try:
            raw = run(template, variables | {"channel": target, "locale": self.locale})
        except Exception as exc:
            raise translate(exc, ADMIN_FILENAME, at_render=False) from exc
        text = tidy(raw, self.part)
        if not text:
            raise TemplateInvalid("模板输出为空 / the template renders to nothing")
        if target == "telegram":
            problems = telegram_tag_problems(text)
            if problems:
                raise TemplateUnsafe("；".join(problems))
        if self.part == "html":
            # Told to the admin here; at delivery the sanitizer removes it whatever it is.
            # Entities decoded and, as browsers do in URLs, blanks and controls dropped.
            decoded = html.unescape(text)
            active = _ACTIVE_HTML.search(decoded) or _SCRIPT_URL.search(_BLANKS.sub("", decoded))
            if active:
                raise TemplateUnsafe(
                    f"邮件 HTML 不允许脚本或事件属性 / email HTML may not contain "
                    f"scripts, frames, forms or event handlers: {active.group(0)!r}"
                )
            text = sanitize_email_html(text)
        problem = limit_problem(target, self.part, text)
        if problem:
            limit = OUTPUT_LIMITS[(target, self.part)]
            raise TemplateTooLong(problem, size=measure(text, limit), limit=limit.count)
        return text
