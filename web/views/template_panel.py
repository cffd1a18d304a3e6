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
from supervision.template_words import HtmlMacro, TemplateHelper, TemplateMacro, TemplateVariable
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
def macro_signatures(
    locale: str, file: str = "_macros.j2"
) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """(name, required parameters) of each macro in the set's ``{locale}/{file}``."""
    source = (DEFAULT_TEMPLATES_DIR / locale / file).read_text(encoding="utf-8")
    out = []
    for name, params in _MACRO.findall(source):
        required = tuple(p.strip() for p in params.split(",") if p.strip() and "=" not in p)
        out.append((name, required))
    return tuple(out)


def import_line(locale: str, file: str = "_macros.j2", alias: str = "m") -> str:
    """The line that makes a shared macro file available as ``alias``."""
    return f'{{% import "{locale}/{file}" as {alias} with context %}}'


def macros(step: str, locale: str, lang: str, *, part: str = "text") -> list[Entry]:
    """The shared macros a template of ``step`` can call (an e-mail's HTML also the layout's
    ``h.…``), each file's import line first."""
    have = {name.split(".")[0] for name, _ in variable_names(sample_context(step, locale))}
    files: list[tuple[str, str, type[TemplateMacro] | type[HtmlMacro]]] = [
        ("_macros.j2", "m", TemplateMacro)
    ]
    if part == "html":
        files.append(("_html.j2", "h", HtmlMacro))
    entries: list[Entry] = []
    for file, alias, words in files:
        entries.append(
            Entry(
                f"import {alias}",
                import_line(locale, file, alias),
                translate("tpl.import_macros", lang, alias=alias),
            )
        )
        for name, required in macro_signatures(locale, file):
            if not set(_MACRO_NEEDS.get(name, ())) <= have:
                continue
            args = ", ".join('"…"' for _ in required)
            entries.append(
                Entry(
                    f"{alias}.{name}()",
                    f"{{{{ {alias}.{name}({args}) }}}}",
                    label(words(name), lang),
                )
            )
    return entries


#: what a click inserts for each helper (a function) or filter (after a value's ``|``)
_HELPER_INSERTS: Final[Mapping[TemplateHelper, str]] = {
    TemplateHelper.B: '{{ b("…") }}',
    TemplateHelper.I: '{{ i("…") }}',
    TemplateHelper.CODE: '{{ code("…") }}',
    TemplateHelper.QUOTE: '{{ quote("…") }}',
    TemplateHelper.LINK: '{{ link("…", links.item) }}',
    TemplateHelper.CN_DATE: "|cn_date",
    TemplateHelper.EN_DATE: "|en_date",
    TemplateHelper.CN_DATETIME: "|cn_datetime",
    TemplateHelper.EN_DATETIME: "|en_datetime",
    TemplateHelper.DAYS_PHRASE: "|days_phrase",
    TemplateHelper.PERCENT: "|percent",
    TemplateHelper.EXCERPT: "|excerpt(100)",
}


def helpers(lang: str) -> list[Entry]:
    """The formatting helpers and filters every template has."""
    return [
        Entry(
            f"{helper}()" if insert.startswith("{{") else f"|{helper}", insert, label(helper, lang)
        )
        for helper, insert in _HELPER_INSERTS.items()
    ]
