"""Channel output allow-lists: e-mail HTML through nh3, Telegram HTML down to its own tags."""

from __future__ import annotations

import pytest

from notifier.templating import (
    InMemoryTemplateStore,
    Renderer,
    TemplateUnsafe,
    fit_telegram,
    sample_context,
    sanitize_email_html,
    telegram_tag_problems,
    validate,
)

ACTIVE_EMAIL = [
    ('<svg onload="alert(1)"><circle r="9"/></svg>', "<svg"),
    ('<a href="&#106;avascript:alert(1)">点此</a>', "avascript"),
    ('<a href="java&#x09;script:alert(1)">点此</a>', "script:"),
    ("<img src=x onerror=alert(1)>", "<img"),
    ("<style>p { color: red }</style>", "<style"),
    ("<script>alert(1)</script>", "alert"),
    ('<p onclick="alert(1)">x</p>', "onclick"),
    ('<p style="background:url(https://evil.example/pixel.gif)">x</p>', "evil.example"),
    ('<iframe src="https://evil.example"></iframe>', "<iframe"),
    ('<form action="https://evil.example"><input name="p"></form>', "<form"),
]


@pytest.mark.parametrize(("snippet", "gone"), ACTIVE_EMAIL)
def test_the_email_sanitizer_removes_active_content(snippet: str, gone: str) -> None:
    clean = sanitize_email_html(f"<html lang='en'><body><p>正文</p>{snippet}</body></html>")
    assert gone not in clean
    assert "<p>正文</p>" in clean and clean.startswith("<!DOCTYPE html>")
    assert '<html lang="en">' in clean


def test_the_email_sanitizer_keeps_the_layout() -> None:
    clean = sanitize_email_html(
        "<!DOCTYPE html><html><head><title>督办 &amp; 提醒</title></head><body>"
        '<table style="border-collapse:collapse;width:100%"><tr><th style="color:#555">事项</th>'
        '<td colspan="2">x</td></tr></table><a href="https://duban.example.gov.cn/items/1">详情</a>'
        "</body></html>"
    )
    assert "<title>督办 &amp; 提醒</title>" in clean
    assert '<table style="border-collapse:collapse;width:100%">' in clean
    assert '<th style="color:#555">' in clean and '<td colspan="2">' in clean
    assert 'href="https://duban.example.gov.cn/items/1"' in clean


@pytest.mark.parametrize(("snippet", "gone"), ACTIVE_EMAIL)
async def test_an_email_override_is_sanitized_at_render(snippet: str, gone: str) -> None:
    """An override stored before these rules (or by hand) still cannot send active HTML."""
    store = InMemoryTemplateStore(
        {("remind", "email", "zh", "html"): "<p>{{ item.ref }}</p>" + snippet}
    )
    message = await Renderer(store).render("remind", "email", "zh", sample_context("remind"))
    assert message.html is not None and gone not in message.html
    assert "<p>督字〔2026〕37号</p>" in message.html


@pytest.mark.parametrize("snippet", [s for s, _ in ACTIVE_EMAIL[:7]])
async def test_active_email_html_is_refused_at_validation(snippet: str) -> None:
    with pytest.raises(TemplateUnsafe):
        await validate(
            "<p>{{ item.title }}</p>" + snippet, step="remind", channel="email", part="html"
        )


TELEGRAM_KEPT = [
    "<b>b</b>", "<strong>s</strong>", "<i>i</i>", "<em>e</em>", "<u>u</u>", "<ins>n</ins>",
    "<s>s</s>", "<strike>k</strike>", "<del>d</del>", '<span class="tg-spoiler">p</span>',
    "<tg-spoiler>t</tg-spoiler>", '<a href="https://duban.example.gov.cn/">h</a>',
    '<a href="http://example.com/">h</a>', '<a href="tg://user?id=42">u</a>', "<code>c</code>",
    '<pre><code class="language-python">x</code></pre>', "<blockquote>q</blockquote>",
    '<tg-emoji emoji-id="5368324170671202286">👍</tg-emoji>',
]  # fmt: skip


@pytest.mark.parametrize("markup", TELEGRAM_KEPT)
def test_telegram_keeps_its_own_tags(markup: str) -> None:
    assert fit_telegram(markup) == markup
    assert telegram_tag_problems(markup) == []


TELEGRAM_DROPPED = [
    ('<a href="javascript:alert(1)">x</a>', "x"),
    ('<a href="&#106;avascript:alert(1)">x</a>', "x"),
    ('<a href="mailto:a@b.c">x</a>', "x"),
    ('<a href="/relative">x</a>', "x"),
    ('<span style="color:red">x</span>', "x"),
    ('<b onclick="alert(1)">x</b>', "<b>x</b>"),
    (
        '<a href="https://ok.example/" onclick="alert(1)">x</a>',
        '<a href="https://ok.example/">x</a>',
    ),
    ("<div>x</div>", "x"),
    ("<img src=x onerror=alert(1)>x", "x"),
    ('<span class="tg-spoiler"><span>x</span>y</span>', '<span class="tg-spoiler">xy</span>'),
]


@pytest.mark.parametrize(("markup", "sent"), TELEGRAM_DROPPED)
def test_telegram_gets_nothing_else(markup: str, sent: str) -> None:
    assert fit_telegram(markup) == sent


@pytest.mark.parametrize(
    "markup", [m for m, _ in TELEGRAM_DROPPED if "onclick" not in m or "href" not in m]
)
async def test_telegram_markup_outside_the_list_is_refused_at_validation(markup: str) -> None:
    with pytest.raises(TemplateUnsafe):
        await validate(markup + "{{ item.ref }}", step="remind", channel="telegram")


async def test_a_telegram_override_is_cut_to_the_list_at_render() -> None:
    store = InMemoryTemplateStore(
        {("remind", "telegram", "zh", "text"): '<a href="javascript:alert(1)">{{ item.ref }}</a>'}
    )
    message = await Renderer(store).render("remind", "telegram", "zh", sample_context("remind"))
    assert message.text == "督字〔2026〕37号"
