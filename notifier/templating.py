"""Message templates (消息模板): the sandboxed Jinja renderer, its limits, escaping and context.

Admin templates are untrusted code. Everything renders through `ImmutableSandboxedEnvironment`
with `StrictUndefined`, caps on source size, output size and render work, and per-channel
escaping of every value. Imports only jinja2/markupsafe and `templates` (data); no DB, no I/O
beyond reading the default files; admin overrides arrive through a `TemplateStore`.

Template files
--------------
``templates/{locale}/{step}.{channel}.{part}.j2``; ``part`` is ``text``, or for email also
``subject`` and ``html``. ``channel`` ``group`` is shared by ``wecom``, ``dingtalk`` and
``feishu`` unless a channel-specific file exists. Resolution for one part: admin override
(channel, then ``group``) → default file (channel, then ``group``), first in the requested
locale, then in ``zh``. Shared macros live in ``templates/{locale}/_macros.j2``; overrides may
``{% import "zh/_macros.j2" as m %}``.

Variables available to templates
--------------------------------
- ``step`` (``remind`` ``urge`` ``overdue`` ``escalate`` ``periodic`` ``review_request``
  ``review_outcome`` ``signoff_request`` ``invite`` ``bulletin``), ``channel``, ``locale``
- ``office_name`` (default 督查室), ``recipient_name``, ``reply_hint`` (bool: Telegram replies
  are accepted), ``links`` (dict: ``item``, ``report``, ``extension``, ``review``, ``bulletin``,
  ``web`` … when known), ``generated_on`` (date)
- ``item`` (or none for invite/bulletin): ``ref`` 文号, ``title``, ``source``,
  ``source_label``, ``objective`` 目标任务, ``content`` 工作内容, ``urgent`` 急件,
  ``received_on``, ``due_on``, ``due_is_provisional`` (30-working-day default applied)
- ``assignment``: ``unit_name``, ``role`` (lead/co), ``role_label`` 主办/协办, ``due_on``,
  ``due_weekday_label``, ``days_left`` (working days, negative when overdue), ``light``
  (green/yellow/red), ``owner_name`` 责任人, ``leader_name`` 责任领导
- ``last_report`` (or none): ``kind`` (progress/completion), ``text``, ``created_at``,
  ``author_name``; ``days_since_report`` (int or none); ``report_interval_days`` (int or none)
- ``pending`` (review_request: ``completion`` or ``extension``), ``requester_name``
- ``extension``: ``reason``, ``progress``, ``old_due_on``, ``new_due_on``, ``requested_by``
- ``review``: ``subject`` (completion/extension), ``decision`` (approved/rejected),
  ``comment``, ``reviewer_name``
- ``invite_link``, ``invite_expires_on``
- ``bulletin``: ``number``, ``period_label``, ``issued_on``, ``rows`` (``rank``,
  ``unit_name``, ``assigned``, ``closed_on_time``, ``overdue``, ``extensions``,
  ``on_time_rate`` 0..1), ``overdue_items`` (``ref``, ``title``, ``unit_name``, ``due_on``,
  ``days_overdue``), ``praised_units``

Filters: ``cn_date`` (2026年11月12日（星期四）), ``en_date`` (Thu 12 Nov 2026), ``cn_datetime``,
``en_datetime``, ``days_phrase`` (剩余3个工作日 / 已逾期2个工作日, by locale), ``percent``,
``excerpt(n)``. Formatting helpers escape their arguments for the channel: ``b(text)``,
``i(text)``, ``link(text, url)``, ``quote(text)``, ``code(text)``.
Not available: ``|attr``, ``|safe``, ``|urlize``, ``|xmlattr``, ``|pprint``,
``{% autoescape %}``, ``lipsum``, ``str.format`` (use ``|format``), attributes starting
with ``_``. Work is capped: ``range()`` ≤ 10,000 items, 50,000 loop iterations per message,
no value above 200,000 characters, integers below 2**128, 2 seconds per render.
"""

from __future__ import annotations

import dataclasses
import functools
import html
import re
import time
import types
from collections.abc import Callable, Iterable, Iterator, Mapping, Sized
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any, Final, Protocol

from jinja2 import (
    Environment,
    FileSystemLoader,
    StrictUndefined,
    Template,
    TemplateNotFound,
    TemplateSyntaxError,
    UndefinedError,
    nodes,
    pass_context,
)
from jinja2.exceptions import SecurityError, TemplateAssertionError, TemplateRuntimeError
from jinja2.filters import do_batch, do_indent, sync_do_slice
from jinja2.nodes import EvalContext
from jinja2.runtime import Context, Macro
from jinja2.sandbox import ImmutableSandboxedEnvironment
from jinja2.visitor import NodeTransformer
from markupsafe import Markup, escape

import templates as _templates_pkg

STEPS: Final = (
    "remind",
    "urge",
    "overdue",
    "escalate",
    "periodic",
    "review_request",
    "review_outcome",
    "signoff_request",
    "invite",
    "bulletin",
)
CHANNELS: Final = ("telegram", "email", "wecom", "dingtalk", "feishu", "log")
GROUP_CHANNELS: Final = frozenset({"wecom", "dingtalk", "feishu"})
GROUP: Final = "group"
LOCALES: Final = ("zh", "en")
DEFAULT_LOCALE: Final = "zh"
DEFAULT_TEMPLATES_DIR: Final = Path(_templates_pkg.__file__).parent


def parts_for(channel: str) -> tuple[str, ...]:
    """The template parts one message on this channel is made of."""
    return ("subject", "text", "html") if channel == "email" else ("text",)


# --- limits -----------------------------------------------------------------------------

MAX_SOURCE_CHARS: Final = 20_000
MAX_RANGE: Final = 10_000
#: total loop iterations per render, all loops together
MAX_LOOP_ITERATIONS: Final = 50_000
#: any intermediate string or sequence built by `*`, `+`, `~`, padding or replace
MAX_VALUE_SIZE: Final = 200_000
#: integer results of `*`/`**` stay below this many bits (messages count days and items)
MAX_INT_BITS: Final = 128
#: raw output generated before we stop rendering (abuse guard, above every channel limit)
MAX_RAW_OUTPUT: Final = 300_000
MAX_RENDER_SECONDS: Final = 2.0


@dataclass(frozen=True)
class Limit:
    """Output cap for one channel part: ``count`` units measured as ``unit``."""

    count: int
    unit: str  # "chars" | "utf8" (bytes) | "tg" (UTF-16 units of visible text)
    note: str


OUTPUT_LIMITS: Final[dict[tuple[str, str], Limit]] = {
    # Bot API sendMessage: "1-4096 characters after entities parsing"
    # (https://core.telegram.org/bots/api#sendmessage); counted in UTF-16 code units.
    ("telegram", "text"): Limit(4096, "tg", "Telegram 4096 characters after tags"),
    # RFC 5322 recommends 78-char lines; subjects longer than ~200 are truncated by clients.
    ("email", "subject"): Limit(200, "chars", "email subject 200 characters"),
    ("email", "text"): Limit(100_000, "chars", "email text 100,000 characters"),
    ("email", "html"): Limit(100_000, "chars", "email HTML 100,000 characters"),
    # WeCom group robot: "markdown内容，最长不超过4096个字节，必须是utf8编码"
    # (https://developer.work.weixin.qq.com/document/path/91770).
    ("wecom", "text"): Limit(4096, "utf8", "WeCom markdown 4096 bytes"),
    # DingTalk custom robot: no documented per-field limit; 20,000 bytes is the figure
    # commonly observed before the API rejects the message (open.dingtalk.com robot docs).
    ("dingtalk", "text"): Limit(20_000, "utf8", "DingTalk markdown 20,000 bytes"),
    # Feishu custom robot: "请求体的数据大小不能超过 20 KB"
    # (https://open.feishu.cn/document/client-docs/bot-v3/add-custom-bot); leave room
    # for the JSON envelope.
    ("feishu", "text"): Limit(18_000, "utf8", "Feishu text 18,000 bytes (20 KB body)"),
    ("log", "text"): Limit(100_000, "chars", "log 100,000 characters"),
}

