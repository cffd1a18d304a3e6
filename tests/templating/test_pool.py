"""Render workers: hard limits from outside the sandbox, a loop that never waits on a render,
and no process left behind."""

from __future__ import annotations

import asyncio
import os
import pickle

import pytest

from notifier.templating import (
    DEFAULT_TEMPLATES_DIR,
    RenderLimits,
    RenderPool,
    TemplateRenderFailed,
    TemplateUnknownVariable,
    TemplateUnsafe,
    sample_context,
    validate,
)
from notifier.templating.jobs import ValidateJob

#: runs for far longer than any timeout in these tests
FOREVER = "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}"
#: 300 MB in one string, by a filter: nothing inside the sandbox stops it (a repetition that
#: long is refused at once: test_sandbox), the address-space cap does
HUGE = "{{ ('x'|center(300000000))|length }}"


def job(source: str) -> ValidateJob:
    context = sample_context("remind")
    return ValidateJob(source, "remind", "log", "text", "zh", DEFAULT_TEMPLATES_DIR, context)


def pids(pool: RenderPool) -> set[int]:
    return pool.worker_pids


def gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


async def test_a_render_past_the_timeout_is_killed_and_the_batch_goes_on() -> None:
    pool = RenderPool(RenderLimits(timeout_seconds=0.5, workers=1))
    try:
        [first] = await pool.run([job("{{ item.ref }}")])
        assert first == "督字〔2026〕37号"
        [pid] = pids(pool)
        results = await pool.run([job("前 {{ item.ref }}"), job(FOREVER), job("后 {{ step }}")])
        assert results[0] == "前 督字〔2026〕37号" and results[2] == "后 remind"
        assert isinstance(results[1], TemplateUnsafe)
        assert "0.5" in str(results[1]) and "渲染超过" in str(results[1])
        assert gone(pid), "the stuck worker was killed"
        assert pool.processes == 1, "and replaced by one fresh worker"
    finally:
        pool.close()
    assert pool.processes == 0


async def test_the_address_space_cap_stops_a_huge_value(quick_pool: RenderPool) -> None:
    with pytest.raises(TemplateUnsafe, match=r"MemoryError|内存"):
        await validate(HUGE, step="remind", channel="log", pool=quick_pool)
    # The worker survives its MemoryError and serves the next render.
    assert await validate("{{ step }}", step="remind", channel="log", pool=quick_pool) == "remind"


async def test_a_join_over_a_generator_of_huge_strings_is_bounded(quick_pool: RenderPool) -> None:
    source = "{{ (range(1000)|map('string')|map('center', 1000000))|join }}"
    with pytest.raises(TemplateUnsafe):
        await validate(source, step="remind", channel="telegram", pool=quick_pool)
    source = "{{ '%s' % ('x' * 10**9) }}"
    with pytest.raises(TemplateUnsafe):
        await validate(source, step="remind", channel="telegram", pool=quick_pool)


async def test_the_event_loop_runs_while_a_worker_renders(quick_pool: RenderPool) -> None:
    """Rendering on the loop would finish (or time out) before any other task ran."""
    render = asyncio.ensure_future(quick_pool.run([job(FOREVER)]))
    ticks = 0
    while ticks < 20:
        await asyncio.sleep(0)
        ticks += 1
    assert not render.done()
    [result] = await render
    assert isinstance(result, TemplateUnsafe)


async def test_a_cancelled_render_kills_its_worker() -> None:
    pool = RenderPool(RenderLimits(timeout_seconds=30, workers=1))
    try:
        await pool.run([job("{{ step }}")])
        started = pids(pool)
        render = asyncio.ensure_future(pool.run([job(FOREVER)]))
        for _ in range(5):
            await asyncio.sleep(0)
        render.cancel()
        with pytest.raises(asyncio.CancelledError):
            await render
        assert all(gone(pid) for pid in started)
        assert pool.processes == 0
        assert await pool.run([job("{{ step }}")]) == ["remind"]
    finally:
        pool.close()


