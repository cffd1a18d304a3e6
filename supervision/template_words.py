"""The glossary's words of the template editor (消息模板): template parts, message languages,
and a short description of every variable and shared macro a message template may use.

Part of the one catalogue: ``supervision.labels`` registers these enums in ``CATALOGUE``;
the editor's side panel and the templates list ask it. Imports nothing of Duban.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Final


class TemplatePart(StrEnum):
    """The parts one message is made of (an e-mail has three)."""

    SUBJECT = "subject"
    TEXT = "text"
    HTML = "html"


class MessageLanguage(StrEnum):
    """The language a message template is written in."""

    ZH = "zh"
    EN = "en"


class TemplateVariable(StrEnum):
    """What a message template sees (``notifier.templating.MessageContext`` and its views)."""

    STEP = "step"
    CHANNEL = "channel"
    LOCALE = "locale"
    RECIPIENT_NAME = "recipient_name"
    OFFICE_NAME = "office_name"
    REPLY_HINT = "reply_hint"
    GENERATED_ON = "generated_on"
    DAYS_SINCE_REPORT = "days_since_report"
    REPORT_INTERVAL_DAYS = "report_interval_days"
    REPLY_WITHIN_DAYS = "reply_within_days"
    PENDING = "pending"
    REQUESTER_NAME = "requester_name"
    INVITE_LINK = "invite_link"
    INVITE_EXPIRES_ON = "invite_expires_on"
    INVITE_APP = "invite_app"
    REASON = "reason"
    ITEM_UNITS = "item_units"
    RECIPIENT_ROLES = "recipient_roles"
    WORDS = "words"
    LINKS_ITEM = "links.item"
    LINKS_REPORT = "links.report"
    LINKS_EXTENSION = "links.extension"
    LINKS_REVIEW = "links.review"
    LINKS_BULLETIN = "links.bulletin"
    LINKS_WEB = "links.web"
    ITEM_REF = "item.ref"
    ITEM_TITLE = "item.title"
    ITEM_SOURCE = "item.source"
    ITEM_SOURCE_LABEL = "item.source_label"
    ITEM_OBJECTIVE = "item.objective"
    ITEM_CONTENT = "item.content"
    ITEM_URGENT = "item.urgent"
    ITEM_RECEIVED_ON = "item.received_on"
    ITEM_DUE_ON = "item.due_on"
    ITEM_DUE_IS_PROVISIONAL = "item.due_is_provisional"
    ITEM_DUE_IS_DEFAULT = "item.due_is_default"
    ITEM_DEFAULT_DUE_DAYS = "item.default_due_days"
    ASSIGNMENT_UNIT_NAME = "assignment.unit_name"
    ASSIGNMENT_ROLE = "assignment.role"
    ASSIGNMENT_ROLE_LABEL = "assignment.role_label"
    ASSIGNMENT_DUE_ON = "assignment.due_on"
    ASSIGNMENT_DUE_WEEKDAY_LABEL = "assignment.due_weekday_label"
    ASSIGNMENT_DAYS_LEFT = "assignment.days_left"
    ASSIGNMENT_LIGHT = "assignment.light"
    ASSIGNMENT_LIGHT_LABEL = "assignment.light_label"
    ASSIGNMENT_OWNER_NAME = "assignment.owner_name"
    ASSIGNMENT_LEADER_NAME = "assignment.leader_name"
    MILESTONE_NAME = "milestone.name"
    MILESTONE_DUE_ON = "milestone.due_on"
    MILESTONE_DUE_WEEKDAY_LABEL = "milestone.due_weekday_label"
    MILESTONE_DAYS_LEFT = "milestone.days_left"
    MILESTONE_UNIT_NAME = "milestone.unit_name"
    MILESTONE_OWNER_NAME = "milestone.owner_name"
    MILESTONE_LEADER_NAME = "milestone.leader_name"
    MILESTONE_LIGHT = "milestone.light"
    MILESTONE_LIGHT_LABEL = "milestone.light_label"
    LAST_REPORT_KIND = "last_report.kind"
    LAST_REPORT_TEXT = "last_report.text"
    LAST_REPORT_CREATED_AT = "last_report.created_at"
    LAST_REPORT_AUTHOR_NAME = "last_report.author_name"
    EXTENSION_REASON = "extension.reason"
    EXTENSION_PROGRESS = "extension.progress"
    EXTENSION_OLD_DUE_ON = "extension.old_due_on"
    EXTENSION_NEW_DUE_ON = "extension.new_due_on"
    EXTENSION_REQUESTED_BY = "extension.requested_by"
    REVIEW_SUBJECT = "review.subject"
    REVIEW_DECISION = "review.decision"
    REVIEW_COMMENT = "review.comment"
    REVIEW_REVIEWER_NAME = "review.reviewer_name"
    MAIL_REPLY_OUTCOME = "mail_reply.outcome"
    MAIL_REPLY_COMMAND = "mail_reply.command"
    MAIL_REPLY_REASON = "mail_reply.reason"
    MAIL_REPLY_SUBJECT = "mail_reply.subject"
    MAIL_REPLY_REPORT_NUMBER = "mail_reply.report_number"
    BULLETIN_NUMBER = "bulletin.number"
    BULLETIN_PERIOD_LABEL = "bulletin.period_label"
    BULLETIN_ISSUED_ON = "bulletin.issued_on"
    BULLETIN_ROWS = "bulletin.rows"
    BULLETIN_OVERDUE_ITEMS = "bulletin.overdue_items"
    BULLETIN_PRAISED_UNITS = "bulletin.praised_units"
    BULLETIN_MILESTONES = "bulletin.milestones"
    BULLETIN_MILESTONE_TOTALS = "bulletin.milestone_totals"
    DIGEST_KIND = "digest.kind"
    DIGEST_ENTRIES = "digest.entries"


class TemplateMacro(StrEnum):
    """The shared macros of the template set (``{locale}/_macros.j2``, imported as ``m``)."""

    URGENT = "urgent"
    HEADING = "heading"
    LIGHT_LABEL = "light_label"
    REPORT_KIND = "report_kind"
    DUE_NOTE = "due_note"
    GREETING = "greeting"
    LEADER_URGE = "leader_urge"
    REPLY_WITHIN = "reply_within"
    IS_CO = "is_co"
    DUTY = "duty"
    DUE_LABEL = "due_label"
    CO_NOTE = "co_note"
    DUE_LINE = "due_line"
    ITEM_BLOCK = "item_block"
    REPORT_BLOCK = "report_block"
    EXTENSION_BLOCK = "extension_block"
    REPLY_HINT = "reply_hint"
    FOOTER = "footer"
    REQUEST_LABEL = "request_label"
    REVIEW_BLOCK = "review_block"
    INVITE_BLOCK = "invite_block"
    BULLETIN_BLOCK = "bulletin_block"


class HtmlMacro(StrEnum):
    """The e-mail HTML layout's macros (``{locale}/_html.j2``, imported as ``h``)."""

    HEADING = "heading"
    ROW = "row"
    TABLE_OPEN = "table_open"
    ITEM_TABLE = "item_table"
    REPORT = "report"
    EXTENSION_TABLE = "extension_table"
    REVIEW_TABLE = "review_table"
    BUTTON = "button"
    BULLETIN_TABLES = "bulletin_tables"
    CO_NOTE = "co_note"


