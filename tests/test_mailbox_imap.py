"""E-mail replies become reports, read from a real IMAP server (Dovecot on loopback)."""

from __future__ import annotations

import asyncio
import dataclasses
import os
import shutil
import signal
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from models import (
    Attachment,
    Extension,
    InboundMail,
    InboundOutcome,
    ItemState,
    Notification,
    Report,
    ReportKind,
)
from notifier.mailbox import MailboxReader, MailFiler, parse_imap_url
from supervision.audit import Actor
from supervision.clock import FixedClock
from supervision.lifecycle import cancel_item
from supervision.mail_replies import MailRef, MailResult, reply_address
from supervision.sealing import Sealer
from testing.bot_world import build_world
from testing.databases import unavailable
from testing.imap_server import Dovecot, dovecot_binary
from testing.mail_support import REPLY_TO, SECRET, Reply, read_once, reminder, replies

ROOT = Path(__file__).resolve().parent.parent
QUOTE = "\n\n在 2026年11月2日 上午9:00，督查室 <duban@office.test> 写道：\n> 【提醒】请报送进展\n"


@pytest.fixture(scope="module")
def dovecot() -> Iterator[Dovecot]:
    """One Dovecot for the module (each test empties the inbox first)."""
    if dovecot_binary() is None:
        unavailable("Dovecot (dovecot-imapd; scripts/imap installs it)")
    # Not pytest's tmp_path: its parents are private to this user, and as root Dovecot's
    # own unprivileged users must reach the files.
    root = Path(tempfile.mkdtemp(prefix="duban-dovecot-"))
    server = Dovecot(root)
    try:
        server.start()
        yield server
    finally:
        server.stop()
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def inbox(dovecot: Dovecot) -> Dovecot:
    """The server with an empty inbox."""
    dovecot.clear()
    return dovecot


async def _count(session: AsyncSession, model: type[object]) -> int:
    return int(await session.scalar(select(func.count()).select_from(model)) or 0)  # type: ignore[arg-type]


async def _answers(session: AsyncSession) -> list[Notification]:
    rows = await session.scalars(
        select(Notification).where(Notification.kind == "mail_reply").order_by(Notification.id)
    )
    return list(rows)


async def test_a_reply_files_a_report_once_and_is_answered_in_its_thread(
    session: AsyncSession,
    sessions: async_sessionmaker[AsyncSession],
    clock: FixedClock,
    inbox: Dovecot,
) -> None:
    w = await build_world(session)
    sent = await reminder(session, w.a_document, w.owner)
    assert w.owner.email
    inbox.deliver(
        Reply(
            w.owner.email,
            "已完成31个小区招标，26个已开工。\n\n发自我的iPhone" + QUOTE,
            in_reply_to=sent.provider_message_id,
        ).raw()
    )
    [result] = await read_once(sessions, clock, inbox.url)
    assert result.outcome == InboundOutcome.FILED
    assert result.command == "progress"
    assert inbox.unseen_count() == 0
    async with sessions() as s:
        [report] = (await s.scalars(select(Report))).all()
        assert report.text == "已完成31个小区招标，26个已开工。"  # quote and footer gone
        assert (report.assignment_id, report.author_id) == (w.a_document.id, w.owner.id)
        assert (report.channel, report.kind) == ("email", ReportKind.PROGRESS)
        [answer] = await _answers(s)
        assert (answer.channel, answer.address, answer.recipient_id) == (
            "email",
            w.owner.email,
            w.owner.id,
        )
        assert answer.payload["outcome"] == "filed"
        assert answer.payload["in_reply_to"] == "<reply-1@client.test>"
        assert answer.payload["report_id"] == report.id
        [row] = (await s.scalars(select(InboundMail))).all()
        assert (row.outcome, row.report_id, row.message_id) == (
            "filed",
            report.id,
            "<reply-1@client.test>",
        )
    # The same message again (a copy, or a second reader): filed nowhere twice.
    inbox.deliver(
        Reply(w.owner.email, "已完成31个小区招标", in_reply_to=sent.provider_message_id).raw()
    )
    [again] = await read_once(sessions, clock, inbox.url)
    assert again.duplicate
    async with sessions() as s:
        assert await _count(s, Report) == 1
        assert len(await _answers(s)) == 1


