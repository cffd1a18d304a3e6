"""``duban invite EMAIL [--wecom]`` (a one-time Telegram or WeCom link) and ``duban bot``."""

from __future__ import annotations

import argparse
import logging

from sqlalchemy import select

from duban.commands import CliError
from duban.runtime import Runtime, stop_event
from models import Channel, Person
from notifier.wecom.api import authorize_link
from supervision.clock import local_today
from supervision.invites import create_invite, deep_link, queue_invite_email
from supervision.sealing import Sealer
from web.wecom_binding import BIND_PATH

log = logging.getLogger("duban")

# The bot (aiogram) is imported inside the handlers: it takes seconds to import, and
# `duban --help` and every other command should not pay for it.


async def _bot_username(rt: Runtime) -> str:
    """The bot's @username: from the settings, else asked of Telegram with the token."""
    if rt.settings.telegram.bot_username:
        return rt.settings.telegram.bot_username.lstrip("@")
    if rt.settings.telegram.bot_token is None:
        raise CliError(
            "set DUBAN_TELEGRAM_BOT_USERNAME (or DUBAN_TELEGRAM_TOKEN) to make invite links"
        )
    from bot import create_bot
    from duban.chat import bot_config

    bot = create_bot(bot_config(rt.settings))
    try:
        me = await bot.get_me()
    finally:
        await bot.session.close()
    if not me.username:
        raise CliError("the bot has no username; set DUBAN_TELEGRAM_BOT_USERNAME")
    return me.username


async def invite(args: argparse.Namespace, rt: Runtime) -> int:
    """Create a one-time invite for a person and print (and e-mail) the link: the bot's deep
    link, or with ``--wecom`` WeCom's web authorization link (to open inside WeCom)."""
    from duban.process import wecom_app_config  # the process wiring: not for every command

    email = str(args.email).strip().lower()
    wecom = wecom_app_config(rt.settings) if getattr(args, "wecom", False) else None
    if getattr(args, "wecom", False) and wecom is None:
        raise CliError(
            "set DUBAN_WECOM_CORP_ID, DUBAN_WECOM_AGENT_ID and DUBAN_WECOM_SECRET for WeCom links"
        )
    username = None if wecom is not None else await _bot_username(rt)
    async with rt.sessions() as session, session.begin():
        person = await session.scalar(select(Person).where(Person.email == email))
        if person is None:
            raise CliError(f"no person with e-mail {email}")
        app = Channel.WECOM_APP if wecom is not None else Channel.TELEGRAM
        new = await create_invite(session, person=person, clock=rt.clock, channel=app)
        if wecom is not None:
            link = authorize_link(
                wecom,
                redirect_uri=rt.settings.web.base_url.rstrip("/") + BIND_PATH,
                state=new.token,
                oauth_base=rt.settings.wecom.oauth_base,
            )
        else:
            link = deep_link(username or "", new.token)
        mailed = False
        if rt.settings.mail.smtp is not None:
            mailed = await queue_invite_email(
                session,
                new=new,
                link=link,
                sealer=Sealer(rt.settings.security.secret_key.get_secret_value()),
                clock=rt.clock,
                tz=rt.settings.office.tz,
            )
        name = person.name
    today = local_today(rt.clock, rt.settings.office.tz)
    if mailed:
        print(
            f"invite for {name} <{email}> queued for e-mail ({today.isoformat()}, valid 7 days; "
            "sent by the running service or `duban deliver --pending`)"
        )
    else:
        print("mail is not configured (DUBAN_SMTP_URL); send this link to the person yourself")
    print(link)
    return 0


async def run_bot(args: argparse.Namespace, rt: Runtime) -> int:
    """Run the bot with long polling until interrupted."""
    rt.settings.security.require_secret_key()
    from duban.chat import bot_config, open_chat

    bot_config(rt.settings)
    if rt.settings.telegram.webhook_url:
        raise CliError(
            "DUBAN_TELEGRAM_WEBHOOK_URL is set: updates arrive through the web app (duban run); "
            "unset it to use long polling"
        )
    stop = stop_event()
    async with open_chat(rt, polling=True):
        await stop.wait()
    return 0


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``invite`` and ``bot``."""
    p = subparsers.add_parser(
        "invite", help="create a one-time invite link (Telegram, or WeCom) for a person"
    )
    p.add_argument("email", help="the person's e-mail address")
    p.add_argument(
        "--wecom", action="store_true", help="a link to open inside WeCom (binds the WeCom account)"
    )
    p.set_defaults(handler=invite)
    p = subparsers.add_parser("bot", help="run the Telegram bot with long polling")
    p.set_defaults(handler=run_bot)
