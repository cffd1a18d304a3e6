"""Delivering outbox rows on SQLite and PostgreSQL: Telegram via the fake Bot API server,
retries on the schedule (moving the clock), 429 pauses, fallback to e-mail, cancellation."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from sqlalchemy import select

from models import DeliveryAttempt, ItemState, Notification
from notifier.delivery import Deliverer, Outcome
from notifier.templating import Renderer
from supervision.audit import Actor
from supervision.lifecycle import transition_assignment
from testing.fakes.telegram import FakeTelegram
from testing.load import loaded_seconds
from testing.notifier_support import (
    SmtpServer,
    limiter_for,
    options,
    registry,
    reminder,
)

# Runs on SQLite and PostgreSQL: delivery claims with SKIP LOCKED on PostgreSQL and
# runs one lane on SQLite.
pytestmark = pytest.mark.dialects


@pytest.fixture
async def tg(clock):
    async with FakeTelegram(
        global_rate=None, per_chat_rate=None, clock=lambda: clock.now().timestamp()
    ) as fake:
        yield fake


@pytest.fixture
def smtp():
    server = SmtpServer().start()
    yield server
    server.stop()


async def rows(sessions) -> list[Notification]:
    async with sessions() as s:
        return list((await s.scalars(select(Notification).order_by(Notification.id))).all())


async def attempts(sessions, nid: int | None = None) -> list[DeliveryAttempt]:
    async with sessions() as s:
        q = select(DeliveryAttempt).order_by(DeliveryAttempt.id)
        if nid is not None:
            q = q.where(DeliveryAttempt.notification_id == nid)
        return list((await s.scalars(q)).all())


def run_due(sessions, channels, clock, *, limiter=None, stop=None, **kw):
    """``Deliverer.deliver_due`` with the tests' renderer, limiter and options (kw: the
    deliverer's own arguments: concurrency, batch)."""
    return Deliverer(
        sessions,
        channels=channels,
        renderer=Renderer(),
        clock=clock,
        limiter=limiter or limiter_for(clock),
        options=options(),
        **kw,
    ).deliver_due(stop)


def run(sessions, nid, channels, clock, **kw):
    return Deliverer(
        sessions,
        channels=channels,
        renderer=Renderer(),
        clock=clock,
        limiter=kw.pop("limiter", None) or limiter_for(clock),
        options=options(**kw),
    ).deliver(nid)


async def test_reminder_goes_out_with_buttons_and_is_recorded(sessions, clock, tg):
    case = await reminder(sessions, clock, channels=("chat",))
    channels = registry(telegram=tg)
    result = await run(sessions, case.ids[0], channels, clock)
    await channels.close()

    assert result.outcome == Outcome.SENT
    [msg] = tg.sent
    assert msg.chat_id == 555 and msg.parse_mode == "HTML"
    assert "老旧小区改造" in msg.text and "王建国" in msg.text
    buttons = msg.reply_markup["inline_keyboard"][0]
    assert [b["text"] for b in buttons] == ["填报进展", "申请办结", "申请延期"]
    a = case.assignment.id
    assert [b["callback_data"] for b in buttons] == [f"a:r:{a}", f"a:c:{a}", f"a:e:{a}"]
    [row] = await rows(sessions)
    assert row.status == "sent" and row.sent_at == clock.now()
    assert (row.chat_id, row.chat_message_id) == (555, msg.message_id)
    assert row.body_text == msg.raw_text and row.attempts == 1
    [attempt] = await attempts(sessions)
    assert (attempt.channel, attempt.outcome) == ("telegram", "sent")
    assert attempt.provider_message_id == str(msg.message_id)
    assert attempt.finished_at is not None and attempt.worker == "test"
    # Delivering again is harmless: the row is done.
    assert (await run(sessions, row.id, channels, clock)).outcome == Outcome.DONE
    assert len(tg.sent) == 1


