"""The WeCom callback on the web app: ``GET`` verifies the URL, ``POST`` takes messages.

Both check WeCom's ``msg_signature`` and decrypt (`notifier.wecom.crypto`, the documented
WXBizMsgCrypt scheme); anything that does not verify is 403 and touches nothing. A message is
handled and committed before the answer goes back (WeCom waits 5 s, then retries: the retry
finds the callback's row and gets the same answer). The answer is WeCom's passive reply: a
text message, encrypted and signed. Imports `supervision.wecom_replies`, never `bot/`.
"""

from __future__ import annotations

import logging
import secrets

from aiohttp import web
from sqlalchemy.exc import IntegrityError

from notifier.wecom.crypto import WeComCrypt, WeComCryptoError, xml_fields
from supervision.wecom_replies import WeComAnswer, WeComIn, WeComReplies, inbound_of
from web.app import DEPS
from web.auth import add_public_path

log = logging.getLogger("duban.web")

CALLBACK_PATH = "/wecom/callback"
#: WeCom's callbacks are small XML envelopes; a text message is at most 2048 bytes
MAX_CALLBACK_BYTES = 64 * 1024


def cdata(text: str) -> str:
    """``text`` as a CDATA section (a ``]]>`` inside is split across two sections)."""
    return "<![CDATA[" + text.replace("]]>", "]]]]><![CDATA[>") + "]]>"


def text_reply(to_user: str, from_corp: str, content: str, created: int) -> str:
    """The plaintext XML of a passive text reply."""
    return (
        f"<xml><ToUserName>{cdata(to_user)}</ToUserName>"
        f"<FromUserName>{cdata(from_corp)}</FromUserName>"
        f"<CreateTime>{created}</CreateTime><MsgType>{cdata('text')}</MsgType>"
        f"<Content>{cdata(content)}</Content></xml>"
    )


def setup_wecom_callback(
    app: web.Application, crypt: WeComCrypt, replies: WeComReplies, *, path: str = CALLBACK_PATH
) -> None:
    """Mount ``GET``/``POST path`` for one WeCom application."""

    async def verify_url(request: web.Request) -> web.Response:
        q = request.query
        try:
            echo = crypt.verify_url(
                q.get("msg_signature", ""), q.get("timestamp", ""), q.get("nonce", ""),
                q.get("echostr", ""),
            )  # fmt: skip
        except WeComCryptoError as exc:
            log.warning("WeCom URL check refused: %s", exc)
            return web.Response(status=403, text="forbidden")
        return web.Response(text=echo)

    async def receive(request: web.Request) -> web.Response:
        q = request.query
        body = await request.content.read(MAX_CALLBACK_BYTES + 1)
        if len(body) > MAX_CALLBACK_BYTES:
            return web.Response(status=413, text="too large")
        try:
            plain = crypt.open_post(
                q.get("msg_signature", ""), q.get("timestamp", ""), q.get("nonce", ""), body
            )
            msg = inbound_of(xml_fields(plain))
        except WeComCryptoError as exc:
            log.warning("WeCom callback refused: %s", exc)
            return web.Response(status=403, text="forbidden")
        if not msg.userid:
            return web.Response(text="")
        answer = await _handle(request, replies, msg)
        if not answer.text:
            return web.Response(text="")
        deps = request.app[DEPS]
        now = int(deps.clock.now().timestamp())
        inner = text_reply(msg.userid, crypt.receive_id, answer.text, now)
        sealed = crypt.seal_reply(inner, str(now), secrets.token_hex(8))
        return web.Response(text=sealed, content_type="text/xml")

    app.router.add_get(path, verify_url)
    app.router.add_post(path, receive)
    add_public_path(app, path)  # signed by WeCom: no session, no CSRF token


async def _handle(request: web.Request, replies: WeComReplies, msg: WeComIn) -> WeComAnswer:
    """Handle and commit; a retry racing the first delivery reads the first one's answer."""
    deps = request.app[DEPS]
    for _ in range(2):
        async with deps.sessions() as session:
            try:
                answer = await replies.handle(session, msg)
                await session.commit()
                return answer
            except IntegrityError:
                await session.rollback()
    async with deps.sessions() as session:
        return await replies.handle(session, msg)
