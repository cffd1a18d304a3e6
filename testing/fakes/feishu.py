"""A fake Feishu (飞书) server on 127.0.0.1: tenant token and app messages, from the published API.

Imports only aiohttp and the clock (never pytest): `bench/` scripts may use it.

- ``POST /open-apis/auth/v3/tenant_access_token/internal`` with ``app_id``/``app_secret`` →
  ``tenant_access_token`` + ``expire`` (7200 s by the injected clock); an unknown app is
  10003, a wrong secret 10014.
- ``POST /open-apis/im/v1/messages?receive_id_type=`` with ``Authorization: Bearer`` →
  ``data.message_id``; no token is 99991661, an unknown or expired one 99991663 (HTTP 400);
  ``receive_id_type`` other than open_id / user_id / union_id / email / chat_id is 99992402;
  ``content`` must be a JSON string fit for ``msg_type`` (text, post, interactive: a card
  with ``elements``), else 230001; a user outside the app's availability is 230013. The same
  ``uuid`` within an hour returns the first message instead of sending again.
- Forced rate limits: 99991400 answers HTTP 429 with ``x-ogw-ratelimit-reset``, 230020 (one
  user's limit) HTTP 200, as the frequency-control page documents.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import count
from typing import Any

from aiohttp import web

from supervision.clock import Clock, SystemClock
from testing.fakes.server import LoopbackServer

TOKEN_TTL = timedelta(seconds=7200)
UUID_WINDOW = timedelta(hours=1)
RECEIVE_ID_TYPES = frozenset({"open_id", "user_id", "union_id", "email", "chat_id"})
MSG = {
    0: "success",
    10003: "invalid param",
    10014: "app secret invalid",
    99991400: "request trigger frequency limit",
    99991661: "Missing access token for authorization.",
    99991663: "Invalid access token for authorization.",
    99992402: "field validation failed",
    230001: "Your request contains an invalid request parameter.",
    230013: "Bot has NO availability to this user.",
    230020: "This operation triggers the frequency limit.",
}
#: HTTP status Feishu answers with each code (others: 400 for errors, 200 for success)
STATUS = {0: 200, 99991400: 429, 230020: 200}


def error(code: int) -> web.Response:
    """The answer Feishu gives for ``code``."""
    headers = {"x-ogw-ratelimit-reset": "7"} if code == 99991400 else None
    return web.json_response(
        {"code": code, "msg": MSG.get(code, "error")},
        status=STATUS.get(code, 400),
        headers=headers,
    )


@dataclass
class Sent:
    """One accepted message: the query's id type, the JSON body and its decoded content."""

    message_id: str
    receive_id_type: str
    body: dict[str, Any]
    content: dict[str, Any]


class FakeFeishu(LoopbackServer):
    """The Feishu server API for one tenant and one self-built application."""

    def __init__(
        self,
        *,
        clock: Clock | None = None,
        app_id: str = "cli_fakefeishuapp01",
        app_secret: str = "fake-feishu-secret",
        users: set[str] | None = None,
    ) -> None:
        self.clock = clock or SystemClock()
        self.app_id, self.app_secret = app_id, app_secret
        #: user_ids and open_ids inside the app's availability
        self.users: set[str] = set(users or ())
        self.sent: list[Sent] = []
        self.tokens_issued = 0
        self._tokens: dict[str, datetime] = {}
        self._uuids: dict[str, tuple[datetime, str]] = {}
        self._forced: list[int] = []
        self._ids = count(1)

    def routes(self, app: web.Application) -> None:
        """The platform's endpoints this fake answers."""
        app.router.add_post("/open-apis/auth/v3/tenant_access_token/internal", self._token)
        app.router.add_post("/open-apis/im/v1/messages", self._send)

    def fail_next(self, *codes: int) -> None:
        """Answer the next message sends with these codes (e.g. 99991400, 230020)."""
        self._forced.extend(codes)

    def expire_tokens(self) -> None:
        """Make every issued token expired (the next send answers 99991663)."""
        for token in self._tokens:
            self._tokens[token] = self.clock.now() - timedelta(seconds=1)

    async def _json(self, request: web.Request) -> dict[str, Any] | None:
        try:
            body = json.loads(await request.read())
        except ValueError:
            return None
        return body if isinstance(body, dict) else None

    async def _token(self, request: web.Request) -> web.Response:
        body = await self._json(request) or {}
        if body.get("app_id") != self.app_id:
            return error(10003)
        if body.get("app_secret") != self.app_secret:
            return error(10014)
        token = f"t-{secrets.token_hex(20)}"
        self._tokens[token] = self.clock.now() + TOKEN_TTL
        self.tokens_issued += 1
        ttl = int(TOKEN_TTL.total_seconds())
        return web.json_response(
            {"code": 0, "msg": "ok", "tenant_access_token": token, "expire": ttl}
        )

    async def _send(self, request: web.Request) -> web.Response:
        auth = request.headers.get("Authorization", "")
        if not auth.startswith("Bearer ") or not auth[7:]:
            return error(99991661)
        expiry = self._tokens.get(auth[7:])
        if expiry is None or self.clock.now() >= expiry:
            return error(99991663)
        if self._forced:
            return error(self._forced.pop(0))
        id_type = request.query.get("receive_id_type", "")
        if id_type not in RECEIVE_ID_TYPES:
            return error(99992402)
        body = await self._json(request)
        if body is None:
            return error(230001)
        content = _content(body)
        if content is None:
            return error(230001)
        now = self.clock.now()
        uuid = str(body.get("uuid") or "")
        if len(uuid) > 50:
            return error(99992402)
        if uuid in self._uuids and now - self._uuids[uuid][0] < UUID_WINDOW:
            return _ok(self._uuids[uuid][1])
        receiver = str(body.get("receive_id", ""))
        if receiver not in self.users or (id_type == "open_id") != receiver.startswith("ou_"):
            return error(230013)
        message_id = f"om_fake{next(self._ids):08d}"
        self.sent.append(Sent(message_id, id_type, body, content))
        if uuid:
            self._uuids[uuid] = (now, message_id)
        return _ok(message_id)


def _ok(message_id: str) -> web.Response:
    return web.json_response({"code": 0, "msg": "success", "data": {"message_id": message_id}})


def _content(body: dict[str, Any]) -> dict[str, Any] | None:
    """The decoded ``content`` when it fits ``msg_type``, else None."""
    raw = body.get("content")
    if not isinstance(raw, str):
        return None
    try:
        content = json.loads(raw)
    except ValueError:
        return None
    if not isinstance(content, dict):
        return None
    kind = body.get("msg_type")
    if kind == "text":
        return content if str(content.get("text", "")).strip() else None
    if kind == "post":
        return content if content else None
    if kind == "interactive":
        elements = content.get("elements")
        return content if isinstance(elements, list) and elements else None
    return None