async def test_completion_and_extension_commands(
    session: AsyncSession,
    sessions: async_sessionmaker[AsyncSession],
    clock: FixedClock,
    inbox: Dovecot,
) -> None:
    w = await build_world(session)
    first = await reminder(session, w.a_document, w.owner)
    second = await reminder(session, w.a_instruction, w.owner)
    assert w.owner.email and w.liaison.email
    inbox.deliver(
        Reply(
            w.owner.email,
            "申请延期 2027-01-20\n原因：管线迁改需与燃气公司协调\n进展：已完成31个小区招标" + QUOTE,
            in_reply_to=first.provider_message_id,
            message_id="<ext@client.test>",
        ).raw()
    )
    # The unit's liaison may answer the owner's reminder (the bot's rule); the command is in
    # the subject this time.
    inbox.deliver(
        Reply(
            w.liaison.email,
            "整改任务已全部完成，附验收意见。",
            subject="回复：申请办结",
            in_reply_to=second.provider_message_id,
            message_id="<done@client.test>",
            name="李四",
        ).raw()
    )
    results = await read_once(sessions, clock, inbox.url)
    assert [r.outcome for r in results] == [InboundOutcome.FILED, InboundOutcome.FILED]
    async with sessions() as s:
        [extension] = (await s.scalars(select(Extension))).all()
        assert (extension.reason, extension.progress) == (
            "管线迁改需与燃气公司协调",
            "已完成31个小区招标",
        )
        assert extension.new_due_on.isoformat() == "2027-01-20"
        assert extension.channel == "email"
        [report] = (await s.scalars(select(Report))).all()
        assert (report.kind, report.author_id, report.text) == (
            ReportKind.COMPLETION,
            w.liaison.id,
            "整改任务已全部完成，附验收意见。",
        )
        state = await s.scalar(
            select(w.a_instruction.__class__.state).where(
                w.a_instruction.__class__.id == w.a_instruction.id
            )
        )
        assert state == ItemState.COMPLETION_REQUESTED
        assert [a.payload["command"] for a in await _answers(s)] == ["extension", "completion"]


async def test_an_extension_with_a_bad_date_is_refused_with_the_reason(
    session: AsyncSession,
    sessions: async_sessionmaker[AsyncSession],
    clock: FixedClock,
    inbox: Dovecot,
) -> None:
    w = await build_world(session)
    sent = await reminder(session, w.a_document, w.owner)
    assert w.owner.email
    inbox.deliver(
        Reply(
            w.owner.email,
            "申请延期 2027-02-30\n原因：协调\n进展：过半",
            in_reply_to=sent.provider_message_id,
        ).raw()
    )
    [result] = await read_once(sessions, clock, inbox.url)
    assert result.outcome == InboundOutcome.REFUSED
    assert result.reason and "没有这一天" in result.reason
    async with sessions() as s:
        assert await _count(s, Extension) == 0
        [answer] = await _answers(s)
        assert answer.payload["outcome"] == "refused"
        assert "没有这一天" in answer.payload["reason"]


async def test_a_stranger_and_a_forged_in_reply_to_file_nothing(
    session: AsyncSession,
    sessions: async_sessionmaker[AsyncSession],
    clock: FixedClock,
    inbox: Dovecot,
) -> None:
    w = await build_world(session)
    sent = await reminder(session, w.a_document, w.owner)
    assert w.outsider.email
    # Someone unknown answers the owner's reminder.
    inbox.deliver(
        Reply(
            "someone@elsewhere.test",
            "我来报一下",
            in_reply_to=sent.provider_message_id,
            message_id="<s1@x.test>",
            name="路人",
        ).raw()
    )
    # A registered person of another unit copies the reminder's Message-ID.
    inbox.deliver(
        Reply(
            w.outsider.email,
            "代为报送",
            in_reply_to=sent.provider_message_id,
            message_id="<s2@x.test>",
            name="赵六",
        ).raw()
    )
    # A made-up Message-ID of our shape matches no reminder that went out.
    inbox.deliver(
        Reply(
            w.owner.email or "",
            "进展",
            in_reply_to=f"<notification-{sent.id + 999}@office.test>",
            message_id="<s3@x.test>",
        ).raw()
    )
    results = await read_once(sessions, clock, inbox.url)
    assert [r.outcome for r in results] == [InboundOutcome.REFUSED] * 3
    assert results[0].reason and "不是该督办事项责任人" in results[0].reason
    assert results[1].reason and "不是该督办事项责任人" in results[1].reason
    assert results[2].reason and "未能识别" in results[2].reason
    assert inbox.unseen_count() == 0
    async with sessions() as s:
        assert await _count(s, Report) == 0
        answers = await _answers(s)
        assert [(a.address, a.recipient_id, a.assignment_id) for a in answers] == [
            ("someone@elsewhere.test", None, None),  # nothing of the item in the answer
            (w.outsider.email, w.outsider.id, None),
            (w.owner.email, w.owner.id, None),
        ]
        rows = (await s.scalars(select(InboundMail).order_by(InboundMail.id))).all()
        assert [r.assignment_id for r in rows] == [w.a_document.id, w.a_document.id, None]
        assert all(a.locale == "zh" for a in answers)


