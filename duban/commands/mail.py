"""``duban mail poll [--once]``: read e-mail replies from the office mailbox (IMAP)."""

from __future__ import annotations

import argparse

from duban.commands import CliError
from duban.runtime import Runtime, stop_event


async def poll(args: argparse.Namespace, rt: Runtime) -> int:
    """Read replies: one pass that prints what it filed (``--once``), or until interrupted."""
    # Imported here: `duban --help` should not load the IMAP client and the notifier.
    from duban.mailbox import mail_reader
    from notifier.mailbox import ImapError

    reader = mail_reader(rt)
    if reader is None:
        raise CliError(
            "setting DUBAN_IMAP_URL is not set (e.g. imaps://user:password@mail.example.gov.cn"
            ":993/INBOX, user and password URL-encoded)"
        )
    if not args.once:
        rt.settings.security.require_secret_key()  # the signed reply addresses depend on it
        await reader.run(stop_event(), lambda result: print(result.line(), flush=True))
        return 0
    try:
        async with reader:
            results = await reader.poll_once()
    except ImapError as exc:
        raise CliError(str(exc)) from None
    for result in results:
        print(result.line())
    filed = sum(1 for r in results if r.outcome == "filed" and not r.duplicate)
    print(f"{len(results)} message(s) read from {reader.config.where()}, {filed} filed")
    return 0


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``mail poll``."""
    p = subparsers.add_parser("mail", help="e-mail replies from the office mailbox (IMAP)")
    sub = p.add_subparsers(dest="mail_command", metavar="SUBCOMMAND", required=True)
    q = sub.add_parser("poll", help="read replies and file them as reports")
    q.add_argument(
        "--once", action="store_true", help="read the unseen messages once, print them, exit"
    )
    q.set_defaults(handler=poll)
