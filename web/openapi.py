"""The OpenAPI 3.1 document of /api/v1, generated from the API's route table.

Of the other web modules it imports only `web.api_models` (request bodies): ``web.api`` hands
its `Operation` table to `build_document`, and registers the very same table with aiohttp, so
the two cannot drift. Input components come from the pydantic models (`model_schemas`).
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Final

from aiohttp import web
from pydantic import BaseModel

from models import AssignmentRole, ItemState, ReportKind, ReviewState, Role, Source
from supervision.access import Tier
from supervision.item_schema import ItemInput, ItemPatch
from supervision.light import Light
from web.api_models import (
    Decision,
    ExtensionInput,
    ReportInput,
    TokenInput,
    UnitInput,
    UnitPatch,
)

__all__ = ["SCHEMAS", "Operation", "Param", "build_document", "model_schemas", "openapi_path"]

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

_PATH_PARAM = re.compile(r"\{(\w+)(?::[^}]+)?\}")


@dataclass(frozen=True, slots=True)
class Param:
    """A query parameter."""

    name: str
    schema: dict[str, Any]
    description: str
    required: bool = False


@dataclass(frozen=True, slots=True)
class Operation:
    """One API route: method, aiohttp path, handler, who may call it, and its documentation."""

    method: str
    path: str  # relative to /api/v1; aiohttp syntax, e.g. /items/{item_id:\d+}
    handler: Handler
    operation_id: str
    summary: str
    tag: str
    access: str  # human summary of who may call it; the handler enforces it
    query: tuple[Param, ...] = ()
    body: str | None = None  # component schema of the JSON body
    response: str | None = None  # component schema of the 2xx body
    status: int = 200
    paged: bool = False
    public: bool = False  # no bearer token needed
    conflicts: bool = False  # may answer 409


def openapi_path(path: str) -> str:
    """``/items/{item_id:\\d+}`` → ``/items/{item_id}``."""
    return _PATH_PARAM.sub(r"{\1}", path)


_REF_TEMPLATE: Final = "#/components/schemas/{model}"


def _ref(name: str) -> dict[str, Any]:
    return {"$ref": _REF_TEMPLATE.format(model=name)}


def _nullable(kind: str, **extra: Any) -> dict[str, Any]:
    return {"type": [kind, "null"], **extra}


_DATE = {"type": "string", "format": "date"}
_DATETIME = {"type": "string", "format": "date-time"}
_ID = {"type": "integer", "minimum": 1}


def _values(kind: type[StrEnum]) -> list[str]:
    return [m.value for m in kind]


_SOURCES = _values(Source)
_STATES = _values(ItemState)
_REVIEW = _values(ReviewState)
_ROLES = _values(Role)
_LIGHTS = _values(Light)
_TIERS = _values(Tier)


def model_schemas(*kinds: type[BaseModel]) -> dict[str, dict[str, Any]]:
    """Component schemas of pydantic models and of every model or enum they refer to."""
    out: dict[str, dict[str, Any]] = {}
    for kind in kinds:
        schema = kind.model_json_schema(ref_template=_REF_TEMPLATE)
        out.update(schema.pop("$defs", {}))
        out[kind.__name__] = schema
    return out


def _obj(props: dict[str, Any], required: Sequence[str] = (), **extra: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"type": "object", "properties": props, **extra}
    if required:
        out["required"] = list(required)
    return out


_ITEM_FIELDS: dict[str, Any] = {
    "ref": {"type": "string", "minLength": 1, "maxLength": 100, "description": "文号"},
    "title": {"type": "string", "minLength": 1, "maxLength": 500},
    "source": {"type": "string", "enum": _SOURCES},
    "received_on": _DATE,
    "due_on": {
        **_nullable("string", format="date"),
        "description": "完成时限; null = 30 working days (policy)",
    },
    "urgent": {"type": "boolean"},
    "objective": {"type": "string", "description": "目标任务"},
    "content": {"type": "string", "description": "工作内容"},
}
_BULLETIN_ROW = _obj(
    {
        "rank": {"type": "integer"},
        "unit_id": {"type": "integer"},
        "unit_code": {"type": "string"},
        "unit_name": {"type": "string"},
        "role": {"type": "string", "enum": ["lead", "co"], "description": "主办 / 协办"},
        "role_label": {"type": "string"},
        "assigned": {"type": "integer"},
        "closed_in_period": {"type": "integer"},
        "closed_on_time": {"type": "integer"},
        "closed_late": {"type": "integer"},
        "open_overdue": {"type": "integer"},
        "overdue": {"type": "integer"},
        "extensions": {"type": "integer"},
        "on_time_rate": _nullable("number"),
    }
)
_BULLETIN_DATA = _obj(
    {
        "number": {"type": "string"},
        "period": {"type": "string"},
        "period_kind": {"type": "string", "enum": ["week", "month", "quarter"]},
        "period_label": {"type": "string"},
        "starts_on": _DATE,
        "ends_on": _DATE,
        "as_of": _DATE,
        "issued_on": _DATE,
        "version": {"type": "integer", "description": "2: lead and co ranked apart"},
        "rows": {"type": "array", "items": _ref("BulletinRow")},
        "unranked": {
            "type": "array",
            "items": _ref("BulletinRow"),
            "description": "本期无到期事项: rows with nothing due, not ranked",
        },
        "urged": {"type": "array", "items": {"type": "object"}, "description": "督促整改"},
        "overdue_items": {"type": "array", "items": {"type": "object"}},
        "praised_units": {"type": "array", "items": {"type": "string"}},
        "urged_units": {"type": "array", "items": {"type": "string"}},
        "totals": {"type": "object"},
    }
)

#: Component schemas, by name.
SCHEMAS: Final[dict[str, dict[str, Any]]] = {
    "Error": _obj(
        {
            "error": _obj(
                {
                    "code": {"type": "string"},
                    "message": {"type": "string"},
                    "details": {"type": "array", "items": {"type": "string"}},
                },
                ["code", "message"],
            )
        },
        ["error"],
    ),
    "Me": _obj(
        {
            "person": _ref("Person"),
            "access": {"type": "string", "enum": _TIERS},
            "unit_ids": {
                "type": ["array", "null"],
                "items": {"type": "integer"},
                "description": "the units a liaison sees; null = every unit",
            },
        },
        ["person", "access", "unit_ids"],
    ),
    **model_schemas(
        ItemInput,
        ItemPatch,
        ReportInput,
        ExtensionInput,
        Decision,
        UnitInput,
        UnitPatch,
        TokenInput,
    ),
    "Assignment": _obj(
        {
            "id": _ID,
            "item_id": _ID,
            "unit_id": _ID,
            "unit_name": {"type": "string"},
            "role": {"type": "string", "enum": _values(AssignmentRole)},
            "owner_id": _nullable("integer"),
            "leader_id": _nullable("integer"),
            "state": {"type": "string", "enum": _STATES},
            "due_on": _DATE,
            "light": {"type": "string", "enum": _LIGHTS},
            "last_report_at": _nullable("string", format="date-time"),
            "closed_at": _nullable("string", format="date-time"),
        }
    ),
    "Item": _obj(
        {
            "id": _ID,
            **_ITEM_FIELDS,
            "due_on": _DATE,
            "due_is_default": {"type": "boolean"},
            "due_is_provisional": {"type": "boolean"},
            "state": {"type": "string", "enum": _STATES},
            "light": {"type": "string", "enum": _LIGHTS},
            "closed_at": _nullable("string", format="date-time"),
            "created_at": _DATETIME,
            "assignments": {"type": "array", "items": _ref("Assignment")},
        }
    ),
    "Report": _obj(
        {
            "id": _ID,
            "assignment_id": _ID,
            "number": {"type": "integer"},
            "author_id": _nullable("integer"),
            "kind": {"type": "string", "enum": _values(ReportKind)},
            "text": {"type": "string"},
            "channel": {"type": "string"},
            "review_state": {"type": "string", "enum": _REVIEW},
            "attachments": {"type": "integer"},
            "created_at": _DATETIME,
        }
    ),
    "Extension": _obj(
        {
            "id": _ID,
            "assignment_id": _ID,
            "requested_by_id": _nullable("integer"),
            "reason": {"type": "string"},
            "progress": {"type": "string"},
            "old_due_on": _DATE,
            "new_due_on": _DATE,
            "state": {"type": "string", "enum": _REVIEW},
            "decided_by_id": _nullable("integer"),
            "decided_at": _nullable("string", format="date-time"),
            "comment": _nullable("string"),
            "channel": {"type": "string"},
            "created_at": _DATETIME,
        }
    ),
    "Person": _obj(
        {
            "id": _ID,
            "name": {"type": "string"},
            "email": _nullable("string"),
            "unit_id": _nullable("integer"),
            "roles": {"type": "array", "items": {"type": "string", "enum": _ROLES}},
            "active": {"type": "boolean"},
            "locale": {"type": "string"},
            "telegram_bound": {"type": "boolean"},
        }
    ),
    "Unit": _obj(
        {
            "id": _ID,
            "code": {"type": "string"},
            "name": {"type": "string"},
            "parent_id": _nullable("integer"),
            "active": {"type": "boolean"},
        }
    ),
    "BulletinRow": _BULLETIN_ROW,
    "BulletinData": _BULLETIN_DATA,
    "Bulletin": _obj(
        {
            "id": _ID,
            "period": {"type": "string"},
            "starts_on": _DATE,
            "ends_on": _DATE,
            "created_by_id": _nullable("integer"),
            "created_at": _DATETIME,
            "sent_at": _nullable("string", format="date-time"),
            "data": _ref("BulletinData"),
        }
    ),
    "Token": _obj(
        {
            "id": _ID,
            "name": {"type": "string"},
            "person_id": _ID,
            "created_at": _DATETIME,
            "last_used_at": _nullable("string", format="date-time"),
            "revoked_at": _nullable("string", format="date-time"),
            "expires_at": _nullable("string", format="date-time"),
        }
    ),
    "TokenCreated": _obj(
        {
            "token": _ref("Token"),
            "secret": {"type": "string", "description": "shown once; store it safely"},
        }
    ),
}

_ERRORS: Final = {
    400: "Invalid input (validation errors are listed in error.details)",
    401: "Missing, unknown or revoked bearer token",
    403: "Your role may not do this",
    404: "Not found (or not visible to you)",
    409: "Conflict with the current state",
    413: "Body too large",
    415: "Body is not application/json",
}


def _error(status: int) -> dict[str, Any]:
    return {
        "description": _ERRORS[status],
        "content": {"application/json": {"schema": _ref("Error")}},
    }


def _page_of(name: str) -> dict[str, Any]:
    return _obj(
        {
            "data": {"type": "array", "items": _ref(name)},
            "page": {"type": "integer"},
            "per_page": {"type": "integer"},
            "total": {"type": "integer"},
        },
        ["data", "page", "per_page", "total"],
    )


PAGING: Final = (
    Param("page", {"type": "integer", "minimum": 1, "default": 1}, "page number, from 1"),
    Param(
        "per_page",
        {"type": "integer", "minimum": 1, "maximum": 200, "default": 50},
        "rows per page (at most 200)",
    ),
)


def _operation(op: Operation) -> dict[str, Any]:
    params: list[dict[str, Any]] = [
        {"name": name, "in": "path", "required": True, "schema": _ID}
        for name in _PATH_PARAM.findall(op.path)
    ]
    query = (*op.query, *PAGING) if op.paged else op.query
    params += [
        {
            "name": p.name,
            "in": "query",
            "required": p.required,
            "schema": p.schema,
            "description": p.description,
        }
        for p in query
    ]
    out: dict[str, Any] = {
        "operationId": op.operation_id,
        "summary": op.summary,
        "description": f"Who may call it: {op.access}.",
        "tags": [op.tag],
    }
    if params:
        out["parameters"] = params
    if op.body is not None:
        out["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": _ref(op.body)}},
        }
    if op.response is None:
        ok: dict[str, Any] = {"description": "Done"}
    else:
        schema = _page_of(op.response) if op.paged else _ref(op.response)
        ok = {"description": "OK", "content": {"application/json": {"schema": schema}}}
    responses: dict[str, Any] = {str(op.status): ok}
    codes = [] if op.public else [401, 403]
    if params or op.body is not None:
        codes.append(400)
    if _PATH_PARAM.search(op.path):
        codes.append(404)
    if op.body is not None:
        codes += [413, 415]
    if op.conflicts:
        codes.append(409)
    for code in sorted(set(codes)):
        responses[str(code)] = _error(code)
    out["responses"] = responses
    if op.public:
        out["security"] = []
    return out


def build_document(
    operations: Sequence[Operation], *, prefix: str, title: str, version: str
) -> dict[str, Any]:
    """The OpenAPI 3.1 document describing ``operations`` mounted under ``prefix``."""
    paths: dict[str, dict[str, Any]] = {}
    for op in operations:
        path = prefix + openapi_path(op.path)
        paths.setdefault(path, {})[op.method.lower()] = _operation(op)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": title,
            "version": version,
            "description": (
                "JSON API of Duban (督办). Authenticate with `Authorization: Bearer <token>`; "
                "a token acts with the roles of its person. Errors are "
                '`{"error": {"code", "message", "details"}}`. Lists take `page` and '
                "`per_page` (at most 200) and answer `{data, page, per_page, total}`."
            ),
        },
        "servers": [{"url": "/"}],
        "security": [{"bearer": []}],
        "tags": [{"name": t} for t in sorted({op.tag for op in operations})],
        "paths": paths,
        "components": {
            "schemas": SCHEMAS,
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
    }