class TemplateHelper(StrEnum):
    """The formatting helpers (escaped for the channel) and filters every template has."""

    B = "b"
    I = "i"  # noqa: E741 (the helper's name)
    CODE = "code"
    QUOTE = "quote"
    LINK = "link"
    CN_DATE = "cn_date"
    EN_DATE = "en_date"
    CN_DATETIME = "cn_datetime"
    EN_DATETIME = "en_datetime"
    DAYS_PHRASE = "days_phrase"
    PERCENT = "percent"
    EXCERPT = "excerpt"


V = TemplateVariable
M = TemplateMacro
H = HtmlMacro
F = TemplateHelper

#: the pair of words of each member: (中文, English)
TEMPLATE_WORDS: Final[Mapping[type[StrEnum], Mapping[str, tuple[str, str]]]] = {
    TemplatePart: {
        TemplatePart.SUBJECT: ("邮件主题", "subject"),
        TemplatePart.TEXT: ("正文", "text"),
        TemplatePart.HTML: ("网页格式正文（HTML）", "HTML body"),
    },
    MessageLanguage: {
        MessageLanguage.ZH: ("中文", "Chinese"),
        MessageLanguage.EN: ("英文", "English"),
    },
    TemplateVariable: {
        V.STEP: ("消息类型（提醒、催办……）的代码", "the message's step code (remind, urge…)"),
        V.CHANNEL: ("发送渠道的代码", "the channel's code"),
        V.LOCALE: ("消息语言（zh 或 en）", "the message's language (zh or en)"),
        V.RECIPIENT_NAME: ("收件人姓名（群机器人为单位名称）", "recipient (a robot: the unit)"),
        V.OFFICE_NAME: ("督查室名称", "the supervision office's name"),
        V.REPLY_HINT: ("可直接回复本消息报送进展", "a reply to the message is filed"),
        V.GENERATED_ON: ("发送日期", "the day the message is sent"),
        V.DAYS_SINCE_REPORT: ("距最近报告的工作日数", "working days since the last report"),
        V.REPORT_INTERVAL_DAYS: ("定期报告间隔（工作日）", "periodic report interval (days)"),
        V.REPLY_WITHIN_DAYS: ("须在几个工作日内答复", "working days to answer in"),
        V.PENDING: ("待审核的申请种类", "the kind of request under review"),
        V.REQUESTER_NAME: ("申请人姓名", "who asked"),
        V.INVITE_LINK: ("绑定链接", "the invite link"),
        V.INVITE_EXPIRES_ON: ("绑定链接有效期", "the invite link's expiry date"),
        V.INVITE_APP: ("绑定的应用", "the app the invite binds"),
        V.REASON: ("退回重办或转办的理由", "why it was sent back or handed over"),
        V.ITEM_UNITS: ("事项的全部责任单位（列表）", "every unit on the item (a list)"),
        V.RECIPIENT_ROLES: ("收件人收到的原因（角色列表）", "why the recipient gets it (roles)"),
        V.WORDS: ("词汇表：灯号、环节、来源等的名称", "the glossary: lights, steps, sources…"),
        V.LINKS_ITEM: ("事项详情链接", "link to the item"),
        V.LINKS_REPORT: ("报送进展链接", "link to report progress"),
        V.LINKS_EXTENSION: ("延期申请链接", "link to the extension request"),
        V.LINKS_REVIEW: ("审核链接", "link to the review"),
        V.LINKS_BULLETIN: ("督查通报链接", "link to the bulletin"),
        V.LINKS_WEB: ("督办系统首页链接", "link to Duban"),
        V.ITEM_REF: ("文号", "reference number"),
        V.ITEM_TITLE: ("事项名称", "the item's title"),
        V.ITEM_SOURCE: ("事项来源代码", "the source's code"),
        V.ITEM_SOURCE_LABEL: ("事项来源（领导批示等）", "the source, in words"),
        V.ITEM_OBJECTIVE: ("目标任务", "objective"),
        V.ITEM_CONTENT: ("工作内容", "work content"),
        V.ITEM_URGENT: ("是否急件", "urgent or not"),
        V.ITEM_RECEIVED_ON: ("收到日期", "day received"),
        V.ITEM_DUE_ON: ("事项完成时限", "the item's deadline"),
        V.ITEM_DUE_IS_PROVISIONAL: ("时限按临时日历计算", "deadline from a provisional calendar"),
        V.ITEM_DUE_IS_DEFAULT: ("未明确时限，按默认工作日计", "no deadline given: the default"),
        V.ITEM_DEFAULT_DUE_DAYS: ("默认办理时限（工作日）", "default deadline (working days)"),
        V.ASSIGNMENT_UNIT_NAME: ("责任单位", "the responsible unit"),
        V.ASSIGNMENT_ROLE: ("主办或协办的代码", "lead or co, as a code"),
        V.ASSIGNMENT_ROLE_LABEL: ("主办 / 协办", "lead unit / co-operating unit"),
        V.ASSIGNMENT_DUE_ON: ("本单位完成时限", "the unit's deadline"),
        V.ASSIGNMENT_DUE_WEEKDAY_LABEL: ("时限是星期几", "the deadline's weekday"),
        V.ASSIGNMENT_DAYS_LEFT: ("剩余工作日（逾期为负数）", "working days left (negative: late)"),
        V.ASSIGNMENT_LIGHT: ("红黄绿灯的代码", "the light's code"),
        V.ASSIGNMENT_LIGHT_LABEL: ("红黄绿灯", "the light, in words"),
        V.ASSIGNMENT_OWNER_NAME: ("责任人", "responsible person"),
        V.ASSIGNMENT_LEADER_NAME: ("责任领导", "leader in charge"),
        V.MILESTONE_NAME: ("阶段性节点名称", "the milestone's name"),
        V.MILESTONE_DUE_ON: ("节点时限", "the milestone's date"),
        V.MILESTONE_DUE_WEEKDAY_LABEL: ("节点时限是星期几", "the milestone date's weekday"),
        V.MILESTONE_DAYS_LEFT: ("节点剩余工作日", "working days left to the milestone"),
        V.MILESTONE_UNIT_NAME: ("节点责任单位", "the milestone's unit"),
        V.MILESTONE_OWNER_NAME: ("节点责任人", "the milestone's responsible person"),
        V.MILESTONE_LEADER_NAME: ("节点责任领导", "the milestone's leader"),
        V.MILESTONE_LIGHT: ("节点红黄绿灯的代码", "the milestone light's code"),
        V.MILESTONE_LIGHT_LABEL: ("节点红黄绿灯", "the milestone's light, in words"),
        V.LAST_REPORT_KIND: ("最近报告种类（进展 / 办结）", "last report's kind"),
        V.LAST_REPORT_TEXT: ("最近报告内容", "last report's text"),
        V.LAST_REPORT_CREATED_AT: ("最近报告时间", "when the last report was filed"),
        V.LAST_REPORT_AUTHOR_NAME: ("最近报告报送人", "who filed the last report"),
        V.EXTENSION_REASON: ("延期原因", "why more time is asked"),
        V.EXTENSION_PROGRESS: ("延期申请中的当前进展", "progress given with the request"),
        V.EXTENSION_OLD_DUE_ON: ("原完成时限", "the old deadline"),
        V.EXTENSION_NEW_DUE_ON: ("申请延期至", "the deadline asked for"),
        V.EXTENSION_REQUESTED_BY: ("延期申请人", "who asked for more time"),
        V.REVIEW_SUBJECT: ("审核的申请种类", "what was reviewed"),
        V.REVIEW_DECISION: ("审核结果代码（同意 / 退回）", "the decision's code"),
        V.REVIEW_COMMENT: ("审核意见", "the reviewer's comment"),
        V.REVIEW_REVIEWER_NAME: ("审核人", "the reviewer"),
        V.MAIL_REPLY_OUTCOME: ("邮件回复已登记或被退回", "the reply was filed or refused"),
        V.MAIL_REPLY_COMMAND: ("邮件回复的种类", "what the reply asked"),
        V.MAIL_REPLY_REASON: ("退回原因", "why it was refused"),
        V.MAIL_REPLY_SUBJECT: ("来信主题", "the subject of the reply"),
        V.MAIL_REPLY_REPORT_NUMBER: ("登记的报告编号", "the filed report's number"),
        V.BULLETIN_NUMBER: ("通报期号", "the bulletin's number"),
        V.BULLETIN_PERIOD_LABEL: ("通报周期", "the period covered"),
        V.BULLETIN_ISSUED_ON: ("印发日期", "the day issued"),
        V.BULLETIN_ROWS: ("各单位排名（列表）", "the units' ranking (a list)"),
        V.BULLETIN_OVERDUE_ITEMS: ("逾期事项（列表）", "overdue items (a list)"),
        V.BULLETIN_PRAISED_UNITS: ("表扬单位（列表）", "units praised (a list)"),
        V.BULLETIN_MILESTONES: ("节点按期率（列表）", "milestone punctuality (a list)"),
        V.BULLETIN_MILESTONE_TOTALS: ("节点按期率合计", "milestone punctuality in total"),
        V.DIGEST_KIND: ("汇总种类", "the digest's kind"),
        V.DIGEST_ENTRIES: ("汇总的各条消息（列表）", "the messages folded in (a list)"),
    },
    TemplateMacro: {
        M.URGENT: ("急件时显示【急件】", "[URGENT] for an urgent item"),
        M.HEADING: ("加粗标题行，急件自动标注", "a bold heading, marked when urgent"),
        M.LIGHT_LABEL: ("红黄绿灯代码转为文字", "a light's code in words"),
        M.REPORT_KIND: ("报告种类转为文字", "a report kind in words"),
        M.DUE_NOTE: (
            "时限说明（默认时限、临时日历）",
            "a note on a default or provisional deadline",
        ),
        M.GREETING: ("称呼行（某某同志：）", "the greeting line"),
        M.LEADER_URGE: ("请分管领导督促落实", "asks the leader in charge to follow up"),
        M.REPLY_WITHIN: ("答复期限短语", "the answer-within phrase"),
        M.IS_CO: ("本单位是否协办", "whether the unit co-operates"),
        M.DUTY: ("承办 / 协办（配合办理）", "the unit's duty, by role"),
        M.DUE_LABEL: ("完成时限 / 反馈时限", "what the deadline is called, by role"),
        M.CO_NOTE: ("协办单位的配合说明", "the note to a co-operating unit"),
        M.DUE_LINE: ("时限行", "the deadline line"),
        M.ITEM_BLOCK: ("事项信息块（文号、来源、责任单位、时限）", "the item's block of facts"),
        M.REPORT_BLOCK: ("最近报告块", "the last report's block"),
        M.EXTENSION_BLOCK: ("延期申请块", "the extension request's block"),
        M.REPLY_HINT: ("回复提示（仅 Telegram）", "how to reply (Telegram only)"),
        M.FOOTER: ("落款：详情链接、督查室、日期", "the footer: link, office, date"),
        M.REQUEST_LABEL: ("申请种类转为文字", "a request kind in words"),
        M.REVIEW_BLOCK: ("审核结果块", "the review decision's block"),
        M.INVITE_BLOCK: ("绑定链接块", "the invite link's block"),
        M.BULLETIN_BLOCK: ("督查通报正文块", "the bulletin's body"),
    },
    HtmlMacro: {
        H.HEADING: ("邮件标题栏", "the e-mail's heading"),
        H.ROW: ("表格中的一行（名称、内容）", "one table row (name, value)"),
        H.TABLE_OPEN: ("表格开始标签", "opens a table"),
        H.ITEM_TABLE: ("事项信息表", "the item's table of facts"),
        H.REPORT: ("最近报告段落", "the last report's paragraph"),
        H.EXTENSION_TABLE: ("延期申请表", "the extension request's table"),
        H.REVIEW_TABLE: ("审核结果表", "the review decision's table"),
        H.BUTTON: ("链接按钮（文字、网址）", "a link button (text, URL)"),
        H.BULLETIN_TABLES: ("督查通报表格", "the bulletin's tables"),
        H.CO_NOTE: ("协办单位的配合说明", "the note to a co-operating unit"),
    },
    TemplateHelper: {
        F.B: ("加粗（按渠道转义）", "bold (escaped for the channel)"),
        F.I: ("斜体（按渠道转义）", "italics (escaped for the channel)"),
        F.CODE: ("等宽文字", "monospace text"),
        F.QUOTE: ("引用块", "a quotation block"),
        F.LINK: ("链接（文字、网址）", "a link (text, URL)"),
        F.CN_DATE: ("中文日期：2026年11月12日（星期四）", "Chinese date with weekday"),
        F.EN_DATE: ("英文日期：Thu 12 Nov 2026", "English date: Thu 12 Nov 2026"),
        F.CN_DATETIME: ("中文日期和时间", "Chinese date and time"),
        F.EN_DATETIME: ("英文日期和时间", "English date and time"),
        F.DAYS_PHRASE: ("剩余3个工作日 / 已逾期2个工作日", "3 working days left / 2 overdue"),
        F.PERCENT: ("百分比：0.875 → 87.5%", "a percentage: 0.875 → 87.5%"),
        F.EXCERPT: ("截取前 n 个字符", "the first n characters"),
    },
}
