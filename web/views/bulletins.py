"""Bulletin pages (督查通报): list, preview a period, issue and send, view, download HTML/XLSX,
and the 督查通报 as an official document (DOCX, `web.bulletin_docx`).

Imports `supervision.bulletins`, `web.access`, `web.views.common` and `web.bulletin_export`.
Who reads and who issues is `Permission.VIEW_BULLETINS` / `ISSUE_BULLETINS` (supervision.access).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from datetime import date
from typing import Any, Final
from urllib.parse import quote

from aiohttp import web
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from models import Bulletin, Person, PersonRole, Role, Unit
from supervision.access import Permission
from supervision.audit import Actor
from supervision.bulletins import (
    BulletinData,
    compute_bulletin,
    freeze_bulletin,
    get_bulletin,
    send_bulletin,
)
from supervision.calendar_store import load_calendar
from supervision.clock import local_today
from supervision.doc_numbers import document_number, given_number, year_sequence
from supervision.errors import DomainError, NotFound, ValidationFailed
from supervision.periods import parse_period
from web.access import require
from web.app import DEPS, WebDeps
from web.auth import Principal
from web.bulletin_docx import BulletinLetter, bulletin_name, render_bulletin_docx
from web.bulletin_export import XLSX_TYPE, filename, render_html, render_xlsx, sections
from web.docx_layout import DOCX_TYPE, attachment_disposition
from web.views.common import (
    PAGE_SIZE,
    clamp_page,
    int_or_none,
    lang_of,
    page_strings,
    refused,
    render,
    render_large,
)

#: Roles offered as recipients; supervisors and principals are ticked by default.
RECIPIENT_ROLES: Final = (Role.SUPERVISOR, Role.PRINCIPAL, Role.LEADER, Role.ADMIN)
DEFAULT_ROLES: Final = (Role.SUPERVISOR, Role.PRINCIPAL)
#: Refs named per urged unit on a page (the overdue list below names every one, paged).
URGED_REFS: Final = 10


def _strings(request: web.Request) -> Callable[[str], str]:
    return page_strings(request, "bulletin.")


def _asked_page(request: web.Request, total: int) -> tuple[int, int]:
    """The page of the overdue list asked for (``?overdue_page=``), and the page count."""
    return clamp_page(int_or_none(request.query.get("overdue_page")) or 1, total)


def _overdue_page(request: web.Request, data: dict[str, Any], link: str) -> dict[str, Any]:
    """One page of the bulletin's overdue list for the page (the downloads hold it whole):
    a large office names thousands, and the page need not carry them all. A preview's data
    is already that page (``overdue_total`` set); a stored bulletin's is sliced here."""
    entries = data.get("overdue_items") or []
    total = data.get("overdue_total")
    if total is None:
        page, pages = _asked_page(request, len(entries))
        total, entries = len(entries), entries[(page - 1) * PAGE_SIZE : page * PAGE_SIZE]
    else:
        page, pages = data.get("overdue_page") or 1, max(1, -(-total // PAGE_SIZE))
    return {
        "overdue_rows": entries,
        "overdue_page": page,
        "overdue_pages": pages,
        "overdue_total": total,
        "overdue_link": link,
    }


async def _recipient_choices(session: Any) -> list[dict[str, Any]]:
    """Active people who may receive a bulletin, with their unit and default tick: the
    columns shown only (a province has hundreds of principals and leaders)."""
    offered = [r.value for r in RECIPIENT_ROLES]
    held: dict[int, set[str]] = {}
    for person_id, role in (
        await session.execute(
            select(PersonRole.person_id, PersonRole.role).where(PersonRole.role.in_(offered))
        )
    ).all():
        held.setdefault(person_id, set()).add(Role(role).value)
    rows = (
        await session.execute(
            select(Person.id, Person.name, Unit.name, Person.email, Person.telegram_chat_id)
            .outerjoin(Unit, Unit.id == Person.unit_id)
            .where(
                Person.active,
                Person.id.in_(select(PersonRole.person_id).where(PersonRole.role.in_(offered))),
            )
            .order_by(Person.id)
        )
    ).all()
    ticked = {r.value for r in DEFAULT_ROLES}
    return [
        {
            "id": person_id,
            "name": name,
            "unit": unit_name or "",
            "roles": sorted(held.get(person_id, ())),
            "checked": bool(held.get(person_id, set()) & ticked),
            "reachable": bool(email) or chat_id is not None,
        }
        for person_id, name, unit_name, email, chat_id in rows
    ]


async def list_page(request: web.Request) -> web.StreamResponse:
    """GET /bulletins: the issued bulletins and a period to preview."""
    me = require(request, Permission.VIEW_BULLETINS)
    return await _list(request, me, [], 200)


async def _list(
    request: web.Request, me: Principal, errors: Sequence[str], status: int
) -> web.Response:
    deps: WebDeps = request.app[DEPS]
    async with deps.sessions() as session:
        bulletins = (
            await session.scalars(
                select(Bulletin).order_by(Bulletin.created_at.desc(), Bulletin.id.desc()).limit(200)
            )
        ).all()
    today = local_today(deps.clock, deps.config.tz)
    return render(
        request,
        "bulletins/list.html",
        {
            "s": _strings(request),
            "bulletins": bulletins,
            "default_period": f"{today.year}-{today.month:02d}",
            "errors": list(errors),
            "can_issue": me.allows(Permission.ISSUE_BULLETINS),
        },
        status=status,
    )


async def _compute(request: web.Request, raw: str) -> BulletinData:
    deps: WebDeps = request.app[DEPS]
    period = parse_period(raw)
    async with deps.sessions() as session:
        calendar = await load_calendar(session)
        return await compute_bulletin(
            session,
            period,
            today=local_today(deps.clock, deps.config.tz),
            calendar=calendar,
            tz=deps.config.tz,
        )


async def preview_page(request: web.Request) -> web.StreamResponse:
    """GET /bulletins/preview?period=…: the figures as they stand, and the send form."""
    me = require(request, Permission.VIEW_BULLETINS)
    return await _preview(request, me, request.query.get("period", ""), [], 200)


async def _preview(
    request: web.Request,
    me: Principal,
    raw: str,
    errors: Sequence[str],
    status: int,
    ticked: set[int] | None = None,
) -> web.Response:
    deps: WebDeps = request.app[DEPS]
    try:
        computed = await _compute(request, raw)
    except DomainError as exc:
        return await _list(request, me, [str(exc)], 400)
    page, _pages = _asked_page(request, len(computed.overdue_items))
    # In a thread, as the page's template: thousands of overdue items at a provincial office.
    data = await asyncio.to_thread(computed.as_json, page=(page, PAGE_SIZE), urged_items=URGED_REFS)
    choices: list[dict[str, Any]] = []
    if me.allows(Permission.ISSUE_BULLETINS):
        async with deps.sessions() as session:
            choices = await _recipient_choices(session)
        if ticked is not None:
            for c in choices:
                c["checked"] = c["id"] in ticked
    return await render_large(
        request,
        "bulletins/preview.html",
        {
            "s": _strings(request),
            "b": data,
            "sections": sections(data),
            **_overdue_page(request, data, f"/bulletins/preview?period={quote(data['period'])}&"),
            "choices": choices,
            "can_issue": me.allows(Permission.ISSUE_BULLETINS),
            "errors": list(errors),
        },
        status=status,
    )


async def issue(request: web.Request) -> web.StreamResponse:
    """POST /bulletins: store the period's bulletin and queue it to the chosen recipients."""
    me = require(request, Permission.ISSUE_BULLETINS)
    deps: WebDeps = request.app[DEPS]
    form = await request.post()
    raw = form.get("period")
    period_text = raw.strip() if isinstance(raw, str) else ""
    ids: set[int] = set()
    for value in form.getall("recipient", []):
        if isinstance(value, str) and value.isdigit():
            ids.add(int(value))
    try:
        period = parse_period(period_text)
    except DomainError as exc:
        return await _list(request, me, [str(exc)], 400)
    try:
        async with deps.sessions() as session, session.begin():
            allowed = {c["id"] for c in await _recipient_choices(session)}
            people = (
                await session.scalars(
                    select(Person).where(Person.id.in_(ids & allowed)).order_by(Person.id)
                )
            ).all()
            if not people:
                raise ValidationFailed(_strings(request)("no_recipients"))
            calendar = await load_calendar(session)
            data = await compute_bulletin(
                session,
                period,
                today=local_today(deps.clock, deps.config.tz),
                calendar=calendar,
                tz=deps.config.tz,
            )
            actor = Actor.of(await session.get_one(Person, me.person_id))
            bulletin = await freeze_bulletin(session, data, actor=actor, clock=deps.clock)
            queued = await send_bulletin(
                session,
                bulletin,
                list(people),
                actor=actor,
                clock=deps.clock,
                calendar=calendar,
                tz=deps.config.tz,
            )
            bulletin_id = bulletin.id
    except DomainError as exc:
        return await _preview(request, me, period_text, [str(exc)], 400, ticked=ids)
    raise web.HTTPSeeOther(f"/bulletins/{bulletin_id}?queued={queued}")


async def detail_page(request: web.Request) -> web.StreamResponse:
    """GET /bulletins/{id}: a stored bulletin with its download links."""
    require(request, Permission.VIEW_BULLETINS)
    deps: WebDeps = request.app[DEPS]
    async with deps.sessions() as session:
        try:
            bulletin = await get_bulletin(session, int(request.match_info["id"]))
        except NotFound:
            raise web.HTTPNotFound(text="404: no such bulletin") from None
    return await _detail(request, bulletin, [], 200)


async def _detail(
    request: web.Request, bulletin: Bulletin, errors: Sequence[str], status: int
) -> web.Response:
    queued = request.query.get("queued", "")
    return await render_large(
        request,
        "bulletins/detail.html",
        {
            "s": _strings(request),
            "bulletin": bulletin,
            "b": bulletin.data,
            "sections": sections(bulletin.data or {}),
            **_overdue_page(request, bulletin.data or {}, f"/bulletins/{bulletin.id}?"),
            "queued": int(queued) if queued.isdigit() else None,
            "errors": list(errors),
        },
        status=status,
    )


async def _doc_number(
    request: web.Request, session: AsyncSession, year: int, bulletin_id: int | None
) -> str:
    """The 发文字号 of the DOCX: the one typed (``?number=``, checked), else the office's
    pattern with the bulletin's number in its year (the next one for a preview)."""
    typed = request.query.get("number", "")
    if typed.strip():
        return given_number(typed)
    n = await year_sequence(session, year, bulletin_id=bulletin_id)
    return document_number(request.app[DEPS].config.bulletin_number, year=year, n=n)


async def _download(
    request: web.Request, bulletin: dict[str, Any] | BulletinData, fmt: str, number: str = ""
) -> web.Response:
    """The bulletin as a file, built in a thread (its JSON form too, for a preview): a
    large office's XLSX takes a while, and the event loop keeps answering probes, webhooks
    and other pages meanwhile. ``number``: the DOCX's 发文字号."""
    deps: WebDeps = request.app[DEPS]
    office = deps.config.office_name
    name = filename(
        {"period": bulletin.period.key} if isinstance(bulletin, BulletinData) else bulletin, fmt
    )
    headers = {
        "Content-Disposition": f'attachment; filename="{name}"',
        "Cache-Control": "no-store",
        "X-Content-Type-Options": "nosniff",
    }

    def data() -> dict[str, Any]:
        return bulletin.as_json() if isinstance(bulletin, BulletinData) else bulletin

    if fmt == "docx":
        lang = lang_of(request)
        shown = data()
        issued = shown.get("issued_on")
        letter = BulletinLetter(
            office_name=office,
            number=number,
            copy_to=deps.config.bulletin_copy_to,
            dated=date.fromisoformat(issued) if issued else local_today(deps.clock, deps.config.tz),
        )
        body = await asyncio.to_thread(render_bulletin_docx, shown, letter, lang)
        headers["Content-Disposition"] = attachment_disposition(
            bulletin_name(shown, number, lang), name
        )
        return web.Response(body=body, content_type=DOCX_TYPE, headers=headers)
    if fmt == "xlsx":
        body = await asyncio.to_thread(lambda: render_xlsx(data(), office_name=office))
        return web.Response(body=body, content_type=XLSX_TYPE, headers=headers)
    return web.Response(
        text=await asyncio.to_thread(lambda: render_html(data(), office_name=office)),
        content_type="text/html",
        charset="utf-8",
        headers=headers,
    )


async def download(request: web.Request) -> web.StreamResponse:
    """GET /bulletins/{id}.html|.xlsx|.docx: a stored bulletin as a file."""
    require(request, Permission.VIEW_BULLETINS)
    deps: WebDeps = request.app[DEPS]
    fmt = request.match_info["fmt"]
    number = ""
    async with deps.sessions() as session:
        try:
            bulletin = await get_bulletin(session, int(request.match_info["id"]))
        except NotFound:
            raise web.HTTPNotFound(text="404: no such bulletin") from None
        if fmt == "docx":
            try:
                number = await _doc_number(request, session, bulletin.starts_on.year, bulletin.id)
            except DomainError as exc:  # the page again, saying why; no file
                return await _detail(request, bulletin, refused(request, exc), 400)
    return await _download(request, bulletin.data, fmt, number)


async def preview_download(request: web.Request) -> web.StreamResponse:
    """GET /bulletins/preview.html|.xlsx|.docx?period=…: the current figures as a file."""
    me = require(request, Permission.VIEW_BULLETINS)
    deps: WebDeps = request.app[DEPS]
    fmt = request.match_info["fmt"]
    number, raw = "", request.query.get("period", "")
    try:
        data = await _compute(request, raw)
    except DomainError as exc:
        return await _list(request, me, [str(exc)], 400)
    if fmt == "docx":
        try:
            async with deps.sessions() as session:
                number = await _doc_number(request, session, data.period.starts_on.year, None)
        except DomainError as exc:  # the preview again, saying why; no file
            return await _preview(request, me, raw, refused(request, exc), 400)
    return await _download(request, data, fmt, number)


def routes(app: web.Application) -> None:
    """Register the bulletin pages (route name ``bulletins`` is the nav entry)."""
    app.router.add_get("/bulletins", list_page, name="bulletins")
    app.router.add_post("/bulletins", issue)
    app.router.add_get("/bulletins/preview", preview_page, name="bulletin_preview")
    app.router.add_get(r"/bulletins/preview.{fmt:(html|xlsx|docx)}", preview_download)
    app.router.add_get(r"/bulletins/{id:\d+}", detail_page)
    app.router.add_get(r"/bulletins/{id:\d+}.{fmt:(html|xlsx|docx)}", download)


def setup_bulletin_pages(app: web.Application) -> None:
    """An `AppPart` adding the bulletin pages after the admin part (once, if not there yet)."""
    if "bulletins" not in app.router.named_resources():
        routes(app)
