"""``duban init`` and ``duban run``."""

from __future__ import annotations

import argparse
import asyncio
import logging

from duban.commands import CliError
from duban.runtime import Runtime, stop_event
from models.migrate import upgrade
from supervision.accounts import ensure_admin
from supervision.policy import ensure_default_policies

log = logging.getLogger("duban")


async def init(args: argparse.Namespace, rt: Runtime) -> int:
    """Bring the database to the latest migration and seed defaults."""
    await upgrade(rt.engine)
    async with rt.sessions() as session, session.begin():
        created = await ensure_default_policies(session)
        admin = None
        if args.admin_email:
            if not args.admin_password:
                raise CliError("--admin-password is required with --admin-email")
            admin = await ensure_admin(
                session, email=args.admin_email, password=args.admin_password
            )
    print(f"database ready ({rt.engine.url.render_as_string(hide_password=True)})")
    if created:
        print(f"created {created} default escalation policies")
    if admin is not None:
        print(f"admin account: {admin.email}")
    return 0


async def run(args: argparse.Namespace, rt: Runtime) -> int:
    """Serve everything from one process until interrupted."""
    rt.settings.security.require_secret_key()
    # Imported here: the web app, bot and notifier take seconds to import, and `duban init`
    # and `duban --help` should not pay for them.
    from duban.mailbox import run_mail_reader
    from duban.process import run_notifier, serve_web

    await upgrade(rt.engine)
    async with rt.sessions() as session, session.begin():
        await ensure_default_policies(session)
    stop = stop_event()
    if rt.settings.single_process:
        await asyncio.gather(serve_web(rt, stop), run_notifier(rt, stop), run_mail_reader(rt, stop))
    else:
        log.info("DUBAN_REDIS_URL is set: run `duban worker` to scan and deliver messages")
        await asyncio.gather(serve_web(rt, stop), run_mail_reader(rt, stop))
    return 0


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``init`` and ``run``."""
    p = subparsers.add_parser("init", help="create or upgrade the database; optionally an admin")
    p.add_argument("--admin-email")
    p.add_argument("--admin-password")
    p.set_defaults(handler=init)
    p = subparsers.add_parser("run", help="run the whole service in one process")
    p.set_defaults(handler=run)
