"""The template editor's preview: the whole message a draft makes, shown as its reader gets
it on its channel, with the sample's data or a real item's data (never both).

A Telegram message is a chat bubble with its formatting and its buttons, an e-mail its
subject, its HTML in a sandboxed frame and its text part, a group robot's markdown converted
(``web.message_preview``). Rendering runs in the app's render workers like every template.
The length counter is the edited part's output measured as its channel counts it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from markupsafe import Markup
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from models import (
    MILESTONE_STEPS,
    Assignment,
    AssignmentRole,
    Extension,
    Item,
    Milestone,
    MilestoneState,
    Notification,
    Report,
    ReportKind,
    ReviewState,
    StepKind,
    Template,
)
from notifier.channels.base import OutgoingMessage
from notifier.channels.telegram import keyboard_for
from notifier.context import ContextConfig, build_context
from notifier.templating import (
    OUTPUT_LIMITS,
    InMemoryTemplateStore,
    MessageContext,
    RenderedMessage,
    Renderer,
    TemplateError,
    TemplateTooLong,
    measure,
    sample_context,
    validate,
)
from supervision.access import Permission
from supervision.calendar_store import load_calendar
from web.access import require, require_item
from web.app import DEPS, WebDeps
from web.auth import Principal
from web.message_preview import markdown_html, plain_html, telegram_html
from web.views.common import int_or_none, render_fragment
from web.views.template_keys import RENDER_POOL, Key, key_from

_LADDER: frozenset[str] = frozenset(k.value for k in StepKind)
#: how each channel's text is drawn: a chat bubble, robot markdown, or plain text
_MARKDOWN_CHANNELS: frozenset[str] = frozenset({"wecom", "dingtalk"})


@dataclass(frozen=True)
class Length:
    """The edited part's output against its channel's limit."""

    used: int
    limit: int
    unit: str  # "chars" | "utf8" | "tg"

    @property
    def over(self) -> bool:
        """True when the output is longer than the channel takes."""
        return self.used > self.limit

    def as_json(self) -> dict[str, Any]:
        """What the page's counter shows."""
        return {"used": self.used, "limit": self.limit, "unit": self.unit, "over": self.over}


@dataclass(frozen=True)
class MessageShown:
    """A rendered message, drawn for the preview."""

    channel: str
    look: str  # "telegram" | "email" | "markdown" | "plain"
    subject: str | None
    text: Markup
    html: str | None
    plain_text: str
    buttons: list[list[str]] = field(default_factory=list)


@dataclass(frozen=True)
class Situation:
    """Whom and what the preview is about: the context, and what a Telegram message of it
    would carry for its buttons."""

    context: MessageContext
    real: bool
    payload: Mapping[str, object]
    assignment_id: int | None
    buttons: bool


def sample_situation(step: str, locale: str) -> Situation:
    """The sample: its context, and the buttons its recipient would get."""
    context = sample_context(step, locale)
    payload: dict[str, object] = {}
    if step == "review_request":
        payload = {"extension_id": 1} if context.extension else {"report_id": 1}
    elif step == "signoff_request":
        payload = {"report_id": 1}
    elif step == "digest" and context.digest is not None:
        payload = {"buttons": [[e.number, e.number] for e in context.digest.entries if e.acts]}
    acts = (
        context.assignment is not None and context.recipient_name == context.assignment.owner_name
    )
    return Situation(context, False, payload, 1, step in _LADDER and acts)


async def _payload(
    session: AsyncSession, step: str, item: Item, asg: Assignment | None
) -> dict[str, object]:
    """What a real message of ``step`` about ``item`` would carry: its milestone, the request
    under review or decided, the completion report to sign off."""
    payload: dict[str, object] = {"step": step}
    if step in MILESTONE_STEPS:  # a milestone's message: the item's next milestone
        payload["milestone_id"] = await session.scalar(
            select(Milestone.id)
            .where(Milestone.item_id == item.id)
            .order_by(Milestone.state != MilestoneState.OPEN, Milestone.due_on, Milestone.id)
            .limit(1)
        )
    if asg is None or step not in {"review_request", "review_outcome", "signoff_request"}:
        return payload
    decided = step == "review_outcome"
    wanted = (
        [ReviewState.APPROVED, ReviewState.REJECTED]
        if decided
        else [ReviewState.PENDING, ReviewState.AWAITING_SIGNOFF]
    )
    extension = None
    if step != "signoff_request":
        extension = await session.scalar(
            select(Extension)
            .where(Extension.assignment_id == asg.id, Extension.state.in_(wanted))
            .order_by(Extension.id.desc())
            .limit(1)
        )
    if extension is not None:
        payload |= {"extension_id": extension.id, "pending": "extension"}
        if decided:
            payload["decision"] = extension.state.value
        return payload
    report = await session.scalar(
        select(Report)
        .where(
            Report.assignment_id == asg.id,
            Report.kind == ReportKind.COMPLETION,
            Report.review_state.in_(
                [ReviewState.AWAITING_SIGNOFF] if step == "signoff_request" else wanted
            ),
        )
        .order_by(Report.id.desc())
        .limit(1)
    )
    if report is not None:
        payload |= {"report_id": report.id, "pending": "completion"}
        if decided:
            payload["decision"] = report.review_state.value
    return payload


