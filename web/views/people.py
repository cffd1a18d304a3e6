"""People (人员) and units (单位): create, edit, invite to the bot, see who is bound. Admin only."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

from aiohttp import web
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from models import Channel, Person, Role, Unit
from models.org import pinyin_of
from notifier.wecom.api import authorize_link
from supervision.access import Permission
from supervision.audit import Actor
from supervision.channel_prefs import PERSONAL, PrefsRefused, parse_prefs, prefs_of, set_prefs
from supervision.errors import DomainError, NotFound, ValidationFailed
from supervision.import_columns import FieldProblem, field_problem, form_refusal
from supervision.import_words import ImportWord
from supervision.invites import INVITE_VALIDITY, create_invite, deep_link, queue_invite_email
from supervision.labels import CHANNEL_PREFS, channel_prefs_word
from supervision.people import (
    APP_USER_ID_LIMIT,
    EMAIL_LIMIT,
    NAME_LIMIT,
    PHONE_LIMIT,
    WECOM_USERID_LIMIT,
    PersonSpec,
    save_person,
)
from supervision.roster import people_roster, telegram_binding
from supervision.sealing import Sealer
from supervision.units import UnitSpec, pruned, save_unit, unit_tree
from web.access import require
from web.app import DEPS, WebDeps
from web.i18n import LANGS
from web.views.common import (
    int_or_none,
    lang_of,
    path_id,
    redirect,
    refused,
    render,
    text_field,
)
from web.wecom_binding import BIND_PATH

ROLES = [r.value for r in Role]
#: the longest search text read
SEARCH_LIMIT: Final = 100
#: the channels a person can be reached on, as the form's ordered choice offers them
CHANNELS = [c.value for c in PERSONAL]


async def _units(session: AsyncSession) -> list[Unit]:
    return list((await session.scalars(select(Unit).order_by(Unit.code))).all())


# --- people -----------------------------------------------------------------------------------


async def people_list(request: web.Request) -> web.StreamResponse:
    """GET /people[?q=&unit=&page=]: by unit then pinyin, searched, paged; the unit tree
    beside it; each person's Telegram binding with an invite button."""
    require(request, Permission.MANAGE_PEOPLE)
    deps: WebDeps = request.app[DEPS]
    text = request.query.get("q", "").strip()[:SEARCH_LIMIT]
    unit_id = int_or_none(request.query.get("unit"))
    page = int_or_none(request.query.get("page")) or 1
    async with deps.sessions() as session:
        roster = await people_roster(
            session, now=deps.clock.now(), text=text, unit_id=unit_id, page=page
        )
    context = {"roster": roster, "q": text, "unit_id": unit_id, "tz": deps.config.tz}
    return render(request, "people/list.html", context)


def _person_raw(person: Person | None) -> dict[str, Any]:
    if person is None:
        return {
            "name": "", "email": "", "phone": "", "wecom_userid": "", "dingtalk_userid": "",
            "feishu_user_id": "", "unit_id": "", "roles": [], "locale": "zh", "active": True,
            "channels": [],
        }  # fmt: skip
    return {
        "name": person.name,
        "email": person.email or "",
        "phone": person.phone or "",
        "wecom_userid": person.wecom_userid or "",
        "dingtalk_userid": person.dingtalk_userid or "",
        "feishu_user_id": person.feishu_user_id or "",
        "unit_id": str(person.unit_id or ""),
        "roles": sorted(person.roles),
        "locale": person.locale,
        "active": person.active,
        "channels": [c.value for c in prefs_of(person)],
    }


async def _person_form(
    request: web.Request,
    person_id: int | None,
    raw: dict[str, Any],
    *,
    errors: list[str] | None = None,
    invite_link: str | None = None,
    invite_app: str = "telegram",
    status: int = 200,
) -> web.Response:
    deps: WebDeps = request.app[DEPS]
    async with deps.sessions() as session:
        units = await _units(session)
        person = await session.get(Person, person_id) if person_id is not None else None
        telegram = await telegram_binding(session, person, deps.clock.now()) if person else None
    return render(
        request,
        "people/form.html",
        {
            "person": person,
            "raw": raw,
            "units": units,
            "roles": ROLES,
            "langs": LANGS,
            "errors": errors or [],
            "invite_link": invite_link,
            "telegram": telegram,
            "tz": deps.config.tz,
            "invite_app": invite_app,
            "invite_days": INVITE_VALIDITY.days,
            "wecom_invites": deps.config.wecom is not None,
            "channels": CHANNELS,
            "prefs_words": {k: channel_prefs_word(k, lang_of(request)) for k in CHANNEL_PREFS},
        },
        status=status,
    )


