"""Render workers: a small pool of processes that render templates under hard limits.

Admin templates are untrusted code, and no check inside jinja bounds every construct. So they
only ever run here: in a worker process started from the ``forkserver`` (never a fork of the
service, whose threads may hold locks), whose address space is capped (``RLIMIT_AS``), with a
CPU-time backstop (``RLIMIT_CPU``) and a wall-clock timeout per render after which the parent
kills the worker and starts another. The caller awaits results on its event loop without
blocking it (the pipe is watched with ``loop.add_reader``), so the service keeps answering
while a hostile template runs. A call sends a batch of jobs at once; each result comes back
as it is done, and the timeout applies to each job.

Owners start and close their pool in their lifecycle (aiohttp ``cleanup_ctx``, the runner,
the arq worker's start-up and shut-down); :func:`default_pool` serves the CLI and tests.
"""

from __future__ import annotations

import asyncio
import atexit
import logging
import math
import multiprocessing
import os
import resource
import signal
import threading
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from multiprocessing.connection import Connection
from multiprocessing.context import ForkServerContext
from multiprocessing.process import BaseProcess
from typing import Any, Final, Protocol, TypeVar

from notifier.templating.errors import TemplateError, TemplateRenderFailed, TemplateUnsafe

log = logging.getLogger("duban.templating")

T = TypeVar("T")
T_co = TypeVar("T_co", covariant=True)


class Job(Protocol[T_co]):
    """Work for a render worker: picklable, and ``run()`` there returns the result."""

    def run(self) -> T_co:
        """Do the work (inside the worker); raise TemplateError for a template's fault."""
        ...


@dataclass(frozen=True)
class RenderLimits:
    """Hard limits of the render workers (settings ``DUBAN_RENDER_*``)."""

    #: wall-clock seconds one render may take before its worker is killed
    timeout_seconds: float = 2.0
    #: address space of one worker process, in MiB (an idle worker uses about 30)
    memory_mb: int = 256
    #: worker processes in this pool (renders running at once)
    workers: int = 2


#: A render past its wall-clock limit that used less than this share of the limit in CPU time
#: was held up by a loaded machine, not by its template: it may go on, up to
#: :data:`OVERLOAD_GRACE` times the limit in all, and is then given up as "busy" (retried
#: later), not blamed on the template.
CPU_SHARE: Final = 0.5
#: seconds a new worker may take to start (a loaded machine, the forkserver's first start)
START_TIMEOUT: Final = 60.0
OVERLOAD_GRACE: Final = 10
_CLOCK_TICKS: Final = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100

_BUSY: Final = (
    "渲染进程繁忙（机器负载过高），稍后重试 / the render worker was held up by a loaded machine; "
    "it will be tried again"
)

_UNAVAILABLE: Final = (
    "渲染进程不可用，请稍后重试 / the render workers are unavailable, try again later"
)


def _timeout_error(limits: RenderLimits) -> TemplateUnsafe:
    return TemplateUnsafe(
        f"渲染超过 {limits.timeout_seconds:g} 秒，已终止 / rendering took longer than "
        f"{limits.timeout_seconds:g}s and was stopped"
    )


def _memory_error(limits: RenderLimits) -> TemplateUnsafe:
    return TemplateUnsafe(
        f"渲染超出内存上限 {limits.memory_mb} MB，已终止 / rendering needed more than "
        f"{limits.memory_mb} MB of memory and was stopped"
    )


def _died_error(limits: RenderLimits) -> TemplateUnsafe:
    return TemplateUnsafe(
        f"渲染进程超出内存（{limits.memory_mb} MB）或 CPU 时间上限，已终止 / the render worker "
        f"went past its memory ({limits.memory_mb} MB) or CPU-time limit and was stopped"
    )


# --- inside the worker ------------------------------------------------------------------


def _cap(kind: int, value: int) -> None:
    """Set the soft and hard limit of ``kind`` to ``value`` (or keep a lower hard limit)."""
    _, hard = resource.getrlimit(kind)
    if hard != resource.RLIM_INFINITY:
        value = min(value, hard)
    resource.setrlimit(kind, (value, hard if kind == resource.RLIMIT_CPU else value))