async def test_blocked_bot_fails_and_falls_back_to_email(sessions, clock, tg, smtp):
    tg.block(555)
    case = await reminder(sessions, clock, channels=("chat",), email="wang@example.gov.cn")
    channels = registry(telegram=tg, mail=smtp.config(), clock=clock)
    counts = await run_due(sessions, channels, clock)
    await channels.close()

    assert counts == {"failed": 1, "sent": 1}
    chat, mail = await rows(sessions)
    assert chat.status == "failed" and "blocked by the user" in (chat.last_error or "")
    assert mail.channel == "email" and mail.status == "sent"
    assert mail.fallback_of_id == chat.id and mail.dedupe_key == chat.dedupe_key + ":fallback"
    assert mail.address == "wang@example.gov.cn" and mail.assignment_id == case.assignment.id
    [message] = smtp.sink.messages
    assert message["To"].endswith("<wang@example.gov.cn>")
    outcomes = [(a.notification_id, a.channel, a.outcome) for a in await attempts(sessions)]
    assert outcomes == [(chat.id, "telegram", "permanent"), (mail.id, "email", "sent")]


async def test_no_fallback_when_the_step_already_emails(sessions, clock, tg):
    tg.forget(555)
    case = await reminder(sessions, clock, channels=("chat", "email"))
    result = await run(sessions, case.ids[0], registry(telegram=tg), clock)
    assert result.outcome == Outcome.FAILED and result.fallback_id is None
    assert "chat not found" in (result.error or "")
    assert len(await rows(sessions)) == 2


async def test_no_fallback_without_an_email_address(sessions, clock, tg):
    tg.block(555)
    case = await reminder(sessions, clock, channels=("chat",))
    async with sessions() as s, s.begin():
        (await s.get(type(case.owner), case.owner.id)).email = None
    result = await run(sessions, case.ids[0], registry(telegram=tg), clock)
    assert result.outcome == Outcome.FAILED and result.fallback_id is None
    assert len(await rows(sessions)) == 1


async def test_transient_errors_retry_on_the_schedule(sessions, clock, tg):
    case = await reminder(sessions, clock, channels=("chat",))
    nid = case.ids[0]
    channels = registry(telegram=tg)
    tg.fail_next(2, 500)
    start = clock.now()

    first = await run(sessions, nid, channels, clock)
    assert first.outcome == Outcome.RETRY and first.retry_at == start + timedelta(seconds=10)
    assert (await run(sessions, nid, channels, clock)).outcome == Outcome.NOT_DUE
    clock.advance(timedelta(seconds=10))
    second = await run(sessions, nid, channels, clock)
    assert second.outcome == Outcome.RETRY
    assert second.retry_at == start + timedelta(seconds=70)
    clock.advance(timedelta(seconds=59))
    assert (await run(sessions, nid, channels, clock)).outcome == Outcome.NOT_DUE
    clock.advance(timedelta(seconds=1))
    assert (await run(sessions, nid, channels, clock)).outcome == Outcome.SENT
    await channels.close()

    [row] = await rows(sessions)
    assert row.status == "sent" and row.attempts == 3 and len(tg.sent) == 1
    assert [a.outcome for a in await attempts(sessions)] == ["transient", "transient", "sent"]


async def test_retries_used_up_fall_back_to_the_log_channel_visibly(sessions, clock, tg, caplog):
    caplog.set_level(logging.INFO)
    case = await reminder(sessions, clock, channels=("chat",))
    channels = registry(telegram=tg)  # no SMTP configured: e-mail goes to the log channel
    tg.fail_next(2, 502)
    nid = case.ids[0]
    assert (await run(sessions, nid, channels, clock, retry_schedule=(5,))).outcome == "retry"
    clock.advance(timedelta(seconds=5))
    result = await run(sessions, nid, channels, clock, retry_schedule=(5,))
    assert result.outcome == Outcome.FAILED and result.fallback_id is not None
    assert "gave up after 2 attempts" in (result.error or "")
    fallback = await run(sessions, result.fallback_id, channels, clock)
    await channels.close()

    assert fallback.outcome == Outcome.SENT
    chat, mail = await rows(sessions)
    assert chat.status == "failed" and mail.status == "sent"
    assert mail.subject and "NOT SENT" in (mail.last_error or "")
    [logged] = await attempts(sessions, mail.id)
    assert (logged.channel, logged.outcome) == ("log", "sent")
    assert "email is not configured" in (logged.error or "")
    assert "NOT SENT (log channel)" in caplog.text


