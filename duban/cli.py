"""The ``duban`` command line. Sub-commands live in ``duban/commands/``, one module per group.

Errors exit non-zero with one clear line on stderr, never a traceback.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import logging
import pkgutil
import sys
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Protocol

from sqlalchemy.exc import OperationalError, SQLAlchemyError

import duban.commands
from duban.commands import CliError
from duban.runtime import Runtime, open_runtime
from duban.settings import SettingsError, load_settings
from supervision.errors import DomainError

Handler = Callable[[argparse.Namespace, Runtime], Awaitable[int]]


class CommandModule(Protocol):
    """A module of sub-commands."""

    def register(self, subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None: ...


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The parser with every sub-command registered.

    With ``command`` (the word after ``duban``) and the command module of that name (or of
    :data:`_HOMES`) which registers it, only that module is imported: the modules import what
    their commands use (alembic, openpyxl, the importers, the web app, aiogram), which took
    seconds of a two-second ``duban bulletin``. ``--help`` and every other command get them all.
    """
    names = sorted(m.name for m in pkgutil.iter_modules(duban.commands.__path__))
    home = _HOMES.get(command or "", command)
    if home in names:
        parser, subparsers = _parser()
        _module(home).register(subparsers)
        if command in subparsers.choices:
            return parser
    parser, subparsers = _parser()
    for name in names:
        _module(name).register(subparsers)
    return parser


#: the commands registered by a module of another name (a stale entry only costs the
#: import of every module, as for a command missing here)
_HOMES = {
    "init": "core",
    "run": "core",
    "import": "data",
    "items": "data",
    "invite": "bot",
    "worker": "deliver",
}


def _parser() -> tuple[argparse.ArgumentParser, argparse._SubParsersAction[Any]]:
    parser = argparse.ArgumentParser(
        prog="duban", description="Duban (督办): follow-up service for a supervision office."
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug output")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    return parser, subparsers


def _module(name: str) -> CommandModule:
    module: CommandModule = importlib.import_module(f"duban.commands.{name}")
    return module


def _command_word(argv: Sequence[str]) -> str | None:
    """The sub-command's name: the first word that is not an option."""
    return next((a for a in argv if not a.startswith("-")), None)


async def _dispatch(args: argparse.Namespace) -> int:
    settings = load_settings()
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else settings.logging.level,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    handler: Handler = args.handler
    async with open_runtime(settings) as runtime:
        return await handler(args, runtime)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``duban`` console script."""
    words = sys.argv[1:] if argv is None else list(argv)
    parser = build_parser(_command_word(words))
    args = parser.parse_args(words)
    try:
        return asyncio.run(_dispatch(args))
    except KeyboardInterrupt:
        return 130
    except (SettingsError, DomainError, CliError) as exc:
        print(f"duban: error: {exc}", file=sys.stderr)
        return 2 if isinstance(exc, SettingsError | CliError) else 1
    except OperationalError as exc:
        print(f"duban: error: database unavailable: {exc.orig}", file=sys.stderr)
        return 1
    except SQLAlchemyError as exc:
        print(f"duban: error: database error: {exc.__class__.__name__}: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:
        print(
            f"duban: error: {exc.strerror or exc}: {exc.filename or ''}".rstrip(": "),
            file=sys.stderr,
        )
        return 1


if __name__ == "__main__":
    sys.exit(main())
