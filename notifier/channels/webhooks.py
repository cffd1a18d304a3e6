"""Group robots (群机器人): WeCom, DingTalk and Feishu webhooks over aiohttp.

Each posts the JSON body its platform documents; a non-zero ``errcode`` / ``code`` in the
answer is a failure (HTTP 429 and rate-limit codes pause the robot's rate, the rest are
permanent). The webhook URL holds
the robot key: it is only ever logged through :func:`redact_url`.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar
from urllib.parse import quote_plus

import aiohttp

from notifier.channels.base import (
    BaseChannel,
    OutgoingMessage,
    PermanentError,
    RateLimited,
    SendResult,
    TransientError,
    redact,
    redact_url,
)
from notifier.ratelimit import Rate
from supervision.clock import Clock, SystemClock


def dingtalk_sign(secret: str, timestamp_ms: int) -> str:
    """DingTalk's ``sign``: base64(HMAC-SHA256(secret, "{timestamp}\\n{secret}"))."""
    digest = hmac.new(
        secret.encode(), f"{timestamp_ms}\n{secret}".encode(), hashlib.sha256
    ).digest()
    return base64.b64encode(digest).decode()


def feishu_sign(secret: str, timestamp_s: int) -> str:
    """Feishu's ``sign``: base64(HMAC-SHA256(key="{timestamp}\\n{secret}", msg=""))."""
    digest = hmac.new(f"{timestamp_s}\n{secret}".encode(), b"", hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


#: how long a robot that said "slow down" is paused when it names no Retry-After (the
#: platforms count sends per minute)
ROBOT_PAUSE_SECONDS = 60.0


def _retry_after(header: str | None) -> float:
    try:
        seconds = float(header) if header else 0.0
    except ValueError:
        seconds = 0.0
    return seconds if seconds > 0 else ROBOT_PAUSE_SECONDS


@dataclass(frozen=True, slots=True)
class RobotAnswer:
    """What a robot answered one post: HTTP status, the body's code and text (None: the body
    was not a JSON object), and the names the platform gives them (``errcode``/``errmsg``)."""

    status: int
    code: int | None
    text: str
    retry_after: float = ROBOT_PAUSE_SECONDS
    names: tuple[str, str] = ("errcode", "errmsg")
    message_id: str | None = None

    @property
    def accepted(self) -> bool:
        """True when the robot took the message."""
        return 200 <= self.status < 300 and self.code == 0

    def shown(self) -> str:
        """The answer as an admin reads it: ``HTTP 200, errcode 310000, errmsg sign not match``."""
        if self.code is None:
            return f"HTTP {self.status}"
        code, text = self.names
        return f"HTTP {self.status}, {code} {self.code}, {text} {self.text}".rstrip()


class WebhookChannel(BaseChannel):
    """Common HTTP handling: POST JSON, map HTTP status and the body's error code."""

    #: error codes that mean "slow down" (the robot's rate is paused, the row retried)
    rate_limit_codes: ClassVar[frozenset[int]] = frozenset()
    #: what the platform calls its answer's code and text
    code_names: ClassVar[tuple[str, str]] = ("errcode", "errmsg")

    def __init__(
        self,
        *,
        session: aiohttp.ClientSession | None = None,
        clock: Clock | None = None,
        per_minute: float = 20.0,
        timeout: float = 15.0,
    ) -> None:
        self._session = session
        self._own_session = session is None
        self.clock = clock or SystemClock()
        self.per_minute = per_minute
        self.timeout = timeout

    def rates(self, message: OutgoingMessage) -> Sequence[Rate]:
        """Robots take about 20 messages a minute each."""
        return (Rate(f"{self.kind}:w{message.webhook_id}", self.per_minute / 60.0),)

    def body(self, message: OutgoingMessage) -> dict[str, Any]:
        raise NotImplementedError

    def url(self, message: OutgoingMessage) -> str:
        """The URL to post to (signed where the platform wants it)."""
        return message.webhook_url or ""

    def error_code(self, answer: dict[str, Any]) -> tuple[int, str]:
        """(code, text) from the answer; code 0 means accepted."""
        return int(answer.get("errcode", 0) or 0), str(answer.get("errmsg", ""))

    async def _client(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=self.timeout))
            self._own_session = True
        return self._session

    async def post(self, message: OutgoingMessage) -> RobotAnswer:
        """POST the body and read the robot's answer as it is; TransientError when no answer
        came (network trouble), with no secret in its text."""
        if not message.webhook_url:
            raise PermanentError(f"{self.kind}: the group webhook has no URL")
        secrets = (message.webhook_url, message.webhook_secret)
        client = await self._client()
        try:
            async with client.post(self.url(message), json=self.body(message)) as resp:
                status = resp.status
                retry_after = _retry_after(resp.headers.get("Retry-After"))
                raw = await resp.text()
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            shown = redact_url(message.webhook_url)
            raise TransientError(
                redact(f"{self.kind} {shown}: network error {type(exc).__name__}", *secrets)
            ) from None
        try:
            answer = json.loads(raw) if raw else {}
        except ValueError:
            answer = None
        if not isinstance(answer, dict):
            return RobotAnswer(status, None, "", retry_after, self.code_names, None)
        code, text = self.error_code(answer)
        text = redact(text, *secrets)
        return RobotAnswer(
            status, code, text, retry_after, self.code_names, self.message_id(answer)
        )

    async def send(self, message: OutgoingMessage) -> SendResult:
        """POST the body; raise Transient/PermanentError on any refusal."""
        answer = await self.post(message)
        shown = redact_url(message.webhook_url or "")
        status = answer.status
        pause_key = self.rates(message)[0].key
        if status == 429:
            raise RateLimited(
                f"{self.kind} {shown}: HTTP 429",
                retry_after=answer.retry_after,
                pause_key=pause_key,
            )
        if status >= 500:
            raise TransientError(f"{self.kind} {shown}: HTTP {status}")
        if status >= 400:
            raise PermanentError(f"{self.kind} {shown}: HTTP {status}")
        if answer.code is None:
            raise TransientError(f"{self.kind} {shown}: answer is not JSON")
        if answer.code != 0:
            detail = f"{self.kind} {shown}: error {answer.code} {answer.text}"
            if answer.code in self.rate_limit_codes:
                raise RateLimited(detail, retry_after=answer.retry_after, pause_key=pause_key)
            raise PermanentError(detail)
        return SendResult(provider_message_id=answer.message_id)

    def message_id(self, answer: dict[str, Any]) -> str | None:
        """The provider's id for the accepted message, when it gives one."""
        return None

    async def close(self) -> None:
        """Close the HTTP session this channel opened."""
        if self._own_session and self._session is not None and not self._session.closed:
            await self._session.close()


