"""Log in, log out, and switch the UI language."""

from __future__ import annotations

from aiohttp import web

from web.app import DEPS, WebDeps
from web.auth import (
    LoginResult,
    attempt_login,
    clear_session,
    make_session_cookie,
    maybe_viewer,
    safe_next,
    set_session,
)
from web.i18n import LANG_COOKIE, LANGS
from web.views.common import render, t_for, text_field


async def login_page(request: web.Request) -> web.StreamResponse:
    """The login form (logged-in people go straight on)."""
    nxt = safe_next(request.query.get("next"))
    if maybe_viewer(request) is not None:
        raise web.HTTPSeeOther(nxt)
    return render(request, "login.html", {"next": nxt, "email": "", "message": None})


async def login_post(request: web.Request) -> web.StreamResponse:
    """Check the credentials; on success set the session cookie and go on."""
    deps: WebDeps = request.app[DEPS]
    form = await request.post()
    email = text_field(form, "email", 254)
    password = form.get("password")
    nxt = safe_next(text_field(form, "next", 2000))
    if not email or not isinstance(password, str) or not password:
        return render(
            request,
            "login.html",
            {"next": nxt, "email": email, "message": t_for(request, "login.bad")},
            status=400,
        )
    async with deps.sessions() as session, session.begin():
        result, person = await attempt_login(
            session, email=email, password=password, clock=deps.clock, ip=request.remote
        )
    if result is not LoginResult.OK or person is None:
        key = {
            LoginResult.LOCKED: "login.locked",
            LoginResult.NO_ACCESS: "login.no_access",
        }.get(result, "login.bad")
        status = 429 if result is LoginResult.LOCKED else 401
        return render(
            request,
            "login.html",
            {"next": nxt, "email": email, "message": t_for(request, key)},
            status=status,
        )
    response = web.HTTPSeeOther(nxt)
    set_session(
        response, request, make_session_cookie(deps.config.secret_key, person, deps.clock.now())
    )
    raise response


async def logout(request: web.Request) -> web.StreamResponse:
    """Forget the session cookie."""
    response = web.HTTPSeeOther("/login")
    clear_session(response)
    raise response


async def switch_lang(request: web.Request) -> web.StreamResponse:
    """Set the ``lang`` cookie and go back."""
    lang = request.match_info["lang"]
    if lang not in LANGS:
        raise web.HTTPNotFound(text="404: unknown language")
    response = web.HTTPSeeOther(safe_next(request.query.get("next")))
    response.set_cookie(LANG_COOKIE, lang, max_age=365 * 86400, samesite="Lax", path="/")
    raise response


def routes(app: web.Application) -> None:
    """Register the login routes."""
    app.router.add_get("/login", login_page, name="login")
    app.router.add_post("/login", login_post)
    app.router.add_post("/logout", logout, name="logout")
    app.router.add_get("/lang/{lang}", switch_lang, name="lang")
