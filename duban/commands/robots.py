"""``duban robots list|add|set|remove|test``: group robots (群机器人) from the terminal.

The rules are `supervision.robots`'; ``test`` sends through the robot's real channel
(`notifier.robot_probe`). A signing secret is read from standard input (``--secret-stdin``),
never from the command line, and no command prints a URL's key or a secret.
"""

from __future__ import annotations

import argparse
import sys

from sqlalchemy import select

from duban.commands import CliError
from duban.runtime import Runtime
from duban.table import format_table
from models import Channel, StepKind, Unit
from notifier.robot_probe import send_test
from supervision.audit import Actor
from supervision.labels import label_of, labels
from supervision.robots import (
    ROBOT_STEPS,
    RobotSpec,
    get_robot,
    list_robots,
    parse_steps,
    remove_robot,
    save_robot,
    shown_url,
    steps_of,
)
from supervision.sealing import Sealer
from web.i18n import translate

CLI = Actor.system("cli")


async def _unit_id(rt: Runtime, code: str | None) -> int | None:
    if code is None:
        return None
    async with rt.sessions() as session:
        found = await session.scalar(select(Unit.id).where(Unit.code == code))
    if found is None:
        raise CliError(f"no unit with code {code}")
    return found


def _sealer(rt: Runtime) -> Sealer:
    """The sealer of the services' secret key (robots are sealed with the key that sends)."""
    rt.settings.security.require_secret_key()
    return Sealer(rt.settings.security.secret_key.get_secret_value())


def _secret(args: argparse.Namespace) -> str | None:
    if not args.secret_stdin:
        return None
    return sys.stdin.readline().strip() or None


async def list_cmd(args: argparse.Namespace, rt: Runtime) -> int:
    """Print every robot, URLs masked, secrets only as set or not."""
    async with rt.sessions() as session:
        robots = await list_robots(session)
        units = {u.id: u for u in (await session.scalars(select(Unit))).all()}
    lang = rt.settings.office.locale  # the office's language, as every command speaks
    steps = labels(StepKind, lang)
    rows = [
        [
            f"#{h.id}",
            h.name,
            label_of(Channel, h.kind, lang),
            units[h.unit_id].code if h.unit_id in units else translate("robots.leadership", lang),
            shown_url(h),
            translate("robots.secret_set", lang, mask="").strip() if h.secret else "-",
            ("、" if lang == "zh" else ", ").join(steps[s] for s in steps_of(h)),
            translate("robots.active" if h.active else "robots.inactive", lang),
        ]
        for h in robots
    ]
    if not rows:
        print("no group robots")
        return 0
    header = ["id", "name", "kind", "unit", "url", "secret", "steps", "state"]
    print(format_table(header, rows))
    return 0


async def add(args: argparse.Namespace, rt: Runtime) -> int:
    """Set up a robot."""
    spec = RobotSpec(
        name=args.name,
        kind=args.kind,
        unit_id=await _unit_id(rt, args.unit),
        leadership=args.leadership,
        url=args.url,
        secret=_secret(args),
        steps=parse_steps(args.steps) if args.steps else tuple(s.value for s in ROBOT_STEPS),
        active=not args.disabled,
    )
    async with rt.sessions() as session, session.begin():
        hook = await save_robot(
            session,
            robot_id=None,
            spec=spec,
            actor=CLI,
            clock=rt.clock,
            sealer=_sealer(rt),
            extra_hosts=rt.settings.notifier.robot_host_list,
        )
    print(f"group robot #{hook.id} {hook.name} saved: {shown_url(hook)}")
    return 0


