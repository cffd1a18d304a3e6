"""Units (责任单位, a tree) and people (人员) with their roles."""

from __future__ import annotations

from enum import StrEnum

from sqlalchemy import BigInteger, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates

from models.base import Base, TimestampMixin, enum_column

#: Surnames read otherwise than the character's common reading (单 is shàn as a surname).
_SURNAMES = {
    "单": "shan", "曾": "zeng", "解": "xie", "仇": "qiu", "朴": "piao", "区": "ou", "查": "zha",
    "盖": "ge", "乐": "yue", "缪": "miao", "种": "chong", "覃": "qin", "翟": "zhai", "尉": "yu",
    "召": "shao", "繁": "po", "员": "yun", "长": "chang", "秘": "bi", "相": "xiang",
}  # fmt: skip


def pinyin_of(name: str) -> tuple[str, str]:
    """A name's pinyin as lower-case syllables (``zhang san``) and their first letters (``zs``).

    The sort and search key of people (按姓名拼音排序); a character without a reading (a Latin
    letter, a digit) stands for itself, and a polyphonic surname takes its surname reading.
    """
    from pypinyin import lazy_pinyin  # a large dictionary: loaded on the first name only

    text = name.strip()
    if not text:
        return "", ""
    head = _SURNAMES.get(text[0])
    syllables = [head] if head else []
    syllables += lazy_pinyin(text[1:] if head else text)  # other text as it is
    words = " ".join(syllables).lower().split()
    return " ".join(words)[:400], "".join(w[0] for w in words)[:100]


class Role(StrEnum):
    """What a person may do and which messages reach them."""

    OWNER = "owner"  # 责任人
    LIAISON = "liaison"  # 联络员
    LEADER = "leader"  # 责任领导 / 分管领导
    PRINCIPAL = "principal"  # 主要负责同志
    SUPERVISOR = "supervisor"  # 督查室工作人员
    ADMIN = "admin"
    VIEWER = "viewer"


class Unit(TimestampMixin, Base):
    """A city, county or department; units form a tree through ``parent_id``."""

    __tablename__ = "units"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("units.id", ondelete="RESTRICT"))
    active: Mapped[bool] = mapped_column(default=True)

    parent: Mapped[Unit | None] = relationship(remote_side=[id], lazy="raise")


class Person(TimestampMixin, Base):
    """Someone who is reminded, reports, reviews or administers."""

    __tablename__ = "people"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    #: the name in pinyin (``zhang san``) and its initials (``zs``): the people list's order
    #: and search, kept in step with ``name`` by `_name_keys` (`pinyin_of`)
    name_pinyin: Mapped[str] = mapped_column(String(400), default="", server_default="")
    name_initials: Mapped[str] = mapped_column(String(100), default="", server_default="")
    email: Mapped[str | None] = mapped_column(String(254), unique=True)
    phone: Mapped[str | None] = mapped_column(String(40))
    locale: Mapped[str] = mapped_column(String(8), default="zh")
    unit_id: Mapped[int | None] = mapped_column(
        ForeignKey("units.id", ondelete="RESTRICT"), index=True
    )
    active: Mapped[bool] = mapped_column(default=True)
    password_hash: Mapped[str | None] = mapped_column(String(255))
    telegram_user_id: Mapped[int | None] = mapped_column(BigInteger, unique=True)
    telegram_chat_id: Mapped[int | None] = mapped_column(BigInteger)
    telegram_username: Mapped[str | None] = mapped_column(String(64))
    #: the person's WeCom (企业微信 / 政务微信) userid: application messages and callbacks
    wecom_userid: Mapped[str | None] = mapped_column(String(64), unique=True)
    #: the person's DingTalk (钉钉) userid: work notifications (工作通知)
    dingtalk_userid: Mapped[str | None] = mapped_column(String(64), unique=True)
    #: the person's Feishu (飞书) user_id, or open_id (``ou_…``): messages from the app
    feishu_user_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    #: the person's channels in the order they want to be reached (``wecom_app,email``:
    #: `supervision.channel_prefs`); None: every channel they are reachable on, at once
    channel_prefs: Mapped[str | None] = mapped_column(String(120))

    unit: Mapped[Unit | None] = relationship(lazy="raise")
    role_links: Mapped[list[PersonRole]] = relationship(
        lazy="selectin", cascade="all, delete-orphan", back_populates="person"
    )

    @validates("name")
    def _name_keys(self, _key: str, name: str) -> str:
        self.name_pinyin, self.name_initials = pinyin_of(name or "")
        return name

    @property
    def roles(self) -> frozenset[Role]:
        """The person's roles."""
        return frozenset(link.role for link in self.role_links)

    def has_role(self, *roles: Role) -> bool:
        """True if the person holds any of ``roles``."""
        return any(link.role in roles for link in self.role_links)

    def set_roles(self, roles: set[Role] | frozenset[Role]) -> None:
        """Replace the person's roles."""
        keep = [link for link in self.role_links if link.role in roles]
        have = {link.role for link in keep}
        keep.extend(PersonRole(role=r) for r in sorted(roles) if r not in have)
        self.role_links = keep


class PersonRole(Base):
    """One role held by one person."""

    __tablename__ = "person_roles"
    __table_args__ = (UniqueConstraint("person_id", "role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)
    role: Mapped[Role] = mapped_column(enum_column(Role, 16), index=True)

    person: Mapped[Person] = relationship(back_populates="role_links", lazy="raise")
