"""Group robots (群机器人): the rules of a robot's record, shared by the admin page, the API and
the CLI, and which robots a ladder step reaches.

A robot belongs to a unit (its group hears that unit's steps) or to the leadership (领导群:
it hears the steps it receives for every unit). Its webhook URL holds the robot's key and its
signing secret signs each message: both are stored sealed with the service's secret key
(`seal`; only sending opens them, `opened`) and never shown again: pages read ``url_shown``
(`masked_url`) and `SECRET_MASK`; a change leaves them as they are unless new values are typed.

Imports `models/`, `supervision.audit`, `supervision.labels`, `supervision.sealing` and
`supervision.errors` only.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Final
from urllib.parse import parse_qs, urlsplit

from sqlalchemy import Select, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from models import AuditAction, AuditEntity, Channel, GroupWebhook, StepKind, Unit
from supervision.audit import Actor, apply_changes, record
from supervision.clock import Clock
from supervision.errors import NotFound, ValidationFailed
from supervision.labels import Problem, Sentence, refusal, refusals
from supervision.sealing import SealBroken, Sealer

__all__ = [
    "KINDS",
    "LEADERSHIP",
    "ROBOT_STEPS",
    "SECRET_MASK",
    "UNIT",
    "RobotBook",
    "RobotSpec",
    "get_robot",
    "list_robots",
    "masked_url",
    "opened",
    "parse_steps",
    "record_test",
    "remove_robot",
    "robots_query",
    "save_robot",
    "seal",
    "shown_url",
    "steps_of",
    "unseal",
]

#: the kinds of group robot (a GroupWebhook's ``kind``)
KINDS: Final = (Channel.WECOM, Channel.DINGTALK, Channel.FEISHU)
#: a robot's ``scope``: one unit's group, or the leadership's (every unit)
UNIT: Final = "unit"
LEADERSHIP: Final = "leadership"
#: the steps a robot can be chosen to receive
ROBOT_STEPS: Final = tuple(StepKind)
_STEP_VALUES: Final = frozenset(s.value for s in ROBOT_STEPS)
#: how a stored signing secret is shown
SECRET_MASK: Final = "••••••••"  # noqa: S105 (what is shown instead of a secret)
NAME_LIMIT: Final = 100
#: the longest URL and secret taken: sealed, they fit their columns (1000 and 255)
URL_LIMIT: Final = 500
SECRET_LIMIT: Final = 100
#: how a sealed value starts (a robot stored before sealing keeps its values in clear)
SEALED: Final = "sealed:"


@dataclass(frozen=True, slots=True)
class _Platform:
    """Where a kind of robot lives and what its webhook URL looks like."""

    hosts: tuple[str, ...]
    path: re.Pattern[str]
    key: str | None  # the query parameter holding the key (None: the key ends the path)
    example: str
    secret: re.Pattern[str] | None  # None: this kind is not signed
    secret_rule: Sentence = Sentence.ROBOT_SECRET_UNUSED  # what a bad secret is told


_PLATFORMS: Final[dict[Channel, _Platform]] = {
    Channel.WECOM: _Platform(
        ("qyapi.weixin.qq.com",),
        re.compile(r"^/cgi-bin/webhook/send$"),
        "key",
        "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=…",
        None,
    ),
    Channel.DINGTALK: _Platform(
        ("oapi.dingtalk.com",),
        re.compile(r"^/robot/send$"),
        "access_token",
        "https://oapi.dingtalk.com/robot/send?access_token=…",
        re.compile(r"^SEC[0-9a-f]{64}$"),
        Sentence.ROBOT_SECRET_DINGTALK,
    ),
    Channel.FEISHU: _Platform(
        ("open.feishu.cn", "open.larksuite.com"),
        re.compile(r"^/open-apis/bot/v2/hook/[A-Za-z0-9-]{8,100}$"),
        None,
        "https://open.feishu.cn/open-apis/bot/v2/hook/…",
        re.compile(r"^[A-Za-z0-9_-]{8,100}$"),
        Sentence.ROBOT_SECRET_FEISHU,
    ),
}
_KEY = re.compile(r"^[A-Za-z0-9_-]{8,200}$")


def masked_url(url: str) -> str:
    """A URL safe to show or log: scheme, host and path, query values and a hook key masked
    (robot keys live there)."""
    parts = urlsplit(url)
    query = "&".join(f"{kv.split('=', 1)[0]}=***" for kv in parts.query.split("&") if kv)
    path = parts.path
    # Feishu and Slack-style hooks carry the key as the last path segment.
    if "/hook/" in path:
        path = path.rsplit("/", 1)[0] + "/***"
    host = parts.hostname or ""
    if parts.port is not None:
        host += f":{parts.port}"
    return f"{parts.scheme}://{host}{path}" + (f"?{query}" if query else "")


def seal(sealer: Sealer, value: str) -> str:
    """``value`` as it is stored: sealed, marked `SEALED`."""
    return SEALED + sealer.seal(value)


def unseal(sealer: Sealer | None, stored: str) -> str:
    """A stored value back (SealBroken when this key did not seal it, or no key is given);
    one stored before sealing is returned as it is."""
    if not stored.startswith(SEALED):
        return stored
    if sealer is None:
        raise SealBroken("a group robot's URL or secret is sealed and no secret key was given")
    return sealer.open(stored.removeprefix(SEALED))


def opened(hook: GroupWebhook, sealer: Sealer | None) -> tuple[str, str | None]:
    """The robot's URL and signing secret in clear, to send with."""
    return unseal(sealer, hook.url), unseal(sealer, hook.secret) if hook.secret else None


