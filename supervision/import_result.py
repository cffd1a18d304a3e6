"""What an import found and did: its header read into column codes, row errors said in the
reader's language (naming the column as the file headed it), and the summary of the counts
and of the deadlines that are computed or provisional.

The row rules are `supervision.importing`'s; the words are the catalogue's
(`supervision.import_words`, `supervision.import_columns`). Imports those, `supervision.errors`
and `supervision.tabular` and `supervision.items` (the outcome of a save) only.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum

from supervision.errors import DomainError
from supervision.import_columns import (
    IMPORT_COLUMNS,
    IMPORT_KINDS,
    accepted_headers,
    column_name,
    column_of,
)
from supervision.import_words import Both, ImportWord, say_import
from supervision.items import SaveOutcome
from supervision.labels import Problem, say
from supervision.phrases import lang_of
from supervision.tabular import Table

__all__ = ["ImportKind", "ImportResult", "RowError", "RowErrors", "read_header"]

#: deadlines listed by name in a summary; the rest are counted
LISTED: int = 10


class ImportKind(StrEnum):
    """What a file holds."""

    UNITS = "units"
    PEOPLE = "people"
    ITEMS = "items"
    MILESTONES = "milestones"  # 阶段性节点, keyed by the item's 文号


@dataclass(frozen=True, slots=True)
class RowError:
    """One problem in one row (the header is row 1): ``row N, column: reason``.

    ``reason`` is English and ``zh`` Chinese (empty when the reason is only worded once);
    ``written`` is the column's header as the file gave it, and ``zh_column`` its Chinese
    name when the file did not give it (a missing column).
    """

    row: int
    column: str
    reason: str
    zh: str = ""
    written: str = ""
    zh_column: str = ""

    def column_in(self, locale: str | None) -> str:
        """The column as the reader knows it: as written, else in their language."""
        if self.written:
            return self.written
        return self.column if lang_of(locale) == "en" else self.zh_column or self.column

    def reason_in(self, locale: str | None) -> str:
        """The reason in ``locale``."""
        return self.reason if lang_of(locale) == "en" else self.zh or self.reason

    def said(self, locale: str | None) -> str:
        """``第 3 行，完成时限：…`` / ``row 3, due_on: …``."""
        return say_import(
            ImportWord.ROW,
            locale,
            row=self.row,
            column=self.column_in(locale),
            reason=self.reason_in(locale),
        )

    def __str__(self) -> str:
        return self.said("en")


class RowErrors:
    """The row errors found while checking a ``kind`` file, each naming its column as the
    file headed it."""

    def __init__(self, kind: str, table: Table | None = None) -> None:
        self.kind = kind
        self.errors: list[RowError] = []
        self._written: dict[str, str] = (
            dict(zip(table.columns, table.headers, strict=True)) if table is not None else {}
        )

    def __len__(self) -> int:
        return len(self.errors)

    def add(self, row: int, column: str, word: ImportWord, **values: object) -> None:
        """A problem worded by the catalogue."""
        self.add_said(row, column, word, values)

    def add_said(
        self,
        row: int,
        column: str,
        word: ImportWord,
        values: Mapping[str, object],
        *,
        written: str | None = None,
    ) -> None:
        """A problem worded by the catalogue, with its values given as a mapping."""
        en, zh = say_import(word, "en", **values), say_import(word, "zh", **values)
        self.add_text(row, column, en, zh, written=written)

    def add_problem(self, row: int, column: str, problem: Problem) -> None:
        """A refusal the domain words as a catalogue sentence (`supervision.labels.Problem`)."""
        sentence, values = problem
        self.add_text(row, column, say(sentence, "en", **values), say(sentence, "zh", **values))

    def add_refused(self, row: int, column: str, error: DomainError) -> None:
        """A use-case's refusal, in both languages when the catalogue words it."""
        if error.said is None:
            self.add_text(row, column, str(error))
        else:
            self.add_text(row, column, error.said("en"), error.said("zh"))

    def add_text(
        self, row: int, column: str, reason: str, zh: str = "", *, written: str | None = None
    ) -> None:
        """A problem given as text (``zh`` empty: said the same in both languages)."""
        if written is None:
            written = self._written.get(column, "")
        zh_column = column_name(self.kind, column, "zh") if self.kind in IMPORT_COLUMNS else ""
        self.errors.append(RowError(row, column, reason, zh, written, zh_column))

    def written_as(self, table: Table) -> None:
        """Name the columns as ``table`` heads them from now on."""
        self._written = dict(zip(table.columns, table.headers, strict=True))


