"""Log in, log out, and switch the UI language."""

from __future__ import annotations

from aiohttp import web

from web.app import DEPS, WebDeps
from web.auth import (
    SESSION_COOKIE,
    LoginResult,
    clear_session,
    login,
    maybe_viewer,
    request_address,
    safe_next,
    set_session,
)
from web.i18n import LANG_COOKIE, LANGS
from web.sessions import end_session
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
    outcome = await login(deps, email=email, password=password, ip=request_address(request))
    if outcome.result is not LoginResult.OK or outcome.session_id is None:
        key = "login.no_access" if outcome.result is LoginResult.NO_ACCESS else "login.bad"
        return render(
            request,
            "login.html",
            {"next": nxt, "email": email, "message": t_for(request, key)},
            status=401,
        )
    response = web.HTTPSeeOther(nxt)
    set_session(response, request, outcome.session_id)
    raise response


async def logout(request: web.Request) -> web.StreamResponse:
    """End the session (its row is deleted: a copy of the cookie stops working too)."""
    deps: WebDeps = request.app[DEPS]
    if value := request.cookies.get(SESSION_COOKIE):
        async with deps.sessions() as session, session.begin():
            await end_session(session, value)
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
