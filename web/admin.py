"""The admin web part: auth middleware, page templates, static files and every admin page.

``setup_admin(app)`` is an `AppPart` for `web.app.create_app`; imports `web.auth`,
`web.views.*` and through them `supervision/`, never `bot/`.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Final

from aiohttp import web

from web.auth import CsrfRefused, setup_auth
from web.views import (
    calendar,
    dashboard,
    deliveries,
    documents,
    importing,
    item_batch,
    items,
    ledger,
    login,
    milestones,
    people,
    policies,
    reviews,
    robots,
    templates_admin,
)
from web.views.common import STATIC_DIR, render, setup_templates

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
ERROR_PAGES: Final = frozenset({400, 403, 404, 405, 409, 413, 500})
#: what is never a page: the API, files, metrics and the chat platforms' callbacks
NOT_PAGES: Final = ("/api/", "/static/", "/metrics", "/telegram", "/wecom")
log = logging.getLogger(__name__)


def _wants_page(request: web.Request) -> bool:
    return "text/html" in request.headers.get("Accept", "") and not request.path.startswith(
        NOT_PAGES
    )


def _error_page(request: web.Request, status: int, key: str) -> web.Response:
    """The error page in the reader's language: what happened and what to do."""
    response = render(request, "error.html", {"status": status, "key": key}, status=status)
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    return response


@web.middleware
async def error_pages(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Show 403/404/500/… as a page in the layout, in the reader's language, to browsers;
    API and JSON clients get the status and its text."""
    if not _wants_page(request):
        return await handler(request)
    try:
        return await handler(request)
    except web.HTTPException as exc:
        if exc.status not in ERROR_PAGES:
            raise
        key = "error.csrf" if isinstance(exc, CsrfRefused) else f"error.{exc.status}"
        return _error_page(request, exc.status, key)
    except Exception:
        log.exception("%s %s failed", request.method, request.path)
        return _error_page(request, 500, "error.500")


def setup_admin(app: web.Application) -> None:
    """Register the auth middleware, templates, static files and admin routes."""
    # outermost, so that the auth layer's refusals (a stale form's CSRF) are pages too
    app.middlewares.insert(0, error_pages)
    setup_auth(app)
    app.middlewares.append(reviews.waiting_badge)  # needs the principal: after auth
    setup_templates(app)
    app.router.add_static("/static/", STATIC_DIR, name="static")
    login.routes(app)
    dashboard.routes(app)
    items.routes(app)
    documents.routes(app)
    item_batch.routes(app)
    ledger.routes(app)
    milestones.routes(app)
    reviews.routes(app)
    templates_admin.routes(app)
    people.routes(app)
    robots.routes(app)
    importing.routes(app)
    calendar.routes(app)
    policies.routes(app)
    deliveries.routes(app)
