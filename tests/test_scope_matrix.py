"""Every role × every action × every surface agrees with `supervision.access.Scope`.

One office is built per database for the whole module. Each case asks one surface — a page
over HTTP with a session cookie, the JSON API with a bearer token, or a bot command or button
through the real dispatcher — and checks that it lets the person through exactly when their
`Scope` says so. "Through" means the authorization passed: a refusal is 401/403/404 (or a
redirect to /login) on the web, "您无权执行此操作" in the bot; anything else (done, or a 400/409
for the deliberately empty or stale input most probes send so that nothing changes) passed.
The web and the API are closed to a person without a tier, so there the rule is
``allows(VIEW) and …``; in the bot a bound person is judged per assignment alone.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import aiohttp
import pytest
import pytest_asyncio
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.callbacks import Flow, Pick, Review, SignOff
from bot.texts import Sentence, say
from models import Assignment, Extension, Person, Role
from models.db import create_engine, create_sessionmaker
from models.report import ReviewState
from supervision import outbox
from supervision.access import Action, Permission, Scope, item_visible, scope_for
from supervision.audit import Actor
from supervision.clock import FixedClock
from supervision.policy import ensure_default_policies, load_policy_for
from supervision.reports import file_report
from testing import SHANGHAI
from testing import factories as f
from testing.bot_harness import Harness, harness
from testing.databases import empty_tables
from testing.fakes.telegram import SentMessage
from tests.conftest import database_url
from web.admin import setup_admin
from web.api import setup_api
from web.api_tokens import create_token
from web.app import WebConfig, WebDeps, create_app
from web.auth import CSRF_COOKIE, CSRF_HEADER, SESSION_COOKIE, csrf_for
from web.sessions import SessionPolicy, start_session
from web.views.bulletins import setup_bulletin_pages
from web.views.tokens import setup_token_pages

# One process builds the module's office once (pytest-xdist: one group, one worker).
pytestmark = [pytest.mark.asyncio(loop_scope="module"), pytest.mark.xdist_group("scope_matrix")]

SECRET = "scope-matrix-secret"
CSRF_VALUE = "c" * 43
ROLES = ("admin", "supervisor", "liaison", "owner", "leader", "principal", "viewer", "nobody")
#: Items by key: which unit leads them, and whom they name.
ITEMS = {
    "A": "甲局的事项",  # unit A; owner and leader are the matrix's owner and leader
    "A1": "甲局一科的事项",  # unit A1, below A
    "B": "乙局的事项",  # unit B
    "named": "点名的事项",  # unit B, owned by the person with no role at all
}
UNITS = ("A", "A1", "B")


@dataclass
class Office:
    """The module's office, its surfaces, and each role's scope."""

    client: TestClient
    bot: Harness
    sessions: async_sessionmaker[AsyncSession]
    people: dict[str, Person]
    scopes: dict[str, Scope]
    tokens: dict[str, str]
    cookies: dict[str, str]  # a live web session per role
    units: dict[str, int]
    items: dict[str, int]
    assignments: dict[str, Assignment]
    reports: dict[str, int]  # a progress report per assignment key
    decided: dict[str, int]  # an approved extension per assignment key
    notification_id: int
    policy_id: int
    carriers: dict[str, SentMessage]

    def tg(self, role: str) -> int:
        chat = self.people[role].telegram_chat_id
        assert chat is not None
        return chat

    async def page(self, role: str, method: str, path: str, data: Any = None) -> bool:
        """Whether a page lets ``role`` through."""
        cookie = self.cookies[role]
        headers = {
            "Cookie": f"{SESSION_COOKIE}={cookie}; {CSRF_COOKIE}={CSRF_VALUE}",
            CSRF_HEADER: csrf_for(SECRET, CSRF_VALUE, self.people[role].id),
        }
        resp = await self.client.request(
            method, path, data=data, headers=headers, allow_redirects=False
        )
        assert resp.status < 500, (path, resp.status, await resp.text())
        if resp.status == 303 and resp.headers["Location"].startswith("/login"):
            return False
        return resp.status not in (401, 403, 404)

    async def api(self, role: str, method: str, path: str, body: Any = None) -> bool:
        """Whether the API lets ``role`` through."""
        headers = {"Authorization": f"Bearer {self.tokens[role]}"}
        resp = await self.client.request(method, "/api/v1" + path, json=body, headers=headers)
        assert resp.status < 500, (path, resp.status, await resp.text())
        return resp.status not in (401, 403, 404)

    async def press(self, role: str, data: str) -> bool:
        """Whether a bot button lets ``role`` through (then leave any dialog it opened)."""
        h = self.bot
        answered = len(h.fake.answers)
        await h.feed(h.fake.make_callback_query(self.tg(role), self.carriers[role], data))
        assert len(h.fake.answers) == answered + 1
        text = str(h.fake.answers[-1].get("text", ""))
        await h.feed(h.fake.make_private_message(self.tg(role), "/cancel"))
        return text != say(self.people[role].locale, Sentence.NOT_ALLOWED)

    async def command(self, role: str, text: str) -> list[str]:
        """What the bot answers ``role``'s command with."""
        h = self.bot
        before = len(h.texts(self.tg(role)))
        await h.feed(h.fake.make_private_message(self.tg(role), text))
        return h.texts(self.tg(role))[before:]

    async def visible(self, role: str, item: str) -> bool:
        async with self.sessions() as session:
            return await item_visible(session, self.scopes[role], self.items[item])

    async def on_desk(self, role: str, assignment: str) -> bool:
        async with self.sessions() as session:
            desk = (await session.scalars(self.scopes[role].worklist())).all()
        return self.assignments[assignment].id in {a.id for a in desk}