TELEGRAM_TAGS: Final = frozenset({"b", "i", "u", "s", "a", "code", "pre", "blockquote"})

_DISALLOWED_FILTERS: Final = frozenset({"attr", "safe", "urlize", "xmlattr", "pprint"})


# --- errors -----------------------------------------------------------------------------


class TemplateError(Exception):
    """A message template could not be used; ``str(e)`` is readable by an admin."""

    def __init__(self, message: str, *, line: int | None = None) -> None:
        self.message = message
        self.line = line
        where = f"第{line}行 (line {line}): " if line is not None else ""
        super().__init__(where + message)


class TemplateInvalid(TemplateError):
    """Bad template: the template itself is at fault, whatever the data."""


class TemplateSyntaxInvalid(TemplateInvalid):
    """The template does not parse."""


class TemplateUnsafe(TemplateInvalid):
    """The template tried something the sandbox forbids (internals, huge work, raw HTML)."""


class TemplateTooLong(TemplateInvalid):
    """The template source or its output exceeds the channel's limit."""


class TemplateUnknownVariable(TemplateInvalid):
    """The template uses a variable or attribute the sample context does not have."""

    def __init__(self, message: str, *, variable: str | None, line: int | None = None) -> None:
        self.variable = variable
        super().__init__(message, line=line)


class TemplateMissing(TemplateError):
    """No override and no default file exists for this step, channel and part."""


class TemplateRenderFailed(TemplateError):
    """Bad data: a valid template failed on this particular context."""


# --- context ----------------------------------------------------------------------------


@dataclass(frozen=True)
class ItemView:
    """督查事项, as templates see it."""

    ref: str
    title: str
    source: str
    source_label: str
    objective: str
    content: str
    urgent: bool
    received_on: date
    due_on: date
    due_is_provisional: bool = False


@dataclass(frozen=True)
class AssignmentView:
    """交办: one unit's share of the item."""

    unit_name: str
    role: str
    role_label: str
    due_on: date
    due_weekday_label: str
    days_left: int
    light: str
    owner_name: str
    leader_name: str


@dataclass(frozen=True)
class ReportView:
    """进展报告 / 办理情况报告."""

    kind: str
    text: str
    created_at: datetime
    author_name: str


@dataclass(frozen=True)
class ExtensionView:
    """延期申请."""

    reason: str
    progress: str
    old_due_on: date
    new_due_on: date
    requested_by: str = ""


@dataclass(frozen=True)
class ReviewView:
    """A supervisor's decision on a completion or extension request."""

    subject: str
    decision: str
    comment: str
    reviewer_name: str


@dataclass(frozen=True)
class BulletinRow:
    """One unit's line in a 督查通报."""

    rank: int
    unit_name: str
    assigned: int
    closed_on_time: int
    overdue: int
    extensions: int
    on_time_rate: float | None  # None when nothing was due in the period


@dataclass(frozen=True)
class BulletinOverdueItem:
    """An overdue item named in a 督查通报."""

    ref: str
    title: str
    unit_name: str
    due_on: date
    days_overdue: int


@dataclass(frozen=True)
class BulletinView:
    """督查通报 summary."""

    number: str
    period_label: str
    issued_on: date
    rows: tuple[BulletinRow, ...] = ()
    overdue_items: tuple[BulletinOverdueItem, ...] = ()
    praised_units: tuple[str, ...] = ()


@dataclass(frozen=True)
class MessageContext:
    """Everything a message template may see; plain data, never ORM objects."""

    step: str
    recipient_name: str
    item: ItemView | None = None
    assignment: AssignmentView | None = None
    last_report: ReportView | None = None
    office_name: str = "督查室"
    reply_hint: bool = False
    links: Mapping[str, str] = field(default_factory=dict)
    generated_on: date | None = None
    days_since_report: int | None = None
    report_interval_days: int | None = None
    pending: str | None = None
    requester_name: str | None = None
    extension: ExtensionView | None = None
    review: ReviewView | None = None
    invite_link: str | None = None
    invite_expires_on: date | None = None
    bulletin: BulletinView | None = None

    def as_template_vars(self) -> dict[str, object]:
        """The top-level template variables (dataclass views stay objects)."""
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)} | {
            "links": dict(self.links)
        }


@dataclass(frozen=True)
class RenderedMessage:
    """One message ready for a channel; ``subject`` is set for email and DingTalk (title)."""

    subject: str | None
    text: str
    html: str | None


# --- sample context ---------------------------------------------------------------------

_SAMPLE_DAYS_LEFT: Final = {
    "remind": 5,
    "urge": 1,
    "overdue": -1,
    "escalate": -3,
    "periodic": 12,
    "review_request": 4,
    "review_outcome": 4,
    "signoff_request": 2,
}


