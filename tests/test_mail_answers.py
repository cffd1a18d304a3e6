"""The e-mail side of replies: signed Reply-To on reminders, and the answer in the thread."""

from __future__ import annotations

from email.header import decode_header, make_header

import pytest
from sqlalchemy import select

from duban.mailbox import mail_reader
from duban.runtime import open_runtime
from duban.settings import SettingsError, load_settings
from models import Notification
from notifier.channels.base import ChannelRegistry, OutgoingMessage
from notifier.channels.email import EmailChannel
from notifier.channels.log import LogChannel
from notifier.config import MailConfig
from notifier.delivery import Deliverer, Outcome
from notifier.mailbox import MailFiler, parse_imap_url
from notifier.templating import Renderer
from supervision.mail_parsing import bare_subject, command_of, latest_reply, read_mail
from supervision.mail_replies import MailRef
from supervision.sealing import SealBroken, Sealer
from testing.bot_world import build_world
from testing.mail_support import REPLY_TO, SECRET, Reply, reminder, replies
from testing.notifier_support import MAIL_FROM, SmtpServer, limiter_for, options


def _message(kind: str = "remind", assignment_id: int | None = 4) -> OutgoingMessage:
    return OutgoingMessage(
        notification_id=12,
        kind=kind,
        channel="email",
        address="wang@example.gov.cn",
        text="正文",
        subject="【督办提醒】",
        assignment_id=assignment_id,
    )


def test_reminders_carry_a_signed_reply_address(clock) -> None:
    sealer = Sealer(SECRET)
    config = MailConfig(host="127.0.0.1", port=1)
    channel = EmailChannel(
        config, mail_from=MAIL_FROM, clock=clock, reply_to=REPLY_TO, sealer=sealer
    )
    reply_to = channel.build(_message())["Reply-To"]
    local, _, domain = reply_to.partition("@")
    assert domain == "office.test" and local.startswith("duban+") and len(local) <= 64
    assert sealer.verify(local.partition("+")[2]) == "n12"
    # Answers to replies, and messages about no assignment, need no reply address.
    assert channel.build(_message(kind="mail_reply"))["Reply-To"] is None
    assert channel.build(_message(assignment_id=None))["Reply-To"] is None
    plain = EmailChannel(config, mail_from=MAIL_FROM, clock=clock)
    assert plain.build(_message())["Reply-To"] is None


def test_signed_values_refuse_tampering_and_other_keys() -> None:
    sealer = Sealer(SECRET)
    token = sealer.sign("n42")
    assert sealer.verify(token) == "n42" == sealer.verify(token.upper())  # case folded
    with pytest.raises(SealBroken):
        sealer.verify(token.replace("n42", "n43"))
    with pytest.raises(SealBroken):
        Sealer("another-secret-key-0123456789abcdefgh").verify(token)
    with pytest.raises(ValueError):
        sealer.sign("a.b")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "好的\n\n------------------ 原始邮件 ------------------\n"
            "发件人: 督查室\n发送时间: 昨天\n",
            "好的",
        ),
        ("已完成\n\n来自华为Mate 60\n", "已完成"),
        ("Done.\n\nOn Mon, Nov 2, 2026 at 9:00 AM Office <o@x.cn> wrote:\n> hi\n", "Done."),
    ],
)
def test_quoted_originals_and_footers_of_common_clients_are_stripped(text, expected) -> None:
    assert latest_reply(text) == expected


def test_commands_in_the_first_line_or_the_subject() -> None:
    assert command_of("Re: 提醒", "申请延期：2027年1月20日\n原因：x") == (
        "extension",
        "2027年1月20日",
        "原因：x",
    )
    assert command_of("回复：申请延期 2027-01-20", "原因：x") == (
        "extension",
        "2027-01-20",
        "原因：x",
    )
    assert command_of("RE: 回复：提醒", "申请办结\n已完成") == ("completion", None, "已完成")
    assert command_of("Re: 提醒", "本周申请办结") == ("progress", None, "本周申请办结")
    assert bare_subject("RE: 回复：答复: 【提醒】事项") == "【提醒】事项"


async def test_the_answer_goes_out_in_the_senders_thread(sessions, session, clock) -> None:
    w = await build_world(session)
    sent = await reminder(session, w.a_document, w.owner)
    raw = Reply(w.owner.email or "", "进展顺利", in_reply_to=sent.provider_message_id).raw()
    async with sessions() as s, s.begin():
        result = await replies(clock).handle(s, MailRef("INBOX", 1, 1), raw)
    assert result.outcome == "filed"
    async with sessions() as s:
        answer = await s.scalar(select(Notification).where(Notification.kind == "mail_reply"))
        assert answer is not None
    smtp = SmtpServer().start()
    try:
        mail = EmailChannel(smtp.config(), mail_from=MAIL_FROM, clock=clock)
        channels = ChannelRegistry([LogChannel(), mail], substitute=LogChannel())
        outcome = await Deliverer(
            sessions,
            channels=channels,
            renderer=Renderer(),
            clock=clock,
            limiter=limiter_for(clock),
            options=options(),
        ).deliver(answer.id)
        assert outcome.outcome == Outcome.SENT
        [message] = smtp.sink.messages
        await channels.close()
    finally:
        smtp.stop()
    assert message["In-Reply-To"] == "<reply-1@client.test>"
    assert message["References"] == f"{sent.provider_message_id} <reply-1@client.test>"
    assert str(make_header(decode_header(message["Subject"]))) == "回复：【提醒】年度项目推进"
    assert message["Auto-Submitted"] == "auto-generated"  # never answered in turn
    text = message.get_payload()[0].get_payload(decode=True).decode()
    assert "进展报告已登记" in text and "第 1 次报告" in text


