"""``duban demo``: load the demo office, units, people and items (idempotent)."""

from __future__ import annotations

import argparse

from duban.demo import load_demo
from duban.runtime import Runtime


async def demo(args: argparse.Namespace, rt: Runtime) -> int:
    """Load the demo data and print what is there."""
    async with rt.sessions() as session, session.begin():
        summary = await load_demo(session, clock=rt.clock, tz=rt.settings.office.tz)
    for line in summary.lines():
        print(line)
    return 0


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``demo``."""
    p = subparsers.add_parser(
        "demo", help="load a demo office: units, people, items (running it again changes nothing)"
    )
    p.set_defaults(handler=demo)
