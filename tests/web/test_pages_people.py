"""People and units: admin only, create/edit with validation, invite link and e-mail."""

from __future__ import annotations

from sqlalchemy import select

from models import InviteToken, Notification, Person, Role, Unit
from supervision.accounts import verify_password
from supervision.invites import SEALED_LINK, hash_token
from supervision.sealing import Sealer
from tests.web.conftest import SECRET, Seed, Web


async def test_people_pages_are_admin_only(as_supervisor: Web, as_viewer: Web, seed: Seed) -> None:
    for path in ("/people", "/people/new", f"/people/{seed.admin}", "/units", "/units/new"):
        assert (await as_supervisor.get(path)).status == 403, path
    assert (await as_viewer.post("/people/new", {"name": "x"})).status == 403
    assert (await as_viewer.post(f"/people/{seed.admin}/invite")).status == 403


async def test_list_shows_binding(as_admin: Web, seed: Seed, sessions) -> None:
    async with sessions() as s, s.begin():
        p = await s.get_one(Person, seed.liaison_a)
        p.telegram_user_id = 4242
        p.telegram_username = "lianluo"
    html = await (await as_admin.get("/people")).text()
    assert "@lianluo" in html and "联络员甲" in html


async def test_list_by_unit_tree_then_pinyin_searched_paged_with_invites(
    as_admin: Web, seed: Seed, sessions
) -> None:
    async with sessions() as s, s.begin():
        below = Unit(code="A1", name="甲单位一科", parent_id=seed.unit_a)
        s.add(below)
        await s.flush()
        for name, unit in (("张三", seed.unit_a), ("安娜", seed.unit_a), ("李四", below.id)):
            s.add(Person(name=name, unit_id=unit, email=f"{name.encode().hex()}@example.gov.cn"))
    html = await (await as_admin.get("/people")).text()
    table = html[html.index('<table class="people') :]
    order = [table.index(n) for n in ("安娜", "联络员甲", "责任人甲", "张三", "李四", "管理员")]
    assert order == sorted(order)  # 甲单位 (an, lian, ze, zhang) → 甲单位一科 → no unit
    assert 'id="tree-unit-' in html and "<details open><summary>" in html
    assert html.count("people.tg") == 0 and "未绑定" in html
    found = await (await as_admin.get("/people?q=zs")).text()
    assert "张三" in found and "安娜" not in found and "共 1 人" in found
    by_unit = await (await as_admin.get(f"/people?unit={seed.unit_a}&q=li")).text()
    assert "李四" in by_unit and "张三" not in by_unit
    # Invite from the list: the person's page shows the link; the list says until when.
    async with sessions() as s:
        anna = await s.scalar(select(Person).where(Person.name == "安娜"))
    assert anna is not None
    response = await as_admin.post(f"/people/{anna.id}/invite")
    assert response.status == 200 and 'id="invite-link"' in await response.text()
    listed = await (await as_admin.get("/people?q=安娜")).text()
    assert "已邀请，2026-11-09 09:00 前有效" in listed and "重新邀请" in listed
    page = await (await as_admin.get(f"/people/{anna.id}")).text()
    assert "Telegram 绑定: 已邀请，2026-11-09 09:00 前有效" in page
    with_pages = await (await as_admin.get("/people?page=999")).text()
    assert "安娜" in with_pages  # past the last page: the last page


async def test_units_page_is_a_tree_searched_by_initials(
    as_admin: Web, seed: Seed, sessions
) -> None:
    async with sessions() as s, s.begin():
        s.add(Unit(code="A1", name="江宁区", parent_id=seed.unit_a))
    html = await (await as_admin.get("/units")).text()
    assert html.index("甲单位") < html.index("江宁区") < html.index("乙单位")
    assert "<details open>" in html
    found = await (await as_admin.get("/units?q=jnq")).text()
    assert "江宁区" in found and "甲单位" in found and "乙单位" not in found


