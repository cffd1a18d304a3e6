"""An item's timeline (办理过程) told as a history in words, zh and en: who did what, when.

`history` turns `supervision.timeline` entries into lines a person reads ("张伟 提交了进展（第1次，
通过企业微信）"); the messages of one step, moment, channel and outcome become one line
(「升级督办已发送：刘洋、郑华、梁晨（电子邮件）」) with their failures said. Its sentences are
part of the one catalogue (docs/GLOSSARY.md). Imports `supervision.timeline` and
`supervision.labels` only; the web page, the API and the bot tell a history through it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Final

from models import (
    AssignmentRole,
    AuditAction,
    AuditEntity,
    Channel,
    DeliveryOutcome,
    ItemState,
    NotificationStatus,
    Origin,
    ReportKind,
    ReviewState,
)
from supervision.labels import SystemActor, co_marked, label, label_of, lang_of, step_label
from supervision.timeline import EntryKind, FileRef, TimelineEntry

__all__ = ["HISTORY", "Line", "Told", "history", "tell"]


class Told(StrEnum):
    """The sentences of an item's history. Values in braces are filled by `tell`."""

    ITEM_CREATED = "item_created"
    ITEM_CHANGED = "item_changed"
    ITEM_CANCELLED = "item_cancelled"
    ITEM_STATE = "item_state"
    ITEM_REOPENED = "item_reopened"
    DUE_RECOMPUTED = "due_recomputed"
    ASSIGNED = "assigned"
    ASSIGNMENT_CHANGED = "assignment_changed"
    ASSIGNMENT_STATE = "assignment_state"
    DUE_MOVED = "due_moved"
    TRANSFERRED = "transferred"
    STEP_SKIPPED = "step_skipped"
    STEP_SILENT = "step_silent"
    PROGRESS_FILED = "progress_filed"
    COMPLETION_FILED = "completion_filed"
    REPORT_EDITED = "report_edited"
    FILES_ADDED = "files_added"
    SIGNED_OFF = "signed_off"
    SIGNOFF_SKIPPED = "signoff_skipped"
    COMPLETION_APPROVED = "completion_approved"
    COMPLETION_RETURNED = "completion_returned"
    REPORT_REVIEWED = "report_reviewed"
    EXTENSION_ASKED = "extension_asked"
    EXTENSION_APPROVED = "extension_approved"
    EXTENSION_RETURNED = "extension_returned"
    EXTENSION_CLOSED = "extension_closed"
    MILESTONE_ADDED = "milestone_added"
    MILESTONE_CHANGED = "milestone_changed"
    MILESTONE_DONE = "milestone_done"
    MESSAGES = "messages"
    ATTEMPT_FAILED = "attempt_failed"
    OTHER = "other"
    SOMEONE = "someone"
    LIST_GLUE = "list_glue"
    DETAIL_GLUE = "detail_glue"


