"""The template editor's side panel: the variables and shared macros a step's templates may
use, each with the catalogue's short description, and what clicking it inserts.

The variables are read from the step's sample context (what validation renders against), so
the panel lists exactly what a template of that step sees. Imports ``notifier.templating``
and the catalogue.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache
from typing import Final

from notifier.templating import DEFAULT_TEMPLATES_DIR, MessageContext, sample_context
from supervision.labels import label
from supervision.template_words import TemplateMacro, TemplateVariable
from web.i18n import translate


@dataclass(frozen=True, slots=True)
class Entry:
    """One line of the panel: its name, what a click inserts, and what it means."""

    name: str
    insert: str
    description: str


#: Set at render time, not part of the message's context.
_ALWAYS: Final = ("channel", "locale")
#: Top-level variables that only mean something beside another one.
_ONLY_WITH: Final = {"invite_app": "invite_link", "invite_expires_on": "invite_link"}
#: Views whose fields are listed one by one (a view's list fields stay one entry).
_LISTED_VIEWS: Final = (
    "item", "assignment", "milestone", "last_report", "extension", "review", "mail_reply",
    "bulletin", "digest",
)  # fmt: skip
#: What a macro reads besides what every message has; it is offered when the step has them.
_MACRO_NEEDS: Final[Mapping[str, tuple[str, ...]]] = {
    "due_note": ("item",),
    "leader_urge": ("assignment",),
    "due_line": ("assignment",),
    "item_block": ("item", "assignment"),
    "invite_block": ("invite_link",),
    "bulletin_block": ("bulletin",),
}
_MACRO: Final = re.compile(r"\{%-?\s*macro\s+(\w+)\(([^)]*)\)")


def _present(value: object) -> bool:
    return value is not None and value != "" and value != () and value != {}


def _insert(name: str, value: object, locale: str) -> str:
    if isinstance(value, date) and not isinstance(value, datetime):
        return f"{{{{ {name}|{'en_date' if locale == 'en' else 'cn_date'} }}}}"
    if isinstance(value, datetime):
        return f"{{{{ {name}|{'en_datetime' if locale == 'en' else 'cn_datetime'} }}}}"
    return f"{{{{ {name} }}}}"


def variable_names(context: MessageContext) -> list[tuple[str, object]]:
    """(name, sample value) of every variable a template sees in ``context``."""
    found: list[tuple[str, object]] = [(name, name) for name in _ALWAYS]
    for field in dataclasses.fields(context):
        name, value = field.name, getattr(context, field.name)
        if not _present(value) or not _present(getattr(context, _ONLY_WITH.get(name, name))):
            continue
        if name == "links" and isinstance(value, Mapping):
            found.extend((f"links.{k}", v) for k, v in value.items())
        elif name in _LISTED_VIEWS and dataclasses.is_dataclass(value):
            found.extend(
                (f"{name}.{sub.name}", getattr(value, sub.name))
                for sub in dataclasses.fields(value)
            )
        else:
            found.append((name, value))
    return found


def variables(step: str, locale: str, lang: str) -> list[Entry]:
    """The variables of ``step``'s templates in ``locale``, described in ``lang``."""
    return [
        Entry(name, _insert(name, value, locale), label(TemplateVariable(name), lang))
        for name, value in variable_names(sample_context(step, locale))
    ]


@cache
def macro_signatures(locale: str) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """(name, required parameters) of each macro in the set's ``{locale}/_macros.j2``."""
    source = (DEFAULT_TEMPLATES_DIR / locale / "_macros.j2").read_text(encoding="utf-8")
    out = []
    for name, params in _MACRO.findall(source):
        required = tuple(p.strip() for p in params.split(",") if p.strip() and "=" not in p)
        out.append((name, required))
    return tuple(out)


def import_line(locale: str) -> str:
    """The line that makes the shared macros available as ``m``."""
    return f'{{% import "{locale}/_macros.j2" as m with context %}}'


def macros(step: str, locale: str, lang: str) -> list[Entry]:
    """The shared macros a template of ``step`` can call, first the line importing them."""
    have = {name.split(".")[0] for name, _ in variable_names(sample_context(step, locale))}
    entries = [Entry("import", import_line(locale), translate("tpl.import_macros", lang))]
    for name, required in macro_signatures(locale):
        if not set(_MACRO_NEEDS.get(name, ())) <= have:
            continue
        args = ", ".join('"…"' for _ in required)
        entries.append(
            Entry(f"m.{name}()", f"{{{{ m.{name}({args}) }}}}", label(TemplateMacro(name), lang))
        )
    return entries
