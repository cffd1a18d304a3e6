"""Rendering pages with the base layout, and small form-parsing helpers shared by the views.

Other web modules render with ``render(request, "x.html", {...})``; a template extends
``base.html`` and fills ``{% block content %}``. The context always has ``t`` (UI strings),
``lang``, ``me`` (the `Principal` or None), ``csrf_token``, ``nav``, ``waiting`` (what the
reviewer may decide, for the menu's badges) and ``office_name``.
Imports `web.auth`, `web.i18n`, `web.app`; no domain rules live here (the nav asks the
person's `supervision.access.Scope`).
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable, Mapping
from datetime import date
from pathlib import Path
from typing import Any, Final

from aiohttp import web
from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup

from supervision.access import Permission
from supervision.errors import DomainError, ValidationFailed
from supervision.labels import told
from supervision.tabular import TableError
from web.app import DEPS, WebDeps
from web.auth import Principal, csrf_token, maybe_viewer
from web.i18n import LANG_COOKIE, STRINGS, pick_lang, translate, translate_or

TEMPLATES_DIR: Final = Path(__file__).resolve().parent.parent / "templates"
STATIC_DIR: Final = Path(__file__).resolve().parent.parent / "static"
JINJA = web.AppKey("jinja", Environment)
#: What the logged-in reviewer may decide, counted for the menu's badge before the page is
#: rendered (`web.views.reviews.waiting_badge`); absent for everyone else.
WAITING = web.RequestKey("duban_waiting_for_review", int)
PAGE_SIZE: Final = 50
CSP: Final = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; object-src 'none'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'none'"
)

#: (route name, string key, the permission it needs); a route missing from the app is not shown.
NAV: Final[tuple[tuple[str, str, Permission], ...]] = (
    ("dashboard", "nav.dashboard", Permission.VIEW),
    ("items", "nav.items", Permission.VIEW),
    ("reviews", "nav.reviews", Permission.REVIEW),
    ("bulletins", "nav.bulletins", Permission.VIEW_BULLETINS),
    ("import_items", "nav.import", Permission.IMPORT_ITEMS),
    ("people", "nav.people", Permission.MANAGE_PEOPLE),
    ("units", "nav.units", Permission.MANAGE_UNITS),
    ("robots", "nav.robots", Permission.MANAGE_ROBOTS),
    ("templates", "nav.templates", Permission.EDIT_TEMPLATES),
    ("policies", "nav.policies", Permission.VIEW_POLICIES),
    ("calendar", "nav.calendar", Permission.VIEW_CALENDAR),
    ("deliveries", "nav.deliveries", Permission.VIEW_DELIVERIES),
    ("api_tokens", "nav.api_tokens", Permission.MANAGE_TOKENS),
)


@functools.cache
def page_templates() -> Environment:
    """The page template environment (autoescaped, strict), one per process: it reads only
    the template files, so every app of the process shares its compiled templates."""
    return Environment(
        loader=FileSystemLoader(str(TEMPLATES_DIR)),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def setup_templates(app: web.Application) -> None:
    """Give the app the page template environment."""
    app[JINJA] = page_templates()


def lang_of(request: web.Request) -> str:
    """The UI language for this request."""
    me = maybe_viewer(request)
    return pick_lang(request.cookies.get(LANG_COOKIE), me.locale if me else None)


def _nav(request: web.Request, me: Principal | None) -> list[dict[str, Any]]:
    if me is None:
        return []
    names = request.app.router.named_resources()
    out = []
    for name, key, permission in NAV:
        if me.allows(permission) and name in names:
            url = str(names[name].url_for())
            current = request.path == url or (url != "/" and request.path.startswith(url))
            badge = request.get(WAITING, 0) if name == "reviews" else 0
            out.append({"url": url, "key": key, "current": current, "badge": badge})
    return out


def render(
    request: web.Request,
    name: str,
    context: Mapping[str, Any] | None = None,
    *,
    status: int = 200,
) -> web.Response:
    """Render ``name`` with the layout context and ``context``."""
    full = {**_layout(request), **(context or {})}
    return _page(request.app[JINJA].get_template(name).render(full), status)


def render_fragment(request: web.Request, name: str, context: Mapping[str, Any]) -> str:
    """Render ``name`` (a piece of a page, no layout) with the layout context, as a string:
    what a script swaps into a page that was rendered with the same template."""
    return request.app[JINJA].get_template(name).render({**_layout(request), **context})


def _layout(request: web.Request) -> dict[str, Any]:
    """What every page's layout reads: strings, the viewer, the CSRF token, the nav."""
    deps: WebDeps = request.app[DEPS]
    lang = lang_of(request)
    me = maybe_viewer(request)

    def t(key: str, **values: object) -> str:
        return translate(key, lang, **values)

    def word(prefix: str, value: object) -> str:
        """A glossary word for a stored value; a value the glossary lacks shows as it is."""
        return translate_or(f"{prefix}.{value}", lang, str(value or ""))

    full: dict[str, Any] = {
        "t": t,
        "word": word,
        "lang": lang,
        "me": me,
        "csrf_token": csrf_token(request),
        "nav": _nav(request, me),
        "waiting": request.get(WAITING, 0),
        "office_name": deps.config.office_name,
        "tz": deps.config.tz,
        "path": request.path_qs,
        "request_path": request.path,
        "csrf_field": Markup('<input type="hidden" name="csrf_token" value="{}">').format(
            csrf_token(request)
        ),
    }
    msg = request.query.get("msg", "")
    full["flash"] = translate(msg, lang) if msg in STRINGS and msg.startswith("flash.") else None
    full["errors"] = []
    return full


