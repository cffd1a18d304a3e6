"""Rewrite the catalogue section of docs/GLOSSARY.md from supervision.labels.CATALOGUE.

Run after adding a word: ``.venv/bin/python scripts/glossary.py``; tests/test_labels.py checks
that the page lists the catalogue.
"""

from __future__ import annotations

from pathlib import Path

from supervision.history import HISTORY
from supervision.labels import (
    CATALOGUE,
    CHANNEL_PREFS,
    DEADLINE,
    DUTY,
    IMPORT_COLUMNS,
    IMPORT_KINDS,
    IMPORT_WORDS,
    SENTENCES,
)

PAGE = Path(__file__).resolve().parent.parent / "docs" / "GLOSSARY.md"
HEADING = "## The catalogue\n"


def catalogue_section() -> str:
    """The section's Markdown: one table per vocabulary, in the catalogue's order."""
    parts = [HEADING, "\n"]
    for enum, words in CATALOGUE.items():
        parts.append(f"\n### `{enum.__name__}`\n\n| value | 中文 | English |\n|---|---|---|\n")
        parts.extend(f"| `{value}` | {zh} | {en} |\n" for value, (zh, en) in words.items())
    for name, table in (("DUTY", DUTY), ("DEADLINE", DEADLINE)):  # messages' words by role
        parts.append(
            f"\n### `{name}` (by `AssignmentRole`)\n\n| role | 中文 | English |\n|---|---|---|\n"
        )
        parts.extend(f"| `{role}` | {zh} | {en} |\n" for role, (zh, en) in table.items())
    parts.append("\n### `CHANNEL_PREFS` (接收渠道)\n\n| key | 中文 | English |\n|---|---|---|\n")
    parts.extend(
        f"| `{key}` | {cell(zh)} | {cell(en)} |\n" for key, (zh, en) in CHANNEL_PREFS.items()
    )
    parts.append(
        "\n### `Sentence` (whole sentences: prompts, confirmations, refusals)\n\n"
        "| key | 中文 | English |\n|---|---|---|\n"
    )
    parts.extend(f"| `{key}` | {cell(zh)} | {cell(en)} |\n" for key, (zh, en) in SENTENCES.items())
    parts.append(
        "\n### `ImportWord` (the import's sentences: file, header and row problems, summary)\n\n"
        "| key | 中文 | English |\n|---|---|---|\n"
    )
    parts.extend(
        f"| `{key}` | {cell(zh)} | {cell(en)} |\n" for key, (zh, en) in IMPORT_WORDS.items()
    )
    for kind, columns in IMPORT_COLUMNS.items():
        name = IMPORT_KINDS[kind]
        parts.append(
            f"\n### `IMPORT_COLUMNS[{kind!r}]` (导入{name.zh}的列)\n\n"
            "| code | 表头 | also accepted | required | 说明 | note |\n|---|---|---|---|---|---|\n"
        )
        parts.extend(
            f"| `{c.code}` | {c.zh} | {'、'.join(c.aliases)} | {'✓' if c.required else ''} "
            f"| {cell(c.note.zh)} | {cell(c.note.en)} |\n"
            for c in columns
        )
    parts.append(
        "\n### `Told` (an item's history, `supervision.history`)\n\n"
        "| key | 中文 | English |\n|---|---|---|\n"
    )
    parts.extend(f"| `{key}` | {cell(zh)} | {cell(en)} |\n" for key, (zh, en) in HISTORY.items())
    return "".join(parts)


def cell(text: str) -> str:
    """A sentence as one table cell: its line breaks shown, its bars escaped."""
    return text.replace("|", "\\|").replace("\n", "<br>")


def main() -> None:
    text = PAGE.read_text(encoding="utf-8")
    head = text.split(HEADING, 1)[0]
    PAGE.write_text(head + catalogue_section(), encoding="utf-8")


if __name__ == "__main__":
    main()
