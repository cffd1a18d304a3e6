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

from models import Assignment, Extension, Notification, Person, Report
from supervision.clock import Clock
from supervision.errors import NotAllowed, ValidationFailed
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
        raise NotAllowed("您的邮箱地址未在督办系统登记，不能以邮件审核或签发 (not allowed)")
    verdict, comment = decision_of(text)
    payload = request.payload or {}
    if request.kind == "signoff_request":
        if verdict is not True:
            raise ValidationFailed("签发请在回复的第一行写“签发”或“同意”。退回请与承办人联系。")
        report = await _report(session, payload, assignment)
        await sign_off(session, report=report, principal=person, clock=clock)
        return Decided(MailCommand.SIGN_OFF, report, None)
    if verdict is None:
        raise ValidationFailed(
            "审核请在回复的第一行写“同意”或“退回”，后面写审核意见（退回须写明意见）。"
        )
    if payload.get("extension_id") is not None:
        extension = await session.get(Extension, int(payload["extension_id"]))
        if extension is None or extension.assignment_id != assignment.id:
            raise ValidationFailed("该延期申请已不存在。")
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
        raise ValidationFailed("该办结报告已不存在。")
    return report
