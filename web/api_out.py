"""The /api/v1 answers: one pydantic model per resource, read from the rows (`from_attributes`).

Every handler serialises through these models (``XOut.of(row, ...).body()``) and `web.openapi`
publishes their `model_json_schema()` as the response components, named without the ``Out``
suffix (``ItemOut`` → ``Item``); enum values come from the model enums. What the API derives
rather than stores (a light, the deadline in force, a unit's name) is computed here once, from
the `supervision/` rule that owns it. Imports `models/` and `supervision/` only.
"""

from __future__ import annotations

from collections.abc import Sized
from dataclasses import dataclass
from datetime import date, datetime
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo

from pydantic import AliasPath, BaseModel, BeforeValidator, ConfigDict, Field

from models import (
    Assignment,
    AssignmentRole,
    Channel,
    GroupWebhook,
    Item,
    ItemState,
    MilestoneState,
    ReportKind,
    ReviewState,
    Role,
    Source,
    StepKind,
)
from supervision.access import Tier
from supervision.calendar import WorkCalendar
from supervision.items import due_in_force, item_light
from supervision.light import Light, assignment_light
from supervision.robots import shown_url, steps_of
from supervision.timeline import EntryKind

__all__ = [
    "ApiOut",
    "AssignmentOut",
    "BulletinDataOut",
    "BulletinOut",
    "BulletinRowOut",
    "ErrorDetailOut",
    "ErrorOut",
    "ExtensionOut",
    "FileRefOut",
    "HistoryLineOut",
    "ItemOut",
    "MeOut",
    "MilestoneOut",
    "OfficeDay",
    "OverdueEntryOut",
    "PersonOut",
    "ReportOut",
    "RobotOut",
    "RobotTestOut",
    "TimelineEntryOut",
    "TokenCreatedOut",
    "TokenOut",
    "UnitOut",
    "UrgedUnitOut",
]


def _title(kind: type[Any]) -> str:
    return kind.__name__.removesuffix("Out")


class ApiOut(BaseModel):
    """A response body: read from attributes, every field always present in the answer."""

    model_config = ConfigDict(
        from_attributes=True,
        frozen=True,
        json_schema_serialization_defaults_required=True,
        model_title_generator=_title,
    )

    def body(self) -> dict[str, Any]:
        """The answer as `web.api_core.json_ok` sends it (dates as ISO strings there)."""
        return self.model_dump()


@dataclass(frozen=True, slots=True)
class OfficeDay:
    """What derived fields are computed against: the office's date, calendar and time zone."""

    today: date
    calendar: WorkCalendar
    tz: ZoneInfo


class _Derived:
    """A row as `from_attributes` reads it, with the values the API derives added."""

    def __init__(self, row: object, **derived: object) -> None:
        self._row = row
        self._derived = derived

    def __getattr__(self, name: str) -> Any:
        derived = self.__dict__["_derived"]
        if name in derived:
            return derived[name]
        return getattr(self.__dict__["_row"], name)


def _count(value: object) -> object:
    return len(value) if isinstance(value, Sized) and not isinstance(value, str) else value


def _is_set(value: object) -> bool:
    return value is not None


def _channel_list(value: object) -> object:
    """A stored channel preference (``wecom_app,email``) as its list."""
    if value is None:
        return []
    return [c for c in value.split(",") if c] if isinstance(value, str) else value


def _sorted(value: object) -> object:
    return sorted(value) if isinstance(value, set | frozenset) else value


Count = Annotated[int, BeforeValidator(_count)]


