"""Pydantic validation as the domain reports it: ``field: reason`` lines and ValidationFailed.

Every edge (API bodies, import rows, web forms) validates input models through `validate`,
so a broken rule reads the same everywhere. Imports `supervision.errors` only.
"""

from __future__ import annotations

import re
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError, model_validator
from pydantic_core import ErrorDetails, PydanticCustomError

from supervision.errors import ValidationFailed

M = TypeVar("M", bound=BaseModel)


class Body(BaseModel):
    """An input model: unknown fields are refused, the parsed value never changes."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Patch(Body):
    """An input model of a partial change: at least one field must be sent."""

    model_config = ConfigDict(json_schema_extra={"minProperties": 1})

    @model_validator(mode="before")
    @classmethod
    def _something(cls, data: Any) -> Any:
        if isinstance(data, dict) and not data:
            raise PydanticCustomError("empty", "send at least one field to change")
        return data


def _where(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else part)
    return out


def _reason(error: ErrorDetails) -> str:
    kind = error["type"]
    ctx = error.get("ctx", {})
    if kind == "extra_forbidden":
        return "unknown field"
    if kind == "missing":
        return "required"
    if kind == "string_type":
        return "must be a string"
    if kind in ("string_too_short", "too_short", "blank"):
        return "must not be empty"
    if kind in ("string_too_long", "too_long"):
        unit = "characters" if isinstance(error["input"], str) else "entries"
        return f"longer than {ctx.get('max_length')} {unit}"
    if kind == "enum":
        return (
            f"must be one of {ctx.get('expected', '').replace(' or ', ', ').replace(chr(39), '')}"
        )
    if kind == "bool_type":
        return "must be true or false"
    if kind == "less_than_equal":
        return f"at most {ctx.get('le')}"
    if kind == "greater_than_equal" and ctx.get("ge") != 1:
        return f"at least {ctx.get('ge')}"
    if kind in ("int_type", "greater_than_equal", "int_from_float", "int_parsing"):
        return "must be a positive integer"
    if kind == "model_type":
        return "must be an object"
    if kind == "list_type":
        return "must be a list"
    return error["msg"]


_NAMED = re.compile(r"^([a-z_][a-z0-9_]*): (.+)$", re.S)


def field_problems(exc: ValidationError) -> list[tuple[str, str]]:
    """Each problem as ``(field, reason)``: ``("lead.unit_id", "required")``; a whole-model rule
    names its field at the start of its message (``due_on: ...``), or gives ``""``."""
    out: list[tuple[str, str]] = []
    for error in exc.errors(include_url=False):
        where, reason = _where(error["loc"]), _reason(error)
        if not where and (named := _NAMED.match(reason)):
            where, reason = named.group(1), named.group(2)
        out.append((where, reason))
    return out


def problems(exc: ValidationError) -> list[str]:
    """One ``field: reason`` line per problem (``lead.unit_id: required``, ``co[0]...``)."""
    return [f"{where}: {reason}" if where else reason for where, reason in field_problems(exc)]


def check(model: type[M], data: Any) -> tuple[M | None, list[tuple[str, str]]]:
    """``data`` as ``model`` and no problems, or None and every problem as (field, reason)."""
    try:
        return model.model_validate(data), []
    except ValidationError as exc:
        return None, field_problems(exc)


def validate(model: type[M], data: Any) -> M:
    """``data`` as ``model``; ValidationFailed listing every problem otherwise."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        found = problems(exc)
        raise ValidationFailed("invalid input: " + "; ".join(found), found) from None
