"""Message templates: every default renders within limits; the sandbox refuses abuse."""

from __future__ import annotations

import asyncio
import dataclasses
import html
from datetime import date
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from notifier.templating import (
    CHANNELS,
    DEFAULT_TEMPLATES_DIR,
    GROUP_CHANNELS,
    LOCALES,
    OUTPUT_LIMITS,
    STEPS,
    BulletinOverdueItem,
    BulletinRow,
    InMemoryTemplateStore,
    MessageContext,
    Renderer,
    TemplateError,
    TemplateInvalid,
    TemplateMissing,
    TemplateRenderFailed,
    TemplateSyntaxInvalid,
    TemplateTooLong,
    TemplateUnknownVariable,
    TemplateUnsafe,
    cn_date,
    days_phrase_for,
    en_date,
    escape_markdown,
    fit_telegram,
    parts_for,
    sample_context,
    telegram_tag_problems,
    telegram_visible_length,
    validate,
)

HOSTILE = (
    '<script>alert(1)</script></b><a href="http://evil">x</a> [x](http://evil) @all '
    '<at user_id="all">所有人</at> <@wangqing> **bold** `code` # head &amp;'
)


def _measure(text: str, channel: str, part: str) -> int:
    limit = OUTPUT_LIMITS[(channel, part)]
    if limit.unit == "utf8":
        return len(text.encode("utf-8"))
    if limit.unit == "tg":
        return telegram_visible_length(text)
    return len(text)


def _hostile_context(step: str = "remind", locale: str = "zh") -> MessageContext:
    ctx = sample_context(step, locale)
    assert ctx.item is not None and ctx.assignment is not None and ctx.last_report is not None
    return dataclasses.replace(
        ctx,
        recipient_name=HOSTILE,
        item=dataclasses.replace(ctx.item, title=HOSTILE, ref="督字〔2026〕<b>1</b>号"),
        assignment=dataclasses.replace(ctx.assignment, unit_name=HOSTILE, owner_name=HOSTILE),
        last_report=dataclasses.replace(ctx.last_report, text=HOSTILE + "\n> 引用\n- 列表"),
    )


# --- defaults ---------------------------------------------------------------------------


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("step", STEPS)
def test_every_step_has_its_files(step: str, locale: str) -> None:
    root = DEFAULT_TEMPLATES_DIR / locale
    for channel in ("telegram", "email", "group", "log"):
        for part in parts_for(channel):
            assert (root / f"{step}.{channel}.{part}.j2").is_file(), (step, channel, part)


@pytest.mark.asyncio
@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("channel", CHANNELS)
@pytest.mark.parametrize("step", STEPS)
async def test_every_default_renders_within_limits(step: str, channel: str, locale: str) -> None:
    message = await Renderer().render(step, channel, locale, sample_context(step, locale))
    parts = {"text": message.text, "subject": message.subject, "html": message.html}
    for part in parts_for(channel):
        text = parts[part]
        assert text, (step, channel, part)
        assert "None" not in text and "Undefined" not in text
        assert _measure(text, channel, part) <= OUTPUT_LIMITS[(channel, part)].count
    if channel == "telegram":
        assert telegram_tag_problems(message.text) == []
        assert telegram_visible_length(message.text) < 3000, "keep Telegram texts well short"
    if channel == "email":
        assert message.subject is not None and "\n" not in message.subject
        assert message.html is not None and message.html.startswith("<!DOCTYPE html>")
    if channel in {"telegram", "email", "log"} and step not in {"invite", "bulletin"}:
        assert "督字〔2026〕37号" in message.text
    if channel == "telegram" and step in {"remind", "urge", "overdue", "periodic"}:
        assert ("回复本消息" if locale == "zh" else "Reply to this message") in message.text


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("step", STEPS)
def test_default_sources_pass_validation(step: str, locale: str) -> None:
    for channel in ("telegram", "email", "group", "log"):
        for part in parts_for(channel):
            path = DEFAULT_TEMPLATES_DIR / locale / f"{step}.{channel}.{part}.j2"
            source = path.read_text(encoding="utf-8")
            assert validate(source, step=step, channel=channel, part=part, locale=locale)


