"""节点按期率 (issue #12 §4) in the bulletin's XLSX export and in the 督查通报 message sent to
groups and people, for the annual tasks' milestones."""

from __future__ import annotations

from datetime import date, datetime
from io import BytesIO
from zoneinfo import ZoneInfo

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from duban.commands.bulletin import format_table
from models import Milestone, Notification, Role, Source
from notifier.delivery import Deliverer
from notifier.template_store import DbTemplateStore
from notifier.templating import Renderer, sample_context
from supervision.audit import Actor
from supervision.bulletins import compute_bulletin, freeze_bulletin, send_bulletin
from supervision.calendar import WorkCalendar
from supervision.periods import parse_period
from testing import factories as f
from testing.notifier_support import limiter_for, options, registry
from web.bulletin_export import render_html, render_xlsx

TZ = ZoneInfo("Asia/Shanghai")
CAL = WorkCalendar()


def _local(y: int, m: int, d: int) -> datetime:
    return datetime(y, m, d, 10, 0, tzinfo=TZ)


async def _annual_tasks(session) -> None:
    """甲厅: one milestone on time, one late, one open past its date (1/3); 乙厅: one on time."""
    a = await f.unit(session, code="MA", name="甲厅")
    b = await f.unit(session, code="MB", name="乙厅")
    task = await f.item(
        session, source=Source.ANNUAL_TASK, received_on=date(2026, 10, 1), due_on=date(2026, 12, 31)
    )
    other = await f.item(session, received_on=date(2026, 10, 1), due_on=date(2026, 12, 31))
    await f.assignment(session, item=task, unit=a)

    def stage(item, unit, due: date, done: datetime | None = None) -> Milestone:
        return Milestone(
            item_id=item.id,
            name=f"节点{due}",
            due_on=due,
            unit_id=unit.id,
            state="done" if done else "open",
            completed_at=done,
        )

    session.add_all(
        [
            stage(task, a, date(2026, 11, 10), _local(2026, 11, 9)),
            stage(task, a, date(2026, 11, 10), _local(2026, 11, 12)),
            stage(task, a, date(2026, 11, 20)),
            stage(task, b, date(2026, 11, 25), _local(2026, 11, 25)),
            stage(other, b, date(2026, 11, 10)),  # not an annual task: not counted
        ]
    )
    await session.flush()


async def test_the_xlsx_export_has_a_milestone_punctuality_sheet(session):
    await _annual_tasks(session)
    data = await compute_bulletin(
        session, parse_period("2026-11"), today=date(2026, 12, 5), calendar=CAL, tz=TZ
    )
    wb = load_workbook(BytesIO(render_xlsx(data.as_json(), office_name="督查室")))
    assert wb.sheetnames == ["通报", "逾期事项", "节点按期率"]
    rows = [[c.value for c in row] for row in wb["节点按期率"].iter_rows()]
    assert rows[1] == ["单位", "完成节点", "按期完成", "逾期完成", "逾期未完成", "节点按期率"]
    assert rows[2] == ["乙厅", 1, 1, 0, 0, 1]
    assert rows[3][:5] == ["甲厅", 2, 1, 1, 1] and rows[3][5] == pytest.approx(1 / 3)
    assert rows[4] == ["合计", 3, 2, 1, 1, 0.5]
    assert wb["节点按期率"].cell(row=3, column=6).number_format == "0.0%"


async def test_the_printable_bulletin_and_the_cli_show_milestone_punctuality(session):
    await _annual_tasks(session)
    data = await compute_bulletin(
        session, parse_period("2026-11"), today=date(2026, 12, 5), calendar=CAL, tz=TZ
    )
    html = render_html(data.as_json(), office_name="督查室")
    section = html[html.index("年度重点工作节点按期率") :]
    assert section.index("乙厅") < section.index("甲厅")  # best rate first
    assert "33.3%" in section and "50.0%" in section
    text = format_table(data)
    assert "年度重点工作节点按期率:" in text
    assert "甲厅: 完成节点 2, 按期完成 1, 逾期完成 1, 逾期未完成 1, 节点按期率 33.3%" in text
    assert "合计: 完成节点 3, 按期完成 2, 逾期完成 1, 逾期未完成 1, 节点按期率 50.0%" in text


async def test_a_bulletin_without_judged_milestones_has_no_such_sheet(session):
    unit = await f.unit(session, name="单位")
    item = await f.item(session, received_on=date(2026, 10, 1), due_on=date(2026, 11, 20))
    await f.assignment(session, item=item, unit=unit)
    data = await compute_bulletin(
        session, parse_period("2026-11"), today=date(2026, 12, 5), calendar=CAL, tz=TZ
    )
    wb = load_workbook(BytesIO(render_xlsx(data.as_json(), office_name="督查室")))
    assert wb.sheetnames == ["通报", "逾期事项"]
    frozen_before = dict(data.as_json())
    frozen_before.pop("milestones")  # a bulletin frozen before milestones were counted
    wb = load_workbook(BytesIO(render_xlsx(frozen_before, office_name="督查室")))
    assert wb.sheetnames == ["通报", "逾期事项"]


@pytest.mark.parametrize("locale", ["zh", "en"])
async def test_the_bulletin_message_states_milestone_punctuality(sessions, clock, locale):
    async with sessions() as s:
        await _annual_tasks(s)
        supervisor = await f.person(s, roles={Role.SUPERVISOR}, telegram_user_id=321, locale=locale)
        data = await compute_bulletin(
            s, parse_period("2026-11"), today=date(2026, 12, 5), calendar=CAL, tz=TZ
        )
        bulletin = await freeze_bulletin(s, data, actor=Actor.system(), clock=clock)
        await send_bulletin(
            s, bulletin, [supervisor], actor=Actor.system(), clock=clock, calendar=CAL, tz=TZ
        )
        await s.commit()
    await Deliverer(
        sessions,
        channels=registry(),
        renderer=Renderer(DbTemplateStore(sessions)),
        clock=clock,
        limiter=limiter_for(clock),
        options=options(),
    ).deliver_due()
    async with sessions() as s:
        rows = (await s.scalars(select(Notification))).all()
    assert rows and {r.status for r in rows} == {"sent"}, [r.last_error for r in rows]
    heading = "年度重点工作节点按期率" if locale == "zh" else "Milestone punctuality"
    line = "节点按期率33.3%" if locale == "zh" else "on-time rate 33.3%"
    for row in rows:
        if row.channel == "log":
            continue  # the one-line log text names the bulletin only
        text = row.body_text
        assert heading in text and "甲厅" in text and "乙厅" in text, (row.channel, text)
        if row.channel != "email":
            assert line in text, (row.channel, text)


@pytest.mark.parametrize("channel", ["wecom", "dingtalk", "feishu", "telegram", "email"])
async def test_the_group_robots_and_chat_bulletin_text_lists_milestone_punctuality(channel):
    message = await Renderer().render("bulletin", channel, "zh", sample_context("bulletin"))
    text = message.html if channel == "email" and message.html else message.text
    assert "四、年度重点工作节点按期率" in text
    assert "市交通运输局" in text and "25.0%" in text and "62.5%" in text
