"""People (人员): the rules a person's record follows, for the admin page and the import alike."""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from models import Person, Role, Unit
from supervision.accounts import hash_password
from supervision.audit import Actor, apply_changes, record
from supervision.clock import Clock
from supervision.emails import BadEmail, normal_email
from supervision.errors import NotFound, ValidationFailed
from supervision.import_columns import FieldProblem, field_problem, form_refusal
from supervision.import_words import Both, ImportWord, say_import
from supervision.labels import label

#: Roles that only make sense inside a unit (责任单位).
UNIT_ROLES = frozenset({Role.OWNER, Role.LIAISON, Role.LEADER, Role.PRINCIPAL})
#: The languages a person can get messages and pages in.
LOCALES = ("zh", "en")
NAME_LIMIT, EMAIL_LIMIT, PHONE_LIMIT, WECOM_USERID_LIMIT = 100, 254, 40, 64
#: the longest DingTalk userid / Feishu user_id or open_id kept
APP_USER_ID_LIMIT = 64

_PHONE = re.compile(r"^[0-9+\-() ]{3,40}$")
#: WeCom userids (账号): letters, digits and ``_ - . @``, 1 to 64 characters
_WECOM_USERID = re.compile(r"^[A-Za-z0-9_.@-]{1,64}$")
#: DingTalk userids (员工UserID): letters, digits and ``_ - . @``, 1 to 64 characters
DINGTALK_USERID = re.compile(r"^[A-Za-z0-9_.@-]{1,64}$")
#: Feishu user_id (letters and digits) or open_id (``ou_`` and hex), 1 to 64 characters
FEISHU_USER_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


@dataclass(frozen=True, slots=True)
class PersonSpec:
    """A person as an admin (or an import row) wants them; text already trimmed."""

    name: str
    email: str | None = None
    phone: str | None = None
    unit_id: int | None = None
    roles: frozenset[Role] = frozenset()
    locale: str = "zh"
    active: bool = True
    #: the WeCom (企业微信 / 政务微信) userid the person gets application messages under
    wecom_userid: str | None = None
    #: the DingTalk userid the person gets work notifications (工作通知) under
    dingtalk_userid: str | None = None
    #: the Feishu user_id (or ``ou_…`` open_id) the person gets app messages under
    feishu_user_id: str | None = None


def field_problems(
    *,
    email: str,
    phone: str,
    locale: str,
    roles: frozenset[Role],
    has_unit: bool,
    wecom_userid: str = "",
    dingtalk_userid: str = "",
    feishu_user_id: str = "",
) -> list[tuple[str, str, str]]:
    """What is wrong with these values, as ``(field, English, 中文)``; empty email and phone
    are fine.

    Reading the text (required fields, length limits) is the caller's part.
    """
    problems: list[tuple[str, str, str]] = []

    def add(column: str, word: ImportWord, **values: object) -> None:
        problems.append(
            (column, say_import(word, "en", **values), say_import(word, "zh", **values))
        )

    if len(email) > EMAIL_LIMIT:
        add("email", ImportWord.TOO_LONG, limit=EMAIL_LIMIT)
    elif email:
        try:
            normal_email(email)
        except BadEmail as exc:
            zh = say_import(ImportWord.BAD_EMAIL, text=email.strip())
            problems.append(("email", str(exc), zh))
    if roles & UNIT_ROLES and not has_unit:
        needs = sorted(roles & UNIT_ROLES)
        zh_roles = "、".join(label(r) for r in needs)
        add("unit", ImportWord.UNIT_FOR_ROLES, roles=Both(zh_roles, ", ".join(needs)))
    if locale not in LOCALES:
        add("locale", ImportWord.BAD_LOCALE, text=locale)
    if phone and not _PHONE.match(phone):
        add("phone", ImportWord.BAD_PHONE, text=phone)
    for column, value, pattern, what, allowed in (
        ("wecom_userid", wecom_userid, _WECOM_USERID, _WECOM, _LETTERS_DOTS),
        ("dingtalk_userid", dingtalk_userid, DINGTALK_USERID, _DINGTALK, _LETTERS_DOTS),
        ("feishu_user_id", feishu_user_id, FEISHU_USER_ID, _FEISHU, _LETTERS),
    ):
        if value and not pattern.match(value):
            add(column, ImportWord.BAD_APP_ID, text=value, what=what, allowed=allowed)
    return problems


