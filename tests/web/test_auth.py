"""Login, session cookie, CSRF, lock-out, logout and language switching."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select
from yarl import URL

from models import LoginAttempt, Person, Role
from supervision.accounts import hash_password
from testing import factories as f
from tests.web.conftest import PASSWORD, Seed, Web
from web.auth import SESSION_COOKIE


async def test_anonymous_pages_redirect_to_login(anon: Web) -> None:
    for path in ("/", "/items", "/people", "/templates", "/no-such-page"):
        response = await anon.get(path)
        assert response.status == 303, path
        assert response.headers["Location"].startswith("/login")
    response = await anon.get("/items?unit=1")
    location = URL(response.headers["Location"])
    assert location.path == "/login" and location.query["next"] == "/items?unit=1"


async def test_probes_answer_without_a_login(anon: Web) -> None:
    """A load balancer's liveness probe and the health check never meet the login page."""
    live = await anon.client.get("/livez", allow_redirects=False)
    assert live.status == 200 and await live.json() == {"status": "ok"}
    health = await anon.client.get("/healthz", allow_redirects=False)
    assert health.status in (200, 503) and "checks" in await health.json()


async def test_login_form_has_csrf_field_and_cookie(anon: Web) -> None:
    response = await anon.get("/login")
    assert response.status == 200
    html = await response.text()
    assert 'name="csrf_token"' in html
    cookies = " ".join(response.headers.getall("Set-Cookie"))
    assert "duban_csrf=" in cookies and "HttpOnly" in cookies
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Frame-Options"] == "DENY"


async def test_login_sets_httponly_samesite_session(anon: Web, seed: Seed) -> None:
    await anon.get("/login")
    response = await anon.post(
        "/login", {"email": "Admin@Example.gov.cn ", "password": PASSWORD, "next": "/items"}
    )
    assert response.status == 303
    assert response.headers["Location"] == "/items"
    header = next(h for h in response.headers.getall("Set-Cookie") if SESSION_COOKIE in h)
    assert "HttpOnly" in header
    assert "SameSite=Lax" in header
    anon.person_id = seed.admin
    assert (await anon.get("/login")).status == 303  # already logged in


async def test_post_without_csrf_token_is_refused(anon: Web, seed: Seed, sessions) -> None:
    await anon.get("/login")
    response = await anon.post(
        "/login", {"email": "admin@example.gov.cn", "password": PASSWORD}, csrf=False
    )
    assert response.status == 403
    response = await anon.post(
        "/login",
        {"email": "admin@example.gov.cn", "password": PASSWORD, "csrf_token": "forged"},
        csrf=False,
    )
    assert response.status == 403
    async with sessions() as s:
        assert await s.scalar(select(func.count(LoginAttempt.id))) == 0


async def test_logged_in_post_without_token_is_refused(as_admin: Web) -> None:
    response = await as_admin.post("/logout", csrf=False)
    assert response.status == 403
    assert (await as_admin.get("/login")).status == 303  # still logged in


async def test_wrong_password_and_unknown_email(anon: Web, seed: Seed) -> None:
    await anon.get("/login")
    response = await anon.post("/login", {"email": "admin@example.gov.cn", "password": "nope"})
    assert response.status == 401
    assert "邮箱或密码不正确" in await response.text()
    response = await anon.post("/login", {"email": "ghost@example.gov.cn", "password": "x" * 9})
    assert response.status == 401
    response = await anon.post("/login", {"email": "", "password": ""})
    assert response.status == 400


async def test_nine_failures_do_not_lock(anon: Web, seed: Seed) -> None:
    await anon.get("/login")
    for _ in range(9):
        await anon.post("/login", {"email": "admin@example.gov.cn", "password": "bad"})
    response = await anon.post("/login", {"email": "admin@example.gov.cn", "password": PASSWORD})
    assert response.status == 303


async def test_logout_ends_the_session(as_admin: Web) -> None:
    response = await as_admin.post("/logout")
    assert response.status == 303
    assert response.headers["Location"] == "/login"
    as_admin.person_id = None
    assert (await as_admin.get("/items")).status == 303


async def test_password_change_invalidates_sessions(as_admin: Web, seed: Seed, sessions) -> None:
    assert (await as_admin.get("/login")).status == 303
    async with sessions() as s, s.begin():
        person = await s.get_one(Person, seed.admin)
        person.password_hash = hash_password("a brand new password")
    response = await as_admin.get("/items")
    assert response.status == 303 and response.headers["Location"].startswith("/login")