async def _build(sessions: async_sessionmaker[AsyncSession], clock: FixedClock) -> dict[str, Any]:
    async with sessions() as s, s.begin():
        await ensure_default_policies(s)
        a = await f.unit(s, code="A", name="甲局")
        a1 = await f.unit(s, code="A1", name="甲局一科", parent=a)
        b = await f.unit(s, code="B", name="乙局")
        unit_roles = {
            "admin": (None, Role.ADMIN),
            "supervisor": (None, Role.SUPERVISOR),
            "liaison": (a, Role.LIAISON),
            "owner": (a, Role.OWNER),
            "leader": (a, Role.LEADER),
            "principal": (a, Role.PRINCIPAL),
            "viewer": (None, Role.VIEWER),
            "nobody": (None, Role.OWNER),
        }
        people: dict[str, Person] = {}
        for n, (role, (unit, held)) in enumerate(unit_roles.items()):
            people[role] = await f.person(
                s, name=f"{role}者", unit=unit, roles={held}, telegram_user_id=7100 + n
            )
        people["nobody"].set_roles(set())
        owner_a1 = await f.person(s, unit=a1, roles={Role.OWNER})
        owner_b = await f.person(s, unit=b, roles={Role.OWNER})
        leads = {
            "A": (a, people["owner"], people["leader"]),
            "A1": (a1, owner_a1, None),
            "B": (b, owner_b, None),
            "named": (b, people["nobody"], None),
        }
        items: dict[str, int] = {}
        assignments: dict[str, Assignment] = {}
        for n, (key, (unit, owner, leader)) in enumerate(leads.items()):
            item = await f.item(s, ref=f"督〔2026〕{n + 1}号", title=ITEMS[key])
            items[key] = item.id
            assignments[key] = await f.assignment(
                s, item=item, unit=unit, owner=owner, leader=leader
            )
        reports: dict[str, int] = {}
        decided: dict[str, int] = {}
        for key, assignment in assignments.items():
            author = leads[key][1]
            report = await file_report(
                s, assignment=assignment, author=author, text="进展", clock=clock, channel="web"
            )
            reports[key] = report.id
            extension = Extension(
                assignment_id=assignment.id,
                requested_by_id=author.id,
                reason="等待批复",
                progress="",
                old_due_on=assignment.due_on,
                new_due_on=date(2027, 1, 29),
                state=ReviewState.APPROVED.value,
                channel="web",
                created_at=clock.now(),
            )
            s.add(extension)
            await s.flush()
            decided[key] = extension.id
        [notification_id] = await outbox.notify_person(
            s,
            person=people["owner"],
            kind="remind",
            key="matrix:remind",
            channels=("chat",),
            not_before=clock.now(),
            now=clock.now(),
            assignment_id=assignments["A"].id,
            item_id=items["A"],
        )
        policy = await load_policy_for(s, "instruction", False)
        assert policy is not None
        tokens = {
            role: (
                await create_token(
                    s, person=p, name="matrix", actor=Actor.system("test"), clock=clock
                )
            ).secret
            for role, p in people.items()
        }
        scopes = {role: await scope_for(s, p) for role, p in people.items()}
        cookies = {
            role: await start_session(
                s, person=p, policy=SessionPolicy(), now=clock.now(), ip="127.0.0.1"
            )
            for role, p in people.items()
        }
    return {
        "people": people,
        "scopes": scopes,
        "tokens": tokens,
        "cookies": cookies,
        "units": {"A": a.id, "A1": a1.id, "B": b.id},
        "items": items,
        "assignments": assignments,
        "reports": reports,
        "decided": decided,
        "notification_id": notification_id,
        "policy_id": policy.id,
    }