def sample_context(step: str, locale: str = DEFAULT_LOCALE) -> MessageContext:
    """A realistic context for previews and validation of templates for ``step``."""
    zh = locale != "en"
    days_left = _SAMPLE_DAYS_LEFT.get(step, 5)
    due = date(2026, 11, 12)
    item = ItemView(
        ref="督字〔2026〕37号",
        title=(
            "关于加快推进城镇老旧小区改造工作的批示"
            if zh
            else "Instruction on speeding up the renovation of old residential compounds"
        ),
        source="instruction",
        source_label="领导批示" if zh else "leader's instruction",
        objective=(
            "年底前完成42个老旧小区改造开工，惠及居民1.2万户"
            if zh
            else "Start renovation of 42 compounds by year end, benefiting 12,000 households"
        ),
        content=(
            "制定改造计划，落实资金，按月报送进展"
            if zh
            else "Draw up the plan, secure funding, report progress monthly"
        ),
        urgent=step in {"urge", "overdue", "escalate"},
        received_on=date(2026, 10, 9),
        due_on=due,
        due_is_provisional=False,
    )
    assignment = AssignmentView(
        unit_name="市住房和城乡建设局" if zh else "Municipal Housing and Construction Bureau",
        role="lead",
        role_label="主办" if zh else "lead unit",
        due_on=due,
        due_weekday_label="星期四" if zh else "Thursday",
        days_left=days_left,
        light="red" if days_left < 0 else ("yellow" if days_left <= 5 else "green"),
        owner_name="王建国" if zh else "Wang Jianguo",
        leader_name="李明" if zh else "Li Ming",
    )
    report = ReportView(
        kind="completion" if step in {"signoff_request", "review_request"} else "progress",
        text=(
            "已完成31个小区的施工招标，其中26个已进场施工；剩余11个小区因管线迁改协调滞后，"
            "预计11月20日前全部开工。"
            if zh
            else "Tendering done for 31 compounds, 26 already under construction; the other "
            "11 are delayed by utility relocation and should all start by 20 November."
        ),
        created_at=datetime(2026, 10, 28, 16, 40),
        author_name="王建国" if zh else "Wang Jianguo",
    )
    links = {
        "item": "https://duban.example.gov.cn/items/37",
        "report": "https://duban.example.gov.cn/items/37/report",
        "extension": "https://duban.example.gov.cn/items/37/extension",
        "review": "https://duban.example.gov.cn/review/118",
        "bulletin": "https://duban.example.gov.cn/bulletins/11",
        "web": "https://duban.example.gov.cn/",
    }
    base = MessageContext(
        step=step,
        recipient_name="王建国" if zh else "Wang Jianguo",
        item=item,
        assignment=assignment,
        last_report=report,
        office_name="市政府督查室" if zh else "Municipal Government Supervision Office",
        reply_hint=True,
        links=links,
        generated_on=date(2026, 11, 5),
        days_since_report=8,
        report_interval_days=10,
    )
    if step in {"review_request", "review_outcome"}:
        extension = ExtensionView(
            reason=(
                "部分小区涉及燃气管线迁改，需与燃气公司协调施工窗口"
                if zh
                else "Some compounds need gas-pipe relocation coordinated with the gas company"
            ),
            progress=report.text,
            old_due_on=due,
            new_due_on=date(2026, 12, 10),
            requested_by=assignment.owner_name,
        )
        base = dataclasses.replace(
            base,
            recipient_name="陈静" if zh else "Chen Jing",
            pending="extension",
            requester_name=assignment.owner_name,
            extension=extension,
        )
    if step == "review_outcome":
        assert base.extension is not None
        base = dataclasses.replace(
            base,
            recipient_name=assignment.owner_name,
            assignment=dataclasses.replace(
                assignment, due_on=base.extension.new_due_on, days_left=22, light="green"
            ),
            review=ReviewView(
                subject="extension",
                decision="approved",
                comment=(
                    "同意延期至12月10日，请每周报送一次进展。"
                    if zh
                    else "Extension to 10 December approved; report progress weekly."
                ),
                reviewer_name="陈静" if zh else "Chen Jing",
            ),
        )
    if step == "signoff_request":
        base = dataclasses.replace(base, recipient_name="赵国庆" if zh else "Zhao Guoqing")
    if step == "escalate":
        base = dataclasses.replace(base, recipient_name="赵国庆" if zh else "Zhao Guoqing")
    if step == "invite":
        base = dataclasses.replace(
            base,
            item=None,
            assignment=None,
            last_report=None,
            reply_hint=False,
            invite_link="https://t.me/duban_office_bot?start=inv_7Q2xK9mPa4",
            invite_expires_on=date(2026, 11, 12),
        )
    if step == "bulletin":
        rows = tuple(
            BulletinRow(
                rank=n,
                unit_name=name,
                assigned=assigned,
                closed_on_time=closed,
                overdue=overdue,
                extensions=ext,
                on_time_rate=closed / assigned,
            )
            for n, (name, assigned, closed, overdue, ext) in enumerate(
                [
                    (
                        "市发展和改革委员会" if zh else "Development and Reform Commission",
                        12,
                        12,
                        0,
                        1,
                    ),
                    ("市教育局" if zh else "Education Bureau", 9, 8, 0, 1),
                    (
                        "市住房和城乡建设局" if zh else "Housing and Construction Bureau",
                        15,
                        11,
                        2,
                        2,
                    ),
                    ("市交通运输局" if zh else "Transport Bureau", 7, 4, 3, 0),
                ],
                start=1,
            )
        )
        base = dataclasses.replace(
            base,
            recipient_name="各区县政府、市各部门" if zh else "all districts and departments",
            item=None,
            assignment=None,
            last_report=None,
            reply_hint=False,
            bulletin=BulletinView(
                number="2026年第11期" if zh else "2026 No. 11",
                period_label="2026年10月" if zh else "October 2026",
                issued_on=date(2026, 11, 5),
                rows=rows,
                overdue_items=(
                    BulletinOverdueItem(
                        ref="督字〔2026〕29号",
                        title="关于优化公交线网的会议决定"
                        if zh
                        else "Meeting decision on optimising bus routes",
                        unit_name="市交通运输局" if zh else "Transport Bureau",
                        due_on=date(2026, 10, 20),
                        days_overdue=12,
                    ),
                ),
                praised_units=("市发展和改革委员会",)
                if zh
                else ("Development and Reform Commission",),
            ),
        )
    return base


# --- formatting filters -----------------------------------------------------------------

_CN_WEEKDAYS: Final = ("星期一", "星期二", "星期三", "星期四", "星期五", "星期六", "星期日")
_EN_WEEKDAYS: Final = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_EN_MONTHS: Final = (
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
)  # fmt: skip


def _as_date(value: object) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    raise TypeError(f"expected a date, got {type(value).__name__}")


def cn_date(value: object, weekday: bool = True) -> str:
    """2026年11月12日（星期四）."""
    d = _as_date(value)
    text = f"{d.year}年{d.month}月{d.day}日"
    return f"{text}（{_CN_WEEKDAYS[d.weekday()]}）" if weekday else text


def en_date(value: object, weekday: bool = True) -> str:
    """Thu 12 Nov 2026."""
    d = _as_date(value)
    text = f"{d.day} {_EN_MONTHS[d.month - 1]} {d.year}"
    return f"{_EN_WEEKDAYS[d.weekday()]} {text}" if weekday else text


def cn_datetime(value: object) -> str:
    """2026年10月28日 16:40."""
    if not isinstance(value, datetime):
        return cn_date(value, weekday=False)
    return f"{cn_date(value, weekday=False)} {value:%H:%M}"


def en_datetime(value: object) -> str:
    """28 Oct 2026 16:40."""
    if not isinstance(value, datetime):
        return en_date(value, weekday=False)
    return f"{en_date(value, weekday=False)} {value:%H:%M}"


def days_phrase_for(days_left: int, locale: str) -> str:
    """剩余3个工作日 / 今日到期 / 已逾期2个工作日, or the English equivalent."""
    if locale == "en":
        if days_left > 0:
            return f"{days_left} working day{'s' if days_left != 1 else ''} left"
        if days_left == 0:
            return "due today"
        n = -days_left
        return f"{n} working day{'s' if n != 1 else ''} overdue"
    if days_left > 0:
        return f"剩余{days_left}个工作日"
    if days_left == 0:
        return "今日到期"
    return f"已逾期{-days_left}个工作日"


@pass_context
def _days_phrase(context: Context, days_left: int, locale: str | None = None) -> str:
    return days_phrase_for(int(days_left), locale or str(context.get("locale", "zh")))


def _percent(value: float | None, digits: int = 1) -> str:
    if value is None:  # nothing was due yet: a rate would be meaningless
        return "—"
    return f"{float(value) * 100:.{max(0, min(int(digits), 4))}f}%"


def _excerpt(value: object, length: int = 120) -> str:
    text = " ".join(str(value).split())
    length = max(1, min(int(length), MAX_VALUE_SIZE))
    return text if len(text) <= length else text[: length - 1] + "…"


# --- escaping per channel ---------------------------------------------------------------

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u202a-\u202e\u2066-\u2069]")

