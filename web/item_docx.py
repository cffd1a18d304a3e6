"""An item's 督办单 (supervision sheet) and 催办单 (urging sheet) as DOCX, to print and sign.

The sheet lists the item as the office gives it to its units (文号, 事项, 要求, 交办时间, 时限,
牵头领导, 责任单位（主办/协办）, 责任人) with a 签收栏 to sign; the 催办单 adds where the item
stands (state, light, working days left or overdue, latest progress). `sheet_of` reads an
item with its assignments into plain values; `render_sheet` lays them out with
`web.docx_layout`. Words come from the catalogue (`supervision.labels`) and `web.i18n`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Final
from zoneinfo import ZoneInfo

from docx.enum.text import WD_ALIGN_PARAGRAPH

from models import AssignmentRole, Item, ItemState, Source
from supervision.calendar import WorkCalendar
from supervision.deadlines import days_left
from supervision.labels import Document, days_phrase, label, label_of
from supervision.light import Light
from web.docx_layout import (
    BODY,
    HEADING,
    SIZE,
    TITLE,
    dated_line,
    file_safe,
    new_office_document,
    paragraph,
    saved,
    table,
    written_date,
)
from web.i18n import translate

__all__ = ["SHEETS", "ItemSheet", "SheetUnit", "render_sheet", "sheet_name", "sheet_of"]

#: the documents an item has, by their URL word
SHEETS: Final = {"supervision": Document.SUPERVISION_SHEET, "urging": Document.URGING_SHEET}


@dataclass(frozen=True, slots=True)
class SheetUnit:
    """One unit the item is given to, as the sheet names it."""

    name: str
    role: AssignmentRole
    owner: str
    leader: str


@dataclass(frozen=True, slots=True)
class ItemSheet:
    """What a 督办单 / 催办单 says, as plain values."""

    kind: Document
    office_name: str
    ref: str
    title: str
    source: Source
    requirement: str
    assigned_on: date
    due_on: date  # the deadline in force
    urgent: bool
    units: tuple[SheetUnit, ...]
    state: ItemState
    light: Light
    days_left: int  # working days; negative when overdue
    latest: tuple[date, str] | None  # the latest report: its day and text
    made_on: date


def sheet_of(
    item: Item,
    kind: Document,
    *,
    due_on: date,
    light: Light,
    latest: tuple[date, str] | None,
    today: date,
    calendar: WorkCalendar,
    tz: ZoneInfo,
    office_name: str,
) -> ItemSheet:
    """The sheet of ``item`` (its assignments, units and people loaded), lead units first."""
    active = [a for a in item.assignments if a.state != ItemState.CANCELLED]
    active.sort(key=lambda a: (a.role != AssignmentRole.LEAD, a.id))
    given = [a.assigned_at.astimezone(tz).date() for a in active if a.assigned_at is not None]
    requirement = "\n".join(text for text in (item.objective, item.content) if text.strip())
    return ItemSheet(
        kind=kind,
        office_name=office_name,
        ref=item.ref,
        title=item.title,
        source=Source(item.source),
        requirement=requirement,
        assigned_on=min(given, default=item.received_on),
        due_on=due_on,
        urgent=item.urgent,
        units=tuple(
            SheetUnit(
                a.unit.name,
                AssignmentRole(a.role),
                a.owner.name if a.owner else "",
                a.leader.name if a.leader else "",
            )
            for a in active
        ),
        state=ItemState(item.state),
        light=light,
        days_left=days_left(today, due_on, calendar),
        latest=latest,
        made_on=today,
    )


def sheet_name(sheet: ItemSheet, lang: str) -> str:
    """The download's name: 督办单-督〔2026〕1号.docx."""
    return f"{label(sheet.kind, lang, alone=True)}-{file_safe(sheet.ref)}.docx"


def _timing(sheet: ItemSheet, lang: str) -> str:
    """剩余3个工作日 / 已逾期2个工作日; a closed or cancelled item's state instead."""
    if sheet.state in (ItemState.CLOSED, ItemState.CANCELLED):
        return label(sheet.state, lang)
    return days_phrase(sheet.days_left, lang)


