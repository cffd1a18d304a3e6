"""The import's sentences (导入), Chinese and English: why a file cannot be read, what is
wrong with a row, and what an import did.

Part of the one catalogue: `supervision.labels` re-exports `ImportWord` and `IMPORT_WORDS`;
`say_import` says one. Values that differ by language are given as `Both`. Imports nothing of
Duban but `supervision.phrases` and `supervision.errors`, so `supervision.tabular` can use
it.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Final, NamedTuple, TypeVar

from supervision.errors import DomainError
from supervision.phrases import lang_of

__all__ = ["IMPORT_WORDS", "Both", "ImportWord", "say_import", "worded"]


class Both(NamedTuple):
    """A value of a sentence that is said differently in each language."""

    zh: str
    en: str


class ImportWord(StrEnum):
    """The import's sentences; values in braces are filled by `say_import`."""

    # the file (supervision.tabular)
    TOO_LARGE = "too_large"
    UNSUPPORTED = "unsupported"
    NOT_TEXT = "not_text"
    EMPTY = "empty"
    DUPLICATE_COLUMN = "duplicate_column"
    BAD_CSV = "bad_csv"
    BAD_XLSX = "bad_xlsx"
    NO_SHEET = "no_sheet"
    TOO_MANY_ROWS = "too_many_rows"
    TOO_MANY_COLUMNS = "too_many_columns"
    TOO_MANY_CELLS = "too_many_cells"
    TOO_BIG_UNPACKED = "too_big_unpacked"
    TOO_MANY_PARTS = "too_many_parts"
    # the header
    MISSING_COLUMN = "missing_column"
    UNKNOWN_COLUMN = "unknown_column"
    SAME_COLUMN_TWICE = "same_column_twice"
    # a row
    ROW = "row"
    REQUIRED = "required"
    TOO_LONG = "too_long"
    NOT_A_DATE = "not_a_date"
    NOT_A_REAL_DATE = "not_a_real_date"
    NOT_YES_NO = "not_yes_no"
    DUPLICATE_CODE = "duplicate_code"
    UNKNOWN_UNIT = "unknown_unit"
    PARENT_CYCLE = "parent_cycle"
    ROLES_REQUIRED = "roles_required"
    UNKNOWN_ROLE = "unknown_role"
    DUPLICATE_EMAIL = "duplicate_email"
    DUPLICATE_APP_ID = "duplicate_app_id"
    APP_ID_TAKEN = "app_id_taken"
    NO_UNIT_ID = "no_unit_id"
    UNIT_BELOW_ITSELF = "unit_below_itself"
    CODE_TAKEN = "code_taken"
    SELF_ADMIN = "self_admin"
    UNKNOWN_ROLES = "unknown_roles"
    NOT_A_WORKDAY = "not_a_workday"
    DATE_TWICE = "date_twice"
    BAD_EMAIL = "bad_email"
    UNIT_FOR_ROLES = "unit_for_roles"
    BAD_LOCALE = "bad_locale"
    BAD_PHONE = "bad_phone"
    BAD_APP_ID = "bad_app_id"
    DUPLICATE_REF = "duplicate_ref"
    UNKNOWN_SOURCE = "unknown_source"
    NO_PERSON = "no_person"
    ALREADY_LEAD = "already_lead"
    LISTED_TWICE = "listed_twice"
    CO_OWNER_COUNT = "co_owner_count"
    ITEM_NOT_OPEN = "item_not_open"
    NOT_A_CHANNEL = "not_a_channel"
    CHANNEL_TWICE = "channel_twice"
    DUE_BEFORE_RECEIVED = "due_before_received"
    NO_ITEM = "no_item"
    MILESTONE_TWICE = "milestone_twice"
    ITEM_CLOSED = "item_closed"
    # what an import did
    SUMMARY = "summary"
    DRY_RUN = "dry_run"
    BAD_ROWS = "bad_rows"
    COMPUTED_DUE = "computed_due"
    PROVISIONAL_DUE = "provisional_due"
    FALLBACK_YEAR = "fallback_year"