async def test_429_pauses_the_whole_bot(sessions, clock, tg):
    cases = [
        await reminder(sessions, clock, chat_id=chat, channels=("chat",))
        for chat in (901, 902, 903)
    ]
    channels = registry(telegram=tg)
    limiter = limiter_for(clock)
    tg.force_429(1, retry_after=7)
    start = clock.now()
    counts = await run_due(sessions, channels, clock, limiter=limiter, concurrency=1)
    assert counts == {"retry": 1, "sent": 2}
    # The other chats waited out the pause: the clock moved by retry_after before they went.
    assert all(m.at >= start.timestamp() + 7 for m in tg.sent)
    counts = await run_due(sessions, channels, clock, limiter=limiter)
    await channels.close()
    assert counts == {"sent": 1}
    assert tg.violations == 0
    assert sum(r.status == 429 for r in tg.requests) == 1
    assert sorted(m.chat_id for m in tg.sent) == [901, 902, 903]
    first = (await rows(sessions))[0]
    assert first.id == cases[0].ids[0] and first.attempts == 1  # a 429 costs no retry


async def test_flood_limits_hold_per_chat(sessions, clock):
    """Five reminders to one chat go out one a second, never refused."""
    async with FakeTelegram(
        global_rate=30, per_chat_rate=1, per_chat_burst=1.2, clock=lambda: clock.now().timestamp()
    ) as fake:
        case = await reminder(sessions, clock, chat_id=777, channels=("chat",))
        for n in range(4):
            await reminder(sessions, clock, case=case, channels=("chat",), occurrence=f"x{n}")
        channels = registry(telegram=fake)
        start = clock.now()
        # One shared test clock: concurrent sleepers would skew arrivals.
        counts = await run_due(sessions, channels, clock, concurrency=1)
        await channels.close()
    assert counts == {"sent": 5}
    assert fake.violations == 0 and all(r.status == 200 for r in fake.requests)
    assert clock.now() - start >= timedelta(seconds=4)


async def test_closed_assignment_cancels_the_reminder(sessions, clock, tg):
    case = await reminder(sessions, clock, channels=("chat",))
    async with sessions() as s, s.begin():
        a = await s.get(type(case.assignment), case.assignment.id)
        await transition_assignment(s, a, ItemState.CLOSED, actor=Actor.system("test"), clock=clock)
    result = await run(sessions, case.ids[0], registry(telegram=tg), clock)
    assert result.outcome == Outcome.CANCELLED and tg.sent == []
    [row] = await rows(sessions)
    assert row.status == "cancelled" and "closed" in (row.last_error or "")
    [attempt] = await attempts(sessions)
    assert attempt.outcome == "skipped"


async def test_review_outcome_still_goes_to_a_closed_assignment(sessions, clock, tg):
    """Only ladder reminders are dropped when the work closed; news about it is not."""
    case = await reminder(sessions, clock, channels=("chat",), kind="review_outcome")
    async with sessions() as s, s.begin():
        a = await s.get(type(case.assignment), case.assignment.id)
        await transition_assignment(s, a, ItemState.CLOSED, actor=Actor.system("test"), clock=clock)
        row = await s.get(Notification, case.ids[0])
        row.payload = {"decision": "approved", "subject": "completion", "comment": "同意办结"}
    result = await run(sessions, case.ids[0], registry(telegram=tg), clock)
    assert result.outcome == Outcome.SENT
    assert "同意办结" in tg.sent[0].text and tg.sent[0].reply_markup is None