def _rows(sheet: ItemSheet, lang: str) -> list[tuple[str, str]]:
    """(heading, value) of each line of the form."""

    def t(key: str, **values: object) -> str:
        return translate(key, lang, **values)

    glue = ", " if lang == "en" else "、"
    by_role = {
        role: glue.join(u.name for u in sheet.units if u.role == role) for role in AssignmentRole
    }
    units = "\n".join(
        f"{label(role, lang, alone=True)}: {names}" if lang == "en" else f"{label(role)}：{names}"
        for role, names in by_role.items()
        if names
    )
    owners = glue.join(
        f"{u.owner} ({u.name})" if lang == "en" else f"{u.owner}（{u.name}）"
        for u in sheet.units
        if u.owner
    )
    leaders = glue.join(dict.fromkeys(u.leader for u in sheet.units if u.leader))
    due = written_date(sheet.due_on, lang)
    if sheet.urgent:
        due += f" ({t('items.urgent')})" if lang == "en" else f"（{t('items.urgent')}）"
    rows = [
        (t("doc.ref"), sheet.ref),
        (t("doc.matter"), sheet.title),
        (t("doc.source"), label(sheet.source, lang, alone=True)),
        (t("doc.requirement"), sheet.requirement or t("doc.none")),
        (t("doc.assigned_on"), written_date(sheet.assigned_on, lang)),
        (t("doc.due"), due),
        (t("doc.leader"), leaders or t("doc.none")),
        (t("doc.units"), units or t("doc.none")),
        (t("doc.owners"), owners or t("doc.none")),
    ]
    if sheet.kind == Document.URGING_SHEET:
        state = f"{label(sheet.state, lang, alone=True)} · {label(sheet.light, lang, alone=True)}"
        latest = t("doc.none")
        if sheet.latest is not None:
            latest = f"{written_date(sheet.latest[0], lang)}: {sheet.latest[1]}"
        rows += [
            (t("doc.state"), state),
            (t("doc.timing"), _timing(sheet, lang)),
            (t("doc.latest"), latest),
        ]
    return rows


def render_sheet(sheet: ItemSheet, lang: str) -> bytes:
    """The sheet as a .docx file: office, title, the form, the note, the 签收栏, the date."""
    title = label(sheet.kind, lang, alone=True)
    doc = new_office_document(
        title=f"{title} {sheet.ref}", author=sheet.office_name, created=sheet.made_on
    )
    center = WD_ALIGN_PARAGRAPH.CENTER
    paragraph(doc, sheet.office_name, face=HEADING, size=SIZE["三号"], align=center)
    spaced = title if lang == "en" else "　".join(title)
    paragraph(doc, spaced, face=TITLE, size=SIZE["二号"], align=center, line=44)
    table(
        doc,
        [],
        [[h, v] for h, v in _rows(sheet, lang)],
        size=SIZE["四号"],
        widths_mm=[38, 118],
        label_column=True,
        row_height=21,
    )
    if sheet.kind == Document.URGING_SHEET:
        note = translate("doc.urge_note", lang, timing=_timing(sheet, lang))
    else:
        note = translate("doc.sheet_note", lang)
    paragraph(doc, note, indent=True, before=8)
    receipt = paragraph(doc, translate("doc.receipt", lang), face=HEADING, before=8)
    receipt.paragraph_format.keep_with_next = True
    blank = translate("doc.blank_date", lang)
    table(
        doc,
        [translate(f"doc.receipt_{k}", lang) for k in ("unit", "person", "date")],
        [
            [
                f"{u.name} ({label(u.role, lang)})"
                if lang == "en"
                else f"{u.name}（{label_of(AssignmentRole, u.role)}）",
                "",
                blank,
            ]
            for u in sheet.units
        ]
        or [["", "", blank]],
        size=SIZE["四号"],
        widths_mm=[60, 40, 56],
        row_height=27,
    )
    right = WD_ALIGN_PARAGRAPH.RIGHT
    paragraph(doc, sheet.office_name, align=right, before=10)
    paragraph(doc, dated_line(sheet.made_on, lang), align=right, face=BODY)
    return saved(doc)
