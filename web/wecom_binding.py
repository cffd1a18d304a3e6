"""Binding a person's WeCom account by an invite link opened in WeCom (网页授权).

The invite link is WeCom's web authorization link (`notifier.wecom.api.authorize_link`) whose
``state`` is the invite token; WeCom sends the member to ``GET /wecom/bind?code=…&state=…``,
and this page asks WeCom who the code belongs to (``auth/getuserinfo``) and binds that userid
to the invited person (`supervision.invites.bind_wecom_by_token`: single use, 7 days). The
page needs no login: the token and WeCom's answer are the proof. Anything wrong gets a page
saying what to do, and changes nothing.
"""

from __future__ import annotations

import logging

from aiohttp import web
from markupsafe import escape

from notifier.wecom.api import WeComApi, WeComApiError, WeComNetworkError
from supervision.errors import DomainError
from supervision.invites import TOKEN_RE, bind_wecom_by_token
from web.app import DEPS
from web.auth import add_public_path

log = logging.getLogger("duban.web")

BIND_PATH = "/wecom/bind"
#: a web authorization code is short; anything longer is not one
MAX_CODE = 512


def _page(title: str, text: str, status: int = 200) -> web.Response:
    body = (
        '<!doctype html><html lang="zh"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)}</title></head>"
        f'<body style="font-family:sans-serif;margin:2em;max-width:36em">'
        f"<h1>{escape(title)}</h1><p>{escape(text)}</p></body></html>"
    )
    return web.Response(status=status, text=body, content_type="text/html")


def setup_wecom_binding(app: web.Application, api: WeComApi, *, path: str = BIND_PATH) -> None:
    """Mount ``GET path``, the redirect target of WeCom invite links."""

    async def bind(request: web.Request) -> web.Response:
        code, state = request.query.get("code", ""), request.query.get("state", "")
        if not code or len(code) > MAX_CODE or not TOKEN_RE.fullmatch(state):
            return _page(
                "链接无效 / Invalid link",
                "请在企业微信中打开督查室发来的绑定邀请链接。"
                " Open the invite link from the office inside WeCom.",
                400,
            )
        try:
            userid = await api.userid_of_code(code)
        except WeComNetworkError as exc:
            log.warning("WeCom binding: %s", exc)
            return _page(
                "暂时无法绑定 / Try again later",
                "企业微信暂时无法访问，请稍后重新打开邀请链接。"
                " WeCom cannot be reached; open the invite link again later.",
                503,
            )
        except WeComApiError as exc:
            log.info("WeCom binding refused by WeCom: %s", exc)
            return _page(
                "链接已失效 / Link expired",
                "请重新打开邀请链接（每次打开只能使用一次）。"
                " Open the invite link again (each opening works once).",
                400,
            )
        if userid is None:
            return _page(
                "无法绑定 / Cannot link",
                "请使用本单位的企业微信账号打开此链接。"
                " Open this link with your organisation's WeCom account.",
                403,
            )
        deps = request.app[DEPS]
        try:
            async with deps.sessions() as session, session.begin():
                person = await bind_wecom_by_token(
                    session, token=state, userid=userid, clock=deps.clock
                )
                name = person.name
        except DomainError as exc:
            return _page("无法绑定 / Cannot link", str(exc), 400)
        return _page(
            "绑定成功 / Linked",
            f"{name}：您的企业微信账号已与督办系统绑定，提醒将通过企业微信发送。"
            " Your WeCom account is linked; reminders will reach you in WeCom.",
        )

    async def close_api(_: web.Application) -> None:
        await api.close()

    app.router.add_get(path, bind)
    app.on_cleanup.append(close_api)
    add_public_path(app, path)  # the invite token and WeCom's answer are the proof