async def item_situation(session: AsyncSession, deps: WebDeps, key: Key, item_id: int) -> Situation:
    """A real item's message of ``key.step`` to its lead unit's 责任人, from its data only."""
    item = await session.get_one(Item, item_id)
    assignment = await session.scalar(
        select(Assignment)
        .where(Assignment.item_id == item.id)
        .order_by(Assignment.role != AssignmentRole.LEAD, Assignment.id)
        .limit(1)
    )
    row = Notification(
        dedupe_key="preview",
        kind=key.step,
        item_id=item.id,
        assignment_id=assignment.id if assignment else None,
        recipient_id=assignment.owner_id if assignment else None,
        channel=key.sends_as,
        locale=key.locale,
        payload=await _payload(session, key.step, item, assignment),
    )
    config = ContextConfig(
        office_name=deps.config.office_name, base_url=deps.config.base_url, tz=deps.config.tz
    )
    built = await build_context(
        session, row, config=config, clock=deps.clock, calendar=await load_calendar(session)
    )
    return Situation(built.context, True, row.payload or {}, row.assignment_id, built.buttons)


async def situation_for(
    session: AsyncSession, principal: Principal, deps: WebDeps, key: Key, item_id: int | None
) -> Situation:
    """The sample, or the chosen item when the step is about one (404 unless the previewer
    may see that item)."""
    if item_id is None or not key.about_an_item:
        return sample_situation(key.step, key.locale)
    await require_item(session, principal, item_id)
    return await item_situation(session, deps, key, item_id)


async def _overrides(session: AsyncSession, key: Key, body: str) -> InMemoryTemplateStore:
    """The step's saved overrides, with ``body`` in place of the edited part's."""
    rows = (await session.scalars(select(Template).where(Template.step == key.step))).all()
    store = InMemoryTemplateStore({(r.step, r.channel, r.locale, r.part): r.body for r in rows})
    store.set(*key.as_tuple(), body)
    return store


def _buttons(key: Key, situation: Situation, text: str) -> list[list[str]]:
    message = OutgoingMessage(
        notification_id=0,
        kind=key.step,
        channel="telegram",
        address=None,
        text=text,
        locale=key.locale,
        assignment_id=situation.assignment_id,
        buttons=situation.buttons,
        payload=dict(situation.payload),
    )
    markup = keyboard_for(message)
    if markup is None:
        return []
    return [[button.text for button in row] for row in markup.inline_keyboard]


def shown(key: Key, situation: Situation, message: RenderedMessage) -> MessageShown:
    """``message`` drawn as its channel shows it."""
    channel = key.sends_as
    if channel == "telegram":
        return MessageShown(
            channel, "telegram", None, telegram_html(message.text), None, message.text,
            _buttons(key, situation, message.text),
        )  # fmt: skip
    if channel == "email":
        return MessageShown(
            channel, "email", message.subject, plain_html(message.text), message.html,
            message.text,
        )  # fmt: skip
    if channel in _MARKDOWN_CHANNELS:
        return MessageShown(
            channel, "markdown", message.subject, markdown_html(message.text), None, message.text
        )
    return MessageShown(channel, "plain", None, plain_html(message.text), None, message.text)


def _part_text(key: Key, message: RenderedMessage) -> str:
    if key.part == "subject":
        return message.subject or ""
    if key.part == "html":
        return message.html or ""
    return message.text


@dataclass(frozen=True)
class Preview:
    """What the editor shows for a draft: the message drawn, the edited part's text and
    length, or the error that stopped it (with the length when the output was too long)."""

    message: MessageShown | None
    part_text: str
    length: Length | None
    error: TemplateError | None
    real: bool


async def preview(
    request: web.Request, session: AsyncSession, key: Key, body: str, item_id: int | None
) -> Preview:
    """Validate ``body`` (on the sample), then render the whole message with it on the
    sample or the chosen item."""
    principal = require(request, Permission.EDIT_TEMPLATES)
    deps: WebDeps = request.app[DEPS]
    pool = request.app[RENDER_POOL]
    limit = OUTPUT_LIMITS[(key.sends_as, key.part)]
    situation = await situation_for(session, principal, deps, key, item_id)
    try:
        await validate(
            body, step=key.step, channel=key.channel, part=key.part, locale=key.locale, pool=pool
        )
        store = await _overrides(session, key, body)
        message = await Renderer(store, pool=pool).render(
            key.step, key.sends_as, key.locale, situation.context
        )
    except TemplateError as exc:
        length = None
        if isinstance(exc, TemplateTooLong) and exc.size is not None and exc.limit is not None:
            length = Length(exc.size, exc.limit, limit.unit)
        return Preview(None, "", length, exc, situation.real)
    text = _part_text(key, message)
    return Preview(
        shown(key, situation, message),
        text,
        Length(measure(text, limit), limit.count, limit.unit),
        None,
        situation.real,
    )


def fragment(request: web.Request, result: Preview) -> str:
    """The preview's HTML, as the editor page shows it and the script swaps it in."""
    return render_fragment(request, "templates/_preview.html", {"result": result})


async def template_preview(request: web.Request) -> web.StreamResponse:
    """POST .../preview (JSON): the draft's whole message, drawn; errors carry their line."""
    require(request, Permission.EDIT_TEMPLATES)
    key = key_from(request)
    deps: WebDeps = request.app[DEPS]
    form = await request.post()
    body = form.get("body")
    if not isinstance(body, str):
        return web.json_response(
            {"ok": False, "error": "body is required", "line": None}, status=400
        )
    item_id = int_or_none(form.get("item"))
    async with deps.sessions() as session:
        result = await preview(request, session, key, body.replace("\r\n", "\n"), item_id)
    length = result.length.as_json() if result.length else None
    if result.error is not None:
        return web.json_response(
            {"ok": False, "error": str(result.error), "line": result.error.line, "length": length}
        )
    return web.json_response(
        {
            "ok": True,
            "preview": result.part_text,
            "html": fragment(request, result),
            "length": length,
        }
    )
