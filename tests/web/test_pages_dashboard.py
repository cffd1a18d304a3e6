"""The supervisor's dashboard: the unit x light matrix and its links, the overdue items by
keyset with working days late, the on-time chart at 0 %, scope, and the reviews badge."""

from __future__ import annotations

import re
from datetime import date, datetime

import pytest

from models import (
    Assignment,
    AssignmentRole,
    Extension,
    Item,
    ItemState,
    Report,
    ReportKind,
    ReviewState,
    Unit,
)
from testing import SHANGHAI
from testing import factories as f
from tests.web.conftest import Seed, Web

# the clock: Monday 2026-11-02; Friday 10-30 is 1 working day back, Wednesday 10-28 is 3
CELL = re.compile(
    r'<a href="(/items\?unit=(\d+)&amp;light=(\w+))" data-light="\w+"(?: class="zero")?>(\d+)</a>'
)
DAYS_LATE = re.compile(r'<td class="num days-late" data-label="[^"]+">(\d+)</td>')
ROW = re.compile(r'<tr data-id="\d+">')
OVERDUE_REF = re.compile(r'<td data-label="文号"><a href="/items/\d+">([^<]+)</a>')


async def _office(sessions, seed: Seed) -> dict[str, int]:
    """Beside the seed's two green items (one per unit): a red item led by A with B as co
    unit, a red one of B alone, a yellow one of A, and a closed one of A."""
    async with sessions() as s, s.begin():
        a, b = await s.get_one(Unit, seed.unit_a), await s.get_one(Unit, seed.unit_b)
        both = await f.item(s, ref="红〔2026〕1号", title="两单位逾期", due_on=date(2026, 10, 30))
        await f.assignment(s, item=both, unit=a)
        await f.assignment(s, item=both, unit=b, role=AssignmentRole.CO)
        late = await f.item(s, ref="红〔2026〕2号", title="乙单位逾期", due_on=date(2026, 10, 28))
        await f.assignment(s, item=late, unit=b)
        soon = await f.item(s, ref="黄〔2026〕1号", due_on=date(2026, 11, 4))
        await f.assignment(s, item=soon, unit=a)
        done = await f.item(s, ref="结〔2026〕1号", due_on=date(2026, 10, 20))
        closed = await f.assignment(s, item=done, unit=a)
        done.state, closed.state = ItemState.CLOSED, ItemState.CLOSED
        return {"both": both.id, "late": late.id}


def _cells(html: str) -> dict[tuple[int, str], tuple[str, int]]:
    return {(int(u), light): (href, int(n)) for href, u, light, n in CELL.findall(html)}


@pytest.mark.dialects  # the matrix reads each item's units by LATERAL on PostgreSQL only
async def test_the_matrix_counts_each_units_open_items_and_links_to_exactly_them(
    as_admin: Web, as_liaison: Web, seed: Seed, sessions
) -> None:
    await _office(sessions, seed)
    html = await (await as_admin.get("/")).text()
    assert "各单位在办事项红黄绿灯" in html
    cells = _cells(html)
    a, b = seed.unit_a, seed.unit_b
    assert {k: n for k, (_, n) in cells.items()} == {
        (a, "red"): 1,
        (a, "yellow"): 1,
        (a, "green"): 1,
        (b, "red"): 2,  # the co unit's item counts for it too
        (b, "yellow"): 0,
        (b, "green"): 1,
    }
    # each item once in the totals, whatever its units; the closed one nowhere
    for light, n in (("red", 2), ("yellow", 1), ("green", 2)):
        assert f'data-light="{light}">{n}<' in html
    assert html.index(f'data-unit="{b}"') < html.index(f'data-unit="{a}"')  # most red first
    for href, n in cells.values():  # every count is the list it links to
        listed = await (await as_admin.get(href.replace("&amp;", "&"))).text()
        assert len(ROW.findall(listed)) == n, href
    # a unit role sees its units only, and counts only what it may see
    mine = await (await as_liaison.get("/")).text()
    assert {k: n for k, (_, n) in _cells(mine).items()} == {
        (a, "red"): 1,
        (a, "yellow"): 1,
        (a, "green"): 1,
    }
    assert f'data-unit="{b}"' not in mine and "乙单位逾期" not in mine
    assert 'data-light="red">1<' in mine
    for href, n in _cells(mine).values():
        listed = await (await as_liaison.get(href.replace("&amp;", "&"))).text()
        assert len(ROW.findall(listed)) == n, href


async def test_overdue_items_show_working_days_late_longest_first(
    as_admin: Web, as_liaison: Web, seed: Seed, sessions
) -> None:
    await _office(sessions, seed)
    html = await (await as_admin.get("/")).text()
    assert OVERDUE_REF.findall(html) == ["红〔2026〕2号", "红〔2026〕1号"]
    assert DAYS_LATE.findall(html) == ["3", "1"]
    assert "共 2 项，逾期最久的在前" in html
    # the whole list, in the items list: the red ones due before today
    assert 'href="/items?light=red&amp;due_to=2026-11-01"' in html
    listed = await (await as_admin.get("/items?light=red&due_to=2026-11-01")).text()
    assert len(ROW.findall(listed)) == 2
    mine = await (await as_liaison.get("/")).text()
    assert OVERDUE_REF.findall(mine) == ["红〔2026〕1号"] and DAYS_LATE.findall(mine) == ["1"]
    english = await (await as_admin.get("/", cookies={"lang": "en"})).text()
    assert "Working days late" in english and "2 in all, longest overdue first" in english