def read_header(kind: str, table: Table, errs: RowErrors) -> Table:
    """The table with its columns named by their codes (a Chinese or English header each);
    an unknown header, a column given twice or a required one missing is a row-1 error."""
    columns = IMPORT_COLUMNS[kind]
    codes: list[str] = []
    first: dict[str, str] = {}
    for header in table.headers:
        code = column_of(kind, header)
        if code is None:
            accepted = Both(accepted_headers(kind, "zh"), accepted_headers(kind, "en"))
            errs.add_said(
                1, header, ImportWord.UNKNOWN_COLUMN, {"accepted": accepted}, written=header
            )
            codes.append(header)
            continue
        if code in first:
            other = {"other": first[code]}
            errs.add_said(1, code, ImportWord.SAME_COLUMN_TWICE, other, written=header)
        first.setdefault(code, header)
        codes.append(code)
    renamed = table.renamed(codes) if len(set(codes)) == len(codes) else table
    errs.written_as(renamed)
    expected = Both("、".join(c.zh for c in columns), ", ".join(c.code for c in columns))
    for column in columns:
        if column.required and column.code not in first:
            errs.add(1, column.code, ImportWord.MISSING_COLUMN, expected=expected)
    return renamed


@dataclass(slots=True)
class ImportResult:
    """What an import did (or, for a dry run or on errors, would have done)."""

    kind: str
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[RowError] = field(default_factory=list)
    dry_run: bool = False
    #: open items whose deadline the policy computed (no 完成时限 given): 计算所得
    computed: list[tuple[str, date]] = field(default_factory=list)
    #: open items whose deadline uses the fallback calendar: 待确认
    provisional: list[tuple[str, date]] = field(default_factory=list)
    fallback_years: list[int] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when every row was accepted."""
        return not self.errors

    @property
    def written(self) -> bool:
        """True when the changes were kept (the caller still commits)."""
        return self.ok and not self.dry_run

    def tally(self, outcome: SaveOutcome) -> None:
        """Count one saved row."""
        if outcome is SaveOutcome.CREATED:
            self.created += 1
        elif outcome is SaveOutcome.UPDATED:
            self.updated += 1
        else:
            self.unchanged += 1

    @property
    def provisional_refs(self) -> list[str]:
        """The 文号 of the items with a provisional deadline."""
        return [ref for ref, _ in self.provisional]

    def summary(self, locale: str | None = "en") -> str:
        """One line for people, in ``locale``."""
        kind = IMPORT_KINDS.get(self.kind, Both(self.kind, self.kind))
        if self.errors:
            bad = len({e.row for e in self.errors})
            return say_import(
                ImportWord.BAD_ROWS,
                locale,
                kind=kind,
                bad=bad,
                rows=self.rows,
                problems=len(self.errors),
            )
        text = say_import(
            ImportWord.SUMMARY,
            locale,
            kind=kind,
            rows=self.rows,
            created=self.created,
            updated=self.updated,
            unchanged=self.unchanged,
        )
        return text + (say_import(ImportWord.DRY_RUN, locale) if self.dry_run else "")

    def deadline_notes(self, locale: str | None = "en") -> list[str]:
        """A line each for the computed and the provisional deadlines, naming the first items."""
        notes: list[str] = []
        for word, found in (
            (ImportWord.COMPUTED_DUE, self.computed),
            (ImportWord.PROVISIONAL_DUE, self.provisional),
        ):
            if not found:
                continue
            glue = ", " if lang_of(locale) == "en" else "、"
            refs = glue.join(f"{ref} ({day.isoformat()})" for ref, day in found[:LISTED])
            years = glue.join(map(str, self.fallback_years))
            more = " …" if len(found) > LISTED else ""
            notes.append(say_import(word, locale, n=len(found), refs=refs + more, years=years))
        return notes