def shown_url(hook: GroupWebhook) -> str:
    """What may be shown of the robot's URL (its key masked)."""
    if hook.url_shown or hook.url.startswith(SEALED):
        return hook.url_shown
    return masked_url(hook.url)


@dataclass(frozen=True, slots=True)
class RobotSpec:
    """A robot as an admin wants it; ``url`` / ``secret`` None keep the stored value."""

    name: str
    kind: str
    unit_id: int | None
    leadership: bool = False
    url: str | None = None
    secret: str | None = None
    clear_secret: bool = False
    steps: tuple[str, ...] = tuple(s.value for s in ROBOT_STEPS)
    active: bool = True


def parse_steps(text: str | Iterable[str]) -> tuple[str, ...]:
    """Steps written ``overdue,escalate`` (or given as a list), trimmed, blanks dropped."""
    items = text.split(",") if isinstance(text, str) else text
    return tuple(s.strip() for s in items if s and s.strip())


def steps_of(hook: GroupWebhook) -> tuple[StepKind, ...]:
    """The steps a robot receives (every step for a robot stored without a choice)."""
    if hook.steps is None:
        return ROBOT_STEPS
    return tuple(StepKind(s) for s in hook.steps.split(",") if s in StepKind.__members__.values())


def _url_problems(kind: Channel, url: str, extra_hosts: Sequence[str]) -> list[Problem]:
    platform = _PLATFORMS[kind]
    shape: Problem = (Sentence.ROBOT_URL_SHAPE, {"example": platform.example})
    if len(url) > URL_LIMIT or any(c.isspace() for c in url):
        return [shape]
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return [shape]
    host = (parts.hostname or "").lower()
    here = f"{host}:{port}" if port is not None else host
    extra = here in extra_hosts or host in extra_hosts
    if parts.scheme not in ("https", "http") or not host:
        return [shape]
    if not extra and parts.scheme != "https":
        return [(Sentence.ROBOT_URL_HTTPS, {})]
    if not extra and (host not in platform.hosts or port not in (None, 443)):
        expected = " / ".join(platform.hosts)
        return [(Sentence.ROBOT_URL_HOST, {"host": here, "expected": expected})]
    if parts.fragment or parts.username or not platform.path.match(parts.path):
        return [shape]
    query = parse_qs(parts.query, keep_blank_values=True)
    if platform.key is None:
        return [shape] if query else []
    keys = query.get(platform.key, [])
    if set(query) != {platform.key} or len(keys) != 1 or not _KEY.match(keys[0]):
        return [shape]
    return []


