"""E-mail delivery against a real SMTP server on 127.0.0.1 (aiosmtpd): multipart bodies,
stable Message-IDs, threading per item, 4xx/5xx mapping, the server going down and back."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import replace
from datetime import timedelta
from email import message_from_bytes
from email.header import decode_header, make_header

import pytest
from aiosmtpd.smtp import AuthResult
from sqlalchemy import select

from models import DeliveryAttempt, Notification
from notifier.channels.base import ChannelRegistry, OutgoingMessage, PermanentError, TransientError
from notifier.channels.email import EmailChannel, mail_domain, message_id_for
from notifier.config import MailConfig
from notifier.delivery import Deliverer, Outcome
from notifier.templating import Renderer
from testing.notifier_support import (
    MAIL_FROM,
    SmtpServer,
    free_port,
    limiter_for,
    options,
    registry,
    reminder,
)

ADDRESS = "wang@example.gov.cn"


@pytest.fixture
def smtp():
    server = SmtpServer().start()
    yield server
    server.stop()


def run(sessions, nid, channels, clock):
    return Deliverer(
        sessions,
        channels=channels,
        renderer=Renderer(),
        clock=clock,
        limiter=limiter_for(clock),
        options=options(),
    ).deliver(nid)


async def row(sessions, nid) -> Notification:
    async with sessions() as s:
        return await s.get_one(Notification, nid)


async def test_multipart_with_message_id_and_threading(sessions, clock, smtp):
    channels = registry(mail=smtp.config(), clock=clock)
    case = await reminder(sessions, clock, channels=("email",), email=ADDRESS, kind="remind")
    first = case.ids[0]
    assert (await run(sessions, first, channels, clock)).outcome == Outcome.SENT
    clock.advance(timedelta(days=4))
    await reminder(sessions, clock, case=case, channels=("email",), kind="urge", occurrence="0")
    second = case.ids[0]
    assert (await run(sessions, second, channels, clock)).outcome == Outcome.SENT

    one, two = smtp.sink.messages
    assert one["Message-ID"] == f"<notification-{first}@office.example.gov.cn>"
    assert two["Message-ID"] == f"<notification-{second}@office.example.gov.cn>"
    assert one["In-Reply-To"] is None
    assert two["In-Reply-To"] == one["Message-ID"] and two["References"] == one["Message-ID"]
    assert one.is_multipart() and one.get_content_type() == "multipart/alternative"
    kinds = [p.get_content_type() for p in one.get_payload()]
    assert kinds == ["text/plain", "text/html"]
    text = one.get_payload()[0].get_payload(decode=True).decode()
    assert "老旧小区改造" in text
    stored = await row(sessions, first)
    assert stored.provider_message_id == one["Message-ID"]
    assert stored.subject and stored.body_html and stored.body_text
    assert smtp.sink.envelopes[0].rcpt_tos == [ADDRESS]
    assert smtp.sink.envelopes[0].mail_from == "duban@office.example.gov.cn"
    await channels.close()


async def test_a_rejected_address_fails_for_good(sessions, clock, smtp):
    smtp.sink.reject.add(ADDRESS)
    case = await reminder(sessions, clock, channels=("email",), email=ADDRESS)
    result = await run(sessions, case.ids[0], registry(mail=smtp.config(), clock=clock), clock)
    assert result.outcome == Outcome.FAILED and result.fallback_id is None
    assert "550" in (result.error or "")
    assert (await row(sessions, case.ids[0])).status == "failed"


async def test_a_deferred_address_is_retried(sessions, clock, smtp):
    smtp.sink.defer.add(ADDRESS)
    case = await reminder(sessions, clock, channels=("email",), email=ADDRESS)
    channels = registry(mail=smtp.config(), clock=clock)
    result = await run(sessions, case.ids[0], channels, clock)
    assert result.outcome == Outcome.RETRY and "451" in (result.error or "")
    smtp.sink.defer.clear()
    clock.advance(timedelta(seconds=10))
    assert (await run(sessions, case.ids[0], channels, clock)).outcome == Outcome.SENT
    assert len(smtp.sink.messages) == 1


@pytest.mark.slow
async def test_smtp_down_then_back(sessions, clock):
    port = free_port()
    down = MailConfig(host="127.0.0.1", port=port, timeout=2.0)
    channels = registry(mail=down, clock=clock)
    case = await reminder(sessions, clock, channels=("email",), email=ADDRESS)
    nid = case.ids[0]
    first = await run(sessions, nid, channels, clock)
    assert first.outcome == Outcome.RETRY and "SMTP unavailable" in (first.error or "")
    server = SmtpServer(port=port).start()
    try:
        clock.advance(timedelta(seconds=10))
        assert (await run(sessions, nid, channels, clock)).outcome == Outcome.SENT
    finally:
        server.stop()
    assert len(server.sink.messages) == 1
    async with sessions() as s:
        outcomes = (
            await s.scalars(select(DeliveryAttempt.outcome).order_by(DeliveryAttempt.id))
        ).all()
    assert outcomes == ["transient", "sent"]


async def test_the_smtp_password_is_never_logged(sessions, clock, caplog):
    caplog.set_level(logging.DEBUG)
    password = "s3cret-smtp-pass"

    def authenticator(server, session, envelope, mechanism, auth_data):
        return AuthResult(success=False, handled=False)

    server = SmtpServer(auth_require_tls=False, authenticator=authenticator).start()
    try:
        channels = registry(mail=server.config(username="duban", password=password), clock=clock)
        case = await reminder(sessions, clock, channels=("email",), email=ADDRESS)
        result = await run(sessions, case.ids[0], channels, clock)
    finally:
        server.stop()
    assert result.outcome == Outcome.RETRY and "535" in (result.error or "")
    assert password not in caplog.text
    stored = await row(sessions, case.ids[0])
    assert password not in (stored.last_error or "")
    assert password not in repr(channels.get("email").config)


async def test_channel_maps_codes_and_builds_headers(clock):
    assert mail_domain(MAIL_FROM) == "office.example.gov.cn"
    assert mail_domain("nobody") == "duban.localhost"
    assert message_id_for(7, "x.cn") == "<notification-7@x.cn>"
    channel = EmailChannel(MailConfig(host="127.0.0.1", port=1), mail_from=MAIL_FROM, clock=clock)
    with pytest.raises(PermanentError):
        channel.build(OutgoingMessage(notification_id=1, kind="remind", channel="email",
                                      address="not-an-address", text="x"))  # fmt: skip
    mail = channel.build(
        OutgoingMessage(
            notification_id=3,
            kind="remind",
            channel="email",
            address=ADDRESS,
            text="正文",
            subject="【督办提醒】事项",
            in_reply_to="<notification-1@office.example.gov.cn>",
            references=("<notification-1@office.example.gov.cn>",),
        )
    )
    assert mail["In-Reply-To"] == "<notification-1@office.example.gov.cn>"
    assert not mail.is_multipart()  # no HTML part given: plain text only
    assert isinstance(channel.error_for(421, "x"), TransientError)
    assert isinstance(channel.error_for(554, "x"), PermanentError)


async def test_a_logged_stand_in_is_not_a_thread_root(sessions, clock, smtp):
    case = await reminder(sessions, clock, channels=("email",), email=ADDRESS, kind="remind")
    assert (await run(sessions, case.ids[0], registry(clock=clock), clock)).outcome == "sent"
    await reminder(sessions, clock, case=case, channels=("email",), kind="urge", occurrence="0")
    channels = registry(mail=smtp.config(), clock=clock)
    assert (await run(sessions, case.ids[0], channels, clock)).outcome == Outcome.SENT
    [message] = smtp.sink.messages
    assert message["In-Reply-To"] is None and message["References"] is None


def _mail(n: int) -> OutgoingMessage:
    return OutgoingMessage(
        notification_id=n, kind="remind", channel="email", address=ADDRESS, text=f"第{n}封",
        subject="督办提醒",
    )  # fmt: skip


@pytest.mark.slow
async def test_connections_are_reused_and_a_dropped_one_is_replaced(clock):
    port = free_port()
    server = SmtpServer(port=port).start()
    channel = EmailChannel(server.config(), mail_from=MAIL_FROM, clock=clock)
    try:
        for n in range(3):
            await channel.send(_mail(n))
        assert len(server.sink.messages) == 3 and len(set(server.sink.peers)) == 1
        server.stop()  # drops the idle connection
        server = SmtpServer(port=port).start()
        await channel.send(_mail(4))
        assert len(server.sink.messages) == 1
    finally:
        await channel.close()
        server.stop()


async def test_the_pool_holds_at_most_pool_size_connections(clock):
    server = SmtpServer().start()
    channel = EmailChannel(server.config(), mail_from=MAIL_FROM, clock=clock, pool_size=3)
    try:
        await asyncio.gather(*(channel.send(_mail(n)) for n in range(20)))
        assert len(server.sink.messages) == 20
        assert 1 <= len(set(server.sink.peers)) <= 3
    finally:
        await channel.close()
        server.stop()


async def test_an_idle_connection_is_not_reused_after_idle_seconds(clock):
    now = [0.0]
    server = SmtpServer().start()
    channel = EmailChannel(
        server.config(), mail_from=MAIL_FROM, clock=clock, idle_seconds=30, monotonic=lambda: now[0]
    )
    try:
        await channel.send(_mail(1))
        now[0] = 29.0
        await channel.send(_mail(2))  # idle 29 s: reused
        now[0] = 60.0
        await channel.send(_mail(3))  # idle 31 s: a new connection
        first, second, third = server.sink.peers
        assert first == second and third != second
    finally:
        await channel.close()
        server.stop()


@pytest.mark.slow
async def test_every_pooled_connection_dropped_by_a_restart_is_replaced(clock):
    """The server restarts with several idle connections in the pool: each send on a dead
    one goes again, once, on a fresh connection; none is lost or sent twice."""
    port = free_port()
    server = SmtpServer(port=port).start()
    channel = EmailChannel(server.config(), mail_from=MAIL_FROM, clock=clock, pool_size=4)
    try:
        await asyncio.gather(*(channel.send(_mail(n)) for n in range(8)))
        assert len(set(server.sink.peers)) > 1  # the pool held several connections
        server.stop()
        server = SmtpServer(port=port).start()
        await asyncio.gather(*(channel.send(_mail(n)) for n in range(8, 16)))
        ids = sorted(m["Message-ID"] for m in server.sink.messages)
        assert ids == sorted(message_id_for(n, "office.example.gov.cn") for n in range(8, 16))
    finally:
        await channel.close()
        server.stop()


async def test_a_refused_message_does_not_spoil_the_connection_for_the_next(clock, smtp):
    smtp.sink.reject.add("gone@example.gov.cn")
    channel = EmailChannel(smtp.config(), mail_from=MAIL_FROM, clock=clock)
    try:
        await channel.send(_mail(1))
        refused = replace(_mail(2), address="gone@example.gov.cn")
        with pytest.raises(PermanentError):
            await channel.send(refused)
        await channel.send(_mail(3))
        assert [m["Message-ID"] for m in smtp.sink.messages] == [
            message_id_for(n, "office.example.gov.cn") for n in (1, 3)
        ]
    finally:
        await channel.close()


@pytest.mark.slow
async def test_a_server_down_is_transient_and_quit_closes_the_pool(clock):
    port = free_port()
    channel = EmailChannel(
        MailConfig(host="127.0.0.1", port=port, timeout=2.0), mail_from=MAIL_FROM, clock=clock
    )
    with pytest.raises(TransientError, match="SMTP unavailable"):
        await channel.send(_mail(1))
    server = SmtpServer(port=port).start()
    try:
        await channel.send(_mail(2))
        assert channel.idle_connections == 1  # the connection went back to the pool
        await channel.close()
        assert channel.idle_connections == 0
        await channel.close()  # twice is harmless
        assert len(server.sink.messages) == 1
    finally:
        server.stop()


def test_headers_are_encoded_and_kept_on_one_line(clock):
    channel = EmailChannel(MailConfig(host="127.0.0.1", port=1), mail_from=MAIL_FROM, clock=clock)
    mail = channel.build(
        replace(_mail(5), subject="督办提醒\r\nBcc: x@evil.example", recipient_name="王建国\n")
    )
    parsed = message_from_bytes(mail.as_bytes())
    assert parsed["Bcc"] is None
    assert str(make_header(decode_header(parsed["Subject"]))) == "督办提醒 Bcc: x@evil.example"
    assert str(make_header(decode_header(parsed["To"]))) == f"王建国 <{ADDRESS}>"
    assert str(make_header(decode_header(parsed["From"]))) == MAIL_FROM


async def test_an_internationalised_domain_is_sent_in_its_ascii_form(clock, smtp):
    """A recipient or sender domain in Chinese (例子.中国) goes out as IDNA (punycode) in the
    envelope and the headers; the name and subject stay encoded-words. It used to crash in
    the SMTPUTF8 branch (a compat32 Header under the SMTPUTF8 policy; formataddr refusing a
    non-ASCII address), turning the message into an "unexpected error" retried to the end."""
    channel = EmailChannel(smtp.config(), mail_from="督查室 <duban@督查.中国>", clock=clock)
    try:
        await channel.send(
            replace(_mail(7), address="wang@例子.中国", recipient_name="王建国", html="<p>正文</p>")
        )
        [message] = smtp.sink.messages
        [envelope] = smtp.sink.envelopes
        assert envelope.rcpt_tos == ["wang@xn--fsqu00a.xn--fiqs8s"]
        assert envelope.mail_from == "duban@xn--jvvt85a.xn--fiqs8s"
        assert str(make_header(decode_header(message["To"]))) == (
            "王建国 <wang@xn--fsqu00a.xn--fiqs8s>"
        )
        assert str(make_header(decode_header(message["From"]))) == (
            "督查室 <duban@xn--jvvt85a.xn--fiqs8s>"
        )
        assert str(make_header(decode_header(message["Subject"]))) == "督办提醒"
        assert message["Message-ID"] == "<notification-7@xn--jvvt85a.xn--fiqs8s>"
    finally:
        await channel.close()


def test_a_non_ascii_local_part_is_refused_for_good(clock):
    channel = EmailChannel(MailConfig(host="127.0.0.1", port=1), mail_from=MAIL_FROM, clock=clock)
    with pytest.raises(PermanentError, match="not an e-mail address"):
        channel.build(replace(_mail(8), address="王@例子.中国"))


@pytest.mark.parametrize(
    ("address", "reason"),
    [
        ("x@example.org.", "cannot end with a period"),
        ("x@ex..org", "cannot have two periods in a row"),
    ],
)
async def test_a_malformed_address_fails_at_once_with_its_reason(
    sessions, clock, smtp, address, reason
):
    """An address that slipped in before entry checks existed fails on its first try (it used
    to be a HeaderParseError, retried as transient through the whole ~10.5 h schedule)."""
    case = await reminder(sessions, clock, channels=("email",), email=address)
    result = await run(sessions, case.ids[0], registry(mail=smtp.config(), clock=clock), clock)
    assert result.outcome == Outcome.FAILED
    stored = await row(sessions, case.ids[0])
    assert (stored.status, stored.attempts, stored.next_attempt_at) == ("failed", 1, None)
    assert reason in (stored.last_error or "")
    async with sessions() as s:
        [attempt] = (await s.scalars(select(DeliveryAttempt))).all()
    assert attempt.outcome == "permanent" and reason in (attempt.error or "")
    assert smtp.sink.messages == []


async def test_a_message_that_cannot_be_encoded_fails_at_once(sessions, clock):
    """Any error building the message is the row's own and cannot heal: permanent."""

    class Unencodable(EmailChannel):
        def build(self, message, address=None):
            raise UnicodeEncodeError("ascii", "王", 0, 1, "no ASCII form")

    channel = Unencodable(MailConfig(host="127.0.0.1", port=1), mail_from=MAIL_FROM, clock=clock)
    case = await reminder(sessions, clock, channels=("email",), email=ADDRESS)
    result = await run(sessions, case.ids[0], ChannelRegistry([channel]), clock)
    assert result.outcome == Outcome.FAILED
    assert "cannot be built: UnicodeEncodeError" in (result.error or "")