@pytest.mark.asyncio
async def test_urgent_and_zh_wording() -> None:
    message = await Renderer().render("overdue", "telegram", "zh", sample_context("overdue"))
    assert message.text.startswith("<b>【急件】【逾期督办通知】</b>")
    assert "2026年11月12日（星期四）" in message.text
    assert "已逾期1个工作日" in message.text
    escalate = await Renderer().render("escalate", "email", "zh", sample_context("escalate"))
    assert "请主要负责同志督促" in escalate.text
    assert escalate.subject is not None and escalate.subject.startswith("【急件】【升级督办通知】")


@pytest.mark.asyncio
async def test_no_report_yet() -> None:
    ctx = dataclasses.replace(sample_context("remind"), last_report=None)
    zh = await Renderer().render("remind", "telegram", "zh", ctx)
    assert "尚未报送办理情况" in zh.text
    en = await Renderer().render("remind", "log", "en", dataclasses.replace(ctx, step="remind"))
    assert en.text


@pytest.mark.asyncio
async def test_markdown_macros_are_not_escaped_twice() -> None:
    message = await Renderer().render("remind", "wecom", "zh", sample_context("remind"))
    assert "**事项**" in message.text
    assert "＊" not in message.text
    assert "[查看事项详情](https://duban.example.gov.cn/items/37)" in message.text


@pytest.mark.asyncio
async def test_dingtalk_gets_a_plain_title() -> None:
    message = await Renderer().render("overdue", "dingtalk", "zh", sample_context("overdue"))
    assert message.subject == "【急件】【逾期督办通知】"
    wecom = await Renderer().render("overdue", "wecom", "zh", sample_context("overdue"))
    assert wecom.subject is None


# --- resolution -------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_override_beats_default() -> None:
    store = InMemoryTemplateStore()
    store.set("remind", "telegram", "zh", "text", "自定义：{{ b(item.title) }}")
    message = await Renderer(store).render("remind", "telegram", "zh", sample_context("remind"))
    assert message.text == "自定义：<b>关于加快推进城镇老旧小区改造工作的批示</b>"
    other = await Renderer(store).render("urge", "telegram", "zh", sample_context("urge"))
    assert "催办通知" in other.text


@pytest.mark.asyncio
async def test_email_parts_override_independently() -> None:
    store = InMemoryTemplateStore({("remind", "email", "zh", "subject"): "提醒：{{ item.ref }}"})
    message = await Renderer(store).render("remind", "email", "zh", sample_context("remind"))
    assert message.subject == "提醒：督字〔2026〕37号"
    assert message.html is not None and "<table" in message.html


@pytest.mark.asyncio
async def test_group_fallback_and_channel_specific_override() -> None:
    store = InMemoryTemplateStore()
    store.set("remind", "group", "zh", "text", "群：{{ item.ref }}")
    store.set("remind", "feishu", "zh", "text", "飞书：{{ item.ref }}")
    renderer = Renderer(store)
    ctx = sample_context("remind")
    assert (await renderer.render("remind", "wecom", "zh", ctx)).text == "群：督字〔2026〕37号"
    assert (await renderer.render("remind", "dingtalk", "zh", ctx)).text == "群：督字〔2026〕37号"
    assert (await renderer.render("remind", "feishu", "zh", ctx)).text == "飞书：督字〔2026〕37号"


@pytest.mark.asyncio
async def test_channel_file_beats_group_file(tmp_path: Path) -> None:
    (tmp_path / "zh").mkdir()
    (tmp_path / "zh" / "remind.group.text.j2").write_text("group", encoding="utf-8")
    (tmp_path / "zh" / "remind.dingtalk.text.j2").write_text("dingtalk", encoding="utf-8")
    renderer = Renderer(templates_dir=tmp_path)
    ctx = sample_context("remind")
    assert (await renderer.render("remind", "dingtalk", "zh", ctx)).text == "dingtalk"
    assert (await renderer.render("remind", "wecom", "zh", ctx)).text == "group"


