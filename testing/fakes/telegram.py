"""A fake Telegram Bot API server on 127.0.0.1, driven by real aiogram in tests and benchmarks.

Imports only aiohttp and aiogram (never pytest): `bench/` scripts use it too.

    async with FakeTelegram(clock=ManualClock()) as fake, fake.bot() as bot:
        await bot.send_message(42, "<b>提醒</b>", parse_mode="HTML")
        fake.push_update(fake.make_private_message(42, "已完成", reply_to=fake.sent[0]))

Code under test gets `AiohttpSession(api=fake.api_server)` and `fake.token`.
"""

from __future__ import annotations

import asyncio
import json
import math
import re
import time
from collections import Counter
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from http import HTTPStatus
from itertools import count
from typing import Any, NamedTuple

from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiohttp import BodyPartReader, ClientResponse, ClientSession, MultipartReader, web

from testing.fakes.server import LoopbackServer

JSON_FIELDS = {
    "reply_markup",
    "reply_parameters",
    "entities",
    "caption_entities",
    "allowed_updates",
    "commands",
    "scope",
    "link_preview_options",
}
INT_FIELDS = {"chat_id", "message_id", "reply_to_message_id", "offset", "limit", "timeout"}
LIMITED = {  # methods that count against the flood limits, lower-cased
    "sendmessage",
    "senddocument",
    "sendphoto",
    "editmessagetext",
    "editmessagereplymarkup",
}
TEXT_LIMIT, CAPTION_LIMIT, CALLBACK_DATA_LIMIT = 4096, 1024, 64
NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup "
    "are exactly the same as a current content and reply markup of the message"
)


class ApiError(Exception):
    """A Bot API error answer: HTTP status, description and optional parameters."""

    def __init__(self, status: int, description: str, **parameters: Any) -> None:
        super().__init__(description)
        self.status, self.description, self.parameters = status, description, parameters

    def body(self) -> dict[str, Any]:
        """Return the JSON body Telegram would send."""
        data: dict[str, Any] = {"ok": False, "error_code": self.status}
        data["description"] = self.description
        if self.parameters:
            data["parameters"] = self.parameters
        return data


def bad_request(reason: str) -> ApiError:
    """Return a 400 error with Telegram's "Bad Request: " prefix."""
    return ApiError(400, f"Bad Request: {reason}")


def too_many(seconds: int) -> ApiError:
    """Return a 429 error asking the client to wait `seconds`."""
    return ApiError(429, f"Too Many Requests: retry after {seconds}", retry_after=seconds)


# --- Telegram HTML (parse_mode=HTML) -------------------------------------------------------

ENTITY_TAGS = {
    "bold": ("b", "strong"),
    "italic": ("i", "em"),
    "underline": ("u", "ins"),
    "strikethrough": ("s", "strike", "del"),
    "spoiler": ("span", "tg-spoiler"),
    "text_link": ("a",),
    "code": ("code",),
    "pre": ("pre",),
    "blockquote": ("blockquote",),
    "custom_emoji": ("tg-emoji",),
}
KINDS = {tag: kind for kind, tags in ENTITY_TAGS.items() for tag in tags}
NAMED = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
ENTITY_RE = re.compile(r"&(?:(lt|gt|amp|quot)|#([0-9]{1,7})|#[xX]([0-9a-fA-F]{1,6}));")
ATTR = r"""[a-zA-Z-]+(?:\s*=\s*(?:"[^"]*"|'[^']*'|[^\s>"']+))?"""
TAG_RE = re.compile(rf"<(/?)([a-zA-Z][a-zA-Z0-9-]*)((?:\s+{ATTR})*)\s*>")
ATTR_RE = re.compile(r"""([a-zA-Z-]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>"']+)))?""")


