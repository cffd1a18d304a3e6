"""The sandbox: one jinja environment per channel part, with escaping, helpers and work limits."""

from __future__ import annotations

import dataclasses
import functools
import re
import time
import types
from collections.abc import Callable, Iterable, Iterator, Mapping, Sized
from contextvars import ContextVar
from pathlib import Path
from typing import Any, Final

from jinja2 import (
    Environment,
    FileSystemLoader,
    StrictUndefined,
    nodes,
    pass_context,
)
from jinja2.exceptions import SecurityError
from jinja2.filters import do_batch, do_indent, sync_do_slice
from jinja2.nodes import EvalContext
from jinja2.runtime import Context, Macro
from jinja2.sandbox import ImmutableSandboxedEnvironment
from jinja2.visitor import NodeTransformer

from notifier.templating.errors import DISALLOWED_FILTERS, TemplateUnsafe
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

MAX_SOURCE_CHARS: Final = 20_000
MAX_RANGE: Final = 10_000
#: total loop iterations per render, all loops together
MAX_LOOP_ITERATIONS: Final = 50_000
#: any intermediate string or sequence built by `*`, `+`, `~`, padding or replace
MAX_VALUE_SIZE: Final = 200_000
#: integer results of `*`/`**` stay below this many bits (messages count days and items)
MAX_INT_BITS: Final = 128
#: raw output generated before we stop rendering (abuse guard, above every channel limit)
MAX_RAW_OUTPUT: Final = 300_000
MAX_RENDER_SECONDS: Final = 2.0


class _Budget:
    """Per-render work budget: loop iterations and wall-clock time."""

    def __init__(self) -> None:
        self.iterations = 0
        self.deadline = time.monotonic() + MAX_RENDER_SECONDS

    def tick(self) -> None:
        self.iterations += 1
        if self.iterations > MAX_LOOP_ITERATIONS:
            raise SecurityError(
                f"循环次数超过上限 {MAX_LOOP_ITERATIONS} / more than {MAX_LOOP_ITERATIONS} "
                "loop iterations in one message"
            )
        if self.iterations % 256 == 0 and time.monotonic() > self.deadline:
            raise SecurityError("渲染超时 / template took too long to render")


_BUDGET: ContextVar[_Budget | None] = ContextVar("duban_template_budget", default=None)


def _budget() -> _Budget:
    budget = _BUDGET.get()
    if budget is None:
        budget = _Budget()
        _BUDGET.set(budget)
    return budget


def _check_size(value: object, what: str) -> None:
    try:
        size = len(value)  # type: ignore[arg-type]
    except TypeError:
        return
    if size > MAX_VALUE_SIZE:
        raise SecurityError(
            f"{what} 生成的内容过大（{size}） / {what} would build a value of {size} items, "
            f"limit {MAX_VALUE_SIZE}"
        )


def _approx_size(value: object, budget: int = MAX_VALUE_SIZE) -> int:
    """Rough length of ``str(value)``; stops counting once it passes ``budget``."""
    total = 0
    stack: list[object] = [value]
    while stack and total <= budget:
        v = stack.pop()
        if isinstance(v, str):
            total += len(v)
        elif isinstance(v, Mapping):
            total += 2 + 4 * len(v)
            stack.extend(v.keys())
            stack.extend(v.values())
        elif isinstance(v, list | tuple | set | frozenset):
            total += 2 + 2 * len(v)
            stack.extend(v)
        elif dataclasses.is_dataclass(v) and not isinstance(v, type):
            total += 32
            stack.extend(getattr(v, f.name) for f in dataclasses.fields(v))
        else:
            total += 24
    return total


def _guard_value(value: object, what: str) -> None:
    """Refuse a value whose text would exceed the size cap, before it is built."""
    if isinstance(value, str):
        return
    size = _approx_size(value)
    if size > MAX_VALUE_SIZE:
        raise SecurityError(
            f"{what} 内容过大 / {what} would produce about {size} characters, "
            f"limit {MAX_VALUE_SIZE}"
        )