HISTORY: Final[Mapping[Told, tuple[str, str]]] = {
    Told.ITEM_CREATED: ("{who}登记了事项", "{who} registered the item"),
    Told.ITEM_CHANGED: ("{who}修改了事项", "{who} changed the item"),
    Told.ITEM_CANCELLED: ("{who}撤销了事项", "{who} cancelled the item"),
    Told.ITEM_STATE: ("事项转为「{state}」", "The item is now {state}"),
    Told.ITEM_REOPENED: (
        "{who}退回重办：新的完成时限 {date}",
        "{who} sent the item back to be done again: new deadline {date}",
    ),
    Told.DUE_RECOMPUTED: (
        "{who}按工作日历重新计算了完成时限",
        "{who} recomputed the deadline from the working-day calendar",
    ),
    Told.ASSIGNED: ("{who}交办给{unit}", "{who} assigned it to {unit}"),
    Told.ASSIGNMENT_CHANGED: ("{who}修改了{unit}的交办", "{who} changed the work of {unit}"),
    Told.ASSIGNMENT_STATE: ("{unit} 转为「{state}」", "{unit} is now {state}"),
    Told.DUE_MOVED: (
        "{unit}的完成时限调整为 {date}（原为 {old}）",
        "The deadline of {unit} moved to {date} (was {old})",
    ),
    Told.TRANSFERRED: (
        "{who}将{before}的任务转办给{after}",
        "{who} handed {before}'s work to {after}",
    ),
    Told.STEP_SKIPPED: (
        "{unit}错过了{skipped}，直接发送{step}",
        "{unit}: {skipped} missed, {step} sent instead",
    ),
    Told.STEP_SILENT: (
        "{unit}的{step}没有发出新消息：没有可送达的接收人，或此前已发送",
        "The {step} of {unit} sent no new message: nobody could be reached, or it went before",
    ),
    Told.PROGRESS_FILED: (
        "{who}提交了进展（第{number}次，通过{origin}）",
        "{who} reported progress (report {number}, by {origin})",
    ),
    Told.COMPLETION_FILED: (
        "{who}提交了办结报告，申请办结（第{number}次，通过{origin}）",
        "{who} filed a completion report and asked to close (report {number}, by {origin})",
    ),
    Told.REPORT_EDITED: ("{who}修改了第{number}次报告", "{who} edited report {number}"),
    Told.FILES_ADDED: (
        "{who}为第{number}次报告补充了附件",
        "{who} added files to report {number}",
    ),
    Told.SIGNED_OFF: ("{who}签发了办结报告", "{who} signed off the completion report"),
    Told.SIGNOFF_SKIPPED: (
        "办结报告无需签发，直接报督查室审核",
        "The completion report needed no sign-off and went to the office",
    ),
    Told.COMPLETION_APPROVED: ("{who}同意了办结申请", "{who} approved the completion request"),
    Told.COMPLETION_RETURNED: ("{who}退回了办结申请", "{who} returned the completion request"),
    Told.REPORT_REVIEWED: ("第{number}次报告{state}", "Report {number}: {state}"),
    Told.EXTENSION_ASKED: (
        "{who}申请延期：新时限 {date}（原为 {old}，通过{origin}）",
        "{who} asked for more time: new deadline {date} (was {old}; by {origin})",
    ),
    Told.EXTENSION_APPROVED: (
        "{who}同意了延期申请：新时限 {date}",
        "{who} approved the extension: new deadline {date}",
    ),
    Told.EXTENSION_RETURNED: ("{who}退回了延期申请", "{who} returned the extension request"),
    Told.EXTENSION_CLOSED: ("延期申请{state}", "Extension request: {state}"),
    Told.MILESTONE_ADDED: ("{who}新增阶段性节点「{name}」", "{who} added the milestone “{name}”"),
    Told.MILESTONE_CHANGED: (
        "{who}修改了阶段性节点「{name}」",
        "{who} changed the milestone “{name}”",
    ),
    Told.MILESTONE_DONE: (
        "{who}将阶段性节点「{name}」标记为完成",
        "{who} marked the milestone “{name}” done",
    ),
    Told.MESSAGES: (
        "{step}{status}：{names}（{channel}）",
        "{step} to {names} ({channel}): {status}",
    ),
    Told.ATTEMPT_FAILED: ("{name}：{outcome}（{error}）", "{name}: {outcome} ({error})"),
    Told.OTHER: ("{who}{action}{entity}", "{who}: {entity} {action}"),
    Told.SOMEONE: ("有人", "someone"),
    Told.LIST_GLUE: ("、", ", "),
    Told.DETAIL_GLUE: ("；", "; "),
}

#: audit events another entry already tells (the report, the request, the decision)
_TOLD_ELSEWHERE: Final = frozenset(
    {
        (AuditEntity.REPORT, AuditAction.FILED),
        (AuditEntity.REPORT, AuditAction.REVIEWED),
        (AuditEntity.EXTENSION, AuditAction.REQUESTED),
        (AuditEntity.EXTENSION, AuditAction.REVIEWED),
    }
)
_FAILED: Final = frozenset({DeliveryOutcome.TRANSIENT, DeliveryOutcome.PERMANENT})


@dataclass(frozen=True, slots=True)
class Line:
    """One line of an item's history: when, what kind, the sentence, and what was written."""

    at: datetime
    kind: EntryKind
    text: str
    detail: str = ""
    files: tuple[FileRef, ...] = ()


def tell(sentence: Told, locale: str | None = "zh", **values: object) -> str:
    """``sentence`` in ``locale`` with ``values`` filled in (English starts with a capital)."""
    zh, en = HISTORY[sentence]
    if lang_of(locale) != "en":
        return zh.format(**values)
    said = en.format(**values)
    return said[:1].upper() + said[1:]


