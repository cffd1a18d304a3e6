"""Import items, people or units from CSV/XLSX: a dry run with row errors, then commit,
then what it did (新增/更新/未变, computed and provisional deadlines); and each kind's
XLSX template.

The same use-case as ``duban import`` (`supervision.importing`). The checked file travels
back in the confirmation form (base64), and is checked again in full when committed. The file
is parsed in a worker thread: a large workbook takes seconds of CPU that the event loop must
not wait for. Row errors and the summary are said in the reader's language.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
from typing import Final
from urllib.parse import quote

from aiohttp import web

from models import Person
from supervision.access import Permission
from supervision.audit import Actor
from supervision.errors import DomainError
from supervision.import_columns import IMPORT_KINDS
from supervision.importing import ImportKind, ImportResult, import_rows
from supervision.tabular import MAX_FILE_BYTES, TableError, read_table
from web.access import require
from web.app import DEPS, WebDeps
from web.import_template import XLSX_TYPE, template_filename, template_xlsx
from web.views.common import lang_of, refused, render, t_for, table_error, text_field

# The checked file travels back base64-encoded, four characters for three bytes; up to one
# byte over the limit, so that `read_table` is the one that says the file is too large.
MAX_PAYLOAD: Final = (MAX_FILE_BYTES + 1 + 2) // 3 * 4
KINDS: Final = tuple(k.value for k in ImportKind)
#: deadlines listed on the page by name; the others are counted
LISTED: Final = 50


def _base(request: web.Request, kind: str) -> dict[str, object]:
    """What every state of the page shows: the kinds the reader may import, with their
    words and templates."""
    me = require(request, Permission.IMPORT_ITEMS)
    en = lang_of(request) == "en"
    kinds = [
        (each, IMPORT_KINDS[each].en.capitalize() if en else IMPORT_KINDS[each].zh)
        for each in KINDS
        if me.allows(NEEDS[each])
    ]
    return {"kinds": kinds, "kind": kind, "result": None, "payload": "", "filename": ""}


async def import_page(request: web.Request) -> web.StreamResponse:
    """GET /import: the upload form and the templates."""
    return render(request, "import.html", _base(request, "items"))


async def template_download(request: web.Request) -> web.StreamResponse:
    """GET /import/template/{kind}.xlsx[?lang=zh|en]: the kind's template, its headers in
    the office's language unless asked for the other."""
    me = require(request, Permission.IMPORT_ITEMS)
    kind = request.match_info["kind"]
    if kind not in NEEDS:
        raise web.HTTPNotFound()
    if not me.allows(NEEDS[kind]):
        raise web.HTTPForbidden(text="403: only an admin imports people and units")
    deps: WebDeps = request.app[DEPS]
    asked = request.query.get("lang", "")
    locale = asked if asked in ("zh", "en") else deps.config.office_locale
    body = await asyncio.to_thread(template_xlsx, kind, locale)
    name = quote(template_filename(kind, locale))
    return web.Response(
        body=body,
        content_type=XLSX_TYPE,
        headers={
            "Content-Disposition": f'attachment; filename="{template_filename(kind, "en")}"; '
            f"filename*=UTF-8''{name}"
        },
    )


#: What importing each kind needs (people and units are managed by the admin).
NEEDS: Final = {
    ImportKind.ITEMS.value: Permission.IMPORT_ITEMS,
    ImportKind.MILESTONES.value: Permission.IMPORT_ITEMS,
    ImportKind.PEOPLE.value: Permission.MANAGE_PEOPLE,
    ImportKind.UNITS.value: Permission.MANAGE_UNITS,
}


async def import_post(request: web.Request) -> web.StreamResponse:
    """POST /import: ``action=check`` (dry run of an upload) or ``action=commit``."""
    me = require(request, Permission.IMPORT_ITEMS)
    deps: WebDeps = request.app[DEPS]
    form = await request.post()
    kind = text_field(form, "kind")
    action = text_field(form, "action")
    context = _base(request, kind)
    if kind not in KINDS or action not in ("check", "commit"):
        return render(
            request,
            "import.html",
            {**context, "errors": [t_for(request, "import.bad_form")]},
            status=400,
        )
    if not me.allows(NEEDS[kind]):
        raise web.HTTPForbidden(text="403: only an admin imports people and units")
    if action == "check":
        upload = form.get("file")
        if not isinstance(upload, web.FileField):
            return render(
                request,
                "import.html",
                {**context, "errors": [t_for(request, "import.choose_file")]},
                status=400,
            )
        data = upload.file.read(MAX_FILE_BYTES + 1)  # read_table refuses one byte more
        filename = upload.filename or ""
    else:
        try:
            data = base64.b64decode(text_field(form, "payload", MAX_PAYLOAD), validate=True)
        except (binascii.Error, ValueError):
            return render(
                request,
                "import.html",
                {**context, "errors": [t_for(request, "import.bad_form")]},
                status=400,
            )
        filename = text_field(form, "filename", 255)
    try:
        table = await asyncio.to_thread(read_table, data, filename)
    except TableError as exc:
        errors = [table_error(request, exc)]
        return render(request, "import.html", {**context, "errors": errors}, status=400)
    try:
        async with deps.sessions() as session, session.begin():
            actor = Actor.of(await session.get_one(Person, me.person_id))
            result: ImportResult = await import_rows(
                session, kind, table, dry_run=action == "check", actor=actor, clock=deps.clock
            )
    except DomainError as exc:
        return render(
            request, "import.html", {**context, "errors": refused(request, exc)}, status=400
        )
    deadlines = _deadlines(result)
    return render(
        request,
        "import.html",
        {
            **context,
            "result": result,
            "done": action == "commit" and result.ok,
            "deadlines": deadlines,
            "more": len({ref for ref, _ in (*result.computed, *result.provisional)})
            - len(deadlines),
            "payload": base64.b64encode(data).decode() if result.ok and action == "check" else "",
            "filename": filename,
        },
        status=200 if result.ok else 400,
    )


def _deadlines(result: ImportResult) -> list[tuple[str, str, bool, bool]]:
    """The first items whose deadline is computed or provisional: (文号, date, computed,
    provisional)."""
    provisional = dict(result.provisional[:LISTED])
    computed = dict(result.computed[:LISTED])
    refs = list(dict.fromkeys([*computed, *provisional]))[:LISTED]
    return [
        (
            ref,
            (computed.get(ref) or provisional[ref]).isoformat(),
            ref in computed,
            ref in provisional,
        )
        for ref in refs
    ]


def routes(app: web.Application) -> None:
    """Register the import page."""
    app.router.add_get("/import", import_page, name="import_items")
    app.router.add_post("/import", import_post)
    app.router.add_get(r"/import/template/{kind:[a-z]+}.xlsx", template_download)