async def set_cmd(args: argparse.Namespace, rt: Runtime) -> int:
    """Change a robot; what is not given keeps its value (URL and secret included)."""
    async with rt.sessions() as session:
        hook = await get_robot(session, args.id)
        unit_id, leadership = hook.unit_id, hook.unit_id is None
        name, kind, active = hook.name, str(hook.kind), hook.active
        steps = tuple(s.value for s in steps_of(hook))
    if args.unit is not None:
        unit_id, leadership = await _unit_id(rt, args.unit), False
    if args.leadership:
        unit_id, leadership = None, True
    spec = RobotSpec(
        name=args.name if args.name is not None else name,
        kind=args.kind if args.kind is not None else kind,
        unit_id=unit_id,
        leadership=leadership,
        url=args.url,
        secret=_secret(args),
        clear_secret=args.clear_secret,
        steps=parse_steps(args.steps) if args.steps is not None else steps,
        active=active if args.enabled is None else args.enabled,
    )
    async with rt.sessions() as session, session.begin():
        hook = await save_robot(
            session,
            robot_id=args.id,
            spec=spec,
            actor=CLI,
            clock=rt.clock,
            sealer=_sealer(rt),
            extra_hosts=rt.settings.notifier.robot_host_list,
        )
    print(f"group robot #{hook.id} {hook.name} saved")
    return 0


async def remove(args: argparse.Namespace, rt: Runtime) -> int:
    """Remove a robot."""
    async with rt.sessions() as session, session.begin():
        hook = await remove_robot(session, robot_id=args.id, actor=CLI, clock=rt.clock)
    print(f"group robot #{args.id} {hook.name} removed")
    return 0


async def test(args: argparse.Namespace, rt: Runtime) -> int:
    """Send the test message; print the robot's answer (exit 1 when it refused)."""
    outcome = await send_test(
        rt.sessions,
        robot_id=args.id,
        actor_id=None,
        clock=rt.clock,
        sealer=_sealer(rt),
        office=rt.settings.office.name,
    )
    print(outcome.said(rt.settings.office.locale))
    return 0 if outcome.accepted else 1


def _common(p: argparse.ArgumentParser, *, new: bool) -> None:
    p.add_argument("--name", required=new, help="what the group is, e.g. 发改委工作群")
    p.add_argument("--kind", required=new, choices=["wecom", "dingtalk", "feishu"])
    p.add_argument("--url", required=new, help="the webhook URL the platform gave")
    owner = p.add_mutually_exclusive_group(required=new)
    owner.add_argument("--unit", help="the code of the unit whose group it is")
    owner.add_argument(
        "--leadership", action="store_true", help="the leadership group: hears every unit"
    )
    p.add_argument(
        "--steps", help="the steps it receives, e.g. overdue,escalate (default: every step)"
    )
    p.add_argument(
        "--secret-stdin",
        action="store_true",
        help="read the DingTalk / Feishu signing secret from standard input",
    )


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``robots list|add|set|remove|test``."""
    p = subparsers.add_parser("robots", help="group robots (WeCom, DingTalk, Feishu)")
    sub = p.add_subparsers(dest="robots_command", metavar="ACTION", required=True)
    ls = sub.add_parser("list", help="list robots (URLs masked, secrets never shown)")
    ls.set_defaults(handler=list_cmd)
    a = sub.add_parser("add", help="set up a robot")
    _common(a, new=True)
    a.add_argument("--disabled", action="store_true", help="save it switched off")
    a.set_defaults(handler=add)
    s = sub.add_parser("set", help="change a robot; what is not given keeps its value")
    s.add_argument("id", type=int)
    _common(s, new=False)
    s.add_argument("--clear-secret", action="store_true", help="remove the signing secret")
    state = s.add_mutually_exclusive_group()
    state.add_argument("--enable", dest="enabled", action="store_true", default=None)
    state.add_argument("--disable", dest="enabled", action="store_false")
    s.set_defaults(handler=set_cmd)
    r = sub.add_parser("remove", help="remove a robot")
    r.add_argument("id", type=int)
    r.set_defaults(handler=remove)
    t = sub.add_parser("test", help="send a test message and print the robot's answer")
    t.add_argument("id", type=int)
    t.set_defaults(handler=test)
