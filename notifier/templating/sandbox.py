"""The sandbox: one jinja environment per channel part, with escaping and the helpers.

It guards what a template may *touch* (``ImmutableSandboxedEnvironment``: no ``_`` attributes,
no mutation, no ``str.format``; ``StrictUndefined``; no raw-HTML filters or ``autoescape``).
How much a template may *do* is bounded from outside: it only ever runs in a render worker
process with a wall-clock timeout and an address-space cap (``notifier.templating.pool``).
The two operators that reach those bounds in one step, a repetition (``'a' * 10**9``) and a
power (``9 ** 9 ** 9``), are refused at once when their result is past what any message holds.
Imports jinja2 and the escaping/filters modules of this package only.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, Final

from jinja2 import BaseLoader, Environment, FileSystemLoader, StrictUndefined, Template, nodes
from jinja2.exceptions import SecurityError
from jinja2.runtime import Context, Macro
from jinja2.sandbox import ImmutableSandboxedEnvironment

from notifier.templating.errors import DISALLOWED_FILTERS, TemplateTooLong, TemplateUnsafe
from notifier.templating.escaping import ESCAPERS, Helpers, mode_for, safe_class
from notifier.templating.filters import (
    cn_date,
    cn_datetime,
    days_phrase,
    en_date,
    en_datetime,
    excerpt,
    percent,
)
from notifier.templating.keys import LOCALES

MAX_SOURCE_CHARS: Final = 20_000
#: raw output generated before rendering is stopped (twice the largest channel limit)
MAX_RAW_OUTPUT: Final = 200_000

#: the largest power a template may compute, in bits (1,233 decimal digits)
MAX_POWER_BITS: Final = 4096

_NO_AUTOESCAPE: Final = "不允许使用 {% autoescape %} / {% autoescape %} is not allowed"

_LOCALE: Final = "|".join(LOCALES)
#: the template set's files: ``zh/remind.telegram.text.j2``, ``en/_macros.j2`` …
_SET_FILE: Final = re.compile(rf"(?:{_LOCALE})/[A-Za-z0-9_][A-Za-z0-9_.]*\.j2")
#: what include, import and extends may name: the set's shared macros and layouts
_SHARED_FILE: Final = re.compile(rf"(?:{_LOCALE})/_[A-Za-z0-9_.]*\.j2")


class TemplateSetLoader(BaseLoader):
    """Loads only the template set's own files (``{locale}/*.j2``) from ``templates_dir``."""

    def __init__(self, templates_dir: Path) -> None:
        self.files = FileSystemLoader(str(templates_dir))

    def get_source(
        self, environment: Environment, template: str
    ) -> tuple[str, str | None, Callable[[], bool] | None]:
        if not _SET_FILE.fullmatch(template) or ".." in template:
            raise TemplateUnsafe(_outside_the_set(template))
        return self.files.get_source(environment, template)


def _outside_the_set(name: object) -> str:
    return (
        f"只能引用模板集的公共宏，如 zh/_macros.j2：{name!r} / include, import and extends "
        f"may only name the template set's shared macros, e.g. zh/_macros.j2: {name!r}"
    )


def _repeated_length(left: Any, right: Any) -> int:
    """The length of ``left * right`` when it repeats a string or a sequence, else 0."""
    for seq, times in ((left, right), (right, left)):
        if isinstance(seq, str | list | tuple) and isinstance(times, int):
            return len(seq) * times
    return 0


def _power_bits(base: Any, exponent: Any) -> int:
    """About how many bits ``base ** exponent`` needs, for whole numbers, else 0."""
    if isinstance(base, int) and isinstance(exponent, int) and exponent > 0 and abs(base) > 1:
        return abs(base).bit_length() * exponent
    return 0


