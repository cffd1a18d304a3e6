"""Shared pieces of the template tests: hostile user text, measuring against a limit."""

from __future__ import annotations

import dataclasses

from notifier.templating import (
    OUTPUT_LIMITS,
    MessageContext,
    sample_context,
    telegram_visible_length,
)

HOSTILE = (
    '<script>alert(1)</script></b><a href="http://evil">x</a> [x](http://evil) @all '
    '<at user_id="all">所有人</at> <@wangqing> **bold** `code` # head &amp;'
)


def measure(text: str, channel: str, part: str) -> int:
    limit = OUTPUT_LIMITS[(channel, part)]
    if limit.unit == "utf8":
        return len(text.encode("utf-8"))
    if limit.unit == "tg":
        return telegram_visible_length(text)
    return len(text)


def hostile_context(step: str = "remind", locale: str = "zh") -> MessageContext:
    ctx = sample_context(step, locale)
    assert ctx.item is not None and ctx.assignment is not None and ctx.last_report is not None
    return dataclasses.replace(
        ctx,
        recipient_name=HOSTILE,
        item=dataclasses.replace(ctx.item, title=HOSTILE, ref="督字〔2026〕<b>1</b>号"),
        assignment=dataclasses.replace(ctx.assignment, unit_name=HOSTILE, owner_name=HOSTILE),
        last_report=dataclasses.replace(ctx.last_report, text=HOSTILE + "\n> 引用\n- 列表"),
        milestone=(
            dataclasses.replace(ctx.milestone, name=HOSTILE, unit_name=HOSTILE)
            if ctx.milestone is not None
            else None
        ),
    )
