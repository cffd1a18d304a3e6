"""User text is escaped for each channel; filters and the template variables."""

from __future__ import annotations

import asyncio
import dataclasses
import html
from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from notifier.templating import (
    GROUP_CHANNELS,
    LOCALES,
    InMemoryTemplateStore,
    Renderer,
    TemplateError,
    cn_date,
    days_phrase_for,
    en_date,
    escape_markdown,
    sample_context,
    telegram_tag_problems,
    validate,
)
from tests.templating.support import hostile_context as _hostile_context

# --- escaping ---------------------------------------------------------------------------


@pytest.mark.asyncio
@pytest.mark.parametrize("locale", LOCALES)
async def test_hostile_text_is_escaped_for_telegram(locale: str) -> None:
    for step in ("remind", "overdue", "escalate", "periodic", "signoff_request"):
        ctx = dataclasses.replace(_hostile_context(step, locale), step=step)
        message = await Renderer().render(step, "telegram", locale, ctx)
        assert "<script>" not in message.text
        assert "&lt;script&gt;" in message.text
        assert '<a href="http://evil">' not in message.text
        assert telegram_tag_problems(message.text) == []


@pytest.mark.asyncio
async def test_hostile_text_is_escaped_for_email() -> None:
    message = await Renderer().render("remind", "email", "zh", _hostile_context())
    assert message.html is not None
    assert "<script>" not in message.html and "&lt;script&gt;" in message.html
    assert '<a href="http://evil">' not in message.html
    assert "<script>" in message.text  # plain text part is not HTML
    ctx = _hostile_context()
    assert ctx.item is not None
    ctx = dataclasses.replace(ctx, item=dataclasses.replace(ctx.item, title="x\r\nBcc: a@b.c"))
    subject = (await Renderer().render("remind", "email", "zh", ctx)).subject
    assert subject is not None and "\n" not in subject and "\r" not in subject


@pytest.mark.asyncio
@pytest.mark.parametrize("channel", sorted(GROUP_CHANNELS))
async def test_hostile_text_is_neutralised_for_group_robots(channel: str) -> None:
    message = await Renderer().render("remind", channel, "zh", _hostile_context())
    text = message.text
    assert "@all" not in text and "<@wangqing>" not in text
    assert "<at" not in text
    if channel != "feishu":
        assert "[x](http://evil)" not in text
        assert "<script>" not in text
        assert "**bold**" not in text
        assert "http://evil" not in text
    assert "**事项**" in text or channel == "feishu"


@settings(max_examples=60, deadline=None)
@given(st.text(max_size=200))
def test_markdown_escape_leaves_no_metacharacters(text: str) -> None:
    escaped = escape_markdown(text)
    assert not set(escaped) & set("*_`[]()<>#~|!@\\&=")
    assert "://" not in escaped


@settings(max_examples=40, deadline=None)
@given(st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc")), max_size=120))
def test_telegram_escaping_round_trips(text: str) -> None:
    store = InMemoryTemplateStore(
        {("remind", "telegram", "zh", "text"): "<b>x</b>{{ item.title }}<i>y</i>"}
    )
    ctx = sample_context("remind")
    assert ctx.item is not None
    ctx = dataclasses.replace(ctx, item=dataclasses.replace(ctx.item, title=text))
    message = asyncio.run(Renderer(store).render("remind", "telegram", "zh", ctx))
    assert message.text.startswith("<b>x</b>") and message.text.endswith("<i>y</i>")
    body = message.text.removeprefix("<b>x</b>").removesuffix("<i>y</i>")
    assert "<" not in body and ">" not in body
    assert html.unescape(body) == text


# --- filters and context ----------------------------------------------------------------


async def test_date_and_days_filters() -> None:
    assert cn_date(date(2026, 11, 12)) == "2026年11月12日（星期四）"
    assert en_date(date(2026, 11, 12)) == "Thu 12 Nov 2026"
    assert days_phrase_for(3, "zh") == "剩余3个工作日"
    assert days_phrase_for(-2, "zh") == "已逾期2个工作日"
    assert days_phrase_for(0, "zh") == "今日到期"
    assert days_phrase_for(1, "en") == "1 working day left"
    assert days_phrase_for(-2, "en") == "2 working days overdue"
    assert await validate("{{ -2|days_phrase }}", step="remind", channel="log") == "已逾期2个工作日"
    assert await validate("{{ 2|days_phrase }}", step="remind", channel="log", locale="en") == (
        "2 working days left"
    )


def test_template_vars() -> None:
    variables = sample_context("bulletin").as_template_vars()
    for name in ("item", "assignment", "last_report", "recipient_name", "step", "office_name"):
        assert name in variables
    assert variables["bulletin"] is not None
    assert isinstance(variables["links"], dict)


async def test_error_messages_are_template_errors() -> None:
    with pytest.raises(TemplateError):
        await validate("{{ item.title }}", step="remind", channel="fax")
    with pytest.raises(TemplateError):
        await validate("{{ item.title }}", step="remind", channel="telegram", part="html")


@pytest.mark.asyncio
@pytest.mark.parametrize(("locale", "channel"), [("zh", "telegram"), ("en", "email")])
async def test_bulletin_row_without_a_rate_shows_a_dash(locale, channel):
    """A unit with nothing due in the period has no on-time rate, not 0%."""
    from dataclasses import replace

    from notifier.templating import Renderer, sample_context

    ctx = sample_context("bulletin", locale)
    assert ctx.bulletin is not None and ctx.bulletin.rows
    first = replace(ctx.bulletin.rows[0], on_time_rate=None)
    ctx = replace(ctx, bulletin=replace(ctx.bulletin, rows=(first, *ctx.bulletin.rows[1:])))
    msg = await Renderer().render("bulletin", channel, locale, ctx)
    line = next(ln for ln in msg.text.splitlines() if first.unit_name in ln)
    assert "—" in line and "0.0%" not in line


@pytest.mark.parametrize(
    ("step", "light"),
    [
        ("periodic", "green"),  # 12 working days left
        ("remind", "green"),  # 5 left: not yet "due soon" (3 working days, supervision.light)
        ("review_request", "green"),  # 4 left
        ("signoff_request", "yellow"),  # 2 left
        ("urge", "yellow"),  # 1 left
        ("overdue", "red"),
        ("escalate", "red"),
    ],
)
def test_the_sample_light_follows_the_real_rule(step: str, light: str) -> None:
    assignment = sample_context(step).assignment
    assert assignment is not None and assignment.light == light
