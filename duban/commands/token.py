"""``duban token create --email E --name N`` (prints the token once), ``revoke ID``, ``list``."""

from __future__ import annotations

import argparse

from sqlalchemy import func, select

from duban.commands import CliError
from duban.runtime import Runtime
from models import ApiToken, Person
from supervision.audit import Actor
from web.api_tokens import create_token, revoke_token


async def create(args: argparse.Namespace, rt: Runtime) -> int:
    """Create a token for the person with ``--email`` and print it once."""
    email = args.email.strip().lower()
    async with rt.sessions() as session, session.begin():
        person = await session.scalar(select(Person).where(func.lower(Person.email) == email))
        if person is None:
            raise CliError(f"no person with email {email}")
        created = await create_token(
            session,
            person=person,
            name=args.name,
            actor=Actor.system("cli"),
            clock=rt.clock,
            valid_days=args.days,
        )
    print(f"token #{created.token.id} for {person.name} <{email}>: {created.secret}")
    if created.token.expires_at is not None:
        print(f"valid until {created.token.expires_at.isoformat(timespec='minutes')}")
    print("store it now: it is shown only once and cannot be recovered")
    return 0


async def revoke(args: argparse.Namespace, rt: Runtime) -> int:
    """Revoke a token by id."""
    async with rt.sessions() as session, session.begin():
        token = await revoke_token(session, args.id, actor=Actor.system("cli"), clock=rt.clock)
    print(f"token #{token.id} ({token.name}) revoked")
    return 0


async def list_tokens(args: argparse.Namespace, rt: Runtime) -> int:
    """List tokens (never their values)."""
    async with rt.sessions() as session:
        rows = (
            await session.execute(
                select(ApiToken, Person.email)
                .join(Person, Person.id == ApiToken.person_id)
                .order_by(ApiToken.id)
            )
        ).all()
    for token, email in rows:
        used = token.last_used_at.isoformat(timespec="seconds") if token.last_used_at else "never"
        state = "revoked" if token.revoked_at else "active"
        if token.expires_at is not None:
            state = "expired" if token.expires_at <= rt.clock.now() and state == "active" else state
            until = f"  expires: {token.expires_at.isoformat(timespec='minutes')}"
        else:
            until = ""
        print(f"#{token.id}  {state:7}  {email}  {token.name}  last used: {used}{until}")
    if not rows:
        print("no API tokens")
    return 0


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``token create|revoke|list``."""
    p = subparsers.add_parser("token", help="API tokens for /api/v1")
    sub = p.add_subparsers(dest="token_command", metavar="ACTION", required=True)
    c = sub.add_parser("create", help="create a token acting as a person; printed once")
    c.add_argument("--email", required=True, help="the person the token acts for")
    c.add_argument("--name", required=True, help="what the token is for, e.g. 报表系统")
    c.add_argument(
        "--days", type=int, default=None, help="valid for this many days (default: until revoked)"
    )
    c.set_defaults(handler=create)
    r = sub.add_parser("revoke", help="revoke a token by id")
    r.add_argument("id", type=int)
    r.set_defaults(handler=revoke)
    ls = sub.add_parser("list", help="list tokens (without their values)")
    ls.set_defaults(handler=list_tokens)
