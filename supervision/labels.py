"""The glossary: every user-visible word of the domain, in Chinese and English, once.

Templates (through the views ``notifier.context`` builds), web pages, the bot and the CLI read
their words for steps, sources, states, roles, channels, decisions, requests, lights, delivery
statuses and audit actions here; nothing else spells them. docs/GLOSSARY.md explains them.
Whole sentences (prompts, confirmations, refusals) are `Sentence` entries, said with `say`;
a refusal built with `refusal` is said in each reader's language by `told`.
Imports only ``models``, ``supervision.errors``, ``supervision.light`` and
``supervision.phrases`` (the days phrase).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from enum import StrEnum
from typing import Final, TypeVar

from models import (
    AssignmentRole,
    AuditAction,
    AuditEntity,
    Channel,
    Decision,
    DeliveryOutcome,
    InboundOutcome,
    ItemState,
    MessageKind,
    MilestoneState,
    NotificationStatus,
    Origin,
    ReportKind,
    RequestKind,
    ReviewState,
    Role,
    Source,
    StepChannel,
    StepKind,
)
from supervision.errors import DomainError, ValidationFailed
from supervision.light import Light
from supervision.phrases import LANGS, Lang, days_phrase, lang_of, working_days

__all__ = [
    "CATALOGUE",
    "CHANNEL_PREFS",
    "DEADLINE",
    "DUTY",
    "LANGS",
    "SENTENCES",
    "Button",
    "Lang",
    "Problem",
    "Sentence",
    "channel_prefs_word",
    "co_marked",
    "days_phrase",
    "label",
    "label_of",
    "labels",
    "lang_of",
    "refusal",
    "refusals",
    "say",
    "step_label",
    "told",
    "words",
    "working_days",
]


class Button(StrEnum):
    """The words on the buttons and commands people press (bot, WeCom cards, e-mail links)."""

    REPORT = "report"
    CLOSE = "close"
    EXTEND = "extend"
    VIEW = "view"
    SIGN_OFF = "sign_off"
    MY_ITEMS = "my_items"
    REVIEW = "review"
    CONFIRM = "confirm"
    CANCEL = "cancel"
    SETTINGS = "settings"
    ACKNOWLEDGE = "acknowledge"
    DIGEST_REPORT = "digest_report"
    DIGEST_CLOSE = "digest_close"
    DIGEST_EXTEND = "digest_extend"


class Sentence(StrEnum):
    """Whole sentences people are told: prompts, confirmations and refusals (bot, WeCom,
    e-mail answers, web, CLI). Values in braces are filled by `say`."""

    OFFICE = "office"
    # binding a chat (strangers are told in Chinese, and English when their Telegram is)
    HOW_TO_BIND = "how_to_bind"
    PRIVATE_ONLY = "private_only"
    GREET = "greet"
    ALREADY_BOUND = "already_bound"
    INVITE_UNKNOWN = "invite_unknown"
    INVITE_USED = "invite_used"
    INVITE_EXPIRED = "invite_expired"
    # the worklist
    NO_OPEN = "no_open"
    OPEN_ITEMS = "open_items"
    ITEM_LINE = "item_line"
    VIEW_ONLY = "view_only"
    # filing, asking, confirming
    FILED = "filed"
    COMPLETION_FILED = "completion_filed"
    TO_SIGNOFF = "to_signoff"
    TO_REVIEW = "to_review"
    EXTENSION_FILED = "extension_filed"
    CONFIRM_ONE = "confirm_one"
    CHOOSE_ITEM = "choose_item"
    CHOOSE_FOR_COMPLETE = "choose_for_complete"
    CHOOSE_FOR_EXTEND = "choose_for_extend"
    ASK_REPORT = "ask_report"
    ASK_SUMMARY = "ask_summary"
    ASK_REASON = "ask_reason"
    ASK_PROGRESS = "ask_progress"
    ASK_DATE = "ask_date"
    ASK_COMMENT = "ask_comment"
    CANCELLED = "cancelled"
    NOTHING_TO_CANCEL = "nothing_to_cancel"
    SEND_TEXT_OR_FILE = "send_text_or_file"
    SEND_TEXT = "send_text"
    REPORT_EDITED = "report_edited"
    # review and sign-off
    REVIEW_NONE = "review_none"
    REVIEW_COMPLETION = "review_completion"
    REVIEW_EXTENSION = "review_extension"
    SIGNOFF_NONE = "signoff_none"
    SIGNOFF_ITEM = "signoff_item"
    SIGNED_OFF = "signed_off"
    APPROVED = "approved"
    REJECTED = "rejected"
    # refusals
    NOT_ALLOWED = "not_allowed"
    EXPIRED = "expired"
    APOLOGY = "apology"
    UNKNOWN_COMMAND = "unknown_command"
    SETTINGS_HINT = "settings_hint"
    ERROR = "error"
    REASON_REQUIRED = "reason_required"
    MESSAGE_EXPIRED = "message_expired"
    UNKNOWN_BUTTON = "unknown_button"
    BAD_DATE = "bad_date"
    NO_SUCH_ASSIGNMENT = "no_such_assignment"
    ASSIGNMENT_CLOSED = "assignment_closed"
    NOT_OPEN = "not_open"
    NOT_OPEN_FOR_EXTENSION = "not_open_for_extension"
    DEADLINE_PASSED = "deadline_passed"
    NO_SUCH_REPORT = "no_such_report"
    REPORT_HANDLED = "report_handled"
    NO_SUCH_REQUEST = "no_such_request"
    REQUEST_DECIDED = "request_decided"
    NOT_YOUR_SIGNOFF = "not_your_signoff"
    COMPLETION_ALREADY_ASKED = "completion_already_asked"
    NEW_DATE_NOT_LATER = "new_date_not_later"
    EXTENSION_REASON_REQUIRED = "extension_reason_required"
    EXTENSION_PROGRESS_REQUIRED = "extension_progress_required"
    EXTENSION_PENDING = "extension_pending"
    REPORT_ON_CLOSED = "report_on_closed"
    TEXT_TOO_LONG = "text_too_long"
    BAD_ATTACHMENT_ID = "bad_attachment_id"
    MESSAGE_ALREADY_FILED = "message_already_filed"
    MILESTONE_NOT_OF_ITEM = "milestone_not_of_item"
    TOO_MANY_ATTACHMENTS = "too_many_attachments"
    EMPTY_REPORT = "empty_report"
    ALBUM_ELSEWHERE = "album_elsewhere"
    ONLY_AUTHOR_EDITS = "only_author_edits"
    EDIT_WINDOW_PASSED = "edit_window_passed"
    REPORT_REVIEWED = "report_reviewed"
    SUMMARY_REQUIRED = "summary_required"
    NOTHING_TO_SIGN_OFF = "nothing_to_sign_off"
    NOT_AWAITING_REVIEW = "not_awaiting_review"
    NO_LONGER_ASKING_TO_CLOSE = "no_longer_asking_to_close"
    EXTENSION_DECIDED = "extension_decided"
    DEADLINE_CHANGED = "deadline_changed"
    MAIL_DECIDER_NOT_REGISTERED = "mail_decider_not_registered"
    MAIL_SIGNOFF_WORD = "mail_signoff_word"
    MAIL_REVIEW_WORD = "mail_review_word"
    MAIL_EXTENSION_GONE = "mail_extension_gone"
    MAIL_REPORT_GONE = "mail_report_gone"
    # the date picker
    MONTH = "month"
    WEEKDAYS = "weekdays"
    # WeCom dialogs (企业微信): a card's buttons, then a text
    WECOM_UNBOUND = "wecom_unbound"
    WECOM_NOT_ALLOWED = "wecom_not_allowed"
    WECOM_GONE = "wecom_gone"
    WECOM_NO_OPEN = "wecom_no_open"
    WECOM_ASK_REPORT = "wecom_ask_report"
    WECOM_ASK_CLOSE = "wecom_ask_close"
    WECOM_ASK_EXTEND = "wecom_ask_extend"
    WECOM_CHOOSE = "wecom_choose"
    WECOM_CHOOSE_AGAIN = "wecom_choose_again"
    WECOM_FILED = "wecom_filed"
    WECOM_COMPLETION_FILED = "wecom_completion_filed"
    WECOM_REFUSED = "wecom_refused"
    WECOM_DETAILS = "wecom_details"
    WECOM_EMPTY = "wecom_empty"
    WECOM_EXTENSION_FORMAT = "wecom_extension_format"
    WECOM_SETTINGS = "wecom_settings"
    WECOM_SETTINGS_SAVED = "wecom_settings_saved"
    # answers to e-mail replies (a refused reply files nothing)
    MAIL_UNKNOWN_REMINDER = "mail_unknown_reminder"
    MAIL_ITEM_GONE = "mail_item_gone"
    MAIL_SENDER_NOT_REGISTERED = "mail_sender_not_registered"
    MAIL_TOO_LARGE = "mail_too_large"
    MAIL_TOO_MANY_FILES = "mail_too_many_files"
    MAIL_FILE_TYPE = "mail_file_type"
    MAIL_FILE_SIZE = "mail_file_size"
    MAIL_TOTAL_SIZE = "mail_total_size"
    MAIL_ATTACHMENTS_REFUSED = "mail_attachments_refused"
    MAIL_EXTENSION_FORMAT = "mail_extension_format"


#: the pair of words of each member: (中文, English)
CATALOGUE: Final[Mapping[type[StrEnum], Mapping[str, tuple[str, str]]]] = {
    # 提醒 → 催办 → 逾期督办 → 升级督办, and the periodic request for a report
    StepKind: {
        StepKind.ASSIGN: ("交办通知", "assignment notice"),
        StepKind.REMIND: ("提醒", "reminder"),
        StepKind.URGE: ("催办", "urging"),
        StepKind.OVERDUE: ("逾期督办", "overdue notice"),
        StepKind.ESCALATE: ("升级督办", "escalation"),
        StepKind.PERIODIC: ("定期报告", "periodic report"),
        StepKind.MS_REMIND: ("节点提醒", "milestone reminder"),
        StepKind.MS_URGE: ("节点催办", "milestone urging"),
        StepKind.MS_OVERDUE: ("节点逾期督办", "milestone overdue notice"),
    },
    MessageKind: {
        MessageKind.REVIEW_REQUEST: ("审核提醒", "review request"),
        MessageKind.REVIEW_OUTCOME: ("审核结果", "review decision"),
        MessageKind.SIGNOFF_REQUEST: ("签发提醒", "sign-off request"),
        MessageKind.INVITE: ("绑定邀请", "invitation"),
        MessageKind.BULLETIN: ("督查通报", "bulletin"),
        MessageKind.DIGEST: ("待办汇总", "digest"),
        MessageKind.MAIL_REPLY: ("邮件回复确认", "answer to an e-mail reply"),
        MessageKind.CO_INPUT: ("协办反馈", "co-operating unit's input"),
        MessageKind.REOPENED: ("退回重办通知", "sent back to be done again"),
        MessageKind.TRANSFERRED: ("转办通知", "handed over"),
    },
    Source: {
        Source.INSTRUCTION: ("领导批示", "leader's instruction"),
        Source.DOCUMENT: ("文件要求", "document requirement"),
        Source.MEETING: ("会议决定", "meeting decision"),
        Source.ANNUAL_TASK: ("年度重点工作", "annual key task"),
        Source.PROPOSAL: ("建议提案", "deputies' proposal"),
        Source.MAILBOX: ("省长信箱", "governor's mailbox"),
        Source.OTHER: ("其他", "other"),
    },
    ItemState: {
        ItemState.OPEN: ("办理中", "open"),
        ItemState.COMPLETION_REQUESTED: ("办结待审核", "completion under review"),
        ItemState.CLOSED: ("已办结", "closed"),
        ItemState.CANCELLED: ("已撤销", "cancelled"),
    },
    # a milestone (阶段性节点) is open until the office records it done
    MilestoneState: {
        MilestoneState.OPEN: ("进行中", "open"),
        MilestoneState.DONE: ("已完成", "done"),
    },
    AssignmentRole: {
        AssignmentRole.LEAD: ("主办", "lead unit"),
        AssignmentRole.CO: ("协办", "co-operating unit"),
    },
    Role: {
        Role.OWNER: ("责任人", "responsible person"),
        Role.LIAISON: ("联络员", "liaison"),
        Role.LEADER: ("责任领导", "leader in charge"),
        Role.PRINCIPAL: ("主要负责同志", "principal"),
        Role.SUPERVISOR: ("督查室工作人员", "supervisor"),
        Role.ADMIN: ("管理员", "administrator"),
        Role.VIEWER: ("只读", "viewer"),
    },
    Channel: {
        Channel.TELEGRAM: ("Telegram", "Telegram"),
        Channel.EMAIL: ("电子邮件", "e-mail"),
        Channel.WECOM: ("企业微信群", "WeCom group"),
        Channel.WECOM_APP: ("企业微信", "WeCom"),
        Channel.DINGTALK: ("钉钉群", "DingTalk group"),
        Channel.FEISHU: ("飞书群", "Feishu group"),
        Channel.DINGTALK_APP: ("钉钉工作通知", "DingTalk"),
        Channel.FEISHU_APP: ("飞书", "Feishu"),
        Channel.LOG: ("日志（未配置渠道）", "log (channel not set up)"),
    },
    StepChannel: {
        StepChannel.CHAT: (
            "聊天（Telegram、企业微信、钉钉、飞书）",
            "chat (Telegram, WeCom, DingTalk, Feishu)",
        ),
        StepChannel.EMAIL: ("电子邮件", "e-mail"),
        StepChannel.GROUP: ("单位群机器人", "unit group robots"),
    },
    Origin: {
        Origin.CHAT: ("聊天", "chat"),
        Origin.EMAIL: ("电子邮件", "e-mail"),
        Origin.WEB: ("网页", "web"),
        Origin.API: ("接口", "API"),
        Origin.WECOM: ("企业微信", "WeCom"),
    },
    Decision: {
        Decision.APPROVE: ("同意", "approve"),
        Decision.REJECT: ("退回", "return"),
    },
    RequestKind: {
        RequestKind.COMPLETION: ("办结申请", "completion request"),
        RequestKind.EXTENSION: ("延期申请", "extension request"),
    },
    ReportKind: {
        ReportKind.PROGRESS: ("进展报告", "progress report"),
        ReportKind.COMPLETION: ("办结报告", "completion report"),
    },
    ReviewState: {
        ReviewState.NONE: ("无需审核", "no review"),
        ReviewState.AWAITING_SIGNOFF: ("待签发", "awaiting sign-off"),
        ReviewState.PENDING: ("待审核", "under review"),
        ReviewState.APPROVED: ("已同意", "approved"),
        ReviewState.REJECTED: ("已退回", "returned"),
        ReviewState.WITHDRAWN: ("已撤回", "withdrawn"),
    },
    # grey is 已办结 in messages: an item is grey once it is closed (or cancelled)
    Light: {
        Light.GREEN: ("绿灯", "green"),
        Light.YELLOW: ("黄灯", "yellow"),
        Light.RED: ("红灯", "red"),
        Light.GREY: ("已办结", "closed"),
    },
    NotificationStatus: {
        NotificationStatus.PENDING: ("待发送", "pending"),
        NotificationStatus.SENDING: ("发送中", "sending"),
        NotificationStatus.SENT: ("已发送", "sent"),
        NotificationStatus.FAILED: ("发送失败", "failed"),
        NotificationStatus.CANCELLED: ("已取消", "cancelled"),
        NotificationStatus.GROUPED: ("已并入汇总", "sent in a digest"),
    },
    DeliveryOutcome: {
        DeliveryOutcome.SENDING: ("发送中", "sending"),
        DeliveryOutcome.SENT: ("已发送", "sent"),
        DeliveryOutcome.TRANSIENT: ("暂时失败，将重试", "failed, will retry"),
        DeliveryOutcome.PERMANENT: ("发送失败", "failed"),
        DeliveryOutcome.SKIPPED: ("已跳过", "skipped"),
    },
    # what an e-mail read from the office mailbox came to
    InboundOutcome: {
        InboundOutcome.FILED: ("已登记", "filed"),
        InboundOutcome.REFUSED: ("已退回说明", "refused"),
        InboundOutcome.IGNORED: ("已忽略（自动邮件）", "ignored (automatic mail)"),
    },
    AuditEntity: {
        AuditEntity.ITEM: ("事项", "item"),
        AuditEntity.ASSIGNMENT: ("交办", "assignment"),
        AuditEntity.REPORT: ("报告", "report"),
        AuditEntity.EXTENSION: ("延期申请", "extension request"),
        AuditEntity.MILESTONE: ("阶段性节点", "milestone"),
        AuditEntity.PERSON: ("人员", "person"),
        AuditEntity.UNIT: ("单位", "unit"),
        AuditEntity.POLICY: ("督办规则", "policy"),
        AuditEntity.TEMPLATE: ("消息模板", "template"),
        AuditEntity.CALENDAR: ("工作日历", "calendar"),
        AuditEntity.CALENDAR_DAY: ("日历调整", "calendar day"),
        AuditEntity.BULLETIN: ("督查通报", "bulletin"),
        AuditEntity.NOTIFICATION: ("消息", "message"),
        AuditEntity.API_TOKEN: ("API 令牌", "API token"),
        AuditEntity.HEALTH: ("健康检查", "health check"),
    },
    AuditAction: {
        AuditAction.CREATE: ("新建", "created"),
        AuditAction.UPDATE: ("修改", "changed"),
        AuditAction.TRANSITION: ("状态变更", "state changed"),
        AuditAction.FILED: ("报送", "filed"),
        AuditAction.EDITED: ("修改", "edited"),
        AuditAction.ATTACHMENTS_ADDED: ("补充附件", "attachments added"),
        AuditAction.REQUESTED: ("提出申请", "requested"),
        AuditAction.SIGNED_OFF: ("签发", "signed off"),
        AuditAction.SIGNOFF_SKIPPED: ("免签发", "sign-off not needed"),
        AuditAction.REVIEWED: ("审核", "reviewed"),
        AuditAction.COMPLETE: ("完成", "completed"),
        AuditAction.DUE_MOVED: ("完成时限调整", "deadline moved"),
        AuditAction.INVITE_CREATED: ("发出绑定邀请", "invite sent"),
        AuditAction.CHAT_BOUND: ("绑定 Telegram", "Telegram linked"),
        AuditAction.CHAT_UNBOUND: ("解除 Telegram 绑定", "Telegram unlinked"),
        AuditAction.WECOM_BOUND: ("绑定企业微信", "WeCom linked"),
        AuditAction.WECOM_UNBOUND: ("解除企业微信绑定", "WeCom unlinked"),
        AuditAction.IMPORT_SCHEDULE: ("导入节假日安排", "schedule imported"),
        AuditAction.RECOMPUTE_DUE: ("重算完成时限", "deadlines recomputed"),
        AuditAction.SET_OVERRIDE: ("调整单日", "day overridden"),
        AuditAction.CLEAR_OVERRIDE: ("取消单日调整", "override cleared"),
        AuditAction.TEMPLATE_SAVE: ("保存模板", "template saved"),
        AuditAction.TEMPLATE_RESET: ("恢复默认模板", "template reset"),
        AuditAction.SEND: ("发送", "sent"),
        AuditAction.RETRY: ("重新发送", "retried"),
        AuditAction.REVOKE: ("吊销", "revoked"),
        AuditAction.PROBE: ("检查", "probed"),
        AuditAction.REOPEN: ("退回重办", "sent back to be done again"),
        AuditAction.TRANSFER: ("转办", "handed over"),
    },
    # what people press: reminder and digest buttons, commands, confirmations
    Button: {
        Button.REPORT: ("填报进展", "report progress"),
        Button.CLOSE: ("申请办结", "ask to close"),
        Button.EXTEND: ("申请延期", "ask for extension"),
        Button.VIEW: ("查看详情", "details"),
        Button.SIGN_OFF: ("签发", "sign off"),
        Button.MY_ITEMS: ("我的事项", "my items"),
        Button.REVIEW: ("审核申请（督查室）", "review requests"),
        Button.CONFIRM: ("是，提交", "yes, file it"),
        Button.CANCEL: ("取消", "cancel"),
        Button.SETTINGS: ("接收渠道", "channels"),
        Button.ACKNOWLEDGE: ("知道了", "OK"),
        Button.DIGEST_REPORT: ("进展", "report"),
        Button.DIGEST_CLOSE: ("办结", "close"),
        Button.DIGEST_EXTEND: ("延期", "extend"),
    },
}


#: what a unit does with an item, by its role, as a message says it (承办 / 协办（配合办理）)
DUTY: Final[Mapping[AssignmentRole, tuple[str, str]]] = {
    AssignmentRole.LEAD: ("承办", "assigned to your unit"),
    AssignmentRole.CO: ("协办（配合办理）", "on which your unit co-operates (协办)"),
}

#: what a unit's deadline is called, by its role: a co unit owes the lead unit its input
DEADLINE: Final[Mapping[AssignmentRole, tuple[str, str]]] = {
    AssignmentRole.LEAD: ("完成时限", "Deadline"),
    AssignmentRole.CO: ("反馈时限", "Input due to the lead unit"),
}


#: every sentence: (中文, English); ``{office}`` etc. are filled by `say`
SENTENCES: Final[Mapping[Sentence, tuple[str, str]]] = {
    # the office's name where the settings give none (DUBAN_OFFICE_NAME)
    Sentence.OFFICE: ("督查室", "supervision office"),
    Sentence.HOW_TO_BIND: (
        "您好！本机器人仅为已登记的督查工作人员服务。请联系{office}获取邀请链接，"
        "点击链接后即可绑定。",
        "Hello! This bot serves registered supervision staff only. Ask the {office} for an "
        "invite link and open it to connect your account.",
    ),
    Sentence.PRIVATE_ONLY: (
        "本机器人只在私聊中使用，请直接私信我。",
        "This bot works in private chats only; please message me directly.",
    ),
    Sentence.GREET: ("{name}，您好！已绑定成功。", "Hello {name}, your account is now connected."),
    Sentence.ALREADY_BOUND: (
        "{name}，您好！您的账号已绑定。",
        "Hello {name}, your account is connected.",
    ),
    Sentence.INVITE_UNKNOWN: (
        "邀请链接无效。请联系{office}重新获取。未做任何绑定。",
        "This invite link is not valid. Ask the {office} for a new one. Nothing was connected.",
    ),
    Sentence.INVITE_USED: (
        "该邀请链接已被使用。如需重新绑定，请联系{office}获取新的邀请。未做任何绑定。",
        "This invite link was already used. Ask the {office} for a new invite. "
        "Nothing was connected.",
    ),
    Sentence.INVITE_EXPIRED: (
        "该邀请链接已过期（有效期{days}天）。请联系{office}重新获取。未做任何绑定。",
        "This invite link has expired (valid {days} days). Ask the {office} for a new one. "
        "Nothing was connected.",
    ),
    Sentence.NO_OPEN: ("您目前没有办理中的督查事项。", "You have no open supervised items."),
    Sentence.OPEN_ITEMS: ("您办理中的督查事项：", "Your open supervised items:"),
    Sentence.ITEM_LINE: (
        "{light} {title}\n    完成时限 {due}（{days}）",
        "{light} {title}\n    due {due} ({days})",
    ),
    Sentence.VIEW_ONLY: (
        "    （下级单位事项，仅供查看）",
        "    (a unit below yours: for reading only)",
    ),
    Sentence.FILED: (
        "已收到「{title}」第{number}次报告。当前状态：{light}",
        "Report #{number} on “{title}” received. Status: {light}",
    ),
    Sentence.COMPLETION_FILED: (
        "「{title}」办结申请已提交（报告第{number}次），{next}",
        "Completion request for “{title}” filed (report #{number}). {next}",
    ),
    Sentence.TO_SIGNOFF: (
        "待本单位主要负责同志签发后报督查室审核。",
        "It goes to your unit's principal for sign-off, then to the office.",
    ),
    Sentence.TO_REVIEW: ("等待督查室审核。", "The office will review it."),
    Sentence.EXTENSION_FILED: (
        "「{title}」延期申请已提交：新的完成时限 {date}，等待督查室审核。",
        "Extension request for “{title}” filed: new deadline {date}, awaiting review.",
    ),
    Sentence.CONFIRM_ONE: (
        "要把这条内容作为「{title}」的进展报告吗？",
        "File this as a progress report on “{title}”?",
    ),
    Sentence.CHOOSE_ITEM: ("请选择要报告的事项：", "Which item is this report for?"),
    Sentence.CHOOSE_FOR_COMPLETE: ("请选择要申请办结的事项：", "Which item do you ask to close?"),
    Sentence.CHOOSE_FOR_EXTEND: ("请选择要申请延期的事项：", "Which item needs more time?"),
    Sentence.ASK_REPORT: (
        "请发送「{title}」的进展情况（文字，或图片、文件）。",
        "Send the progress on “{title}” (text, photos or files).",
    ),
    Sentence.ASK_SUMMARY: (
        "请发送「{title}」的办理情况总结（文字，可附图片、文件）。",
        "Send the completion summary for “{title}” (text, optionally files).",
    ),
    Sentence.ASK_REASON: (
        "请说明「{title}」需要延期的原因。",
        "Why does “{title}” need more time?",
    ),
    Sentence.ASK_PROGRESS: ("请简述目前的进展情况。", "Briefly, what has been done so far?"),
    Sentence.ASK_DATE: (
        "请选择或输入新的完成时限（须晚于 {due}），如 2027-01-31 或 1月31日：",
        "Pick or type the new deadline (after {due}), e.g. 2027-01-31 or 2027/1/31:",
    ),
    Sentence.ASK_COMMENT: ("请输入退回意见：", "Please type the reason for returning it:"),
    Sentence.CANCELLED: ("已取消。", "Cancelled."),
    Sentence.NOTHING_TO_CANCEL: ("当前没有进行中的操作。", "Nothing to cancel."),
    Sentence.SEND_TEXT_OR_FILE: (
        "请发送文字或文件（图片、文档）。暂不支持贴纸、语音、位置等内容。",
        "Please send text or a file (photo, document); stickers, voice, locations and the "
        "like are not accepted.",
    ),
    Sentence.SEND_TEXT: (
        "请用文字回答（发送 /cancel 取消）。",
        "Please answer in text (send /cancel to stop).",
    ),
    Sentence.REPORT_EDITED: (
        "报告已更新（原内容已保留在历史记录中）。",
        "Report updated (the earlier text is kept in its history).",
    ),
    Sentence.REVIEW_NONE: ("目前没有待审核的申请。", "No requests await review."),
    Sentence.REVIEW_COMPLETION: (
        "办结申请｜「{title}」（{unit}）\n申请人：{who}\n{text}",
        "Completion request | “{title}” ({unit})\nBy: {who}\n{text}",
    ),
    Sentence.REVIEW_EXTENSION: (
        "延期申请｜「{title}」（{unit}）\n申请人：{who}\n原时限 {old} → 新时限 {new}\n"
        "原因：{reason}\n进展：{progress}",
        "Extension request | “{title}” ({unit})\nBy: {who}\nDue {old} → {new}\n"
        "Reason: {reason}\nProgress: {progress}",
    ),
    Sentence.SIGNOFF_NONE: (
        "目前没有待您签发的办结报告。",
        "No completion reports await your sign-off.",
    ),
    Sentence.SIGNOFF_ITEM: (
        "待签发｜「{title}」办结报告\n报告人：{who}\n{text}",
        "To sign off | completion report on “{title}”\nBy: {who}\n{text}",
    ),
    Sentence.SIGNED_OFF: ("已签发，报督查室审核。", "Signed off; sent to the office for review."),
    Sentence.APPROVED: ("已同意。", "Approved."),
    Sentence.REJECTED: ("已退回。", "Returned."),
    Sentence.NOT_ALLOWED: ("您无权执行此操作。", "Not allowed."),
    Sentence.EXPIRED: (
        "该操作已失效（事项或申请已变化）。",
        "This action has expired (the item or request changed).",
    ),
    Sentence.APOLOGY: (
        "抱歉，处理您的消息时出错了，我们会尽快重试。",
        "Sorry, something went wrong with your message; it will be retried.",
    ),
    Sentence.UNKNOWN_COMMAND: (
        "可用命令：/my 我的事项，/report 填报进展，/complete 申请办结，"
        "/extend 申请延期，/settings 接收渠道，/cancel 取消。也可以直接回复提醒消息填报进展。",
        "Commands: /my items, /report progress, /complete ask to close, "
        "/extend ask for more time, /settings channels, /cancel. You can also reply to a "
        "reminder.",
    ),
    Sentence.SETTINGS_HINT: (
        "用下面的按钮调整顺序（⬆）、去掉（✕）或添加（＋）渠道。",
        "Use the buttons below to move a channel up (⬆), remove it (✕) or add one (＋).",
    ),
    Sentence.ERROR: ("未完成：{message}", "Not done: {message}"),
    Sentence.REASON_REQUIRED: (
        "退回须填写理由，请在审核意见中说明。未作任何更改。",
        "A rejection needs a reason: write it in the comment. Nothing was changed.",
    ),
    Sentence.MESSAGE_EXPIRED: ("消息已过期。", "This message has expired."),
    Sentence.UNKNOWN_BUTTON: ("未知的按钮。", "Unknown button."),
    Sentence.BAD_DATE: ("日期无效。", "That date is not valid."),
    Sentence.NO_SUCH_ASSIGNMENT: ("事项不存在。", "No such item."),
    Sentence.ASSIGNMENT_CLOSED: (
        "该事项已办结或撤销，不能再办理。",
        "The item is closed or cancelled; nothing more can be done on it.",
    ),
    Sentence.NOT_OPEN: ("该事项不在办理中。", "The item is not open."),
    Sentence.NOT_OPEN_FOR_EXTENSION: (
        "该事项不在办理中，不能申请延期。",
        "The item is not open; no extension can be asked.",
    ),
    Sentence.DEADLINE_PASSED: (
        "完成时限 {due} 已过，不能再申请延期。",
        "The deadline {due} has passed; no extension can be asked now.",
    ),
    Sentence.NO_SUCH_REPORT: ("报告不存在。", "No such report."),
    Sentence.REPORT_HANDLED: ("该报告已签发或已处理。", "That report was already handled."),
    Sentence.NO_SUCH_REQUEST: ("申请不存在。", "No such request."),
    Sentence.REQUEST_DECIDED: ("该申请已处理。", "That request was already decided."),
    Sentence.NOT_YOUR_SIGNOFF: ("您无权签发该报告。", "You may not sign off that report."),
    Sentence.REPORT_ON_CLOSED: (
        "该事项已办结或撤销，不能再填报。",
        "The item is closed or cancelled; no more reports can be filed on it.",
    ),
    Sentence.TEXT_TOO_LONG: (
        "内容过长：最多 {limit} 字，收到 {got} 字。",
        "The text is too long: at most {limit} characters, received {got}.",
    ),
    Sentence.BAD_ATTACHMENT_ID: ("附件标识无效。", "An attachment's id is not valid."),
    Sentence.MESSAGE_ALREADY_FILED: (
        "这条消息已作为其他事项的报告。",
        "This message was already filed as a report on another item.",
    ),
    Sentence.MILESTONE_NOT_OF_ITEM: (
        "该阶段性节点不属于本事项。",
        "That milestone is not one of this item's.",
    ),
    Sentence.TOO_MANY_ATTACHMENTS: (
        "附件过多：最多 {max} 个。",
        "Too many attachments: at most {max}.",
    ),
    Sentence.EMPTY_REPORT: (
        "报告内容为空：请发送文字或文件。",
        "The report is empty: send text or a file.",
    ),
    Sentence.ALBUM_ELSEWHERE: (
        "这组文件属于另一份报告。",
        "These files belong to another report.",
    ),
    Sentence.ONLY_AUTHOR_EDITS: (
        "只能修改自己提交的报告。",
        "Only the person who filed a report may change it.",
    ),
    Sentence.EDIT_WINDOW_PASSED: (
        "报告提交已超过 {hours} 小时，不能再修改。",
        "The report was filed more than {hours} hours ago and can no longer be changed.",
    ),
    Sentence.REPORT_REVIEWED: (
        "报告已审核，不能再修改。",
        "The report was reviewed and can no longer be changed.",
    ),
    Sentence.NEW_DATE_NOT_LATER: (
        "新的完成时限须晚于 {due}",
        "The new deadline must be later than {due}",
    ),
    Sentence.EXTENSION_REASON_REQUIRED: ("请说明延期原因", "A reason is required"),
    Sentence.EXTENSION_PROGRESS_REQUIRED: (
        "请说明目前进展",
        "The progress so far is required",
    ),
    Sentence.EXTENSION_PENDING: (
        "已有一份延期申请在审核中",
        "An extension request is already pending",
    ),
    Sentence.COMPLETION_ALREADY_ASKED: (
        "该事项已申请办结或已办结，不能重复申请。",
        "Completion was already asked for, or the item is closed.",
    ),
    Sentence.SUMMARY_REQUIRED: ("请填写办理情况。", "A summary of the work done is required."),
    Sentence.NOTHING_TO_SIGN_OFF: (
        "该报告无需签发或已处理。",
        "That report needs no sign-off, or was already handled.",
    ),
    Sentence.NOT_AWAITING_REVIEW: (
        "该申请已处理或尚待签发。",
        "That request was already decided, or still awaits sign-off.",
    ),
    Sentence.NO_LONGER_ASKING_TO_CLOSE: (
        "该事项已不在申请办结状态。",
        "The item no longer asks to be closed.",
    ),
    Sentence.EXTENSION_DECIDED: (
        "该延期申请已处理。",
        "That extension request was already decided.",
    ),
    Sentence.DEADLINE_CHANGED: (
        "完成时限已被修改，请重新申请。",
        "The deadline changed since the request; please ask again.",
    ),
    Sentence.MAIL_DECIDER_NOT_REGISTERED: (
        "您的邮箱地址未在督办系统登记，不能以邮件审核或签发。",
        "Your address is not registered with Duban, so you cannot review or sign off by e-mail.",
    ),
    Sentence.MAIL_SIGNOFF_WORD: (
        "签发请在回复的第一行写“{sign_off}”或“{approve}”。退回请与承办人联系。",
        "To sign off, write “{sign_off}” or “{approve}” on the first line of your reply. To "
        "send it back, contact the person who filed it.",
    ),
    Sentence.MAIL_REVIEW_WORD: (
        "审核请在回复的第一行写“{approve}”或“{reject}”，后面写审核意见（退回须写明意见）。",
        "To review, write “{approve}” or “{reject}” on the first line of your reply, then "
        "your comment (a return needs one).",
    ),
    Sentence.MAIL_EXTENSION_GONE: (
        "该延期申请已不存在。",
        "That extension request no longer exists.",
    ),
    Sentence.MAIL_REPORT_GONE: ("该办结报告已不存在。", "That completion report no longer exists."),
    Sentence.MONTH: ("{year}年{month}月", "{month_name} {year}"),
    Sentence.WEEKDAYS: ("一二三四五六日", "MTWTFSS"),
    Sentence.WECOM_UNBOUND: (
        "您的企业微信账号尚未在督办系统登记，消息未予登记。请联系督查室绑定账号。",
        "Your WeCom account is not registered with Duban; nothing was filed. "
        "Please ask the supervision office to bind it.",
    ),
    Sentence.WECOM_NOT_ALLOWED: (
        "您无权对该事项执行此操作，未予登记。",
        "You may not do this on that item; nothing was filed.",
    ),
    Sentence.WECOM_GONE: (
        "该事项已办结或不再办理，未予登记。",
        "That item is closed or no longer open; nothing was filed.",
    ),
    Sentence.WECOM_NO_OPEN: (
        "您目前没有办理中的督查事项，消息未予登记。",
        "You have no open items; nothing was filed.",
    ),
    Sentence.WECOM_ASK_REPORT: (
        "请发送「{title}」的进展情况（文字）。发送“取消”放弃。",
        "Send the progress on “{title}” (text). Send “cancel” to stop.",
    ),
    Sentence.WECOM_ASK_CLOSE: (
        "请发送「{title}」的办理情况总结（办结报告）。发送“取消”放弃。",
        "Send the completion report for “{title}”. Send “cancel” to stop.",
    ),
    Sentence.WECOM_ASK_EXTEND: (
        "请发送「{title}」的延期申请，格式如下（发送“取消”放弃）：\n2027-01-20\n原因：……\n进展：……",
        "Send the extension request for “{title}” like this (“cancel” to stop):\n"
        "2027-01-20\nReason: …\nProgress: …",
    ),
    Sentence.WECOM_CHOOSE: (
        "您有多项办理中的事项，请回复序号，把刚才的内容报送到该事项：\n{lines}",
        "You have several open items; reply with a number to file your message there:\n{lines}",
    ),
    Sentence.WECOM_CHOOSE_AGAIN: (
        "请回复 1 到 {n} 之间的序号，或发送“取消”。",
        "Reply with a number from 1 to {n}, or “cancel”.",
    ),
    Sentence.WECOM_FILED: (
        "已收到「{title}」第{number}次进展报告。",
        "Progress report no. {number} on “{title}” received.",
    ),
    Sentence.WECOM_COMPLETION_FILED: (
        "「{title}」办结申请已提交（报告第{number}次），等待审核。",
        "Completion request for “{title}” sent (report no. {number}).",
    ),
    Sentence.WECOM_REFUSED: ("未予登记：{reason}", "Not filed: {reason}"),
    Sentence.WECOM_DETAILS: (
        "{ref} {title}\n责任单位：{unit}\n完成时限：{due}\n状态：{state}",
        "{ref} {title}\nUnit: {unit}\nDue: {due}\nState: {state}",
    ),
    Sentence.WECOM_EMPTY: (
        "内容为空，未予登记。请发送文字。",
        "The message is empty; nothing was filed.",
    ),
    Sentence.WECOM_EXTENSION_FORMAT: (
        "申请延期须写明新的完成时限，例如第一行写“2027-01-20”，下面写“原因：……”和“进展：……”。",
        "An extension request needs the new deadline, e.g. “2027-01-20” on the first line, "
        "then “Reason: …” and “Progress: …”.",
    ),
    Sentence.WECOM_SETTINGS: (
        "{prefs}\n\n按顺序发送，例如“接收渠道 企业微信 电子邮件”；发送“接收渠道 默认”恢复默认。",
        "{prefs}\n\nSend them in order, e.g. “channels wecom_app email”; "
        "“channels default” restores the default.",
    ),
    Sentence.WECOM_SETTINGS_SAVED: ("接收渠道已保存。\n{prefs}", "Channels saved.\n{prefs}"),
    Sentence.MAIL_UNKNOWN_REMINDER: (
        "未能识别您回复的是哪一条督办提醒。请在收到的提醒邮件上直接点“回复”，"
        "保留邮件主题，再填写办理情况。",
        "We could not tell which reminder you are answering. Please press “Reply” on the "
        "reminder e-mail itself, keep its subject, and write your progress there.",
    ),
    Sentence.MAIL_ITEM_GONE: ("该督办事项已不存在。", "That supervised item no longer exists."),
    Sentence.MAIL_SENDER_NOT_REGISTERED: (
        "您的邮箱地址不是该督办事项责任人、责任领导或本单位联络员登记的地址，"
        "回复未予登记。如需报送，请使用在督办系统登记的邮箱回复，或联系督查室。",
        "Your address is not the one registered for this item's responsible person, leader "
        "or your unit's liaison, so the reply was not filed. Reply from your registered "
        "address, or contact the supervision office.",
    ),
    Sentence.MAIL_TOO_LARGE: (
        "邮件过大，超过可接收的大小（附件合计不超过 {limit}），"
        "未予登记。请压缩或删减附件后重新回复，或登录督办系统网页上传。",
        "The e-mail is too large (attachments up to {limit} in all) and was not filed. "
        "Compress or remove attachments and reply again, or upload them on the web pages.",
    ),
    Sentence.MAIL_TOO_MANY_FILES: (
        "附件过多：最多 {max} 个，收到 {got} 个",
        "Too many attachments: at most {max}, received {got}",
    ),
    Sentence.MAIL_FILE_TYPE: (
        "附件“{name}”的类型不在允许范围内（允许：{allowed}）",
        "Attachment “{name}” is of a type not accepted (accepted: {allowed})",
    ),
    Sentence.MAIL_FILE_SIZE: (
        "附件“{name}”大小 {size}，超过单个附件 {max} 的上限",
        "Attachment “{name}” is {size}, over the limit of {max} per file",
    ),
    Sentence.MAIL_TOTAL_SIZE: (
        "附件合计 {total}，超过每封邮件 {max} 的上限",
        "Attachments total {total}, over the limit of {max} per e-mail",
    ),
    Sentence.MAIL_ATTACHMENTS_REFUSED: (
        "{problems}。本次回复未登记，请压缩或删减附件后重新回复，或登录督办系统网页上传。",
        "{problems}. This reply was not filed; compress or remove attachments and reply "
        "again, or upload them on the web pages.",
    ),
    # ``command`` is the word the reply parser reads (申请延期), whatever the reader's language
    Sentence.MAIL_EXTENSION_FORMAT: (
        "申请延期须写明新的完成时限，例如第一行写“{command} 2027-01-20”，"
        "正文写“原因：……”和“进展：……”。",
        "An extension request needs the new deadline, e.g. “{command} 2027-01-20” on the "
        "first line, then “Reason: …” and “Progress: …” below.",
    ),
}


#: a person's channel preference (接收渠道): its name, what having none means, how it works
CHANNEL_PREFS: Final[Mapping[str, tuple[str, str]]] = {
    "title": ("接收渠道", "Channels"),
    "default": (
        "默认：已绑定的渠道同时发送，聊天渠道发送失败时改发电子邮件",
        "Default: every channel the person is on at once; e-mail if a chat app fails",
    ),
    "order": (
        "按顺序发送到第一个能送达的渠道，发送失败时改用下一个",
        "Sent on the first channel that reaches the person; the next one if it fails",
    ),
    "unbound": ("未绑定", "not set up for you"),
    "reset": ("恢复默认", "Back to the default"),
    # the word that asks for the default back: ``接收渠道 默认``
    "default_word": ("默认", "default"),
    "saved": ("接收渠道已保存", "Channels saved"),
}


def channel_prefs_word(key: str, locale: str | None = "zh") -> str:
    """A word about channel preferences (:data:`CHANNEL_PREFS`) in ``locale``."""
    zh, en = CHANNEL_PREFS[key]
    return en if lang_of(locale) == "en" else zh


def label(member: StrEnum, locale: str | None = "zh", *, alone: bool = False) -> str:
    """The word for ``member`` in ``locale`` (Chinese unless the locale is English).

    ``alone``: as a button, heading or table cell shows it, English with a capital.
    """
    zh, en = CATALOGUE[type(member)][member]
    if lang_of(locale) != "en":
        return zh
    return en[:1].upper() + en[1:] if alone else en


def label_of(enum: type[StrEnum], value: str | None, locale: str | None = "zh") -> str:
    """The word for a stored ``value`` of ``enum``; an unknown value is shown as it is."""
    if value is None:
        return ""
    try:
        member = enum(value)
    except ValueError:
        return value
    return label(member, locale)


def labels(enum: type[StrEnum], locale: str | None = "zh") -> dict[str, str]:
    """``{value: word}`` for every member of ``enum``, in declaration order (for forms)."""
    return {str(m): label(m, locale) for m in enum}


def say(sentence: Sentence, locale: str | None = "zh", **values: object) -> str:
    """The ``sentence`` in ``locale`` (Chinese unless English) with ``values`` filled in, as
    they are: an edge that speaks HTML escapes them first."""
    zh, en = SENTENCES[sentence]
    return (en if lang_of(locale) == "en" else zh).format(**values)


E = TypeVar("E", bound=DomainError)


def refusal(kind: type[E], sentence: Sentence, **values: object) -> E:
    """A ``kind`` error whose message is ``sentence``: ``str`` is the domain's "中文 (English)"
    form (logs, the API), and each edge says it in its reader's language with `told`."""
    return refusals(kind, [(sentence, values)])