class AssignmentOut(ApiOut):
    """An assignment (交办): one unit's share of an item, with its own deadline and light."""

    id: int
    item_id: int
    unit_id: int
    unit_name: str = Field(validation_alias=AliasPath("unit", "name"))
    role: AssignmentRole = Field(description="主办 lead or 协办 co")
    owner_id: int | None = Field(description="责任人")
    leader_id: int | None = Field(description="责任领导")
    state: ItemState
    due_on: date = Field(description="this unit's 完成时限; an approved extension moves it")
    light: Light
    last_report_at: datetime | None
    closed_at: datetime | None

    @classmethod
    def of(cls, a: Assignment, day: OfficeDay, *, received_on: date | None = None) -> AssignmentOut:
        """``a`` with its unit loaded (and its item, unless ``received_on`` is given)."""
        started = a.item.received_on if received_on is None else received_on
        light = assignment_light(
            a, received_on=started, today=day.today, calendar=day.calendar, tz=day.tz
        )
        return cls.model_validate(_Derived(a, light=light))


class MilestoneOut(ApiOut):
    """A milestone (阶段性节点) of an item, with its own light."""

    id: int
    item_id: int
    name: str = Field(description="节点名称")
    due_on: date = Field(description="节点时限")
    unit_id: int = Field(description="责任单位")
    unit_name: str
    owner_id: int | None = Field(description="责任人")
    owner_name: str | None
    leader_id: int | None = Field(description="责任领导")
    leader_name: str | None
    state: MilestoneState
    completed_at: datetime | None
    light: Light = Field(description="held to its date: yellow 3 working days before, then red")


class ItemOut(ApiOut):
    """A supervised item (督查事项) with its assignments, lead first."""

    id: int
    ref: str = Field(description="文号")
    title: str
    source: Source = Field(description="事项来源")
    objective: str = Field(description="目标任务")
    content: str = Field(description="工作内容")
    received_on: date
    due_on: date = Field(
        description="完成时限 in force: the lead unit's, so an approved extension (延期) moves it"
    )
    original_due_on: date = Field(
        description="the item's own deadline as registered or last changed (PATCH due_on)"
    )
    due_is_default: bool = Field(description="the deadline comes from the default rule")
    due_is_provisional: bool = Field(
        description="computed past the known holiday calendar; may move when it is imported"
    )
    urgent: bool = Field(description="急件")
    state: ItemState
    light: Light = Field(
        description="the worst light of its active lead assignments and open milestones"
    )
    closed_at: datetime | None
    created_at: datetime
    assignments: list[AssignmentOut]

    @classmethod
    def of(cls, item: Item, day: OfficeDay) -> ItemOut:
        """``item`` with its assignments and their units loaded."""
        ordered = sorted(item.assignments, key=lambda a: (a.role != AssignmentRole.LEAD, a.id))
        return cls.model_validate(
            _Derived(
                item,
                due_on=due_in_force(item),
                original_due_on=item.due_on,
                light=item_light(item, today=day.today, calendar=day.calendar, tz=day.tz),
                assignments=[
                    AssignmentOut.of(a, day, received_on=item.received_on) for a in ordered
                ],
            )
        )


class ReportOut(ApiOut):
    """A report (进展报告 / 办结报告) filed on an assignment; attachments counted, not listed."""

    id: int
    assignment_id: int
    number: int = Field(description="1, 2, … per assignment")
    author_id: int | None
    milestone_id: int | None = Field(description="the milestone (阶段性节点) it reports on")
    kind: ReportKind
    text: str
    channel: str = Field(description="where it was filed: chat, email, web, api")
    review_state: ReviewState
    attachments: Count = Field(description="how many files are attached")
    created_at: datetime


class ExtensionOut(ApiOut):
    """An extension request (延期申请) and its decision."""

    id: int
    assignment_id: int
    requested_by_id: int | None
    reason: str
    progress: str
    old_due_on: date
    new_due_on: date
    state: ReviewState
    decided_by_id: int | None
    decided_at: datetime | None
    comment: str | None
    channel: str
    created_at: datetime


