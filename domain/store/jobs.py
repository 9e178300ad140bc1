"""A durable job queue in MongoDB, and the worker that runs it.

A job is a document in `jobs`: `ready` (due at `runAt`), `running` (leased by one worker until
`leaseUntil`) or `waiting` (created parked until another entity settles, e.g. a subscriber waiting for
its customer, R-RPL-5, and made ready by `release_waiting` in that entity's settling transaction).
Jobs are created inside the same transaction as the change that needs them.

Exactly-once effects: a worker claims a job with a conditional update that only one worker can win,
and every transaction a handler commits re-checks the lease inside it (`hold` / `finish`). A worker
whose lease expired (it was slow, or its process died) cannot commit anything for that job any more;
the job runs again elsewhere and its steps, which look at the entity's current status, are idempotent.
Finished jobs are deleted in the handler's last transaction, so the collection stays small.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import logging
import random
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from pymongo.errors import ConnectionFailure

from domain.model.audit import GATEWAY, Actor, acting, system_actor
from domain.model.clock import Clock
from domain.store.background import BackgroundTask, cancel_and_wait, wait_set
from domain.store.driver import Database, Document, is_transient
from domain.store.repositories import Tx
from domain.store.repositories.jobs import JOBS, READY, RUNNING, WAITING

log = logging.getLogger("gateway.jobs")
# `claim_next` looks for jobs whose lease expired this often per lease (every 3 s with the default 30 s lease).
EXPIRY_CHECKS_PER_LEASE = 10
# `claim_next` reads ready jobs due within this much after the last one it took (a few, even with a backlog).
CLAIM_WINDOW = timedelta(milliseconds=500)


class LeaseLost(Exception):
    """The job is no longer leased by this worker: another one has taken it over."""


class ClaimConflict(Exception):
    """Claiming the next due job conflicted with another writer; worth trying again in a moment."""


@dataclass(frozen=True)
class Job:
    id: str
    kind: str
    entity_id: str
    payload: Mapping[str, Any]
    attempts: int
    # Who the job acts as (R-AUD-1); jobs stored before actors were recorded act as a step of the system.
    actor: Actor = GATEWAY

    @classmethod
    def from_doc(cls, doc: Document) -> Job:
        actor = Actor.from_doc(doc["actor"]) if doc.get("actor") else system_actor(doc["kind"])
        return cls(doc["_id"], doc["kind"], doc["entityId"], doc.get("payload") or {}, doc.get("attempts", 0), actor)


class JobQueue:
    def __init__(self, db: Database, clock: Clock, owner: str, lease: timedelta = timedelta(seconds=30)) -> None:
        self.db = db
        self.clock = clock
        self.owner = owner
        self.lease = lease
        self._expiry_check_at: datetime | None = None  # when `claim_next` next looks for expired leases
        self._claimed_up_to: datetime | None = None  # the `runAt` of the last ready job `claim_next` took

    @property
    def _jobs(self) -> Any:
        return self.db.collection(JOBS)

    async def due(self, limit: int) -> list[Document]:
        now = self.clock.now()
        return await self.db.find(
            JOBS,
            {"$or": [{"status": READY, "runAt": {"$lte": now}}, {"status": RUNNING, "leaseUntil": {"$lte": now}}]},
            sort=[("runAt", 1)], limit=limit)

    async def claim(self, doc: Document) -> Job | None:
        """Lease a due job; None when another worker got it first."""
        now = self.clock.now()
        if doc["status"] == READY:
            condition: dict[str, Any] = {"_id": doc["_id"], "status": READY, "runAt": {"$lte": now}}
        else:
            condition = {"_id": doc["_id"], "status": RUNNING, "leaseUntil": doc["leaseUntil"]}
        update = {"$set": {"status": RUNNING, "leaseOwner": self.owner, "leaseUntil": now + self.lease},
                  "$inc": {"attempts": 1}}

        async def take(session: Any) -> int:
            result = await self._jobs.update_one(condition, update, session=session)
            n: int = result.modified_count
            return n

        # In a transaction, a conflict with another writer fails at once instead of waiting: a transaction
        # left open by a killed process (its lease long expired) must not block this worker; the job is
        # simply tried again at the next poll, and the server cleans such a transaction up meanwhile.
        try:
            if await self.db.run_transaction(take, max_attempts=3) != 1:
                return None
        except Exception as exc:
            if not is_transient(exc):
                raise
            log.info("job %s: claim conflicted with another writer; trying again later", doc["_id"])
            return None
        return Job.from_doc({**doc, "attempts": doc.get("attempts", 0) + 1})

    async def claim_next(self) -> Job | None:
        """Lease the job due first (by `runAt`); None when nothing is due.

        A short transaction reads the first due job and leases it with a write naming nothing but its `_id`: a
        worker that read the same job and leases it too conflicts with this one at its write (snapshot isolation),
        so each job goes to one claimer. Raises ClaimConflict when another writer got in the way (another worker
        took that job first, or an abandoned transaction holds it). The write names the `_id` alone because the
        embedded database looks a document up directly only then (a conditional findAndModify made it scan the
        whole queue for every claim).

        Jobs whose lease expired (their worker died or stalled) are looked for first, but only every tenth of a
        lease (by the queue's clock): each query names one status, so the database can answer it from the
        (status, runAt) or (status, leaseUntil) index instead of scanning the queue for an `$or` of both.

        Ready jobs are looked for in a short window of `runAt` (CLAIM_WINDOW) from that of the last one this queue
        claimed: with a backlog the database then reads the few jobs that came due just after it, not the whole
        backlog, for every claim. Jobs come due in `runAt` order; one that appears behind that mark (another
        process's clock, a job created already due) is found by the query over all ready jobs, run when the window
        is empty and at every look for expired leases.
        """
        now = self.clock.now()
        ready = {"status": READY, "runAt": {"$lte": now}}
        expired = {"status": RUNNING, "leaseUntil": {"$lte": now}}
        lease = {"status": RUNNING, "leaseOwner": self.owner, "leaseUntil": now + self.lease}
        look_for_expired = self._expiry_check_at is None or now >= self._expiry_check_at
        since = self._claimed_up_to

        async def take(session: Any) -> tuple[Document, bool] | None:
            doc: Document | None = None
            if look_for_expired:
                doc = await self._jobs.find_one(expired, sort=[("leaseUntil", 1)], session=session)
            if doc is None and since is not None and not look_for_expired:
                recent = {"status": READY, "runAt": {"$gte": since, "$lte": min(now, since + CLAIM_WINDOW)}}
                doc = await self._jobs.find_one(recent, sort=[("runAt", 1)], session=session)
            if doc is None:
                doc = await self._jobs.find_one(ready, sort=[("runAt", 1)], session=session)
            if doc is None:
                return None
            await self._jobs.update_one({"_id": doc["_id"]}, {"$set": lease, "$inc": {"attempts": 1}},
                                        session=session)
            return {**doc, **lease, "attempts": doc.get("attempts", 0) + 1}, doc["status"] == READY

        try:  # in a transaction for the reason `claim` gives
            taken = await self.db.run_transaction(take, max_attempts=1)
        except Exception as exc:
            # The server out of reach is no conflict: the worker's loop logs it and waits a poll interval.
            if not is_transient(exc) or isinstance(exc, ConnectionFailure):
                raise
            raise ClaimConflict(str(exc)) from exc
        doc, was_ready = taken if taken is not None else (None, False)
        if look_for_expired and (doc is None or was_ready):
            # None expired: look again in a tenth of a lease. One was: the next claim looks again at once (a
            # killed worker leaves several, and each claim takes one).
            self._expiry_check_at = now + self.lease / EXPIRY_CHECKS_PER_LEASE
        if doc is None:
            self._claimed_up_to = None  # idle: the next claim asks for any due job (one query, not the window too)
            return None
        if was_ready:
            self._claimed_up_to = doc["runAt"]
        return Job.from_doc(doc)

    async def hold(self, tx: Tx, job: Job, **changes: Any) -> None:
        """Inside a handler's transaction: prove the lease is still ours (and extend it), or abort."""
        result = await self._jobs.update_one(
            {"_id": job.id, "status": RUNNING, "leaseOwner": self.owner},
            {"$set": {"leaseUntil": tx.now + self.lease, **changes}}, session=tx.session)
        if result.matched_count != 1:
            raise LeaseLost(job.id)

    async def finish(self, tx: Tx, job: Job) -> None:
        """Inside a handler's last transaction: remove the job, or abort if the lease was lost."""
        result = await self._jobs.delete_one({"_id": job.id, "status": RUNNING, "leaseOwner": self.owner},
                                             session=tx.session)
        if result.deleted_count != 1:
            raise LeaseLost(job.id)

    async def reschedule(self, job: Job, delay: timedelta, error: str | None = None,
                         payload: Mapping[str, Any] | None = None, *, fault: bool = False,
                         waiting_for: str | None = None) -> None:
        """Run the job again after `delay`. R-DASH-2 shows what it stored: `error` (a `fault`, an unexpected exception,
        is shown masked), or what it is `waiting_for` instead of a failure (e.g. "customer")."""
        fields: dict[str, Any] = {"status": READY, "runAt": self.clock.now() + delay, "leaseOwner": None,
                                  "leaseUntil": None, "lastError": error, "lastErrorFault": fault,
                                  "retryWaitingFor": waiting_for}
        if payload is not None:
            fields["payload"] = dict(payload)
        await self._jobs.update_one({"_id": job.id, "status": RUNNING, "leaseOwner": self.owner}, {"$set": fields})

    async def release_leases(self) -> None:
        """On a clean shutdown: hand this worker's running jobs back at once instead of waiting for expiry."""
        await self._jobs.update_many({"status": RUNNING, "leaseOwner": self.owner},
                                     {"$set": {"status": READY, "leaseOwner": None, "leaseUntil": None,
                                               "runAt": self.clock.now()}})

    async def stats(self) -> QueueStats:
        """How the queue stands now (read-only, for monitoring): jobs per status, how many are due, and the lag.

        One pass over the collection, which stays small: finished jobs leave it.
        """
        now = self.clock.now()
        due = {"$cond": [{"$and": [{"$eq": ["$status", READY]}, {"$lte": ["$runAt", now]}]}, 1, 0]}
        rows = await self.db.aggregate(JOBS, [{"$group": {
            "_id": "$status", "n": {"$sum": 1}, "due": {"$sum": due},
            "oldest": {"$min": {"$cond": [{"$eq": ["$status", READY]}, "$runAt", None]}}}}])
        counts = {status: 0 for status in (READY, RUNNING, WAITING)}
        due_now, lag = 0, timedelta(0)
        for row in rows:
            counts[str(row["_id"])] = int(row["n"])
            due_now += int(row["due"])
            if row["due"] and row["oldest"] is not None:
                lag = max(lag, now - row["oldest"])
        return QueueStats(counts, due_now, lag)


# The slot of the job running in this task (see `outside_work_done`).
_slot: contextvars.ContextVar[Callable[[], None] | None] = contextvars.ContextVar("job_slot", default=None)


def outside_work_done() -> None:
    """A handler says that what it still has to do is its final database transaction (its calls to the outside,
    e.g. the Webex steps, are over): the worker may start the next job in its place meanwhile.

    The job keeps its lease until that transaction commits, as before; only the worker's count of jobs at work
    changes. Outside a worker's task (a test calling a handler) it does nothing.
    """
    release = _slot.get()
    if release is not None:
        _slot.set(None)
        release()


class Retry(Exception):
    """A handler asks to run the job again later (e.g. the Webex side is temporarily unavailable)."""

    def __init__(self, reason: str, delay: timedelta | None = None, *, waiting_for: str | None = None) -> None:
        super().__init__(reason)
        self.delay = delay
        self.waiting_for = waiting_for  # not a failure: the job waits for this (R-DASH-2 `waitingFor`)


Handler = Callable[[Job], Awaitable[None]]
GiveUp = Callable[[Job, str], Awaitable[None]]


@dataclass
class Worker:
    """Runs due jobs with bounded concurrency; one per gateway process (unless GATEWAY_WORKERS=0)."""

    queue: JobQueue
    handlers: Mapping[str, Handler]
    # Per job kind: what to do with a job that failed `max_attempts` times (a kind without one keeps retrying).
    give_ups: Mapping[str, GiveUp] = field(default_factory=dict)
    concurrency: int = 4
    poll_interval: float = 0.25
    max_attempts: int = 8
    _wake: asyncio.Event = field(default_factory=asyncio.Event, init=False)
    _loop_task: BackgroundTask = field(init=False)
    _running: set[asyncio.Task[None]] = field(default_factory=set, init=False)

    def __post_init__(self) -> None:
        self._loop_task = BackgroundTask(self._loop, "job-worker")

    def wake(self) -> None:
        self._wake.set()

    def backoff(self, attempts: int) -> timedelta:
        return timedelta(seconds=min(0.5 * 2 ** max(attempts - 1, 0), 60.0))

    async def run(self, job: Job) -> None:
        with acting(job.actor):  # what the job (or its giving up) changes is recorded as done by its actor
            await self._run(job)

    async def _run(self, job: Job) -> None:
        handler = self.handlers.get(job.kind)
        try:
            if handler is None:
                raise RuntimeError(f"no handler for job kind {job.kind!r}")
            await handler(job)
        except LeaseLost:
            log.warning("job %s: lease lost to another worker; leaving it to them", job.id)
        except Retry as retry:
            await self.queue.reschedule(job, retry.delay or self.backoff(job.attempts),
                                        None if retry.waiting_for else str(retry), waiting_for=retry.waiting_for)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # a supervised task: a failing job must never take the worker down
            log.exception("job %s (%s) failed on attempt %d", job.id, job.kind, job.attempts)
            # A database hiccup (conflict, failover) is no reason to give a customer up.
            give_up = self.give_ups.get(job.kind)
            if job.attempts >= self.max_attempts and give_up is not None and not is_transient(exc):
                try:
                    await give_up(job, f"{type(exc).__name__}: {exc}")
                    return
                except Exception:
                    log.exception("job %s: giving up failed too", job.id)
            await self.queue.reschedule(job, self.backoff(job.attempts), f"{type(exc).__name__}: {exc}", fault=True)

    async def run_once(self) -> int:
        """Claim and run what is due now (up to `concurrency` jobs at a time); returns how many ran."""
        ran = 0
        while ran < self.concurrency:
            try:
                job = await self.queue.claim_next()
            except ClaimConflict:
                break  # the caller comes back for it
            if job is None:
                break
            ran += 1
            self._spawn(job)
        if self._running:
            await asyncio.gather(*list(self._running), return_exceptions=True)
        return ran

    async def run_until_idle(self, max_rounds: int = 10_000) -> None:
        """Run jobs until none is due (tests and the demo seed drive the queue with this)."""
        for _ in range(max_rounds):
            if not await self.run_once():
                return
        raise RuntimeError("the job queue did not become idle")

    def _spawn(self, job: Job, slot: Callable[[], None] | None = None, done: Callable[[], None] | None = None
               ) -> None:
        """Run `job` in a task; `slot` is released when the job calls `outside_work_done` (or ends), `done` when
        it ends."""
        released = False

        def release() -> None:
            nonlocal released
            if not released and slot is not None:
                released = True
                slot()

        async def run() -> None:
            _slot.set(release)
            try:
                await self.run(job)
            finally:
                release()

        task = asyncio.create_task(run())
        self._running.add(task)
        task.add_done_callback(self._running.discard)
        if done is not None:
            task.add_done_callback(lambda _: done())

    async def _loop(self) -> None:
        """Keep `concurrency` jobs running: a slot that frees up claims the next due job at once.

        Only when nothing is due does the loop wait, until a commit of this process wakes it (it may have
        enqueued a job) or the poll interval passes (jobs of other processes, timers coming due).
        """
        slots = asyncio.Semaphore(self.concurrency)
        # Jobs past their outside work (`outside_work_done`) and still committing hold no slot; at most as many
        # again as there are slots may be in that state, so that a slow database does not collect a backlog.
        in_flight = asyncio.Semaphore(2 * self.concurrency)
        while True:
            await slots.acquire()
            await in_flight.acquire()
            self._wake.clear()  # before the claim: a commit during it wakes the wait below
            try:
                job = await self.queue.claim_next()
            except asyncio.CancelledError:
                raise
            except ClaimConflict:
                slots.release()
                in_flight.release()
                await asyncio.sleep(random.uniform(0.002, 0.02))  # spread out from the other claimer
                continue
            except Exception:  # e.g. the database is down: keep polling, it will come back
                log.exception("job worker: polling failed")
                job = None
            if job is not None:
                self._spawn(job, slots.release, in_flight.release)
                continue
            slots.release()
            in_flight.release()
            await wait_set(self._wake, self.poll_interval)

    @property
    def running(self) -> bool:
        return self._loop_task.running

    def start(self) -> None:
        self._loop_task.start()

    async def stop(self) -> None:
        await self._loop_task.stop()
        await cancel_and_wait(*self._running)
        with contextlib.suppress(Exception):
            await self.queue.release_leases()


@dataclass(frozen=True)
class QueueStats:
    """A snapshot of the job queue: `counts` per status, `due` ready jobs whose time has come, and `lag`, how long
    the oldest of those has been waiting (zero when none is due)."""

    counts: Mapping[str, int]
    due: int
    lag: timedelta
