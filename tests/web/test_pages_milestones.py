"""The milestones section of the item page: shown with lights, managed by the office only."""

from __future__ import annotations

import re

from sqlalchemy import select

from models import Milestone, Report
from tests.web.conftest import Seed, Web
from tests.web.test_pages_import_calendar import upload


async def test_a_supervisor_adds_edits_and_completes_milestones_on_the_item_page(
    as_supervisor: Web, seed: Seed, sessions
) -> None:
    page = await (await as_supervisor.get(f"/items/{seed.item_a}")).text()
    assert "阶段性节点" in page and "新增节点" in page
    form = {"name": "完成调研", "due_on": "2026-11-04", "unit_id": str(seed.unit_a)}
    response = await as_supervisor.post(f"/items/{seed.item_a}/milestones", form)
    assert response.status == 303
    async with sessions() as s:
        [m] = (await s.scalars(select(Milestone))).all()
    page = await (await as_supervisor.get(f"/items/{seed.item_a}")).text()
    row = page.split(f'id="milestone-{m.id}"', 1)[1].split("</tr>", 1)[0]
    assert "完成调研" in row and 'class="light yellow"' in row and "进行中" in row
    response = await as_supervisor.post(
        f"/items/{seed.item_a}/milestones/{m.id}/edit", {**form, "name": "完成专题调研"}
    )
    assert response.status == 303
    response = await as_supervisor.post(f"/items/{seed.item_a}/milestones/{m.id}/done")
    assert response.status == 303
    page = await (await as_supervisor.get(f"/items/{seed.item_a}")).text()
    row = page.split(f'id="milestone-{m.id}"', 1)[1].split("</tr>", 1)[0]
    assert "完成专题调研" in row and 'class="light grey"' in row and "完成于 2026-11-02" in row


async def test_a_bad_milestone_form_names_every_problem_and_changes_nothing(
    as_supervisor: Web, seed: Seed, sessions
) -> None:
    response = await as_supervisor.post(
        f"/items/{seed.item_a}/milestones",
        {"name": "", "due_on": "2027-03-01", "unit_id": str(seed.unit_a), "owner_id": "x"},
    )
    assert response.status == 400
    text = await response.text()
    assert "name: must not be empty" in text and "owner_id: must be a positive integer" in text
    response = await as_supervisor.post(
        f"/items/{seed.item_a}/milestones",
        {"name": "验收", "due_on": "2027-03-01", "unit_id": str(seed.unit_a)},
    )
    assert response.status == 400
    assert "晚于事项完成时限" in await response.text()
    async with sessions() as s:
        assert (await s.scalars(select(Milestone))).all() == []


async def test_only_the_office_manages_milestones_and_only_through_their_item(
    as_supervisor: Web, as_liaison: Web, as_viewer: Web, seed: Seed, sessions
) -> None:
    form = {"name": "调研", "due_on": "2026-11-20", "unit_id": str(seed.unit_a)}
    for web in (as_liaison, as_viewer):
        assert (await web.post(f"/items/{seed.item_a}/milestones", form)).status == 403
    page = await (await as_liaison.get(f"/items/{seed.item_a}")).text()
    assert "新增节点" not in page
    assert (await as_supervisor.post(f"/items/{seed.item_a}/milestones", form)).status == 303
    async with sessions() as s:
        [m] = (await s.scalars(select(Milestone))).all()
    wrong = await as_supervisor.post(f"/items/{seed.item_b}/milestones/{m.id}/done")
    assert wrong.status == 404
    assert "阶段性节点不存在" in await wrong.text()
    no_token = await as_supervisor.post(
        f"/items/{seed.item_a}/milestones/{m.id}/done", {}, csrf=False
    )
    assert no_token.status == 403
    async with sessions() as s:
        assert (await s.get_one(Milestone, m.id)).state == "open"


async def test_the_import_page_takes_a_milestones_file_after_a_dry_run(
    as_supervisor: Web, seed: Seed, sessions
) -> None:
    csv = "ref,name,due_on,unit\n督〔2026〕1号,完成调研,2026-11-20,A\n"
    response = await as_supervisor.post(
        "/import", upload("milestones", csv, "milestones.csv", as_supervisor.token())
    )
    assert response.status == 200, await response.text()
    payload = re.search(r'name="payload" value="([^"]+)"', await response.text())
    assert payload is not None
    async with sessions() as s:
        assert (await s.scalars(select(Milestone))).all() == []  # a dry run writes nothing
    response = await as_supervisor.post(
        "/import",
        {"action": "commit", "kind": "milestones", "filename": "m.csv", "payload": payload[1]},
    )
    assert response.status == 200
    assert "阶段性节点：共 1 行，新增 1，更新 0，未变 0" in await response.text()
    async with sessions() as s:
        [m] = (await s.scalars(select(Milestone))).all()
    assert (m.item_id, m.name, m.unit_id) == (seed.item_a, "完成调研", seed.unit_a)
    bad = "ref,name,due_on,unit\n督〔2026〕1号,验收,2026-11-20,ZZ\n"
    response = await as_supervisor.post(
        "/import", upload("milestones", bad, "bad.csv", as_supervisor.token())
    )
    assert response.status == 400
    assert "没有代码为“ZZ”的单位" in await response.text()


async def test_a_unit_reports_on_a_milestone_from_the_item_page(
    as_supervisor: Web, as_liaison: Web, seed: Seed, sessions
) -> None:
    form = {"name": "完成调研", "due_on": "2026-11-20", "unit_id": str(seed.unit_a)}
    assert (await as_supervisor.post(f"/items/{seed.item_a}/milestones", form)).status == 303
    async with sessions() as s:
        [m] = (await s.scalars(select(Milestone))).all()
    page = await (await as_liaison.get(f"/items/{seed.item_a}")).text()
    assert f'<option value="{m.id}">完成调研 (2026-11-20)</option>' in page
    response = await as_liaison.post(
        f"/items/{seed.item_a}/assignments/{seed.assignment_a}/report",
        {"kind": "progress", "text": "调研报告已形成", "milestone_id": str(m.id)},
    )
    assert response.status == 303
    async with sessions() as s:
        [report] = (await s.scalars(select(Report))).all()
    assert report.milestone_id == m.id