@pytest.fixture(scope="module")
def matrix_url(request: pytest.FixtureRequest, sqlite_url: str) -> str:
    """The module's database, as for ``db_url`` (resolved outside the event loop)."""
    return database_url(request, sqlite_url)


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def office(matrix_url: str) -> AsyncIterator[Office]:
    """The office on one database, built once for every case of this module."""
    url = matrix_url
    engine = create_engine(url)
    await empty_tables(engine)
    sessions = create_sessionmaker(engine)
    clock = FixedClock(datetime(2026, 11, 2, 9, 0, tzinfo=SHANGHAI))
    built = await _build(sessions, clock)
    deps = WebDeps(config=WebConfig(secret_key=SECRET), sessions=sessions, clock=clock)
    app = create_app(deps, [setup_admin, setup_bulletin_pages, setup_token_pages, setup_api])
    client = TestClient(TestServer(app, host="127.0.0.1"), cookie_jar=aiohttp.DummyCookieJar())
    await client.start_server()
    try:
        async with harness(sessions, clock) as bot:
            carriers: dict[str, SentMessage] = {}
            for role, person in built["people"].items():
                assert person.telegram_chat_id is not None
                await bot.feed(bot.fake.make_private_message(person.telegram_chat_id, "/help"))
                carriers[role] = bot.fake.sent_to(person.telegram_chat_id)[-1]
            yield Office(client=client, bot=bot, sessions=sessions, carriers=carriers, **built)
    finally:
        await client.close()
        await empty_tables(engine)
        await engine.dispose()


# --- office-level permissions: one probe per surface that offers it ---------------------------

Check = Callable[[Office, str], Awaitable[bool]]


def _page(method: str, path: str, data: Any = None) -> Check:
    async def check(o: Office, role: str) -> bool:
        return await o.page(role, method, path.format(o=o), data)

    return check


def _api(method: str, path: str, body: Any = None) -> Check:
    async def check(o: Office, role: str) -> bool:
        return await o.api(role, method, path.format(o=o), body)

    return check


async def _bot_review(o: Office, role: str) -> bool:
    answer = await o.command(role, "/review")
    return say(o.people[role].locale, Sentence.NOT_ALLOWED) not in answer


