"""A fake WeCom (企业微信) server on 127.0.0.1, written from the published server API.

Imports only aiohttp and Duban's callback crypto (never pytest): `bench/` scripts may use it.

- ``GET /cgi-bin/gettoken?corpid=&corpsecret=`` → ``access_token`` + ``expires_in`` (7200 s
  by the injected clock); a wrong secret is 40001, an unknown corp 40013.
- ``POST /cgi-bin/message/send?access_token=`` → ``msgid``; a missing/unknown token is 40014,
  an expired one 42001, a forced rate limit 45009, an unknown agent 40056; unknown users come
  back in ``invaliduser`` and, when nobody valid is left, as 81013. ``template_card`` cards of
  ``button_interaction`` type are checked as the API documents (task_id, at most 6 buttons
  with ``key`` and ``text``).
- Web authorization (网页授权): ``GET /connect/oauth2/authorize?appid=&redirect_uri=&
  response_type=code&scope=&state=&agentid=`` (the page ``open.weixin.qq.com`` serves inside
  WeCom) redirects the member signed in (:meth:`FakeWeCom.sign_in`, or ``as=`` in the query;
  with neither, a page to pick one) to ``redirect_uri?code=…&state=…``; a wrong appid or
  agent is an error page. ``GET /cgi-bin/auth/getuserinfo?access_token=&code=`` turns a code
  (single use, 5 minutes) into ``userid`` (a member) or ``openid`` (someone outside the
  organisation, :meth:`FakeWeCom.sign_in` with ``member=False``); a bad code is 40029.
- :meth:`FakeWeCom.deliver` pushes a callback to an app exactly as WeCom does: the message
  encrypted (WXBizMsgCrypt), ``msg_signature``/``timestamp``/``nonce`` in the query string,
  answered within 5 s or retried (3 attempts in all).

    async with FakeWeCom(clock=FixedClock(...), users={"zhangsan"}) as fake:
        channel = WeComAppChannel(fake.config(), ...)
        await fake.deliver(callback_url, fake.text_message("zhangsan", "已完成"))
"""

from __future__ import annotations

import base64
import json
import secrets
from dataclasses import dataclass, field
from datetime import timedelta
from itertools import count
from typing import Any
from urllib.parse import urlencode
from xml.sax.saxutils import escape

from aiohttp import ClientSession, ClientTimeout, web

from notifier.wecom.crypto import WeComCrypt
from supervision.clock import Clock, SystemClock
from testing.fakes.server import LoopbackServer

TOKEN_TTL = timedelta(seconds=7200)
CODE_TTL = timedelta(minutes=5)
CALLBACK_TIMEOUT = 5.0  # WeCom waits 5 s for an answer …
CALLBACK_ATTEMPTS = 3  # … and tries three times in all
MAX_BUTTONS = 6
ERRMSG = {
    0: "ok",
    40001: "invalid credential",
    40013: "invalid corpid",
    40014: "invalid access_token",
    40029: "invalid code",
    40056: "invalid agentid",
    41001: "access_token missing",
    42001: "access_token expired",
    44004: "empty content",
    45009: "api freq out of limit",
    47001: "data format error",
    81013: "user & party & tag all invalid",
}


def error(code: int) -> dict[str, Any]:
    """The JSON body WeCom answers with for ``code``."""
    return {"errcode": code, "errmsg": ERRMSG.get(code, "error")}


def new_aes_key() -> str:
    """A fresh 43-character EncodingAESKey, as the admin console generates."""
    return base64.b64encode(secrets.token_bytes(32)).decode().rstrip("=")


@dataclass
class Sent:
    """One accepted ``message/send``: the JSON body and the users it reached."""

    msgid: str
    body: dict[str, Any]
    touser: list[str]

    @property
    def card(self) -> dict[str, Any]:
        """The template card (empty for other message types)."""
        card = self.body.get("template_card")
        return card if isinstance(card, dict) else {}


@dataclass
class Delivery:
    """What :meth:`FakeWeCom.deliver` saw: the answers to every attempt (None: timed out)."""

    attempts: list[tuple[int, str] | None] = field(default_factory=list)

    @property
    def answer(self) -> tuple[int, str] | None:
        """The last attempt's (status, body)."""
        return self.attempts[-1] if self.attempts else None


