"""Escalation policies: the default ladders, and finding the policy for an item."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol, TypeVar

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from models import MILESTONE_STEPS, LadderStep, Policy, Role, Source, StepChannel, StepKind
from supervision.deadlines import DEFAULT_CO_LEAD_DAYS, DEFAULT_DUE_WORKING_DAYS
from supervision.labels import label

T = TypeVar("T")

SUPERVISORS = "supervisors"  # recipient role: the office's supervisors, not unit people
RECIPIENT_ROLES = frozenset({Role.OWNER, Role.LIAISON, Role.LEADER, Role.PRINCIPAL, SUPERVISORS})
STEP_CHANNELS = frozenset(StepChannel)  # chat = Telegram; group = unit robots
CHAT_EMAIL = (StepChannel.CHAT, StepChannel.EMAIL)


@dataclass(frozen=True, slots=True)
class StepSpec:
    """A ladder step as data (defaults, and the admin form)."""

    kind: StepKind
    offset_days: int
    roles: tuple[str, ...]
    channels: tuple[str, ...]
    ignore_send_window: bool = False


#: A milestone's (阶段性节点) own short ladder, in working days from the milestone's date: to
#: its responsible person (else the unit's liaisons), and when overdue to its 责任领导 too.
MILESTONE_LADDER: tuple[StepSpec, ...] = (
    StepSpec(StepKind.MS_REMIND, -3, ("owner",), CHAT_EMAIL),
    StepSpec(StepKind.MS_URGE, 0, ("owner",), CHAT_EMAIL),
    StepSpec(StepKind.MS_OVERDUE, 1, ("owner", "leader"), CHAT_EMAIL),
)

DEFAULT_LADDER: tuple[StepSpec, ...] = (
    StepSpec(StepKind.ASSIGN, 0, ("owner",), CHAT_EMAIL),
    StepSpec(StepKind.REMIND, -5, ("owner",), CHAT_EMAIL),
    StepSpec(StepKind.URGE, -1, ("owner", "liaison"), CHAT_EMAIL),
    StepSpec(StepKind.OVERDUE, 1, ("owner", "leader"), CHAT_EMAIL),
    StepSpec(StepKind.ESCALATE, 3, ("principal", SUPERVISORS), CHAT_EMAIL),
    StepSpec(StepKind.PERIODIC, 10, ("owner",), (StepChannel.CHAT,)),
    *MILESTONE_LADDER,
)

URGENT_LADDER: tuple[StepSpec, ...] = (
    # seed 二(二): an urgent matter goes to the unit's principal to read and instruct (阅批)
    StepSpec(StepKind.ASSIGN, 0, ("owner", "principal"), CHAT_EMAIL),
    StepSpec(StepKind.REMIND, -2, ("owner", "liaison"), CHAT_EMAIL),
    StepSpec(StepKind.URGE, 0, ("owner", "liaison", "leader"), CHAT_EMAIL),
    StepSpec(StepKind.OVERDUE, 1, ("owner", "leader", "principal"), CHAT_EMAIL),
    StepSpec(StepKind.ESCALATE, 2, ("principal", SUPERVISORS), CHAT_EMAIL),
    StepSpec(StepKind.PERIODIC, 3, ("owner",), (StepChannel.CHAT,)),
    *MILESTONE_LADDER,
)


STEP_LABELS_ZH: dict[StepKind, str] = {
    StepKind.ASSIGN: "交办通知",
    StepKind.REMIND: "提醒",
    StepKind.URGE: "催办",
    StepKind.OVERDUE: "逾期督办",
    StepKind.ESCALATE: "升级督办",
    StepKind.PERIODIC: "定期报告",
    StepKind.MS_REMIND: "节点提醒",
    StepKind.MS_URGE: "节点催办",
    StepKind.MS_OVERDUE: "节点逾期督办",
}


#: The default deadline (working days after receipt) of an item given none, per source.
#: Seed 四(二): 30 for a leader's instruction without a time limit; a file or meeting names
#: its own time limit, 30 stands in when it does not. 建议提案 are answered within three months
#: of being assigned (about 60 working days); 省长信箱 letters within 15 working days. An
#: urgent item (急件) has the same default unless its policy says otherwise (Policies page).
DEFAULT_DUE_DAYS: dict[Source, int] = {
    Source.INSTRUCTION: DEFAULT_DUE_WORKING_DAYS,
    Source.DOCUMENT: DEFAULT_DUE_WORKING_DAYS,
    Source.MEETING: DEFAULT_DUE_WORKING_DAYS,
    Source.ANNUAL_TASK: DEFAULT_DUE_WORKING_DAYS,
    Source.PROPOSAL: 60,
    Source.MAILBOX: 15,
    Source.OTHER: DEFAULT_DUE_WORKING_DAYS,
}


def build_policy(
    name: str, source: Source | None, urgent: bool, ladder: tuple[StepSpec, ...]
) -> Policy:
    """A new Policy row with its steps (the default deadline of its source)."""
    policy = Policy(
        name=name,
        source=source,
        urgent=urgent,
        due_working_days=DEFAULT_DUE_DAYS[source] if source else DEFAULT_DUE_WORKING_DAYS,
        co_lead_days=DEFAULT_CO_LEAD_DAYS,
    )
    policy.steps = [
        LadderStep(
            position=i,
            kind=spec.kind,
            offset_days=spec.offset_days,
            roles=list(spec.roles),
            channels=list(spec.channels),
            template=spec.kind.value,
            ignore_send_window=spec.ignore_send_window,
        )
        for i, spec in enumerate(ladder)
    ]
    return policy


async def ensure_default_policies(session: AsyncSession) -> int:
    """Create the default and the urgent policy for every source that has none; return the count."""
    existing = {(p.source, p.urgent) for p in (await session.scalars(select(Policy))).all()}
    created = 0
    for source in Source:
        for urgent, ladder in ((False, DEFAULT_LADDER), (True, URGENT_LADDER)):
            if (source, urgent) in existing:
                continue
            name = label(source) + ("（急件）" if urgent else "")
            session.add(build_policy(name, source, urgent, ladder))
            created += 1
    await session.flush()
    return created


def pick_policy(
    options: Iterable[tuple[str | None, bool, T]], source: str, urgent: bool
) -> T | None:
    """The one selection rule, over ``(source, urgent, value)`` in id order.

    The policy of the item's own source comes first, else the source-less one; an urgent
    item without an urgent policy follows the normal one.
    """
    listed = list(options)
    for want_urgent in dict.fromkeys((urgent, False)):
        exact = [v for src, urg, v in listed if urg == want_urgent and src == source]
        generic = [v for src, urg, v in listed if urg == want_urgent and src is None]
        if exact or generic:
            return (exact or generic)[0]
    return None


class Stepped(Protocol):
    """What :func:`reply_within` reads of a step (`StepSpec` or a `LadderStep` row)."""

    @property
    def kind(self) -> str: ...

    @property
    def offset_days(self) -> int: ...


def reply_within(steps: Iterable[Stepped], kind: str) -> int | None:
    """Working days from the deadline step ``kind`` to the ladder's next deadline step: how
    long a unit has to answer before it goes up (None: ``kind`` is the last, or no step)."""
    # A milestone's ladder and an assignment's are apart: each counts to its own next step.
    family = kind in MILESTONE_STEPS
    deadline = [
        s for s in steps if s.kind != StepKind.PERIODIC and (s.kind in MILESTONE_STEPS) == family
    ]
    offsets = sorted(s.offset_days for s in deadline)
    mine = [s.offset_days for s in deadline if s.kind == kind]
    if not mine:
        return None
    later = [o for o in offsets if o > mine[0]]
    return later[0] - mine[0] if later else None


async def _candidates(session: AsyncSession, source: str) -> list[tuple[str | None, bool, Policy]]:
    rows = await session.scalars(
        select(Policy)
        .where((Policy.source == source) | (Policy.source.is_(None)))
        .order_by(Policy.id)
    )
    return [(p.source, p.urgent, p) for p in rows]


async def policy_for(session: AsyncSession, source: str, urgent: bool) -> Policy | None:
    """The policy of exactly this urgency for a source (no falling back to the normal one)."""
    options = [o for o in await _candidates(session, source) if o[1] == urgent]
    return pick_policy(options, source, urgent)


async def load_policy_for(session: AsyncSession, source: str, urgent: bool) -> Policy | None:
    """The policy of an item (:func:`pick_policy`)."""
    return pick_policy(await _candidates(session, source), source, urgent)


def due_days_of(policy: Policy | None) -> int:
    """Working days of the default deadline under ``policy`` (seed 四(二): 30 without one)."""
    return policy.due_working_days if policy else DEFAULT_DUE_WORKING_DAYS


def co_lead_days_of(policy: Policy | None) -> int:
    """Working days before the lead's deadline that 协办 input is due under ``policy``."""
    return policy.co_lead_days if policy else DEFAULT_CO_LEAD_DAYS


async def due_working_days(session: AsyncSession, source: str, urgent: bool = False) -> int:
    """How many working days the default deadline gives for this source and urgency."""
    return due_days_of(await load_policy_for(session, source, urgent))