async def test_deactivated_person_loses_access(as_admin: Web, seed: Seed, sessions) -> None:
    async with sessions() as s, s.begin():
        (await s.get_one(Person, seed.admin)).active = False
    assert (await as_admin.get("/login")).status == 200


async def test_session_expires_after_twelve_hours(as_admin: Web, clock) -> None:
    clock.advance(timedelta(hours=12, minutes=1))
    assert (await as_admin.get("/login")).status == 200


async def test_tampered_session_cookie_is_ignored(anon: Web, seed: Seed) -> None:
    await anon.login("admin@example.gov.cn", person_id=seed.admin)
    jar = anon.client.session.cookie_jar
    value = jar.filter_cookies(anon.client.make_url("/"))[SESSION_COOKIE].value
    body, _, mac = value.partition(".")
    jar.update_cookies({SESSION_COOKIE: body[:-2] + "xx." + mac}, anon.client.make_url("/"))
    assert (await anon.get("/login")).status == 200


async def test_person_without_web_role_cannot_log_in(anon: Web, seed: Seed, sessions) -> None:
    async with sessions() as s, s.begin():
        owner = await f.person(s, email="owner@example.gov.cn", roles={Role.OWNER})
        owner.password_hash = hash_password(PASSWORD)
    await anon.get("/login")
    response = await anon.post("/login", {"email": "owner@example.gov.cn", "password": PASSWORD})
    assert response.status == 401
    assert "没有网页访问权限" in await response.text()


async def test_next_must_stay_on_this_site(anon: Web, seed: Seed) -> None:
    await anon.get("/login")
    response = await anon.post(
        "/login",
        {"email": "admin@example.gov.cn", "password": PASSWORD, "next": "//evil.example/x"},
    )
    assert response.headers["Location"] == "/"


async def test_language_switch(anon: Web) -> None:
    response = await anon.get("/lang/en?next=/login")
    assert response.status == 303 and response.headers["Location"] == "/login"
    html = await (await anon.get("/login")).text()
    assert "Log in" in html and 'lang="en"' in html
    assert (await anon.get("/lang/fr")).status == 404


async def test_webhook_and_api_prefixes_skip_login_and_csrf(
    sessions, clock, aiohttp_client_factory
) -> None:
    from aiohttp import web as aioweb

    from tests.web.conftest import SECRET
    from web.admin import setup_admin
    from web.app import WebConfig, WebDeps, create_app
    from web.auth import add_public_prefix

    async def ok(request: aioweb.Request) -> aioweb.Response:
        return aioweb.json_response({"ok": True})

    def part(app: aioweb.Application) -> None:
        app.router.add_post("/telegram/webhook", ok)
        app.router.add_post("/hooks/wecom", ok)
        app.router.add_post("/private", ok)
        add_public_prefix(app, "/hooks/")

    deps = WebDeps(config=WebConfig(secret_key=SECRET), sessions=sessions, clock=clock)
    client = await aiohttp_client_factory(create_app(deps, [setup_admin, part]))
    assert (await client.post("/telegram/webhook", json={})).status == 200
    assert (await client.post("/hooks/wecom", json={})).status == 200
    assert (await client.post("/private", json={}, allow_redirects=False)).status == 403


async def test_next_is_judged_as_the_browser_reads_it(anon: Web, seed: Seed) -> None:
    """Tabs, newlines, backslashes, ``//`` and their encoded forms never leave the site."""
    offsite = [
        "/%09/evil.example",
        "/%0a/evil.example",
        "/%0d%0a/evil.example",
        "/\\evil.example",
        "/%5cevil.example",
        "/%2f%2fevil.example",
        "/%252f%252fevil.example",
        "//evil.example",
        "https://evil.example/",
        "evil.example",
    ]
    for value in offsite:
        response = await anon.get("/lang/en", params={"next": value})
        assert response.headers["Location"] == "/", value
    for value in ("/items?unit=1", "/items/3", "/login?next=/items"):
        response = await anon.get("/lang/zh", params={"next": value})
        assert response.headers["Location"] == value
    # The exact request from the issue: today it redirected off-site.
    response = await anon.get("/lang/en?next=/%09/x")
    assert response.headers["Location"] == "/"
    await anon.get("/login")
    response = await anon.post(
        "/login",
        {"email": "admin@example.gov.cn", "password": PASSWORD, "next": "/\t/evil.example"},
    )
    assert response.status == 303 and response.headers["Location"] == "/"
