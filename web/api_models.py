"""Pydantic models of the /api/v1 request bodies other than items (`supervision.item_schema`).

The handlers parse with them (`supervision.validation.validate`) and `web.openapi` publishes
their `model_json_schema()`. Imports `models` enums, `supervision/` and `web.api_tokens` only.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BeforeValidator, Field, StrictBool

from models import Channel, StepKind
from supervision.item_schema import Day, Id, not_blank
from supervision.validation import Body, Patch
from web.api_tokens import MAX_VALID_DAYS

Text8000 = Annotated[
    str, BeforeValidator(not_blank), Field(strict=True, min_length=1, max_length=8000)
]
Text4000 = Annotated[
    str, BeforeValidator(not_blank), Field(strict=True, min_length=1, max_length=4000)
]
Text200 = Annotated[
    str, BeforeValidator(not_blank), Field(strict=True, min_length=1, max_length=200)
]
Text100 = Annotated[
    str, BeforeValidator(not_blank), Field(strict=True, min_length=1, max_length=100)
]
Text64 = Annotated[str, BeforeValidator(not_blank), Field(strict=True, min_length=1, max_length=64)]


class ReportInput(Body):
    """A progress report (进展报告) filed on an assignment."""

    text: Text8000
    milestone_id: Id | None = Field(
        default=None, description="the milestone (阶段性节点) of the item it reports on"
    )


class ExtensionInput(Body):
    """A request for a later deadline (延期申请)."""

    reason: Text4000
    progress: Text4000
    new_due_on: Day


class Decision(Body):
    """A supervisor's answer to an extension request: approve (同意) or reject (退回)."""

    approve: StrictBool
    comment: Annotated[str, Field(strict=True, max_length=2000)] | None = None


class ReopenInput(Body):
    """退回重办: why a closed item is sent back, and its new deadline (after today)."""

    reason: Annotated[str, BeforeValidator(not_blank), Field(strict=True, max_length=1000)]
    due_on: Day


class TransferInput(Body):
    """转办: hand an open assignment to another unit and/or 责任人 (a member of that unit)."""

    reason: Annotated[str, BeforeValidator(not_blank), Field(strict=True, max_length=1000)]
    unit_id: Id | None = None
    owner_id: Id | None = None


class UnitInput(Body):
    """A new unit (责任单位)."""

    code: Text64
    name: Text200
    parent_id: Id | None = None
    active: StrictBool | None = Field(default=None, description="default true")


class UnitPatch(Patch):
    """Some fields of a unit; the others keep their values."""

    code: Text64 | None = None
    name: Text200 | None = None
    parent_id: Id | None = None
    active: StrictBool | None = None


class ChannelsInput(Body):
    """A person's channel preference (接收渠道), in order; an empty list restores the default.

    Only channels that reach one person (``telegram``, ``wecom_app``, ``email``, …), each once.
    """

    channels: list[Channel] = Field(max_length=len(Channel))


class TokenInput(Body):
    """A new API token for a person."""

    person_id: Id
    name: Text100
    valid_days: Annotated[int, Field(strict=True, ge=1, le=MAX_VALID_DAYS)] | None = None


RobotKind = Literal["wecom", "dingtalk", "feishu"]
RobotUrl = Annotated[str, Field(strict=True, min_length=1, max_length=1000)]
RobotSecret = Annotated[str, Field(strict=True, min_length=1, max_length=255)]


class RobotInput(Body):
    """A new group robot (群机器人): a unit's group, or the leadership's (``leadership``)."""

    name: Text100
    kind: RobotKind
    url: RobotUrl = Field(description="the webhook URL (holds the robot's key; never shown again)")
    secret: RobotSecret | None = Field(
        default=None, description="DingTalk / Feishu signing secret (never shown again)"
    )
    unit_id: Id | None = Field(default=None, description="the unit whose group it is")
    leadership: StrictBool | None = Field(
        default=None, description="true: the leadership group, which hears every unit"
    )
    steps: list[StepKind] | None = Field(
        default=None, max_length=len(StepKind), description="steps it receives; default every"
    )
    active: StrictBool | None = Field(default=None, description="default true")


class RobotPatch(Patch):
    """Some fields of a robot; the others (URL and secret included) keep their values."""

    name: Text100 | None = None
    kind: RobotKind | None = None
    url: RobotUrl | None = None
    secret: RobotSecret | None = None
    clear_secret: StrictBool | None = Field(default=None, description="true: remove the secret")
    unit_id: Id | None = None
    leadership: StrictBool | None = None
    steps: list[StepKind] | None = Field(default=None, max_length=len(StepKind))
    active: StrictBool | None = None
