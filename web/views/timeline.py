"""An item's timeline (办理过程) in the page's words: `supervision.timeline` entries labelled
in the reader's language, with download links for the files kept here. Imports
`supervision.timeline` and `web.i18n` only."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from models import Item
from supervision.timeline import EntryKind, TimelineEntry, timeline_of
from web.i18n import translate_or

__all__ = ["Shown", "shown", "timeline"]


@dataclass(frozen=True, slots=True)
class Shown:
    """One line of an item's timeline as the page shows it."""

    at: datetime
    kind: str  # EntryKind: audit | notification | attempt | report | extension | review
    title: str
    detail: str = ""
    who: str = ""
    files: list[tuple[str, str | None]] = field(default_factory=list)  # (name, download url)


def _word(prefix: str, value: str | None, lang: str) -> str:
    """The glossary's word for a stored value (the value itself when it has none)."""
    return translate_or(f"{prefix}.{value}", lang, value or "") if value else ""


def _state(value: str | None, lang: str) -> str:
    return _word("state", value, lang)


def _entry_title(e: TimelineEntry, lang: str) -> str:
    unit = e.unit_name or ""
    match e.kind:
        case EntryKind.AUDIT:
            entity, _, action = e.subject.partition(":")
            return (
                f"{translate_or(f'ent.{entity}', lang, entity)} #{e.entity_id} "
                f"{translate_or(f'act.{action}', lang, action)}"
            )
        case EntryKind.NOTIFICATION:
            words = (("step", e.subject), ("channel", e.channel), ("status", e.status))
            return " · ".join(_word(prefix, value, lang) for prefix, value in words)
        case EntryKind.ATTEMPT:
            words = (("step", e.subject), ("channel", e.channel), ("outcome", e.status))
            return " · ".join(_word(prefix, value, lang) for prefix, value in words)
        case EntryKind.REPORT:
            kind, origin = _word("items.kind", e.subject, lang), _word("origin", e.channel, lang)
            return f"{unit} #{e.number} {kind} ({origin})"
        case EntryKind.EXTENSION:
            return f"{unit} {e.old_due_on} → {e.new_due_on}"
        case EntryKind.REVIEW if e.subject == "extension":
            return f"{unit} {_word('review', e.status, lang)}"
        case _:
            return f"{unit} #{e.number} {_word('review', e.status, lang)}"


def _entry_detail(e: TimelineEntry, lang: str) -> str:
    if e.kind is not EntryKind.AUDIT:
        return e.detail
    states = f"{_state(e.state_from, lang)} → {_state(e.state_to, lang)}" if e.state_to else ""
    if e.detail:
        return f"{states} ({e.detail})" if states else e.detail
    return states


def shown(e: TimelineEntry, lang: str) -> Shown:
    """A timeline entry in the page's words (``lang``), its files with their download links."""
    return Shown(
        e.at,
        e.kind.value,
        _entry_title(e, lang),
        _entry_detail(e, lang),
        e.who,
        [(f.name, f"/attachments/{f.id}" if f.stored_here else None) for f in e.files],
    )


async def timeline(session: AsyncSession, item: Item, lang: str = "zh") -> list[Shown]:
    """Everything that happened to an item, oldest first, labelled in ``lang``
    (`supervision.timeline`; ``item.assignments`` and their units loaded)."""
    return [shown(e, lang) for e in await timeline_of(session, item)]