async def test_automatic_mail_is_neither_filed_nor_answered(
    session: AsyncSession,
    sessions: async_sessionmaker[AsyncSession],
    clock: FixedClock,
    inbox: Dovecot,
) -> None:
    w = await build_world(session)
    sent = await reminder(session, w.a_document, w.owner)
    inbox.deliver(
        Reply(
            w.owner.email or "",
            "我正在休假，12月10日返回。",
            in_reply_to=sent.provider_message_id,
            headers=[("Auto-Submitted", "auto-replied")],
        ).raw()
    )
    [result] = await read_once(sessions, clock, inbox.url)
    assert result.outcome == InboundOutcome.IGNORED
    async with sessions() as s:
        assert await _count(s, Report) == 0
        assert await _answers(s) == []


async def test_a_reply_to_a_closed_item_is_refused(
    session: AsyncSession,
    sessions: async_sessionmaker[AsyncSession],
    clock: FixedClock,
    inbox: Dovecot,
) -> None:
    w = await build_world(session)
    sent = await reminder(session, w.a_document, w.owner)
    await cancel_item(session, w.document, actor=Actor.system(), clock=clock, reason="任务调整")
    await session.commit()
    inbox.deliver(Reply(w.owner.email or "", "进展", in_reply_to=sent.provider_message_id).raw())
    [result] = await read_once(sessions, clock, inbox.url)
    assert result.outcome == InboundOutcome.REFUSED
    assert result.reason and "已办结或撤销" in result.reason
    async with sessions() as s:
        assert await _count(s, Report) == 0
        [answer] = await _answers(s)
        assert answer.assignment_id == w.a_document.id


async def test_attachments_are_stored_within_the_limits_and_a_20_mb_one_is_refused(
    session: AsyncSession,
    sessions: async_sessionmaker[AsyncSession],
    clock: FixedClock,
    inbox: Dovecot,
) -> None:
    w = await build_world(session)
    sent = await reminder(session, w.a_document, w.owner)
    pdf = b"%PDF-1.4\n" + bytes(range(256)) * 400
    inbox.deliver(
        Reply(
            w.owner.email or "",
            "附验收报告。",
            in_reply_to=sent.provider_message_id,
            message_id="<small@client.test>",
            files=[("验收报告.pdf", "application/pdf", pdf)],
        ).raw()
    )
    inbox.deliver(
        Reply(
            w.owner.email or "",
            "附全部现场照片。",
            in_reply_to=sent.provider_message_id,
            message_id="<big@client.test>",
            files=[("现场照片.zip", "application/zip", os.urandom(20 * 1024 * 1024))],
        ).raw()
    )
    inbox.deliver(
        Reply(
            w.owner.email or "",
            "附程序。",
            in_reply_to=sent.provider_message_id,
            message_id="<exe@client.test>",
            files=[("setup.exe", "application/octet-stream", b"MZ")],
        ).raw()
    )
    small, big, exe = await read_once(sessions, clock, inbox.url)
    assert small.outcome == InboundOutcome.FILED
    assert big.outcome == InboundOutcome.REFUSED
    assert big.reason and "现场照片.zip" in big.reason and "20.0 MB" in big.reason
    assert big.reason and "10.0 MB" in big.reason
    assert exe.outcome == InboundOutcome.REFUSED
    assert exe.reason and "setup.exe" in exe.reason and "类型" in exe.reason
    async with sessions() as s:
        [report] = (await s.scalars(select(Report))).all()
        [stored] = report.attachments
        assert (stored.file_name, stored.mime_type, stored.size, stored.storage) == (
            "验收报告.pdf",
            "application/pdf",
            len(pdf),
            "db",
        )
        content = await s.scalar(select(Attachment.content).where(Attachment.id == stored.id))
        assert content == pdf


