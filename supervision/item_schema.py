"""The input models of an item (督查事项): every rule about an item's own fields, once.

Pydantic models that the API parses bodies with, that the OpenAPI document describes
(`model_json_schema`), and that the CSV/XLSX import checks its rows with; each turns into the
`ItemSpec` that `supervision.items.save_item` takes. Imports `models/`,
`supervision.items` and `supervision.validation` only.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, NoReturn

from pydantic import (
    BeforeValidator,
    Field,
    StrictBool,
    ValidationInfo,
    field_validator,
)
from pydantic_core import PydanticCustomError

from models import Source
from supervision.errors import ValidationFailed
from supervision.items import MAX_REF, MAX_TITLE, AssigneeSpec, ItemSpec
from supervision.validation import Body, Patch

#: The largest id (the tables' keys are 32-bit integers).
MAX_ID = 2**31 - 1
#: The longest objective or work content.
MAX_TEXT = 8000


def _iso_date(value: object) -> object:
    """A date written as YYYY-MM-DD (a date object passes; numbers and other text do not)."""
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    raise PydanticCustomError("date_format", "must be a date like 2026-11-30")


def not_blank(value: object) -> object:
    if isinstance(value, str) and not value.strip():
        raise PydanticCustomError("blank", "must not be empty")
    return value


Day = Annotated[date, BeforeValidator(_iso_date)]
Id = Annotated[int, Field(strict=True, ge=1, le=MAX_ID)]
Ref = Annotated[
    str,
    BeforeValidator(not_blank),
    Field(strict=True, min_length=1, max_length=MAX_REF, description="文号"),
]
Title = Annotated[
    str, BeforeValidator(not_blank), Field(strict=True, min_length=1, max_length=MAX_TITLE)
]
Text = Annotated[str, Field(strict=True, max_length=MAX_TEXT)]


class AssigneeInput(Body):
    """A unit an item is given to, with its responsible person (责任人) and leader."""

    unit_id: Id
    owner_id: Id | None = None
    leader_id: Id | None = None

    def spec(self) -> AssigneeSpec:
        """The assignee as `save_item` takes it."""
        return AssigneeSpec(self.unit_id, self.owner_id, self.leader_id)


def _check_units(lead_unit: int | None, co_units: list[int]) -> None:
    if lead_unit is not None and lead_unit in co_units:
        raise PydanticCustomError("lead_in_co", "the lead unit cannot also be a co unit")
    if len(set(co_units)) != len(co_units):
        raise PydanticCustomError("co_twice", "a co unit is listed twice")


def _check_dates(received_on: date | None, due_on: date | None) -> None:
    if received_on is not None and due_on is not None and due_on < received_on:
        raise PydanticCustomError(
            "due_before_received",
            "{due} is before received_on {received}",
            {"due": due_on.isoformat(), "received": received_on.isoformat()},
        )


def _fail(name: str, exc: PydanticCustomError) -> NoReturn:
    problem = f"{name}: {exc.message()}"
    raise ValidationFailed("invalid input: " + problem, [problem]) from None


class ItemInput(Body):
    """A new item: its fields, its lead unit (主办) and co units (协办)."""

    ref: Ref
    title: Title
    source: Source
    received_on: Day
    due_on: Day | None = Field(
        default=None, description="完成时限; null = 30 working days (policy)"
    )
    urgent: StrictBool = False
    objective: Text = Field(default="", description="目标任务")
    content: Text = Field(default="", description="工作内容")
    lead: AssigneeInput
    co: list[AssigneeInput] = Field(default_factory=list)

    @field_validator("due_on")
    @classmethod
    def _not_before_received(cls, due_on: date | None, info: ValidationInfo) -> date | None:
        _check_dates(info.data.get("received_on"), due_on)
        return due_on

    @field_validator("co")
    @classmethod
    def _apart_from_lead(cls, co: list[AssigneeInput], info: ValidationInfo) -> list[AssigneeInput]:
        lead = info.data.get("lead")
        _check_units(lead.unit_id if lead is not None else None, [c.unit_id for c in co])
        return co

    def spec(self) -> ItemSpec:
        """The item as `save_item` takes it (ref and title trimmed)."""
        return ItemSpec(
            ref=self.ref.strip(),
            title=self.title.strip(),
            source=self.source,
            received_on=self.received_on,
            lead=self.lead.spec(),
            due_on=self.due_on,
            urgent=self.urgent,
            objective=self.objective,
            content=self.content,
            co=tuple(c.spec() for c in self.co),
        )


class ItemPatch(Patch):
    """Some fields of an existing item (the ref never changes); the others keep their values."""

    title: Title | None = None
    source: Source | None = None
    received_on: Day | None = None
    due_on: Day | None = Field(
        default=None, description="完成时限; null = 30 working days (policy)"
    )
    urgent: StrictBool | None = None
    objective: Text | None = Field(default=None, description="目标任务")
    content: Text | None = Field(default=None, description="工作内容")
    lead: AssigneeInput | None = None
    co: list[AssigneeInput] | None = None

    def apply(self, base: ItemSpec) -> ItemSpec:
        """``base`` with the sent fields changed (a sent null clears the deadline only)."""
        sent = self.model_fields_set
        lead = self.lead.spec() if self.lead is not None else base.lead
        co = tuple(c.spec() for c in self.co) if self.co is not None else base.co
        received_on = self.received_on if self.received_on is not None else base.received_on
        due_on = self.due_on if "due_on" in sent else base.due_on
        try:
            _check_dates(received_on, due_on)
        except PydanticCustomError as exc:
            _fail("due_on", exc)
        try:
            _check_units(lead.unit_id, [c.unit_id for c in co])
        except PydanticCustomError as exc:
            _fail("co", exc)
        return ItemSpec(
            ref=base.ref,
            title=self.title.strip() if self.title is not None else base.title,
            source=self.source if self.source is not None else base.source,
            received_on=received_on,
            lead=lead,
            due_on=due_on,
            urgent=self.urgent if self.urgent is not None else base.urgent,
            objective=self.objective if self.objective is not None else base.objective,
            content=self.content if self.content is not None else base.content,
            co=co,
        )
