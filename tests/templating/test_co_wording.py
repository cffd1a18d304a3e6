"""A 协办 unit's ladder messages use its own wording (配合/协办, not 承办) and its own
deadline label, in every step template, locale and channel (issue 12 §3)."""

from __future__ import annotations

import dataclasses

import pytest

from notifier.templating import CHANNELS, LOCALES, Renderer, parts_for, sample_context

LADDER_STEPS = ("remind", "urge", "overdue", "escalate", "periodic")
CO_NOTE = {"zh": "您单位是本事项的协办单位", "en": "Your unit co-operates on this item"}


def _texts(message) -> str:
    return "\n".join(t for t in (message.text, message.subject, message.html) if t)


@pytest.mark.asyncio
@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("step", LADDER_STEPS)
async def test_a_co_unit_is_told_it_co_operates_and_when_its_input_is_due(
    step: str, locale: str
) -> None:
    lead_context = sample_context(step, locale)
    assert lead_context.assignment is not None
    co_assignment = dataclasses.replace(lead_context.assignment, role="co")
    co_context = dataclasses.replace(lead_context, assignment=co_assignment)
    for channel in CHANNELS:
        if channel == "log":
            continue  # one line: the role label (协办) says it
        lead = _texts(await Renderer().render(step, channel, locale, lead_context))
        co = _texts(await Renderer().render(step, channel, locale, co_context))
        assert CO_NOTE[locale] not in lead, (step, channel)
        assert CO_NOTE[locale] in co, (step, channel)
        assert "承办" not in co, (step, channel)
        if "text" in parts_for(channel) and step in {"remind", "urge", "overdue", "periodic"}:
            label = "反馈时限" if locale == "zh" else "Input due to the lead unit"
            assert label in co and label not in lead, (step, channel)