class FakeWeCom(LoopbackServer):
    """The WeCom server API for one corp and one self-built application."""

    def __init__(
        self,
        *,
        clock: Clock | None = None,
        corp_id: str = "ww0123456789abcdef",
        agent_id: int = 1000002,
        secret: str = "fake-wecom-secret",
        token: str = "fakeCallbackToken",
        aes_key: str | None = None,
        users: set[str] | None = None,
    ) -> None:
        self.clock = clock or SystemClock()
        self.corp_id, self.agent_id, self.secret = corp_id, agent_id, secret
        self.token, self.aes_key = token, aes_key or new_aes_key()
        self.crypt = WeComCrypt(self.token, self.aes_key, self.corp_id)
        self.users: set[str] = set(users or ())
        self.sent: list[Sent] = []
        self.requests: list[tuple[str, dict[str, Any]]] = []  # (path, body or query)
        self.tokens_issued = 0
        self._tokens: dict[str, Any] = {}  # token -> expiry (aware datetime)
        self._forced: list[int] = []  # errcodes for the next message/send calls
        self._codes: dict[str, tuple[str, bool, Any]] = {}  # code -> (user, member, expiry)
        self.signed_in: tuple[str, bool] | None = None
        self._msgids = count(1)

    # lifecycle

    def routes(self, app: web.Application) -> None:
        """The platform's endpoints this fake answers."""
        app.router.add_get("/cgi-bin/gettoken", self._gettoken)
        app.router.add_post("/cgi-bin/message/send", self._send)
        app.router.add_get("/connect/oauth2/authorize", self._authorize)
        app.router.add_get("/cgi-bin/auth/getuserinfo", self._getuserinfo)

    # test controls

    def fail_next(self, *codes: int) -> None:
        """Answer the next ``message/send`` calls with these errcodes (e.g. 45009)."""
        self._forced.extend(codes)

    def expire_tokens(self) -> None:
        """Make every issued token expired (the next send answers 42001)."""
        for token in self._tokens:
            self._tokens[token] = self.clock.now() - timedelta(seconds=1)

    def revoke_tokens(self) -> None:
        """Forget every issued token (the next send answers 40014)."""
        self._tokens.clear()

    def sign_in(self, user: str | None, *, member: bool = True) -> None:
        """Who opens links inside WeCom from now on (None: nobody; the page asks)."""
        self.signed_in = (user, member) if user else None

    # the API

    async def _gettoken(self, request: web.Request) -> web.Response:
        query = dict(request.query)
        self.requests.append((request.path, {k: v for k, v in query.items() if k != "corpsecret"}))
        if query.get("corpid") != self.corp_id:
            return web.json_response(error(40013))
        if query.get("corpsecret") != self.secret:
            return web.json_response(error(40001))
        token = secrets.token_urlsafe(48)
        self._tokens[token] = self.clock.now() + TOKEN_TTL
        self.tokens_issued += 1
        body = error(0) | {
            "access_token": token,
            "expires_in": int(TOKEN_TTL.total_seconds()),
        }
        return web.json_response(body)

    def _token_error(self, token: str | None) -> int:
        if not token:
            return 41001
        expiry = self._tokens.get(token)
        if expiry is None:
            return 40014
        return 42001 if self.clock.now() >= expiry else 0

    async def _send(self, request: web.Request) -> web.Response:
        code = self._token_error(request.query.get("access_token"))
        try:
            body = json.loads(await request.read())
        except ValueError:
            body = None
        self.requests.append((request.path, body if isinstance(body, dict) else {}))
        if code:
            return web.json_response(error(code))
        if self._forced:
            return web.json_response(error(self._forced.pop(0)))
        if not isinstance(body, dict):
            return web.json_response(error(47001))
        if body.get("agentid") != self.agent_id:
            return web.json_response(error(40056))
        problem = _check_message(body)
        if problem:
            return web.json_response(problem)
        wanted = [u for u in str(body.get("touser", "")).split("|") if u]
        valid = [u for u in wanted if u in self.users]
        invalid = [u for u in wanted if u not in self.users]
        if not valid:
            return web.json_response(error(81013) | {"invaliduser": "|".join(invalid)})
        msgid = f"fake-msg-{next(self._msgids)}"
        self.sent.append(Sent(msgid=msgid, body=body, touser=valid))
        answer = error(0) | {"invaliduser": "|".join(invalid), "msgid": msgid}
        if body.get("msgtype") == "template_card":
            answer["response_code"] = secrets.token_urlsafe(16)
        return web.json_response(answer)

    # web authorization (网页授权)

    async def _authorize(self, request: web.Request) -> web.Response:
        q = request.query
        if q.get("appid") != self.corp_id or q.get("agentid") != str(self.agent_id):
            return web.Response(status=400, text="appid or agentid is wrong (参数错误)")
        redirect_uri, state = q.get("redirect_uri", ""), q.get("state", "")
        if q.get("response_type") != "code" or not redirect_uri.startswith(("http://", "https://")):
            return web.Response(status=400, text="redirect_uri or response_type is wrong")
        who = (q["as"], q.get("member", "1") == "1") if q.get("as") else self.signed_in
        if who is None:  # the demo's stand-in for "the member using WeCom": pick one
            links = "".join(
                f'<li><a href="{escape(str(request.url.update_query({"as": user})))}">'
                f"{escape(user)}</a></li>"
                for user in sorted(self.users)
            )
            page = f"<!doctype html><meta charset=utf-8><p>以谁的身份打开？</p><ul>{links}</ul>"
            return web.Response(text=page, content_type="text/html")
        code = secrets.token_hex(16)
        self._codes[code] = (who[0], who[1], self.clock.now() + CODE_TTL)
        sep = "&" if "?" in redirect_uri else "?"
        target = f"{redirect_uri}{sep}{urlencode({'code': code, 'state': state})}"
        raise web.HTTPFound(target)

    async def _getuserinfo(self, request: web.Request) -> web.Response:
        code = self._token_error(request.query.get("access_token"))
        self.requests.append((request.path, {"code": request.query.get("code", "")}))
        if code:
            return web.json_response(error(code))
        found = self._codes.pop(request.query.get("code", ""), None)
        if found is None or self.clock.now() >= found[2]:
            return web.json_response(error(40029))
        user, member, _ = found
        if not member:
            return web.json_response(error(0) | {"openid": f"o{secrets.token_hex(12)}"})
        return web.json_response(
            error(0) | {"userid": user, "user_ticket": secrets.token_hex(16), "expires_in": 1800}
        )

    # callbacks (WeCom → the app)

    def _envelope(self, inner: str) -> tuple[dict[str, str], str]:
        timestamp = str(int(self.clock.now().timestamp()))
        nonce = secrets.token_hex(8)
        encrypt = self.crypt.encrypt(inner)
        query = {
            "msg_signature": self.crypt.sign(timestamp, nonce, encrypt),
            "timestamp": timestamp,
            "nonce": nonce,
        }
        body = (
            f"<xml><ToUserName><![CDATA[{self.corp_id}]]></ToUserName>"
            f"<AgentID><![CDATA[{self.agent_id}]]></AgentID>"
            f"<Encrypt><![CDATA[{encrypt}]]></Encrypt></xml>"
        )
        return query, body

    def verify_url_query(self, echostr: str = "") -> dict[str, str]:
        """The query of the GET WeCom sends when the admin saves the callback URL."""
        timestamp = str(int(self.clock.now().timestamp()))
        nonce = secrets.token_hex(8)
        echo = self.crypt.encrypt(echostr or secrets.token_hex(10))
        return {
            "msg_signature": self.crypt.sign(timestamp, nonce, echo),
            "timestamp": timestamp,
            "nonce": nonce,
            "echostr": echo,
        }

    def signed(self, inner: str) -> tuple[dict[str, str], str]:
        """(query, body) of one callback POST carrying ``inner`` (the plaintext XML)."""
        return self._envelope(inner)

    async def deliver(
        self,
        url: str,
        inner: str,
        *,
        wait: float = CALLBACK_TIMEOUT,
        attempts: int = CALLBACK_ATTEMPTS,
        session: ClientSession | None = None,
    ) -> Delivery:
        """POST a callback as WeCom does, retrying (same message, new signature) when the app
        does not answer 200 within ``wait`` seconds."""
        result = Delivery()
        own = session is None
        client = session or ClientSession()
        try:
            for _ in range(attempts):
                query, body = self._envelope(inner)
                try:
                    async with client.post(
                        url,
                        params=query,
                        data=body.encode(),
                        headers={"Content-Type": "text/xml"},
                        timeout=ClientTimeout(total=wait),
                    ) as resp:
                        result.attempts.append((resp.status, await resp.text()))
                        if resp.status == 200:
                            break
                except TimeoutError:
                    result.attempts.append(None)
        finally:
            if own:
                await client.close()
        return result

    def open_reply(self, body: str) -> str:
        """The plaintext of an app's encrypted passive reply (raises if it does not verify)."""
        from notifier.wecom.crypto import xml_fields

        fields = xml_fields(body)
        self.crypt.verify(
            fields["MsgSignature"], fields["TimeStamp"], fields["Nonce"], fields["Encrypt"]
        )
        return self.crypt.decrypt(fields["Encrypt"])

    def text_message(self, user: str, content: str, *, msg_id: int | None = None) -> str:
        """The plaintext XML of a text message from ``user`` to the app."""
        created = int(self.clock.now().timestamp())
        mid = msg_id if msg_id is not None else next(self._msgids) + 10_000_000
        return (
            f"<xml><ToUserName><![CDATA[{self.corp_id}]]></ToUserName>"
            f"<FromUserName><![CDATA[{escape(user)}]]></FromUserName>"
            f"<CreateTime>{created}</CreateTime><MsgType><![CDATA[text]]></MsgType>"
            f"<Content><![CDATA[{content}]]></Content><MsgId>{mid}</MsgId>"
            f"<AgentID>{self.agent_id}</AgentID></xml>"
        )

    def button_event(self, user: str, event_key: str, task_id: str) -> str:
        """The plaintext XML of a ``template_card_event`` (a button pressed on a card)."""
        created = int(self.clock.now().timestamp())
        return (
            f"<xml><ToUserName><![CDATA[{self.corp_id}]]></ToUserName>"
            f"<FromUserName><![CDATA[{escape(user)}]]></FromUserName>"
            f"<CreateTime>{created}</CreateTime><MsgType><![CDATA[event]]></MsgType>"
            f"<Event><![CDATA[template_card_event]]></Event>"
            f"<EventKey><![CDATA[{escape(event_key)}]]></EventKey>"
            f"<TaskId><![CDATA[{escape(task_id)}]]></TaskId>"
            f"<CardType><![CDATA[button_interaction]]></CardType>"
            f"<ResponseCode><![CDATA[{secrets.token_urlsafe(16)}]]></ResponseCode>"
            f"<AgentID>{self.agent_id}</AgentID></xml>"
        )


