"""The admin web part: auth middleware, page templates, static files and every admin page.

``setup_admin(app)`` is an `AppPart` for `web.app.create_app`; imports `web.auth`,
`web.views.*` and through them `supervision/`, never `bot/`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Final

from aiohttp import web

from web.auth import setup_auth
from web.views import (
    calendar,
    dashboard,
    deliveries,
    importing,
    item_batch,
    items,
    ledger,
    login,
    milestones,
    people,
    policies,
    reviews,
    templates_admin,
)
from web.views.common import STATIC_DIR, render, setup_templates

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
ERROR_PAGES: Final = {403: "403", 404: "404", 405: "405", 409: "409", 413: "413"}


@web.middleware
async def error_pages(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Show 403/404/… as a page in the layout to browsers; API and JSON clients get text."""
    try:
        return await handler(request)
    except web.HTTPException as exc:
        wants_html = "text/html" in request.headers.get("Accept", "")
        if (
            exc.status not in ERROR_PAGES
            or not wants_html
            or request.path.startswith(("/api/", "/static/", "/metrics"))
        ):
            raise
        message = (exc.text or exc.reason).removeprefix(f"{exc.status}: ")
        return render(
            request, "error.html", {"status": exc.status, "message": message}, status=exc.status
        )


def setup_admin(app: web.Application) -> None:
    """Register the auth middleware, templates, static files and admin routes."""
    setup_auth(app)
    setup_templates(app)
    app.middlewares.append(error_pages)
    app.router.add_static("/static/", STATIC_DIR, name="static")
    login.routes(app)
    dashboard.routes(app)
    items.routes(app)
    item_batch.routes(app)
    ledger.routes(app)
    milestones.routes(app)
    reviews.routes(app)
    templates_admin.routes(app)
    people.routes(app)
    importing.routes(app)
    calendar.routes(app)
    policies.routes(app)
    deliveries.routes(app)
