"""The DingTalk (钉钉) server API for one internal application: token and work notifications.

``GET /gettoken?appkey=&appsecret=`` gives an access token valid 7200 s (cached and shared by
`notifier.tokens`); ``POST /topapi/message/corpconversation/asyncsend_v2?access_token=``
sends a work notification (工作通知) to users of the organisation as the application
(``agent_id``). An answer ``errcode`` other than 0 is an error: 40014/42001 (token invalid,
expired) renew the token once, as does 88 whose ``sub_code`` names them; the codes follow
DingTalk's global error table (open.dingtalk.com, 服务端API错误码).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Final

import aiohttp

from notifier.platform_api import PlatformClient
from notifier.tokens import TokenStore
from supervision.clock import Clock

DEFAULT_API_BASE: Final = "https://oapi.dingtalk.com"
SEND_PATH: Final = "topapi/message/corpconversation/asyncsend_v2"
#: 40014 invalid access_token, 42001 access_token expired, 41001 access_token missing
TOKEN_ERRORS: Final = frozenset({40014, 42001, 41001})
#: -1 system busy; 90002/90005/90006/90018/90019: this API or app called too often
RATE_LIMIT_ERRORS: Final = frozenset({90002, 90005, 90006, 90018, 90019})
#: wrong app key or secret, agent, user, message or content: retrying cannot help
PERMANENT_ERRORS: Final = frozenset(
    {40001, 40003, 40008, 40089, 33012, 34014, 34016, 40035, 40056, 43009, 88}
)


@dataclass(frozen=True)
class DingTalkConfig:
    """What the application needs to call DingTalk (from ``Settings.dingtalk``)."""

    app_key: str
    agent_id: int
    app_secret: str = field(repr=False)
    api_base: str = DEFAULT_API_BASE
    timeout: float = 15.0
    #: messages a second for the app in all, and to one person
    rate: float = 20.0
    user_rate: float = 0.5


class DingTalkApiError(Exception):
    """DingTalk answered a non-zero ``errcode`` (``str(e)`` holds no secret)."""

    def __init__(self, code: int, message: str, sub_code: str = "") -> None:
        detail = f" (sub_code {sub_code})" if sub_code else ""
        super().__init__(f"DingTalk error {code}{detail}: {message}")
        self.code = code
        self.sub_code = sub_code

    @property
    def stale_token(self) -> bool:
        """The token is invalid or expired (directly, or as 88 with that sub_code)."""
        if self.code in TOKEN_ERRORS:
            return True
        return self.code == 88 and self.sub_code.isdigit() and int(self.sub_code) in TOKEN_ERRORS


class DingTalkNetworkError(Exception):
    """DingTalk could not be reached or answered something that is not JSON."""


class DingTalkApi(PlatformClient):
    """``gettoken`` and ``asyncsend_v2`` over aiohttp, the token kept by a `TokenKeeper`."""

    platform = "DingTalk"
    network_error = DingTalkNetworkError

    def __init__(
        self,
        config: DingTalkConfig,
        *,
        store: TokenStore | None = None,
        clock: Clock | None = None,
        session: aiohttp.ClientSession | None = None,
    ) -> None:
        super().__init__(config.timeout, store=store, clock=clock, session=session)
        self.config = config

    async def _call(
        self, method: str, path: str, *, params: dict[str, str], body: Any = None
    ) -> dict[str, Any]:
        url = f"{self.config.api_base.rstrip('/')}/{path}"
        answered = await self._request(method, url, path=path, params=params, body=body)
        answer = self._json_object(answered, path)
        code = int(answer.get("errcode", 0) or 0)
        if code:
            raise DingTalkApiError(
                code, str(answer.get("errmsg", "")), str(answer.get("sub_code", "") or "")
            )
        return answer

    async def _fetch_token(self) -> tuple[str, int]:
        answer = await self._call(
            "GET",
            "gettoken",
            params={"appkey": self.config.app_key, "appsecret": self.config.app_secret},
        )
        token = str(answer.get("access_token", ""))
        if not token:
            raise DingTalkNetworkError("DingTalk gettoken: no access_token in the answer")
        return token, int(answer.get("expires_in", 7200))

    async def token(self) -> str:
        """A valid access token: the cached one, or a new one a margin before expiry."""
        return await self.tokens.token(self._fetch_token)

    async def send(self, userid: str, msg: dict[str, Any]) -> dict[str, Any]:
        """One work notification ``msg`` to ``userid``; a stale token is renewed once."""
        body = {"agent_id": self.config.agent_id, "userid_list": userid, "msg": msg}
        token = await self.token()
        try:
            return await self._call("POST", SEND_PATH, params={"access_token": token}, body=body)
        except DingTalkApiError as exc:
            if not exc.stale_token:
                raise
        await self.tokens.drop(token)
        token = await self.token()
        return await self._call("POST", SEND_PATH, params={"access_token": token}, body=body)