@pytest.mark.asyncio
async def test_locale_fallback_to_zh(tmp_path: Path) -> None:
    (tmp_path / "zh").mkdir()
    (tmp_path / "zh" / "remind.log.text.j2").write_text("{{ locale }}:中文", encoding="utf-8")
    ctx = sample_context("remind", "en")
    assert (await Renderer(templates_dir=tmp_path).render("remind", "log", "en", ctx)).text == (
        "zh:中文"
    )
    unknown = await Renderer().render("remind", "log", "fr", sample_context("remind"))
    assert unknown.text.startswith("[提醒]")
    english = await Renderer().render("remind", "log", "en", ctx)
    assert english.text.startswith("[remind]")


@pytest.mark.asyncio
async def test_en_file_beats_zh_override() -> None:
    store = InMemoryTemplateStore({("remind", "log", "zh", "text"): "zh override"})
    ctx = sample_context("remind", "en")
    assert (await Renderer(store).render("remind", "log", "en", ctx)).text.startswith("[remind]")


@pytest.mark.asyncio
async def test_missing_template(tmp_path: Path) -> None:
    with pytest.raises(TemplateMissing):
        await Renderer(templates_dir=tmp_path).render(
            "remind", "log", "zh", sample_context("remind")
        )


# --- the sandbox ------------------------------------------------------------------------

ATTACKS = [
    "{{ ''.__class__.__mro__ }}",
    "{{ ''.__class__.__mro__[1].__subclasses__() }}",
    "{{ x|attr('__class__') }}",
    "{{ item|attr('__class__') }}",
    "{{ 'a' * 1000000000 }}",
    "{{ [1] * 1000000000 }}",
    "{{ 9 ** 9 ** 9 }}",
    "{{ 9 ** (9 ** 9) }}",
    "{% for i in range(10**9) %}{% endfor %}",
    "{% for i in range(10000) %}{% for j in range(10000) %}{% endfor %}{% endfor %}",
    "{{ ''.format }}",
    "{{ '{0.__class__}'.format(item) }}",
    "{{ ''.format_map }}",
    "{{ item.__dataclass_fields__ }}",
    "{{ cn_date.__globals__ }}",
    "{{ 'x'.ljust(10**9) }}",
    "{{ '%0999999d' % 1 }}",
    "{{ '%999999999s'|format('x') }}",
    "{{ 'x'|center(1000000000) }}",
    "{% set x = 'a' * 100000 %}{{ x ~ x ~ x }}",
    "{% set x = 'a' * 100000 %}{{ x.replace('a', 'aaaa') }}",
    "{{ ['x' * 100000] * 100 }}",
    "{{ dict.fromkeys(range(10000), 'x' * 100000) }}",
    "{{ range(1000)|join('x' * 100000) }}",
    "{{ ('a' * 100000)|replace('a', 'aaaa') }}",
    "{{ ('a' * 100000)|wordwrap(1, true, 'x' * 1000) }}",
    "{{ ('a' * 100000).translate({97: 'x' * 1000}) }}",
    "{{ (['x' * 100000] * 100)|string }}",
    "{{ lipsum(1000000) }}",
    "{{ item.title|pprint }}",
    "{{ item.title|safe }}",
    "{% autoescape false %}{{ item.title }}{% endautoescape %}",
]


@pytest.mark.parametrize("source", ATTACKS)
def test_injection_is_rejected_at_validation(source: str) -> None:
    with pytest.raises(TemplateInvalid) as info:
        validate(source, step="remind", channel="telegram")
    assert isinstance(info.value, TemplateUnsafe | TemplateUnknownVariable), info.value


@pytest.mark.parametrize("source", ATTACKS[:12])
def test_injection_is_rejected_for_every_channel(source: str) -> None:
    for channel, part in [
        ("email", "html"),
        ("email", "subject"),
        ("group", "text"),
        ("log", "text"),
    ]:
        with pytest.raises(TemplateInvalid):
            validate(source, step="remind", channel=channel, part=part)


@pytest.mark.asyncio
async def test_unsafe_override_fails_at_render_too() -> None:
    store = InMemoryTemplateStore({("remind", "log", "zh", "text"): "{{ ''.__class__ }}"})
    with pytest.raises(TemplateUnsafe):
        await Renderer(store).render("remind", "log", "zh", sample_context("remind"))


