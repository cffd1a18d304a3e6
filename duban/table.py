"""Plain-text tables for the terminal, aligned by display width (CJK wide characters count two)."""

from __future__ import annotations

import unicodedata
from collections.abc import Collection, Sequence


def display_width(text: str) -> int:
    """Columns the text takes in a terminal (CJK wide characters count two)."""
    return sum(2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1 for ch in text)


def truncate(text: str, width: int) -> str:
    """Cut the text to ``width`` columns, with an ellipsis when cut."""
    if display_width(text) <= width:
        return text
    out: list[str] = []
    used = 0
    for ch in text:
        w = display_width(ch)
        if used + w > width - 1:
            break
        out.append(ch)
        used += w
    return "".join(out) + "…"


def pad(text: str, width: int, *, right: bool = False) -> str:
    """Align in ``width`` columns: left by default, right with ``right=True``."""
    gap = " " * max(width - display_width(text), 0)
    return gap + text if right else text + gap


def format_table(
    header: Sequence[str], rows: Sequence[Sequence[str]], *, right: Collection[int] = ()
) -> str:
    """Aligned columns separated by two spaces (no trailing spaces); ``right``: right-aligned
    column indexes."""
    widths = [display_width(h) for h in header]
    for row in rows:
        for i, cell in enumerate(row):
            widths[i] = max(widths[i], display_width(cell))
    lines = [
        "  ".join(pad(cell, widths[i], right=i in right) for i, cell in enumerate(line)).rstrip()
        for line in (header, *rows)
    ]
    return "\n".join(lines)
