"""E-mail send rate: Duban's e-mail channel beside Apprise (``mailto://``), both to one local sink.

    .venv/bin/python -m bench.email_rate --messages 2000 [--concurrency 30] [--no-delivery]

The sink is aiosmtpd on 127.0.0.1 in a second process (so it does not share this process's
CPU and GIL), counting the messages it accepts. In the same run, each phase sends
``--messages`` messages to it and is timed from the first send to the last acceptance:

* ``duban channel``: ``notifier.channels.email.EmailChannel.send`` for pre-built messages
  (the rendered zh reminder's text and HTML), ``--concurrency`` sends in flight;
* ``duban delivery``: the whole delivery path, ``notifier.delivery.Deliverer.deliver_due`` on a
  PostgreSQL database of its own with ``--messages`` pending e-mail reminders (claim, render,
  send, record), ``--concurrency`` rows in flight (skipped with ``--no-delivery`` or
  without PostgreSQL);
* ``duban worker xK``: the same rows in a new database, delivered by ``--workers`` real
  ``duban worker`` processes (arq, Redis): the rows are queued as the scan queues them
  (``notifier.worker.enqueue_due``), timed from there to the last acceptance (skipped with
  ``--no-delivery``, ``--workers 0`` or without PostgreSQL/Redis);
* ``apprise``: one ``apprise.Apprise`` with one ``mailto://`` URL, ``notify()`` once per
  message, one after another (how Apprise is called), same subject and body;
* ``apprise ×N threads``: ``--concurrency`` threads, each with its own Apprise object.

Each phase also reports the CPU seconds (user + system) its sending processes used while it
was timed: this process and its children (render workers, the ``duban worker`` processes and
theirs), not the sink, read from Linux's /proc. On a machine shared with other work the
wall-clock rates move with the load; the CPU a message costs moves much less.

Apprise throttles each plugin object to one send per 5.5 s by default; that throttle is
switched off (``request_rate_per_sec = 0``, as Apprise's own tests do) so the figures compare
sending, not waiting. Network: 127.0.0.1 only.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import socket
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from multiprocessing.sharedctypes import Synchronized
from typing import Any

from notifier.config import NotifierConfig

SUBJECT = "【督办提醒】督〔2026〕15号 关于加快推进老旧小区改造工作的批示（还有5个工作日）"
BODY = (
    "王建国同志：\n您单位承办的以下督查事项将于2026年12月14日到期（还有5个工作日），"
    "请对照目标任务抓紧推进，按时办结并报送办理情况。\n\n"
    "事项：督〔2026〕15号　关于加快推进老旧小区改造工作的批示\n来源：领导批示\n"
    "目标任务：年底前完成全市老旧小区改造任务的90%以上。\n"
    "责任单位：市住房和城乡建设局（牵头）\n完成时限：2026年12月14日\n\n"
    "如确需延期，请在完成时限前提出延期申请，说明原因和进展情况。\n\n市政府督查室\n"
)
HTML = "<html><body>" + "".join(f"<p>{line}</p>" for line in BODY.splitlines()) + "</body></html>"
MAIL_FROM = "市政府督查室 <duban@office.example.gov.cn>"
TO = "owner@example.gov.cn"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _sink_main(port: int, count: Synchronized[int], ready: Any, stop: Any) -> None:
    """The SMTP sink process: accept every message, count it."""
    from aiosmtpd.controller import Controller

    class Counting:
        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
            with count.get_lock():
                count.value += 1
            return "250 Message accepted"

    controller = Controller(Counting(), hostname="127.0.0.1", port=port)
    controller.start()
    ready.set()
    stop.wait()
    controller.stop()


class Sink:
    """aiosmtpd in a child process, with a shared counter of accepted messages."""

    def __init__(self) -> None:
        ctx = multiprocessing.get_context("spawn")
        self.port = _free_port()
        self.count: Synchronized[int] = ctx.Value("q", 0)
        self._ready = ctx.Event()
        self._stop = ctx.Event()
        self._proc = ctx.Process(
            target=_sink_main, args=(self.port, self.count, self._ready, self._stop), daemon=True
        )

    def __enter__(self) -> Sink:
        self._proc.start()
        if not self._ready.wait(30):
            raise RuntimeError("the SMTP sink did not start")
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._proc.join(10)
        if self._proc.is_alive():
            self._proc.kill()

    @property
    def pid(self) -> int | None:
        return self._proc.pid

    @property
    def accepted(self) -> int:
        return int(self.count.value)

    def wait_for(self, n: int, timeout: float = 60.0) -> None:
        """Poll until the sink has accepted ``n`` messages (the last DATA may still be counting)."""
        deadline = time.monotonic() + timeout
        while self.accepted < n:
            if time.monotonic() > deadline:
                raise RuntimeError(f"sink accepted {self.accepted} of {n}")
            time.sleep(0.001)


_TICKS = os.sysconf("SC_CLK_TCK")


def _cpu_used(skip: int | None = None) -> float:
    """CPU seconds used so far by this process and its live descendants, but ``skip`` (the
    sink) and its own (Linux /proc; 0 for a process that cannot be read)."""
    children: dict[int, list[tuple[int, float]]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="ascii", errors="replace") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        cpu = (int(fields[11]) + int(fields[12])) / _TICKS  # utime, stime
        children.setdefault(int(fields[1]), []).append((int(entry), cpu))
    own = os.times()
    total, stack = own.user + own.system, [os.getpid()]
    while stack:
        for pid, cpu in children.get(stack.pop(), []):
            if pid != skip:
                total += cpu
                stack.append(pid)
    return total


@dataclass
class Phase:
    name: str
    messages: int
    seconds: float
    #: CPU seconds of the sending processes while timed (see the module's docstring)
    cpu: float = 0.0

    @property
    def rate(self) -> float:
        return self.messages / self.seconds


def _timed(name: str, sink: Sink, n: int, send: Callable[[], None]) -> Phase:
    start_count = sink.accepted
    cpu = _cpu_used(sink.pid)
    started = time.perf_counter()
    send()
    sink.wait_for(start_count + n)
    seconds = time.perf_counter() - started
    if sink.accepted != start_count + n:
        raise RuntimeError(f"{name}: sink accepted {sink.accepted - start_count}, expected {n}")
    return Phase(name, n, seconds, _cpu_used(sink.pid) - cpu)


def duban_channel(sink: Sink, n: int, concurrency: int) -> Phase:
    """EmailChannel.send for ``n`` messages, ``concurrency`` in flight."""
    from notifier.channels.base import OutgoingMessage
    from notifier.channels.email import EmailChannel
    from notifier.config import MailConfig

    channel = EmailChannel(
        MailConfig(host="127.0.0.1", port=sink.port), mail_from=MAIL_FROM, pool_size=concurrency
    )
    messages = [
        OutgoingMessage(
            notification_id=i,
            kind="remind",
            channel="email",
            address=TO,
            text=BODY,
            subject=SUBJECT,
            html=HTML,
            recipient_name="王建国",
        )
        for i in range(1, n + 1)
    ]

    async def run() -> None:
        gate = asyncio.Semaphore(concurrency)

        async def one(message: OutgoingMessage) -> None:
            async with gate:
                await channel.send(message)

        await asyncio.gather(*(one(m) for m in messages))
        await channel.close()

    return _timed("duban channel", sink, n, lambda: asyncio.run(run()))


def duban_delivery(sink: Sink, n: int, concurrency: int) -> Phase | None:
    """``deliver_due`` over ``n`` pending e-mail rows in a PostgreSQL database of its own."""
    from models.db import create_engine, create_sessionmaker
    from notifier.channels.base import ChannelRegistry
    from notifier.channels.email import EmailChannel
    from notifier.channels.log import LogChannel
    from notifier.config import MailConfig
    from notifier.delivery import Deliverer, DeliveryOptions
    from notifier.ratelimit import MemoryLimiter
    from notifier.templating import Renderer
    from supervision.calendar import WorkCalendar
    from supervision.clock import SystemClock
    from testing.databases import create_pg_database, create_schema, drop_pg_database
    from testing.fault_support import OutboxProbe, seed_reminders

    async def run() -> Phase | None:
        url = await create_pg_database()
        if url is None:
            print("PostgreSQL unavailable: skipping the delivery path", file=sys.stderr)
            return None
        try:
            await create_schema(url)
            await seed_reminders(
                url,
                rows=n,
                chats=max(1, n // 5),
                channel="email",
                not_before=datetime.now(UTC) - timedelta(minutes=5),
            )
            engine = create_engine(url)
            clock = SystemClock()
            email = EmailChannel(
                MailConfig(host="127.0.0.1", port=sink.port),
                mail_from=MAIL_FROM,
                clock=clock,
                pool_size=concurrency,  # as build_channels does: one per send in flight
            )
            log = LogChannel()
            channels = ChannelRegistry([log, email], substitute=log)
            start_count = sink.accepted
            cpu = _cpu_used(sink.pid)
            started = time.perf_counter()
            counts = await Deliverer(
                create_sessionmaker(engine),
                channels=channels,
                renderer=Renderer(),
                clock=clock,
                limiter=MemoryLimiter(clock),
                options=DeliveryOptions(calendar=WorkCalendar(), worker="bench"),
                concurrency=concurrency,
            ).deliver_due()
            await asyncio.to_thread(sink.wait_for, start_count + n)
            seconds = time.perf_counter() - started
            cpu = _cpu_used(sink.pid) - cpu
            await channels.close()
            await engine.dispose()
            probe = OutboxProbe(url)
            by_status = await probe.counts()
            await probe.close()
            if counts.get("sent") != n or by_status.get("sent") != n:
                raise RuntimeError(f"delivery path: {dict(counts)}")
            return Phase("duban delivery", n, seconds, cpu)
        finally:
            await drop_pg_database(url)

    return asyncio.run(run())


def duban_workers(sink: Sink, n: int, concurrency: int, workers: int) -> Phase | None:
    """``workers`` ``duban worker`` processes deliver ``n`` pending e-mail rows queued in bulk."""
    import tempfile
    from pathlib import Path

    from redis.asyncio import Redis

    from models.db import create_engine, create_sessionmaker
    from notifier.worker import enqueue_due, rows_per_job
    from testing.databases import RedisLease, create_pg_database, create_schema, drop_pg_database
    from testing.fault_support import (
        OutboxProbe,
        WorkerProcess,
        seed_reminders,
        until,
        worker_env,
    )

    async def run() -> Phase | None:
        url = await create_pg_database()
        if url is None:
            print("PostgreSQL unavailable: skipping the worker path", file=sys.stderr)
            return None
        lease = RedisLease.claim()  # a Redis database of its own, as the tests take one
        if lease is None:
            print("Redis unavailable: skipping the worker path", file=sys.stderr)
            await drop_pg_database(url)
            return None
        redis_url = lease.url
        redis = Redis.from_url(redis_url)
        procs: list[WorkerProcess] = []
        try:
            await redis.flushdb()
            await create_schema(url)
            env = worker_env(
                database_url=url,
                redis_url=redis_url,
                concurrency=concurrency,
                sweep_every=60,
                sweep_after_seconds=600.0,
            ) | {"DUBAN_SMTP_URL": f"smtp://127.0.0.1:{sink.port}"}
            logs = Path(tempfile.mkdtemp(prefix="duban-bench-"))
            procs = [
                await WorkerProcess(env, logs / f"worker{k}.log").start() for k in range(workers)
            ]

            async def ready() -> bool:
                return all("notifier worker ready" in p.log_tail(400) for p in procs)

            await until(ready, timeout=300, what="the workers to start")
            # Seeded now, so the scan and sweep the workers ran at start found nothing.
            await seed_reminders(
                url,
                rows=n,
                chats=max(1, n // 5),
                channel="email",
                not_before=datetime.now(UTC) - timedelta(minutes=5),
            )
            engine = create_engine(url)
            arq = await _arq_redis(redis_url)
            start_count = sink.accepted
            cpu = _cpu_used(sink.pid)
            started = time.perf_counter()
            await enqueue_due(
                arq,
                create_sessionmaker(engine),
                now=datetime.now(UTC),
                per_job=rows_per_job(concurrency),
            )
            await asyncio.to_thread(sink.wait_for, start_count + n, 300.0)
            seconds = time.perf_counter() - started
            cpu = _cpu_used(sink.pid) - cpu
            await arq.aclose()
            await engine.dispose()
            probe = OutboxProbe(url)
            try:  # the last recordings may still be committing
                await until(probe.all_sent, timeout=60, what="every row recorded as sent")
            finally:
                by_status = await probe.counts()
                await probe.close()
            if by_status.get("sent") != n:
                raise RuntimeError(f"worker path: {by_status}")
            return Phase(f"duban worker x{workers}", n, seconds, cpu)
        finally:
            for p in procs:
                await p.stop()
            await redis.flushdb()
            await redis.aclose()
            lease.release()
            await drop_pg_database(url)

    return asyncio.run(run())


async def _arq_redis(url: str) -> Any:
    from arq import create_pool
    from arq.connections import RedisSettings

    return await create_pool(RedisSettings.from_dsn(url))


def _apprise_object(port: int) -> Any:
    import apprise

    obj = apprise.Apprise()
    url = (
        f"mailto://127.0.0.1:{port}?mode=insecure&from=duban@office.example.gov.cn"
        f"&to={TO}&name=督查室&format=text"
    )
    if not obj.add(url):
        raise RuntimeError("apprise rejected the mailto URL")
    for plugin in obj:
        plugin.request_rate_per_sec = 0  # Apprise's per-object throttle (5.5 s) off
    return obj


def apprise_sequential(sink: Sink, n: int) -> Phase:
    """One Apprise object, ``notify()`` once per message."""
    obj = _apprise_object(sink.port)

    def send() -> None:
        for _ in range(n):
            if not obj.notify(body=BODY, title=SUBJECT):
                raise RuntimeError("apprise notify failed")

    return _timed("apprise", sink, n, send)


def apprise_threads(sink: Sink, n: int, threads: int) -> Phase:
    """``threads`` threads, each with its own Apprise object, ``n`` messages in all."""
    objects = [_apprise_object(sink.port) for _ in range(threads)]

    def worker(k: int) -> None:
        obj = objects[k]
        for _ in range(k, n, threads):
            if not obj.notify(body=BODY, title=SUBJECT):
                raise RuntimeError("apprise notify failed")

    def send() -> None:
        with ThreadPoolExecutor(threads) as pool:
            list(pool.map(worker, range(threads)))

    return _timed(f"apprise x{threads} threads", sink, n, send)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument(
        "--concurrency",
        type=int,
        default=NotifierConfig().concurrency,
        help="sends in flight (default: the notifier's, %(default)s)",
    )
    parser.add_argument("--no-delivery", action="store_true", help="skip the delivery paths")
    parser.add_argument(
        "--workers", type=int, default=2, help="duban worker processes (0: no worker phase)"
    )
    parser.add_argument("--no-apprise", action="store_true", help="skip the Apprise phases")
    args = parser.parse_args(argv)
    n, c = args.messages, args.concurrency
    print(f"e-mail send rate: {n} messages per phase, concurrency {c}, pid {os.getpid()}")
    with Sink() as sink:
        phases = [duban_channel(sink, n, c)]
        if not args.no_delivery:
            delivered = duban_delivery(sink, n, c)
            if delivered is not None:
                phases.append(delivered)
            if args.workers > 0:
                by_workers = duban_workers(sink, n, c, args.workers)
                if by_workers is not None:
                    phases.append(by_workers)
        if not args.no_apprise:
            phases.append(apprise_sequential(sink, n))
            phases.append(apprise_threads(sink, n, c))
        total = sink.accepted
    head = f"{'phase':<24} {'messages':>8} {'seconds':>8} {'msg/s':>8}"
    print(f"{head} {'cpu s':>7} {'cpu ms/msg':>10}")
    for p in phases:
        line = f"{p.name:<24} {p.messages:>8} {p.seconds:>8.2f} {p.rate:>8.1f}"
        print(f"{line} {p.cpu:>7.2f} {p.cpu / p.messages * 1000:>10.2f}")
    by = {p.name: p for p in phases}
    if "apprise" in by:
        for p in phases:
            if p.name.startswith("duban"):
                print(f"{p.name} / apprise: {p.rate / by['apprise'].rate:.2f}x")
    if "duban delivery" in by:
        inproc = by["duban delivery"]
        for p in phases:
            if p.name.startswith("duban worker"):
                print(
                    f"{p.name} / in-process: {p.rate / inproc.rate:.2f}x the rate, "
                    f"{p.cpu / inproc.cpu:.2f}x the CPU a message"
                )
    print(f"load average at the end: {os.getloadavg()[0]:.1f}")
    print(f"sink accepted {total} messages in all")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