async def render_large(
    request: web.Request,
    name: str,
    context: Mapping[str, Any] | None = None,
    *,
    status: int = 200,
) -> web.Response:
    """`render` for a page of thousands of cells (a provincial office's bulletin): the
    layout context is made on the loop, the template runs in a thread, so the event loop
    keeps answering probes and webhooks meanwhile."""
    full = {**_layout(request), **(context or {})}
    html = await asyncio.to_thread(request.app[JINJA].get_template(name).render, full)
    return _page(html, status)


def _page(html: str, status: int) -> web.Response:
    response = web.Response(text=html, content_type="text/html", status=status)
    response.headers["Cache-Control"] = "no-store"
    # Scripts only from our own static files: a value that slipped past escaping cannot run.
    response.headers["Content-Security-Policy"] = CSP
    return response


def t_for(request: web.Request, key: str, **values: object) -> str:
    """A UI string in the request's language."""
    return translate(key, lang_of(request), **values)


def refused(request: web.Request, exc: DomainError) -> list[str]:
    """Why a use-case refused, in the request's language when the catalogue words it."""
    if exc.said is not None:
        return [told(exc, lang_of(request))]
    return list(exc.errors) if isinstance(exc, ValidationFailed) else [str(exc)]


def table_error(request: web.Request, error: TableError) -> str:
    """Why an uploaded file could not be read, in the request's language."""
    return told(error, lang_of(request))


def page_strings(request: web.Request, prefix: str) -> Callable[[str], str]:
    """``s(key)``: the UI string ``prefix + key`` in the request's language, for pages whose
    templates name their strings without the prefix (bulletins, API tokens)."""
    lang = lang_of(request)
    return lambda key: translate(prefix + key, lang)


def clamp_page(requested: int, total: int) -> tuple[int, int]:
    """(page, pages) for ``total`` rows shown `PAGE_SIZE` at a time; a page past the end
    shows the last one."""
    pages = max(1, -(-total // PAGE_SIZE))
    return min(max(1, requested), pages), pages


def int_or_none(value: object) -> int | None:
    """An int from a form or query value; None for empty or malformed."""
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        return int(value.strip())
    except ValueError:
        return None


def date_or_none(value: object) -> date | None:
    """A date from an ISO ``YYYY-MM-DD`` form value; None for empty or malformed."""
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        return None


def path_id(request: web.Request, name: str = "id") -> int:
    """An integer id from the URL; 404 when it is not one."""
    try:
        return int(request.match_info[name])
    except (KeyError, ValueError):
        raise web.HTTPNotFound(text="404: not found") from None


def text_field(form: Mapping[str, Any], name: str, limit: int = 10_000) -> str:
    """A stripped text field from a form (empty when absent or not text)."""
    value = form.get(name)
    return value.strip()[:limit] if isinstance(value, str) else ""


def redirect(url: str) -> web.HTTPSeeOther:
    """A 303 to ``url`` (raise it)."""
    return web.HTTPSeeOther(url)
