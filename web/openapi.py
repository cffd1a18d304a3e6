"""The OpenAPI 3.1 document of /api/v1, generated from the API's route table.

Of the other web modules it imports only `web.api_models` (request bodies) and `web.api_out`
(answers): ``web.api`` hands its `Operation` table to `build_document`, and registers the very
same table with aiohttp, so the two cannot drift. Every component schema comes from a pydantic
model: request bodies as validated (`model_schemas`), answers as serialised (`output_schemas`).
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, Final

from aiohttp import web
from pydantic import BaseModel
from pydantic.json_schema import GenerateJsonSchema

from supervision.item_schema import ItemInput, ItemPatch
from supervision.milestones import MilestoneInput, MilestonePatch
from web.api_models import (
    ChannelsInput,
    Decision,
    ExtensionInput,
    ReopenInput,
    ReportInput,
    RobotInput,
    RobotPatch,
    TokenInput,
    TransferInput,
    UnitInput,
    UnitPatch,
)
from web.api_out import (
    ApiOut,
    AssignmentOut,
    BulletinDataOut,
    BulletinOut,
    ErrorOut,
    ExtensionOut,
    HistoryLineOut,
    ItemOut,
    MeOut,
    MilestoneOut,
    PersonOut,
    ReportOut,
    RobotOut,
    RobotTestOut,
    TimelineEntryOut,
    TokenCreatedOut,
    TokenOut,
    UnitOut,
)

__all__ = [
    "SCHEMAS",
    "Operation",
    "Param",
    "build_document",
    "model_schemas",
    "openapi_path",
    "output_schemas",
]

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
    keyset: bool = False  # also paged by cursor (``after``, answered ``next``)
    public: bool = False  # no bearer token needed
    conflicts: bool = False  # may answer 409


def openapi_path(path: str) -> str:
    """``/items/{item_id:\\d+}`` → ``/items/{item_id}``."""
    return _PATH_PARAM.sub(r"{\1}", path)


_REF_TEMPLATE: Final = "#/components/schemas/{model}"
_ID: Final = {"type": "integer", "minimum": 1}


def _ref(name: str) -> dict[str, Any]:
    return {"$ref": _REF_TEMPLATE.format(model=name)}


def model_schemas(*kinds: type[BaseModel]) -> dict[str, dict[str, Any]]:
    """Component schemas of pydantic request models and of every model or enum they refer to."""
    out: dict[str, dict[str, Any]] = {}
    for kind in kinds:
        schema = kind.model_json_schema(ref_template=_REF_TEMPLATE)
        out.update(schema.pop("$defs", {}))
        out[kind.__name__] = schema
    return out


class _OutputSchema(GenerateJsonSchema):
    """Names a response model's component without its ``Out`` suffix (``ItemOut`` → ``Item``)."""

    def normalize_name(self, name: str) -> str:
        return super().normalize_name(name).removesuffix("Out")


def _inline_enums(node: Any, enums: dict[str, dict[str, Any]]) -> Any:
    """``node`` with each reference to an enum replaced by the enum's values."""
    if isinstance(node, list):
        return [_inline_enums(x, enums) for x in node]
    if not isinstance(node, dict):
        return node
    ref = node.get("$ref")
    if isinstance(ref, str) and ref.rsplit("/", 1)[-1] in enums:
        rest = {k: v for k, v in node.items() if k != "$ref"}
        return {**enums[ref.rsplit("/", 1)[-1]], **rest}
    return {k: _inline_enums(v, enums) for k, v in node.items()}


def output_schemas(*kinds: type[ApiOut]) -> dict[str, dict[str, Any]]:
    """Component schemas of response models (as serialised) and of the models they refer to;
    enum values are written where they are used, as a client reads them."""
    out: dict[str, dict[str, Any]] = {}
    for kind in kinds:
        schema = kind.model_json_schema(
            ref_template=_REF_TEMPLATE, schema_generator=_OutputSchema, mode="serialization"
        )
        defs: dict[str, dict[str, Any]] = schema.pop("$defs", {})
        enums = {
            name: {k: v for k, v in d.items() if k in ("type", "enum")}
            for name, d in defs.items()
            if "enum" in d
        }
        for name, d in defs.items():
            if name not in enums:
                out[name] = _inline_enums(d, enums)
        out[kind.__name__.removesuffix("Out")] = _inline_enums(schema, enums)
    return out


#: Component schemas, by name: request bodies, then answers.
SCHEMAS: Final[dict[str, dict[str, Any]]] = {
    **model_schemas(
        ItemInput,
        ItemPatch,
        MilestoneInput,
        MilestonePatch,
        ReportInput,
        ExtensionInput,
        Decision,
        ReopenInput,
        TransferInput,
        UnitInput,
        UnitPatch,
        TokenInput,
        ChannelsInput,
        RobotInput,
        RobotPatch,
    ),
    **output_schemas(
        ErrorOut,
        MeOut,
        ItemOut,
        AssignmentOut,
        ReportOut,
        ExtensionOut,
        PersonOut,
        UnitOut,
        BulletinDataOut,
        BulletinOut,
        TokenOut,
        TokenCreatedOut,
        TimelineEntryOut,
        HistoryLineOut,
        MilestoneOut,
        RobotOut,
        RobotTestOut,
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


def _page_of(name: str, keyset: bool) -> dict[str, Any]:
    page: dict[str, Any] = {
        "type": "object",
        "properties": {
            "data": {"type": "array", "items": _ref(name)},
            "page": {"type": "integer"},
            "per_page": {"type": "integer"},
            "total": {"type": "integer"},
        },
        "required": ["data", "page", "per_page", "total"],
    }
    if keyset:
        page["properties"]["page"] = {"type": ["integer", "null"]}
        page["properties"]["total"] = {
            "type": ["integer", "null"],
            "description": "every match (null when paged by ``after``: not counted)",
        }
        page["properties"]["next"] = {
            "type": ["integer", "null"],
            "description": "the ``after`` of the next page; null on the last",
        }
        page["required"].append("next")
    return page


PAGING: Final = (
    Param("page", {"type": "integer", "minimum": 1, "default": 1}, "page number, from 1"),
    Param(
        "per_page",
        {"type": "integer", "minimum": 1, "maximum": 200, "default": 50},
        "rows per page (at most 200)",
    ),
)


KEYSET: Final = (
    Param(
        "after",
        {"type": "integer", "minimum": 1},
        "keyset cursor: the ``next`` of the previous answer; the rows after that one, each "
        "page as fast as the first (``page`` is then ignored, ``total`` not counted)",
    ),
)


def _operation(op: Operation) -> dict[str, Any]:
    params: list[dict[str, Any]] = [
        {"name": name, "in": "path", "required": True, "schema": _ID}
        for name in _PATH_PARAM.findall(op.path)
    ]
    query = (*op.query, *PAGING, *(KEYSET if op.keyset else ())) if op.paged else op.query
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
        schema = _page_of(op.response, op.keyset) if op.paged else _ref(op.response)
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