async def test_a_gb18030_message_is_read(
    session: AsyncSession,
    sessions: async_sessionmaker[AsyncSession],
    clock: FixedClock,
    inbox: Dovecot,
) -> None:
    w = await build_world(session)
    sent = await reminder(session, w.a_document, w.owner)
    # 镕 and 䶮 are outside GB2312; clients still label such mail gb2312 or gbk.
    text = (
        "朱镕基同志批示的事项已推进，䶮字号企业已整改。\n\n-----原始邮件-----\n"
        "发件人：督查室\n发送时间：2026年11月2日\n主题：提醒\n\n请报送"
    )
    for charset, message_id in (("gb18030", "<gb1@x.test>"), ("gbk", "<gb2@x.test>")):
        reply = Reply(
            w.owner.email or "",
            text,
            in_reply_to=sent.provider_message_id,
            charset="gb18030",
            message_id=message_id,
        )
        inbox.deliver(reply.raw().replace(b'charset="gb18030"', f'charset="{charset}"'.encode()))
    results = await read_once(sessions, clock, inbox.url)
    assert [r.outcome for r in results] == [InboundOutcome.FILED] * 2
    async with sessions() as s:
        texts = (await s.scalars(select(Report.text).order_by(Report.id))).all()
        assert texts == ["朱镕基同志批示的事项已推进，䶮字号企业已整改。"] * 2


async def test_the_signed_reply_address_matches_when_headers_are_dropped(
    session: AsyncSession,
    sessions: async_sessionmaker[AsyncSession],
    clock: FixedClock,
    inbox: Dovecot,
) -> None:
    w = await build_world(session)
    sent = await reminder(session, w.a_document, w.owner)
    good = reply_address(Sealer(SECRET), REPLY_TO, sent.id)
    assert good.startswith("duban+n") and len(good.partition("@")[0]) <= 64
    forged = reply_address(Sealer("another-key-entirely-0123456789abcdef"), REPLY_TO, sent.id)
    inbox.deliver(Reply(w.owner.email or "", "经头部丢失也能登记", to=good).raw())
    inbox.deliver(Reply(w.owner.email or "", "伪造", to=forged, message_id="<f@x.test>").raw())
    ok, bad = await read_once(sessions, clock, inbox.url)
    assert ok.outcome == InboundOutcome.FILED and ok.assignment_id == w.a_document.id
    assert bad.outcome == InboundOutcome.REFUSED and bad.reason and "未能识别" in bad.reason


async def test_imap_idle_picks_up_a_new_message(
    session: AsyncSession,
    sessions: async_sessionmaker[AsyncSession],
    clock: FixedClock,
    inbox: Dovecot,
) -> None:
    w = await build_world(session)
    sent = await reminder(session, w.a_document, w.owner)
    stop = asyncio.Event()
    got: list[MailResult] = []
    arrived = asyncio.Event()

    def on_result(result: MailResult) -> None:
        got.append(result)
        arrived.set()

    config = parse_imap_url(inbox.url)
    assert config.poll_seconds == 30  # far longer than the test: only IDLE can wake it
    reader = MailboxReader(config, MailFiler(sessions, replies(clock)))
    running = asyncio.create_task(reader.run(stop, on_result))
    try:
        await asyncio.wait_for(reader.waiting.wait(), 20)  # connected, in IDLE
        assert reader.supports_idle
        raw = Reply(w.owner.email or "", "推送到达", in_reply_to=sent.provider_message_id).raw()
        await asyncio.get_running_loop().run_in_executor(None, inbox.deliver, raw)
        await asyncio.wait_for(arrived.wait(), 20)  # a safety net; IDLE answers at once
    finally:
        stop.set()
        await asyncio.wait_for(running, 20)
    assert [r.outcome for r in got] == [InboundOutcome.FILED]