async def person_new(request: web.Request) -> web.StreamResponse:
    """GET /people/new: the create form."""
    require(request, Permission.MANAGE_PEOPLE)
    return await _person_form(request, None, _person_raw(None))


async def person_edit(request: web.Request) -> web.StreamResponse:
    """GET /people/{id}: the edit form, with the invite button."""
    require(request, Permission.MANAGE_PEOPLE)
    deps: WebDeps = request.app[DEPS]
    async with deps.sessions() as session:
        person = await session.get(Person, path_id(request))
    if person is None:
        raise web.HTTPNotFound(text="404: no such person")
    return await _person_form(request, person.id, _person_raw(person))


def _parse_person(form: Any) -> tuple[dict[str, Any], list[FieldProblem]]:
    """The form as typed (to show it again) and what cannot even be read as a person."""
    raw: dict[str, Any] = {
        "name": text_field(form, "name", NAME_LIMIT),
        "email": text_field(form, "email", EMAIL_LIMIT).lower(),
        "phone": text_field(form, "phone", PHONE_LIMIT),
        "wecom_userid": text_field(form, "wecom_userid", WECOM_USERID_LIMIT),
        "dingtalk_userid": text_field(form, "dingtalk_userid", APP_USER_ID_LIMIT),
        "feishu_user_id": text_field(form, "feishu_user_id", APP_USER_ID_LIMIT),
        "unit_id": text_field(form, "unit_id"),
        "roles": [r for r in form.getall("roles", []) if isinstance(r, str)],
        "locale": text_field(form, "locale"),
        "active": form.get("active") == "on",
        # the ordered choice: 1st, 2nd, … channel; blanks are skipped
        "channels": [text_field(form, f"channel_{n}") for n in range(1, len(CHANNELS) + 1)],
    }
    raw["channels"] = [c for c in raw["channels"] if c]
    raw["channels_sent"] = "channel_1" in form  # a post without the choice keeps the list
    problems: list[FieldProblem] = []
    try:
        parse_prefs(raw["channels"])
    except PrefsRefused as exc:
        problems += [
            ("channels", en.removeprefix("channels: "), zh)
            for en, zh in zip(exc.errors, exc.errors_zh, strict=True)
        ]
    unknown = [r for r in raw["roles"] if r not in ROLES]
    if unknown:
        problems.append(field_problem("roles", ImportWord.UNKNOWN_ROLES, roles=", ".join(unknown)))
    if raw["unit_id"] and int_or_none(raw["unit_id"]) is None:
        problems.append(field_problem("unit", ImportWord.NO_UNIT_ID, id=raw["unit_id"]))
    return raw, problems


def _spec(raw: dict[str, Any]) -> PersonSpec:
    return PersonSpec(
        name=raw["name"],
        email=raw["email"] or None,
        phone=raw["phone"] or None,
        wecom_userid=raw["wecom_userid"] or None,
        dingtalk_userid=raw["dingtalk_userid"] or None,
        feishu_user_id=raw["feishu_user_id"] or None,
        unit_id=int_or_none(raw["unit_id"]),
        roles=frozenset(Role(r) for r in raw["roles"] if r in ROLES),
        locale=raw["locale"],
        active=raw["active"],
    )


