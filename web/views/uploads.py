"""Files posted with a report on the item page: their names, sizes and count, checked.

The web form's side of attachments (the bot and e-mail have their own edges); the files are
stored with the report in the database (`supervision.timeline.DB_STORAGE`).
"""

from __future__ import annotations

import secrets
from typing import Any
from urllib.parse import unquote

from aiohttp import web

from supervision.labels import Problem, Sentence
from supervision.reports import AttachmentIn
from supervision.timeline import DB_STORAGE

__all__ = ["MAX_FILES", "MAX_UPLOAD", "file_name", "posted_files"]

#: the largest file, and the most files, one report takes from the web form
MAX_UPLOAD = 10 * 1024 * 1024
MAX_FILES = 5


def file_name(raw: str) -> str:
    """The uploaded file's name; an ASCII name with %XX escapes (as some clients send
    non-ASCII names) is decoded."""
    name = raw
    if "%" in raw and raw.isascii():
        try:
            name = unquote(raw, errors="strict")
        except UnicodeDecodeError:
            name = raw
    return name.replace("/", "_").replace("\\", "_")[-255:]


def posted_files(form: Any) -> tuple[list[tuple[AttachmentIn, bytes]], list[Problem]]:
    """The files posted as ``files``: (attachment, bytes) pairs, or the problems found."""
    out: list[tuple[AttachmentIn, bytes]] = []
    problems: list[Problem] = []
    for field_ in form.getall("files", []):
        if not isinstance(field_, web.FileField) or not field_.filename:
            continue
        data = field_.file.read(MAX_UPLOAD + 1)
        name = file_name(field_.filename)
        if len(data) > MAX_UPLOAD:
            problems.append((Sentence.FILE_TOO_LARGE, {"name": name, "mb": MAX_UPLOAD >> 20}))
            continue
        if not data:
            problems.append((Sentence.FILE_EMPTY, {"name": name}))
            continue
        attachment = AttachmentIn(
            file_id=f"web-{secrets.token_hex(12)}",
            file_name=name,
            mime_type=(field_.content_type or "application/octet-stream")[:127],
            size=len(data),
            storage=DB_STORAGE,
        )
        out.append((attachment, data))
    if len(out) > MAX_FILES:
        problems.append((Sentence.FILES_TOO_MANY, {"max": MAX_FILES}))
    return out, problems
