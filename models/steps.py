"""The steps of a ladder (提醒 → 催办 → 逾期督办 → 升级督办): a ladder's rows, an outbox row's
kind and an assignment's last step fired all name them. Imports nothing of Duban."""

from __future__ import annotations

from enum import StrEnum

__all__ = ["MILESTONE_STEPS", "StepKind"]


class StepKind(StrEnum):
    """The steps of a ladder."""

    ASSIGN = "assign"  # 交办通知: once when an assignment is made or handed over
    REMIND = "remind"  # 提醒
    URGE = "urge"  # 催办
    OVERDUE = "overdue"  # 逾期督办
    ESCALATE = "escalate"  # 升级督办
    PERIODIC = "periodic"  # 定期报告
    # A milestone's (阶段性节点) own short ladder, from the milestone's due date
    MS_REMIND = "ms_remind"  # 节点提醒: before the milestone is due
    MS_URGE = "ms_urge"  # 节点催办: on its due day
    MS_OVERDUE = "ms_overdue"  # 节点逾期督办: after it, also to its 责任领导

    @property
    def for_milestones(self) -> bool:
        """True for the steps of a milestone's ladder (the others are an assignment's)."""
        return self in MILESTONE_STEPS


MILESTONE_STEPS = frozenset({StepKind.MS_REMIND, StepKind.MS_URGE, StepKind.MS_OVERDUE})
