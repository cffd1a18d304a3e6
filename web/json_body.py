"""Reading a JSON request body within limits: the one reader of the API and the webhook.

The size cap holds whether the client sent a Content-Length or a chunked body; the body must
be UTF-8 (RFC 8259), and nesting is limited so that a deep document is a 400, not a
RecursionError. Imports only aiohttp.
"""

from __future__ import annotations

import json
from typing import Any, Final

from aiohttp import web

__all__ = ["MAX_DEPTH", "BodyError", "read_json_body"]

#: Arrays and objects inside each other; a Telegram update or an API body needs a handful.
MAX_DEPTH: Final = 64
_UTF8: Final = frozenset({"utf-8", "utf8"})


class BodyError(Exception):
    """A body that is refused: the HTTP status, a short code and a message for the client."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


async def _read_capped(request: web.Request, max_bytes: int) -> bytes:
    too_large = BodyError(413, "body_too_large", f"the body is larger than {max_bytes} bytes")
    if request.content_length is not None and request.content_length > max_bytes:
        raise too_large
    chunks: list[bytes] = []
    size = 0
    # `read(n)` returns what has arrived, up to n bytes: loop until the end or one byte over.
    while chunk := await request.content.read(max_bytes + 1 - size):
        chunks.append(chunk)
        size += len(chunk)
        if size > max_bytes:
            raise too_large
    return b"".join(chunks)


def _depth(value: Any) -> int:
    """How deeply arrays and objects nest in a parsed document (a scalar is 0)."""
    deepest = 0
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        node, level = stack.pop()
        if isinstance(node, dict):
            node = list(node.values())
        if isinstance(node, list):
            deepest = max(deepest, level + 1)
            stack.extend((child, level + 1) for child in node)
    return deepest


async def read_json_body(
    request: web.Request, *, max_bytes: int, max_depth: int = MAX_DEPTH
) -> Any:
    """The parsed JSON body, or `BodyError`: 413 over ``max_bytes``, 400 when not UTF-8, not
    JSON or nested deeper than ``max_depth``."""
    charset = request.charset
    if charset is not None and charset.lower() not in _UTF8:
        raise BodyError(400, "unsupported_charset", "send the JSON body as UTF-8")
    raw = await _read_capped(request, max_bytes)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise BodyError(400, "invalid_json", "the body is not UTF-8 text") from None
    try:
        data = json.loads(text)
    except RecursionError:
        data, deep = None, True
    except ValueError:
        raise BodyError(400, "invalid_json", "the body is not valid JSON") from None
    else:
        deep = _depth(data) > max_depth
    if deep:
        raise BodyError(
            400, "invalid_json", f"the JSON nests deeper than {max_depth} arrays or objects"
        )
    return data
