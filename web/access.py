"""Page guards: ask the logged-in person's `supervision.access.Scope`, never a list of roles.

Imports `supervision.access` and `web.auth` only. An item outside the scope answers 404 (its
existence is not disclosed); a permission the tier lacks answers 403.
"""

from __future__ import annotations

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession

from supervision.access import Permission, item_visible
from web.auth import Principal, viewer


def require(request: web.Request, permission: Permission) -> Principal:
    """The principal, or 403 unless their scope grants ``permission``."""
    principal = viewer(request)
    if not principal.allows(permission):
        raise web.HTTPForbidden(text="403: your role may not open this page")
    return principal


async def require_item(session: AsyncSession, principal: Principal, item_id: int) -> None:
    """404 unless the item exists and is in the principal's scope."""
    if not await item_visible(session, principal.scope, item_id):
        raise web.HTTPNotFound(text="404: no such item")
