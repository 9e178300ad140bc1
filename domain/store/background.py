"""One long-running asyncio task owned by a component: started once, cancelled and awaited on stop; and the
cancellation-safe waits such tasks are built from."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from typing import Any

log = logging.getLogger("gateway.tasks")

# A task still running this long after it was cancelled is cancelled again (see `cancel_and_wait`).
RECANCEL_AFTER_S = 1.0


async def wait_set(event: asyncio.Event, seconds: float) -> bool:
    """Wait until `event` is set, for `seconds` at most; whether it was set.

    Not `asyncio.wait_for(event.wait(), seconds)`: before Python 3.12 that runs the wait as a task of its own and,
    when the wait ends in the same moment as the caller is cancelled, returns its result and drops the
    cancellation. A loop built on it could not be stopped. Under `asyncio.timeout` the wait runs in the caller's
    own task and a cancellation always gets through.
    """
    try:
        async with asyncio.timeout(seconds):
            return await event.wait()
    except TimeoutError:
        return event.is_set()


async def cancel_and_wait(*tasks: asyncio.Task[Any], every: float | None = None, report: bool = True) -> None:
    """Cancel `tasks` and wait until every one has ended; cancel again, `every` seconds, any that goes on.

    A cancellation can be lost on its way: Python 3.11's `asyncio.wait_for` (see `wait_set`), or PyMongo's async
    client (4.20), whose `find_one` cancelled just as its reply arrives returns the reply. Without a second one the
    stop (a gateway's shutdown, a socket's handler waiting for its operations) would wait forever.

    What a task ended with other than its cancellation is retrieved and, with `report`, logged: the caller is
    stopping things and has more to stop. The caller's own cancellation is not swallowed.
    """
    pending = {task for task in tasks if not task.done()}
    rounds = 0
    while pending:
        for task in pending:
            task.cancel()
        rounds += 1
        _, pending = await asyncio.wait(pending, timeout=RECANCEL_AFTER_S if every is None else every)
        if pending and report:
            log.warning("%s still running after being cancelled %d time(s); cancelling again",
                        ", ".join(sorted(task.get_name() for task in pending)), rounds)
    for task in tasks:
        if task.done() and not task.cancelled() and task.exception() is not None and report:
            log.error("task %s ended with an error while being stopped", task.get_name(), exc_info=task.exception())


class BackgroundTask:
    def __init__(self, run: Callable[[], Coroutine[Any, Any, None]], name: str) -> None:
        self._run = run
        self._name = name
        self._task: asyncio.Task[None] | None = None

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    def start(self) -> None:
        """Start it unless it was started already (idempotent)."""
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name=self._name)

    async def stop(self) -> None:
        """Cancel it and wait until it has finished; it may be started again afterwards."""
        if self._task is not None:
            await cancel_and_wait(self._task)
            self._task = None
