"""Binding a WeCom account by an invite link opened in WeCom: the admin's invite, WeCom's web
authorization (the fake's authorize page and ``auth/getuserinfo``), the single-use token, and
every way it can go wrong changing nothing."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from aiohttp import ClientSession
from sqlalchemy import select

from models import AuditEvent, Channel, InviteToken, Notification, Person
from notifier.wecom.api import WeComApi, WeComConfig, authorize_link
from supervision.clock import FixedClock
from supervision.invites import SEALED_LINK, create_invite
from supervision.sealing import Sealer
from testing.fakes.wecom import FakeWeCom
from web.app import WebConfig
from web.wecom_binding import BIND_PATH, setup_wecom_binding

from .conftest import SECRET, Seed, Web, make_app

BASE = "https://duban.example.gov.cn"


class Office:
    """The web app (admin pages and the binding route) and the fake WeCom."""

    def __init__(self, web: Web, fake: FakeWeCom, config: WeComConfig, sessions: Any) -> None:
        self.web, self.fake, self.config, self.sessions = web, fake, config, sessions

    async def open_in_wecom(self, link: str, user: str | None, *, member: bool = True) -> Any:
        """Open ``link`` inside WeCom as ``user``: the authorize page redirects to Duban."""
        query = {"as": user, "member": "1" if member else "0"} if user else {}
        async with (
            ClientSession() as http,
            http.get(link, params=query, allow_redirects=False) as resp,
        ):
            assert resp.status == 302, await resp.text()
            target = urlsplit(resp.headers["Location"])
        assert f"{target.scheme}://{target.netloc}" == BASE and target.path == BIND_PATH
        return await self.web.get(f"{target.path}?{target.query}")

    def link(self, token: str) -> str:
        return authorize_link(
            self.config, redirect_uri=BASE + BIND_PATH, state=token, oauth_base=self.fake.base_url
        )

    async def invite(self, person_id: int, channel: Channel = Channel.WECOM_APP) -> str:
        async with self.sessions() as s, s.begin():
            person = await s.get_one(Person, person_id)
            new = await create_invite(s, person=person, clock=self.web_clock, channel=channel)
        return new.token

    web_clock: FixedClock


@pytest.fixture
async def office(sessions, clock, aiohttp_client_factory, seed: Seed):
    async with FakeWeCom(clock=clock, users={"lly", "sup"}) as fake:
        config = WeComConfig(
            corp_id=fake.corp_id, agent_id=fake.agent_id, secret=fake.secret,
            api_base=fake.base_url,
        )  # fmt: skip
        web_config = WebConfig(
            secret_key=SECRET, base_url=BASE, wecom=config, wecom_oauth_base=fake.base_url
        )
        app = make_app(sessions, clock, config=web_config)
        setup_wecom_binding(app, WeComApi(config, clock=clock))
        web = Web(await aiohttp_client_factory(app))
        response = await web.login("admin@example.gov.cn", person_id=seed.admin)
        assert response.status == 303
        office = Office(web, fake, config, sessions)
        office.web_clock = clock
        yield office


async def _person(sessions, person_id: int) -> Person:
    async with sessions() as s:
        return await s.get_one(Person, person_id)


async def test_admin_invites_and_the_person_binds_in_wecom(office: Office, seed: Seed) -> None:
    page = await (await office.web.get(f"/people/{seed.liaison_a}")).text()
    assert "邀请绑定企业微信" in page
    response = await office.web.post(f"/people/{seed.liaison_a}/invite", {"app": "wecom_app"})
    assert response.status == 200
    html = await response.text()
    async with office.sessions() as s:
        mail = await s.scalar(select(Notification).where(Notification.kind == "invite"))
        invite = await s.scalar(select(InviteToken))
    assert mail is not None and invite is not None and invite.channel == Channel.WECOM_APP
    link = Sealer(SECRET).open(mail.payload[SEALED_LINK])
    assert mail.payload["invite_app"] == "wecom_app"
    assert link.startswith(office.fake.base_url + "/connect/oauth2/authorize?")
    assert link.replace("&", "&amp;") in html and "在企业微信中打开" in html
    query = parse_qs(urlsplit(link).query)
    assert query["appid"] == [office.fake.corp_id] and query["scope"] == ["snsapi_base"]
    assert query["redirect_uri"] == [BASE + BIND_PATH] and link.endswith("#wechat_redirect")

    done = await office.open_in_wecom(link.split("#")[0], "lly")
    assert done.status == 200 and "绑定成功" in await done.text()
    person = await _person(office.sessions, seed.liaison_a)
    assert person.wecom_userid == "lly"
    async with office.sessions() as s:
        used = await s.get_one(InviteToken, invite.id)
        assert used.used_at is not None and used.used_by_wecom_userid == "lly"
        actions = list(await s.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))
    assert "wecom_bound" in actions
    # single use: the same link opened again binds nothing
    again = await office.open_in_wecom(link.split("#")[0], "sup")
    assert again.status == 400 and "已被使用" in await again.text()
    assert (await _person(office.sessions, seed.liaison_a)).wecom_userid == "lly"


async def test_the_invite_email_names_wecom(office: Office, seed: Seed, sessions, clock) -> None:
    from notifier.context import ContextConfig, build_contexts
    from notifier.templating import Renderer
    from supervision.calendar_store import load_calendar

    await office.web.post(f"/people/{seed.liaison_a}/invite", {"app": "wecom_app"})
    async with sessions() as s:
        row = await s.scalar(select(Notification).where(Notification.kind == "invite"))
        [built] = await build_contexts(
            s, [row], config=ContextConfig(sealer=Sealer(SECRET)), clock=clock,
            calendar=await load_calendar(s),
        )  # fmt: skip
    assert not isinstance(built, Exception)
    rendered = await Renderer().render("invite", "email", "zh", built.context)
    assert "在企业微信中绑定" in rendered.text and "Telegram" not in rendered.text


async def test_a_userid_moves_from_its_previous_holder(office: Office, seed: Seed) -> None:
    async with office.sessions() as s:
        (await s.get_one(Person, seed.supervisor)).wecom_userid = "lly"
        await s.commit()
    token = await office.invite(seed.liaison_a)
    done = await office.open_in_wecom(office.link(token).split("#")[0], "lly")
    assert done.status == 200
    assert (await _person(office.sessions, seed.liaison_a)).wecom_userid == "lly"
    assert (await _person(office.sessions, seed.supervisor)).wecom_userid is None


async def test_what_cannot_bind_changes_nothing(office: Office, seed: Seed) -> None:
    token = await office.invite(seed.liaison_a)
    link = office.link(token).split("#")[0]
    outsider = await office.open_in_wecom(link, "guest", member=False)  # not in the corp
    assert outsider.status == 403 and "本单位的企业微信账号" in await outsider.text()
    forged = await office.web.get(f"{BIND_PATH}?code=abc&state={'x' * 40}")
    assert forged.status == 400  # WeCom does not know the code (40029)
    garbage = await office.web.get(f"{BIND_PATH}?code=abc&state=not%20a%20token")
    assert garbage.status == 400 and "链接无效" in await garbage.text()
    telegram = await office.invite(seed.liaison_a, Channel.TELEGRAM)
    wrong_app = await office.open_in_wecom(office.link(telegram).split("#")[0], "lly")
    assert wrong_app.status == 400 and "邀请链接无效" in await wrong_app.text()
    office.web_clock.advance(timedelta(days=8))
    late = await office.open_in_wecom(link, "lly")
    assert late.status == 400 and "已过期" in await late.text()
    assert (await _person(office.sessions, seed.liaison_a)).wecom_userid is None
    async with office.sessions() as s:
        assert all(i.used_at is None for i in await s.scalars(select(InviteToken)))


async def test_a_code_works_once(office: Office, seed: Seed) -> None:
    token = await office.invite(seed.liaison_a)
    async with ClientSession() as http:
        link = office.link(token).split("#")[0]
        async with http.get(link, params={"as": "lly"}, allow_redirects=False) as resp:
            target = urlsplit(resp.headers["Location"])
    first = await office.web.get(f"{target.path}?{target.query}")
    assert first.status == 200
    replay = await office.web.get(f"{target.path}?{target.query}")
    assert replay.status == 400 and "链接已失效" in await replay.text()


async def test_without_wecom_the_invite_button_is_absent(as_admin: Web, seed: Seed) -> None:
    page = await (await as_admin.get(f"/people/{seed.liaison_a}")).text()
    assert "邀请绑定企业微信" not in page
    response = await as_admin.post(f"/people/{seed.liaison_a}/invite", {"app": "wecom_app"})
    assert response.status == 400