def _check_message(body: dict[str, Any]) -> dict[str, Any] | None:
    """A 4xxxx error body for a malformed message, or None."""
    msgtype = body.get("msgtype")
    if msgtype == "text":
        text = body.get("text")
        if not isinstance(text, dict) or not str(text.get("content", "")).strip():
            return error(44004)
        return None
    if msgtype != "template_card":
        return error(47001)
    card = body.get("template_card")
    if not isinstance(card, dict) or card.get("card_type") != "button_interaction":
        return error(47001)
    task_id = card.get("task_id")
    main = card.get("main_title")
    buttons = card.get("button_list")
    if not isinstance(task_id, str) or not task_id or len(task_id) > 128:
        return error(47001) | {"errmsg": "task_id required, at most 128 bytes"}
    if not isinstance(main, dict) or not main.get("title"):
        return error(47001) | {"errmsg": "main_title.title required"}
    if not isinstance(buttons, list) or not 1 <= len(buttons) <= MAX_BUTTONS:
        return error(47001) | {"errmsg": "button_list needs 1 to 6 buttons"}
    for button in buttons:
        if not isinstance(button, dict) or not button.get("text"):
            return error(47001) | {"errmsg": "every button needs text"}
        # type 0 (default) calls back with its key, type 1 opens its url
        needed = "url" if button.get("type", 0) == 1 else "key"
        if not button.get(needed):
            return error(47001) | {"errmsg": f"button {button['text']!r} needs a {needed}"}
    return None