async def test_create_and_edit_person(as_admin: Web, seed: Seed, sessions, clock) -> None:
    response = await as_admin.post(
        "/people/new",
        {
            "name": "新同志",
            "email": "New@Example.gov.cn",
            "unit_id": str(seed.unit_b),
            "roles": ["liaison", "owner"],
            "locale": "en",
            "active": "on",
            "password": "a long enough password",
        },
    )
    assert response.status == 303, await response.text()
    async with sessions() as s:
        person = await s.scalar(select(Person).where(Person.email == "new@example.gov.cn"))
        assert person is not None and person.roles == {Role.LIAISON, Role.OWNER}
        assert verify_password(person.password_hash, "a long enough password")
        assert person.created_at == clock.now()
    response = await as_admin.post(
        f"/people/{person.id}",
        {"name": "新同志", "email": "new@example.gov.cn", "roles": "viewer", "locale": "zh"},
    )
    assert response.status == 303
    async with sessions() as s:
        again = await s.get_one(Person, person.id)
        assert again.roles == {Role.VIEWER} and not again.active
        assert again.password_hash == person.password_hash


async def test_person_bad_input_changes_nothing(as_admin: Web, seed: Seed, sessions) -> None:
    cases = [
        {"name": "", "locale": "zh"},
        {"name": "x", "email": "not-an-email", "locale": "zh"},
        {"name": "x", "roles": "emperor", "locale": "zh"},
        {"name": "x", "email": "sup@example.gov.cn", "locale": "zh"},
        {"name": "x", "locale": "fr"},
        {"name": "x", "locale": "zh", "password": "short"},
    ]
    for data in cases:
        response = await as_admin.post("/people/new", data)
        assert response.status == 400, data
    async with sessions() as s:
        assert len((await s.scalars(select(Person))).all()) == 5
    response = await as_admin.post(
        f"/people/{seed.admin}", {"name": "管理员", "roles": "supervisor", "locale": "zh"}
    )
    assert response.status == 400 and "不能取消自己的管理员角色" in await response.text()
    assert (await as_admin.get("/people/9999")).status == 404


async def test_invite_shows_link_and_queues_email(as_admin: Web, seed: Seed, sessions) -> None:
    response = await as_admin.post(f"/people/{seed.liaison_a}/invite")
    assert response.status == 200
    html = await response.text()
    assert 'id="invite-link"' in html and "/start " in html
    async with sessions() as s:
        invite = await s.scalar(select(InviteToken))
        assert invite is not None and invite.person_id == seed.liaison_a
        mail = await s.scalar(select(Notification).where(Notification.kind == "invite"))
        assert mail is not None and mail.channel == "email"
        assert mail.address == "liaison@example.gov.cn"
        # The mail carries the link shown, sealed: the clear token is stored nowhere.
        link = Sealer(SECRET).open(mail.payload[SEALED_LINK])
        assert link in html and "/start " in link
        assert link.split()[-1] not in str(mail.payload)
        assert await s.scalar(select(InviteToken.token_hash)) == hash_token(link.split()[-1])


async def test_units_create_edit_and_cycles(as_admin: Web, seed: Seed, sessions, clock) -> None:
    response = await as_admin.post(
        "/units/new",
        {"code": "A1", "name": "甲单位下属", "parent_id": str(seed.unit_a), "active": "on"},
    )
    assert response.status == 303
    async with sessions() as s:
        child = await s.scalar(select(Unit).where(Unit.code == "A1"))
        assert child is not None and child.parent_id == seed.unit_a
        assert child.created_at == clock.now()
    cycle = await as_admin.post(
        f"/units/{seed.unit_a}", {"code": "A", "name": "甲单位", "parent_id": str(child.id)}
    )
    assert cycle.status == 400 and "上级单位代码：单位不能是自己的下级" in await cycle.text()
    dup = await as_admin.post("/units/new", {"code": "B", "name": "重复"})
    assert dup.status == 400
    html = await (await as_admin.get("/units")).text()
    assert "甲单位下属" in html


