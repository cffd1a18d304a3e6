"""The sandbox refuses abuse; errors carry their line; output is fitted to channel limits."""

from __future__ import annotations

import asyncio
import dataclasses
import html
from datetime import date

import pytest

from notifier.templating import (
    LOCALES,
    OUTPUT_LIMITS,
    BulletinOverdueItem,
    BulletinRow,
    InMemoryTemplateStore,
    MessageContext,
    Renderer,
    TemplateInvalid,
    TemplateRenderFailed,
    TemplateSyntaxInvalid,
    TemplateTooLong,
    TemplateUnknownVariable,
    TemplateUnsafe,
    fit_telegram,
    sample_context,
    telegram_tag_problems,
    telegram_visible_length,
    validate,
)
from tests.templating.support import measure as _measure

# --- the sandbox ------------------------------------------------------------------------

ATTACKS = [
    "{{ ''.__class__.__mro__ }}",
    "{{ ''.__class__.__mro__[1].__subclasses__() }}",
    "{{ x|attr('__class__') }}",
    "{{ item|attr('__class__') }}",
    "{{ 'a' * 1000000000 }}",
    "{{ [1] * 1000000000 }}",
    # jinja's ** is left-associative: 9 ** 9 ** 9 is (9 ** 9) ** 9, a harmless 77 digits
    "{{ (9 ** 9) ** (9 ** 9) }}",
    "{{ 9 ** (9 ** 9) }}",
    "{% for i in range(10**9) %}{% endfor %}",
    # 10^12 turns: no machine finishes them within any timeout, however loaded (10^8 did
    # finish under load, and validation then said "renders to nothing")
    "{% for i in range(10000) %}{% for j in range(10000) %}{% for k in range(10000) %}"
    "{% endfor %}{% endfor %}{% endfor %}",
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
async def test_injection_is_rejected_at_validation(source: str, quick_pool) -> None:
    with pytest.raises(TemplateInvalid) as info:
        await validate(source, step="remind", channel="telegram", pool=quick_pool)
    assert isinstance(info.value, TemplateUnsafe | TemplateUnknownVariable), info.value


@pytest.mark.parametrize("source", ATTACKS[:12])
async def test_injection_is_rejected_for_every_channel(source: str, quick_pool) -> None:
    for channel, part in [
        ("email", "html"),
        ("email", "subject"),
        ("group", "text"),
        ("log", "text"),
    ]:
        with pytest.raises(TemplateInvalid):
            await validate(source, step="remind", channel=channel, part=part, pool=quick_pool)


@pytest.mark.parametrize(
    ("source", "said"),
    [
        ("{{ 9 ** (9 ** 9) }}", "乘方结果过大"),
        ("{{ (9 ** 9) ** (9 ** 9) }}", "乘方结果过大"),
        ("{{ 'a' * 1000000000 }}", "重复后超过"),
        ("{{ 1000000000 * [1] }}", "重复后超过"),
    ],
)
async def test_a_power_or_repetition_past_any_message_is_refused_by_its_operator(
    source: str, said: str, quick_pool
) -> None:
    """Refused by the operator itself, not by the worker's time or memory running out (which
    would say so: "渲染超过" / "内存"); the line is named."""
    with pytest.raises(TemplateUnsafe) as info:
        await validate(source, step="remind", channel="telegram", pool=quick_pool)
    assert said in str(info.value) and info.value.line == 1, info.value


async def test_small_powers_and_repetitions_still_work(quick_pool) -> None:
    source = "{{ '=' * 3 }}{{ 2 ** 10 }}{{ [0] * 2 }}{{ 1 ** 100000 }}{{ 2.5 * 2 }}"
    assert await validate(source, step="remind", channel="log", pool=quick_pool) == (
        "===1024[0, 0]15.0"
    )


@pytest.mark.asyncio
async def test_unsafe_override_fails_at_render_too() -> None:
    store = InMemoryTemplateStore({("remind", "log", "zh", "text"): "{{ ''.__class__ }}"})
    with pytest.raises(TemplateUnsafe):
        await Renderer(store).render("remind", "log", "zh", sample_context("remind"))


async def test_syntax_error_reports_the_line() -> None:
    with pytest.raises(TemplateSyntaxInvalid) as info:
        await validate("第一行\n第二行\n{% if item.urgent %}\n急件", step="remind", channel="log")
    assert info.value.line == 4
    assert "line" in str(info.value) and "行" in str(info.value)
    with pytest.raises(TemplateSyntaxInvalid) as info:
        await validate("ok\n{{ item.title }\n", step="remind", channel="telegram")
    assert info.value.line == 2


async def test_undefined_variable_is_reported_by_name() -> None:
    with pytest.raises(TemplateUnknownVariable) as info:
        await validate("第一行\n{{ item.titel }}", step="remind", channel="telegram")
    assert info.value.variable == "titel"
    assert info.value.line == 2
    assert "titel" in str(info.value)
    with pytest.raises(TemplateUnknownVariable) as info:
        await validate("{{ deadline }}", step="remind", channel="wecom")
    assert info.value.variable == "deadline"


def test_bad_data_is_not_a_bad_template() -> None:
    async def go() -> None:
        store = InMemoryTemplateStore({("remind", "log", "zh", "text"): "{{ last_report.text }}"})
        ctx = dataclasses.replace(sample_context("remind"), last_report=None)
        await Renderer(store).render("remind", "log", "zh", ctx)

    with pytest.raises(TemplateRenderFailed) as info:
        asyncio.run(go())
    assert not isinstance(info.value, TemplateInvalid)


async def test_source_too_long() -> None:
    with pytest.raises(TemplateTooLong):
        await validate("x" * 20_001, step="remind", channel="log")


async def test_telegram_tags_are_checked() -> None:
    with pytest.raises(TemplateUnsafe, match="div"):
        await validate("<div>{{ item.title }}</div>", step="remind", channel="telegram")
    with pytest.raises(TemplateUnsafe, match="closed"):
        await validate("<b>{{ item.title }}", step="remind", channel="telegram")


@pytest.mark.asyncio
async def test_telegram_too_long_rejected_by_validate_trimmed_by_render() -> None:
    source = "<b>{{ item.title }}</b>\n<i>{% for i in range(300) %}{{ item.title }}{% endfor %}</i>"
    with pytest.raises(TemplateTooLong, match="4096"):
        await validate(source, step="remind", channel="telegram")
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
        await validate(source, step="remind", channel="group")
    store = InMemoryTemplateStore({("remind", "group", "zh", "text"): source})
    renderer = Renderer(store)
    wecom = await renderer.render("remind", "wecom", "zh", sample_context("remind"))
    assert len(wecom.text.encode()) <= 4096
    dingtalk = await renderer.render("remind", "dingtalk", "zh", sample_context("remind"))
    assert dingtalk.text == "督" * 2000


async def test_email_html_may_not_be_active() -> None:
    for source in (
        "<p>{{ item.title }}</p><script>alert(1)</script>",
        '<p onclick="x()">{{ item.title }}</p>',
        '<a href="javascript:alert(1)">{{ item.title }}</a>',
    ):
        with pytest.raises(TemplateUnsafe):
            await validate(source, step="remind", channel="email", part="html")
    assert await validate("<p>{{ item.title }}</p>", step="remind", channel="email", part="html")


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


# --- include, import and extends --------------------------------------------------------

OUTSIDE_THE_SET = [
    '{% include "../notifier/templating/sandbox.py" %}',
    '{% include "zh/../../pyproject.toml" %}',
    '{% import "../templates/zh/_macros.j2" as m %}{{ m.urgent() }}',
    '{% include "/etc/passwd" %}',
    'x{% include "__init__.py" %}',  # a file of the package, beside the template set
    'x{% include "zh/remind.telegram.text.j2" %}',  # a message template, not a shared macro
    '{% extends "zh/remind.email.html.j2" %}',
    "x{% include item.title %}",
    '{% from "zh/_macros.j2" import heading %}{% include ["../x.j2"] %}',
]


@pytest.mark.parametrize("source", OUTSIDE_THE_SET)
async def test_include_and_import_reach_only_the_shared_macros(source: str) -> None:
    with pytest.raises(TemplateUnsafe, match=r"zh/_macros\.j2"):
        await validate(source, step="remind", channel="telegram")


async def test_the_shared_macros_stay_usable() -> None:
    source = '{% import "zh/_macros.j2" as m with context %}{{ m.heading("提醒") }}'
    assert await validate(source, step="remind", channel="telegram") == "<b>【提醒】</b>"
    source = '{% extends "en/_email.html.j2" %}{% block body %}<p>{{ item.ref }}</p>{% endblock %}'
    assert "督字〔2026〕37号" in await validate(
        source, step="remind", channel="email", part="html", locale="en"
    )


async def test_an_override_reaching_outside_fails_at_render_too() -> None:
    store = InMemoryTemplateStore({("remind", "log", "zh", "text"): 'x{% include "__init__.py" %}'})
    with pytest.raises(TemplateUnsafe):
        await Renderer(store).render("remind", "log", "zh", sample_context("remind"))
