"""An item's timeline (办理过程) on its page: the history in words (`supervision.history`) in
the reader's language, with download links for the files kept here. Imports
`supervision.timeline` and `supervision.history` only."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from models import Item
from supervision.history import Line, history
from supervision.timeline import timeline_of

__all__ = ["Shown", "shown", "timeline"]


@dataclass(frozen=True, slots=True)
class Shown:
    """One line of an item's timeline as the page shows it."""

    at: datetime
    kind: str  # EntryKind: audit | notification | report | extension | review
    text: str
    detail: str = ""
    files: list[tuple[str, str | None]] = field(default_factory=list)  # (name, download url)


def shown(line: Line) -> Shown:
    """A history line with its files' download links."""
    return Shown(
        line.at,
        line.kind.value,
        line.text,
        line.detail,
        [(f.name, f"/attachments/{f.id}" if f.stored_here else None) for f in line.files],
    )


async def timeline(session: AsyncSession, item: Item, lang: str = "zh") -> list[Shown]:
    """Everything that happened to an item, oldest first, told in ``lang``
    (``item.assignments`` and their units loaded)."""
    return [shown(line) for line in history(await timeline_of(session, item), lang)]