async def test_a_lapsed_lease_is_claimed_again(sessions, clock, tg):
    """A worker that died mid-send leaves ``sending``; after the lease the row goes out."""
    case = await reminder(sessions, clock, channels=("chat",))
    nid = case.ids[0]
    async with sessions() as s, s.begin():
        row = await s.get(Notification, nid)
        row.status = "sending"
        row.next_attempt_at = clock.now() + timedelta(seconds=300)
        s.add(
            DeliveryAttempt(
                notification_id=nid, channel="telegram", started_at=clock.now(), outcome="sending"
            )
        )
    channels = registry(telegram=tg)
    assert (await run(sessions, nid, channels, clock)).outcome == Outcome.BUSY
    clock.advance(timedelta(seconds=301))
    assert (await run(sessions, nid, channels, clock)).outcome == Outcome.SENT
    await channels.close()
    old, new = await attempts(sessions)
    assert old.outcome == "transient" and "abandoned" in (old.error or "")
    assert new.outcome == "sent"


async def test_not_due_before_the_send_window(sessions, clock, tg):
    case = await reminder(sessions, clock, channels=("chat",))
    async with sessions() as s, s.begin():
        (await s.get(Notification, case.ids[0])).not_before = clock.now() + timedelta(hours=1)
    result = await run(sessions, case.ids[0], registry(telegram=tg), clock)
    assert result.outcome == Outcome.NOT_DUE and result.retry_at is not None
    assert tg.sent == []


async def test_a_429_burst_at_full_rate_causes_no_violation(sessions, clock):
    """Sixty reminders at the bot's 30/s limit, with a run of forced 429s in the middle."""
    async with FakeTelegram(
        global_rate=30, per_chat_rate=1, clock=lambda: clock.now().timestamp()
    ) as fake:
        for n in range(60):
            await reminder(sessions, clock, chat_id=5000 + n, channels=("chat",))
        channels = registry(telegram=fake)
        limiter = limiter_for(clock)
        fake.force_429(3, retry_after=2)
        start = clock.now()
        total: dict[str, int] = {}
        for _ in range(5):
            counts = await run_due(sessions, channels, clock, limiter=limiter, concurrency=1)
            for k, v in counts.items():
                total[k] = total.get(k, 0) + v
            clock.advance(timedelta(seconds=2))
        await channels.close()
    assert len(fake.sent) == 60 and fake.violations == 0
    assert sum(r.status == 429 for r in fake.requests) == 3  # only the forced ones
    assert total["sent"] == 60
    assert clock.now() - start >= timedelta(seconds=59 / 30 + 3 * 2)
    assert {r.status for r in await rows(sessions)} == {"sent"}


