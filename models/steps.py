"""The steps of a ladder (提醒 → 催办 → 逾期督办 → 升级督办): a ladder's rows, an outbox row's
kind and an assignment's last step fired all name them. Imports nothing of Duban."""

from __future__ import annotations

from enum import StrEnum

__all__ = ["StepKind"]


class StepKind(StrEnum):
    """The steps of a ladder."""

    ASSIGN = "assign"  # 交办通知: once when an assignment is made or handed over
    REMIND = "remind"  # 提醒
    URGE = "urge"  # 催办
    OVERDUE = "overdue"  # 逾期督办
    ESCALATE = "escalate"  # 升级督办
    PERIODIC = "periodic"  # 定期报告