class PersonOut(ApiOut):
    """A person as the API shows them (no password hash, no chat ids)."""

    id: int
    name: str
    email: str | None
    unit_id: int | None
    roles: Annotated[list[Role], BeforeValidator(_sorted)]
    active: bool
    locale: str
    telegram_bound: Annotated[bool, BeforeValidator(_is_set)] = Field(
        validation_alias="telegram_chat_id", description="a Telegram chat is bound"
    )
    wecom_userid: str | None = Field(
        default=None, description="WeCom (企业微信) userid, application messages"
    )
    dingtalk_userid: str | None = Field(
        default=None, description="DingTalk (钉钉) userid, work notifications"
    )
    feishu_user_id: str | None = Field(
        default=None, description="Feishu (飞书) user_id or open_id (ou_…)"
    )
    channels: Annotated[list[Channel], BeforeValidator(_channel_list)] = Field(
        default_factory=list,
        validation_alias="channel_prefs",
        description=(
            "channel preference (接收渠道), in order: a message goes to the first channel "
            "that reaches the person and to the next on failure; empty = the default "
            "(every channel the person is on at once, e-mail if a chat app fails)"
        ),
    )


class MeOut(ApiOut):
    """Who a token acts for, and what they see."""

    person: PersonOut
    access: Tier
    unit_ids: list[int] | None = Field(description="the units a liaison sees; null = every unit")


class UnitOut(ApiOut):
    """A unit (责任单位)."""

    id: int
    code: str
    name: str
    parent_id: int | None
    active: bool


class BulletinRowOut(ApiOut):
    """One unit's line in a bulletin, for one role."""

    rank: int
    unit_id: int
    unit_code: str
    unit_name: str
    role: AssignmentRole | None = Field(
        default=None, description="主办 / 协办; null in bulletins frozen before version 2"
    )
    role_label: str | None = None
    assigned: int
    closed_in_period: int
    closed_on_time: int
    closed_late: int
    open_overdue: int
    overdue: int
    extensions: int
    on_time_rate: float | None = Field(description="按期率; null when nothing fell due")


class OverdueEntryOut(ApiOut):
    """An overdue assignment named in a bulletin."""

    assignment_id: int
    item_id: int
    ref: str
    title: str
    unit_name: str
    unit_id: int | None = None
    role: AssignmentRole | None = None
    role_label: str | None = None
    due_on: date
    days_overdue: int = Field(description="working days")
    closed_late: bool


class UrgedUnitOut(ApiOut):
    """A unit named for 督促整改, with its overdue assignments."""

    unit_id: int
    unit_name: str
    overdue: int
    days_overdue: int
    items: list[OverdueEntryOut]


class BulletinDataOut(ApiOut):
    """The figures of a bulletin period (frozen in a stored bulletin, live in a preview)."""

    version: int = Field(default=1, description="2: lead and co ranked apart")
    number: str = ""
    period: str
    period_kind: Literal["week", "month", "quarter"]
    period_label: str
    starts_on: date
    ends_on: date
    as_of: date
    issued_on: date
    rows: list[BulletinRowOut]
    unranked: list[BulletinRowOut] = Field(
        default_factory=list, description="本期无到期事项: rows with nothing due, not ranked"
    )
    overdue_items: list[OverdueEntryOut] = Field(default_factory=list)
    overdue_total: int | None = Field(
        default=None,
        description="every overdue assignment named; set in a preview, whose "
        "overdue_items is one page (and whose urged[].items are left empty)",
    )
    overdue_page: int | None = Field(default=None, description="the page of overdue_items")
    praised_units: list[str] = Field(default_factory=list, description="通报表扬")
    urged_units: list[str] = Field(default_factory=list, description="督促整改")
    urged: list[UrgedUnitOut] = Field(default_factory=list)
    totals: dict[str, float | None] = Field(default_factory=dict)


class BulletinOut(ApiOut):
    """A stored bulletin (督查通报) with its frozen figures."""

    id: int
    period: str
    starts_on: date
    ends_on: date
    created_by_id: int | None
    created_at: datetime
    sent_at: datetime | None
    data: BulletinDataOut