def _filter_output_estimate(name: str, args: list[Any], kwargs: dict[str, Any]) -> int:
    """Upper bound on the size of filters that can amplify their input."""
    value = args[0] if args else ""
    rest = args[1:]
    if name == "join":
        sep = kwargs.get("d", rest[0] if rest else "")
        count = len(value) if isinstance(value, Sized) else 0
        return _approx_size(value) + count * len(str(sep))
    text = str(value) if isinstance(value, str) else ""
    if name == "replace" and len(rest) >= 2:
        old, new = str(rest[0]), str(rest[1])
        count = text.count(old) if old else len(text) + 1
        return len(text) + count * max(0, len(new) - len(old))
    if name == "wordwrap":
        width = int(kwargs.get("width", rest[0] if rest else 79))
        wrap = kwargs.get("wrapstring", rest[2] if len(rest) > 2 else None) or "\n"
        return len(text) + (len(text) // max(1, width) + 1) * len(str(wrap))
    if name == "indent":
        width = kwargs.get("width", rest[0] if rest else 4)
        pad = len(width) if isinstance(width, str) else int(width)
        return len(text) + (text.count("\n") + 1) * pad
    return 0


def _guarded_filter(name: str, func: Callable[..., Any]) -> Callable[..., Any]:
    """Wrap a filter: refuse oversized inputs and amplifications, cap the result."""

    @functools.wraps(func)  # keeps jinja's pass_context / pass_eval_context marker
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        values = [a for a in args if not isinstance(a, Context | EvalContext | Environment)]
        values = [
            list(v) if isinstance(v, Iterator) and not isinstance(v, str) else v for v in values
        ]
        for v in [*values, *kwargs.values()]:
            _guard_value(v, f"|{name}")
        if _filter_output_estimate(name, values, kwargs) > MAX_VALUE_SIZE:
            raise SecurityError(f"|{name} 结果过大 / |{name} would build too large a value")
        prefix = args[: len(args) - len(values)]
        rv = func(*prefix, *values, **kwargs)
        if isinstance(rv, str | list | tuple):
            _check_size(rv, f"|{name}")
        return rv

    return wrapper


_GUARD_ITER: Final = "_duban_guard_iter"
_GUARD_SIZE: Final = "_duban_guard_size"


@pass_context
def _guard_iter(context: Context, iterable: Iterable[Any]) -> Iterator[Any]:
    budget = _budget()
    for value in iterable:
        budget.tick()
        yield value


def _guard_size(value: Any) -> Any:
    _check_size(value, "~")
    return value


_NO_AUTOESCAPE: Final = "不允许使用 {% autoescape %} / {% autoescape %} is not allowed"


class _GuardTransformer(NodeTransformer):
    """Rewrites a parsed template: loops count against the budget, `~` results are capped."""

    def visit_For(self, node: nodes.For) -> nodes.Node:
        self.generic_visit(node)
        node.iter = nodes.Filter(node.iter, _GUARD_ITER, [], [], None, None, lineno=node.lineno)
        return node

    def visit_Concat(self, node: nodes.Concat) -> nodes.Node:
        self.generic_visit(node)
        return nodes.Filter(node, _GUARD_SIZE, [], [], None, None, lineno=node.lineno)

    def visit_ScopedEvalContextModifier(self, node: nodes.ScopedEvalContextModifier) -> nodes.Node:
        raise TemplateUnsafe(_NO_AUTOESCAPE, line=node.lineno)

    def visit_EvalContextModifier(self, node: nodes.EvalContextModifier) -> nodes.Node:
        raise TemplateUnsafe(_NO_AUTOESCAPE, line=node.lineno)


_PRINTF_WIDTH: Final = re.compile(r"%[#0\- +]*(\*|\d{4,})|%[#0\- +]*\d*\.(\*|\d{4,})")
_PADDING_METHODS: Final = frozenset({"ljust", "rjust", "center", "zfill", "expandtabs"})


def _check_printf(fmt: object) -> None:
    if isinstance(fmt, str) and _PRINTF_WIDTH.search(fmt):
        raise SecurityError("格式宽度过大 / printf width or precision too large")


def _safe_range(*args: int) -> range:
    rng = range(*args)
    if len(rng) > MAX_RANGE:
        raise SecurityError(
            f"range() 超过上限 {MAX_RANGE} / range() of {len(rng)} items exceeds {MAX_RANGE}"
        )
    return rng


def _safe_format(value: str, *args: Any, **kwargs: Any) -> str:
    _check_printf(value)
    if args and kwargs:
        raise TypeError("can't handle positional and keyword arguments at the same time")
    return str(value) % (kwargs or args)


def _safe_center(value: str, width: int = 80) -> str:
    if int(width) > MAX_VALUE_SIZE:
        raise SecurityError("center() width too large")
    return str(value).center(int(width))


def _safe_indent(value: str, width: int | str = 4, first: bool = False, blank: bool = False) -> str:
    if (isinstance(width, int) and width > 1000) or (isinstance(width, str) and len(width) > 1000):
        raise SecurityError("indent() width too large")
    return do_indent(value, width, first, blank)


def _safe_batch(value: Iterable[Any], linecount: int, fill_with: Any = None) -> list[list[Any]]:
    if int(linecount) > MAX_RANGE or int(linecount) < 1:
        raise SecurityError("batch() size out of range")
    return list(do_batch(value, int(linecount), fill_with))


def _safe_slice(value: Iterable[Any], slices: int, fill_with: Any = None) -> list[list[Any]]:
    if int(slices) > MAX_RANGE or int(slices) < 1:
        raise SecurityError("slice() count out of range")
    return list(sync_do_slice(list(value), int(slices), fill_with))


class SandboxEnvironment(ImmutableSandboxedEnvironment):
    """The sandbox for one channel part: escaping, helpers and work limits."""

    intercepted_binops = frozenset({"*", "**", "+", "%"})

    def __init__(self, *, channel: str, part: str, templates_dir: Path) -> None:
        self.mode = mode_for(channel, part)
        self.safe = safe_class(self.mode)
        safe = self.safe
        escaper = ESCAPERS.get(self.mode)

        def finalize(value: Any) -> Any:
            _guard_value(value, "{{ }}")
            if escaper is None or isinstance(value, safe):
                return value  # HTML: autoescape runs after finalize
            return escaper(str(value))

        super().__init__(
            loader=FileSystemLoader(str(templates_dir)),
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
        self.globals["range"] = _safe_range
        helpers = Helpers(channel, self.mode, self.safe)
        self.globals.update(
            b=helpers.b,
            i=helpers.i,
            code=helpers.code,
            quote=helpers.quote,
            link=helpers.link,
        )
        self.filters.update(
            {
                "format": _safe_format,
                "center": _safe_center,
                "indent": _safe_indent,
                "batch": _safe_batch,
                "slice": _safe_slice,
                "cn_date": cn_date,
                "en_date": en_date,
                "cn_datetime": cn_datetime,
                "en_datetime": en_datetime,
                "days_phrase": days_phrase,
                "percent": percent,
                "excerpt": excerpt,
            }
        )
        self.filters = {name: _guarded_filter(name, func) for name, func in self.filters.items()}
        self.filters.update(
            {
                _GUARD_ITER: _guard_iter,
                _GUARD_SIZE: _guard_size,
            }
        )

    def is_safe_attribute(self, obj: Any, attr: str, value: Any) -> bool:
        if isinstance(obj, str) and attr in {"format", "format_map"}:
            return False  # use the |format filter, which caps widths
        return super().is_safe_attribute(obj, attr, value)

    def wrap_str_format(self, value: Any) -> Callable[..., str] | None:
        return None  # str.format is refused outright by is_safe_attribute

    def _parse(self, source: str, name: str | None, filename: str | None) -> nodes.Template:
        tree = super()._parse(source, name, filename)
        guarded = _GuardTransformer().visit(tree)
        assert isinstance(guarded, nodes.Template)
        return guarded

    def call_binop(self, context: Context, operator: str, left: Any, right: Any) -> Any:
        if operator == "**":
            if isinstance(left, int) and isinstance(right, int) and right > 0:
                bits = max(1, abs(left).bit_length()) * right
                if bits > MAX_INT_BITS:
                    raise SecurityError(f"乘方结果过大 / {left} ** {right} is too large to compute")
        elif operator == "*":
            if isinstance(left, int) and isinstance(right, int):
                if left.bit_length() + right.bit_length() > MAX_INT_BITS:
                    raise SecurityError("乘法结果过大 / product too large")
            elif (
                isinstance(right, int)
                and not isinstance(left, int | float)
                and len(left) * right > MAX_VALUE_SIZE
            ):
                raise SecurityError(
                    f"重复次数过多 / repeating a value {right} times exceeds "
                    f"{MAX_VALUE_SIZE} characters or items"
                )
            elif (
                isinstance(left, int)
                and not isinstance(right, int | float)
                and len(right) * left > MAX_VALUE_SIZE
            ):
                raise SecurityError(
                    f"重复次数过多 / repeating a value {left} times exceeds "
                    f"{MAX_VALUE_SIZE} characters or items"
                )
        elif operator == "+":
            if (
                isinstance(left, str | list | tuple)
                and isinstance(right, str | list | tuple)
                and len(left) + len(right) > MAX_VALUE_SIZE
            ):
                raise SecurityError("拼接结果过大 / concatenation too large")
        elif operator == "%":
            _check_printf(left)
        return super().call_binop(context, operator, left, right)

    def call(
        __self,
        __context: Context,
        __obj: Any,
        *args: Any,
        **kwargs: Any,
    ) -> Any:
        owner = getattr(__obj, "__self__", None)
        if isinstance(__obj, types.BuiltinMethodType | types.MethodType) and isinstance(owner, str):
            _check_str_call(owner, __obj.__name__, args, kwargs)
        rv = super().call(__context, __obj, *args, **kwargs)
        if isinstance(rv, str | list | tuple):
            _check_size(rv, f"{getattr(__obj, '__name__', 'call')}()")
        if isinstance(__obj, Macro) and __self.mode != "html" and isinstance(rv, str):
            # Macro output was escaped when it was rendered: keep it from being escaped twice.
            return __self.safe(rv)
        return rv


def _check_str_call(s: str, name: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    values = [*args, *kwargs.values()]
    if name in _PADDING_METHODS:
        for v in values:
            if isinstance(v, int) and v > MAX_VALUE_SIZE:
                raise SecurityError(f"str.{name}() width too large")
        if name == "expandtabs" and s.count("\t") * (int(values[0]) if values else 8) > (
            MAX_VALUE_SIZE
        ):
            raise SecurityError("str.expandtabs() result too large")
    elif name == "replace" and len(values) >= 2:
        old, new = str(values[0]), str(values[1])
        count = s.count(old) if old else len(s) + 1
        if len(s) + count * max(0, len(new) - len(old)) > MAX_VALUE_SIZE:
            raise SecurityError("str.replace() result too large")
    elif name == "translate" and values and isinstance(values[0], Mapping):
        longest = max((len(str(v)) for v in values[0].values() if v is not None), default=1)
        if len(s) * longest > MAX_VALUE_SIZE:
            raise SecurityError("str.translate() result too large")
    elif name == "join" and values:
        seq = values[0]
        if isinstance(seq, list | tuple):
            total = len(s) * len(seq) + sum(len(x) for x in seq if isinstance(x, str))
            if total > MAX_VALUE_SIZE:
                raise SecurityError("str.join() result too large")