def parse_html(source: str) -> tuple[str, list[dict[str, Any]]]:
    """Return the plain text and entities of Telegram HTML; raise ApiError(400) if malformed."""

    def fail(reason: str) -> ApiError:
        return bad_request(f"can't parse entities: {reason}")

    def at(i: int) -> str:
        return f"at byte offset {len(source[:i].encode())}"

    out: list[str] = []
    size = 0  # entity offsets are counted in UTF-16 code units
    stack: list[tuple[str, dict[str, str], int]] = []
    entities: list[dict[str, Any]] = []
    i = 0
    while i < len(source):
        char = source[i]
        if char == "&":
            m = ENTITY_RE.match(source, i)
            point = -1
            if m and m.group(1):
                point = ord(NAMED[m.group(1)])
            elif m:
                point = int(m.group(2)) if m.group(2) else int(m.group(3), 16)
            if not m or not (0 < point <= 0x10FFFF) or 0xD800 <= point <= 0xDFFF:
                raise fail(f"unsupported or unescaped '&' {at(i)}")
            char, i = chr(point), m.end()
        elif char == "<":
            m = TAG_RE.match(source, i)
            if not m:
                raise fail(f"Unclosed start tag {at(i)}")
            name = m.group(2).lower()
            if m.group(1):
                if not stack:
                    raise fail(f"Unexpected end tag {at(i)}")
                top, attrs, start = stack.pop()
                if top != name:
                    raise fail(f'Unmatched end tag {at(i)}, expected "</{top}>", found "</{name}>"')
                entities.extend(_entity(top, attrs, start, size, stack))
            else:
                if name not in KINDS:
                    raise fail(f'Unsupported start tag "{name}" {at(i)}')
                attrs = {
                    a.group(1).lower(): _unescape(a.group(2) or a.group(3) or a.group(4) or "")
                    for a in ATTR_RE.finditer(m.group(3))
                }
                if name == "span" and attrs.get("class") != "tg-spoiler":
                    raise fail(f'Tag "span" must have class "tg-spoiler" {at(i)}')
                if name == "tg-emoji" and not attrs.get("emoji-id"):
                    raise fail(f'Tag "tg-emoji" must have attribute "emoji-id" {at(i)}')
                stack.append((name, attrs, size))
            i = m.end()
            continue
        else:
            i += 1
        out.append(char)
        size += 2 if ord(char) > 0xFFFF else 1
    if stack:
        raise fail(f'Can\'t find end tag corresponding to start tag "{stack[-1][0]}"')
    entities.sort(key=lambda e: (e["offset"], -e["length"]))
    return "".join(out), entities


def _unescape(value: str) -> str:
    """Decode the HTML entities Telegram knows inside an attribute value."""
    return ENTITY_RE.sub(
        lambda m: (
            NAMED[m.group(1)]
            if m.group(1)
            else chr(int(m.group(2) or m.group(3), 10 if m.group(2) else 16))
        ),
        value,
    )


def _entity(
    tag: str,
    attrs: dict[str, str],
    start: int,
    end: int,
    stack: list[tuple[str, dict[str, str], int]],
) -> list[dict[str, Any]]:
    """Return the entity a closed tag produces (none for empty ones or `<pre><code class>`)."""
    kind = KINDS[tag]
    language = attrs.get("class", "").removeprefix("language-")
    if (
        tag == "code"
        and stack
        and stack[-1][0] == "pre"
        and attrs.get("class", "").startswith("language-")
    ):
        stack[-1][1]["language"] = language
        return []
    if end == start or (tag == "a" and not attrs.get("href")):
        return []
    entity: dict[str, Any] = {"type": kind, "offset": start, "length": end - start}
    if tag == "a":
        entity["url"] = attrs["href"]
    elif tag == "pre" and attrs.get("language"):
        entity["language"] = attrs["language"]
    elif tag == "blockquote" and "expandable" in attrs:
        entity["type"] = "expandable_blockquote"
    elif tag == "tg-emoji":
        entity["custom_emoji_id"] = attrs["emoji-id"]
    return [entity]


async def webhook_form(resp: ClientResponse) -> dict[str, str]:
    """The fields of a webhook answer sent as ``multipart/form-data`` (as aiogram sends it)."""
    fields: dict[str, str] = {}
    reader = MultipartReader.from_response(resp)
    while (part := await reader.next()) is not None:
        assert isinstance(part, BodyPartReader) and part.name is not None
        fields[part.name] = await part.text()
    return fields


def _decode(key: str, value: Any) -> Any:
    """Turn a form field (always a string) into the JSON value it stands for."""
    if not isinstance(value, str):
        return value
    if key in JSON_FIELDS:
        try:
            return json.loads(value)
        except ValueError:
            raise bad_request(f"can't parse {key} JSON object") from None
    if key in INT_FIELDS and value.lstrip("-").isdigit():
        return int(value)
    return value == "true" if value in ("true", "false") else value