class RobotOut(ApiOut):
    """A group robot (群机器人); its URL masked, its secret never shown."""

    id: int
    name: str
    kind: Literal["wecom", "dingtalk", "feishu"]
    unit_id: int | None = Field(description="the unit whose group it is; null: leadership")
    leadership: bool = Field(description="the leadership group, which hears every unit")
    url: str = Field(description="the webhook URL with its key masked")
    secret_set: bool = Field(description="a signing secret is stored (it is never shown)")
    steps: list[StepKind] = Field(description="the ladder steps it receives")
    active: bool
    created_at: datetime

    @classmethod
    def of(cls, hook: GroupWebhook) -> RobotOut:
        """The robot as the API shows it."""
        return cls.model_validate(
            _Derived(
                hook,
                kind=str(hook.kind),
                leadership=hook.unit_id is None,
                url=shown_url(hook),
                secret_set=bool(hook.secret),
                steps=list(steps_of(hook)),
            )
        )


class RobotTestOut(ApiOut):
    """What a robot answered the test message (测试消息)."""

    accepted: bool = Field(description="the robot took the message")
    reached: bool = Field(description="the robot answered at all")
    answer: str = Field(description="HTTP status and the robot's errcode/errmsg (code/msg)")
    message: str = Field(description="the outcome in the office's words")


class TokenOut(ApiOut):
    """An API token's metadata (never its value or hash)."""

    id: int
    name: str
    person_id: int
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None
    expires_at: datetime | None


class TokenCreatedOut(ApiOut):
    """A new token and its value, shown this once."""

    token: TokenOut
    secret: str = Field(description="shown once; store it safely")


class FileRefOut(ApiOut):
    """A file attached to a report."""

    id: int
    name: str
    stored_here: bool = Field(description="kept by this service (else by the chat service)")


class TimelineEntryOut(ApiOut):
    """One event of an item's history (办理过程), in codes (`supervision.timeline`)."""

    at: datetime
    kind: EntryKind
    subject: str = Field(
        description="audit: entity:action (item:create); message: its kind (remind); "
        "report: progress or completion; extension"
    )
    assignment_id: int | None = Field(description="the assignment it concerns, if one")
    unit_name: str | None
    entity_id: int | None = Field(
        description="the row it is about: the audited row, message, report or request"
    )
    number: int | None = Field(description="a report's number on its assignment")
    channel: str | None
    status: str | None = Field(
        description="a message's status, an attempt's outcome or a decision's review state"
    )
    state_from: str | None
    state_to: str | None
    old_due_on: date | None
    new_due_on: date | None
    detail: str = Field(description="a report's text, a reason, a comment or an error")
    who: str = Field(description="who did it, or whom the message was for")
    files: list[FileRefOut]


class HistoryLineOut(ApiOut):
    """One line of an item's history told in words (`supervision.history`): what the item
    page shows, in the language asked for."""

    at: datetime
    kind: EntryKind
    text: str = Field(description="who did what, as a sentence: 张伟 提交了进展（第1次）")
    detail: str = Field(description="what was written: a report's text, a reason, errors")
    files: list[FileRefOut]


class ErrorDetailOut(ApiOut):
    """What went wrong: a code to branch on, a message to show."""

    model_config = ConfigDict(json_schema_serialization_defaults_required=False)

    code: str
    message: str
    details: list[str] | None = Field(
        default=None, description="one line per problem, for validation errors"
    )


class ErrorOut(ApiOut):
    """Every /api/v1 error: ``{"error": {"code", "message", "details"?}}``."""

    error: ErrorDetailOut

    @classmethod
    def of(cls, code: str, message: str, details: list[str] | None = None) -> ErrorOut:
        """The error body; ``details`` only when there are some."""
        return cls(error=ErrorDetailOut(code=code, message=message, details=details or None))

    def body(self) -> dict[str, Any]:
        """The answer, without an empty ``details``."""
        return self.model_dump(exclude_none=True)