def _secret_problems(kind: Channel, secret: str) -> list[Problem]:
    platform = _PLATFORMS[kind]
    if platform.secret is None:
        return [(Sentence.ROBOT_SECRET_UNUSED, {})]
    if len(secret) > SECRET_LIMIT or not platform.secret.match(secret):
        return [(platform.secret_rule, {})]
    return []


async def get_robot(session: AsyncSession, robot_id: int) -> GroupWebhook:
    """The robot ``robot_id``, or NotFound."""
    hook = await session.get(GroupWebhook, robot_id)
    if hook is None:
        raise refusal(NotFound, Sentence.ROBOT_NOT_FOUND, id=robot_id)
    return hook


def robots_query() -> Select[GroupWebhook]:
    """Every robot in the lists' order: the leadership's first, then by unit code and name."""
    return (
        select(GroupWebhook)
        .outerjoin(Unit, Unit.id == GroupWebhook.unit_id)
        .order_by(Unit.code.is_not(None), Unit.code, GroupWebhook.name, GroupWebhook.id)
    )


async def list_robots(session: AsyncSession) -> list[GroupWebhook]:
    """Every robot, in `robots_query`'s order."""
    return list((await session.scalars(robots_query())).all())


async def save_robot(
    session: AsyncSession,
    *,
    robot_id: int | None,
    spec: RobotSpec,
    actor: Actor,
    clock: Clock,
    sealer: Sealer,
    extra_hosts: Sequence[str] = (),
) -> GroupWebhook:
    """Create (``robot_id`` None) or change a robot; every problem is reported at once and
    nothing is changed then. URL and secret are stored sealed; the audit event names what
    changed, never the URL or secret."""
    hook = await get_robot(session, robot_id) if robot_id is not None else None
    old_url, old_secret = opened(hook, sealer) if hook is not None else ("", None)
    problems: list[Problem] = []
    name = spec.name.strip()
    if not name:
        problems.append((Sentence.ROBOT_NAME_REQUIRED, {}))
    elif len(name) > NAME_LIMIT:
        problems.append((Sentence.ROBOT_NAME_TOO_LONG, {"max": NAME_LIMIT}))
    kind = Channel(spec.kind) if spec.kind in {k.value for k in KINDS} else None
    if kind is None:
        problems.append((Sentence.ROBOT_KIND, {}))
    url = (spec.url or "").strip() or old_url
    secret: str | None = (spec.secret or "").strip() or None
    if secret is None and not spec.clear_secret:
        secret = old_secret
    if kind is not None:
        if not url:
            problems.append((Sentence.ROBOT_URL_REQUIRED, {}))
        else:
            problems += _url_problems(kind, url, extra_hosts)
        if secret:
            problems += _secret_problems(kind, secret)
    if spec.leadership:
        unit_id = None
    elif spec.unit_id is None:
        unit_id = None
        problems.append((Sentence.ROBOT_UNIT_REQUIRED, {}))
    else:
        unit_id = spec.unit_id
        if await session.get(Unit, unit_id) is None:
            problems.append((Sentence.ROBOT_NO_UNIT, {"id": unit_id}))
    steps = parse_steps(spec.steps)
    known = {s.value for s in ROBOT_STEPS}
    problems += [(Sentence.ROBOT_STEP_UNKNOWN, {"step": s}) for s in steps if s not in known]
    if not steps:
        problems.append((Sentence.ROBOT_STEPS_REQUIRED, {}))
    if problems:
        raise refusals(ValidationFailed, problems)
    assert kind is not None
    created = hook is None
    if hook is None:
        hook = GroupWebhook(created_at=clock.now())
        session.add(hook)
    changes = apply_changes(
        hook,
        {
            "name": name,
            "kind": kind,
            "unit_id": unit_id,
            "scope": LEADERSHIP if spec.leadership else UNIT,
            "steps": ",".join(s.value for s in ROBOT_STEPS if s.value in steps),
            "active": spec.active,
        },
    )
    if url != old_url or not (hook.url or "").startswith(SEALED):
        hook.url, hook.url_shown = seal(sealer, url), masked_url(url)
        if url != old_url:
            changes["url"] = ["***" if old_url else None, masked_url(url)]
    if secret != old_secret or (secret and not (hook.secret or "").startswith(SEALED)):
        hook.secret = seal(sealer, secret) if secret else None
        if secret != old_secret:
            changes["secret"] = ["***" if old_secret else None, "***" if secret else None]
    await session.flush()
    if created or changes:
        record(
            session,
            clock=clock,
            actor=actor,
            entity=AuditEntity.GROUP_ROBOT,
            entity_id=hook.id,
            action=AuditAction.CREATE if created else AuditAction.UPDATE,
            detail={"changes": _plain(changes)},
        )
    return hook