async def test_person_form_binds_a_wecom_userid(as_admin: Web, seed: Seed, sessions) -> None:
    form = {"name": "联络员甲", "unit_id": str(seed.unit_a), "roles": "liaison", "locale": "zh"}
    page = await (await as_admin.get(f"/people/{seed.liaison_a}")).text()
    assert 'name="wecom_userid"' in page and "企业微信账号" in page
    response = await as_admin.post(f"/people/{seed.liaison_a}", form | {"wecom_userid": "lly"})
    assert response.status == 303, await response.text()
    for bad in ("has space", "x" * 65):
        response = await as_admin.post(f"/people/{seed.admin}", {"wecom_userid": bad} | {
            "name": "管理员", "roles": "admin", "locale": "zh"})  # fmt: skip
        assert response.status == 400 and "wecom_userid" in await response.text(), bad
    taken = {"name": "管理员", "roles": "admin", "locale": "zh", "wecom_userid": "lly"}
    response = await as_admin.post(f"/people/{seed.admin}", taken)
    assert response.status == 400 and "已被其他人员使用" in await response.text()
    async with sessions() as s:
        assert (await s.get_one(Person, seed.liaison_a)).wecom_userid == "lly"
        assert (await s.get_one(Person, seed.admin)).wecom_userid is None


async def test_person_form_takes_dingtalk_and_feishu_ids(
    as_admin: Web, seed: Seed, sessions
) -> None:
    form = {"name": "联络员甲", "unit_id": str(seed.unit_a), "roles": "liaison", "locale": "zh"}
    page = await (await as_admin.get(f"/people/{seed.liaison_a}")).text()
    assert 'name="dingtalk_userid"' in page and 'name="feishu_user_id"' in page
    ids = {"dingtalk_userid": "ding-lly", "feishu_user_id": "ou_9a8b"}
    response = await as_admin.post(f"/people/{seed.liaison_a}", form | ids)
    assert response.status == 303, await response.text()
    admin = {"name": "管理员", "roles": "admin", "locale": "zh"}
    for field, bad in (("dingtalk_userid", "has space"), ("feishu_user_id", "ou@x")):
        response = await as_admin.post(f"/people/{seed.admin}", admin | {field: bad})
        assert response.status == 400 and field in await response.text(), bad
    response = await as_admin.post(f"/people/{seed.admin}", admin | {"feishu_user_id": "ou_9a8b"})
    assert response.status == 400 and "已被其他人员使用" in await response.text()
    async with sessions() as s:
        person = await s.get_one(Person, seed.liaison_a)
        assert (person.dingtalk_userid, person.feishu_user_id) == ("ding-lly", "ou_9a8b")


async def test_the_form_sets_the_channel_preference_in_order(
    as_admin: Web, seed: Seed, sessions
) -> None:
    html = await (await as_admin.get(f"/people/{seed.liaison_a}")).text()
    assert "接收渠道" in html and 'name="channel_3"' in html and ">企业微信</option>" in html
    base = {"name": "联络员甲", "roles": "liaison", "unit_id": str(seed.unit_a), "locale": "zh"}
    ordered = {**base, "channel_1": "wecom_app", "channel_2": "", "channel_3": "email"}
    response = await as_admin.post(f"/people/{seed.liaison_a}", ordered)
    assert response.status == 303, await response.text()
    async with sessions() as s:
        assert (await s.get_one(Person, seed.liaison_a)).channel_prefs == "wecom_app,email"
    html = await (await as_admin.get(f"/people/{seed.liaison_a}")).text()
    assert '<option value="wecom_app" selected>' in html
    # a post without the choice keeps the list; a repeated or unknown channel changes nothing
    assert (await as_admin.post(f"/people/{seed.liaison_a}", base)).status == 303
    for bad in ({"channel_1": "email", "channel_2": "email"}, {"channel_1": "wecom"}):
        response = await as_admin.post(f"/people/{seed.liaison_a}", {**base, **bad})
        assert response.status == 400 and "接收渠道：" in await response.text()
    async with sessions() as s:
        assert (await s.get_one(Person, seed.liaison_a)).channel_prefs == "wecom_app,email"
    # all blank: the default again
    blank = {**base, "channel_1": "", "channel_2": "", "channel_3": ""}
    assert (await as_admin.post(f"/people/{seed.liaison_a}", blank)).status == 303
    async with sessions() as s:
        assert (await s.get_one(Person, seed.liaison_a)).channel_prefs is None
