"""Declarative base, naming convention and the column types every table shares."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, ClassVar

from sqlalchemy import DDL, DateTime, Enum, MetaData, String, Table, TypeDecorator, event
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

# Predictable constraint names, so migrations can refer to them on SQLite and PostgreSQL alike.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp stored as naive UTC and always returned timezone-aware (UTC).

    SQLite keeps no offset, so storing naive UTC everywhere makes both databases agree.
    """

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column; pass an aware datetime")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        assert isinstance(value, datetime)
        return value.replace(tzinfo=UTC)


def enum_column(enum: type[StrEnum], length: int) -> Enum:
    """A column of ``enum`` stored as its values in a VARCHAR(``length``): the very strings the
    column held as plain text (no CHECK constraint, no native type, so no data migration);
    a value outside the enum is refused when written."""
    return Enum(
        enum,
        native_enum=False,
        create_constraint=False,
        values_callable=lambda members: [m.value for m in members],
        length=length,
        validate_strings=True,
    )


class EnumUnion(TypeDecorator[StrEnum]):
    """A column holding a member of one of several StrEnums (an outbox row's kind is a
    ladder step or another message kind), stored as its value in a VARCHAR(``length``): the
    strings the plain text column held, which raw SQL (the scan's COPY writer) still writes
    and reads. A value outside every enum is refused when written, and read as an error."""

    impl = String
    cache_ok = True

    def __init__(self, *enums: type[StrEnum], length: int) -> None:
        super().__init__(length)
        self.enums = enums

    def member(self, value: str) -> StrEnum:
        """The member ``value`` names, in the first enum that has it."""
        for enum in self.enums:
            if value in enum._value2member_map_:
                return enum(value)
        names = ", ".join(e.__name__ for e in self.enums)
        raise LookupError(f"{value!r} is not a value of {names}")

    def process_bind_param(self, value: Any, dialect: Dialect) -> str | None:
        return None if value is None else self.member(str(value)).value

    def process_result_value(self, value: Any, dialect: Dialect) -> StrEnum | None:
        return None if value is None else self.member(str(value))


def utcnow() -> datetime:
    """The current time, aware, in UTC (column defaults only; code takes a Clock)."""
    return datetime.now(UTC)


class Base(DeclarativeBase):
    """Base class of every table."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {datetime: UTCDateTime()}


class TimestampMixin:
    """``created_at`` on every row that people look at in a timeline."""

    created_at: Mapped[datetime] = mapped_column(default=utcnow)


def include_for(dialect: str) -> Callable[[Any, str | None, str, bool, Any], bool]:
    """Alembic's ``include_object`` for ``dialect``: an index whose ``info["dialects"]``
    names other databases only (made there with ``ddl_if``) is not part of its schema."""

    def include(obj: Any, _name: str | None, type_: str, reflected: bool, _compare: Any) -> bool:
        dialects = getattr(obj, "info", {}).get("dialects") if type_ == "index" else None
        return reflected or not dialects or dialect in dialects

    return include


def install_on_create(table: Table, *, postgresql: Sequence[str], sqlite: Sequence[str]) -> None:
    """Make `Base.metadata.create_all` run each dialect's statements (triggers and their
    functions, as a migration installs them) once ``table`` exists."""
    for dialect, statements in (("postgresql", postgresql), ("sqlite", sqlite)):
        for statement in statements:
            ddl = DDL(statement.replace("%", "%%"))  # type: ignore[no-untyped-call]
            event.listen(table, "after_create", ddl.execute_if(dialect=dialect))