#: Group robots (WeCom markdown, DingTalk markdown) have no documented backslash escape,
#: so user text is neutralised by *fullwidth substitution*: every markdown, link, HTML or
#: mention metacharacter becomes its fullwidth twin (＊［］（）＜＞＠…), which reads naturally
#: in Chinese text and cannot form markup; "://" becomes "：//" so bare URLs do not autolink.
_MARKDOWN_TABLE: Final = str.maketrans(
    {
        "*": "＊",
        "_": "＿",
        "`": "｀",
        "[": "［",
        "]": "］",
        "(": "（",
        ")": "）",
        "<": "＜",
        ">": "＞",
        "#": "＃",
        "~": "～",
        "|": "｜",
        "!": "！",
        "@": "＠",
        "\\": "＼",
        "&": "＆",
        "=": "＝",
        "\r": None,
    }
)
#: Feishu plain text only interprets <at user_id="…"> tags: neutralise tags and mentions.
_FEISHU_TABLE: Final = str.maketrans({"<": "＜", ">": "＞", "@": "＠", "\r": None})


def escape_markdown(text: str) -> str:
    """Neutralise markdown, links, HTML and @mentions in user text for WeCom/DingTalk."""
    return _CONTROL.sub("", text).translate(_MARKDOWN_TABLE).replace("://", "：//")


def escape_feishu(text: str) -> str:
    """Neutralise <at> tags and @mentions in user text for Feishu plain text."""
    return _CONTROL.sub("", text).translate(_FEISHU_TABLE)


def escape_plain(text: str) -> str:
    """Plain text (email text, log): drop control and bidi-override characters."""
    return _CONTROL.sub("", text.replace("\r\n", "\n"))


_LINE_BREAKS: Final = re.compile(r"[\r\n\t\v\f\u2028\u2029]+")


def escape_header(text: str) -> str:
    """Email subject: one line, no control characters (no header injection)."""
    return _CONTROL.sub("", _LINE_BREAKS.sub(" ", text))


_ESCAPERS: Final[dict[str, Callable[[str], str]]] = {
    "markdown": escape_markdown,
    "feishu": escape_feishu,
    "plain": escape_plain,
    "header": escape_header,
}


def _mode_for(channel: str, part: str) -> str:
    if (channel, part) in {("telegram", "text"), ("email", "html")}:
        return "html"
    if channel == "email" and part == "subject":
        return "header"
    if channel in {"wecom", "dingtalk"}:
        return "markdown"
    if channel == "feishu":
        return "feishu"
    return "plain"


def _safe_class(mode: str) -> type[Markup]:
    """A Markup subclass whose escaping is the channel's, so Markup operations stay safe."""
    if mode == "html":
        return Markup
    escaper = _ESCAPERS[mode]

    def _escape(cls: type[Markup], s: object) -> Markup:
        if isinstance(s, cls):
            return s
        return cls(escaper(str(s)))

    return type(f"_{mode.title()}Safe", (Markup,), {"escape": classmethod(_escape)})


_QUOTE_STYLE: Final = (
    ' style="margin:4px 0;padding:4px 10px;border-left:3px solid #c8c8c8;color:#444"'
)
_SAFE_URL: Final = re.compile(r"^(https?|tg|mailto):", re.IGNORECASE)


class _Helpers:
    """Formatting helpers exposed to templates; each escapes its arguments for the channel."""

    def __init__(self, channel: str, mode: str, safe: type[Markup]) -> None:
        self.channel = channel
        self.mode = mode
        self.safe = safe

    def _esc(self, value: object) -> str:
        if isinstance(value, self.safe):
            return str(value)
        if self.mode == "html":
            return str(escape(str(value)))
        return _ESCAPERS[self.mode](str(value))

    def b(self, text: object) -> Markup:
        inner = self._esc(text)
        if self.mode == "html":
            return self.safe(f"<b>{inner}</b>")
        if self.mode == "markdown":
            return self.safe(f"**{inner}**")
        return self.safe(inner)

    def i(self, text: object) -> Markup:
        inner = self._esc(text)
        if self.mode == "html":
            return self.safe(f"<i>{inner}</i>")
        if self.mode == "markdown":
            return self.safe(f"*{inner}*")
        return self.safe(inner)

    def code(self, text: object) -> Markup:
        inner = self._esc(text)
        if self.mode == "html":
            return self.safe(f"<code>{inner}</code>")
        if self.mode == "markdown":
            return self.safe(f"`{inner}`")
        return self.safe(inner)

    def quote(self, text: object) -> Markup:
        inner = self._esc(text)
        if self.mode == "html":
            style = "" if self.channel == "telegram" else _QUOTE_STYLE
            return self.safe(f"<blockquote{style}>{inner}</blockquote>")
        return self.safe("\n".join("> " + line for line in inner.split("\n")))

    @pass_context
    def link(self, context: Context, text: object, url: object) -> Markup:
        label = self._esc(text)
        href = str(url)
        if not _SAFE_URL.match(href) or any(c.isspace() for c in href):
            return self.safe(label)
        if self.mode == "html":
            return self.safe(f'<a href="{escape(href)}">{label}</a>')
        if self.mode == "markdown":
            return self.safe(f"[{label}]({href.replace(')', '%29')})")
        colon = "：" if context.get("locale") == "zh" else ": "
        return self.safe(f"{label}{colon}{href}")


# --- the sandbox ------------------------------------------------------------------------


class _Budget:
    """Per-render work budget: loop iterations and wall-clock time."""

    def __init__(self) -> None:
        self.iterations = 0
        self.deadline = time.monotonic() + MAX_RENDER_SECONDS

    def tick(self) -> None:
        self.iterations += 1
        if self.iterations > MAX_LOOP_ITERATIONS:
            raise SecurityError(
                f"循环次数超过上限 {MAX_LOOP_ITERATIONS} / more than {MAX_LOOP_ITERATIONS} "
                "loop iterations in one message"
            )
        if self.iterations % 256 == 0 and time.monotonic() > self.deadline:
            raise SecurityError("渲染超时 / template took too long to render")


_BUDGET: ContextVar[_Budget | None] = ContextVar("duban_template_budget", default=None)


def _budget() -> _Budget:
    budget = _BUDGET.get()
    if budget is None:
        budget = _Budget()
        _BUDGET.set(budget)
    return budget


def _check_size(value: object, what: str) -> None:
    try:
        size = len(value)  # type: ignore[arg-type]
    except TypeError:
        return
    if size > MAX_VALUE_SIZE:
        raise SecurityError(
            f"{what} 生成的内容过大（{size}） / {what} would build a value of {size} items, "
            f"limit {MAX_VALUE_SIZE}"
        )


def _approx_size(value: object, budget: int = MAX_VALUE_SIZE) -> int:
    """Rough length of ``str(value)``; stops counting once it passes ``budget``."""
    total = 0
    stack: list[object] = [value]
    while stack and total <= budget:
        v = stack.pop()
        if isinstance(v, str):
            total += len(v)
        elif isinstance(v, Mapping):
            total += 2 + 4 * len(v)
            stack.extend(v.keys())
            stack.extend(v.values())
        elif isinstance(v, list | tuple | set | frozenset):
            total += 2 + 2 * len(v)
            stack.extend(v)
        elif dataclasses.is_dataclass(v) and not isinstance(v, type):
            total += 32
            stack.extend(getattr(v, f.name) for f in dataclasses.fields(v))
        else:
            total += 24
    return total