def test_syntax_error_reports_the_line() -> None:
    with pytest.raises(TemplateSyntaxInvalid) as info:
        validate("第一行\n第二行\n{% if item.urgent %}\n急件", step="remind", channel="log")
    assert info.value.line == 4
    assert "line" in str(info.value) and "行" in str(info.value)
    with pytest.raises(TemplateSyntaxInvalid) as info:
        validate("ok\n{{ item.title }\n", step="remind", channel="telegram")
    assert info.value.line == 2


def test_undefined_variable_is_reported_by_name() -> None:
    with pytest.raises(TemplateUnknownVariable) as info:
        validate("第一行\n{{ item.titel }}", step="remind", channel="telegram")
    assert info.value.variable == "titel"
    assert info.value.line == 2
    assert "titel" in str(info.value)
    with pytest.raises(TemplateUnknownVariable) as info:
        validate("{{ deadline }}", step="remind", channel="wecom")
    assert info.value.variable == "deadline"


def test_bad_data_is_not_a_bad_template() -> None:
    async def go() -> None:
        store = InMemoryTemplateStore({("remind", "log", "zh", "text"): "{{ last_report.text }}"})
        ctx = dataclasses.replace(sample_context("remind"), last_report=None)
        await Renderer(store).render("remind", "log", "zh", ctx)

    with pytest.raises(TemplateRenderFailed) as info:
        asyncio.run(go())
    assert not isinstance(info.value, TemplateInvalid)


def test_source_too_long() -> None:
    with pytest.raises(TemplateTooLong):
        validate("x" * 20_001, step="remind", channel="log")


def test_telegram_tags_are_checked() -> None:
    with pytest.raises(TemplateUnsafe, match="div"):
        validate("<div>{{ item.title }}</div>", step="remind", channel="telegram")
    with pytest.raises(TemplateUnsafe, match="closed"):
        validate("<b>{{ item.title }}", step="remind", channel="telegram")


@pytest.mark.asyncio
async def test_telegram_too_long_rejected_by_validate_trimmed_by_render() -> None:
    source = "<b>{{ item.title }}</b>\n<i>{% for i in range(300) %}{{ item.title }}{% endfor %}</i>"
    with pytest.raises(TemplateTooLong, match="4096"):
        validate(source, step="remind", channel="telegram")
    store = InMemoryTemplateStore({("remind", "telegram", "zh", "text"): source})
    message = await Renderer(store).render("remind", "telegram", "zh", sample_context("remind"))
    assert telegram_visible_length(message.text) <= 4096
    assert telegram_tag_problems(message.text) == []
    assert message.text.endswith("…</i>")


def test_fit_telegram_never_splits_tags_or_entities() -> None:
    text = "<b>" + "&amp;" * 5000 + "</b>"
    fitted = fit_telegram(text, 4096)
    assert telegram_visible_length(fitted) <= 4096
    assert telegram_tag_problems(fitted) == []
    assert html.unescape(fitted.replace("<b>", "").replace("</b>", "")).rstrip("…") == "&" * 4095
    emoji = fit_telegram('<a href="https://x">' + "😀" * 3000 + "</a>", 4096)
    assert telegram_visible_length(emoji) <= 4096 and emoji.endswith("…</a>")
    assert fit_telegram("<b>短</b><div>x</div>") == "<b>短</b>x"


@pytest.mark.asyncio
async def test_group_output_trimmed_to_wecom_bytes() -> None:
    source = "{% for i in range(2000) %}督{% endfor %}"
    with pytest.raises(TemplateTooLong):
        validate(source, step="remind", channel="group")
    store = InMemoryTemplateStore({("remind", "group", "zh", "text"): source})
    renderer = Renderer(store)
    wecom = await renderer.render("remind", "wecom", "zh", sample_context("remind"))
    assert len(wecom.text.encode()) <= 4096
    dingtalk = await renderer.render("remind", "dingtalk", "zh", sample_context("remind"))
    assert dingtalk.text == "督" * 2000


