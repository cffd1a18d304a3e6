"""The WeCom server API for one self-built application: access token, ``message/send`` and the
web authorization (``auth/getuserinfo``) that binds a person by an invite link.

The access token (valid 7200 s) is cached and fetched again a margin before it expires; with
Redis the cache is shared by every worker (one ``gettoken`` for the office, as WeCom asks),
otherwise it lives in the process. A send answered 40014/42001 (token invalid or expired)
drops the cached token and is tried once more with a fresh one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import aiohttp
from redis.asyncio import Redis

from notifier.platform_api import PlatformClient
from notifier.tokens import SharedTokenStore, TokenStore
from supervision.clock import Clock

DEFAULT_API_BASE = "https://qyapi.weixin.qq.com"
#: where WeCom's web authorization (网页授权) page is
DEFAULT_OAUTH_BASE = "https://open.weixin.qq.com"
TOKEN_ERRORS = frozenset({40014, 42001, 41001})
RATE_LIMIT_ERRORS = frozenset({45009, 45033, 45011})  # api freq / concurrency / per-user
#: the user, agent or message is wrong: retrying cannot help
PERMANENT_ERRORS = frozenset({40001, 40013, 40056, 44004, 47001, 81013, 60111, 82001})


@dataclass(frozen=True)
class WeComConfig:
    """What the app needs to call WeCom (from ``Settings.wecom``)."""

    corp_id: str
    agent_id: int
    secret: str = field(repr=False)
    api_base: str = DEFAULT_API_BASE
    timeout: float = 15.0


def authorize_link(
    config: WeComConfig, *, redirect_uri: str, state: str, oauth_base: str = DEFAULT_OAUTH_BASE
) -> str:
    """The web authorization link (``connect/oauth2/authorize``, silent ``snsapi_base``): opened
    in WeCom, it sends the member to ``redirect_uri?code=…&state=<state>``."""
    query = urlencode(
        {
            "appid": config.corp_id,
            "redirect_uri": redirect_uri,
            "response_type": "code",
            "scope": "snsapi_base",
            "state": state,
            "agentid": str(config.agent_id),
        }
    )
    return f"{oauth_base.rstrip('/')}/connect/oauth2/authorize?{query}#wechat_redirect"


class WeComApiError(Exception):
    """WeCom answered a non-zero ``errcode`` (``str(e)`` holds no secret)."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(f"WeCom error {code}: {message}")
        self.code = code


class WeComNetworkError(Exception):
    """WeCom could not be reached or answered something that is not JSON."""


class RedisTokenStore(SharedTokenStore):
    """The token in Redis under one key per (corp, agent), shared by every worker."""

    def __init__(self, redis: Redis, corp_id: str, agent_id: int) -> None:
        super().__init__(redis, token_key(corp_id, agent_id))


def token_key(corp_id: str, agent_id: int) -> str:
    """The Redis key of the application's shared token."""
    return f"duban:wecom:token:{corp_id}:{agent_id}"


class WeComApi(PlatformClient):
    """``gettoken`` and ``message/send`` over aiohttp, the token cached in ``store``."""

    platform = "WeCom"
    network_error = WeComNetworkError

    def __init__(
        self,
        config: WeComConfig,
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
        url = f"{self.config.api_base.rstrip('/')}/cgi-bin/{path}"
        answered = await self._request(method, url, path=path, params=params, body=body)
        answer = self._json_object(answered, path)
        code = int(answer.get("errcode", 0) or 0)
        if code:
            raise WeComApiError(code, str(answer.get("errmsg", "")))
        return answer

    async def _fetch_token(self) -> tuple[str, int]:
        answer = await self._call(
            "GET",
            "gettoken",
            params={"corpid": self.config.corp_id, "corpsecret": self.config.secret},
        )
        token = str(answer.get("access_token", ""))
        if not token:
            raise WeComNetworkError("WeCom gettoken: no access_token in the answer")
        return token, int(answer.get("expires_in", 7200))

    async def token(self) -> str:
        """A valid access token: the cached one, or a new one a margin before expiry."""
        return await self.tokens.token(self._fetch_token)

    async def _with_token(
        self, method: str, path: str, *, params: dict[str, str] | None = None, body: Any = None
    ) -> dict[str, Any]:
        """Call ``path`` with the access token; a stale token is renewed once."""
        token = await self.token()
        try:
            return await self._call(
                method, path, params={**(params or {}), "access_token": token}, body=body
            )
        except WeComApiError as exc:
            if exc.code not in TOKEN_ERRORS:
                raise
        await self.tokens.drop(token)
        token = await self.token()
        return await self._call(
            method, path, params={**(params or {}), "access_token": token}, body=body
        )

    async def send(self, body: dict[str, Any]) -> dict[str, Any]:
        """``message/send`` with this app's ``agentid``; a stale token is renewed once."""
        return await self._with_token(
            "POST", "message/send", body={"agentid": self.config.agent_id, **body}
        )

    async def userid_of_code(self, code: str) -> str | None:
        """The userid behind a web authorization ``code`` (``auth/getuserinfo``); None when
        the visitor is not a member of the organisation (WeCom then gives an ``openid``).
        An invalid or used code (40029) raises WeComApiError."""
        answer = await self._with_token("GET", "auth/getuserinfo", params={"code": code})
        userid = answer.get("userid") or answer.get("UserId")
        return str(userid) if userid else None