class SandboxEnvironment(ImmutableSandboxedEnvironment):
    """The sandbox for one channel part: escaping of every value, helpers and filters."""

    # Computed by call_binop (and so never folded while the template is compiled).
    intercepted_binops = frozenset({"*", "**"})

    def __init__(self, *, channel: str, part: str, templates_dir: Path) -> None:
        self.mode = mode_for(channel, part)
        self.safe = safe_class(self.mode)
        safe = self.safe
        escaper = ESCAPERS.get(self.mode)

        def finalize(value: Any) -> Any:
            if escaper is None or isinstance(value, safe):
                return value  # HTML: autoescape runs after finalize
            return escaper(str(value))

        super().__init__(
            loader=TemplateSetLoader(templates_dir),
            undefined=StrictUndefined,
            autoescape=self.mode == "html",
            finalize=finalize,
            auto_reload=False,
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=False,
        )
        for name in DISALLOWED_FILTERS:
            self.filters.pop(name, None)
        self.globals.pop("lipsum", None)
        helpers = Helpers(channel, self.mode, self.safe)
        self.globals.update(
            b=helpers.b, i=helpers.i, code=helpers.code, quote=helpers.quote, link=helpers.link
        )
        self.filters.update(
            cn_date=cn_date,
            en_date=en_date,
            cn_datetime=cn_datetime,
            en_datetime=en_datetime,
            days_phrase=days_phrase,
            percent=percent,
            excerpt=excerpt,
        )

    def is_safe_attribute(self, obj: Any, attr: str, value: Any) -> bool:
        if isinstance(obj, str) and attr in {"format", "format_map"}:
            return False  # one way to format: the |format filter
        return super().is_safe_attribute(obj, attr, value)

    def wrap_str_format(self, value: Any) -> Callable[..., str] | None:
        return None  # jinja would hand out a wrapped str.format before asking the above

    def join_path(self, template: str, parent: str) -> str:
        # Every include, import and extends comes through here: only shared macros.
        if not isinstance(template, str) or not _SHARED_FILE.fullmatch(template):
            raise TemplateUnsafe(_outside_the_set(template))
        return template

    def _parse(self, source: str, name: str | None, filename: str | None) -> nodes.Template:
        tree = super()._parse(source, name, filename)
        for kind in (nodes.ScopedEvalContextModifier, nodes.EvalContextModifier):
            found = tree.find(kind)
            if found is not None:
                raise TemplateUnsafe(_NO_AUTOESCAPE, line=found.lineno)
        return tree

    def call_binop(self, context: Context, operator: str, left: Any, right: Any) -> Any:
        if operator == "*" and _repeated_length(left, right) > MAX_RAW_OUTPUT:
            raise SecurityError(
                f"重复后超过 {MAX_RAW_OUTPUT} 字符 / repeated past the output limit"
            )
        if operator == "**" and _power_bits(left, right) > MAX_POWER_BITS:
            raise SecurityError("乘方结果过大 / a power too large for any message")
        return super().call_binop(context, operator, left, right)

    def call(
        __self,
        __context: Context,
        __obj: Any,
        *args: Any,
        **kwargs: Any,
    ) -> Any:
        rv = super().call(__context, __obj, *args, **kwargs)
        if isinstance(__obj, Macro) and __self.mode != "html" and isinstance(rv, str):
            # Macro output was escaped when it was rendered: keep it from being escaped twice.
            return __self.safe(rv)
        return rv


def check_source(source: str) -> None:
    """Refuse a template source above the size cap."""
    if len(source) > MAX_SOURCE_CHARS:
        raise TemplateTooLong(
            f"模板过长：{len(source)} 字符，上限 {MAX_SOURCE_CHARS} / template source is "
            f"{len(source)} characters, limit {MAX_SOURCE_CHARS}"
        )


def run(template: Template, variables: dict[str, object]) -> str:
    """Render, stopping once the raw output passes ``MAX_RAW_OUTPUT``."""
    chunks: list[str] = []
    size = 0
    stream: Iterator[str] = template.generate(variables)
    for chunk in stream:
        size += len(chunk)
        if size > MAX_RAW_OUTPUT:
            raise TemplateUnsafe(
                f"输出超过 {MAX_RAW_OUTPUT} 字符，已停止 / output exceeded "
                f"{MAX_RAW_OUTPUT} characters, rendering stopped"
            )
        chunks.append(chunk)
    return "".join(chunks)
