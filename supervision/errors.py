"""Domain errors: each carries a message fit to show the person who caused it."""

from __future__ import annotations

from collections.abc import Callable


class DomainError(Exception):
    """A rule was broken; nothing was changed.

    ``said``: when the message is made of catalogue sentences (`supervision.labels.refusal`,
    `refusals`), how to say it in a language, so that each edge says it in its reader's.
    """

    said: Callable[[str | None], str] | None = None


class InvalidTransition(DomainError):
    """A state change that the lifecycle does not allow."""


class NotFound(DomainError):
    """The record does not exist, or the actor may not know that it does."""


class NotAllowed(DomainError):
    """The actor may not do this."""


class ValidationFailed(DomainError):
    """Input that cannot be accepted; ``errors`` lists every problem found."""

    def __init__(self, message: str, errors: list[str] | None = None) -> None:
        super().__init__(message)
        self.errors = errors or [message]