def test_email_html_may_not_be_active() -> None:
    for source in (
        "<p>{{ item.title }}</p><script>alert(1)</script>",
        '<p onclick="x()">{{ item.title }}</p>',
        '<a href="javascript:alert(1)">{{ item.title }}</a>',
    ):
        with pytest.raises(TemplateUnsafe):
            validate(source, step="remind", channel="email", part="html")
    assert validate("<p>{{ item.title }}</p>", step="remind", channel="email", part="html")


def _big_bulletin(locale: str) -> MessageContext:
    ctx = sample_context("bulletin", locale)
    assert ctx.bulletin is not None
    rows = tuple(
        BulletinRow(
            rank=n,
            unit_name=("某某县人民政府办公室" if locale == "zh" else "County Government Office")
            + str(n),
            assigned=20,
            closed_on_time=15,
            overdue=3,
            extensions=2,
            on_time_rate=0.75,
        )
        for n in range(1, 61)
    )
    overdue = tuple(
        BulletinOverdueItem(
            ref=f"督字〔2026〕{n}号",
            title="关于进一步做好重点工作落实情况的督查事项" * 3,
            unit_name="某某县人民政府",
            due_on=date(2026, 10, 1),
            days_overdue=9,
        )
        for n in range(40)
    )
    return dataclasses.replace(
        ctx, bulletin=dataclasses.replace(ctx.bulletin, rows=rows, overdue_items=overdue)
    )


@pytest.mark.asyncio
@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("channel", ["telegram", "wecom", "dingtalk", "feishu"])
async def test_big_bulletin_fits_without_trimming(channel: str, locale: str) -> None:
    message = await Renderer().render("bulletin", channel, locale, _big_bulletin(locale))
    assert not message.text.endswith("…") and not message.text.endswith("…</a>")
    assert _measure(message.text, channel, "text") <= OUTPUT_LIMITS[(channel, "text")].count
    assert ("60" in message.text) and ("40" in message.text)  # "N units in all" notes


@pytest.mark.asyncio
@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("channel", ["telegram", "wecom"])
async def test_long_item_texts_are_excerpted(channel: str, locale: str) -> None:
    ctx = sample_context("escalate", locale)
    assert ctx.item is not None and ctx.last_report is not None
    ctx = dataclasses.replace(
        ctx,
        item=dataclasses.replace(ctx.item, title="很长的标题" * 30, objective="目标" * 500),
        last_report=dataclasses.replace(ctx.last_report, text="进展" * 3000),
    )
    message = await Renderer().render("escalate", channel, locale, ctx)
    assert _measure(message.text, channel, "text") <= OUTPUT_LIMITS[(channel, "text")].count
    assert message.text.rstrip().endswith(("督查室　2026年11月5日", "Office, 5 Nov 2026"))


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


def test_date_and_days_filters() -> None:
    assert cn_date(date(2026, 11, 12)) == "2026年11月12日（星期四）"
    assert en_date(date(2026, 11, 12)) == "Thu 12 Nov 2026"
    assert days_phrase_for(3, "zh") == "剩余3个工作日"
    assert days_phrase_for(-2, "zh") == "已逾期2个工作日"
    assert days_phrase_for(0, "zh") == "今日到期"
    assert days_phrase_for(1, "en") == "1 working day left"
    assert days_phrase_for(-2, "en") == "2 working days overdue"
    assert validate("{{ -2|days_phrase }}", step="remind", channel="log") == "已逾期2个工作日"
    assert validate("{{ 2|days_phrase }}", step="remind", channel="log", locale="en") == (
        "2 working days left"
    )


def test_template_vars() -> None:
    variables = sample_context("bulletin").as_template_vars()
    for name in ("item", "assignment", "last_report", "recipient_name", "step", "office_name"):
        assert name in variables
    assert variables["bulletin"] is not None
    assert isinstance(variables["links"], dict)


def test_error_messages_are_template_errors() -> None:
    with pytest.raises(TemplateError):
        validate("{{ item.title }}", step="remind", channel="fax")
    with pytest.raises(TemplateError):
        validate("{{ item.title }}", step="remind", channel="telegram", part="html")


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
