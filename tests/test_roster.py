"""The people list (人员名册): tree order then pinyin, search, paging in SQL, Telegram state."""

from __future__ import annotations

from datetime import timedelta

import pytest

from models import Channel, InviteToken, Unit
from supervision.roster import TelegramState, people_roster
from supervision.units import pruned, tree_order, unit_tree
from testing import factories as f

pytestmark = pytest.mark.dialects


async def _office(session):
    gov = await f.unit(session, code="B-GOV", name="省政府")
    nj = await f.unit(session, code="A-NJ", name="南京市", parent=gov)
    jn = await f.unit(session, code="A-JN", name="江宁区", parent=nj)
    fgw = await f.unit(session, code="C-FGW", name="发改委", parent=gov)
    people = {}
    for name, unit in (
        ("赵六", fgw), ("张三", nj), ("安娜", nj), ("单雄信", nj), ("李四", jn), ("王五", gov),
        ("无单位", None),
    ):  # fmt: skip
        people[name] = await f.person(session, name=name, unit=unit)
    return {"gov": gov, "nj": nj, "jn": jn, "fgw": fgw}, people


async def test_tree_order_then_pinyin_and_no_unit_last(session, clock) -> None:
    units, _ = await _office(session)
    roster = await people_roster(session, now=clock.now())
    names = [r.person.name for r in roster.rows]
    # 省政府 → 南京市 (安娜 an, 单雄信 shan, 张三 zhang) → 江宁区 → 发改委, by code per level
    assert names == ["王五", "安娜", "单雄信", "张三", "李四", "赵六", "无单位"]
    assert [n.unit.name for n in roster.tree] == ["省政府"]
    assert tree_order(roster.tree) == [units[k].id for k in ("gov", "nj", "jn", "fgw")]
    assert roster.counts[units["nj"].id] == 3 and roster.total == 7


async def test_search_by_name_pinyin_initials_and_unit(session, clock) -> None:
    units, _ = await _office(session)

    async def found(text: str, **kw) -> list[str]:
        roster = await people_roster(session, now=clock.now(), text=text, **kw)
        return [r.person.name for r in roster.rows]

    assert await found("张") == ["张三"]
    assert await found("zs") == ["张三"]
    assert await found("ZhangSan") == ["张三"]
    assert await found("sxx") == ["单雄信"]  # 单 read as the surname shàn
    assert await found("江宁") == ["李四"]
    assert await found("A-JN") == ["李四"]
    assert await found("100%_") == []
    assert await found("", unit_id=units["nj"].id) == ["安娜", "单雄信", "张三", "李四"]
    assert await found("li", unit_id=units["nj"].id) == ["李四"]


@pytest.mark.parametrize("per_page", [1, 2, 3, 5])
async def test_pages_cut_across_units_and_read_as_the_whole_list(session, clock, per_page) -> None:
    units, _ = await _office(session)
    for text, unit in (("", None), ("", units["nj"].id), ("a", None)):
        whole = await people_roster(session, now=clock.now(), text=text, unit_id=unit)
        first = await people_roster(
            session, now=clock.now(), text=text, unit_id=unit, per_page=per_page
        )
        paged = [
            r.person.name
            for n in range(1, first.pages + 1)
            for r in (
                await people_roster(
                    session, now=clock.now(), text=text, unit_id=unit, per_page=per_page, page=n
                )
            ).rows
        ]
        assert paged == [r.person.name for r in whole.rows] and whole.total == len(paged)


async def test_pages_and_telegram_states(session, clock) -> None:
    _, people = await _office(session)
    first = await people_roster(session, now=clock.now(), per_page=3)
    last = await people_roster(session, now=clock.now(), per_page=3, page=99)
    assert (first.pages, last.page) == (3, 3) and [r.person.name for r in last.rows] == ["无单位"]
    people["张三"].telegram_user_id, people["张三"].telegram_username = 7, "zs"
    for name, days in (("安娜", 3), ("单雄信", -1)):
        session.add(
            InviteToken(
                token_hash=name.encode().hex().ljust(64, "0"), person_id=people[name].id,
                channel=Channel.TELEGRAM, expires_at=clock.now() + timedelta(days=days),
            )
        )  # fmt: skip
    await session.flush()
    states = {
        r.person.name: (r.telegram.state, r.telegram.until)
        for r in (await people_roster(session, now=clock.now())).rows
    }
    assert states["张三"] == (TelegramState.BOUND, None)
    assert states["安娜"] == (TelegramState.INVITED, clock.now() + timedelta(days=3))
    assert states["单雄信"][0] == TelegramState.EXPIRED
    assert states["王五"] == (TelegramState.NONE, None)


def test_a_loop_stored_before_still_shows_every_unit_once() -> None:
    a, b = Unit(id=1, code="A", name="甲"), Unit(id=2, code="B", name="乙")
    a.parent_id, b.parent_id = 2, 1
    tree = unit_tree([a, b])
    assert sorted(tree_order(tree)) == [1, 2]
    assert tree_order(pruned(tree, lambda u: u.code == "B")) == [1, 2]