async def test_review_outcome_and_bulletin_render_from_their_records(sessions, clock, tg):
    from models import Bulletin, Report, Role
    from testing import factories as f

    case = await reminder(sessions, clock, channels=("chat",), kind="review_outcome")
    async with sessions() as s, s.begin():
        reviewer = await f.person(s, name="陈静", roles={Role.SUPERVISOR})
        report = Report(
            assignment_id=case.assignment.id, author_id=case.owner.id, kind="completion",
            text="已全部完成", review_state="approved", reviewed_by_id=reviewer.id,
            reviewed_at=clock.now(), review_comment="材料齐全，同意办结",
        )  # fmt: skip
        s.add(report)
        await s.flush()
        row = await s.get(Notification, case.ids[0])
        row.payload = {"report_id": report.id, "subject": "completion", "decision": "approved"}
        bulletin = Bulletin(
            period="2026-10", starts_on=clock.now().date(), ends_on=clock.now().date(),
            data={
                "number": "2026年第10期", "period_label": "2026年10月",
                "issued_on": "2026-11-02",
                "rows": [{"rank": 1, "unit_name": "市教育局", "assigned": 0,
                          "closed_on_time": 0, "overdue": 0, "extensions": 0,
                          "on_time_rate": None}],
                "overdue_items": [], "praised_units": [],
            },
        )  # fmt: skip
        s.add(bulletin)
        await s.flush()
        bulletin_id = bulletin.id
    await reminder(sessions, clock, case=case, channels=("chat",), kind="bulletin", occurrence="b")
    async with sessions() as s, s.begin():
        row = await s.get(Notification, case.ids[0])
        row.assignment_id = None
        row.payload = {"bulletin_id": bulletin_id}
    channels = registry(telegram=tg)
    counts = await run_due(sessions, channels, clock)
    await channels.close()
    assert counts == {"sent": 2}
    bulletin_msg, outcome = sorted(tg.sent, key=lambda m: "审核结果" in m.text)
    assert "材料齐全，同意办结" in outcome.text and "陈静" in outcome.text
    assert "2026年第10期" in bulletin_msg.text and "市教育局" in bulletin_msg.text


async def test_concurrent_claims_send_once(sessions, clock, tg):
    """Five workers deliver the same row at once: one sends, the others find it taken."""
    import asyncio

    case = await reminder(sessions, clock, channels=("chat",))
    channels = registry(telegram=tg)
    results = await asyncio.gather(*(run(sessions, case.ids[0], channels, clock) for _ in range(5)))
    await channels.close()
    outcomes = sorted(r.outcome.value for r in results)
    assert outcomes.count("sent") == 1 and len(tg.sent) == 1
    assert set(outcomes) <= {"sent", "busy", "done"}
    assert len(await attempts(sessions)) == 1


async def test_a_late_result_after_the_lease_does_not_clobber_the_row(sessions, clock, tg):
    import asyncio

    from notifier.channels.base import BaseChannel, ChannelRegistry, SendResult

    entered, release = asyncio.Event(), asyncio.Event()

    class Stuck(BaseChannel):
        kind = "telegram"

        async def send(self, message):
            entered.set()
            await release.wait()
            return SendResult(provider_message_id="late", chat_id=555, chat_message_id=999)

    case = await reminder(sessions, clock, channels=("chat",))
    nid = case.ids[0]
    stuck = asyncio.create_task(run(sessions, nid, ChannelRegistry([Stuck()]), clock))
    await asyncio.wait_for(entered.wait(), 30)
    clock.advance(timedelta(seconds=301))  # the first worker's lease runs out
    channels = registry(telegram=tg)
    assert (await run(sessions, nid, channels, clock)).outcome == Outcome.SENT
    await channels.close()
    release.set()
    assert (await stuck).outcome == Outcome.DONE
    [row] = await rows(sessions)
    assert row.status == "sent" and row.chat_message_id == tg.sent[0].message_id
    first, second = await attempts(sessions)
    assert first.outcome == "sent" and "after the lease ran out" in (first.error or "")
    assert second.outcome == "sent"


async def test_a_pause_set_after_the_slot_was_granted_holds_the_send(sessions, clock, tg):
    """Another worker's 429 lands between our rate slot and our send: nothing goes out."""
    from notifier.ratelimit import MemoryLimiter

    class PauseAfterGrant(MemoryLimiter):
        async def acquire(self, rates, *, max_wait):
            wait = await super().acquire(rates, max_wait=max_wait)
            await self.pause(rates[0].key, 5)
            return wait

    case = await reminder(sessions, clock, channels=("chat",))
    channels = registry(telegram=tg)
    result = await run(sessions, case.ids[0], channels, clock, limiter=PauseAfterGrant(clock))
    assert result.outcome == Outcome.DEFERRED and tg.sent == []
    assert result.retry_at == clock.now() + timedelta(seconds=5)
    [row] = await rows(sessions)
    assert row.status == "pending" and row.attempts == 0 and row.next_attempt_at == result.retry_at
    assert await attempts(sessions) == []  # no try was made
    clock.advance(timedelta(seconds=5))
    assert (await run(sessions, row.id, channels, clock)).outcome == Outcome.SENT
    await channels.close()