#: each sentence: (中文, English)
IMPORT_WORDS: Final[Mapping[ImportWord, tuple[str, str]]] = {
    ImportWord.TOO_LARGE: ("文件超过 {mb} MB。", "the file is larger than {mb} MB"),
    ImportWord.UNSUPPORTED: (
        "不支持的文件类型 {suffix}：请使用 .csv（UTF-8 或 GBK）或 .xlsx 文件。",
        "unsupported file type {suffix}: use .csv (UTF-8 or GBK) or .xlsx",
    ),
    ImportWord.NOT_TEXT: (
        "文件既不是 UTF-8 也不是 GB18030/GBK 文本：第 {line} 行第 {offset} 字节（0x{byte}）"
        "无法识别。请另存为“CSV UTF-8”或 XLSX 后重试。",
        "the file is neither UTF-8 nor GB18030/GBK text: byte {offset} (0x{byte}, line "
        "{line}) cannot be read; save it as “CSV UTF-8” or as XLSX and try again",
    ),
    ImportWord.EMPTY: ("文件为空：没有表头行。", "the file is empty: it has no header row"),
    ImportWord.DUPLICATE_COLUMN: (
        "第 1 行，{column}：表头中该列出现了两次。",
        "row 1, {column}: the column appears twice in the header",
    ),
    ImportWord.BAD_CSV: ("第 {row} 行：不是有效的 CSV。", "row {row}: not valid CSV"),
    ImportWord.BAD_XLSX: (
        "无法读取该 XLSX 工作簿（{reason}）。",
        "not a readable XLSX workbook ({reason})",
    ),
    ImportWord.NO_SHEET: ("工作簿中没有工作表。", "the workbook has no sheet"),
    ImportWord.TOO_MANY_ROWS: (
        "文件超过 {limit:,} 行。",
        "the file has more than {limit:,} rows (row {row:,} and beyond)",
    ),
    ImportWord.TOO_MANY_COLUMNS: (
        "第 {row} 行：第 {limit} 列之后还有内容（最多 {limit} 列）。",
        "row {row}: a value beyond column {limit} (at most {limit} columns)",
    ),
    ImportWord.TOO_MANY_CELLS: (
        "第 {row} 行：已填写的单元格超过 {limit:,} 个。",
        "row {row}: the file has more than {limit:,} filled cells",
    ),
    ImportWord.TOO_BIG_UNPACKED: (
        "{what}解压后达 {mb:,} MB，超过上限 {limit} MB。",
        "{what} unpacks to {mb:,} MB, more than {limit} MB",
    ),
    ImportWord.TOO_MANY_PARTS: (
        "不是工作簿：文件包含超过 {limit} 个部件。",
        "not a workbook: the file holds more than {limit} parts",
    ),
    ImportWord.MISSING_COLUMN: (
        "缺少此列（应有的列：{expected}）",
        "missing column (expected: {expected})",
    ),
    ImportWord.UNKNOWN_COLUMN: (
        "无法识别的列名（可用的列名：{accepted}）",
        "unknown column (accepted: {accepted})",
    ),
    ImportWord.SAME_COLUMN_TWICE: (
        "与“{other}”是同一列，只能出现一次",
        "the same column as “{other}”; give it once",
    ),
    ImportWord.ROW: ("第 {row} 行，{column}：{reason}", "row {row}, {column}: {reason}"),
    ImportWord.REQUIRED: ("必填", "required"),
    ImportWord.TOO_LONG: ("超过 {limit} 个字", "longer than {limit} characters"),
    ImportWord.NOT_A_DATE: (
        "“{text}”不是日期（请写作 2026-11-02、2026/11/02 或 2026年11月2日）",
        "'{text}' is not a date (use 2026-11-02, 2026/11/02 or 2026年11月2日)",
    ),
    ImportWord.NOT_A_REAL_DATE: ("“{text}”不是有效日期", "'{text}' is not a real date"),
    ImportWord.NOT_YES_NO: (
        "“{text}”不是是/否（请写 是/否、1/0 或 急）",
        "'{text}' is not yes or no (use 1/0, true/false, 是/否 or 急)",
    ),
    ImportWord.DUPLICATE_CODE: (
        "单位代码“{code}”重复（首见于第 {first} 行）",
        "duplicate code '{code}' (first on row {first})",
    ),
    ImportWord.UNKNOWN_UNIT: ("没有代码为“{code}”的单位", "unknown unit code '{code}'"),
    ImportWord.PARENT_CYCLE: ("上级单位形成循环：{cycle}", "parent cycle: {cycle}"),
    ImportWord.ROLES_REQUIRED: ("必填（至少一个角色）", "required (at least one role)"),
    ImportWord.UNKNOWN_ROLE: (
        "无法识别的角色“{role}”（可用：{roles}，多个以 ; 分隔）",
        "unknown role '{role}' (use {roles}, separated by ;)",
    ),
    ImportWord.DUPLICATE_EMAIL: (
        "邮箱“{email}”重复（首见于第 {first} 行）",
        "duplicate email '{email}' (first on row {first})",
    ),
    ImportWord.DUPLICATE_APP_ID: (
        "{what}重复（首见于第 {first} 行）",
        "duplicate {what} (first on row {first})",
    ),
    ImportWord.APP_ID_TAKEN: (
        "“{value}”已被其他人员使用",
        "'{value}' is already used by another person",
    ),
    ImportWord.NO_UNIT_ID: ("没有编号为 {id} 的单位", "no unit #{id}"),
    ImportWord.UNIT_BELOW_ITSELF: ("单位不能是自己的下级", "a unit cannot sit below itself"),
    ImportWord.CODE_TAKEN: ("单位代码“{code}”已被使用", "unit code '{code}' is already used"),
    ImportWord.SELF_ADMIN: (
        "不能取消自己的管理员角色，也不能停用自己",
        "you cannot remove your own admin role or deactivate yourself",
    ),
    ImportWord.UNKNOWN_ROLES: ("无法识别的角色：{roles}", "unknown role: {roles}"),
    ImportWord.NOT_A_WORKDAY: (
        "“{text}”不是工作日标记（请写 1/0、是/否 或 班/休）",
        "'{text}' is not a working-day mark (use 1/0, true/false, 是/否 or 班/休)",
    ),
    ImportWord.DATE_TWICE: (
        "{day} 出现了两次（首见于第 {first} 行）",
        "{day} is listed twice (row {first})",
    ),
    ImportWord.BAD_EMAIL: ("“{text}”不是有效的邮箱地址", "'{text}' is not an email address"),
    ImportWord.UNIT_FOR_ROLES: (
        "角色为{roles}的人员必须填写单位",
        "required for the role(s) {roles}",
    ),
    ImportWord.BAD_LOCALE: (
        "“{text}”不是可用的语言（请写 zh 或 en）",
        "'{text}' is not a language (use zh or en)",
    ),
    ImportWord.BAD_PHONE: ("“{text}”不是电话号码", "'{text}' is not a phone number"),
    ImportWord.BAD_APP_ID: (
        "“{text}”不是有效的{what}（{allowed}）",
        "'{text}' is not a {what} ({allowed})",
    ),
    ImportWord.DUPLICATE_REF: (
        "文号“{ref}”重复（首见于第 {first} 行）",
        "duplicate ref '{ref}' (first on row {first})",
    ),
    ImportWord.UNKNOWN_SOURCE: (
        "无法识别的来源“{text}”（可用：{sources}）",
        "unknown source '{text}' (use {sources})",
    ),
    ImportWord.NO_PERSON: ("没有邮箱为“{email}”的人员", "no person with email '{email}'"),
    ImportWord.ALREADY_LEAD: ("“{code}”已是牵头单位", "'{code}' is already the lead unit"),
    ImportWord.LISTED_TWICE: ("“{code}”列了两次", "'{code}' is listed twice"),
    ImportWord.CO_OWNER_COUNT: (
        "填了 {emails} 个邮箱，但协办单位有 {units} 个（按协办单位的顺序每个单位一个，"
        "留空的由该单位联络员负责）",
        "{emails} e-mails for {units} co units (one per co unit, in the order of co_units; "
        "leave one blank for its liaison)",
    ),
    ImportWord.ITEM_NOT_OPEN: (
        "事项 {ref} {state}，须先退回重办才能修改",
        "item {ref} is {state}; reopen it before changing it",
    ),
    ImportWord.NOT_A_CHANNEL: (
        "“{text}”不是人员可用的接收渠道（可用：{valid}）",
        "'{text}' is not a channel for a person (use {valid})",
    ),
    ImportWord.CHANNEL_TWICE: ("{channel} 列了两次", "{channel} is listed twice"),
    ImportWord.DUE_BEFORE_RECEIVED: (
        "完成时限 {due} 早于收到日期 {received}",
        "{due} is before received_on {received}",
    ),
    ImportWord.NO_ITEM: ("没有文号为“{ref}”的事项", "no item with ref '{ref}'"),
    ImportWord.MILESTONE_TWICE: (
        "同一事项的节点“{name}”重复（首见于第 {first} 行）",
        "milestone '{name}' of this item is repeated (first on row {first})",
    ),
    ImportWord.ITEM_CLOSED: (
        "事项“{ref}”已办结或已撤销",
        "item '{ref}' is closed or cancelled",
    ),
    ImportWord.SUMMARY: (
        "{kind}：共 {rows} 行，新增 {created}，更新 {updated}，未变 {unchanged}",
        "{kind}: {rows} row(s): {created} created, {updated} updated, {unchanged} unchanged",
    ),
    ImportWord.DRY_RUN: ("（仅检查，未写入任何数据）", " (dry run: nothing was written)"),
    ImportWord.BAD_ROWS: (
        "{kind}：{rows} 行中有 {bad} 行有误，共 {problems} 处问题；未写入任何数据",
        "{kind}: {bad} bad row(s) out of {rows}, {problems} problem(s); nothing was written",
    ),
    ImportWord.COMPUTED_DUE: (
        "{n} 项事项的完成时限为计算所得（未填完成时限，按督办规则自收到日期起计算）：{refs}",
        "{n} item(s) have a computed deadline (no due_on given: counted by the policy from "
        "received_on): {refs}",
    ),
    ImportWord.PROVISIONAL_DUE: (
        "{n} 项事项的完成时限待确认（{years} 年尚无官方工作日历，暂按周一至周五及法定节假日"
        "计算）：{refs}",
        "{n} item(s) have a provisional deadline (no official calendar for {years} yet: "
        "Mon–Fri less the statutory holidays): {refs}",
    ),
    ImportWord.FALLBACK_YEAR: (
        "{year} 年尚无官方工作日历：{year} 年的完成时限为临时计算（周一至周五除法定节假日），"
        "请用 `duban calendar import FILE` 导入国务院办公厅公布的安排后自动重算",
        "no official working-day calendar for {year}: deadlines in {year} are provisional "
        "(Mon–Fri less the statutory holidays) until the official schedule is imported with "
        "`duban calendar import FILE`",
    ),
}


def say_import(word: ImportWord, locale: str | None = "zh", **values: object) -> str:
    """The import's ``word`` in ``locale`` (Chinese unless English), a `Both` value said in
    the same language."""
    en = lang_of(locale) == "en"
    zh_text, en_text = IMPORT_WORDS[word]
    filled = {
        key: (value.en if en else value.zh) if isinstance(value, Both) else value
        for key, value in values.items()
    }
    return (en_text if en else zh_text).format(**filled)


E = TypeVar("E", bound=DomainError)


def worded(kind: type[E], word: ImportWord, **values: object) -> E:
    """A ``kind`` error whose message is ``word``: ``str()`` English, and said in a reader's
    language by `supervision.labels.told`."""
    error = kind(say_import(word, "en", **values))
    error.said = lambda locale: say_import(word, locale, **values)
    return error
