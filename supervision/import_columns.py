"""The columns of each import (导入的列), once: the code an English header uses, the Chinese
header offices write and the other headers they use for it, whether it is required, a note
on what goes in it and an example value.

The import reads headers through `column_of`; the XLSX template (`web.import_template`) and
the glossary page are written from the same table. Part of the one catalogue
(`supervision.labels` re-exports it). Imports `supervision.import_words` and
`supervision.phrases` only.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Final, TypeVar

from supervision.errors import ValidationFailed
from supervision.import_words import Both, ImportWord, say_import
from supervision.phrases import lang_of

__all__ = [
    "IMPORT_COLUMNS",
    "IMPORT_KINDS",
    "ImportColumn",
    "accepted_headers",
    "column_name",
    "column_of",
    "header_key",
]


@dataclass(frozen=True, slots=True)
class ImportColumn:
    """One column of an import file."""

    code: str  # the English header, and the key of the row's value
    zh: str  # the Chinese header (the template's, in the office locale zh)
    note: Both  # what goes in it
    example: str  # the template's example row
    required: bool = False
    aliases: tuple[str, ...] = ()  # other headers offices write for it


_C = ImportColumn

#: what each import holds, as its summary and the template name it
IMPORT_KINDS: Final[Mapping[str, Both]] = {
    "units": Both("单位", "units"),
    "people": Both("人员", "people"),
    "items": Both("督查事项", "items"),
    "milestones": Both("阶段性节点", "milestones"),
}

#: every import's columns, in the order the template lays them out
IMPORT_COLUMNS: Final[Mapping[str, tuple[ImportColumn, ...]]] = {
    "units": (
        _C(
            "code",
            "单位代码",
            Both(
                "单位的唯一代码，其他表格以此引用该单位",
                "the unit's unique code, used by the other files",
            ),
            "320115",
            required=True,
            aliases=("代码", "编码", "单位编码"),
        ),
        _C(
            "name",
            "单位名称",
            Both("单位全称", "the unit's full name"),
            "江宁区人民政府",
            True,
            ("名称",),
        ),
        _C(
            "parent_code",
            "上级单位代码",
            Both(
                "上级单位的代码（本表或已有单位）；留空为顶级单位",
                "the parent unit's code (in this file or stored); empty for a top unit",
            ),
            "3201",
            aliases=("上级代码", "上级单位"),
        ),
    ),
    "people": (
        _C("name", "姓名", Both("人员姓名", "the person's name"), "张伟", True, ("名字",)),
        _C(
            "email",
            "邮箱",
            Both(
                "电子邮箱，人员以此区分（重复导入按邮箱更新）", "e-mail address: the person's key"
            ),
            "zhangwei@example.gov.cn",
            required=True,
            aliases=("电子邮箱", "邮件地址"),
        ),
        _C(
            "unit",
            "单位代码",
            Both(
                "所在单位的代码；责任人、联络员、责任领导、主要负责同志必填",
                "the person's unit code; required for owners, liaisons, leaders and principals",
            ),
            "320115",
            aliases=("单位", "所在单位"),
        ),
        _C(
            "roles",
            "角色",
            Both(
                "责任人、联络员、责任领导、主要负责同志、督查室工作人员、管理员、只读，"
                "多个以 ; 分隔",
                "owner, liaison, leader, principal, supervisor, admin, viewer; several with ;",
            ),
            "责任人;联络员",
            required=True,
        ),
        _C(
            "locale",
            "语言",
            Both("消息的语言：zh 或 en，留空为 zh", "message language: zh or en (empty: zh)"),
            "zh",
        ),
        _C(
            "phone",
            "手机",
            Both("手机或电话号码", "mobile or phone number"),
            "13800000000",
            aliases=("电话", "手机号"),
        ),
        _C(
            "wecom_userid",
            "企业微信账号",
            Both("企业微信的 userid（字母、数字、_-.@）", "WeCom userid (letters, digits, _-.@)"),
            "ZhangWei",
            aliases=("企业微信",),
        ),
        _C(
            "dingtalk_userid",
            "钉钉账号",
            Both("钉钉的 userid", "DingTalk userid"),
            "",
            aliases=("钉钉",),
        ),
        _C(
            "feishu_user_id",
            "飞书账号",
            Both("飞书的 user_id 或 open_id", "Feishu user_id or open_id"),
            "",
            aliases=("飞书",),
        ),
        _C(
            "channels",
            "接收渠道",
            Both(
                "按顺序接收消息的渠道，如 企业微信;电子邮件；留空为默认",
                "the channels in order, e.g. wecom_app;email; empty for the default",
            ),
            "企业微信;电子邮件",
        ),
    ),
    "items": (
        _C(
            "ref",
            "文号",
            Both("事项的唯一文号；重复导入按文号更新", "the item's unique reference: its key"),
            "督〔2026〕1号",
            required=True,
        ),
        _C(
            "title",
            "标题",
            Both("督查事项的标题", "the item's title"),
            "推进老旧小区改造",
            required=True,
            aliases=("事项", "事项名称", "督查事项"),
        ),
        _C(
            "source",
            "来源",
            Both(
                "领导批示、文件要求、会议决定、年度重点工作、建议提案、省长信箱、其他",
                "instruction, document, meeting, annual_task, proposal, mailbox, other",
            ),
            "领导批示",
            required=True,
            aliases=("事项来源",),
        ),
        _C(
            "objective",
            "目标任务",
            Both("要达到的目标（可留空）", "what must be achieved (may be empty)"),
            "年底前完成 12 个小区改造",
            aliases=("要求", "督办要求"),
        ),
        _C(
            "content",
            "工作内容",
            Both("具体工作内容（可留空）", "the work to do (may be empty)"),
            "制定方案，分批实施",
        ),
        _C(
            "received_on",
            "收到日期",
            Both("收到或交办的日期，如 2026-11-02", "the day it was received, e.g. 2026-11-02"),
            "2026-11-02",
            required=True,
            aliases=("交办时间", "交办日期", "收文日期"),
        ),
        _C(
            "due_on",
            "完成时限",
            Both(
                "如 2026-12-31；留空则按督办规则计算（计算所得）",
                "e.g. 2026-12-31; empty: counted by the policy (computed)",
            ),
            "2026-12-31",
            aliases=("办结时限", "截止日期"),
        ),
        _C(
            "urgent",
            "急件",
            Both("是 或 否（留空为否）", "yes or no (empty: no)"),
            "否",
            aliases=("是否急件", "紧急"),
        ),
        _C(
            "lead_unit",
            "牵头单位",
            Both("主办单位的代码", "the lead unit's code"),
            "320115",
            required=True,
            aliases=("主办单位", "责任单位"),
        ),
        _C(
            "co_units",
            "协办单位",
            Both("协办单位的代码，多个以 ; 分隔（可留空）", "co units' codes, several with ;"),
            "320116",
            aliases=("配合单位",),
        ),
        _C(
            "owner_email",
            "责任人邮箱",
            Both(
                "牵头单位责任人的邮箱（须为该单位人员）",
                "the lead unit's responsible person's e-mail",
            ),
            "zhangwei@example.gov.cn",
            required=True,
            aliases=("责任人",),
        ),
        _C(
            "leader_email",
            "牵头领导邮箱",
            Both(
                "牵头（责任）领导的邮箱（可留空）", "the leader in charge's e-mail (may be empty)"
            ),
            "lihua@example.gov.cn",
            aliases=("牵头领导", "责任领导", "责任领导邮箱"),
        ),
        _C(
            "co_owner_emails",
            "协办责任人邮箱",
            Both(
                "按协办单位的顺序每个单位一个邮箱，以 ; 分隔；留空由该单位联络员负责",
                "one e-mail per co unit, in their order, with ;; empty: the unit's liaison",
            ),
            "wangfang@example.gov.cn",
            aliases=("协办责任人",),
        ),
    ),
    "milestones": (
        _C("ref", "文号", Both("所属事项的文号", "the item's reference"), "督〔2026〕1号", True),
        _C(
            "name",
            "节点名称",
            Both(
                "节点名称；同一事项同名节点按此更新",
                "the milestone's name (its key within the item)",
            ),
            "完成方案制定",
            required=True,
            aliases=("节点",),
        ),
        _C(
            "due_on",
            "节点时限",
            Both("节点的完成日期，如 2026-11-30", "the milestone's date, e.g. 2026-11-30"),
            "2026-11-30",
            required=True,
            aliases=("完成时限",),
        ),
        _C(
            "unit",
            "责任单位",
            Both("负责该节点的单位代码", "the responsible unit's code"),
            "320115",
            required=True,
            aliases=("单位代码",),
        ),
        _C(
            "owner_email",
            "责任人邮箱",
            Both("责任人的邮箱（可留空）", "the responsible person's e-mail (may be empty)"),
            "zhangwei@example.gov.cn",
            aliases=("责任人",),
        ),
        _C(
            "leader_email",
            "责任领导邮箱",
            Both("责任领导的邮箱（可留空）", "the leader's e-mail (may be empty)"),
            "lihua@example.gov.cn",
            aliases=("责任领导",),
        ),
    ),
}

_SPACES = re.compile(r"[\s\u3000]+")


def header_key(text: str) -> str:
    """A header as it is matched: no spaces, lower case, without a ``*`` marking it required."""
    return _SPACES.sub("", text).lower().rstrip("*＊")


_BY_HEADER: Final[Mapping[str, Mapping[str, str]]] = {
    kind: {
        header_key(name): column.code
        for column in columns
        for name in (column.code, column.zh, *column.aliases)
    }
    for kind, columns in IMPORT_COLUMNS.items()
}


def column_of(kind: str, header: str) -> str | None:
    """The code of the column ``header`` names in a ``kind`` file (Chinese or English)."""
    return _BY_HEADER[kind].get(header_key(header))


def column_name(kind: str, code: str, locale: str | None = "zh") -> str:
    """How a column is headed in ``locale``: its Chinese header, or its code in English."""
    if lang_of(locale) == "en":
        return code
    for column in IMPORT_COLUMNS[kind]:
        if column.code == code:
            return column.zh
    return code


def accepted_headers(kind: str, locale: str | None = "zh") -> str:
    """The headers a ``kind`` file may use, as a list to show: ``文号（ref）、标题（title）…``."""
    if lang_of(locale) == "en":
        return ", ".join(f"{c.code} ({c.zh})" for c in IMPORT_COLUMNS[kind])
    return "、".join(f"{c.zh}（{c.code}）" for c in IMPORT_COLUMNS[kind])


#: a form's problem: (the import column its field is, English, 中文) — as
#: `supervision.people.field_problems` gives them, or `field_problem` words one
FieldProblem = tuple[str, str, str]

V = TypeVar("V", bound=ValidationFailed)


def field_problem(column: str, word: ImportWord, **values: object) -> FieldProblem:
    """One problem of a form's field, worded by the catalogue in both languages."""
    return column, say_import(word, "en", **values), say_import(word, "zh", **values)


def form_refusal(kind: type[V], table: str, problems: Sequence[FieldProblem]) -> V:
    """A ``kind`` error naming every problem of a form whose fields are the ``table`` import's
    columns (people, units): ``str`` and ``errors`` in English (``column: reason``), and said
    in a reader's language with the column headed as in that language's import files."""
    english = [f"{column}: {en}" for column, en, _ in problems]
    error = kind("; ".join(english), english)

    def said(locale: str | None) -> str:
        if lang_of(locale) == "en":
            return "; ".join(english)
        return "；".join(f"{column_name(table, column)}：{zh}" for column, _, zh in problems)

    error.said = said
    return error