def _cpu_backstop(limits: RenderLimits) -> None:
    """Allow this render about twice its wall-clock budget in CPU seconds, then SIGXCPU."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    used = usage.ru_utime + usage.ru_stime
    _cap(resource.RLIMIT_CPU, math.ceil(used + 2 * limits.timeout_seconds + 1))


def _worker_main(conn: Connection, limits: RenderLimits) -> None:
    """A render worker: take batches of jobs, send back one result per job, until EOF."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    _cap(resource.RLIMIT_AS, limits.memory_mb * 1024 * 1024)
    conn.send((True, None))  # started: the first job's time and CPU are its own
    while True:
        try:
            jobs: list[Job[Any]] = conn.recv()
        except EOFError:
            return
        for job in jobs:
            _cpu_backstop(limits)
            reply: tuple[bool, Any]
            try:
                reply = (True, job.run())
            except TemplateError as exc:
                reply = (False, exc)
            except MemoryError:
                reply = (False, _memory_error(limits))
            except Exception as exc:
                reply = (False, TemplateRenderFailed(f"渲染失败 / render failed: {exc!r}"))
            conn.send(reply)


# --- the parent side --------------------------------------------------------------------

_FORKSERVER_LOCK = threading.Lock()


def _context() -> ForkServerContext:
    ctx = multiprocessing.get_context("forkserver")
    with _FORKSERVER_LOCK:
        # Workers are forked from a server that has the templating code imported already.
        ctx.set_forkserver_preload(["notifier.templating"])
    assert isinstance(ctx, ForkServerContext)
    return ctx


@dataclass(eq=False)
class _Worker:
    process: BaseProcess
    conn: Connection

    def kill(self) -> None:
        """Stop the process now and reap it."""
        self.conn.close()
        if self.process.is_alive():
            self.process.kill()
        self.process.join(5)


class _Overtime(Exception):
    """A job went past its time; ``error`` is its result."""

    def __init__(self, error: TemplateError) -> None:
        super().__init__(str(error))
        self.error = error