async def test_the_overdue_list_pages_by_keyset_both_ways(
    as_admin: Web, seed: Seed, sessions
) -> None:
    async with sessions() as s, s.begin():
        unit_b = await s.get_one(Unit, seed.unit_b)
        for n in range(53):
            ref = f"逾〔2026〕{n:02d}号"
            late = await f.item(s, ref=ref, received_on=date(2026, 9, 1), due_on=date(2026, 10, 1))
            await f.assignment(s, item=late, unit=unit_b)
    first = await (await as_admin.get("/?period=2026-10")).text()
    refs = OVERDUE_REF.findall(first)
    assert len(refs) == 50 and refs[0] == "逾〔2026〕00号" and "共 53 项" in first
    assert 'rel="prev"' not in first
    after = re.search(r'rel="next" href="/\?period=2026-10&amp;after=(\d+)#overdue"', first)
    assert after is not None
    second = await (await as_admin.get(f"/?period=2026-10&after={after[1]}")).text()
    assert OVERDUE_REF.findall(second) == ["逾〔2026〕50号", "逾〔2026〕51号", "逾〔2026〕52号"]
    assert 'rel="next"' not in second and "2026年10月" in second  # the period is kept
    before = re.search(r'rel="prev" href="/\?period=2026-10&amp;before=(\d+)#overdue"', second)
    assert before is not None
    back = await (await as_admin.get(f"/?period=2026-10&before={before[1]}")).text()
    assert OVERDUE_REF.findall(back) == refs and 'rel="next"' in back
    # a cursor that is no number, or names nothing, starts from the first page
    for junk in ("after=abc", "before=-4", "after=99999999"):
        page = await (await as_admin.get(f"/?{junk}")).text()
        assert OVERDUE_REF.findall(page) == refs, junk


async def test_the_chart_shows_a_zero_rate_and_defaults_to_the_month(
    as_admin: Web, seed: Seed, sessions
) -> None:
    await _office(sessions, seed)
    html = await (await as_admin.get("/")).text()
    assert "各单位办理情况 · 2026年11月" in html
    chart = html[html.index("<svg") : html.index("</svg>")]
    # both units' lead work fell due and none was done on time: 0 %, a visible sliver
    zero = re.findall(r'<rect class="bar" data-rate="0%" x="\d+" y="\d+" width="(\d+)"', chart)
    assert zero == ["3", "3"]
    assert chart.count(">0%</text>") == 2 and chart.count('class="track"') == 2


async def _requests(sessions, seed: Seed) -> int:
    """Two requests waiting for the office (a completion, an extension) and three that are
    not (one awaiting the principal's sign-off, one decided, a progress report)."""
    at = datetime(2026, 11, 1, 9, 0, tzinfo=SHANGHAI)
    async with sessions() as s, s.begin():
        asg = await s.get_one(Assignment, seed.assignment_a)
        for kind, state in (
            (ReportKind.COMPLETION, ReviewState.PENDING),
            (ReportKind.COMPLETION, ReviewState.AWAITING_SIGNOFF),
            (ReportKind.PROGRESS, ReviewState.NONE),
        ):
            s.add(Report(assignment_id=asg.id, kind=kind, text="已完成", review_state=state))
        ext = Extension(
            assignment_id=asg.id,
            reason="需协调",
            old_due_on=asg.due_on,
            new_due_on=date(2027, 1, 29),
            created_at=at,
        )
        decided = Extension(
            assignment_id=asg.id,
            reason="早先的申请",
            old_due_on=asg.due_on,
            new_due_on=date(2027, 1, 8),
            state=ReviewState.REJECTED,
            created_at=at,
        )
        s.add_all([ext, decided])
        await s.flush()
        return ext.id


async def test_the_menu_counts_what_the_reviewer_may_decide_on_every_page(
    as_supervisor: Web, as_admin: Web, as_liaison: Web, as_viewer: Web, seed: Seed, sessions
) -> None:
    badge = re.compile(r'<span class="badge" title="([^"]+)" aria-label="[^"]+">(\d+)</span>')
    none_yet = await (await as_supervisor.get("/")).text()
    assert 'class="badge"' not in none_yet
    extension = await _requests(sessions, seed)
    for page in ("/", "/items", f"/items/{seed.item_a}", "/reviews", "/nowhere"):
        response = await as_supervisor.get(page, headers={"Accept": "text/html"})
        html = await response.text()
        assert badge.findall(html) == [("2 项待审核", "2")], page
        # on a phone the menu is folded: its button carries the count too
        assert '菜单 <span class="badge" title="2 项待审核">2</span></label>' in html, page
    english = await (await as_admin.get("/", cookies={"lang": "en"})).text()
    assert badge.findall(english) == [("2 awaiting a decision", "2")]
    for other in (as_liaison, as_viewer):  # they decide nothing: no badge, no reviews entry
        html = await (await other.get("/")).text()
        assert 'class="badge"' not in html and 'href="/reviews"' not in html
    decided = await as_supervisor.post(
        f"/reviews/extension/{extension}", {"decision": "approve", "comment": "同意"}
    )
    assert decided.status == 303
    after = await (await as_supervisor.get("/")).text()
    assert badge.findall(after) == [("1 项待审核", "1")]


@pytest.mark.dialects
async def test_closed_items_never_reach_the_matrix(as_admin: Web, seed: Seed, sessions) -> None:
    async with sessions() as s, s.begin():
        for item in (await s.get_one(Item, seed.item_a), await s.get_one(Item, seed.item_b)):
            item.state = ItemState.CANCELLED
    html = await (await as_admin.get("/")).text()
    assert _cells(html) == {} and "暂无记录" in html
    for light in ("red", "yellow", "green"):
        assert f'data-light="{light}">0<' in html