async def _chat_rows(sessions, clock, n: int):
    case = await reminder(sessions, clock, channels=("chat",))
    ids = list(case.ids)
    for k in range(n - 1):
        await reminder(sessions, clock, case=case, channels=("chat",), occurrence=f"b{k}")
        ids += case.ids
    return case, ids


class _Recording:
    """A Telegram stand-in that takes a moment per send and keeps what it was given."""

    kind = "telegram"

    def __init__(self) -> None:
        self.sent: list[int] = []

    def rates(self, message):
        return ()

    async def send(self, message):
        import asyncio

        from notifier.channels.base import SendResult

        await asyncio.sleep(0)  # let the other deliverer run between sends
        self.sent.append(message.notification_id)
        return SendResult(chat_id=555, chat_message_id=message.notification_id)

    async def close(self) -> None:
        pass


async def test_two_deliverers_at_once_send_each_row_once(sessions, clock):
    """Two ``deliver_due`` over one outbox at the same time (batches claimed under lock,
    SKIP LOCKED on PostgreSQL): every row goes out exactly once, with one attempt."""
    import asyncio

    from notifier.channels.base import ChannelRegistry

    _, ids = await _chat_rows(sessions, clock, 40)
    channel = _Recording()
    channels = ChannelRegistry([channel])

    first, second = await asyncio.gather(
        *(run_due(sessions, channels, clock, concurrency=4) for _ in range(2))
    )
    assert sorted(channel.sent) == sorted(ids)
    assert first["sent"] + second["sent"] == 40
    assert {r.status for r in await rows(sessions)} == {"sent"}
    assert [a.outcome for a in await attempts(sessions)] == ["sent"] * 40


async def test_a_batch_takes_back_rows_whose_lease_ran_out_and_leaves_live_leases(
    sessions, clock, tg
):
    _, (fresh, lapsed, leased) = await _chat_rows(sessions, clock, 3)
    async with sessions() as s, s.begin():
        for nid, lease in ((lapsed, -1), (leased, 300)):
            row = await s.get(Notification, nid)
            row.status = "sending"
            row.next_attempt_at = clock.now() + timedelta(seconds=lease)
            s.add(
                DeliveryAttempt(
                    notification_id=nid, channel="telegram", started_at=clock.now(),
                    outcome="sending", worker="gone:1",
                )
            )  # fmt: skip
    channels = registry(telegram=tg)
    counts = await run_due(sessions, channels, clock)
    await channels.close()
    assert counts == {"sent": 2}
    by_id = {r.id: r for r in await rows(sessions)}
    assert by_id[fresh].status == by_id[lapsed].status == "sent"
    assert by_id[leased].status == "sending"  # its worker may still be sending it
    old = [a for a in await attempts(sessions, lapsed) if a.worker == "gone:1"]
    assert old[0].outcome == "transient" and "abandoned" in (old[0].error or "")
    [live] = await attempts(sessions, leased)
    assert live.outcome == "sending"


async def test_a_row_whose_records_cannot_be_read_does_not_hold_up_its_batch(sessions, clock, tg):
    _, (good, bad) = await _chat_rows(sessions, clock, 2)
    async with sessions() as s, s.begin():
        row = await s.get(Notification, bad)
        row.payload = {"step": "remind", "report_id": "not-a-number"}
    channels = registry(telegram=tg)
    counts = await run_due(sessions, channels, clock)
    await channels.close()
    assert counts == {"sent": 1, "retry": 1}
    by_id = {r.id: r for r in await rows(sessions)}
    assert by_id[good].status == "sent"
    assert by_id[bad].status == "pending" and by_id[bad].attempts == 1
    assert by_id[bad].next_attempt_at == clock.now() + timedelta(seconds=10)
    assert "ValueError" in (by_id[bad].last_error or "")
    [attempt] = await attempts(sessions, bad)
    assert attempt.outcome == "transient"