_WECOM = Both("企业微信账号", "WeCom userid")
_DINGTALK = Both("钉钉账号", "DingTalk userid")
_FEISHU = Both("飞书 user_id 或 open_id", "Feishu user_id or open_id")
_LETTERS_DOTS = Both("字母、数字及 _-.@", "letters, digits, _-.@")
_LETTERS = Both("字母、数字及 _-", "letters, digits, _-")


def stored_email(text: str) -> str:
    """The stored form of an address :func:`field_problems` accepted; "" for none or a bad one."""
    try:
        return normal_email(text) if text else ""
    except BadEmail:
        return ""


async def save_person(
    session: AsyncSession,
    *,
    person_id: int | None,
    spec: PersonSpec,
    actor: Actor,
    clock: Clock,
    password: str | None = None,
    password_hash: str | None = None,
) -> Person:
    """Create (``person_id`` None) or change a person; every problem is reported at once.

    E-mail addresses are unique regardless of case, and an admin cannot take away their own
    admin role or deactivate themselves (the office would risk locking itself out). A new
    password comes as ``password`` (hashed here) or already hashed as ``password_hash``.
    """
    person = None
    if person_id is not None:
        person = await session.get(Person, person_id)
        if person is None:
            raise NotFound(f"no person #{person_id}")
    email = (spec.email or "").strip()
    problems: list[FieldProblem] = []
    if not spec.name.strip():
        problems.append(field_problem("name", ImportWord.REQUIRED))
    if len(spec.name) > NAME_LIMIT:
        problems.append(field_problem("name", ImportWord.TOO_LONG, limit=NAME_LIMIT))
    problems += field_problems(
        email=email,
        phone=spec.phone or "",
        locale=spec.locale,
        roles=spec.roles,
        has_unit=spec.unit_id is not None,
        wecom_userid=spec.wecom_userid or "",
        dingtalk_userid=spec.dingtalk_userid or "",
        feishu_user_id=spec.feishu_user_id or "",
    )
    if spec.unit_id is not None and await session.get(Unit, spec.unit_id) is None:
        problems.append(field_problem("unit", ImportWord.NO_UNIT_ID, id=spec.unit_id))
    email = stored_email(email)
    if email:
        holders = await session.scalars(select(Person.id).where(func.lower(Person.email) == email))
        if any(holder != person_id for holder in holders):
            problems.append(field_problem("email", ImportWord.APP_ID_TAKEN, value=email))
    for column, value in (
        (Person.wecom_userid, spec.wecom_userid),
        (Person.dingtalk_userid, spec.dingtalk_userid),
        (Person.feishu_user_id, spec.feishu_user_id),
    ):
        if not value:
            continue
        holder = await session.scalar(select(Person.id).where(column == value))
        if holder is not None and holder != person_id:
            problems.append(field_problem(column.key, ImportWord.APP_ID_TAKEN, value=value))
    if (
        person_id is not None
        and person_id == actor.person_id
        and (Role.ADMIN not in spec.roles or not spec.active)
    ):
        problems.append(field_problem("roles", ImportWord.SELF_ADMIN))
    if problems:
        raise form_refusal(ValidationFailed, "people", problems)
    created = person is None
    if person is None:
        person = Person(created_at=clock.now())  # every field set below, so the event lists it
        session.add(person)
    changes = apply_changes(
        person,
        {
            "name": spec.name,
            "email": email or None,
            "phone": spec.phone or None,
            "wecom_userid": spec.wecom_userid or None,
            "dingtalk_userid": spec.dingtalk_userid or None,
            "feishu_user_id": spec.feishu_user_id or None,
            "unit_id": spec.unit_id,
            "locale": spec.locale,
            "active": spec.active,
        },
    )
    old_roles = None if created else sorted(r.value for r in person.roles)
    person.set_roles(set(spec.roles))
    if (roles := sorted(r.value for r in spec.roles)) != old_roles:
        changes["roles"] = [old_roles, roles]
    if password is not None:
        password_hash = hash_password(password)
    if password_hash is not None:  # hashed by the caller (off the event loop)
        person.password_hash = password_hash
        changes["password"] = ["***", "***"]
    await session.flush()
    if created or changes:
        record(
            session,
            clock=clock,
            actor=actor,
            entity="person",
            entity_id=person.id,
            action="create" if created else "update",
            detail={"changes": changes},
        )
    return person
