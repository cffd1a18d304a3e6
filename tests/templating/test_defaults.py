"""Every default template renders within limits; overrides and files resolve in order."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from notifier.templating import (
    CHANNELS,
    DEFAULT_TEMPLATES_DIR,
    LOCALES,
    OUTPUT_LIMITS,
    STEPS,
    InMemoryTemplateStore,
    Renderer,
    TemplateMissing,
    parts_for,
    sample_context,
    telegram_tag_problems,
    telegram_visible_length,
    validate,
)
from tests.templating.support import measure as _measure

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
async def test_default_sources_pass_validation(step: str, locale: str) -> None:
    for channel in ("telegram", "email", "group", "log"):
        for part in parts_for(channel):
            path = DEFAULT_TEMPLATES_DIR / locale / f"{step}.{channel}.{part}.j2"
            source = path.read_text(encoding="utf-8")
            assert await validate(source, step=step, channel=channel, part=part, locale=locale)


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
