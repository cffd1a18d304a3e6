"""The XLSX import templates (导入模板): headers in the office's language, an example row that
imports as it is, a note on every header and a 说明 sheet."""

from __future__ import annotations

import io

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from models import Item, Milestone, Person, Role, Unit
from supervision.audit import Actor
from supervision.import_columns import IMPORT_COLUMNS
from supervision.importing import import_rows
from supervision.policy import ensure_default_policies
from supervision.tabular import read_table
from testing import factories as f
from web.import_template import template_filename, template_xlsx

ACTOR = Actor.system("import")


@pytest.mark.parametrize("locale", ["zh", "en"])
@pytest.mark.parametrize("kind", list(IMPORT_COLUMNS))
def test_a_template_has_headers_notes_an_example_and_a_notes_sheet(kind, locale) -> None:
    book = load_workbook(io.BytesIO(template_xlsx(kind, locale)))
    data, notes = book.worksheets
    columns = IMPORT_COLUMNS[kind]
    header = [cell.value for cell in data[1]]
    assert header == [c.code if locale == "en" else c.zh for c in columns]
    example = [cell.value or "" for cell in data[2]]
    if locale == "zh":
        assert example == [c.example for c in columns]
    for cell, column in zip(data[1], columns, strict=True):
        assert cell.comment is not None
        note = column.note.en if locale == "en" else column.note.zh
        assert note in cell.comment.text
        words = ("Required", "Optional") if locale == "en" else ("必填", "选填")
        assert cell.comment.text.startswith(words[0] if column.required else words[1])
    assert data.max_row == 2  # the text format of the rows below adds no rows
    assert notes.title == ("Notes" if locale == "en" else "说明")
    listed = [row[0] for row in notes.iter_rows(min_row=3, values_only=True)]
    assert listed == header
    assert template_filename(kind, locale).endswith(".xlsx")
    offered = {
        str(v.sqref).split(":")[0]: v.formula1.strip('"').split(",")
        for v in data.data_validations.dataValidation
    }
    letters = {c.code: "ABCDEFGHIJKLMN"[i] for i, c in enumerate(columns)}
    expected = {"items": {"source", "urgent"}, "people": {"locale"}}.get(kind, set())
    assert set(offered) == {f"{letters[code]}2" for code in expected}
    for code in expected:  # the drop-down offers the example's value
        value = example[list(letters).index(code)]
        assert value in offered[f"{letters[code]}2"], (code, value, offered)


async def test_each_template_imports_as_it_is(session, clock) -> None:
    """The example rows are one office: its unit 江宁区 under 南京市, 张伟 its 责任人, an item
    and a milestone of it; with the parent unit and two more people in place, each template
    imports cleanly, in either language."""
    await ensure_default_policies(session)
    parent = await f.unit(session, code="3201", name="南京市人民政府")
    other = await f.unit(session, code="320116", name="六合区人民政府", parent=parent)
    await f.person(
        session, name="李华", email="lihua@example.gov.cn", unit=parent, roles={Role.LEADER}
    )
    await f.person(session, name="王芳", email="wangfang@example.gov.cn", unit=other)
    await session.commit()
    for kind in ("units", "people", "items", "milestones"):
        for locale in ("en", "zh"):
            table = read_table(template_xlsx(kind, locale), template_filename(kind, locale))
            result = await import_rows(
                session, kind, table, dry_run=locale == "en", actor=ACTOR, clock=clock
            )
            assert result.ok, (kind, locale, [e.said(locale) for e in result.errors])
            assert result.rows == 1
            if locale == "zh":
                assert result.created == 1, (kind, result.summary("zh"))
                await session.commit()
    unit = await session.scalar(select(Unit).where(Unit.code == "320115"))
    assert unit is not None and unit.parent_id == parent.id
    person = await session.scalar(select(Person).where(Person.email == "zhangwei@example.gov.cn"))
    assert person is not None and person.unit_id == unit.id
    assert person.roles == {Role.OWNER, Role.LIAISON}
    item = await session.scalar(select(Item).where(Item.ref == "督〔2026〕1号"))
    assert item is not None and item.title == "推进老旧小区改造"
    milestone = await session.scalar(select(Milestone).where(Milestone.item_id == item.id))
    assert milestone is not None and milestone.name == "完成方案制定"
