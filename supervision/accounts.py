"""People's web credentials: argon2 password hashes and the first admin."""

from __future__ import annotations

from typing import Final

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from models import Person, Role
from supervision.emails import normal_email
from supervision.errors import ValidationFailed

#: The hasher of new passwords in production: argon2-cffi's defaults (argon2id, RFC 9106's
#: low-memory profile: t=3, m=64 MiB, p=4); ``tests/test_people.py`` pins them.
PRODUCTION_HASHER: Final = PasswordHasher()
_hasher = PRODUCTION_HASHER
MIN_PASSWORD_LENGTH = 8


def use_hasher(hasher: PasswordHasher) -> PasswordHasher:
    """Hash new passwords with ``hasher`` from now on; returns the one it replaces.

    Only for tests that are not about hashing (a cheap hasher saves ~0.2 s of CPU per hash):
    verification reads the parameters from each stored hash, so every hash still verifies."""
    global _hasher
    previous, _hasher = _hasher, hasher
    return previous


def hash_password(password: str) -> str:
    """An argon2id hash of ``password``."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValidationFailed(f"password must be at least {MIN_PASSWORD_LENGTH} characters")
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """True if ``password`` matches; False for no hash or a wrong password."""
    if not password_hash:
        return False
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


async def ensure_admin(
    session: AsyncSession, *, email: str, password: str, name: str = "管理员"
) -> Person:
    """Create the admin with this email, or reset its password and make sure it is admin."""
    email = normal_email(email)
    person = await session.scalar(select(Person).where(Person.email == email))
    if person is None:
        person = Person(name=name, email=email, locale="zh")
        session.add(person)
    person.password_hash = hash_password(password)
    person.set_roles(person.roles | {Role.ADMIN})
    await session.flush()
    return person
