"""The JSON API at /api/v1: its route table and `setup_api(app)`.

The table below is both what aiohttp serves and what /api/v1/openapi.json documents
(`web.openapi.build_document`), so routes and document cannot drift. Imports `web.api_*`,
`web.openapi` and `web.auth` only.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any, Final

from aiohttp import web

from models import AssignmentRole, ItemState, ReviewState, Role, Source
from supervision.access import Action, Permission, holders
from supervision.labels import LANGS
from web import (
    api_assignments,
    api_bulletins,
    api_items,
    api_milestones,
    api_people,
    api_robots,
    api_token_routes,
    api_units,
)
from web.api_core import API_PREFIX, ApiHandler, api_errors, guarded
from web.auth import add_public_prefix
from web.openapi import Operation, Param, build_document

__all__ = ["API_PREFIX", "OPENAPI_DOC", "ROUTES", "setup_api"]

OPENAPI_DOC = web.AppKey("openapi_doc", dict[str, Any])
API_VERSION: Final = "1.0.0"

_ID = r"{%s:\d+}"


def _id(name: str) -> str:
    return _ID % name


def _route(
    method: str,
    path: str,
    handler: ApiHandler,
    permission: Permission,
    *,
    summary: str,
    tag: str,
    acts: Action | None = None,
    **doc: Any,
) -> Operation:
    """One operation guarded by ``permission``; ``acts`` documents the per-assignment rule
    the use-case applies after it (`supervision.access.can`)."""
    who = ", ".join(t.value for t in holders(permission))
    if acts is not None:
        who += f"; then only who may {acts.value} on the assignment"
    return Operation(
        method=method,
        path=path,
        handler=guarded(handler, permission),
        operation_id=handler.__name__,
        summary=summary,
        tag=tag,
        access=who,
        **doc,
    )


def _p(name: str, kind: str, description: str, **schema: Any) -> Param:
    return Param(name, {"type": kind, **schema}, description)


def _one_of(name: str, kind: type[StrEnum], description: str) -> Param:
    """A query parameter taking the values of ``kind`` (the model's own enum)."""
    return _p(name, "string", description, enum=[v.value for v in kind])


_STATE = _one_of("state", ItemState, "lifecycle state")


async def openapi_json(request: web.Request) -> web.StreamResponse:
    """The OpenAPI 3.1 document of this API."""
    return web.json_response(request.app[OPENAPI_DOC])


ROUTES: Final[tuple[Operation, ...]] = (
    Operation(
        method="GET",
        path="/openapi.json",
        handler=openapi_json,
        operation_id="openapi",
        summary="This document",
        tag="meta",
        access="anyone",
        public=True,
    ),
    _route(
        "GET",
        "/me",
        api_people.get_me,
        Permission.VIEW,
        summary="Who the token acts for",
        tag="meta",
        response="Me",
    ),
    # items
    _route(
        "GET",
        "/items",
        api_items.list_items,
        Permission.VIEW,
        summary="List items",
        tag="items",
        response="Item",
        paged=True,
        keyset=True,
        query=(
            _STATE,
            _one_of("source", Source, "事项来源"),
            _p("unit_id", "integer", "items assigned to this unit"),
            _p("urgent", "boolean", "急件 only (true) or none (false)"),
            _p("overdue", "boolean", "with an active assignment past its deadline"),
            _p("due_from", "string", "deadline on or after", format="date"),
            _p("due_to", "string", "deadline on or before", format="date"),
            _p("q", "string", "text in the title or ref"),
        ),
    ),
    _route(
        "POST",
        "/items",
        api_items.create_item,
        Permission.EDIT_ITEMS,
        summary="Create an item",
        tag="items",
        body="ItemInput",
        response="Item",
        status=201,
        conflicts=True,
    ),
    _route(
        "GET",
        "/items/" + _id("item_id"),
        api_items.get_item,
        Permission.VIEW,
        summary="Get an item",
        tag="items",
        response="Item",
    ),
    _route(
        "PATCH",
        "/items/" + _id("item_id"),
        api_items.update_item,
        Permission.EDIT_ITEMS,
        summary="Change an item",
        tag="items",
        body="ItemPatch",
        response="Item",
        conflicts=True,
    ),
    _route(
        "POST",
        "/items/" + _id("item_id") + "/reopen",
        api_items.reopen,
        Permission.EDIT_ITEMS,
        summary="Send a closed item back to be done again (退回重办)",
        tag="items",
        body="ReopenInput",
        response="Item",
        conflicts=True,
    ),
    _route(
        "GET",
        "/items/" + _id("item_id") + "/timeline",
        api_items.get_timeline,
        Permission.VIEW,
        summary="An item's history (办理过程), oldest first",
        tag="items",
        response="TimelineEntry",
        paged=True,
    ),
    _route(
        "GET",
        "/items/" + _id("item_id") + "/history",
        api_items.get_history,
        Permission.VIEW,
        summary="An item's history told in words, as its page shows it, oldest first",
        tag="items",
        response="HistoryLine",
        paged=True,
        query=(_p("lang", "string", "zh or en (default: your locale)", enum=list(LANGS)),),
    ),
    # milestones
    _route(
        "GET",
        "/items/" + _id("item_id") + "/milestones",
        api_milestones.list_item_milestones,
        Permission.VIEW,
        summary="An item's milestones (阶段性节点), by date",
        tag="milestones",
        response="Milestone",
        paged=True,
    ),
    _route(
        "POST",
        "/items/" + _id("item_id") + "/milestones",
        api_milestones.create_milestone,
        Permission.EDIT_ITEMS,
        summary="Add a milestone to an open item",
        tag="milestones",
        body="MilestoneInput",
        response="Milestone",
        status=201,
        conflicts=True,
    ),
    _route(
        "PATCH",
        "/items/" + _id("item_id") + "/milestones/" + _id("milestone_id"),
        api_milestones.update_milestone,
        Permission.EDIT_ITEMS,
        summary="Change an open milestone, or record it done (done: true)",
        tag="milestones",
        body="MilestonePatch",
        response="Milestone",
        conflicts=True,
    ),
    # assignments
    _route(
        "GET",
        "/assignments",
        api_assignments.list_assignments,
        Permission.VIEW,
        summary="List assignments",
        tag="assignments",
        response="Assignment",
        paged=True,
        keyset=True,
        query=(
            _p("item_id", "integer", "of this item"),
            _p("unit_id", "integer", "of this unit"),
            _STATE,
            _one_of("role", AssignmentRole, "主办 lead or 协办 co"),
        ),
    ),
    _route(
        "GET",
        "/assignments/" + _id("assignment_id"),
        api_assignments.get_assignment,
        Permission.VIEW,
        summary="Get an assignment",
        tag="assignments",
        response="Assignment",
    ),
    _route(
        "POST",
        "/assignments/" + _id("assignment_id") + "/transfer",
        api_assignments.transfer,
        Permission.EDIT_ITEMS,
        summary="Hand an assignment to another unit or person (转办)",
        tag="assignments",
        body="TransferInput",
        response="Assignment",
        conflicts=True,
    ),
    # reports
    _route(
        "GET",
        "/assignments/" + _id("assignment_id") + "/reports",
        api_assignments.list_reports,
        Permission.VIEW,
        summary="List an assignment's reports",
        tag="reports",
        response="Report",
        paged=True,
    ),
    _route(
        "POST",
        "/assignments/" + _id("assignment_id") + "/reports",
        api_assignments.create_report,
        Permission.VIEW,
        acts=Action.REPORT,
        summary="File a progress report",
        tag="reports",
        body="ReportInput",
        response="Report",
        status=201,
        conflicts=True,
    ),
    # extensions
    _route(
        "GET",
        "/extensions",
        api_assignments.list_extensions,
        Permission.VIEW,
        summary="List extension requests",
        tag="extensions",
        response="Extension",
        paged=True,
        keyset=True,
        query=(
            _one_of("state", ReviewState, "review state"),
            _p("assignment_id", "integer", "of this assignment"),
            _p("unit_id", "integer", "of this unit's assignments"),
        ),
    ),
    _route(
        "GET",
        "/extensions/" + _id("extension_id"),
        api_assignments.get_extension,
        Permission.VIEW,
        summary="Get an extension request",
        tag="extensions",
        response="Extension",
    ),
    _route(
        "POST",
        "/assignments/" + _id("assignment_id") + "/extensions",
        api_assignments.create_extension,
        Permission.VIEW,
        acts=Action.REPORT,
        summary="Request an extension",
        tag="extensions",
        body="ExtensionInput",
        response="Extension",
        status=201,
        conflicts=True,
    ),
    _route(
        "POST",
        "/extensions/" + _id("extension_id") + "/decision",
        api_assignments.decide,
        Permission.REVIEW,
        summary="Approve or reject an extension request",
        tag="extensions",
        body="Decision",
        response="Extension",
        conflicts=True,
    ),
    # people and units
    _route(
        "GET",
        "/people",
        api_people.list_people,
        Permission.VIEW,
        summary="List people",
        tag="people",
        response="Person",
        paged=True,
        query=(
            _one_of("role", Role, "holding this role"),
            _p("unit_id", "integer", "of this unit"),
            _p("active", "boolean", "active (true) or deactivated (false)"),
            _p(
                "q",
                "string",
                "name, pinyin or pinyin initials (zs finds 张三), e-mail, unit name or code",
                maxLength=100,
            ),
        ),
    ),
    _route(
        "GET",
        "/people/" + _id("person_id"),
        api_people.get_person,
        Permission.VIEW,
        summary="Get a person",
        tag="people",
        response="Person",
    ),
    _route(
        "PUT",
        "/people/" + _id("person_id") + "/channels",
        api_people.set_channels,
        Permission.VIEW,
        summary="Set a person's channel preference (one's own; an admin anyone's)",
        tag="people",
        body="ChannelsInput",
        response="Person",
    ),
    _route(
        "GET",
        "/units",
        api_units.list_units,
        Permission.VIEW,
        summary="List units",
        tag="units",
        response="Unit",
        paged=True,
        query=(
            _p("active", "boolean", "active (true) or not (false)"),
            _p("parent_id", "integer", "children of this unit"),
        ),
    ),
    _route(
        "POST",
        "/units",
        api_units.create_unit,
        Permission.MANAGE_UNITS,
        summary="Create a unit",
        tag="units",
        body="UnitInput",
        response="Unit",
        status=201,
        conflicts=True,
    ),
    _route(
        "GET",
        "/units/" + _id("unit_id"),
        api_units.get_unit,
        Permission.VIEW,
        summary="Get a unit",
        tag="units",
        response="Unit",
    ),
    _route(
        "PATCH",
        "/units/" + _id("unit_id"),
        api_units.update_unit,
        Permission.MANAGE_UNITS,
        summary="Change a unit",
        tag="units",
        body="UnitPatch",
        response="Unit",
        conflicts=True,
    ),
    # bulletins
    _route(
        "GET",
        "/bulletins",
        api_bulletins.list_bulletins,
        Permission.VIEW_BULLETINS,
        summary="List stored bulletins",
        tag="bulletins",
        response="Bulletin",
        paged=True,
    ),
    _route(
        "GET",
        "/bulletins/preview",
        api_bulletins.preview_bulletin,
        Permission.VIEW_BULLETINS,
        summary="Compute a bulletin for a period (not stored)",
        tag="bulletins",
        response="BulletinData",
        query=(
            Param(
                "period",
                {"type": "string", "pattern": r"^\d{4}-(\d{2}|W\d{2}|Q[1-4])$"},
                "2026-11 (month), 2026-W47 (ISO week) or 2026-Q4 (quarter)",
                required=True,
            ),
            _p(
                "page",
                "integer",
                "page of `overdue_items` (a large office names thousands; "
                "`overdue_total` counts them all, `urged[].items` is left empty)",
                minimum=1,
            ),
            _p(
                "per_page", "integer", "overdue items per page (default 50, at most 200)", minimum=1
            ),
        ),
    ),
    _route(
        "GET",
        "/bulletins/" + _id("bulletin_id"),
        api_bulletins.get_bulletin_route,
        Permission.VIEW_BULLETINS,
        summary="Get a stored bulletin",
        tag="bulletins",
        response="Bulletin",
    ),
    # group robots
    _route(
        "GET",
        "/robots",
        api_robots.list_robots_route,
        Permission.MANAGE_ROBOTS,
        summary="List group robots (URLs masked, secrets never shown)",
        tag="robots",
        response="Robot",
        paged=True,
    ),
    _route(
        "POST",
        "/robots",
        api_robots.create_robot_route,
        Permission.MANAGE_ROBOTS,
        summary="Set up a group robot",
        tag="robots",
        body="RobotInput",
        response="Robot",
        status=201,
    ),
    _route(
        "GET",
        "/robots/" + _id("robot_id"),
        api_robots.get_robot_route,
        Permission.MANAGE_ROBOTS,
        summary="Get a group robot",
        tag="robots",
        response="Robot",
    ),
    _route(
        "PATCH",
        "/robots/" + _id("robot_id"),
        api_robots.update_robot_route,
        Permission.MANAGE_ROBOTS,
        summary="Change a group robot (URL and secret stay unless sent)",
        tag="robots",
        body="RobotPatch",
        response="Robot",
    ),
    _route(
        "DELETE",
        "/robots/" + _id("robot_id"),
        api_robots.remove_robot_route,
        Permission.MANAGE_ROBOTS,
        summary="Remove a group robot",
        tag="robots",
        response="Robot",
    ),
    _route(
        "POST",
        "/robots/" + _id("robot_id") + "/test",
        api_robots.test_robot_route,
        Permission.MANAGE_ROBOTS,
        summary="Send a test message through the robot and return its answer",
        tag="robots",
        response="RobotTest",
    ),
    # tokens
    _route(
        "GET",
        "/tokens",
        api_token_routes.list_tokens,
        Permission.MANAGE_TOKENS,
        summary="List API tokens",
        tag="tokens",
        response="Token",
        paged=True,
        query=(_p("person_id", "integer", "acting for this person"),),
    ),
    _route(
        "POST",
        "/tokens",
        api_token_routes.create_token_route,
        Permission.MANAGE_TOKENS,
        summary="Create an API token (its value is shown once)",
        tag="tokens",
        body="TokenInput",
        response="TokenCreated",
        status=201,
    ),
    _route(
        "DELETE",
        "/tokens/" + _id("token_id"),
        api_token_routes.revoke_token_route,
        Permission.MANAGE_TOKENS,
        summary="Revoke an API token",
        tag="tokens",
        response="Token",
        conflicts=True,
    ),
)


def setup_api(app: web.Application) -> None:
    """Mount /api/v1 (routes, JSON errors, the OpenAPI document) on ``app``."""
    app[OPENAPI_DOC] = build_document(
        ROUTES, prefix=API_PREFIX, title="Duban (督办) API", version=API_VERSION
    )
    app.middlewares.append(api_errors)
    add_public_prefix(app, API_PREFIX + "/")
    for op in ROUTES:
        app.router.add_route(op.method, API_PREFIX + op.path, op.handler)