def _guard_value(value: object, what: str) -> None:
    """Refuse a value whose text would exceed the size cap, before it is built."""
    if isinstance(value, str):
        return
    size = _approx_size(value)
    if size > MAX_VALUE_SIZE:
        raise SecurityError(
            f"{what} 内容过大 / {what} would produce about {size} characters, "
            f"limit {MAX_VALUE_SIZE}"
        )


def _filter_output_estimate(name: str, args: list[Any], kwargs: dict[str, Any]) -> int:
    """Upper bound on the size of filters that can amplify their input."""
    value = args[0] if args else ""
    rest = args[1:]
    if name == "join":
        sep = kwargs.get("d", rest[0] if rest else "")
        count = len(value) if isinstance(value, Sized) else 0
        return _approx_size(value) + count * len(str(sep))
    text = str(value) if isinstance(value, str) else ""
    if name == "replace" and len(rest) >= 2:
        old, new = str(rest[0]), str(rest[1])
        count = text.count(old) if old else len(text) + 1
        return len(text) + count * max(0, len(new) - len(old))
    if name == "wordwrap":
        width = int(kwargs.get("width", rest[0] if rest else 79))
        wrap = kwargs.get("wrapstring", rest[2] if len(rest) > 2 else None) or "\n"
        return len(text) + (len(text) // max(1, width) + 1) * len(str(wrap))
    if name == "indent":
        width = kwargs.get("width", rest[0] if rest else 4)
        pad = len(width) if isinstance(width, str) else int(width)
        return len(text) + (text.count("\n") + 1) * pad
    return 0


def _guarded_filter(name: str, func: Callable[..., Any]) -> Callable[..., Any]:
    """Wrap a filter: refuse oversized inputs and amplifications, cap the result."""

    @functools.wraps(func)  # keeps jinja's pass_context / pass_eval_context marker
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        values = [a for a in args if not isinstance(a, Context | EvalContext | Environment)]
        values = [
            list(v) if isinstance(v, Iterator) and not isinstance(v, str) else v for v in values
        ]
        for v in [*values, *kwargs.values()]:
            _guard_value(v, f"|{name}")
        if _filter_output_estimate(name, values, kwargs) > MAX_VALUE_SIZE:
            raise SecurityError(f"|{name} 结果过大 / |{name} would build too large a value")
        prefix = args[: len(args) - len(values)]
        rv = func(*prefix, *values, **kwargs)
        if isinstance(rv, str | list | tuple):
            _check_size(rv, f"|{name}")
        return rv

    return wrapper


_GUARD_ITER: Final = "_duban_guard_iter"
_GUARD_SIZE: Final = "_duban_guard_size"


@pass_context
def _guard_iter(context: Context, iterable: Iterable[Any]) -> Iterator[Any]:
    budget = _budget()
    for value in iterable:
        budget.tick()
        yield value


def _guard_size(value: Any) -> Any:
    _check_size(value, "~")
    return value


_NO_AUTOESCAPE: Final = "不允许使用 {% autoescape %} / {% autoescape %} is not allowed"


class _GuardTransformer(NodeTransformer):
    """Rewrites a parsed template: loops count against the budget, `~` results are capped."""

    def visit_For(self, node: nodes.For) -> nodes.Node:
        self.generic_visit(node)
        node.iter = nodes.Filter(node.iter, _GUARD_ITER, [], [], None, None, lineno=node.lineno)
        return node

    def visit_Concat(self, node: nodes.Concat) -> nodes.Node:
        self.generic_visit(node)
        return nodes.Filter(node, _GUARD_SIZE, [], [], None, None, lineno=node.lineno)

    def visit_ScopedEvalContextModifier(self, node: nodes.ScopedEvalContextModifier) -> nodes.Node:
        raise TemplateUnsafe(_NO_AUTOESCAPE, line=node.lineno)

    def visit_EvalContextModifier(self, node: nodes.EvalContextModifier) -> nodes.Node:
        raise TemplateUnsafe(_NO_AUTOESCAPE, line=node.lineno)


_PRINTF_WIDTH: Final = re.compile(r"%[#0\- +]*(\*|\d{4,})|%[#0\- +]*\d*\.(\*|\d{4,})")
_PADDING_METHODS: Final = frozenset({"ljust", "rjust", "center", "zfill", "expandtabs"})


def _check_printf(fmt: object) -> None:
    if isinstance(fmt, str) and _PRINTF_WIDTH.search(fmt):
        raise SecurityError("格式宽度过大 / printf width or precision too large")


def _safe_range(*args: int) -> range:
    rng = range(*args)
    if len(rng) > MAX_RANGE:
        raise SecurityError(
            f"range() 超过上限 {MAX_RANGE} / range() of {len(rng)} items exceeds {MAX_RANGE}"
        )
    return rng


def _safe_format(value: str, *args: Any, **kwargs: Any) -> str:
    _check_printf(value)
    if args and kwargs:
        raise TypeError("can't handle positional and keyword arguments at the same time")
    return str(value) % (kwargs or args)


def _safe_center(value: str, width: int = 80) -> str:
    if int(width) > MAX_VALUE_SIZE:
        raise SecurityError("center() width too large")
    return str(value).center(int(width))


def _safe_indent(value: str, width: int | str = 4, first: bool = False, blank: bool = False) -> str:
    if (isinstance(width, int) and width > 1000) or (isinstance(width, str) and len(width) > 1000):
        raise SecurityError("indent() width too large")
    return do_indent(value, width, first, blank)


def _safe_batch(value: Iterable[Any], linecount: int, fill_with: Any = None) -> list[list[Any]]:
    if int(linecount) > MAX_RANGE or int(linecount) < 1:
        raise SecurityError("batch() size out of range")
    return list(do_batch(value, int(linecount), fill_with))


def _safe_slice(value: Iterable[Any], slices: int, fill_with: Any = None) -> list[list[Any]]:
    if int(slices) > MAX_RANGE or int(slices) < 1:
        raise SecurityError("slice() count out of range")
    return list(sync_do_slice(list(value), int(slices), fill_with))


class _Environment(ImmutableSandboxedEnvironment):
    """The sandbox for one channel part: escaping, helpers and work limits."""

    intercepted_binops = frozenset({"*", "**", "+", "%"})

    def __init__(self, *, channel: str, part: str, templates_dir: Path) -> None:
        self.mode = _mode_for(channel, part)
        self.safe = _safe_class(self.mode)
        safe = self.safe
        escaper = _ESCAPERS.get(self.mode)

        def finalize(value: Any) -> Any:
            _guard_value(value, "{{ }}")
            if escaper is None or isinstance(value, safe):
                return value  # HTML: autoescape runs after finalize
            return escaper(str(value))

        super().__init__(
            loader=FileSystemLoader(str(templates_dir)),
            undefined=StrictUndefined,
            autoescape=self.mode == "html",
            finalize=finalize,
            auto_reload=False,
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=False,
        )
        for name in _DISALLOWED_FILTERS:
            self.filters.pop(name, None)
        self.globals.pop("lipsum", None)
        self.globals["range"] = _safe_range
        helpers = _Helpers(channel, self.mode, self.safe)
        self.globals.update(
            b=helpers.b,
            i=helpers.i,
            code=helpers.code,
            quote=helpers.quote,
            link=helpers.link,
        )
        self.filters.update(
            {
                "format": _safe_format,
                "center": _safe_center,
                "indent": _safe_indent,
                "batch": _safe_batch,
                "slice": _safe_slice,
                "cn_date": cn_date,
                "en_date": en_date,
                "cn_datetime": cn_datetime,
                "en_datetime": en_datetime,
                "days_phrase": _days_phrase,
                "percent": _percent,
                "excerpt": _excerpt,
            }
        )
        self.filters = {name: _guarded_filter(name, func) for name, func in self.filters.items()}
        self.filters.update(
            {
                _GUARD_ITER: _guard_iter,
                _GUARD_SIZE: _guard_size,
            }
        )

    def is_safe_attribute(self, obj: Any, attr: str, value: Any) -> bool:
        if isinstance(obj, str) and attr in {"format", "format_map"}:
            return False  # use the |format filter, which caps widths
        return super().is_safe_attribute(obj, attr, value)

    def wrap_str_format(self, value: Any) -> Callable[..., str] | None:
        return None  # str.format is refused outright by is_safe_attribute

    def _parse(self, source: str, name: str | None, filename: str | None) -> nodes.Template:
        tree = super()._parse(source, name, filename)
        guarded = _GuardTransformer().visit(tree)
        assert isinstance(guarded, nodes.Template)
        return guarded

    def call_binop(self, context: Context, operator: str, left: Any, right: Any) -> Any:
        if operator == "**":
            if isinstance(left, int) and isinstance(right, int) and right > 0:
                bits = max(1, abs(left).bit_length()) * right
                if bits > MAX_INT_BITS:
                    raise SecurityError(f"乘方结果过大 / {left} ** {right} is too large to compute")
        elif operator == "*":
            if isinstance(left, int) and isinstance(right, int):
                if left.bit_length() + right.bit_length() > MAX_INT_BITS:
                    raise SecurityError("乘法结果过大 / product too large")
            elif (
                isinstance(right, int)
                and not isinstance(left, int | float)
                and len(left) * right > MAX_VALUE_SIZE
            ):
                raise SecurityError(
                    f"重复次数过多 / repeating a value {right} times exceeds "
                    f"{MAX_VALUE_SIZE} characters or items"
                )
            elif (
                isinstance(left, int)
                and not isinstance(right, int | float)
                and len(right) * left > MAX_VALUE_SIZE
            ):
                raise SecurityError(
                    f"重复次数过多 / repeating a value {left} times exceeds "
                    f"{MAX_VALUE_SIZE} characters or items"
                )
        elif operator == "+":
            if (
                isinstance(left, str | list | tuple)
                and isinstance(right, str | list | tuple)
                and len(left) + len(right) > MAX_VALUE_SIZE
            ):
                raise SecurityError("拼接结果过大 / concatenation too large")
        elif operator == "%":
            _check_printf(left)
        return super().call_binop(context, operator, left, right)

    def call(
        __self,
        __context: Context,
        __obj: Any,
        *args: Any,
        **kwargs: Any,
    ) -> Any:
        owner = getattr(__obj, "__self__", None)
        if isinstance(__obj, types.BuiltinMethodType | types.MethodType) and isinstance(owner, str):
            _check_str_call(owner, __obj.__name__, args, kwargs)
        rv = super().call(__context, __obj, *args, **kwargs)
        if isinstance(rv, str | list | tuple):
            _check_size(rv, f"{getattr(__obj, '__name__', 'call')}()")
        if isinstance(__obj, Macro) and __self.mode != "html" and isinstance(rv, str):
            # Macro output was escaped when it was rendered: keep it from being escaped twice.
            return __self.safe(rv)
        return rv


def _check_str_call(s: str, name: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    values = [*args, *kwargs.values()]
    if name in _PADDING_METHODS:
        for v in values:
            if isinstance(v, int) and v > MAX_VALUE_SIZE:
                raise SecurityError(f"str.{name}() width too large")
        if name == "expandtabs" and s.count("\t") * (int(values[0]) if values else 8) > (
            MAX_VALUE_SIZE
        ):
            raise SecurityError("str.expandtabs() result too large")
    elif name == "replace" and len(values) >= 2:
        old, new = str(values[0]), str(values[1])
        count = s.count(old) if old else len(s) + 1
        if len(s) + count * max(0, len(new) - len(old)) > MAX_VALUE_SIZE:
            raise SecurityError("str.replace() result too large")
    elif name == "translate" and values and isinstance(values[0], Mapping):
        longest = max((len(str(v)) for v in values[0].values() if v is not None), default=1)
        if len(s) * longest > MAX_VALUE_SIZE:
            raise SecurityError("str.translate() result too large")
    elif name == "join" and values:
        seq = values[0]
        if isinstance(seq, list | tuple):
            total = len(s) * len(seq) + sum(len(x) for x in seq if isinstance(x, str))
            if total > MAX_VALUE_SIZE:
                raise SecurityError("str.join() result too large")


# --- output fitting ---------------------------------------------------------------------

_HTML_TOKEN: Final = re.compile(r"<[^<>]*>|&#?\w{1,32};|[^<&]+|[<&]")
_TAG: Final = re.compile(r"<\s*(/?)\s*([a-zA-Z][\w-]*)([^>]*)>")
_ELLIPSIS: Final = "…"


def _tg_units(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _unescape_entity(entity: str) -> str:
    return html.unescape(entity)


def telegram_visible_length(html_text: str) -> int:
    """Length Telegram counts: text after tags are removed and entities decoded, UTF-16."""
    total = 0
    for token in _HTML_TOKEN.findall(html_text):
        if token.startswith("<") and len(token) > 1:
            continue
        total += _tg_units(_unescape_entity(token) if token.startswith("&") else token)
    return total


def telegram_tag_problems(html_text: str) -> list[str]:
    """Tags Telegram would reject: outside the allowlist, or unbalanced."""
    problems: list[str] = []
    stack: list[str] = []
    for token in _HTML_TOKEN.findall(html_text):
        if not token.startswith("<"):
            continue
        m = _TAG.fullmatch(token)
        if m is None:
            problems.append(f"无效标签 / malformed tag {token!r}")
            continue
        closing, name = m.group(1) == "/", m.group(2).lower()
        if name not in TELEGRAM_TAGS:
            problems.append(f"Telegram 不支持标签 <{name}> / tag <{name}> is not allowed")
        elif closing:
            if not stack or stack[-1] != name:
                problems.append(f"标签不匹配 </{name}> / unbalanced closing tag </{name}>")
            else:
                stack.pop()
        else:
            stack.append(name)
    problems.extend(f"标签未闭合 <{n}> / tag <{n}> is never closed" for n in stack)
    return problems


def fit_telegram(html_text: str, limit: int = 4096) -> str:
    """Drop disallowed tags, balance the rest and trim to ``limit`` visible UTF-16 units."""
    out: list[str] = []
    stack: list[str] = []
    used = 0
    budget = limit - _tg_units(_ELLIPSIS)
    fits = telegram_visible_length(html_text) <= limit
    for token in _HTML_TOKEN.findall(html_text):
        if token.startswith("<") and len(token) > 1:
            m = _TAG.fullmatch(token)
            if m is None or m.group(2).lower() not in TELEGRAM_TAGS:
                continue
            name = m.group(2).lower()
            if m.group(1):
                if name in stack:
                    while stack:
                        top = stack.pop()
                        out.append(f"</{top}>")
                        if top == name:
                            break
                continue
            stack.append(name)
            out.append(token)
            continue
        if token in {"<", "&"}:
            token = escape(token)
        visible = _unescape_entity(token) if token.startswith("&") else token
        size = _tg_units(visible)
        if fits or used + size <= budget:
            out.append(token)
            used += size
            continue
        if not token.startswith("&"):
            room = budget - used
            cut = ""
            for ch in token:
                w = _tg_units(ch)
                if w > room:
                    break
                cut += ch
                room -= w
            out.append(cut)
        out.append(_ELLIPSIS)
        break
    out.extend(f"</{name}>" for name in reversed(stack))
    return "".join(out)


def fit_html(html_text: str, limit: int) -> str:
    """Trim an HTML document to ``limit`` characters without cutting a tag or entity."""
    if len(html_text) <= limit:
        return html_text
    out: list[str] = []
    used = 0
    stack: list[str] = []
    room = limit - 200  # leave space for closing tags and the ellipsis
    for token in _HTML_TOKEN.findall(html_text):
        if used + len(token) > room:
            if not token.startswith(("<", "&")):
                out.append(token[: max(0, room - used)])
            out.append(_ELLIPSIS)
            break
        m = _TAG.fullmatch(token) if token.startswith("<") else None
        if m is not None and not m.group(3).rstrip().endswith("/"):
            name = m.group(2).lower()
            if name not in {"br", "hr", "img", "meta", "link", "input", "col", "wbr"}:
                if m.group(1):
                    if name in stack:
                        while stack and stack.pop() != name:
                            pass
                else:
                    stack.append(name)
        out.append(token)
        used += len(token)
    out.extend(f"</{name}>" for name in reversed(stack))
    return "".join(out)[:limit]


def markdown_title(text: str, limit: int = 64) -> str:
    """The first non-empty line of a markdown message without markup, for DingTalk's title."""
    for line in text.splitlines():
        plain = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", line)
        plain = plain.replace("**", "").strip(" #>*`\t")
        if plain:
            return plain if len(plain) <= limit else plain[: limit - 1] + _ELLIPSIS
    return ""


def fit_plain(text: str, limit: Limit) -> str:
    """Trim plain or markdown text to the limit at a character boundary."""
    if _measure(text, limit) <= limit.count:
        return text
    budget = limit.count - _measure(_ELLIPSIS, limit)
    if limit.unit == "utf8":
        cut = text.encode("utf-8")[:budget].decode("utf-8", errors="ignore")
    else:
        cut = text[:budget]
    return cut + _ELLIPSIS


def _measure(text: str, limit: Limit) -> int:
    if limit.unit == "utf8":
        return len(text.encode("utf-8"))
    if limit.unit == "tg":
        return telegram_visible_length(text)
    return len(text)


# --- errors from jinja ------------------------------------------------------------------

_ADMIN_FILENAME: Final = "<admin-template>"
_UNDEFINED_NAME: Final = re.compile(r"'([^']+)' is undefined|has no attribute '([^']+)'")
_NO_FILTER: Final = re.compile(r"No filter named '([^']+)'")


def _line_from_traceback(exc: BaseException, filename: str | None) -> int | None:
    line: int | None = None
    tb = exc.__traceback__
    while tb is not None:
        code = tb.tb_frame.f_code
        if code.co_filename == filename if filename else code.co_filename.endswith(".j2"):
            line = tb.tb_lineno
        tb = tb.tb_next
    return line


def _translate(exc: Exception, filename: str | None, *, at_render: bool) -> TemplateError:
    """Turn a jinja exception into an admin-readable TemplateError."""
    if isinstance(exc, TemplateError):
        return exc
    if isinstance(exc, TemplateAssertionError):
        m = _NO_FILTER.search(exc.message or "")
        if m and m.group(1) in _DISALLOWED_FILTERS:
            return TemplateUnsafe(
                f"不允许使用过滤器 |{m.group(1)} / filter |{m.group(1)} is not allowed",
                line=exc.lineno,
            )
        return TemplateSyntaxInvalid(f"模板错误 / template error: {exc.message}", line=exc.lineno)
    if isinstance(exc, TemplateSyntaxError):
        return TemplateSyntaxInvalid(f"语法错误 / syntax error: {exc.message}", line=exc.lineno)
    if isinstance(exc, TemplateNotFound):
        return TemplateInvalid(
            f"引用的模板不存在 / included template not found: {exc.name}",
            line=_line_from_traceback(exc, filename),
        )
    line = _line_from_traceback(exc, filename)
    if isinstance(exc, SecurityError):
        return TemplateUnsafe(f"不安全的操作 / unsafe operation: {exc}", line=line)
    if isinstance(exc, UndefinedError):
        m = _UNDEFINED_NAME.search(str(exc))
        name = (m.group(1) or m.group(2)) if m else None
        message = f"未定义的变量 / undefined variable: {name or exc}"
        if at_render:
            return TemplateRenderFailed(message, line=line)
        return TemplateUnknownVariable(message, variable=name, line=line)
    if isinstance(exc, RecursionError | MemoryError | OverflowError):
        return TemplateUnsafe(f"计算量过大 / too much work: {type(exc).__name__}", line=line)
    detail = f"{type(exc).__name__}: {exc}"
    if at_render:
        return TemplateRenderFailed(f"渲染失败 / render failed: {detail}", line=line)
    if isinstance(exc, TemplateRuntimeError):
        return TemplateInvalid(f"模板运行错误 / template error: {detail}", line=line)
    return TemplateInvalid(f"用示例数据渲染失败 / fails on sample data: {detail}", line=line)


# --- store and renderer -----------------------------------------------------------------


class TemplateStore(Protocol):
    """Admin overrides (the DB layer implements this)."""

    async def get(self, step: str, channel: str, locale: str, part: str) -> str | None:
        """The override source, or None to use the default."""
        ...


class InMemoryTemplateStore:
    """A TemplateStore backed by a dict; for tests and previews."""

    def __init__(self, sources: Mapping[tuple[str, str, str, str], str] | None = None) -> None:
        self.sources: dict[tuple[str, str, str, str], str] = dict(sources or {})

    def set(self, step: str, channel: str, locale: str, part: str, source: str) -> None:
        """Store an override."""
        self.sources[(step, channel, locale, part)] = source

    async def get(self, step: str, channel: str, locale: str, part: str) -> str | None:
        """The override for this key, if any."""
        return self.sources.get((step, channel, locale, part))


@dataclass(frozen=True)
class _Source:
    text: str
    origin: str  # "override" or the template file name
    filename: str
    locale: str


_ENV_CACHE: dict[tuple[str, str, Path], _Environment] = {}


def _environment(channel: str, part: str, templates_dir: Path) -> _Environment:
    key = (channel, part, templates_dir)
    env = _ENV_CACHE.get(key)
    if env is None:
        env = _ENV_CACHE[key] = _Environment(
            channel=channel, part=part, templates_dir=templates_dir
        )
    return env


def _check_source(source: str) -> None:
    if len(source) > MAX_SOURCE_CHARS:
        raise TemplateTooLong(
            f"模板过长：{len(source)} 字符，上限 {MAX_SOURCE_CHARS} / template source is "
            f"{len(source)} characters, limit {MAX_SOURCE_CHARS}"
        )


_COMPILED: dict[tuple[int, str], Template] = {}
_COMPILED_MAX: Final = 512


def _compile(env: _Environment, source: str) -> Template:
    key = (id(env), source)
    template = _COMPILED.get(key)
    if template is None:
        _check_source(source)
        try:
            template = env.from_string(source)
        except TemplateSyntaxError as exc:
            raise _translate(exc, _ADMIN_FILENAME, at_render=False) from exc
        template.filename = _ADMIN_FILENAME
        if len(_COMPILED) >= _COMPILED_MAX:
            _COMPILED.pop(next(iter(_COMPILED)))
        _COMPILED[key] = template
    return template


def _run(template: Template, variables: dict[str, object]) -> str:
    """Render with a fresh work budget, stopping once the raw output is absurdly long."""
    token = _BUDGET.set(_Budget())
    try:
        chunks: list[str] = []
        size = 0
        for chunk in template.generate(variables):
            size += len(chunk)
            if size > MAX_RAW_OUTPUT:
                raise TemplateTooLong(
                    f"输出超过 {MAX_RAW_OUTPUT} 字符，已停止 / output exceeded "
                    f"{MAX_RAW_OUTPUT} characters, rendering stopped"
                )
            chunks.append(chunk)
        return "".join(chunks)
    finally:
        _BUDGET.reset(token)


_BLANK_RUNS: Final = re.compile(r"\n[ \t]*\n(?:[ \t]*\n)+")


def _tidy(raw: str, part: str) -> str:
    """Strip the output; at most one blank line in a row (macros leave empty lines)."""
    if part == "subject":
        return " ".join(escape_header(raw).split())
    return _BLANK_RUNS.sub("\n\n", raw.strip())


def _finish(channel: str, part: str, raw: str) -> str:
    """Trim output to the channel limit, safely for its markup."""
    text = _tidy(raw, part)
    limit = OUTPUT_LIMITS[(channel, part)]
    if channel == "telegram":
        return fit_telegram(text, limit.count)
    if channel == "email" and part == "html":
        return fit_html(text, limit.count)
    return fit_plain(text, limit)


_ACTIVE_HTML: Final = re.compile(
    r"<\s*(script|iframe|object|embed|form|meta\s+http-equiv)\b|\son\w+\s*=|javascript:",
    re.IGNORECASE,
)


def _limit_problem(channel: str, part: str, text: str) -> str | None:
    limit = OUTPUT_LIMITS[(channel, part)]
    size = _measure(text, limit)
    if size > limit.count:
        unit = {"chars": "字符/characters", "utf8": "字节/bytes", "tg": "字符/characters"}
        return (
            f"输出 {size} {unit[limit.unit]}，超过上限 {limit.count}（{limit.note}） / "
            f"output is {size}, over the limit of {limit.count}"
        )
    return None


def _check_channel_part(channel: str, part: str) -> None:
    if channel != GROUP and channel not in CHANNELS:
        raise TemplateError(f"未知渠道 / unknown channel {channel!r}")
    allowed = parts_for("email" if channel == "email" else "telegram")
    if part not in allowed:
        raise TemplateError(f"渠道 {channel} 没有 {part} 部分 / channel has no part {part!r}")


def validate(
    source: str,
    *,
    step: str,
    channel: str,
    part: str = "text",
    locale: str = DEFAULT_LOCALE,
    templates_dir: Path = DEFAULT_TEMPLATES_DIR,
) -> str:
    """Check an admin template and return its preview on the sample context, or raise.

    For the ``group`` pseudo-channel the template is checked for every group channel and
    the WeCom preview (the strictest limit) is returned.
    """
    if step not in STEPS:
        raise TemplateError(f"未知的消息类型 / unknown step {step!r}")
    _check_channel_part(channel, part)
    _check_source(source)
    targets = sorted(GROUP_CHANNELS, key=lambda c: c != "wecom") if channel == GROUP else [channel]
    variables = sample_context(step, locale).as_template_vars()
    previews: list[str] = []
    for target in targets:
        env = _environment(target, part, templates_dir)
        template = _compile(env, source)
        try:
            raw = _run(template, variables | {"channel": target, "locale": locale})
        except Exception as exc:
            raise _translate(exc, _ADMIN_FILENAME, at_render=False) from exc
        text = _tidy(raw, part)
        if not text:
            raise TemplateInvalid("模板输出为空 / the template renders to nothing")
        if target == "telegram":
            problems = telegram_tag_problems(text)
            if problems:
                raise TemplateUnsafe("；".join(problems))
        if part == "html":
            active = _ACTIVE_HTML.search(text)
            if active:
                raise TemplateUnsafe(
                    f"邮件 HTML 不允许脚本或事件属性 / email HTML may not contain "
                    f"scripts, frames, forms or event handlers: {active.group(0)!r}"
                )
        problem = _limit_problem(target, part, text)
        if problem:
            raise TemplateTooLong(problem)
        previews.append(text)
    return previews[0]


class Renderer:
    """Renders ladder and review messages: admin override, else the default file."""

    def __init__(
        self, store: TemplateStore | None = None, templates_dir: Path = DEFAULT_TEMPLATES_DIR
    ) -> None:
        self.store = store
        self.templates_dir = templates_dir

    async def _source(self, step: str, channel: str, locale: str, part: str) -> _Source | None:
        channels = [channel, GROUP] if channel in GROUP_CHANNELS else [channel]
        locales = [locale] if locale == DEFAULT_LOCALE else [locale, DEFAULT_LOCALE]
        for loc in locales:
            if self.store is not None:
                for ch in channels:
                    text = await self.store.get(step, ch, loc, part)
                    if text is not None:
                        return _Source(text, "override", _ADMIN_FILENAME, loc)
            for ch in channels:
                name = f"{loc}/{step}.{ch}.{part}.j2"
                path = self.templates_dir / name
                if path.is_file():
                    return _Source("", name, str(path), loc)
        return None

    def _render_part(
        self, source: _Source, channel: str, part: str, variables: dict[str, object]
    ) -> str:
        env = _environment(channel, part, self.templates_dir)
        filename: str | None = source.filename
        try:
            if source.origin == "override":
                template = _compile(env, source.text)
            else:
                template = env.get_template(source.origin)
                filename = template.filename
            raw = _run(template, variables)
        except Exception as exc:
            raise _translate(exc, filename, at_render=True) from exc
        return _finish(channel, part, raw)

    async def render(
        self, step: str, channel: str, locale: str, context: MessageContext
    ) -> RenderedMessage:
        """Render every part of ``step`` for ``channel`` in ``locale``."""
        if channel not in CHANNELS:
            raise TemplateError(f"未知渠道 / unknown channel {channel!r}")
        variables = context.as_template_vars()
        rendered: dict[str, str | None] = {}
        for part in parts_for(channel):
            source = await self._source(step, channel, locale, part)
            if source is None:
                if part == "html":
                    rendered[part] = None
                    continue
                raise TemplateMissing(
                    f"没有模板 / no template for {step}.{channel}.{part} ({locale})"
                )
            part_vars = variables | {"channel": channel, "locale": source.locale}
            rendered[part] = self._render_part(source, channel, part, part_vars)
        text = rendered["text"]
        assert text is not None
        if channel == "dingtalk":
            # DingTalk markdown needs a title (shown in the chat list): the first line, plain.
            rendered["subject"] = markdown_title(text)
        return RenderedMessage(
            subject=rendered.get("subject"), text=text, html=rendered.get("html")
        )
