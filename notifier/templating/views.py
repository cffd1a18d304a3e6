"""What templates see: the plain-data views of a message, and the sample context for previews.

Imports only ``keys``; never ORM objects (``notifier.context`` builds these from the DB)."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Final

from notifier.templating.keys import DEFAULT_LOCALE


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
    #: no deadline was given: ``due_on`` is ``default_due_days`` working days after receipt
    due_is_default: bool = False
    #: the policy's default deadline in working days (None: no policy applies)
    default_due_days: int | None = None


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
    #: 绿灯 / 黄灯 / 红灯 / 已办结, from the glossary
    light_label: str = ""


@dataclass(frozen=True)
class MilestoneView:
    """阶段性节点: one dated stage of the item, with its own responsible unit and person."""

    name: str
    due_on: date
    due_weekday_label: str
    days_left: int
    unit_name: str
    owner_name: str
    leader_name: str
    light: str
    #: 绿灯 / 黄灯 / 红灯 / 已办结, from the glossary
    light_label: str = ""


@dataclass(frozen=True)
class ItemUnitView:
    """One unit an item is given to (主办 or 协办), as a 交办通知 lists who is on it."""

    unit_name: str
    role: str
    role_label: str
    owner_name: str


@dataclass(frozen=True)
class DigestEntry:
    """One message folded into a digest: its step and the item and assignment it is about."""

    number: int
    step: str
    step_label: str
    ref: str
    title: str
    urgent: bool
    unit_name: str
    role: str
    role_label: str
    due_on: date
    days_left: int
    light: str
    link: str
    #: the recipient acts on it (Telegram: it has its own row of buttons under the digest)
    acts: bool = False
    #: a milestone step (节点提醒 …): the milestone's name; its unit and date are the above
    milestone: str = ""


@dataclass(frozen=True)
class DigestView:
    """交办通知汇总 (``assign``: several new assignments) or 每日待办 (``daily``)."""

    kind: str
    entries: tuple[DigestEntry, ...] = ()

    @property
    def urgent(self) -> bool:
        """True when any entry is an urgent item (急件)."""
        return any(e.urgent for e in self.entries)


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
class MailReplyView:
    """The answer to an e-mail reply: filed (as what) or refused (and why)."""

    outcome: str  # filed, refused
    command: str  # progress, completion, extension
    reason: str
    subject: str  # the subject of the sender's e-mail
    report_number: int | None = None


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
class BulletinMilestoneRow:
    """节点按期率 of one unit (or of all, the totals) for the annual tasks' milestones."""

    unit_name: str
    completed: int
    on_time: int
    late: int
    open_overdue: int
    on_time_rate: float | None  # None when no milestone was judged


@dataclass(frozen=True)
class BulletinView:
    """督查通报 summary."""

    number: str
    period_label: str
    issued_on: date
    rows: tuple[BulletinRow, ...] = ()
    overdue_items: tuple[BulletinOverdueItem, ...] = ()
    praised_units: tuple[str, ...] = ()
    #: 节点按期率 of the annual tasks, by unit (best first), and their totals
    milestones: tuple[BulletinMilestoneRow, ...] = ()
    milestone_totals: BulletinMilestoneRow | None = None


@dataclass(frozen=True)
class MessageContext:
    """Everything a message template may see; plain data, never ORM objects."""

    step: str
    recipient_name: str
    item: ItemView | None = None
    assignment: AssignmentView | None = None
    #: the milestone a 节点提醒 / 节点催办 / 节点逾期督办 is about
    milestone: MilestoneView | None = None
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
    #: the app an invite binds, as the reader calls it (Telegram, 企业微信 / WeCom)
    invite_app: str = "Telegram"
    bulletin: BulletinView | None = None
    reason: str | None = None  # reopened (退回重办): why the item was sent back
    mail_reply: MailReplyView | None = None
    #: every unit on the item with its role and responsible person (交办通知)
    item_units: tuple[ItemUnitView, ...] = ()
    #: why the recipient gets the message: owner, liaison, leader, principal, supervisors
    recipient_roles: tuple[str, ...] = ()
    digest: DigestView | None = None
    #: working days the unit has to answer before the ladder's next step (None: no next step)
    reply_within_days: int | None = None
    #: the glossary in the message's language: ``words.request["extension"]`` → 延期申请
    words: Mapping[str, Mapping[str, str]] = field(default_factory=dict)

    def as_template_vars(self) -> dict[str, object]:
        """The top-level template variables (dataclass views stay objects)."""
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)} | {
            "links": dict(self.links),
            "words": {group: dict(words) for group, words in self.words.items()},
        }


