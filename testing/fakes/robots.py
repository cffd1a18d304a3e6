"""Fake group robots (群机器人) of WeCom, DingTalk and Feishu on 127.0.0.1, from the published
custom-robot documents.

Imports only aiohttp and the clock (never pytest): `bench/` scripts and the demo may use it.
`add(kind, secret=...)` registers a robot and returns its webhook URL on this server:

- WeCom ``POST /cgi-bin/webhook/send?key=`` (``msgtype`` text or markdown): an unknown key is
  93000 (invalid webhook url); markdown content over 4,096 bytes is 40058.
- DingTalk ``POST /robot/send?access_token=[&timestamp=&sign=]``: an unknown token is 300001;
  a robot with a secret checks ``sign`` = base64(HMAC-SHA256(secret, "{timestamp}\\n{secret}"))
  and that the timestamp (ms) is within an hour of the injected clock: 310000 otherwise.
- Feishu ``POST /open-apis/bot/v2/hook/{token}``: an unknown token is 19001; a robot with a
  secret checks ``sign`` = base64(HMAC-SHA256(key="{timestamp}\\n{secret}", msg="")) and the
  timestamp (s) within an hour: 19021 otherwise.

Every request is kept in ``received`` (path, query, body) whatever the answer.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from supervision.clock import Clock, SystemClock
from testing.fakes.server import LoopbackServer

#: how far a signed request's timestamp may be from now
WINDOW_SECONDS = 3600


@dataclass
class Received:
    """One request to a robot: which kind and token, the query and the JSON body."""

    kind: str
    token: str
    query: dict[str, str]
    body: Any


class FakeRobots(LoopbackServer):
    """Group robots of the three platforms behind one loopback server."""

    def __init__(self, *, clock: Clock | None = None) -> None:
        self.clock = clock or SystemClock()
        self.robots: dict[tuple[str, str], str | None] = {}  # (kind, token) -> secret
        self.received: list[Received] = []

    def routes(self, app: web.Application) -> None:
        """The platform's endpoints this fake answers."""
        app.router.add_post("/cgi-bin/webhook/send", self._wecom)
        app.router.add_post("/robot/send", self._dingtalk)
        app.router.add_post("/open-apis/bot/v2/hook/{token}", self._feishu)

    @property
    def host(self) -> str:
        """``127.0.0.1:port``: what the webhook validation must be told to accept."""
        return self.base.removeprefix("http://")

    @property
    def base(self) -> str:
        """Where the robots serve (`base_url`)."""
        return self.base_url

    def add(self, kind: str, *, secret: str | None = None) -> str:
        """Register a robot of ``kind`` (wecom, dingtalk, feishu); its webhook URL."""
        if kind == "wecom":
            token = f"{secrets.token_hex(4)}-{secrets.token_hex(2)}-{secrets.token_hex(6)}"
            url = f"{self.base}/cgi-bin/webhook/send?key={token}"
        elif kind == "dingtalk":
            token = secrets.token_hex(32)
            url = f"{self.base}/robot/send?access_token={token}"
        elif kind == "feishu":
            token = f"{secrets.token_hex(4)}-{secrets.token_hex(2)}-{secrets.token_hex(6)}"
            url = f"{self.base}/open-apis/bot/v2/hook/{token}"
        else:
            raise ValueError(f"no robot kind {kind!r}")
        self.robots[(kind, token)] = secret
        return url

    def _fresh(self, stamp: str, per_second: int) -> bool:
        try:
            then = int(stamp) / per_second
        except ValueError:
            return False
        return abs(self.clock.now().timestamp() - then) <= WINDOW_SECONDS

    async def _body(self, request: web.Request, kind: str, token: str) -> Any:
        raw = await request.text()
        try:
            body = json.loads(raw)
        except ValueError:
            body = None
        self.received.append(Received(kind, token, dict(request.query), body))
        return body

    async def _wecom(self, request: web.Request) -> web.Response:
        token = request.query.get("key", "")
        body = await self._body(request, "wecom", token)
        if ("wecom", token) not in self.robots:
            return _json({"errcode": 93000, "errmsg": "invalid webhook url, hint: fake"})
        kind = body.get("msgtype") if isinstance(body, dict) else None
        if kind not in ("text", "markdown"):
            return _json({"errcode": 40008, "errmsg": "invalid message type"})
        content = str((body.get(kind) or {}).get("content", ""))
        if len(content.encode()) > 4096:
            return _json({"errcode": 40058, "errmsg": "markdown.content exceed max length 4096"})
        return _json({"errcode": 0, "errmsg": "ok"})

    async def _dingtalk(self, request: web.Request) -> web.Response:
        token = request.query.get("access_token", "")
        await self._body(request, "dingtalk", token)
        if ("dingtalk", token) not in self.robots:
            return _json({"errcode": 300001, "errmsg": "token is not exist"})
        secret = self.robots[("dingtalk", token)]
        if secret is not None:
            stamp, sign = request.query.get("timestamp", ""), request.query.get("sign", "")
            mac = hmac.new(secret.encode(), f"{stamp}\n{secret}".encode(), hashlib.sha256)
            good = base64.b64encode(mac.digest()).decode()
            if not self._fresh(stamp, 1000):
                return _json({"errcode": 310000, "errmsg": "invalid timestamp"})
            if not hmac.compare_digest(sign, good):
                return _json({"errcode": 310000, "errmsg": "sign not match"})
        return _json({"errcode": 0, "errmsg": "ok"})

    async def _feishu(self, request: web.Request) -> web.Response:
        token = request.match_info["token"]
        body = await self._body(request, "feishu", token)
        if ("feishu", token) not in self.robots:
            return _json(
                {"code": 19001, "msg": "param invalid: incoming webhook access token invalid"}
            )
        secret = self.robots[("feishu", token)]
        if secret is not None:
            fields = body if isinstance(body, dict) else {}
            stamp, sign = str(fields.get("timestamp", "")), str(fields.get("sign", ""))
            mac = hmac.new(f"{stamp}\n{secret}".encode(), b"", hashlib.sha256)
            good = base64.b64encode(mac.digest()).decode()
            if not self._fresh(stamp, 1) or not hmac.compare_digest(sign, good):
                return _json(
                    {
                        "code": 19021,
                        "msg": "sign match fail or timestamp is not within one hour "
                        "from current time",
                    }
                )
        return _json({"code": 0, "msg": "success", "data": {}})


def _json(body: dict[str, Any]) -> web.Response:
    return web.json_response(body)