async def test_a_closed_pool_refuses_work_and_leaves_no_process() -> None:
    pool = RenderPool(RenderLimits(workers=2))
    await asyncio.gather(*(pool.run([job("{{ step }}")]) for _ in range(4)))
    assert 1 <= pool.processes <= 2
    started = pids(pool)
    await pool.aclose()
    assert pool.processes == 0 and all(gone(pid) for pid in started)
    with pytest.raises(TemplateRenderFailed):
        await pool.run([job("{{ step }}")])


def test_errors_cross_the_pipe_whole() -> None:
    error = TemplateUnknownVariable("未定义的变量 / undefined variable: x", variable="x", line=3)
    copy = pickle.loads(pickle.dumps(error))
    assert type(copy) is TemplateUnknownVariable
    assert (copy.variable, copy.line, copy.message, str(copy)) == (
        "x",
        3,
        error.message,
        str(error),
    )


class LoadedModules:
    """A job that reports which of ``names`` its worker has imported."""

    def __init__(self, *names: str) -> None:
        self.names = names

    def run(self) -> list[str]:
        import sys

        return [name for name in self.names if name in sys.modules]


async def test_workers_render_without_loading_the_orm(quick_pool: RenderPool) -> None:
    """Sample contexts are built by the caller; a worker only unpickles plain views."""
    await validate("{{ assignment.light }}", step="remind", channel="log", pool=quick_pool)
    [loaded] = await quick_pool.run([LoadedModules("jinja2", "sqlalchemy", "supervision.light")])
    assert loaded == ["jinja2"]


class WorkerLimits:
    """A job that reports its worker's address-space and CPU-time limits."""

    def run(self) -> tuple[int, int, float]:
        import resource

        cpu_soft, _ = resource.getrlimit(resource.RLIMIT_CPU)
        usage = resource.getrusage(resource.RUSAGE_SELF)
        return resource.getrlimit(resource.RLIMIT_AS)[0], cpu_soft, usage.ru_utime + usage.ru_stime


async def test_each_render_runs_under_the_address_space_cap_and_a_cpu_backstop() -> None:
    # Imported here: the worker unpickles this module's jobs and must not import more.
    from testing.load import loaded_seconds

    # 1.5 s, stretched by the machine's load: the job runs on a freshly started worker.
    budget = loaded_seconds(1.5)
    pool = RenderPool(RenderLimits(timeout_seconds=budget, memory_mb=200, workers=1))
    try:
        [(address_space, cpu_soft, cpu_used)] = await pool.run([WorkerLimits()])
    finally:
        pool.close()
    assert address_space == 200 * 1024 * 1024
    # About twice the wall-clock budget in CPU seconds from now, then SIGXCPU ends the worker.
    assert cpu_used + 2 * budget <= cpu_soft <= cpu_used + 2 * budget + 2


class Waits:
    """A job that waits without using the CPU, as a render does on a loaded machine."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds

    def run(self) -> str:
        import time

        time.sleep(self.seconds)
        return "done"


async def test_a_render_held_up_by_a_loaded_machine_is_not_blamed_on_its_template() -> None:
    """Past its wall-clock limit without using that much CPU, a render was waiting for the
    CPU: it goes on and its result is kept."""
    pool = RenderPool(RenderLimits(timeout_seconds=0.3, workers=1))
    try:
        await pool.run([Waits(0.0)])  # the worker imports this module: not the job's CPU
        [result] = await pool.run([Waits(1.0)])
    finally:
        pool.close()
    assert result == "done"


async def test_a_render_held_up_for_too_long_is_given_up_as_busy_not_unsafe() -> None:
    """Held up for ten limits, a render is given up as "busy": a transient failure (the row is
    retried later), not a template at fault."""
    pool = RenderPool(RenderLimits(timeout_seconds=0.2, workers=1))
    try:
        await pool.run([Waits(0.0)])  # the worker imports this module: not the job's CPU
        results = await pool.run([Waits(30.0), job("后 {{ step }}")])
    finally:
        pool.close()
    assert isinstance(results[0], TemplateRenderFailed)
    assert not isinstance(results[0], TemplateUnsafe)
    assert "繁忙" in str(results[0])
    assert results[1] == "后 remind", "the batch goes on in a fresh worker"