@dataclass(frozen=True)
class RenderedMessage:
    """One message ready for a channel; ``subject`` is set for email and DingTalk (title)."""

    subject: str | None
    text: str
    html: str | None


# --- sample context ---------------------------------------------------------------------

_SAMPLE_DAYS_LEFT: Final = {
    "assign": 24,
    "remind": 5,
    "urge": 1,
    "overdue": -1,
    "escalate": -3,
    "periodic": 12,
    "review_request": 4,
    "review_outcome": 4,
    "signoff_request": 2,
    "co_input": 6,
    "reopened": 15,
    "transferred": 10,
    "due_moved": 22,
    "ms_remind": 3,
    "ms_urge": 0,
    "ms_overdue": -1,
}


#: the sample's last report (the light's quiet time runs from it)
_SAMPLE_REPORTED_AT: Final = datetime(2026, 10, 28, 16, 40)


def _sample_light(due: date, days_left: int, *, received_on: date) -> str:
    """The light by the real rule (``supervision.light``) for a sample ``days_left`` working
    days before ``due`` on the Mon-Fri calendar."""
    # Imported here (as the other domain imports of the sample): render workers unpickle these
    # views and need not load the ORM behind it.
    from supervision.calendar import WorkCalendar
    from supervision.light import light_for

    calendar = WorkCalendar()
    today = calendar.add_workdays(due, -days_left).day if days_left else due
    light = light_for(
        state="open",
        due_on=due,
        today=today,
        last_report_on=_SAMPLE_REPORTED_AT.date(),
        started_on=received_on,
        calendar=calendar,
    )
    return light.value


def sample_context(step: str, locale: str = DEFAULT_LOCALE) -> MessageContext:
    """A realistic context for previews and validation of templates for ``step``; its words,
    light and numbers of days come from the glossary, the light rule and the default policy."""
    from models import AssignmentRole, Source
    from supervision.deadlines import DEFAULT_DUE_WORKING_DAYS
    from supervision.labels import label, words
    from supervision.light import Light
    from supervision.policy import DEFAULT_LADDER, URGENT_LADDER, reply_within

    zh = locale != "en"
    days_left = _SAMPLE_DAYS_LEFT.get(step, 5)
    due = date(2026, 11, 12)
    urgent = step in {"urge", "overdue", "escalate"}
    item = ItemView(
        ref="督字〔2026〕37号",
        title=(
            "关于加快推进城镇老旧小区改造工作的批示"
            if zh
            else "Instruction on speeding up the renovation of old residential compounds"
        ),
        source=Source.INSTRUCTION.value,  # plain str, as notifier.context gives it
        source_label=label(Source.INSTRUCTION, locale),
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
        urgent=urgent,
        received_on=date(2026, 10, 9),
        due_on=due,
        due_is_provisional=False,
        default_due_days=DEFAULT_DUE_WORKING_DAYS,
    )
    light = _sample_light(due, days_left, received_on=date(2026, 10, 9))
    assignment = AssignmentView(
        unit_name="市住房和城乡建设局" if zh else "Municipal Housing and Construction Bureau",
        role=AssignmentRole.LEAD.value,
        role_label=label(AssignmentRole.LEAD, locale),
        due_on=due,
        due_weekday_label="星期四" if zh else "Thursday",
        days_left=days_left,
        light=light,
        owner_name="王建国" if zh else "Wang Jianguo",
        leader_name="李明" if zh else "Li Ming",
        light_label=label(Light(light), locale),
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
        created_at=_SAMPLE_REPORTED_AT,
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
        reply_within_days=reply_within(URGENT_LADDER if urgent else DEFAULT_LADDER, step),
        words=words(locale),
    )
    if step in {"review_request", "review_outcome", "due_moved"}:
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
        base = dataclasses.replace(base, extension=extension)
    if step in {"review_request", "review_outcome"}:
        base = dataclasses.replace(
            base,
            recipient_name="陈静" if zh else "Chen Jing",
            pending="extension",
            requester_name=assignment.owner_name,
        )
    if step == "co_input":  # a co unit's report, forwarded to the lead unit's owner
        base = dataclasses.replace(
            base,
            recipient_name="陈静" if zh else "Chen Jing",
            assignment=dataclasses.replace(
                assignment,
                unit_name="市自然资源和规划局" if zh else "Municipal Natural Resources Bureau",
                role="co",
                role_label=label(AssignmentRole.CO, locale),
                owner_name="赵磊" if zh else "Zhao Lei",
                leader_name="孙伟" if zh else "Sun Wei",
            ),
        )
    if step in {"ms_remind", "ms_urge", "ms_overdue"}:
        ms_due = date(2026, 10, 30)
        ms_light = _sample_light(ms_due, days_left, received_on=item.received_on)
        base = dataclasses.replace(
            base,
            reply_hint=False,
            milestone=MilestoneView(
                name="完成施工招标" if zh else "Tendering complete",
                due_on=ms_due,
                due_weekday_label="星期五" if zh else "Friday",
                days_left=days_left,
                unit_name=assignment.unit_name,
                owner_name=assignment.owner_name,
                leader_name=assignment.leader_name,
                light=ms_light,
                light_label=label(Light(ms_light), locale),
            ),
        )
    if step == "transferred":
        base = dataclasses.replace(
            base,
            reason="该事项属区级职责，转区政府办理"
            if zh
            else "A district matter: handed to the district",
        )
    if step == "reopened":
        base = dataclasses.replace(
            base,
            reason=(
                "办结报告所述改造进度与现场核查不符，尚有11个小区未开工，请重新办理"
                if zh
                else "The completion report does not match the site check: 11 compounds "
                "have not started; please do it again"
            ),
        )
    if step in {"review_outcome", "due_moved"}:  # the deadline has moved
        assert base.extension is not None
        moved = _sample_light(base.extension.new_due_on, 22, received_on=item.received_on)
        base = dataclasses.replace(
            base,
            recipient_name=assignment.owner_name,
            assignment=dataclasses.replace(
                assignment,
                due_on=base.extension.new_due_on,
                days_left=22,
                light=moved,
                light_label=label(Light(moved), locale),
            ),
        )
    if step == "review_outcome":
        base = dataclasses.replace(
            base,
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
    if step == "mail_reply":
        base = dataclasses.replace(
            base,
            reply_hint=False,
            mail_reply=MailReplyView(
                outcome="filed",
                command="progress",
                reason="",
                subject="回复：【提醒】督字〔2026〕37号" if zh else "Re: [Reminder] 37",
                report_number=3,
            ),
        )
    if step == "assign":
        base = dataclasses.replace(
            base,
            last_report=None,
            recipient_roles=("owner",),
            item_units=(
                ItemUnitView(
                    "市住房和城乡建设局" if zh else "Municipal Housing and Construction Bureau",
                    "lead",
                    "主办" if zh else "lead unit",
                    assignment.owner_name,
                ),
                ItemUnitView(
                    "市财政局" if zh else "Municipal Finance Bureau",
                    "co",
                    "协办" if zh else "co-operating unit",
                    "周敏" if zh else "Zhou Min",
                ),
            ),
        )
    if step == "digest":
        base = dataclasses.replace(
            base,
            item=None,
            assignment=None,
            last_report=None,
            reply_hint=False,
            digest=_sample_digest(zh, due),
        )
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
                milestones=(
                    BulletinMilestoneRow(
                        "市发展和改革委员会" if zh else "Development and Reform Commission",
                        4,
                        4,
                        0,
                        0,
                        1.0,
                    ),
                    BulletinMilestoneRow(
                        "市交通运输局" if zh else "Transport Bureau", 3, 1, 2, 1, 0.25
                    ),
                ),
                milestone_totals=BulletinMilestoneRow("", 7, 5, 2, 1, 0.625),
            ),
        )
    return base


