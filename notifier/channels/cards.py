"""Card text: the layout the chat apps' card templates share, read into its parts.

A card template (``<step>.wecom_app.text.j2``, which DingTalk and Feishu use too) renders plain
text: line 1 the title, line 2 the description, then ``键：值`` lines the card's fields up to
the first blank line, what follows its body, and an ``@url `` line the link to the item page.
Each channel lays these parts out as its platform's card; nothing here knows a platform.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Final

#: the longest key a ``键：值`` line may have to count as a field
KEY_MAX: Final = 5
_FIELD: Final = re.compile(rf"^([^：:]{{1,{KEY_MAX}}})[：:]\s*(.+)$")
URL_PREFIX: Final = "@url "


def cut(text: str, limit: int) -> str:
    """``text`` stripped, and cut to ``limit`` characters with an ellipsis when longer."""
    text = text.strip()
    return text if len(text) <= limit else text[: limit - 1] + "…"


@dataclass(frozen=True)
class CardText:
    """The parts of a card template's output."""

    title: str
    description: str = ""
    #: (key, value) lines, in order, at most ``max_fields`` of :func:`read_card`
    fields: list[tuple[str, str]] = field(default_factory=list)
    #: the body lines (no blank ones)
    body: list[str] = field(default_factory=list)
    url: str = ""


def read_card(text: str, *, max_fields: int = 6, default_title: str = "督办") -> CardText:
    """The parts of ``text``; ``键：值`` lines past ``max_fields`` go to the body."""
    raw = [line.strip() for line in text.strip().splitlines()]
    url = next((line[len(URL_PREFIX) :].strip() for line in raw if line.startswith("@url ")), "")
    raw = [line for line in raw if not line.startswith(URL_PREFIX)]
    head_end = raw.index("") if "" in raw else len(raw)
    head = raw[:head_end]
    fields: list[tuple[str, str]] = []
    body = [line for line in raw[head_end:] if line]
    extra: list[str] = []
    for line in head[2:]:
        match = _FIELD.match(line)
        if match and len(fields) < max_fields:
            fields.append((match[1].strip(), match[2].strip()))
        else:
            extra.append(line)
    return CardText(
        title=head[0] if head else default_title,
        description=head[1] if len(head) > 1 else "",
        fields=fields,
        body=extra + body,
        url=url,
    )