Problem = tuple[Sentence, Mapping[str, object]]


def refusals(kind: type[E], problems: Sequence[Problem]) -> E:
    """A ``kind`` error naming every problem found (a sentence and its values each); a
    ValidationFailed lists them one by one in ``errors``."""
    kept = list(problems)

    def said(locale: str | None) -> str:
        glue = "; " if lang_of(locale) == "en" else "；"
        return glue.join(say(sentence, locale, **values) for sentence, values in kept)

    both = [f"{say(s, 'zh', **v)} ({say(s, 'en', **v)})" for s, v in kept]
    message = "；".join(both)
    error = kind(message, both) if issubclass(kind, ValidationFailed) else kind(message)
    error.said = said
    return error


def told(error: DomainError, locale: str | None = "zh") -> str:
    """What to tell a person about ``error``, in ``locale`` when the catalogue words it."""
    return str(error) if error.said is None else error.said(locale)


def step_label(kind: str, locale: str | None = "zh") -> str:
    """The word for a message kind: a ladder step or another message (提醒, 审核结果…)."""
    for enum in (StepKind, MessageKind):
        if kind in enum.__members__.values():
            return label_of(enum, kind, locale)
    return kind


def co_marked(unit_name: str, role: str, locale: str | None = "zh", *, force: bool = False) -> str:
    """A unit's name marked 协办 when it is named for its co-operating share (``force``: marked
    主办 or 协办 whichever it is)."""
    if role != AssignmentRole.CO and not force:
        return unit_name
    word = label_of(AssignmentRole, role, locale)
    return f"{unit_name} ({word})" if lang_of(locale) == "en" else f"{unit_name}（{word}）"


def _by_role(table: Mapping[AssignmentRole, tuple[str, str]], locale: str | None) -> dict[str, str]:
    en = lang_of(locale) == "en"
    return {str(role): pair[1] if en else pair[0] for role, pair in table.items()}


def words(locale: str | None = "zh") -> dict[str, dict[str, str]]:
    """The glossary as message templates see it, ``words.<group>[value]``.

    ``words.decision`` is keyed by the review's outcome (``approved`` → 同意, ``rejected`` →
    退回), as a review view carries it.
    """
    out = {
        "step": labels(StepKind, locale) | labels(MessageKind, locale),
        "source": labels(Source, locale),
        "state": labels(ItemState, locale),
        "role": labels(AssignmentRole, locale),
        "light": labels(Light, locale),
        "report": labels(ReportKind, locale),
        "request": labels(RequestKind, locale),
        "review": labels(ReviewState, locale),
        "duty": _by_role(DUTY, locale),
        "deadline": _by_role(DEADLINE, locale),
    }
    # plain str keys: the words travel to render workers, which do not load the models
    out["decision"] = {
        ReviewState.APPROVED.value: label(Decision.APPROVE, locale),
        ReviewState.REJECTED.value: label(Decision.REJECT, locale),
    }
    return out