async def test_rows_claimed_after_a_stop_are_given_back_untried(sessions, clock):
    """``stop`` set while a batch is out: the sends not yet started are not made; their rows
    are pending again at once, with no attempt logged."""
    import asyncio

    from notifier.channels.base import ChannelRegistry

    _, ids = await _chat_rows(sessions, clock, 3)
    stop = asyncio.Event()

    class StopOnFirst(_Recording):
        async def send(self, message):
            stop.set()
            return await super().send(message)

    channel = StopOnFirst()
    counts = await run_due(sessions, ChannelRegistry([channel]), clock, concurrency=3, stop=stop)
    # (a second lane that claimed before the stop may give the rows back once more)
    assert counts["sent"] == 1 and counts["deferred"] >= 2 and set(counts) == {"sent", "deferred"}
    assert channel.sent == ids[:1]
    by_id = {r.id: r for r in await rows(sessions)}
    assert [by_id[n].status for n in ids] == ["sent", "pending", "pending"]
    assert all(by_id[n].next_attempt_at == clock.now() for n in ids[1:])
    assert len(await attempts(sessions)) == 1


async def test_a_rate_limiter_that_cannot_be_reached_leaves_every_row_recorded(sessions, clock, tg):
    """Redis down under the shared rate limiter: nothing is sent, and every claimed row gets
    its transient attempt and a retry at once (none left ``sending`` until its lease ends)."""
    from redis.asyncio import Redis

    from notifier.ratelimit import RedisLimiter
    from testing.notifier_support import free_port

    _, ids = await _chat_rows(sessions, clock, 3)
    dead = Redis(host="127.0.0.1", port=free_port(), socket_connect_timeout=1)
    channels = registry(telegram=tg)
    try:
        counts = await run_due(sessions, channels, clock, limiter=RedisLimiter(dead, clock=clock))
    finally:
        await channels.close()
        await dead.aclose()
    assert counts == {"retry": 3} and tg.sent == []
    assert {r.status for r in await rows(sessions)} == {"pending"}
    outcomes = [(a.outcome, a.error) for a in await attempts(sessions)]
    assert outcomes == [("transient", "unexpected error: ConnectionError")] * len(ids)


async def test_a_row_that_fails_to_prepare_does_not_hold_up_its_batch(sessions, clock, tg):
    """An unexpected error while preparing one row (here: a channel nobody serves, with no
    log channel to stand in) retries that row; the rest of the batch goes out."""
    from models import Channel
    from notifier.channels.base import ChannelRegistry
    from notifier.channels.telegram import TelegramChannel

    _, (good, bad) = await _chat_rows(sessions, clock, 2)
    async with sessions() as s, s.begin():
        (await s.get(Notification, bad)).channel = Channel.FEISHU  # no robot configured
    channels = ChannelRegistry([TelegramChannel(tg.token, api_base=tg.base_url)])
    try:
        counts = await run_due(sessions, channels, clock)
    finally:
        await channels.close()
    assert counts == {"sent": 1, "retry": 1}
    by_id = {r.id: r for r in await rows(sessions)}
    assert by_id[good].status == "sent"
    assert by_id[bad].status == "pending" and "KeyError" in (by_id[bad].last_error or "")


#: runs for far longer than the quick pool's timeout
FOREVER = "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}"
#: doubles a string by %-formatting until it passes the render workers' address-space cap
DOUBLING = "{% set x = 'x' * 100000 %}" + "{% set x = '%s%s' % (x, x) %}" * 12 + "{{ x|length }}"


