"""E-mail addresses where they enter Duban (import, web form, ``duban init``, demo) and where
they leave it (the e-mail channel): one check and one stored form. Imports no Duban module
but ``supervision.errors``.

Internationalised addresses (``张三@例子.中国``) are allowed: SMTPUTF8 servers take them and
Chinese offices use them. Deliverability (DNS) is not checked: an office's intranet domain
may not resolve from where Duban runs.
"""

from __future__ import annotations

from email_validator import EmailNotValidError, validate_email

from supervision.errors import ValidationFailed


class BadEmail(ValidationFailed):
    """Text that is not an e-mail address; the message says which text and why."""


def normal_email(text: str) -> str:
    """``text`` as Duban stores an address (trimmed, Unicode NFC, lower case), or BadEmail.

    Lower case because addresses are unique regardless of case and found by their lower form.
    """
    given = text.strip()
    try:
        checked = validate_email(given, check_deliverability=False, allow_smtputf8=True)
    except EmailNotValidError as exc:
        raise BadEmail(_message(given, str(exc))) from None
    return checked.normalized.lower()


def _message(given: str, reason: str) -> str:
    if "@" not in given:  # the reason would only repeat it
        return f"{given!r} is not an email address"
    reason = reason.rstrip(".")
    return f"{given!r} is not an email address: {reason[:1].lower()}{reason[1:]}"
