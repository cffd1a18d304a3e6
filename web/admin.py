"""The admin web part: auth middleware, page templates, static files and every admin page.

``setup_admin(app)`` is an `AppPart` for `web.app.create_app`; imports `web.auth`,
`web.views.*` and through them `supervision/`, never `bot/`.
"""

from __future__ import annotations

from aiohttp import web

from web.auth import setup_auth
from web.views import (
    calendar,
    dashboard,
    deliveries,
    importing,
    items,
    login,
    people,
    policies,
    reviews,
    templates_admin,
)
from web.views.common import STATIC_DIR, setup_templates


def setup_admin(app: web.Application) -> None:
    """Register the auth middleware, templates, static files and admin routes."""
    setup_auth(app)
    setup_templates(app)
    app.router.add_static("/static/", STATIC_DIR, name="static")
    login.routes(app)
    dashboard.routes(app)
    items.routes(app)
    reviews.routes(app)
    templates_admin.routes(app)
    people.routes(app)
    importing.routes(app)
    calendar.routes(app)
    policies.routes(app)
    deliveries.routes(app)
