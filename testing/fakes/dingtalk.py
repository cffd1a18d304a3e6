"""A fake DingTalk (钉钉) server on 127.0.0.1: token and work notifications, from the published API.

Imports only aiohttp and the clock (never pytest): `bench/` scripts may use it.

- ``GET /gettoken?appkey=&appsecret=`` → ``access_token`` + ``expires_in`` (7200 s by the
  injected clock); a wrong key or secret is 40089.
- ``POST /topapi/message/corpconversation/asyncsend_v2?access_token=`` with ``agent_id``,
  ``userid_list`` (comma-separated, at most 100) and ``msg`` → ``task_id``; an unknown token
  is 40014, an expired one 42001, a wrong agent 40056 (checked as DingTalk checks them, in
  that order), a forced error (e.g. 90018, "too many calls") as given. ``msg`` is checked as
  documented: ``msgtype`` text / markdown / action_card, the action card's title (≤ 64),
  markdown (≤ 5,000) and either ``single_title`` + ``single_url`` or ``btn_json_list``
  (34016 too long, 34014 malformed, 40008 unknown type).
- DingTalk reports unknown userids later (``getsendresult``); this fake answers 33012 (无效的
  USERID) at once when none of the userids exists, so the fallback path can be exercised.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from datetime import timedelta
from itertools import count
from typing import Any

from aiohttp import web

from supervision.clock import Clock, SystemClock
from testing.fakes.server import LoopbackServer

TOKEN_TTL = timedelta(seconds=7200)
ERRMSG = {
    0: "ok",
    33012: "无效的USERID",
    34014: "会话消息的json结构无效或不完整",
    34016: "消息内容长度超过限制",
    40008: "不合法的msgtype类型",
    40014: "不合法的access_token",
    40056: "不合法的agentid",
    40089: "不合法的corpid或corpsecret",
    42001: "access_token超时",
    90018: "当前请求被限流，请稍后重试",
}


def error(code: int) -> dict[str, Any]:
    """The JSON body DingTalk answers with for ``code``."""
    return {"errcode": code, "errmsg": ERRMSG.get(code, "error"), "request_id": "fake"}


@dataclass
class Sent:
    """One accepted work notification: the JSON body and the users it reached."""

    task_id: int
    body: dict[str, Any]
    users: list[str]

    @property
    def msg(self) -> dict[str, Any]:
        """The ``msg`` object."""
        msg = self.body.get("msg")
        return msg if isinstance(msg, dict) else {}


class FakeDingTalk(LoopbackServer):
    """The DingTalk server API for one organisation and one internal application."""

    def __init__(
        self,
        *,
        clock: Clock | None = None,
        app_key: str = "dingfakeappkey0001",
        app_secret: str = "fake-dingtalk-secret",
        agent_id: int = 2_000_001,
        users: set[str] | None = None,
    ) -> None:
        self.clock = clock or SystemClock()
        self.app_key, self.app_secret, self.agent_id = app_key, app_secret, agent_id
        self.users: set[str] = set(users or ())
        self.sent: list[Sent] = []
        self.requests: list[tuple[str, dict[str, Any]]] = []
        self.tokens_issued = 0
        self._tokens: dict[str, Any] = {}
        self._forced: list[int] = []
        self._tasks = count(256_271_667_000)

    def routes(self, app: web.Application) -> None:
        """The platform's endpoints this fake answers."""
        app.router.add_get("/gettoken", self._gettoken)
        app.router.add_post("/topapi/message/corpconversation/asyncsend_v2", self._send)

    def fail_next(self, *codes: int) -> None:
        """Answer the next sends with these errcodes (e.g. 90018)."""
        self._forced.extend(codes)

    def expire_tokens(self) -> None:
        """Make every issued token expired (the next send answers 42001)."""
        for token in self._tokens:
            self._tokens[token] = self.clock.now() - timedelta(seconds=1)

    def revoke_tokens(self) -> None:
        """Forget every issued token (the next send answers 40014)."""
        self._tokens.clear()

    async def _gettoken(self, request: web.Request) -> web.Response:
        query = dict(request.query)
        self.requests.append((request.path, {k: v for k, v in query.items() if k != "appsecret"}))
        if query.get("appkey") != self.app_key or query.get("appsecret") != self.app_secret:
            return web.json_response(error(40089))
        token = secrets.token_hex(16)
        self._tokens[token] = self.clock.now() + TOKEN_TTL
        self.tokens_issued += 1
        body = error(0) | {"access_token": token, "expires_in": int(TOKEN_TTL.total_seconds())}
        return web.json_response(body)

    async def _send(self, request: web.Request) -> web.Response:
        token = request.query.get("access_token", "")
        try:
            body = json.loads(await request.read())
        except ValueError:
            body = None
        self.requests.append((request.path, body if isinstance(body, dict) else {}))
        expiry = self._tokens.get(token)
        if expiry is None:
            return web.json_response(error(40014))
        if self.clock.now() >= expiry:
            return web.json_response(error(42001))
        if self._forced:
            return web.json_response(error(self._forced.pop(0)))
        if not isinstance(body, dict):
            return web.json_response(error(34014))
        if body.get("agent_id") != self.agent_id:
            return web.json_response(error(40056))
        problem = check_msg(body.get("msg"))
        if problem:
            return web.json_response(error(problem))
        wanted = [u for u in str(body.get("userid_list", "")).split(",") if u]
        if not wanted or len(wanted) > 100:
            return web.json_response(error(33012))
        valid = [u for u in wanted if u in self.users]
        if not valid:
            return web.json_response(error(33012))
        task_id = next(self._tasks)
        self.sent.append(Sent(task_id=task_id, body=body, users=valid))
        return web.json_response(error(0) | {"task_id": task_id})


def check_msg(msg: Any) -> int:
    """The error code for a malformed work notification ``msg``, or 0."""
    if not isinstance(msg, dict):
        return 34014
    msgtype = msg.get("msgtype")
    content = msg.get(msgtype) if isinstance(msgtype, str) else None
    if msgtype not in ("text", "markdown", "action_card"):
        return 40008
    if not isinstance(content, dict):
        return 34014
    if msgtype == "text":
        text = str(content.get("content", ""))
        return 34014 if not text.strip() else 34016 if len(text) > 5_000 else 0
    title = str(content.get("title", ""))
    text = str(content.get("text" if msgtype == "markdown" else "markdown", ""))
    if not title or not text.strip():
        return 34014
    if len(title) > 64 or len(text) > 5_000:
        return 34016
    if msgtype == "markdown":
        return 0
    single_title, single_url = content.get("single_title"), content.get("single_url")
    if single_title or single_url:
        if not (single_title and single_url):
            return 34014
        if len(str(single_title)) > 20 or len(str(single_url)) > 500:
            return 34016
        return 0
    buttons = content.get("btn_json_list")
    if not isinstance(buttons, list) or not buttons:
        return 34014
    return 0