def check_keyboard(markup: Any) -> None:
    """Validate an inline keyboard the way Telegram does for callback data."""
    if not isinstance(markup, dict):
        raise bad_request("can't parse reply keyboard markup JSON object")
    for row in markup.get("inline_keyboard", []):
        for button in row:
            if not button.get("text"):
                raise bad_request("BUTTON_TEXT_INVALID")
            data = button.get("callback_data")
            if data is not None and not 1 <= len(str(data).encode()) <= CALLBACK_DATA_LIMIT:
                raise bad_request("BUTTON_DATA_INVALID")


# --- records ------------------------------------------------------------------------------


@dataclass(frozen=True)
class SentMessage:
    """One message the fake accepted from the bot (a send or an edit)."""

    message_id: int
    chat_id: int
    text: str  # what the recipient sees: HTML parsed, entities unescaped; caption for media
    raw_text: str  # as the bot sent it
    parse_mode: str | None
    reply_markup: dict[str, Any] | None
    reply_to_message_id: int | None
    at: float  # the injected clock
    method: str = "sendMessage"
    file_id: str | None = None


class ApiCall(NamedTuple):
    """One request to the fake, accepted or not."""

    method: str
    params: dict[str, Any]
    at: float  # arrival, on the injected clock
    status: int


class ManualClock:
    """A clock that only moves when told to; pass it as `FakeTelegram(clock=...)`."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        """Move the clock forward."""
        self.now += seconds


@dataclass
class _Bucket:
    rate: float
    capacity: float
    tokens: float
    stamp: float

    def wait(self, now: float) -> float:
        """Refill, then return the seconds until one token is available (0 if one is)."""
        self.tokens = min(self.capacity, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        return 0.0 if self.tokens >= 1 else (1 - self.tokens) / self.rate


@dataclass
class _Window:
    """An announced retry_after period."""

    opened: float
    until: float


BOT_WIDE = "bot"


@dataclass
class _Forced:
    count: int
    retry_after: int
    chat_id: int | None = None


# --- the server ---------------------------------------------------------------------------


class FakeTelegram(LoopbackServer):
    """A fake Bot API server with Telegram's validation, rate limits and fault injection."""

    def __init__(
        self,
        token: str = "123456:TEST",
        *,
        global_rate: float | None = 30.0,
        per_chat_rate: float | None = 1.0,
        per_chat_burst: float = 3.0,
        violation_grace: float = 0.05,
        delay: float = 0.0,
        clock: Callable[[], float] = time.monotonic,
        username: str = "duban_test_bot",
    ) -> None:
        self.token, self.clock, self.delay = token, clock, delay
        self.global_rate = global_rate  # None turns a limit off
        self.per_chat_rate = per_chat_rate
        self.per_chat_burst = per_chat_burst
        self.violation_grace = violation_grace
        self.me = {
            "id": int(token.split(":")[0]),
            "is_bot": True,
            "first_name": "Duban Test",
            "username": username,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
        }
        self.sent: list[SentMessage] = []
        self.edits: list[SentMessage] = []
        self.requests: list[ApiCall] = []
        self.answers: list[dict[str, Any]] = []
        self.commands: list[dict[str, Any]] = []
        self.webhook: dict[str, Any] = {}
        self.violations = 0
        self.waiting_polls = 0  # getUpdates requests now waiting for an update
        self.blocked: set[int] = set()
        self.forgotten: set[int] = set()
        self.files: dict[str, tuple[dict[str, Any], bytes]] = {}
        self._messages: dict[tuple[int, int], dict[str, Any]] = {}
        self._message_ids: dict[int, count[int]] = {}
        self._users: dict[int, dict[str, Any]] = {}
        self._updates: list[dict[str, Any]] = []
        self._update_ids = count(1)
        self._callback_ids = count(1)
        self._open_queries: set[str] = set()
        self._file_ids = count(1)
        self._new_update = asyncio.Event()
        self._new_sent = asyncio.Event()
        self._poll_waiting = asyncio.Event()
        self._closing = False
        self._polls = 0  # a newer getUpdates ends an older one with 409, as Telegram does
        self._buckets: dict[int | str, _Bucket] = {}
        self._windows: dict[int | str, _Window] = {}
        self._forced: list[_Forced] = []
        self._failures: list[int] = []
        self._open_gate = asyncio.Event()  # cleared by `hold`: sends wait unanswered
        self._open_gate.set()

    # lifecycle

    def routes(self, app: web.Application) -> None:
        """The platform's endpoints this fake answers."""
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        app.router.add_get("/file/bot{token}/{path:.+}", self._download)

    async def stop(self) -> None:
        """Wake pending long polls and stop serving."""
        self._closing = True
        self._wake()
        self._open_gate.set()
        await super().stop()

    @property
    def api_server(self) -> TelegramAPIServer:
        """The aiogram server setting that points at this fake."""
        return TelegramAPIServer.from_base(self.base_url)

    def bot(self, **kwargs: Any) -> Bot:
        """Return a real aiogram Bot talking to this fake (close its session when done)."""
        return Bot(self.token, session=AiohttpSession(api=self.api_server), **kwargs)

    # controls

    def block(self, chat_id: int) -> None:
        """Make sends to this chat fail with 403, as when the user blocked the bot."""
        self.blocked.add(chat_id)

    def unblock(self, chat_id: int) -> None:
        """Undo `block`."""
        self.blocked.discard(chat_id)

    def hold(self) -> None:
        """Leave every request but getUpdates unanswered until `release`.

        A test that kills a sender while it waits knows its sends were in flight."""
        self._open_gate.clear()

    def release(self) -> None:
        """Answer the held requests and the next ones again."""
        self._open_gate.set()

    def forget(self, chat_id: int) -> None:
        """Make sends to this chat fail with 400 "chat not found"."""
        self.forgotten.add(chat_id)

    def force_429(self, count: int, retry_after: int, *, chat_id: int | None = None) -> None:
        """Answer the next `count` sends (to `chat_id`, or any) with 429 retry_after."""
        self._forced.append(_Forced(count, retry_after, chat_id))

    def fail_next(self, n: int, status: int = 500) -> None:
        """Answer the next `n` requests (except getUpdates) with this HTTP status."""
        self._failures.extend([status] * n)

    # queries over the log

    def sent_to(self, chat_id: int) -> list[SentMessage]:
        """Return the messages sent to one chat, in order."""
        return [m for m in self.sent if m.chat_id == chat_id]

    def count_by(self, key: Callable[[SentMessage], Hashable | None]) -> Counter[Hashable]:
        """Count sent messages by key; messages whose key is None are left out."""
        return Counter(k for m in self.sent if (k := key(m)) is not None)

    def duplicates(self, key: Callable[[SentMessage], Hashable | None]) -> dict[Hashable, int]:
        """Return the keys sent more than once, with their counts."""
        return {k: n for k, n in self.count_by(key).items() if n > 1}

    async def wait_for_sent(self, n: int, timeout: float = 5.0) -> list[SentMessage]:  # noqa: ASYNC109
        """Wait until at least `n` messages were sent; return `sent`."""
        async with asyncio.timeout(timeout):
            while len(self.sent) < n:
                self._new_sent.clear()
                await self._new_sent.wait()
        return self.sent

    async def wait_for_poll(self, timeout: float = 5.0) -> None:  # noqa: ASYNC109
        """Wait until a getUpdates request is waiting on the server."""
        async with asyncio.timeout(timeout):
            while not self.waiting_polls:
                self._poll_waiting.clear()
                await self._poll_waiting.wait()

    def message(self, chat_id: int, message_id: int) -> dict[str, Any]:
        """Return the current Message JSON (as Telegram would send it) for a stored message."""
        return self._messages[(chat_id, message_id)]

    # simulated users

    def add_file(
        self, data: bytes, file_name: str = "file.bin", mime_type: str = "application/octet-stream"
    ) -> dict[str, Any]:
        """Store a file users can attach; return its Document dict (usable for getFile)."""
        n = next(self._file_ids)
        doc: dict[str, Any] = {
            "file_id": f"FILE{n}",
            "file_unique_id": f"U{n}",
            "file_name": file_name,
            "mime_type": mime_type,
            "file_size": len(data),
        }
        self.files[doc["file_id"]] = (doc, data)
        return doc

    def push_update(self, update: dict[str, Any]) -> None:
        """Queue an Update for getUpdates, waking a pending long poll."""
        self._updates.append(update)
        self._wake()

    def _wake(self) -> None:
        """Wake every pending long poll; later polls wait on a fresh event."""
        self._new_update.set()
        self._new_update = asyncio.Event()

    async def post_webhook(self, update: dict[str, Any]) -> int:
        """POST an Update to the URL set by setWebhook, with its secret token; return the status.

        A Bot API method in a 200 answer's body is executed, as Telegram does; like Telegram,
        its outcome is not reported back (it is recorded in ``requests``).
        """
        headers = {}
        if secret := self.webhook.get("secret_token"):
            headers["X-Telegram-Bot-Api-Secret-Token"] = str(secret)
        async with (
            ClientSession() as http,
            http.post(self.webhook["url"], json=update, headers=headers) as resp,
        ):
            if resp.status == 200 and resp.content_type == "multipart/form-data":
                await self.execute_webhook_answer(await webhook_form(resp))
            elif resp.status == 200 and resp.content_type == "application/json":
                await self.execute_webhook_answer(json.loads(await resp.read()))
            return resp.status

    async def execute_webhook_answer(self, answer: Any) -> None:
        """Run the method a webhook answered with (``{"method": ..., **params}``), if any."""
        if not isinstance(answer, dict) or not isinstance(answer.get("method"), str):
            return
        method, arrived = answer["method"], self.clock()
        params: dict[str, Any] = {}
        try:
            params = {k: _decode(k, v) for k, v in answer.items() if k != "method"}
            await self._dispatch(method.lower(), params, arrived)
        except ApiError as e:
            self.requests.append(ApiCall(method, params, arrived, e.status))
            return
        self.requests.append(ApiCall(method, params, arrived, 200))

    def make_private_message(
        self,
        user_id: int,
        text: str | None = None,
        *,
        reply_to: SentMessage | None = None,
        photo: dict[str, Any] | list[dict[str, Any]] | None = None,
        document: dict[str, Any] | None = None,
        language_code: str = "zh-hans",
        first_name: str = "张三",
        username: str | None = None,
    ) -> dict[str, Any]:
        """Build an Update with a private message from a user (text, or a caption with media).

        `document` and `photo` take a dict from `add_file`; `photo` also takes PhotoSize dicts.
        """
        user = self._user(user_id, first_name, language_code, username)
        chat = {"id": user_id, "type": "private", "first_name": first_name}
        if username:
            chat["username"] = username
        return self._user_message(user, chat, text, reply_to, photo, document)

    def make_group_message(
        self,
        chat_id: int,
        user_id: int,
        text: str | None = None,
        *,
        reply_to: SentMessage | None = None,
        title: str = "督查工作群",
        first_name: str = "张三",
        language_code: str = "zh-hans",
    ) -> dict[str, Any]:
        """Build an Update with a message from a user in a group (negative chat_id)."""
        user = self._user(user_id, first_name, language_code, None)
        kind = "supergroup" if str(chat_id).startswith("-100") else "group"
        return self._user_message(
            user, {"id": chat_id, "type": kind, "title": title}, text, reply_to, None, None
        )

    def make_edited_message(self, update: dict[str, Any], text: str) -> dict[str, Any]:
        """Build an Update where the user edited the message of an earlier Update."""
        message = {**update["message"], "edit_date": int(time.time())}
        message["caption" if "caption" in message else "text"] = text
        self._messages[(message["chat"]["id"], message["message_id"])] = message
        return {"update_id": next(self._update_ids), "edited_message": message}

    def make_callback_query(self, user_id: int, message: SentMessage, data: str) -> dict[str, Any]:
        """Build an Update where the user pressed an inline button under a bot message."""
        query_id = str(next(self._callback_ids))
        self._open_queries.add(query_id)
        query = {
            "id": query_id,
            "from": self._user(user_id, None, "zh-hans", None),
            "chat_instance": f"ci{message.chat_id}",
            "data": data,
            "message": self._messages[(message.chat_id, message.message_id)],
        }
        return {"update_id": next(self._update_ids), "callback_query": query}

    def _user(
        self, user_id: int, first_name: str | None, language_code: str, username: str | None
    ) -> dict[str, Any]:
        user = self._users.setdefault(
            user_id,
            {
                "id": user_id,
                "is_bot": False,
                "first_name": first_name or f"User{user_id}",
                "language_code": language_code,
            },
        )
        if first_name:
            user["first_name"] = first_name
        if username:
            user["username"] = username
        return dict(user)

    def _user_message(
        self,
        user: dict[str, Any],
        chat: dict[str, Any],
        text: str | None,
        reply_to: SentMessage | None,
        photo: dict[str, Any] | list[dict[str, Any]] | None,
        document: dict[str, Any] | None,
    ) -> dict[str, Any]:
        message: dict[str, Any] = {
            "message_id": self._next_id(chat["id"]),
            "from": user,
            "chat": chat,
            "date": int(time.time()),
        }
        if isinstance(photo, dict):
            photo = [{"width": 1280, "height": 960, **photo}]
        if photo is not None:
            message["photo"] = photo
        if document is not None:
            message["document"] = document
        if text is not None:
            message["caption" if photo or document else "text"] = text
        if reply_to is not None:
            message["reply_to_message"] = self._quote(reply_to.chat_id, reply_to.message_id)
        self._messages[(chat["id"], message["message_id"])] = message
        return {"update_id": next(self._update_ids), "message": message}

    def _quote(self, chat_id: int, message_id: int) -> dict[str, Any]:
        """Return a stored message as Telegram nests it in `reply_to_message` (one level)."""
        message = self._messages[(chat_id, message_id)]
        return {k: v for k, v in message.items() if k != "reply_to_message"}

    def _next_id(self, chat_id: int) -> int:
        return next(self._message_ids.setdefault(chat_id, count(1)))

    def _chat(self, chat_id: int) -> dict[str, Any]:
        if chat_id < 0:
            kind = "supergroup" if str(chat_id).startswith("-100") else "group"
            return {"id": chat_id, "type": kind, "title": f"Group {chat_id}"}
        name = self._users.get(chat_id, {}).get("first_name", f"User{chat_id}")
        return {"id": chat_id, "type": "private", "first_name": name}

    # HTTP

    async def _handle(self, request: web.Request) -> web.Response:
        method, arrived = request.match_info["method"], self.clock()
        params: dict[str, Any] = {}
        try:
            if request.match_info["token"] != self.token:
                raise ApiError(401, "Unauthorized")
            params = await self._params(request)
            if method.lower() != "getupdates":  # a polling bot must not swallow injected faults
                await asyncio.sleep(self.delay)
                await self._open_gate.wait()
                if self._failures:
                    status = self._failures.pop(0)
                    raise ApiError(status, HTTPStatus(status).phrase)
            result = await self._dispatch(method.lower(), params, arrived)
        except ApiError as e:
            self.requests.append(ApiCall(method, params, arrived, e.status))
            return web.json_response(e.body(), status=e.status)
        self.requests.append(ApiCall(method, params, arrived, 200))
        return web.json_response({"ok": True, "result": result})

    async def _params(self, request: web.Request) -> dict[str, Any]:
        raw: dict[str, Any] = dict(request.query)
        if request.content_type == "application/json":
            raw.update(await request.json())
        elif request.method == "POST":
            for key, part in (await request.post()).items():
                if isinstance(part, web.FileField):
                    doc = self.add_file(part.file.read(), part.filename, part.content_type)
                    raw[key] = doc["file_id"]
                else:
                    raw[key] = part
        params = {key: _decode(key, value) for key, value in raw.items()}
        for key, value in params.items():  # aiogram uploads as "attach://<part name>"
            if isinstance(value, str) and value.startswith("attach://"):
                params[key] = raw.get(value.removeprefix("attach://"), value)
        return params

    async def _download(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            raise web.HTTPUnauthorized()
        for doc, data in self.files.values():
            if doc.get("file_path") == request.match_info["path"]:
                return web.Response(body=data, content_type=doc["mime_type"])
        raise web.HTTPNotFound()

    async def _dispatch(self, method: str, params: dict[str, Any], arrived: float) -> Any:
        if method in LIMITED:
            buckets = self._limit(params, arrived)
            send = self._send if method.startswith("send") else self._edit
            message = send(method, params)
            for bucket in buckets:  # only accepted messages count against the limits
                bucket.tokens -= 1
            return message
        if method == "getme":
            return self.me
        if method == "sendchataction":
            self._target(params)
            return True
        if method == "deletemessage":
            chat_id = self._target(params)
            if self._messages.pop((chat_id, params.get("message_id", 0)), None) is None:
                raise bad_request("message to delete not found")
            return True
        if method == "answercallbackquery":
            query_id = str(params.get("callback_query_id"))
            if query_id not in self._open_queries:
                raise bad_request(
                    "query is too old and response timeout expired or query ID is invalid"
                )
            self._open_queries.discard(query_id)
            self.answers.append(params)
            return True
        if method == "getupdates":
            return await self._get_updates(params)
        if method == "setwebhook":
            self.webhook = dict(params)
            return True
        if method == "deletewebhook":
            self.webhook = {}
            if params.get("drop_pending_updates"):
                self._updates.clear()
            return True
        if method == "getwebhookinfo":
            return {
                "url": self.webhook.get("url", ""),
                "has_custom_certificate": False,
                "pending_update_count": len(self._updates),
            }
        if method == "setmycommands":
            self.commands = list(params.get("commands", []))
            return True
        if method == "getfile":
            if params.get("file_id") not in self.files:
                raise bad_request("invalid file_id")
            doc, _ = self.files[params["file_id"]]
            doc.setdefault("file_path", f"documents/{doc['file_unique_id']}_{doc['file_name']}")
            return {k: doc[k] for k in ("file_id", "file_unique_id", "file_size", "file_path")}
        raise ApiError(404, "Not Found")

    def _limit(self, params: dict[str, Any], arrived: float) -> list[_Bucket]:
        """Answer 429 for open retry windows, forced 429s or empty buckets; else the buckets.

        A request inside an open window is a violation if it arrived `violation_grace` seconds
        or more after the window opened: earlier ones may have been in flight already.
        """
        now, chat_id = self.clock(), params.get("chat_id")
        chat: int | str = chat_id if isinstance(chat_id, int) else "unknown chat"
        for scope in (BOT_WIDE, chat):
            window = self._windows.get(scope)
            if window and now < window.until:
                if arrived >= window.opened + self.violation_grace:
                    self.violations += 1
                raise too_many(math.ceil(window.until - now))
        forced = next((f for f in self._forced if f.chat_id in (None, chat_id)), None)
        if forced is not None:
            forced.count -= 1
            self._forced = [f for f in self._forced if f.count > 0]
            self._open(BOT_WIDE if forced.chat_id is None else chat, forced.retry_after)
            raise too_many(forced.retry_after)
        checks: list[tuple[int | str, float | None, float]] = [
            (BOT_WIDE, self.global_rate, self.global_rate or 1),
            (chat, self.per_chat_rate, self.per_chat_burst),
        ]
        buckets: list[_Bucket] = []
        for scope, rate, capacity in checks:
            if rate:
                bucket = self._buckets.setdefault(scope, _Bucket(rate, capacity, capacity, now))
                bucket.rate, bucket.capacity = rate, capacity  # the limits may change mid-test
                if wait := bucket.wait(now):
                    self._open(scope, max(1, math.ceil(wait)))
                    raise too_many(max(1, math.ceil(wait)))
                buckets.append(bucket)
        return buckets

    def _open(self, scope: int | str, seconds: int) -> None:
        """Open a retry window for `scope`."""
        now = self.clock()
        self._windows[scope] = _Window(now, now + seconds)

    def _target(self, params: dict[str, Any]) -> int:
        chat_id = params.get("chat_id")
        if not isinstance(chat_id, int) or chat_id in self.forgotten:
            raise bad_request("chat not found")
        if chat_id in self.blocked:
            who = "kicked from the group chat" if chat_id < 0 else "blocked by the user"
            raise ApiError(403, f"Forbidden: bot was {who}")
        return chat_id

    def _text(self, params: dict[str, Any], key: str, limit: int) -> tuple[str, list[Any]]:
        raw, mode = str(params.get(key, "")), params.get("parse_mode")
        if mode not in (None, "", "HTML", "MarkdownV2", "Markdown"):
            raise bad_request(f"unsupported parse_mode {mode}")
        text, entities = parse_html(raw) if mode == "HTML" else (raw, [])
        if key == "text" and not text.strip():
            raise bad_request("message text is empty")
        if len(text) > limit:
            raise bad_request(
                "message is too long" if key == "text" else "message caption is too long"
            )
        return text, entities

    def _send(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        chat_id = self._target(params)
        key = "text" if method == "sendmessage" else "caption"
        text, entities = self._text(params, key, TEXT_LIMIT if key == "text" else CAPTION_LIMIT)
        markup = params.get("reply_markup")
        if markup is not None:
            check_keyboard(markup)
        reply_to = params.get("reply_to_message_id") or (params.get("reply_parameters") or {}).get(
            "message_id"
        )
        if reply_to is not None and (chat_id, reply_to) not in self._messages:
            raise bad_request("message to be replied not found")
        message: dict[str, Any] = {
            "message_id": self._next_id(chat_id),
            "from": self.me,
            "chat": self._chat(chat_id),
            "date": int(time.time()),
        }
        file_id = None
        if method != "sendmessage":
            file_id = str(params.get(method.removeprefix("send"), ""))
            if not file_id:
                raise bad_request(f"there is no {method.removeprefix('send')} in the request")
            known = self.files.get(file_id, ({"file_unique_id": f"U{file_id}"}, b""))[0]
            media = {"file_id": file_id, "file_unique_id": known["file_unique_id"]}
            if method == "senddocument":
                message["document"] = {**known, **media}
            else:
                message["photo"] = [{**media, "width": 800, "height": 600}]
        if text:
            message[key] = text
        if entities:
            message["entities" if key == "text" else "caption_entities"] = entities
        if markup:
            message["reply_markup"] = markup
        if reply_to is not None:
            message["reply_to_message"] = self._quote(chat_id, reply_to)
        self._messages[(chat_id, message["message_id"])] = message
        name = {"sendmessage": "sendMessage", "senddocument": "sendDocument"}.get(
            method, "sendPhoto"
        )
        record = SentMessage(
            message_id=message["message_id"],
            chat_id=chat_id,
            text=text,
            raw_text=str(params.get(key, "")),
            parse_mode=params.get("parse_mode"),
            reply_markup=markup,
            reply_to_message_id=reply_to,
            at=self.clock(),
            method=name,
            file_id=file_id,
        )
        self.sent.append(record)
        self._new_sent.set()
        return message

    def _edit(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        chat_id = self._target(params)
        old = self._messages.get((chat_id, params.get("message_id", 0)))
        if old is None:
            raise bad_request("message to edit not found")
        if old["from"]["id"] != self.me["id"]:
            raise bad_request("message can't be edited")
        new = {k: v for k, v in old.items() if k not in ("reply_markup", "edit_date")}
        markup = params.get("reply_markup")
        if markup is not None:
            check_keyboard(markup)
            new["reply_markup"] = markup
        if method == "editmessagetext":
            if "text" not in old:
                raise bad_request("there is no text in the message to edit")
            new["text"], entities = self._text(params, "text", TEXT_LIMIT)
            new.pop("entities", None)
            if entities:
                new["entities"] = entities
        if new == {k: v for k, v in old.items() if k != "edit_date"}:
            raise bad_request(NOT_MODIFIED.removeprefix("Bad Request: "))
        new["edit_date"] = int(time.time())
        self._messages[(chat_id, new["message_id"])] = new
        name = "editMessageText" if method == "editmessagetext" else "editMessageReplyMarkup"
        record = SentMessage(
            message_id=new["message_id"],
            chat_id=chat_id,
            text=new.get("text", ""),
            raw_text=str(params.get("text", "")),
            parse_mode=params.get("parse_mode"),
            reply_markup=markup,
            reply_to_message_id=None,
            at=self.clock(),
            method=name,
        )
        self.edits.append(record)
        return new

    async def _get_updates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        if self.webhook.get("url"):
            raise ApiError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; "
                "use deleteWebhook to delete the webhook first",
            )
        offset, limit = int(params.get("offset", 0)), int(params.get("limit", 100))
        if offset < 0:
            self._updates = self._updates[offset:]
        elif offset:
            self._updates = [u for u in self._updates if u["update_id"] >= offset]
        allowed: list[str] | None = params.get("allowed_updates") or None
        self._polls += 1
        poll = self._polls
        self._wake()
        deadline = asyncio.get_running_loop().time() + float(params.get("timeout", 0))
        while True:
            ready = [u for u in self._updates if not allowed or set(u) & set(allowed)]
            remaining = deadline - asyncio.get_running_loop().time()
            if poll != self._polls:
                raise ApiError(
                    409,
                    "Conflict: terminated by other getUpdates request; "
                    "make sure that only one bot instance is running",
                )
            if ready or remaining <= 0 or self._closing:
                return ready[: max(1, min(limit, 100))]
            self.waiting_polls += 1
            self._poll_waiting.set()
            try:
                await asyncio.wait_for(self._new_update.wait(), remaining)
            except TimeoutError:
                return []
            finally:
                self.waiting_polls -= 1


__all__ = ["ApiCall", "ApiError", "FakeTelegram", "ManualClock", "SentMessage", "parse_html"]