PERMISSION_PROBES: dict[Permission, list[tuple[str, str, Check]]] = {
    Permission.VIEW: [
        ("page", "GET /", _page("GET", "/")),
        ("page", "GET /items", _page("GET", "/items")),
        ("api", "GET /me", _api("GET", "/me")),
        ("api", "GET /items", _api("GET", "/items")),
        ("api", "GET /units", _api("GET", "/units")),
    ],
    Permission.EDIT_ITEMS: [
        ("page", "GET /items/new", _page("GET", "/items/new")),
        ("page", "POST /items/new", _page("POST", "/items/new", {})),
        ("api", "POST /items", _api("POST", "/items", {})),
    ],
    Permission.IMPORT_ITEMS: [
        ("page", "GET /import", _page("GET", "/import")),
        ("page", "GET items template", _page("GET", "/import/template/items.xlsx")),
        ("page", "GET milestones template", _page("GET", "/import/template/milestones.xlsx")),
    ],
    Permission.REVIEW: [
        ("page", "GET /reviews", _page("GET", "/reviews")),
        ("bot", "/review", _bot_review),
    ],
    Permission.VIEW_BULLETINS: [
        ("page", "GET /bulletins", _page("GET", "/bulletins")),
        ("page", "GET /bulletins/preview", _page("GET", "/bulletins/preview?period=2026-11")),
        ("api", "GET /bulletins", _api("GET", "/bulletins")),
        ("api", "GET /bulletins/preview", _api("GET", "/bulletins/preview?period=2026-11")),
    ],
    Permission.ISSUE_BULLETINS: [("page", "POST /bulletins", _page("POST", "/bulletins", {}))],
    Permission.VIEW_DELIVERIES: [("page", "GET /deliveries", _page("GET", "/deliveries"))],
    Permission.RETRY_DELIVERIES: [
        # The row is not failed: the office gets 409, everyone else 403.
        ("page", "POST retry", _page("POST", "/deliveries/{o.notification_id}/retry", {}))
    ],
    Permission.VIEW_POLICIES: [("page", "GET /policies", _page("GET", "/policies"))],
    Permission.EDIT_POLICIES: [
        ("page", "GET /policies/id", _page("GET", "/policies/{o.policy_id}"))
    ],
    Permission.VIEW_CALENDAR: [("page", "GET /calendar", _page("GET", "/calendar"))],
    Permission.EDIT_CALENDAR: [
        ("page", "POST /calendar/override", _page("POST", "/calendar/override", {}))
    ],
    Permission.MANAGE_PEOPLE: [
        ("page", "GET /people", _page("GET", "/people")),
        ("page", "GET /people/new", _page("GET", "/people/new")),
        ("page", "GET people template", _page("GET", "/import/template/people.xlsx")),
    ],
    Permission.MANAGE_UNITS: [
        ("page", "GET /units", _page("GET", "/units")),
        ("api", "POST /units", _api("POST", "/units", {})),
        ("page", "GET units template", _page("GET", "/import/template/units.xlsx")),
    ],
    Permission.EDIT_TEMPLATES: [("page", "GET /templates", _page("GET", "/templates"))],
    Permission.MANAGE_TOKENS: [
        ("page", "GET /api-tokens", _page("GET", "/api-tokens")),
        ("api", "GET /tokens", _api("GET", "/tokens")),
    ],
    Permission.MANAGE_ROBOTS: [
        ("page", "GET /robots", _page("GET", "/robots")),
        ("page", "POST /robots/new", _page("POST", "/robots/new", {})),
        ("api", "GET /robots", _api("GET", "/robots")),
        ("api", "POST /robots", _api("POST", "/robots", {})),
    ],
}


async def test_every_permission_has_a_probe() -> None:
    assert set(PERMISSION_PROBES) == set(Permission)


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(
    ("permission", "surface", "probe"),
    [(p, s, name) for p, probes in PERMISSION_PROBES.items() for s, name, _ in probes],
)
async def test_permission(
    office: Office, role: str, permission: Permission, surface: str, probe: str
) -> None:
    [check] = [c for s, n, c in PERMISSION_PROBES[permission] if (s, n) == (surface, probe)]
    assert await check(office, role) is office.scopes[role].allows(permission)


# --- per-assignment actions: every action on every assignment, on every surface ------------


def _target(o: Office, key: str) -> tuple[int, int]:
    a = o.assignments[key]
    return a.item_id, a.id


async def _web_report(o: Office, role: str, key: str) -> bool:
    item_id, aid = _target(o, key)
    return await o.page(role, "POST", f"/items/{item_id}/assignments/{aid}/report", {"text": "网"})


async def _web_extension(o: Office, role: str, key: str) -> bool:
    item_id, aid = _target(o, key)
    form = {"new_due_on": "2027-01-15", "reason": "需协调", "progress": "过半"}
    return await o.page(role, "POST", f"/items/{item_id}/assignments/{aid}/extension", form)


async def _api_report(o: Office, role: str, key: str) -> bool:
    _, aid = _target(o, key)
    return await o.api(role, "POST", f"/assignments/{aid}/reports", {"text": "接口报告"})


async def _api_extension(o: Office, role: str, key: str) -> bool:
    _, aid = _target(o, key)
    body = {"reason": "需协调", "progress": "过半", "new_due_on": "2027-01-15"}
    return await o.api(role, "POST", f"/assignments/{aid}/extensions", body)


async def _bot_pick(o: Office, role: str, key: str) -> bool:
    return await o.press(role, Pick(flow=Flow.REPORT, aid=o.assignments[key].id).pack())


