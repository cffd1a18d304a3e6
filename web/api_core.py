"""The plumbing of /api/v1: bearer auth, JSON errors, body and query parsing, paging.

Imports `supervision/` and `web.app`/`web.auth`/`web.api_tokens`/`web.api_out` only. Bodies
are parsed by pydantic models (`supervision.item_schema`, `web.api_models`); answers are the
models of `web.api_out`. Every error under /api/v1 is
``{"error": {"code", "message", "details"?}}`` (`ErrorOut`); domain errors map to statuses
in `STATUS_OF`.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from functools import partial
from typing import Any, Final

from aiohttp import web
from sqlalchemy.exc import IntegrityError

from supervision.access import Permission
from supervision.errors import (
    DomainError,
    InvalidTransition,
    NotAllowed,
    NotFound,
    ValidationFailed,
)
from web.api_out import ApiOut, ErrorOut
from web.api_tokens import authenticate, parse_bearer
from web.app import DEPS, WebDeps
from web.auth import Principal, load_principal
from web.json_body import BodyError, read_json_body

log = logging.getLogger("duban.web.api")

API_PREFIX: Final = "/api/v1"
MAX_BODY: Final = 1024 * 1024
MAX_PER_PAGE: Final = 200
DEFAULT_PER_PAGE: Final = 50
#: The last page asked for: past it the offset would overflow the database's integers.
MAX_PAGE: Final = 1_000_000
#: The largest id (the tables' keys are 32-bit integers).
MAX_ID: Final = 2**31 - 1

#: Domain errors → (HTTP status, error code).
STATUS_OF: Final[tuple[tuple[type[DomainError], int, str], ...]] = (
    (ValidationFailed, 400, "validation_failed"),
    (NotFound, 404, "not_found"),
    (NotAllowed, 403, "forbidden"),
    (InvalidTransition, 409, "invalid_transition"),
    (DomainError, 409, "conflict"),
)
_HTTP_CODES: Final = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "body_too_large",
    415: "unsupported_media_type",
}


class ApiError(Exception):
    """An error answer with its status, code, message and optional details."""

    def __init__(
        self, status: int, code: str, message: str, details: Sequence[str] | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.details = list(details) if details else None


def _default(value: object) -> object:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, StrEnum):
        return value.value
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


_dumps = partial(json.dumps, ensure_ascii=False, default=_default)


def json_ok(data: ApiOut, status: int = 200) -> web.Response:
    """A JSON answer from its model (dates as ISO strings, Chinese left readable)."""
    return web.json_response(data.body(), status=status, dumps=_dumps)


def error_response(
    status: int, code: str, message: str, details: Sequence[str] | None = None
) -> web.Response:
    """The JSON error body every /api/v1 error uses."""
    body = ErrorOut.of(code, message, list(details) if details else None).body()
    return web.json_response(body, status=status, dumps=_dumps)


def _is_api(request: web.Request) -> bool:
    return request.path == API_PREFIX or request.path.startswith(API_PREFIX + "/")


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@web.middleware
async def api_errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Turn every failure under /api/v1 into a JSON error with the right status."""
    if not _is_api(request):
        return await handler(request)
    try:
        return await handler(request)
    except ApiError as exc:
        return error_response(exc.status, exc.code, exc.message, exc.details)
    except DomainError as exc:
        for kind, status, code in STATUS_OF:
            if isinstance(exc, kind):
                details = exc.errors if isinstance(exc, ValidationFailed) else None
                return error_response(status, code, str(exc), details)
        raise
    except IntegrityError:
        return error_response(409, "conflict", "the change conflicts with an existing record")
    except web.HTTPException as exc:
        if exc.status in _HTTP_CODES:
            response = error_response(exc.status, _HTTP_CODES[exc.status], exc.reason or "error")
            if "Allow" in exc.headers:
                response.headers["Allow"] = exc.headers["Allow"]
            return response
        raise


@dataclass(frozen=True, slots=True)
class ApiContext:
    """One authenticated API request."""

    request: web.Request
    deps: WebDeps
    principal: Principal

    @property
    def person_id(self) -> int:
        """The id of the person the token acts for."""
        return self.principal.person_id

    def match_id(self, name: str) -> int:
        """An integer path parameter (the route pattern guarantees digits); 404 past any id."""
        value = positive_int(self.request.match_info[name], MAX_ID)
        if value is None:
            raise ApiError(404, "not_found", f"no such {name.removesuffix('_id')}")
        return value


ApiHandler = Callable[[ApiContext], Awaitable[web.StreamResponse]]


