"""How the bot says the catalogue's sentences: `supervision.labels` words them (zh and en),
this module escapes the values for Telegram's HTML and adds the light's sign.

Imports `supervision.labels` for every word; the bot writes none of its own.
"""

from __future__ import annotations

from html import escape

from models import Decision
from supervision import labels
from supervision.errors import DomainError
from supervision.invites import INVITE_VALIDITY
from supervision.labels import Button, Sentence
from supervision.light import Light

__all__ = [
    "Button",
    "Sentence",
    "button",
    "days_phrase",
    "decision_label",
    "lang",
    "light_label",
    "say",
    "told",
]

#: the light's sign before its word
LIGHT_SIGNS = {Light.GREEN: "🟢", Light.YELLOW: "🟡", Light.RED: "🔴", Light.GREY: "⚪"}


def lang(locale: str | None) -> str:
    """``en`` for English locales, else ``zh``."""
    return labels.lang_of(locale)


def say(locale: str | None, sentence: Sentence, **values: object) -> str:
    """The catalogue's ``sentence`` in ``locale`` with ``values`` HTML-escaped into it."""
    safe = {k: escape(str(v), quote=False) for k, v in values.items()}
    safe.setdefault("days", str(INVITE_VALIDITY.days))
    return labels.say(sentence, locale, **safe)


def told(locale: str | None, error: DomainError) -> str:
    """「未完成：…」 with why ``error`` refused, in ``locale`` when the catalogue words it."""
    return say(locale, Sentence.ERROR, message=labels.told(error, locale))


def button(locale: str | None, word: Button) -> str:
    """A button's word (填报进展 / Report progress)."""
    return labels.label(word, locale, alone=True)


def light_label(locale: str | None, light: Light) -> str:
    """The light as an emoji and its word."""
    return f"{LIGHT_SIGNS[light]} {labels.label(light, locale)}"


def decision_label(locale: str | None, decision: Decision) -> str:
    """同意 / 退回 (Approve / Return) on a button."""
    return labels.label(decision, locale, alone=True)


def days_phrase(locale: str | None, n: int) -> str:
    """剩余3个工作日 / 今日到期 / 已逾期2个工作日."""
    return labels.days_phrase(n, locale)
