"""The glossary: every user-visible word of the domain, in Chinese and English, once.

Templates (through the views ``notifier.context`` builds), web pages, the bot and the CLI read
their words for steps, sources, states, roles, channels, decisions, requests, lights, delivery
statuses and audit actions here; nothing else spells them. docs/GLOSSARY.md explains them.
Whole sentences (prompts, confirmations, refusals) are `Sentence` entries, said with `say`;
a refusal built with `refusal` is said in each reader's language by `told`.
The import's columns and sentences are `supervision.import_columns` and
`supervision.import_words`, re-exported here. Imports only ``models``, ``supervision.errors``,
``supervision.light``, ``supervision.phrases`` (the days phrase),
``supervision.template_words`` and those parts of the catalogue.
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
from supervision.import_columns import IMPORT_COLUMNS, IMPORT_KINDS
from supervision.import_words import IMPORT_WORDS, ImportWord, say_import
from supervision.light import Light
from supervision.phrases import LANGS, Lang, days_phrase, lang_of, working_days
from supervision.sentences import SENTENCES, Sentence
from supervision.template_words import TEMPLATE_WORDS

__all__ = [
    "CATALOGUE",
    "CHANNEL_PREFS",
    "DEADLINE",
    "DUTY",
    "IMPORT_COLUMNS",
    "IMPORT_KINDS",
    "IMPORT_WORDS",
    "LANGS",
    "SENTENCES",
    "Button",
    "Document",
    "ImportWord",
    "Lang",
    "Problem",
    "Sentence",
    "SystemActor",
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
    "say_import",
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


class Document(StrEnum):
    """The office's documents made as DOCX files to file and print (公文)."""

    SUPERVISION_SHEET = "supervision_sheet"  # 督办单: an item as it is given to its units
    URGING_SHEET = "urging_sheet"  # 催办单: the same, pressed again with its state
    BULLETIN = "bulletin"  # 督查通报


class SystemActor(StrEnum):
    """Who acted when no person did, as the audit trail labels it (``Actor.system``)."""

    SYSTEM = "system"
    SCAN = "scan"
    CLI = "cli"
    IMPORT = "import"
    DEMO = "demo"


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
        MessageKind.DUE_MOVED: ("期限调整通知", "deadline changed"),
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
        AuditEntity.GROUP_ROBOT: ("群机器人", "group robot"),
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
        AuditAction.TEMPLATE_RESTORE: ("恢复模板旧版本", "earlier template version restored"),
        AuditAction.SEND: ("发送", "sent"),
        AuditAction.RETRY: ("重新发送", "retried"),
        AuditAction.REVOKE: ("吊销", "revoked"),
        AuditAction.PROBE: ("检查", "probed"),
        AuditAction.REOPEN: ("退回重办", "sent back to be done again"),
        AuditAction.TRANSFER: ("转办", "handed over"),
        AuditAction.URGE: ("催办", "urged"),
        AuditAction.DELETE: ("删除", "removed"),
        AuditAction.TEST_MESSAGE: ("发送测试消息", "test message sent"),
    },
    Document: {
        Document.SUPERVISION_SHEET: ("督办单", "supervision sheet"),
        Document.URGING_SHEET: ("催办单", "urging sheet"),
        Document.BULLETIN: ("督查通报", "supervision bulletin"),
    },
    # who acted when no person did (the audit trail's actor label)
    SystemActor: {
        SystemActor.SYSTEM: ("系统", "the system"),
        SystemActor.SCAN: ("督办扫描", "the reminder scan"),
        SystemActor.CLI: ("命令行", "the command line"),
        SystemActor.IMPORT: ("批量导入", "an import"),
        SystemActor.DEMO: ("演示数据", "the demo data"),
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
    # the template editor: parts, languages, variables and macros (supervision.template_words)
    **TEMPLATE_WORDS,
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
