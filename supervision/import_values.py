"""Reading one cell of an import file (CSV/XLSX): dates, yes/no, ``;`` lists, and the words
offices write for sources (来源) and roles (角色), Chinese or English.

Used by the imports (`supervision.importing`), the calendar import and the CLI. The
catalogue's own words (`supervision.labels`) are always accepted; the aliases here add the
short forms offices use.
"""

from __future__ import annotations

import re
from datetime import date, datetime

from models import Role, Source
from supervision.dateparse import match_full_date
from supervision.labels import labels

__all__ = [
    "FALSE_WORDS",
    "LIST_SPLIT",
    "ROLE_ALIASES",
    "SOURCE_ALIASES",
    "TRUE_WORDS",
    "NotARealDate",
    "parse_bool",
    "parse_date",
    "split_list",
]

SOURCE_ALIASES: dict[str, Source] = {
    **{s.value: s for s in Source},
    **{word: Source(value) for value, word in labels(Source, "zh").items()},
    "领导批示件": Source.INSTRUCTION,
    "批示": Source.INSTRUCTION,
    "文件": Source.DOCUMENT,
    "会议": Source.MEETING,
    "年度重点": Source.ANNUAL_TASK,
    "人大建议": Source.PROPOSAL,
    "政协提案": Source.PROPOSAL,
    "省长信箱来信": Source.MAILBOX,
}

ROLE_ALIASES: dict[str, Role] = {
    **{r.value: r for r in Role},
    "责任人": Role.OWNER,
    "联络员": Role.LIAISON,
    "责任领导": Role.LEADER,
    "分管领导": Role.LEADER,
    "主要负责同志": Role.PRINCIPAL,
    "督查室工作人员": Role.SUPERVISOR,
    "督查员": Role.SUPERVISOR,
    "管理员": Role.ADMIN,
    "查看": Role.VIEWER,
}

TRUE_WORDS = frozenset({"1", "true", "yes", "y", "是", "急", "急件", "t"})
FALSE_WORDS = frozenset({"0", "false", "no", "n", "否", "", "f"})
LIST_SPLIT = re.compile(r"[;；]")


class NotARealDate(ValueError):
    """A date written in a right form that does not exist (2026-02-30)."""


def parse_date(text: str) -> date:
    """A date written with its year, in the forms `supervision.dateparse` reads
    (2026-11-02, 2026/11/02, 2026年11月2日, …)."""
    value = text.strip()
    if full := match_full_date(value):
        try:
            return date(*full)
        except ValueError:
            raise NotARealDate(f"{value!r} is not a real date") from None
    # XLSX date cells arrive as ISO text; a datetime cell may carry a time.
    try:
        return datetime.fromisoformat(value).date()
    except ValueError:
        pass
    raise ValueError(f"{value!r} is not a date (use 2026-11-02, 2026/11/02 or 2026年11月2日)")


def parse_bool(text: str) -> bool:
    """1/0, true/false, yes/no, 是/否, 急 (urgent); empty is false."""
    value = text.strip().lower()
    if value in TRUE_WORDS:
        return True
    if value in FALSE_WORDS:
        return False
    raise ValueError(f"{text!r} is not yes or no (use 1/0, true/false, 是/否 or 急)")


def split_list(text: str) -> list[str]:
    """Values separated by ``;`` (or a full-width ``；``), blanks dropped."""
    return [part.strip() for part in LIST_SPLIT.split(text) if part.strip()]