@pytest.mark.slow
async def test_a_crash_between_fetch_and_commit_files_once_on_the_next_pass(
    db_url: str,
    session: AsyncSession,
    sessions: async_sessionmaker[AsyncSession],
    clock: FixedClock,
    inbox: Dovecot,
) -> None:
    w = await build_world(session)
    sent = await reminder(session, w.a_document, w.owner)
    raw = Reply(w.owner.email or "", "断电前的报告", in_reply_to=sent.provider_message_id).raw()
    inbox.deliver(raw)
    crashed = await asyncio.create_subprocess_exec(
        sys.executable,
        str(ROOT / "testing" / "mail_crash.py"),
        db_url,
        inbox.url,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(crashed.communicate(), 120)
    assert crashed.returncode == -signal.SIGKILL, err.decode()[-2000:]
    assert b"before commit" in out
    assert inbox.unseen_count() == 1
    async with sessions() as s:
        assert await _count(s, Report) == 0
        assert await _count(s, InboundMail) == 0
    [result] = await read_once(sessions, clock, inbox.url)
    assert result.outcome == InboundOutcome.FILED and not result.duplicate
    assert await read_once(sessions, clock, inbox.url) == []
    async with sessions() as s:
        assert await _count(s, Report) == 1
        assert len(await _answers(s)) == 1


async def _cli(*args: str, env: dict[str, str]) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "duban.cli",
        *args,
        cwd=ROOT,
        env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "PYTHONPATH": str(ROOT), **env},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), 120)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


async def test_duban_mail_poll_once_prints_what_it_filed(
    db_url: str,
    session: AsyncSession,
    sessions: async_sessionmaker[AsyncSession],
    inbox: Dovecot,
) -> None:
    w = await build_world(session)
    sent = await reminder(session, w.a_document, w.owner)
    inbox.deliver(
        Reply(w.owner.email or "", "命令行登记", in_reply_to=sent.provider_message_id).raw()
    )
    env = {
        "DUBAN_DATABASE_URL": db_url,
        "DUBAN_IMAP_URL": inbox.url,
        "DUBAN_SECRET_KEY": SECRET,
    }
    code, out, err = await _cli("mail", "poll", "--once", env=env)
    assert code == 0, err
    assert "filed progress (report " in out and f"assignment {w.a_document.id}" in out
    assert out.strip().endswith(f"127.0.0.1:{inbox.port}/INBOX, 1 filed")
    assert inbox.password not in out + err
    async with sessions() as s:
        assert await _count(s, Report) == 1
    # A wrong password: one line, no traceback, no password.
    bad = inbox.url.replace(inbox.password, "wrong-secret-pw")
    code, out, err = await _cli("mail", "poll", "--once", env={**env, "DUBAN_IMAP_URL": bad})
    assert code != 0
    assert "login" in err and "refused" in err and "Traceback" not in err
    assert "wrong-secret-pw" not in out + err


async def test_without_idle_the_reader_polls_and_can_move_handled_mail(
    session: AsyncSession,
    sessions: async_sessionmaker[AsyncSession],
    clock: FixedClock,
    inbox: Dovecot,
) -> None:
    w = await build_world(session)
    sent = await reminder(session, w.a_document, w.owner)
    client = inbox.client()
    client.delete("Duban")  # from the other database's run, if any
    client.logout()
    config = parse_imap_url(inbox.url.replace("poll=30", "poll=0.2&idle=no&move=Duban"))
    reader = MailboxReader(config, MailFiler(sessions, replies(clock)))
    stop = asyncio.Event()
    arrived = asyncio.Event()
    running = asyncio.create_task(reader.run(stop, lambda result: arrived.set()))
    try:
        await asyncio.wait_for(reader.waiting.wait(), 20)
        assert not reader.supports_idle  # turned off: it polls
        raw = Reply(w.owner.email or "", "轮询到达", in_reply_to=sent.provider_message_id).raw()
        await asyncio.get_running_loop().run_in_executor(None, inbox.deliver, raw)
        await asyncio.wait_for(arrived.wait(), 20)  # a safety net, not a timing
    finally:
        stop.set()
        await asyncio.wait_for(running, 20)
    client = inbox.client()
    try:
        _, data = client.uid("search", "ALL")
        assert data == [b""]  # moved out of the inbox
        status, counts = client.status("Duban", "(MESSAGES)")
        assert status == "OK" and b"MESSAGES 1" in counts[0]
    finally:
        client.logout()
    async with sessions() as s:
        assert await _count(s, Report) == 1