def _plain(changes: dict[str, list[object]]) -> dict[str, list[object]]:
    """The changes as JSON can keep them (enum members as their values)."""
    return {
        k: [str(v) if isinstance(v, Channel) else v for v in pair] for k, pair in changes.items()
    }


async def remove_robot(
    session: AsyncSession, *, robot_id: int, actor: Actor, clock: Clock
) -> GroupWebhook:
    """Delete a robot (its sent messages stay in the delivery log; unsent ones are dropped
    at delivery, which re-checks the robot)."""
    hook = await get_robot(session, robot_id)
    record(
        session,
        clock=clock,
        actor=actor,
        entity=AuditEntity.GROUP_ROBOT,
        entity_id=hook.id,
        action=AuditAction.DELETE,
        detail={"name": hook.name, "kind": str(hook.kind), "url": shown_url(hook)},
    )
    await session.delete(hook)
    await session.flush()
    return hook


def record_test(
    session: AsyncSession,
    *,
    hook: GroupWebhook,
    accepted: bool,
    answer: str,
    actor: Actor,
    clock: Clock,
) -> None:
    """Audit a test message sent to ``hook`` and the robot's answer."""
    record(
        session,
        clock=clock,
        actor=actor,
        entity=AuditEntity.GROUP_ROBOT,
        entity_id=hook.id,
        action=AuditAction.TEST_MESSAGE,
        detail={"accepted": accepted, "answer": answer[:500]},
    )


@dataclass(frozen=True, slots=True)
class RobotBook:
    """The active robots a batch of ladder steps may reach: by unit, and the leadership's."""

    by_unit: dict[int, list[tuple[int, Channel, frozenset[str]]]]
    leadership: list[tuple[int, Channel, frozenset[str]]]

    @classmethod
    async def load(cls, session: AsyncSession, unit_ids: Iterable[int]) -> RobotBook:
        """The robots of ``unit_ids`` and the leadership's, in one query."""
        wanted = sorted(set(unit_ids))
        by_unit: dict[int, list[tuple[int, Channel, frozenset[str]]]] = defaultdict(list)
        leadership: list[tuple[int, Channel, frozenset[str]]] = []
        if not wanted:
            return cls(by_unit, leadership)
        rows = await session.execute(
            select(GroupWebhook.id, GroupWebhook.unit_id, GroupWebhook.kind, GroupWebhook.scope,
                   GroupWebhook.steps)
            .where(
                GroupWebhook.active,
                or_(
                    GroupWebhook.unit_id.in_(wanted),
                    GroupWebhook.unit_id.is_(None) & (GroupWebhook.scope == LEADERSHIP),
                ),
            )
            .order_by(GroupWebhook.id)
        )  # fmt: skip
        for hook_id, unit_id, kind, _scope, steps in rows:
            hears = _STEP_VALUES if steps is None else frozenset(steps.split(","))
            entry = (hook_id, kind, hears)
            (by_unit[unit_id] if unit_id is not None else leadership).append(entry)
        return cls(by_unit, leadership)

    def of(self, unit_id: int, kind: str) -> list[tuple[int, Channel]]:
        """(robot id, kind) of every robot that hears message ``kind`` of ``unit_id``: a
        ladder step if the robot receives it; another message (a bulletin) the unit's robots."""
        if kind not in _STEP_VALUES:
            return [(hook_id, channel) for hook_id, channel, _ in self.by_unit.get(unit_id, ())]
        hooks = [*self.by_unit.get(unit_id, ()), *self.leadership]
        return [(hook_id, channel) for hook_id, channel, hears in hooks if kind in hears]