def _cpu_seconds(pid: int | None) -> float | None:
    """CPU seconds (user and system) process ``pid`` has used, from Linux's /proc; None when
    that cannot be read."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
        # after the command name: field 3 (state) is fields[0]; utime, stime are 14, 15
        return (int(fields[11]) + int(fields[12])) / _CLOCK_TICKS
    except (OSError, IndexError, ValueError):
        return None


async def _receive(conn: Connection) -> tuple[bool, Any]:
    """The next reply on ``conn``, waited for on the event loop (never blocking it)."""
    if not conn.poll():
        loop = asyncio.get_running_loop()
        ready: asyncio.Future[None] = loop.create_future()
        fd = conn.fileno()

        def readable() -> None:
            if not ready.done():
                ready.set_result(None)

        loop.add_reader(fd, readable)
        try:
            await ready
        finally:
            loop.remove_reader(fd)
    reply: tuple[bool, Any] = conn.recv()
    return reply


class RenderPool:
    """Worker processes under :class:`RenderLimits`, started on first use."""

    def __init__(self, limits: RenderLimits | None = None) -> None:
        self.limits = limits or RenderLimits()
        self._idle: list[_Worker] = []
        self._all: set[_Worker] = set()
        self._live = 0
        self._waiters: deque[asyncio.Future[None]] = deque()
        self._lock = threading.Lock()
        self.closed = False

    @property
    def processes(self) -> int:
        """Worker processes alive now (idle or busy)."""
        with self._lock:
            return sum(1 for w in self._all if w.process.is_alive())

    @property
    def worker_pids(self) -> set[int]:
        """Process ids of the workers the pool holds now (idle or busy)."""
        with self._lock:
            return {w.process.pid for w in self._all if w.process.pid}

    async def run(self, jobs: Sequence[Job[T]]) -> list[T | TemplateError]:
        """Run ``jobs`` in order on one worker; a job that times out or exhausts the memory
        limit gets a TemplateUnsafe and the rest go on in a fresh worker."""
        results: list[T | TemplateError] = []
        failures = 0
        while len(results) < len(jobs):
            worker = await self._checkout()
            try:
                done, healthy = await self._run_on(worker, jobs[len(results) :])
            except BaseException:
                await self._discard(worker)  # cancelled mid-batch: its state is unknown
                raise
            results.extend(done)
            if healthy:
                self._checkin(worker)
                continue
            await self._discard(worker)
            if not done:
                failures += 1  # the worker died before taking the batch
                if failures > 2:
                    raise TemplateRenderFailed(_UNAVAILABLE)
        return results

    async def _run_on(
        self, worker: _Worker, jobs: Sequence[Job[T]]
    ) -> tuple[list[T | TemplateError], bool]:
        """Results of the jobs done on ``worker``, and whether it is fit for more."""
        try:
            worker.conn.send(list(jobs))
        except OSError:
            return [], False
        done: list[T | TemplateError] = []
        for _ in jobs:
            try:
                ok, value = await self._reply(worker)
            except _Overtime as over:
                done.append(over.error)
                return done, False
            except (EOFError, OSError):
                if self.closed:
                    raise TemplateRenderFailed(_UNAVAILABLE) from None
                # Out of address space inside C code, or past the CPU backstop.
                done.append(_died_error(self.limits))
                return done, False
            if ok:
                done.append(value)
            else:
                assert isinstance(value, TemplateError)
                done.append(value)
        return done, True

    async def _reply(self, worker: _Worker) -> tuple[bool, Any]:
        """The worker's reply to its current job, within the limits (else :class:`_Overtime`).

        The wall-clock limit is judged against the CPU time the job used: a template that
        kept the CPU busy for its limit is unsafe, one that did not was only waiting for the
        CPU (a loaded machine) and may take longer, up to :data:`OVERLOAD_GRACE` limits."""
        limit = self.limits.timeout_seconds
        cpu_start = _cpu_seconds(worker.process.pid)
        waited = 0.0
        while True:
            try:
                async with asyncio.timeout(limit):
                    return await _receive(worker.conn)
            except TimeoutError:
                waited += limit
            used = _cpu_seconds(worker.process.pid)
            if cpu_start is None or used is None or used - cpu_start >= CPU_SHARE * limit:
                raise _Overtime(_timeout_error(self.limits)) from None
            if waited >= OVERLOAD_GRACE * limit:
                log.warning("render worker held up for %.1f s by a loaded machine", waited)
                raise _Overtime(TemplateRenderFailed(_BUSY)) from None

    async def _checkout(self) -> _Worker:
        while True:
            if self.closed:
                raise TemplateRenderFailed(_UNAVAILABLE)
            while self._idle:
                worker = self._idle.pop()
                if worker.process.is_alive():
                    return worker
                await self._discard(worker)
            if self._live < self.limits.workers:
                self._live += 1
                spawning = asyncio.ensure_future(asyncio.to_thread(self._spawn))
                try:
                    return await asyncio.shield(spawning)
                except asyncio.CancelledError:
                    spawning.add_done_callback(self._adopt)
                    raise
                except Exception as exc:
                    self._live -= 1
                    self._wake()
                    log.error("could not start a render worker: %s", type(exc).__name__)
                    raise TemplateRenderFailed(_UNAVAILABLE) from exc
            waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            self._waiters.append(waiter)
            try:
                await waiter
            finally:
                if waiter in self._waiters:
                    self._waiters.remove(waiter)

    def _spawn(self) -> _Worker:
        """Start one worker process (in a thread: the first start launches the forkserver)."""
        ctx = _context()
        parent, child = ctx.Pipe()
        process = ctx.Process(
            target=_worker_main, args=(child, self.limits), name="duban-render", daemon=True
        )
        process.start()
        child.close()
        worker = _Worker(process, parent)
        if not parent.poll(START_TIMEOUT) or parent.recv() != (True, None):
            worker.kill()
            raise TemplateRenderFailed(_UNAVAILABLE)
        with self._lock:
            self._all.add(worker)
            closed = self.closed
        if closed:
            self._forget(worker)
            raise TemplateRenderFailed(_UNAVAILABLE)
        return worker

    def _adopt(self, spawning: asyncio.Future[_Worker]) -> None:
        """A worker whose starter was cancelled: keep it for the next caller."""
        if spawning.cancelled() or spawning.exception() is not None:
            self._live -= 1
            self._wake()
        else:
            self._checkin(spawning.result())

    def _checkin(self, worker: _Worker) -> None:
        if self.closed:
            self._forget(worker)
            return
        self._idle.append(worker)
        self._wake()

    async def _discard(self, worker: _Worker) -> None:
        self._live -= 1
        await asyncio.to_thread(self._forget, worker)
        self._wake()

    def _forget(self, worker: _Worker) -> None:
        worker.kill()
        with self._lock:
            self._all.discard(worker)

    def _wake(self) -> None:
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done() and not waiter.get_loop().is_closed():
                waiter.set_result(None)
                return

    def close(self) -> None:
        """Kill every worker; renders in flight fail as unavailable. Safe to call twice."""
        with self._lock:
            self.closed = True
            workers = list(self._all)
        self._idle.clear()
        for worker in workers:
            self._forget(worker)

    async def aclose(self) -> None:
        """:meth:`close` without blocking the event loop."""
        await asyncio.to_thread(self.close)


_default: RenderPool | None = None


def default_pool() -> RenderPool:
    """The process-wide pool for callers without one of their own (CLI commands, tests)."""
    global _default
    if _default is None or _default.closed:
        _default = RenderPool()
    return _default


@atexit.register
def close_default_pool() -> None:
    """Kill the default pool's workers (at exit, or when a test run ends)."""
    if _default is not None:
        _default.close()