class _Teller:
    """Tells the entries of one item in one language."""

    def __init__(self, locale: str | None) -> None:
        self.locale = lang_of(locale)

    def say(self, sentence: Told, **values: object) -> str:
        return tell(sentence, self.locale, **values)

    def who(self, name: str, unit: str | None = None) -> str:
        """A person with their unit, a system actor in words, or "someone"."""
        if name in SystemActor.__members__.values():
            name = label(SystemActor(name), self.locale)
        if not name:
            return unit or self.say(Told.SOMEONE)
        if not unit:
            return name
        return f"{name} ({unit})" if self.locale == "en" else f"{name}（{unit}）"

    def day(self, day: date | None, at: datetime) -> str:
        """A date as people write it: ``12月20日`` (``2027年1月29日`` in another year)."""
        if day is None:
            return ""
        if self.locale == "en":
            short = f"{day.day} {day:%b}"  # Python keeps LC_TIME at "C": English month names
            return short if day.year == at.year else f"{short} {day.year}"
        short = f"{day.month}月{day.day}日"
        return short if day.year == at.year else f"{day.year}年{short}"

    def unit(self, e: TimelineEntry) -> str:
        return e.unit_name or self.say(Told.SOMEONE)

    def audit(self, e: TimelineEntry) -> str | None:
        entity, _, action = e.subject.partition(":")
        if (entity, action) in _TOLD_ELSEWHERE:
            return None
        who = self.who(e.who)
        match entity, action:
            case AuditEntity.ITEM, AuditAction.CREATE:
                return self.say(Told.ITEM_CREATED, who=who)
            case AuditEntity.ITEM, AuditAction.UPDATE:
                return self.say(Told.ITEM_CHANGED, who=who)
            case AuditEntity.ITEM, AuditAction.TRANSITION if e.state_to == ItemState.CANCELLED:
                return self.say(Told.ITEM_CANCELLED, who=who)
            case AuditEntity.ITEM, AuditAction.TRANSITION:
                return self.say(Told.ITEM_STATE, state=self.state(e.state_to))
            case AuditEntity.ITEM, AuditAction.REOPEN:
                return self.say(Told.ITEM_REOPENED, who=who, date=self.day(e.new_due_on, e.at))
            case AuditEntity.ITEM, AuditAction.RECOMPUTE_DUE:
                return self.say(Told.DUE_RECOMPUTED, who=who)
            case AuditEntity.ASSIGNMENT, AuditAction.CREATE:
                role = e.role or AssignmentRole.LEAD
                unit = co_marked(self.unit(e), role, self.locale, force=True)
                return self.say(Told.ASSIGNED, who=who, unit=unit)
            case AuditEntity.ASSIGNMENT, AuditAction.UPDATE:
                return self.say(Told.ASSIGNMENT_CHANGED, who=who, unit=self.unit(e))
            case AuditEntity.ASSIGNMENT, AuditAction.TRANSITION:
                return self.say(
                    Told.ASSIGNMENT_STATE, unit=self.unit(e), state=self.state(e.state_to)
                )
            case AuditEntity.ASSIGNMENT, AuditAction.DUE_MOVED:
                return self.say(
                    Told.DUE_MOVED,
                    unit=self.unit(e),
                    date=self.day(e.new_due_on, e.at),
                    old=self.day(e.old_due_on, e.at),
                )
            case AuditEntity.ASSIGNMENT, AuditAction.TRANSFER:
                return self.say(
                    Told.TRANSFERRED,
                    who=who,
                    before=e.moved_from or self.unit(e),
                    after=e.moved_to or self.unit(e),
                )
            case AuditEntity.ASSIGNMENT, "ladder_step":
                return self.ladder_step(e)
            case AuditEntity.REPORT, AuditAction.EDITED:
                return self.say(Told.REPORT_EDITED, who=who, number=self.number(e))
            case AuditEntity.REPORT, AuditAction.ATTACHMENTS_ADDED:
                return self.say(Told.FILES_ADDED, who=who, number=self.number(e))
            case AuditEntity.REPORT, AuditAction.SIGNED_OFF:
                return self.say(Told.SIGNED_OFF, who=who)
            case AuditEntity.REPORT, AuditAction.SIGNOFF_SKIPPED:
                return self.say(Told.SIGNOFF_SKIPPED)
            case AuditEntity.MILESTONE, AuditAction.CREATE:
                return self.say(Told.MILESTONE_ADDED, who=who, name=e.detail)
            case AuditEntity.MILESTONE, AuditAction.UPDATE:
                return self.say(Told.MILESTONE_CHANGED, who=who, name=e.detail)
            case AuditEntity.MILESTONE, AuditAction.COMPLETE:
                return self.say(Told.MILESTONE_DONE, who=who, name=e.detail)
        return self.say(
            Told.OTHER,
            who=who,
            entity=label_of(AuditEntity, entity, self.locale),
            action=label_of(AuditAction, action, self.locale),
        )

    def ladder_step(self, e: TimelineEntry) -> str:
        step = step_label(e.step or "", self.locale)
        if e.skipped:
            glue = self.say(Told.LIST_GLUE)
            skipped = glue.join(step_label(k, self.locale) for k in e.skipped)
            return self.say(Told.STEP_SKIPPED, unit=self.unit(e), skipped=skipped, step=step)
        return self.say(Told.STEP_SILENT, unit=self.unit(e), step=step)

    def number(self, e: TimelineEntry) -> str:
        return str(e.number) if e.number is not None else ""

    def state(self, value: str | None) -> str:
        return label_of(ItemState, value, self.locale)

    def report(self, e: TimelineEntry) -> str:
        sentence = (
            Told.COMPLETION_FILED if e.subject == ReportKind.COMPLETION else Told.PROGRESS_FILED
        )
        return self.say(
            sentence,
            who=self.who(e.who, e.who_unit or e.unit_name),
            number=self.number(e),
            origin=label_of(Origin, e.channel, self.locale),
        )

    def extension(self, e: TimelineEntry) -> str:
        return self.say(
            Told.EXTENSION_ASKED,
            who=self.who(e.who, e.who_unit or e.unit_name),
            date=self.day(e.new_due_on, e.at),
            old=self.day(e.old_due_on, e.at),
            origin=label_of(Origin, e.channel, self.locale),
        )

    def review(self, e: TimelineEntry) -> str:
        who = self.who(e.who)
        state = label_of(ReviewState, e.status, self.locale)
        if e.subject == "extension":
            match e.status:
                case ReviewState.APPROVED:
                    day = self.day(e.new_due_on, e.at)
                    return self.say(Told.EXTENSION_APPROVED, who=who, date=day)
                case ReviewState.REJECTED:
                    return self.say(Told.EXTENSION_RETURNED, who=who)
            return self.say(Told.EXTENSION_CLOSED, state=state)
        match e.status:
            case ReviewState.APPROVED:
                return self.say(Told.COMPLETION_APPROVED, who=who)
            case ReviewState.REJECTED:
                return self.say(Told.COMPLETION_RETURNED, who=who)
        return self.say(Told.REPORT_REVIEWED, number=self.number(e), state=state)

    def messages(self, group: Sequence[TimelineEntry], tries: Sequence[TimelineEntry]) -> Line:
        first = group[0]
        names = list(dict.fromkeys(self.who(e.who) for e in group))
        text = self.say(
            Told.MESSAGES,
            step=step_label(first.subject, self.locale),
            status=label_of(NotificationStatus, first.status, self.locale),
            names=self.say(Told.LIST_GLUE).join(names),
            channel=label_of(Channel, first.channel, self.locale),
        )
        failures = [
            self.say(
                Told.ATTEMPT_FAILED,
                name=self.who(t.who),
                outcome=label_of(DeliveryOutcome, t.status, self.locale),
                error=t.detail,
            )
            for t in tries
            if t.status in _FAILED
        ]
        return Line(
            first.at, EntryKind.NOTIFICATION, text, self.say(Told.DETAIL_GLUE).join(failures)
        )


