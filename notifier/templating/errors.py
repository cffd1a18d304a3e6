"""Template errors an admin can read, and the translation of jinja's exceptions into them.

Imports only jinja2; the errors pickle whole (they come back from render workers)."""

from __future__ import annotations

import re
from typing import Final

from jinja2 import (
    TemplateNotFound,
    TemplateSyntaxError,
    UndefinedError,
)
from jinja2.exceptions import SecurityError, TemplateAssertionError, TemplateRuntimeError


class TemplateError(Exception):
    """A message template could not be used; ``str(e)`` is readable by an admin."""

    def __init__(self, message: str, *, line: int | None = None) -> None:
        self.message = message
        self.line = line
        where = f"第{line}行 (line {line}): " if line is not None else ""
        super().__init__(where + message)

    def __reduce__(self) -> tuple[object, ...]:
        # Errors come back from a render worker pickled: keep the line and the subclass.
        return _rebuild, (type(self), self.__dict__)


class TemplateInvalid(TemplateError):
    """Bad template: the template itself is at fault, whatever the data."""


class TemplateSyntaxInvalid(TemplateInvalid):
    """The template does not parse."""


class TemplateUnsafe(TemplateInvalid):
    """The template tried something the sandbox forbids (internals, huge work, raw HTML)."""


class TemplateTooLong(TemplateInvalid):
    """The template source or its output exceeds the channel's limit; for the output,
    ``size`` and ``limit`` are its measure and the channel's cap (in the channel's unit)."""

    def __init__(
        self,
        message: str,
        *,
        line: int | None = None,
        size: int | None = None,
        limit: int | None = None,
    ) -> None:
        self.size = size
        self.limit = limit
        super().__init__(message, line=line)


class TemplateUnknownVariable(TemplateInvalid):
    """The template uses a variable or attribute the sample context does not have."""

    def __init__(self, message: str, *, variable: str | None, line: int | None = None) -> None:
        self.variable = variable
        super().__init__(message, line=line)


class TemplateMissing(TemplateError):
    """No override and no default file exists for this step, channel and part."""


class TemplateRenderFailed(TemplateError):
    """Bad data: a valid template failed on this particular context."""


def _rebuild(cls: type[TemplateError], state: dict[str, object]) -> TemplateError:
    error = cls.__new__(cls)
    error.__dict__.update(state)
    line = state.get("line")
    where = f"第{line}行 (line {line}): " if line is not None else ""
    Exception.__init__(error, where + str(state.get("message", "")))
    return error


#: filters the sandbox removes; naming one is reported as unsafe, not as a typo
DISALLOWED_FILTERS: Final = frozenset({"attr", "safe", "urlize", "xmlattr", "pprint"})

ADMIN_FILENAME: Final = "<admin-template>"
_UNDEFINED_NAME: Final = re.compile(r"'([^']+)' is undefined|has no attribute '([^']+)'")
_NO_FILTER: Final = re.compile(r"No filter named '([^']+)'")


def _line_from_traceback(exc: BaseException, filename: str | None) -> int | None:
    line: int | None = None
    tb = exc.__traceback__
    while tb is not None:
        code = tb.tb_frame.f_code
        if code.co_filename == filename if filename else code.co_filename.endswith(".j2"):
            line = tb.tb_lineno
        tb = tb.tb_next
    return line


def translate(exc: Exception, filename: str | None, *, at_render: bool) -> TemplateError:
    """Turn a jinja exception into an admin-readable TemplateError."""
    if isinstance(exc, TemplateError):
        return exc
    if isinstance(exc, TemplateAssertionError):
        m = _NO_FILTER.search(exc.message or "")
        if m and m.group(1) in DISALLOWED_FILTERS:
            return TemplateUnsafe(
                f"不允许使用过滤器 |{m.group(1)} / filter |{m.group(1)} is not allowed",
                line=exc.lineno,
            )
        return TemplateSyntaxInvalid(f"模板错误 / template error: {exc.message}", line=exc.lineno)
    if isinstance(exc, TemplateSyntaxError):
        return TemplateSyntaxInvalid(f"语法错误 / syntax error: {exc.message}", line=exc.lineno)
    if isinstance(exc, TemplateNotFound):
        return TemplateInvalid(
            f"引用的模板不存在 / included template not found: {exc.name}",
            line=_line_from_traceback(exc, filename),
        )
    line = _line_from_traceback(exc, filename)
    if isinstance(exc, SecurityError):
        return TemplateUnsafe(f"不安全的操作 / unsafe operation: {exc}", line=line)
    if isinstance(exc, UndefinedError):
        m = _UNDEFINED_NAME.search(str(exc))
        name = (m.group(1) or m.group(2)) if m else None
        message = f"未定义的变量 / undefined variable: {name or exc}"
        if at_render:
            return TemplateRenderFailed(message, line=line)
        return TemplateUnknownVariable(message, variable=name, line=line)
    if isinstance(exc, MemoryError):
        return TemplateUnsafe(
            "渲染超出内存上限 / rendering needed more memory than its limit (MemoryError)",
            line=line,
        )
    if isinstance(exc, RecursionError | OverflowError):
        return TemplateUnsafe(f"计算量过大 / too much work: {type(exc).__name__}", line=line)
    detail = f"{type(exc).__name__}: {exc}"
    if at_render:
        return TemplateRenderFailed(f"渲染失败 / render failed: {detail}", line=line)
    if isinstance(exc, TemplateRuntimeError):
        return TemplateInvalid(f"模板运行错误 / template error: {detail}", line=line)
    return TemplateInvalid(f"用示例数据渲染失败 / fails on sample data: {detail}", line=line)
