"""Deciding by e-mail: a principal signs off (签发), the office approves or returns (同意/退回).

A reply to a sign-off or review request e-mail (``signoff_request`` / ``review_request``
outbox rows, which name the report or extension) goes through the same use-cases as the
bot's buttons (`sign_off`, `decide_completion`, `decide_extension`); they check who may
decide. Imports only `models/` and `supervision/`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from sqlalchemy.ext.asyncio import AsyncSession

from models import Assignment, Decision, Extension, Notification, Person, Report
from supervision.clock import Clock
from supervision.errors import NotAllowed, ValidationFailed
from supervision.labels import Button, Sentence, label, refusal
from supervision.mail_parsing import MailCommand, decision_of
from supervision.requests import decide_completion, decide_extension, sign_off

__all__ = ["DECISION_KINDS", "Decided", "decide_by_mail"]

#: The outbox kinds whose e-mails are answered with a decision rather than a report.
DECISION_KINDS: Final = frozenset({"review_request", "signoff_request"})


@dataclass(frozen=True, slots=True)
class Decided:
    """What a decision by e-mail changed (the report or extension it was on)."""

    command: MailCommand
    report: Report | None
    extension: Extension | None


async def decide_by_mail(
    session: AsyncSession,
    *,
    request: Notification,
    assignment: Assignment,
    person: Person | None,
    text: str,
    clock: Clock,
) -> Decided:
    """Apply the decision written in ``text`` to what ``request`` asked; DomainError if the
    text holds none, the person may not decide, or it was decided already."""
    if person is None:
        raise refusal(NotAllowed, Sentence.MAIL_DECIDER_NOT_REGISTERED)
    verdict, comment = decision_of(text)
    payload = request.payload or {}
    if request.kind == "signoff_request":
        if verdict is not True:
            raise refusal(
                ValidationFailed,
                Sentence.MAIL_SIGNOFF_WORD,
                sign_off=label(Button.SIGN_OFF),
                approve=label(Decision.APPROVE),
            )
        report = await _report(session, payload, assignment)
        await sign_off(session, report=report, principal=person, clock=clock)
        return Decided(MailCommand.SIGN_OFF, report, None)
    if verdict is None:
        raise refusal(
            ValidationFailed,
            Sentence.MAIL_REVIEW_WORD,
            approve=label(Decision.APPROVE),
            reject=label(Decision.REJECT),
        )
    if payload.get("extension_id") is not None:
        extension = await session.get(Extension, int(payload["extension_id"]))
        if extension is None or extension.assignment_id != assignment.id:
            raise refusal(ValidationFailed, Sentence.MAIL_EXTENSION_GONE)
        await decide_extension(
            session,
            extension=extension,
            reviewer=person,
            approve=verdict,
            comment=comment,
            clock=clock,
        )
        return Decided(MailCommand.REVIEW, None, extension)
    report = await _report(session, payload, assignment)
    await decide_completion(
        session, report=report, reviewer=person, approve=verdict, comment=comment, clock=clock
    )
    return Decided(MailCommand.REVIEW, report, None)


async def _report(
    session: AsyncSession, payload: dict[str, object], assignment: Assignment
) -> Report:
    raw = payload.get("report_id")
    report = await session.get(Report, int(str(raw))) if raw is not None else None
    if report is None or report.assignment_id != assignment.id:
        raise refusal(ValidationFailed, Sentence.MAIL_REPORT_GONE)
    return report