def history(entries: Sequence[TimelineEntry], locale: str | None = "zh") -> list[Line]:
    """An item's history in ``locale``, oldest first: one line per event, and one per group
    of messages of the same step, minute, channel and status."""
    teller = _Teller(locale)
    tries: dict[int | None, list[TimelineEntry]] = {}
    for e in entries:
        if e.kind is EntryKind.ATTEMPT:
            tries.setdefault(e.entity_id, []).append(e)
    groups: dict[tuple[object, ...], list[TimelineEntry]] = {}
    lines: list[Line] = []
    for e in entries:
        match e.kind:
            case EntryKind.NOTIFICATION:
                key = (e.subject, e.channel, e.status, e.at.replace(second=0, microsecond=0))
                groups.setdefault(key, []).append(e)
            case EntryKind.AUDIT:
                text = teller.audit(e)
                if text is not None:
                    lines.append(Line(e.at, e.kind, text, e.detail if _shows_reason(e) else ""))
            case EntryKind.REPORT:
                lines.append(Line(e.at, e.kind, teller.report(e), e.detail, e.files))
            case EntryKind.EXTENSION:
                lines.append(Line(e.at, e.kind, teller.extension(e), e.detail))
            case EntryKind.REVIEW:
                lines.append(Line(e.at, e.kind, teller.review(e), e.detail))
    for group in groups.values():
        attempts = [t for e in group for t in tries.get(e.entity_id, [])]
        lines.append(teller.messages(group, attempts))
    lines.sort(key=lambda line: line.at)  # stable: same-moment lines keep the order above
    return lines


def _shows_reason(e: TimelineEntry) -> bool:
    """Whether an audit entry's detail is a reason to show (a milestone's is its name)."""
    return not e.subject.startswith(f"{AuditEntity.MILESTONE}:")
