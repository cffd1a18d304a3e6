"""Person rules shared by the admin page and the import."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from models import AuditEvent, Person, Role, Unit
from supervision.accounts import hash_password, verify_password
from supervision.audit import Actor
from supervision.errors import NotFound, ValidationFailed
from supervision.people import PersonSpec, save_person

ADMIN = Actor(None, "admin")


async def _unit(session, clock) -> Unit:
    unit = Unit(code="FGW", name="发改委", created_at=clock.now())
    session.add(unit)
    await session.flush()
    return unit


async def test_create_change_and_audit(session, clock):
    unit = await _unit(session, clock)
    spec = PersonSpec(
        name="张伟",
        email=" ZhangWei@Demo.cn ",
        phone="025-1234567",
        unit_id=unit.id,
        roles=frozenset({Role.OWNER}),
    )
    person = await save_person(
        session, person_id=None, spec=spec, actor=ADMIN, clock=clock, password="s3cret-pass"
    )
    assert (person.email, person.roles, person.created_at) == (
        "zhangwei@demo.cn",
        {Role.OWNER},
        clock.now(),
    )
    assert person.password_hash and verify_password(person.password_hash, "s3cret-pass")
    changed = PersonSpec(**{**_as_dict(spec), "locale": "en", "roles": frozenset(Role)})
    await save_person(session, person_id=person.id, spec=changed, actor=ADMIN, clock=clock)
    await save_person(session, person_id=person.id, spec=changed, actor=ADMIN, clock=clock)
    events = (await session.scalars(select(AuditEvent).order_by(AuditEvent.id))).all()
    assert [e.action for e in events] == ["create", "update"]  # no change: no event
    created = events[0].detail["changes"]
    assert created["password"] == ["***", "***"]
    assert (created["name"], created["email"], created["roles"]) == (
        [None, "张伟"],
        [None, "zhangwei@demo.cn"],
        [None, ["owner"]],
    )  # the event of a new person lists every field it was given
    assert set(events[1].detail["changes"]) == {"locale", "roles"}
    assert "s3cret" not in repr([e.detail for e in events])


def test_passwords_are_hashed_with_the_production_parameters(production_hasher) -> None:
    hashed = hash_password("s3cret-pass")
    assert hashed.startswith("$argon2id$v=19$m=65536,t=3,p=4$"), hashed
    assert verify_password(hashed, "s3cret-pass") and not verify_password(hashed, "s3cret-pasS")


def _as_dict(spec: PersonSpec) -> dict[str, object]:
    return {name: getattr(spec, name) for name in PersonSpec.__slots__}


async def test_every_problem_at_once_and_nothing_written(session, clock):
    spec = PersonSpec(
        name=" ",
        email="not-an-email",
        phone="abc",
        unit_id=999,
        roles=frozenset({Role.LEADER}),
        locale="fr",
    )
    with pytest.raises(ValidationFailed) as err:
        await save_person(session, person_id=None, spec=spec, actor=ADMIN, clock=clock)
    assert err.value.errors == [
        "name: required",
        "email: 'not-an-email' is not an email address",
        "locale: 'fr' is not a language (use zh or en)",
        "phone: 'abc' is not a phone number",
        "unit: no unit #999",
    ]
    assert (await session.scalars(select(Person))).all() == []


async def test_unit_roles_need_a_unit(session, clock):
    spec = PersonSpec(name="王强", roles=frozenset({Role.LEADER, Role.SUPERVISOR}))
    with pytest.raises(ValidationFailed) as err:
        await save_person(session, person_id=None, spec=spec, actor=ADMIN, clock=clock)
    assert err.value.errors == ["unit: required for the role(s) leader"]


async def test_email_unique_regardless_of_case(session, clock):
    first = await save_person(
        session, person_id=None, spec=PersonSpec("甲", "a@x.cn"), actor=ADMIN, clock=clock
    )
    with pytest.raises(ValidationFailed, match="already used"):
        await save_person(
            session, person_id=None, spec=PersonSpec("乙", "A@X.CN"), actor=ADMIN, clock=clock
        )
    # Saving a person with their own address is no clash.
    await save_person(
        session, person_id=first.id, spec=PersonSpec("甲二", "a@x.cn"), actor=ADMIN, clock=clock
    )
    assert first.name == "甲二"


async def test_an_admin_cannot_lock_themselves_out(session, clock):
    admin = await save_person(
        session,
        person_id=None,
        spec=PersonSpec("管理员", roles=frozenset({Role.ADMIN})),
        actor=ADMIN,
        clock=clock,
    )
    me = Actor.of(admin)
    for spec in (
        PersonSpec("管理员", roles=frozenset({Role.SUPERVISOR})),
        PersonSpec("管理员", roles=frozenset({Role.ADMIN}), active=False),
    ):
        with pytest.raises(ValidationFailed, match="your own admin role"):
            await save_person(session, person_id=admin.id, spec=spec, actor=me, clock=clock)
    assert admin.roles == {Role.ADMIN} and admin.active
    # Another admin may.
    await save_person(
        session,
        person_id=admin.id,
        spec=PersonSpec("管理员", roles=frozenset({Role.SUPERVISOR})),
        actor=ADMIN,
        clock=clock,
    )
    assert admin.roles == {Role.SUPERVISOR}


async def test_unknown_person(session, clock):
    with pytest.raises(NotFound):
        await save_person(session, person_id=424242, spec=PersonSpec("x"), actor=ADMIN, clock=clock)


@pytest.mark.parametrize(
    ("address", "reason"),
    [
        ("x@example.org.", "cannot end with a period"),
        ("x@ex..org", "cannot have two periods in a row"),
        ("a b@x.cn", "invalid characters before the @-sign"),
    ],
)
async def test_a_malformed_address_is_refused_with_its_reason(session, clock, address, reason):
    with pytest.raises(ValidationFailed) as err:
        await save_person(
            session, person_id=None, spec=PersonSpec(name="王强", email=address), actor=ADMIN,
            clock=clock,
        )  # fmt: skip
    [problem] = err.value.errors
    assert problem.startswith(f"email: {address!r} is not an email address: ") and reason in problem
    assert (await session.scalars(select(Person))).all() == []


async def test_an_internationalised_address_is_kept_in_its_normal_form(session, clock):
    person = await save_person(
        session, person_id=None, spec=PersonSpec(name="张三", email=" 张三@例子.中国 "),
        actor=ADMIN, clock=clock,
    )  # fmt: skip
    assert person.email == "张三@例子.中国"


def test_one_check_for_every_entry_point():
    from supervision.emails import BadEmail, normal_email

    assert normal_email(" Wang@Example.GOV.cn ") == "wang@example.gov.cn"
    assert normal_email("王@例子.中国") == "王@例子.中国"
    with pytest.raises(BadEmail, match="cannot end with a period"):
        normal_email("x@example.org.")
    with pytest.raises(BadEmail, match=r"^'nobody' is not an email address$"):
        normal_email("nobody")


async def test_the_first_admin_needs_a_real_address(session):
    from supervision.accounts import ensure_admin

    with pytest.raises(ValidationFailed, match="cannot have two periods"):
        await ensure_admin(session, email="admin@ex..org", password="long-enough")
    admin = await ensure_admin(session, email=" Admin@Demo.GOV.cn", password="long-enough")
    assert admin.email == "admin@demo.gov.cn"


def test_pinyin_keys_follow_the_name_and_read_surnames_as_surnames() -> None:
    from models.org import pinyin_of

    assert pinyin_of("张三") == ("zhang san", "zs")
    assert pinyin_of("单雄信") == ("shan xiong xin", "sxx")  # 单 as a surname is shàn
    assert pinyin_of("曾国藩") == ("zeng guo fan", "zgf")
    assert pinyin_of("Anna 李") == ("anna li", "al")
    assert pinyin_of("  ") == ("", "")
    person = Person(name="王五")
    assert (person.name_pinyin, person.name_initials) == ("wang wu", "ww")
    person.name = "欧阳修"
    assert (person.name_pinyin, person.name_initials) == ("ou yang xiu", "oyx")