class WeComChannel(WebhookChannel):
    """企业微信群机器人: ``{"msgtype": "markdown", "markdown": {"content": ...}}``."""

    kind = "wecom"
    # 45009: api freq out of limit
    rate_limit_codes: ClassVar[frozenset[int]] = frozenset({45009, 45033})

    def body(self, message: OutgoingMessage) -> dict[str, Any]:
        """WeCom's markdown message."""
        return {"msgtype": "markdown", "markdown": {"content": message.text}}


class DingTalkChannel(WebhookChannel):
    """钉钉自定义机器人: markdown with title, signed with ``timestamp`` + ``sign`` when a
    secret is set."""

    kind = "dingtalk"
    # 130101: send too fast; 410100: flow control
    rate_limit_codes: ClassVar[frozenset[int]] = frozenset({130101, 410100})

    def body(self, message: OutgoingMessage) -> dict[str, Any]:
        """DingTalk's markdown message (the title shows in the notification list)."""
        lines = message.text.strip().splitlines()
        title = message.subject or (lines[0][:64] if lines else "") or "督办"
        return {"msgtype": "markdown", "markdown": {"title": title, "text": message.text}}

    def url(self, message: OutgoingMessage) -> str:
        """The webhook URL with ``timestamp`` and ``sign`` when the robot has a secret."""
        url = message.webhook_url or ""
        if not message.webhook_secret:
            return url
        ts = int(self.clock.now().timestamp() * 1000)
        sign = quote_plus(dingtalk_sign(message.webhook_secret, ts))
        return f"{url}{'&' if '?' in url else '?'}timestamp={ts}&sign={sign}"


class FeishuChannel(WebhookChannel):
    """飞书自定义机器人: ``{"msg_type": "text", "content": {"text": ...}}``, optionally signed."""

    kind = "feishu"
    code_names: ClassVar[tuple[str, str]] = ("code", "msg")
    # 9499: too many requests; 11232: frequency limited
    rate_limit_codes: ClassVar[frozenset[int]] = frozenset({9499, 11232})

    def rates(self, message: OutgoingMessage) -> Sequence[Rate]:
        """Feishu robots take 100 a minute, 5 a second; stay at the common 20 a minute."""
        return super().rates(message)

    def body(self, message: OutgoingMessage) -> dict[str, Any]:
        """Feishu's text message, with ``timestamp`` and ``sign`` when a secret is set."""
        body: dict[str, Any] = {"msg_type": "text", "content": {"text": message.text}}
        if message.webhook_secret:
            ts = int(self.clock.now().timestamp())
            body["timestamp"] = str(ts)
            body["sign"] = feishu_sign(message.webhook_secret, ts)
        return body

    def error_code(self, answer: dict[str, Any]) -> tuple[int, str]:
        """Feishu answers ``code``/``msg`` (older robots ``StatusCode``)."""
        code = answer.get("code", answer.get("StatusCode", 0)) or 0
        return int(code), str(answer.get("msg", answer.get("StatusMessage", "")))


#: the channel class of each kind of robot
ROBOT_CHANNELS: dict[str, type[WebhookChannel]] = {
    cls.kind: cls for cls in (WeComChannel, DingTalkChannel, FeishuChannel)
}


def group_channels(
    *,
    session: aiohttp.ClientSession | None = None,
    clock: Clock | None = None,
    per_minute: float = 20.0,
) -> list[WebhookChannel]:
    """One channel of each robot kind, sharing an HTTP session when one is given."""
    return [
        cls(session=session, clock=clock, per_minute=per_minute) for cls in ROBOT_CHANNELS.values()
    ]