async def test_a_crash_after_commit_and_before_seen_only_marks_it_seen(
    session: AsyncSession,
    sessions: async_sessionmaker[AsyncSession],
    clock: FixedClock,
    inbox: Dovecot,
) -> None:
    w = await build_world(session)
    sent = await reminder(session, w.a_document, w.owner)
    inbox.deliver(Reply(w.owner.email or "", "已提交", in_reply_to=sent.provider_message_id).raw())
    filer = MailFiler(sessions, replies(clock))
    async with MailboxReader(parse_imap_url(inbox.url), filer) as reader:
        [uid] = await reader.unseen()
        raw = await reader.fetch(uid)
        assert raw is not None
        first = await filer(MailRef("INBOX", reader.uidvalidity, uid), raw)  # committed…
        # …and the process dies here, before the message is marked seen.
    assert first.outcome == InboundOutcome.FILED
    assert inbox.unseen_count() == 1
    [again] = await read_once(sessions, clock, inbox.url)
    assert again.duplicate and again.report_id == first.report_id
    assert inbox.unseen_count() == 0
    async with sessions() as s:
        assert await _count(s, Report) == 1
        assert len(await _answers(s)) == 1


async def test_a_message_over_the_size_limit_is_not_downloaded_and_is_refused(
    session: AsyncSession,
    sessions: async_sessionmaker[AsyncSession],
    clock: FixedClock,
    inbox: Dovecot,
) -> None:
    w = await build_world(session)
    sent = await reminder(session, w.a_document, w.owner)
    big = [("扫描件.pdf", "application/pdf", os.urandom(2 * 1024 * 1024))]
    inbox.deliver(
        Reply(w.owner.email or "", "见附件", in_reply_to=sent.provider_message_id, files=big).raw()
    )
    config = dataclasses.replace(parse_imap_url(inbox.url), max_message_bytes=1024 * 1024)
    seen: list[bytes] = []
    filer = MailFiler(sessions, replies(clock))

    async def handle(ref: MailRef, raw: bytes) -> MailResult:
        seen.append(raw)
        return await filer(ref, raw)

    async with MailboxReader(config, handle) as reader:
        [result] = await reader.poll_once()
    assert len(seen[0]) < 10_000  # the headers only
    assert result.outcome == InboundOutcome.REFUSED
    assert result.reason and "邮件过大" in result.reason
    assert inbox.unseen_count() == 0
    async with sessions() as s:
        assert await _count(s, Report) == 0
        [answer] = await _answers(s)
        assert answer.payload["in_reply_to"] == "<reply-1@client.test>"


async def test_two_readers_of_one_message_file_it_once(
    session: AsyncSession,
    sessions: async_sessionmaker[AsyncSession],
    clock: FixedClock,
) -> None:
    w = await build_world(session)
    sent = await reminder(session, w.a_document, w.owner)
    raw = Reply(w.owner.email or "", "两个进程同时读到", in_reply_to=sent.provider_message_id).raw()
    one, two = MailFiler(sessions, replies(clock)), MailFiler(sessions, replies(clock))
    results = await asyncio.gather(
        one(MailRef("INBOX", 7, 1), raw), two(MailRef("INBOX", 7, 1), raw)
    )
    assert sorted(r.duplicate for r in results) == [False, True]
    assert {r.report_id for r in results} == {results[0].report_id}
    async with sessions() as s:
        assert await _count(s, Report) == 1
        assert await _count(s, InboundMail) == 1
        assert len(await _answers(s)) == 1


async def test_a_message_that_cannot_be_handled_stays_unseen_and_others_go_on(
    session: AsyncSession,
    sessions: async_sessionmaker[AsyncSession],
    clock: FixedClock,
    inbox: Dovecot,
) -> None:
    w = await build_world(session)
    sent = await reminder(session, w.a_document, w.owner)
    for n in (1, 2):
        inbox.deliver(
            Reply(
                w.owner.email or "",
                f"第{n}封",
                in_reply_to=sent.provider_message_id,
                message_id=f"<n{n}@client.test>",
            ).raw()
        )
    filer = MailFiler(sessions, replies(clock))

    async def flaky(ref: MailRef, raw: bytes) -> MailResult:
        if b"<n1@client.test>" in raw:
            raise RuntimeError("database unavailable")
        return await filer(ref, raw)

    async with MailboxReader(parse_imap_url(inbox.url), flaky) as reader:
        [result] = await reader.poll_once()
    assert result.outcome == InboundOutcome.FILED
    assert inbox.unseen_count() == 1  # the first one, for the next pass
    [later] = await read_once(sessions, clock, inbox.url)
    assert later.outcome == InboundOutcome.FILED and not later.duplicate
