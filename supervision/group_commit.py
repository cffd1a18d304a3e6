"""Group commit: many callers at once, one transaction per batch of what they asked for.

``await group.submit(x)`` from any number of tasks; what arrives while a batch runs forms the
next batch, so a lone caller waits for nobody and batches grow with the load. One batch
computes at a time; the next may start once the running one says it is only committing
(waiting for the database to flush), up to ``in_flight`` batches. SQLite writes one
transaction at a time, so its callers pass ``in_flight=1`` (``models.db.one_writer``).

Used by the chat replies' filer (``supervision.reports.ReplyFiler``). (The arq worker's
deliveries used it while a job was one row; a job is a batch of rows now, issue #15.)
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from functools import partial
from typing import Generic, TypeVar

log = logging.getLogger("duban.group_commit")

In = TypeVar("In")
Out = TypeVar("Out")

#: ``run(batch, committing)``: one outcome per entry, in order; ``committing()`` when only the
#: commit is left (the next batch may start computing then)
BatchFn = Callable[[Sequence[In], Callable[[], None]], Awaitable[Sequence[Out]]]


class GroupCommit(Generic[In, Out]):
    """Runs ``run`` over batches of what callers :meth:`submit`; see the module's text.

    A batch that raises gives each of its callers the exception; the next batch runs anyway.
    """

    def __init__(
        self, run: BatchFn[In, Out], *, max_batch: int, in_flight: int, name: str = "batch"
    ) -> None:
        self.run = run
        self.max_batch = max(1, max_batch)
        self.in_flight = max(1, in_flight)
        self.name = name
        self._queue: list[tuple[In, asyncio.Future[Out]]] = []
        self._batches: set[asyncio.Task[None]] = set()
        self._computing: set[asyncio.Task[None]] = set()  # batches not yet committing

    async def submit(self, entry: In) -> Out:
        """Put ``entry`` in the next batch; its outcome once that batch is done."""
        future: asyncio.Future[Out] = asyncio.get_running_loop().create_future()
        self._queue.append((entry, future))
        self._start()
        return await future

    async def close(self) -> None:
        """Let the batches in progress finish (their callers are waiting for them)."""
        while self._batches:
            await asyncio.shield(asyncio.gather(*self._batches, return_exceptions=True))

    def _start(self) -> None:
        while self._queue and not self._computing and len(self._batches) < self.in_flight:
            batch, self._queue = self._queue[: self.max_batch], self._queue[self.max_batch :]
            task = asyncio.create_task(self._run(batch))
            self._batches.add(task)
            self._computing.add(task)
            task.add_done_callback(self._finished)

    def _committing(self, task: asyncio.Task[None]) -> None:
        self._computing.discard(task)
        self._start()

    def _finished(self, task: asyncio.Task[None]) -> None:
        self._batches.discard(task)
        self._computing.discard(task)
        self._start()

    async def _run(self, batch: list[tuple[In, asyncio.Future[Out]]]) -> None:
        task = asyncio.current_task()
        assert task is not None
        try:
            outcomes = await self.run(
                [entry for entry, _ in batch], partial(self._committing, task)
            )
        except Exception as exc:
            log.exception("%s of %d failed: %s", self.name, len(batch), exc.__class__.__name__)
            for _, future in batch:
                if not future.done():
                    future.set_exception(exc)
            return
        for (_, future), outcome in zip(batch, outcomes, strict=True):
            if not future.done():  # its caller may have been cancelled
                future.set_result(outcome)