def _sample_digest(zh: bool, due: date) -> DigestView:
    """Three messages of one send window folded into a 每日待办."""
    rows = (
        (
            "assign",
            "交办通知",
            "Assignment notice",
            "督字〔2026〕41号",
            "关于推进政务服务“一网通办”的批示",
            "Instruction on one-stop online government services",
            24,
            "green",
        ),
        (
            "remind",
            "提醒",
            "Reminder",
            "督字〔2026〕37号",
            "关于加快推进城镇老旧小区改造工作的批示",
            "Instruction on speeding up the renovation of old residential compounds",
            5,
            "yellow",
        ),
        (
            "overdue",
            "逾期督办",
            "Overdue",
            "督字〔2026〕29号",
            "关于优化公交线网的会议决定",
            "Meeting decision on optimising bus routes",
            -1,
            "red",
        ),
    )
    entries = tuple(
        DigestEntry(
            number=n,
            step=step,
            step_label=zh_label if zh else en_label,
            ref=ref,
            title=zh_title if zh else en_title,
            urgent=step == "overdue",
            unit_name="市住房和城乡建设局" if zh else "Municipal Housing and Construction Bureau",
            role="lead",
            role_label="主办" if zh else "lead unit",
            due_on=due,
            days_left=left,
            light=light,
            link=f"https://duban.example.gov.cn/items/{30 + n}",
            acts=True,
        )
        for n, (step, zh_label, en_label, ref, zh_title, en_title, left, light) in enumerate(
            rows, start=1
        )
    )
    return DigestView(kind="daily", entries=entries)