async def _save_person(request: web.Request, person_id: int | None) -> web.StreamResponse:
    me = require(request, Permission.MANAGE_PEOPLE)
    deps: WebDeps = request.app[DEPS]
    form = await request.post()
    raw, problems = _parse_person(form)
    password = form.get("password")
    password = password if isinstance(password, str) and password else None
    try:
        if problems:
            raise form_refusal(ValidationFailed, "people", problems)
        hashed = await deps.login_guard.hash_password(password) if password else None
        async with deps.sessions() as session, session.begin():
            admin = await session.get_one(Person, me.person_id)
            person = await save_person(
                session,
                person_id=person_id,
                spec=_spec(raw),
                actor=Actor.of(admin),
                clock=deps.clock,
                password_hash=hashed,
            )
            saved_id = person.id
            if raw["channels_sent"]:
                await set_prefs(
                    session, person_id=saved_id, channels=raw["channels"], actor=admin,
                    clock=deps.clock,
                )  # fmt: skip
    except NotFound as exc:
        raise web.HTTPNotFound(text="404: no such person") from exc
    except DomainError as exc:
        return await _person_form(request, person_id, raw, errors=refused(request, exc), status=400)
    raise redirect(f"/people/{saved_id}?msg=flash.saved")


async def person_create(request: web.Request) -> web.StreamResponse:
    """POST /people/new: create a person."""
    return await _save_person(request, None)


async def person_update(request: web.Request) -> web.StreamResponse:
    """POST /people/{id}: save a person."""
    return await _save_person(request, path_id(request))


async def person_invite(request: web.Request) -> web.StreamResponse:
    """POST /people/{id}/invite: a one-time link (the bot's, or with ``app=wecom_app`` one
    opened in WeCom), shown once and e-mailed to the person."""
    me = require(request, Permission.MANAGE_PEOPLE)
    deps: WebDeps = request.app[DEPS]
    person_id = path_id(request)
    form = await request.post()
    app = Channel.WECOM_APP if form.get("app") == Channel.WECOM_APP else Channel.TELEGRAM
    wecom = deps.config.wecom
    if app == Channel.WECOM_APP and wecom is None:
        raise web.HTTPBadRequest(text="400: WeCom is not set up (DUBAN_WECOM_*)")
    try:
        async with deps.sessions() as session, session.begin():
            person = await session.get(Person, person_id)
            if person is None:
                raise web.HTTPNotFound(text="404: no such person")
            admin = await session.get_one(Person, me.person_id)
            new = await create_invite(
                session, person=person, clock=deps.clock, created_by=admin, channel=app
            )
            bot = deps.config.telegram_bot_username
            if wecom is not None and app == Channel.WECOM_APP:
                link = authorize_link(
                    wecom,
                    redirect_uri=deps.config.base_url.rstrip("/") + BIND_PATH,
                    state=new.token,
                    oauth_base=deps.config.wecom_oauth_base,
                )
            else:
                link = deep_link(bot, new.token) if bot else f"/start {new.token}"
            await queue_invite_email(
                session,
                new=new,
                link=link,
                sealer=Sealer(deps.config.secret_key),
                clock=deps.clock,
                tz=deps.config.tz,
            )
        raw = _person_raw(person)
    except DomainError as exc:
        async with deps.sessions() as session:
            raw = _person_raw(await session.get(Person, person_id))
        return await _person_form(request, person_id, raw, errors=refused(request, exc), status=400)
    return await _person_form(request, person_id, raw, invite_link=link, invite_app=app)


# --- units ------------------------------------------------------------------------------------


def _unit_matches(text: str) -> Callable[[Unit], bool]:
    """A unit matches by name, code, or (ASCII text) the start of its name's pinyin initials."""
    low = text.lower()

    def keep(unit: Unit) -> bool:
        spoken, initials = pinyin_of(unit.name)
        ascii_text = low.isascii() and low.isalpha()
        return (
            low in unit.name.lower()
            or low in unit.code.lower()
            or (ascii_text and (initials.startswith(low) or low in spoken.replace(" ", "")))
        )

    return keep


async def units_list(request: web.Request) -> web.StreamResponse:
    """GET /units[?q=]: the units as a tree (each level folds), with head counts; a search
    keeps the matching units and those above them."""
    require(request, Permission.MANAGE_UNITS)
    deps: WebDeps = request.app[DEPS]
    text = request.query.get("q", "").strip()[:SEARCH_LIMIT]
    async with deps.sessions() as session:
        tree = unit_tree(await _units(session))
        counts = dict(
            (
                await session.execute(select(Person.unit_id, func.count()).group_by(Person.unit_id))
            ).all()
        )
    if text:
        tree = pruned(tree, _unit_matches(text))
    return render(request, "people/units.html", {"tree": tree, "counts": counts, "q": text})