def guarded(handler: ApiHandler, permission: Permission) -> Handler:
    """Wrap an API handler: 401 without a live token, 403 unless the caller's scope grants
    ``permission`` (the same `supervision.access.Scope` the pages ask)."""

    async def wrapped(request: web.Request) -> web.StreamResponse:
        deps: WebDeps = request.app[DEPS]
        value = parse_bearer(request.headers.get("Authorization"))
        if value is None:
            raise ApiError(401, "unauthorized", "send Authorization: Bearer <token>")
        async with deps.sessions() as session, session.begin():
            person = await authenticate(session, value, clock=deps.clock)
            principal = await load_principal(session, person) if person is not None else None
        if person is None:
            raise ApiError(401, "unauthorized", "the token is unknown or revoked")
        if principal is None:
            raise ApiError(403, "forbidden", "this account has no API access")
        if not principal.allows(permission):
            raise ApiError(403, "forbidden", f"the role {principal.tier.value} may not do this")
        return await handler(ApiContext(request, deps, principal))

    return wrapped


# --- input ----------------------------------------------------------------------------------


async def read_json(request: web.Request) -> dict[str, Any]:
    """The JSON object in the body: 415 unless JSON, 413 when too large (chunked or not), 400
    when not UTF-8, malformed or nested too deeply (`web.json_body`)."""
    if request.content_type != "application/json":
        raise ApiError(415, "unsupported_media_type", "send the body as application/json")
    try:
        data = await read_json_body(request, max_bytes=MAX_BODY)
    except BodyError as exc:
        raise ApiError(exc.status, exc.code, exc.message) from None
    if not isinstance(data, dict):
        raise ApiError(400, "invalid_json", "the body must be a JSON object")
    return data


def positive_int(raw: str, limit: int) -> int | None:
    """``raw`` as an integer from 1 to ``limit``, or None: ASCII digits only (``str.isdigit``
    also takes ``²`` and other digits that ``int`` refuses), never a huge number."""
    if not (raw.isascii() and raw.isdigit()) or len(raw) > len(str(limit)):
        return None
    value = int(raw)
    return value if 1 <= value <= limit else None


def query_int(request: web.Request, name: str) -> int | None:
    """An optional positive integer (id) query parameter (400 otherwise)."""
    raw = request.query.get(name)
    if raw is None or raw == "":
        return None
    value = positive_int(raw, MAX_ID)
    if value is None:
        raise ValidationFailed(
            f"{name}: must be a positive integer up to {MAX_ID}", [f"{name}: {raw[:40]!r}"]
        )
    return value


def query_bool(request: web.Request, name: str) -> bool | None:
    """An optional true/false query parameter."""
    raw = request.query.get(name)
    if raw is None or raw == "":
        return None
    if raw.lower() in ("true", "1", "yes"):
        return True
    if raw.lower() in ("false", "0", "no"):
        return False
    raise ValidationFailed(f"{name}: must be true or false", [f"{name}: {raw!r}"])


def query_date(request: web.Request, name: str) -> date | None:
    """An optional YYYY-MM-DD query parameter."""
    raw = request.query.get(name)
    if raw is None or raw == "":
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise ValidationFailed(
            f"{name}: must be a date like 2026-11-30", [f"{name}: {raw!r}"]
        ) from None


def query_choice(request: web.Request, name: str, allowed: Sequence[str]) -> str | None:
    """An optional query parameter from a fixed set."""
    raw = request.query.get(name)
    if raw is None or raw == "":
        return None
    if raw not in allowed:
        raise ValidationFailed(f"{name}: must be one of {', '.join(allowed)}", [f"{name}: {raw!r}"])
    return raw


@dataclass(frozen=True, slots=True)
class Page:
    """Which slice of a list was asked for."""

    page: int
    per_page: int
    after: int | None = None  # keyset cursor: the id of the row before this page

    @property
    def offset(self) -> int:
        """Rows to skip."""
        return (self.page - 1) * self.per_page

    def answer(
        self,
        data: Sequence[ApiOut],
        total: int | None,
        *,
        keyset: bool = False,
        next_id: int | None = None,
    ) -> web.Response:
        """The paged JSON answer (with ``next`` for lists paged by cursor too)."""
        body: dict[str, Any] = {
            "data": [x.body() for x in data],
            "page": self.page if self.after is None else None,
            "per_page": self.per_page,
            "total": total,
        }
        if keyset:
            body["next"] = next_id
        return web.json_response(body, dumps=_dumps)


def paging(request: web.Request) -> Page:
    """``?page=&per_page=`` (defaults 1 and 50; at most 200 per page and page 1,000,000),
    and ``?after=`` (a row id) for the lists paged by cursor."""
    problems: list[str] = []
    values: dict[str, int] = {"page": 1, "per_page": DEFAULT_PER_PAGE}
    limits = {"page": MAX_PAGE, "per_page": MAX_PER_PAGE, "after": MAX_ID}
    for name in limits:
        raw = request.query.get(name)
        if raw is None:
            continue
        value = positive_int(raw, limits[name])
        if value is None:
            if positive_int(raw, 10**100) is None:
                problems.append(f"{name}: must be a positive integer")
            else:
                problems.append(f"{name}: at most {limits[name]}")
        else:
            values[name] = value
    if problems:
        raise ValidationFailed("invalid paging: " + "; ".join(problems), problems)
    return Page(values["page"], values["per_page"], values.get("after"))