async def _bot_signoff(o: Office, role: str, key: str) -> bool:
    # A progress report awaits no sign-off: the principal hears "expired", others "not allowed".
    return await o.press(role, SignOff(rid=o.reports[key]).pack())


async def _web_review(o: Office, role: str, key: str) -> bool:
    path = f"/reviews/extension/{o.decided[key]}"
    return await o.page(role, "POST", path, {"decision": "reject"})


async def _api_review(o: Office, role: str, key: str) -> bool:
    return await o.api(role, "POST", f"/extensions/{o.decided[key]}/decision", {})


async def _bot_review_button(o: Office, role: str, key: str) -> bool:
    # The extension was decided already: a reviewer hears "expired", others "not allowed".
    return await o.press(role, Review(kind="x", id=o.decided[key], ok=False).pack())


ActionCheck = Callable[[Office, str, str], Awaitable[bool]]
ACTION_PROBES: dict[Action, list[tuple[str, str, ActionCheck]]] = {
    Action.REPORT: [
        ("page", "report", _web_report),
        ("page", "extension", _web_extension),
        ("api", "report", _api_report),
        ("api", "extension", _api_extension),
        ("bot", "pick", _bot_pick),
    ],
    Action.SIGN_OFF: [("bot", "sign off", _bot_signoff)],
    Action.REVIEW: [
        ("page", "decide", _web_review),
        ("api", "decide", _api_review),
        ("bot", "decide", _bot_review_button),
    ],
}


async def test_every_action_has_a_probe() -> None:
    assert set(ACTION_PROBES) == set(Action)


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("key", list(ITEMS))
@pytest.mark.parametrize(
    ("action", "surface", "probe"),
    [(a, s, name) for a, probes in ACTION_PROBES.items() for s, name, _ in probes],
)
async def test_action(
    office: Office, role: str, key: str, action: Action, surface: str, probe: str
) -> None:
    [check] = [c for s, n, c in ACTION_PROBES[action] if (s, n) == (surface, probe)]
    scope = office.scopes[role]
    expected = scope.can(action, office.assignments[key])
    if surface != "bot":
        expected = expected and scope.allows(Permission.VIEW) and await office.visible(role, key)
    assert await check(office, role, key) is expected


@pytest.mark.parametrize("role", ROLES)
async def test_bot_signoff_list(office: Office, role: str) -> None:
    answer = await office.command(role, "/signoff")
    allowed = say(office.people[role].locale, Sentence.NOT_ALLOWED) not in answer
    assert allowed is office.scopes[role].signs_off


# --- seeing: an item on the web and the API, the worklist in the bot, units in the API -------


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("key", list(ITEMS))
@pytest.mark.parametrize("surface", ["page", "api", "bot"])
async def test_item_visibility(office: Office, role: str, key: str, surface: str) -> None:
    item_id = office.items[key]
    scope = office.scopes[role]
    if surface == "bot":
        answer = "\n".join(await office.command(role, "/my"))
        assert (ITEMS[key] in answer) is await office.on_desk(role, key)
        return
    if surface == "page":
        seen = await office.page(role, "GET", f"/items/{item_id}")
    else:
        seen = await office.api(role, "GET", f"/items/{item_id}")
    assert seen is (scope.allows(Permission.VIEW) and await office.visible(role, key))


async def test_bot_my_marks_what_is_only_to_read(office: Office) -> None:
    [answer] = await office.command("liaison", "/my")
    lines = answer.split("\n")
    marker = say("zh", Sentence.VIEW_ONLY)
    # The liaison reports on their own unit's item; the subunit's is theirs to read.
    a = next(n for n, line in enumerate(lines) if ITEMS["A"] in line)
    a1 = next(n for n, line in enumerate(lines) if ITEMS["A1"] in line)
    assert lines[a + 2 : a + 3] != [marker] and lines[a1 + 2] == marker
    [answer] = await office.command("principal", "/my")
    assert marker in answer and answer.count(marker) == 1  # the principal signs off A


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("unit", UNITS)
async def test_unit_visibility(office: Office, role: str, unit: str) -> None:
    scope = office.scopes[role]
    unit_id = office.units[unit]
    seen = await office.api(role, "GET", f"/units/{unit_id}")
    assert seen is (scope.allows(Permission.VIEW) and scope.sees_unit(unit_id))