def test_the_imap_url_is_parsed_and_its_password_kept_out_of_sight() -> None:
    config = parse_imap_url("imaps://duban%40office.gov.cn:p%40ss%2Fw@mail.office.gov.cn/Replies")
    assert (config.host, config.port, config.username, config.password) == (
        "mail.office.gov.cn",
        993,
        "duban@office.gov.cn",
        "p@ss/w",
    )
    assert (config.mailbox, config.use_tls, config.done_folder) == ("Replies", True, None)
    assert "p@ss" not in repr(config) and "p@ss" not in config.where()
    plain = parse_imap_url("imap://u:p@127.0.0.1?poll=5&move=Done")
    assert (plain.port, plain.mailbox, plain.poll_seconds, plain.done_folder) == (
        143,
        "INBOX",
        5.0,
        "Done",
    )
    for bad, reason in (
        ("http://u:p@h/INBOX", "imaps://"),
        ("imaps://mail.office.gov.cn/INBOX", "user and password"),
        ("imap://u:p@h:99999/", "port"),
        ("imap://u:p@h/?poll=soon", "seconds"),
    ):
        with pytest.raises(ValueError, match=reason):
            parse_imap_url(bad)


def test_settings_check_the_imap_url_and_the_reply_address() -> None:
    settings = load_settings(
        imap_url="imap://u:pw-zq9x@127.0.0.1/INBOX", mail_reply_to="Duban@Office.cn"
    )
    assert settings.mail.imap is not None and settings.mail.imap.password == "pw-zq9x"
    assert settings.mail.reply_to == "duban@office.cn"
    assert "pw-zq9x" not in repr(settings)
    with pytest.raises(SettingsError, match="DUBAN_IMAP_URL"):
        load_settings(imap_url="imap://127.0.0.1/INBOX")
    with pytest.raises(SettingsError, match="DUBAN_MAIL_REPLY_TO"):
        load_settings(mail_reply_to="duban+x@office.cn")


async def test_the_service_builds_its_reader_from_the_settings(tmp_path) -> None:
    megabyte = 1024 * 1024
    url = f"sqlite+aiosqlite:///{tmp_path}/r.db"
    async with open_runtime(load_settings(database_url=url)) as rt:
        assert mail_reader(rt) is None
    settings = load_settings(
        database_url=url,
        imap_url="imaps://duban%40office.cn:pw-zq9x@mail.office.cn/INBOX",
        mail_reply_to="duban@office.cn",
        mail_attachment_max_mb=5,
        mail_attachments_total_mb=12,
    )
    async with open_runtime(settings) as rt:
        reader = mail_reader(rt)
    assert reader is not None and isinstance(reader.handle, MailFiler)
    assert reader.config.max_message_bytes == 12 * megabyte * 4 // 3 + 2 * megabyte
    replies_ = reader.handle.replies
    assert replies_.reply_to == "duban@office.cn"
    assert (replies_.limits.max_file_bytes, replies_.limits.max_total_bytes) == (
        5 * megabyte,
        12 * megabyte,
    )
    assert "pw-zq9x" not in repr(reader)


def test_an_html_only_reply_is_read_without_its_quoted_original() -> None:
    html = (
        "<div>已完成<b>验收</b>&nbsp;准备报送</div><div><br></div>"
        "<div>------------------&nbsp;原始邮件&nbsp;------------------</div>"
        "<div>发件人: 督查室</div><div>发送时间: 2026年11月2日</div><div>主题: 提醒</div>"
        "<blockquote>请报送进展</blockquote>"
    )
    raw = (
        "From: =?utf-8?b?5byg5LiJ?= <Zhang@Units.test>\r\nTo: duban@office.test\r\n"
        "Subject: =?gb2312?b?u9i4tKO6zOHQ0Q==?=\r\nMessage-ID: <h@x.test>\r\n"
        "In-Reply-To: <notification-3@office.test>\r\n"
        "References: <notification-1@office.test> <notification-3@office.test>\r\n"
        "Content-Type: text/html; charset=utf-8\r\n\r\n" + html
    ).encode()
    mail = read_mail(raw)
    assert (mail.sender, mail.sender_name, mail.message_id) == (
        "zhang@units.test",
        "张三",
        "<h@x.test>",
    )
    assert mail.subject == "回复：提醒"
    assert mail.answers == ("<notification-3@office.test>", "<notification-1@office.test>")
    assert latest_reply(mail.text) == "已完成验收 准备报送"
    assert not mail.automatic
