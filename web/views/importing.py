"""Import items, people or units from CSV/XLSX: a dry run with row errors, then commit.

The same use-case as ``duban import`` (`supervision.importing`). The checked file travels
back in the confirmation form (base64), and is checked again in full when committed. The file
is parsed in a worker thread: a large workbook takes seconds of CPU that the event loop must
not wait for.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
from typing import Final

from aiohttp import web

from models import Person
from supervision.access import Permission
from supervision.audit import Actor
from supervision.errors import DomainError
from supervision.importing import ImportKind, ImportResult, import_rows
from supervision.tabular import MAX_FILE_BYTES, TableError, read_table
from web.access import require
from web.app import DEPS, WebDeps
from web.views.common import redirect, render, table_error, text_field

# The checked file travels back base64-encoded, four characters for three bytes; up to one
# byte over the limit, so that `read_table` is the one that says the file is too large.
MAX_PAYLOAD: Final = (MAX_FILE_BYTES + 1 + 2) // 3 * 4
KINDS: Final = tuple(k.value for k in ImportKind)


async def import_page(request: web.Request) -> web.StreamResponse:
    """GET /import: the upload form."""
    require(request, Permission.IMPORT_ITEMS)
    return render(request, "import.html", {"kinds": KINDS, "kind": "items", "result": None})


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
    context = {"kinds": KINDS, "kind": kind, "result": None, "payload": "", "filename": ""}
    if kind not in KINDS or action not in ("check", "commit"):
        return render(request, "import.html", {**context, "errors": ["bad form"]}, status=400)
    if not me.allows(NEEDS[kind]):
        raise web.HTTPForbidden(text="403: only an admin imports people and units")
    if action == "check":
        upload = form.get("file")
        if not isinstance(upload, web.FileField):
            return render(
                request, "import.html", {**context, "errors": ["choose a file"]}, status=400
            )
        data = upload.file.read(MAX_FILE_BYTES + 1)  # read_table refuses one byte more
        filename = upload.filename or ""
    else:
        try:
            data = base64.b64decode(text_field(form, "payload", MAX_PAYLOAD), validate=True)
        except (binascii.Error, ValueError):
            return render(
                request, "import.html", {**context, "errors": ["bad payload"]}, status=400
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
        return render(request, "import.html", {**context, "errors": [str(exc)]}, status=400)
    if action == "commit" and result.ok:
        raise redirect(
            f"/import?msg=flash.saved&created={result.created}&updated={result.updated}"
            f"&unchanged={result.unchanged}"
        )
    return render(
        request,
        "import.html",
        {
            **context,
            "result": result,
            "payload": base64.b64encode(data).decode() if result.ok else "",
            "filename": filename,
        },
        status=200 if result.ok else 400,
    )


def routes(app: web.Application) -> None:
    """Register the import page."""
    app.router.add_get("/import", import_page, name="import_items")
    app.router.add_post("/import", import_post)