async def _unit_form(
    request: web.Request,
    unit_id: int | None,
    raw: dict[str, Any],
    *,
    errors: list[str] | None = None,
    status: int = 200,
) -> web.Response:
    deps: WebDeps = request.app[DEPS]
    async with deps.sessions() as session:
        units = [u for u in await _units(session) if u.id != unit_id]
        unit = await session.get(Unit, unit_id) if unit_id is not None else None
    return render(
        request,
        "people/unit_form.html",
        {"unit": unit, "raw": raw, "units": units, "errors": errors or []},
        status=status,
    )


def _unit_raw(unit: Unit | None) -> dict[str, Any]:
    if unit is None:
        return {"code": "", "name": "", "parent_id": "", "active": True}
    return {
        "code": unit.code,
        "name": unit.name,
        "parent_id": str(unit.parent_id or ""),
        "active": unit.active,
    }


async def unit_new(request: web.Request) -> web.StreamResponse:
    """GET /units/new."""
    require(request, Permission.MANAGE_UNITS)
    return await _unit_form(request, None, _unit_raw(None))


async def unit_edit(request: web.Request) -> web.StreamResponse:
    """GET /units/{id}."""
    require(request, Permission.MANAGE_UNITS)
    deps: WebDeps = request.app[DEPS]
    async with deps.sessions() as session:
        unit = await session.get(Unit, path_id(request))
    if unit is None:
        raise web.HTTPNotFound(text="404: no such unit")
    return await _unit_form(request, unit.id, _unit_raw(unit))


async def _save_unit(request: web.Request, unit_id: int | None) -> web.StreamResponse:
    me = require(request, Permission.MANAGE_UNITS)
    deps: WebDeps = request.app[DEPS]
    form = await request.post()
    raw: dict[str, Any] = {
        "code": text_field(form, "code", 64),
        "name": text_field(form, "name", 200),
        "parent_id": text_field(form, "parent_id"),
        "active": form.get("active") == "on",
    }
    parent_id = int_or_none(raw["parent_id"])
    try:
        if raw["parent_id"] and parent_id is None:
            raise ValidationFailed("bad parent unit")
        async with deps.sessions() as session, session.begin():
            unit = await save_unit(
                session,
                unit_id=unit_id,
                spec=UnitSpec(raw["code"], raw["name"], parent_id, raw["active"]),
                actor=Actor.of(await session.get_one(Person, me.person_id)),
                clock=deps.clock,
            )
            saved = unit.id
    except NotFound as exc:
        raise web.HTTPNotFound(text="404: no such unit") from exc
    except DomainError as exc:
        return await _unit_form(request, unit_id, raw, errors=refused(request, exc), status=400)
    raise redirect(f"/units?msg=flash.saved#unit-{saved}")


async def unit_create(request: web.Request) -> web.StreamResponse:
    """POST /units/new."""
    return await _save_unit(request, None)


async def unit_update(request: web.Request) -> web.StreamResponse:
    """POST /units/{id}."""
    return await _save_unit(request, path_id(request))


def routes(app: web.Application) -> None:
    """Register the people and unit pages."""
    app.router.add_get("/people", people_list, name="people")
    app.router.add_get("/people/new", person_new)
    app.router.add_post("/people/new", person_create)
    app.router.add_get("/people/{id:\\d+}", person_edit, name="person")
    app.router.add_post("/people/{id:\\d+}", person_update)
    app.router.add_post("/people/{id:\\d+}/invite", person_invite, name="person_invite")
    app.router.add_get("/units", units_list, name="units")
    app.router.add_get("/units/new", unit_new)
    app.router.add_post("/units/new", unit_create)
    app.router.add_get("/units/{id:\\d+}", unit_edit, name="unit")
    app.router.add_post("/units/{id:\\d+}", unit_update)