@pytest.mark.parametrize("hostile", [FOREVER, DOUBLING], ids=["time", "memory"])
async def test_a_hostile_override_fails_its_row_for_good(sessions, clock, tg, hostile):
    """A template over the render limits fails its row at once with the reason (not retried
    on the schedule); the rest of the batch is sent."""
    from notifier.templating import InMemoryTemplateStore, RenderLimits, RenderPool

    # The benign e-mail render in the same batch gets a fresh worker after the kill, and the
    # limit covers that worker's start: stretch it with the machine's load, but to 5 s at
    # most. A claim renders inside its transaction, so on SQLite the other lane's claim waits
    # for the write lock as long as the hostile render runs, and gives up at the busy timeout
    # (10 s, `models.db`): a limit stretched to 10 s at load 5 made that lane fail instead.
    # The memory case gets time enough to reach the cap however loaded the machine is.
    limit = min(loaded_seconds(1.0), 5.0) if hostile == FOREVER else 30
    pool = RenderPool(RenderLimits(timeout_seconds=limit))

    await reminder(sessions, clock, channels=("chat", "email"), email="wang@example.gov.cn")
    store = InMemoryTemplateStore({("remind", "telegram", "zh", "text"): hostile})
    channels = registry(telegram=tg)
    try:
        counts = await Deliverer(
            sessions,
            channels=channels,
            renderer=Renderer(store, pool=pool),
            clock=clock,
            limiter=limiter_for(clock),
            options=options(),
        ).deliver_due()
    finally:
        await channels.close()
        await pool.aclose()
    assert counts == {"failed": 1, "sent": 1}
    chat, mail = await rows(sessions)
    assert mail.channel == "email" and mail.status == "sent"
    assert chat.status == "failed" and chat.next_attempt_at is None and tg.sent == []
    reason = f"渲染超过 {limit:g} 秒" if hostile == FOREVER else "内存"
    assert "template remind.telegram" in (chat.last_error or "")
    assert reason in (chat.last_error or "")
    [attempt] = await attempts(sessions, chat.id)
    assert attempt.outcome == "permanent" and reason in (attempt.error or "")
    clock.advance(timedelta(days=1))
    assert (await run(sessions, chat.id, registry(telegram=tg), clock)).outcome == Outcome.DONE


async def test_a_stored_override_cannot_send_active_email_html(sessions, clock, smtp):
    """An override saved before the allow-lists (or written to the table by hand) is
    sanitized when the message is rendered for delivery."""
    from models import Template
    from notifier.template_store import DbTemplateStore

    await reminder(sessions, clock, channels=("email",), email="wang@example.gov.cn")
    async with sessions() as s, s.begin():
        s.add(
            Template(
                step="remind", channel="email", locale="zh", part="html", version=1,
                body='<p>{{ item.ref }}</p><svg onload="alert(1)"></svg>'
                '<a href="&#106;avascript:alert(1)">详情</a><img src=x onerror=alert(1)>'
                "<style>p{}</style>",
            )
        )  # fmt: skip
    channels = registry(mail=smtp.config(), clock=clock)
    try:
        counts = await Deliverer(
            sessions,
            channels=channels,
            renderer=Renderer(DbTemplateStore(sessions)),
            clock=clock,
            limiter=limiter_for(clock),
            options=options(),
        ).deliver_due()
    finally:
        await channels.close()
    assert counts == {"sent": 1}
    [row] = await rows(sessions)
    html = row.body_html or ""
    assert "<p>" in html and "详情" in html
    for gone in ("<svg", "onload", "avascript", "<img", "onerror", "<style"):
        assert gone not in html, gone
    [message] = smtp.sink.messages
    part = next(p for p in message.walk() if p.get_content_type() == "text/html")
    sent_html = part.get_payload(decode=True).decode()
    assert "详情" in sent_html and "<svg" not in sent_html and "onerror" not in sent_html
