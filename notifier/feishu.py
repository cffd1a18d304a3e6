"""The Feishu (飞书) server API for one self-built application: tenant token and messages.

``POST /open-apis/auth/v3/tenant_access_token/internal`` with ``app_id``/``app_secret`` gives
a tenant access token valid up to 7200 s (``expire``; cached and shared by
`notifier.tokens`); ``POST /open-apis/im/v1/messages?receive_id_type=user_id|open_id`` with
``Authorization: Bearer <token>`` sends one message to one user as the app. An answer
``code`` other than 0 is an error: 99991661/99991663/99991668 (token missing or invalid)
renew the token once; HTTP 429 or 99991400/230020 are rate limits whose pause is the
``x-ogw-ratelimit-reset`` header (open.feishu.cn, 频控策略 and the message API's error table).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Final

import aiohttp

from notifier.platform_api import PlatformClient
from notifier.tokens import TokenStore
from supervision.clock import Clock

DEFAULT_API_BASE: Final = "https://open.feishu.cn"
TOKEN_PATH: Final = "open-apis/auth/v3/tenant_access_token/internal"  # noqa: S105
SEND_PATH: Final = "open-apis/im/v1/messages"
#: the token is missing, invalid or expired
TOKEN_ERRORS: Final = frozenset({99991661, 99991663, 99991668})
#: the app (99991400) or the user (230020) got messages too fast
USER_RATE_LIMIT: Final = 230020
RATE_LIMIT_ERRORS: Final = frozenset({99991400, USER_RATE_LIMIT})
#: wrong app credentials, receiver, message or permissions: retrying cannot help
PERMANENT_ERRORS: Final = frozenset(
    {10003, 10014, 230001, 230002, 230006, 230013, 230025, 230099, 99992361, 99992402, 99991672}
)
#: a rate limit's pause when the answer names none
DEFAULT_PAUSE_SECONDS: Final = 60.0


@dataclass(frozen=True)
class FeishuConfig:
    """What the application needs to call Feishu (from ``Settings.feishu``)."""

    app_id: str
    app_secret: str = field(repr=False)
    api_base: str = DEFAULT_API_BASE
    timeout: float = 15.0
    #: messages a second for the app in all, and to one person
    rate: float = 20.0
    user_rate: float = 0.5


class FeishuApiError(Exception):
    """Feishu answered a non-zero ``code`` (``str(e)`` holds no secret)."""

    def __init__(self, code: int, message: str, *, retry_after: float = 0.0) -> None:
        super().__init__(f"Feishu error {code}: {message}")
        self.code = code
        self.retry_after = retry_after or DEFAULT_PAUSE_SECONDS


class FeishuNetworkError(Exception):
    """Feishu could not be reached or answered something that is not JSON."""


def receive_id_type(user: str) -> str:
    """How Feishu should read ``user``: an ``ou_…`` id is an open_id, anything else a user_id."""
    return "open_id" if user.startswith("ou_") else "user_id"


def _seconds(header: str | None) -> float:
    try:
        return max(float(header or 0), 0.0)
    except ValueError:
        return 0.0


class FeishuApi(PlatformClient):
    """The tenant token and ``im/v1/messages`` over aiohttp, the token kept by a `TokenKeeper`."""

    platform = "Feishu"
    network_error = FeishuNetworkError

    def __init__(
        self,
        config: FeishuConfig,
        *,
        store: TokenStore | None = None,
        clock: Clock | None = None,
        session: aiohttp.ClientSession | None = None,
    ) -> None:
        super().__init__(config.timeout, store=store, clock=clock, session=session)
        self.config = config

    async def _post(
        self, path: str, body: Any, *, params: dict[str, str] | None = None, token: str = ""
    ) -> dict[str, Any]:
        url = f"{self.config.api_base.rstrip('/')}/{path}"
        headers = {"Content-Type": "application/json; charset=utf-8"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        answered = await self._request(
            "POST", url, path=path, params=params, body=body, headers=headers
        )
        status, raw = answered.status, answered.text
        reset = _seconds(answered.headers.get("x-ogw-ratelimit-reset"))
        try:
            answer = json.loads(raw) if raw else {}
        except ValueError:
            answer = None
        if not isinstance(answer, dict):
            raise FeishuNetworkError(f"Feishu {path}: HTTP {status}, answer is not JSON")
        code = int(answer.get("code", 0) or 0)
        if status == 429 and not code:
            code = 99991400
        if code:
            raise FeishuApiError(code, str(answer.get("msg", "")), retry_after=reset)
        if status >= 400:
            raise FeishuNetworkError(f"Feishu {path}: HTTP {status}")
        return answer

    async def _fetch_token(self) -> tuple[str, int]:
        body = {"app_id": self.config.app_id, "app_secret": self.config.app_secret}
        answer = await self._post(TOKEN_PATH, body)
        token = str(answer.get("tenant_access_token", ""))
        if not token:
            raise FeishuNetworkError("Feishu tenant_access_token: no token in the answer")
        return token, int(answer.get("expire", 7200))

    async def token(self) -> str:
        """A valid tenant access token: the cached one, or a new one before expiry."""
        return await self.tokens.token(self._fetch_token)

    async def send(
        self, user: str, msg_type: str, content: dict[str, Any], *, uuid: str
    ) -> dict[str, Any]:
        """One message to ``user`` (user_id or open_id); ``uuid`` makes a resend within an
        hour a no-op at Feishu. A stale token is renewed once."""
        params = {"receive_id_type": receive_id_type(user)}
        body = {
            "receive_id": user,
            "msg_type": msg_type,
            "content": json.dumps(content, ensure_ascii=False),
            "uuid": uuid,
        }
        token = await self.token()
        try:
            return await self._post(SEND_PATH, body, params=params, token=token)
        except FeishuApiError as exc:
            if exc.code not in TOKEN_ERRORS:
                raise
        await self.tokens.drop(token)
        token = await self.token()
        return await self._post(SEND_PATH, body, params=params, token=token)
