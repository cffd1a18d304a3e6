"""The XLSX template of an import (导入模板): the headers in a language, an example row, a
note on each header and a 说明 sheet, written from the catalogue's `IMPORT_COLUMNS`.

The first sheet is the one the import reads, so the template imports as it is once its
example row is real. A column of a closed list (来源, 急件, 语言) offers it as a drop-down.
Imports `models`, `supervision.import_columns`, `supervision.import_values`,
`supervision.labels`, `supervision.tabular` (its row limit) and `web.xlsx` only.
"""

from __future__ import annotations

import io
from typing import Final

from models import Source
from supervision.import_columns import IMPORT_COLUMNS, IMPORT_KINDS, ImportColumn
from supervision.import_values import SOURCE_ALIASES, parse_bool
from supervision.labels import labels
from supervision.phrases import lang_of
from supervision.tabular import MAX_ROWS
from web.xlsx import Style, Styled, Workbook, column_letter

__all__ = ["XLSX_TYPE", "template_filename", "template_xlsx"]

XLSX_TYPE: Final = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

_REQUIRED: Final = Style(bold=True, fill="FDE9D9")
_OPTIONAL: Final = Style(bold=True, fill="EAF1FB")
_BOLD: Final = Style(bold=True)
_WRAP: Final = Style(wrap=True, vertical="top")
#: text, so that codes keep their leading zeros
_TEXT: Final = Style(number_format="@")

#: the template's own words, by language: (中文, English)
_WORDS: Final = {
    "notes": ("说明", "Notes"),
    "column": ("列名", "Column"),
    "required": ("必填", "Required"),
    "optional": ("选填", "Optional"),
    "note": ("填写说明", "What goes in it"),
    "example": ("示例", "Example"),
    "also": ("也可写作", "Also accepted"),
    "howto": (
        "第一张表的第 2 行是示例，请改为实际内容或删除后再填写；列名可用中文或英文，"
        "文件可另存为 CSV（UTF-8 或 GBK）。导入时先检查，全部无误才写入。",
        "Row 2 of the first sheet is an example: make it real or delete it. Headers may be "
        "Chinese or English; the file may also be saved as CSV (UTF-8 or GBK). An import is "
        "checked first and written only when every row is right.",
    ),
}


def _word(key: str, en: bool) -> str:
    zh_text, en_text = _WORDS[key]
    return en_text if en else zh_text


def _header(column: ImportColumn, en: bool) -> str:
    return column.code if en else column.zh


def _choices(code: str, en: bool) -> tuple[str, ...]:
    """The values a column takes from a closed list, as the template offers them (all are
    read by the import): sources by their Chinese label or code, yes/no, a language."""
    if code == "source":
        return tuple(labels(Source, "zh").values()) if not en else tuple(s.value for s in Source)
    if code == "urgent":
        return ("否", "是") if not en else ("no", "yes")
    if code == "locale":
        return ("zh", "en")
    return ()


def _example(column: ImportColumn, en: bool) -> str:
    """The example value as the template in that language offers it (a source by its code and
    yes/no in English, as the drop-downs do)."""
    if en and column.code == "source":
        return SOURCE_ALIASES[column.example].value
    if en and column.code == "urgent":
        return "yes" if parse_bool(column.example) else "no"
    return column.example


def template_filename(kind: str, locale: str | None) -> str:
    """``导入模板-督查事项.xlsx`` / ``import-template-items.xlsx``."""
    if lang_of(locale) == "en":
        return f"import-template-{kind}.xlsx"
    return f"导入模板-{IMPORT_KINDS[kind].zh}.xlsx"


def template_xlsx(kind: str, locale: str | None) -> bytes:
    """The template of a ``kind`` import with its headers in ``locale``."""
    en = lang_of(locale) == "en"
    columns = IMPORT_COLUMNS[kind]
    book = Workbook()
    kind_words = IMPORT_KINDS[kind]
    sheet = book.add_sheet(kind_words.en if en else kind_words.zh)
    sheet.append([Styled(_header(c, en), _REQUIRED if c.required else _OPTIONAL) for c in columns])
    # the example's cells are text, and so are the rows people add (a column style writes
    # no empty cells)
    sheet.append([Styled(_example(c, en), _TEXT) for c in columns])
    for index, column in enumerate(columns, start=1):
        letter = column_letter(index)
        need = _word("required" if column.required else "optional", en)
        note = column.note.en if en else column.note.zh
        sheet.comment(
            1, index, f"{need}：{note}" if not en else f"{need}: {note}", width=260, height=110
        )
        sheet.widths([max(12, 2 * len(_header(column, en)) + 6)], first=index)
        sheet.column_style(index, _TEXT)
        choices = _choices(column.code, en)
        if choices:
            sheet.choices(f"{letter}2:{letter}{MAX_ROWS}", choices)  # the rows the import reads
    sheet.freeze_rows(1)
    notes = book.add_sheet(_word("notes", en))
    notes.append([Styled(_word("howto", en), _WRAP)], height=48)
    notes.merge(1, 1, 1, 5)
    notes.append(
        [Styled(_word(key, en), _BOLD) for key in ("column", "required", "note", "example", "also")]
    )
    for column in columns:
        also = [column.zh, *column.aliases] if en else [column.code, *column.aliases]
        notes.append(
            [
                _header(column, en),
                _word("required" if column.required else "optional", en),
                column.note.en if en else column.note.zh,
                _example(column, en),
                ("、" if not en else ", ").join(also),
            ]
        )
    notes.widths([16, 8, 60, 26, 30])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
