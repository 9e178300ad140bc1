"""Ending a dead process's open transactions at once, instead of after the server's transaction lifetime limit.

A process killed inside a transaction leaves it open on the server, holding what it wrote — among it the event
counter that every transaction increments — until the server gives up on it (mongod's
`transactionLifetimeLimitSeconds`, 60 s by default; SecantusDB the same). Until then every other process's
transactions conflict and retry: provisioning stalls for a minute after a crash.

So each process puts the server sessions its transactions use on record, and a `SessionReaper` task:
- beats a heartbeat (`gateway_processes`, one document per process);
- finds the processes whose heartbeat is older than `stale` (dead, or stuck far longer than any transaction
  should take) and ends their sessions with `killSessions`, which aborts their transactions, then forgets them.

A session is recorded (`gateway_sessions`, one document per session) before the first transaction that uses it
begins (`Database.on_session`). Sessions are pooled and reused, so that write happens only while the pool grows:
a process's first transactions, and more of them at once than ever before. (Recording them at the next beat
instead, as before, left the sessions of a process killed in its first second to the server's limit: a minute.)

A process that was only paused past `stale` loses its open transaction, which `Database.run_transaction` retries
like any transient conflict; its next beat finds its heartbeat gone and records its sessions again. Times here are
the machine's real time, not the business clock (`domain.model.clock`): this is about processes, not about
anything a rule dates.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from pymongo import UpdateOne
from pymongo.errors import PyMongoError

from domain.store.background import cancel_and_wait
from domain.store.driver import Database, DatabaseUnavailable

PROCESSES = "gateway_processes"
SESSIONS = "gateway_sessions"

log = logging.getLogger("gateway.sessions")


def _now() -> datetime:
    return datetime.now(UTC)


class SessionReaper:
    def __init__(self, db: Database, process: str, *, beat: float = 2.0, stale: float = 15.0,
                 now: Callable[[], datetime] = _now) -> None:
        self.db = db
        self.process = process
        self.beat = beat
        self.stale = timedelta(seconds=stale)
        self._now = now
        self._recorded: dict[bytes, Any] = {}  # session id (bytes) -> the lsid document, on record
        self._forgotten = False  # another process took this one for dead: record its sessions again
        self._task: asyncio.Task[None] | None = None

    # --- the request path: a write only for a session never used before --------------------------------------

    async def note(self, session: Any) -> None:
        """Put on record a session a transaction is about to use, unless it is already (called by the driver)."""
        lsid = session.session_id
        key = bytes(lsid["id"])
        if key in self._recorded:
            return
        await self.db.collection(SESSIONS).update_one(
            {"_id": lsid["id"]}, {"$set": {"process": self.process, "lsid": lsid}}, upsert=True)
        self._recorded[key] = lsid

    # --- the task ---------------------------------------------------------------------------------------------

    def start(self) -> None:
        if self._task is None:
            self.db.on_session = self.note
            self._task = asyncio.create_task(self._run(), name="session reaper")

    async def stop(self) -> None:
        """Stop beating and forget this process (a clean stop leaves no transaction open)."""
        self.db.on_session = None
        if self._task is not None:
            await cancel_and_wait(self._task)
            self._task = None
            with contextlib.suppress(PyMongoError, DatabaseUnavailable, OSError):
                await self.db.collection(SESSIONS).delete_many({"process": self.process})
                await self.db.collection(PROCESSES).delete_one({"_id": self.process})

    async def _run(self) -> None:
        while True:
            try:
                await self.tick()
            except (PyMongoError, DatabaseUnavailable, OSError) as exc:  # the database away: try again next beat
                log.debug("session reaper: %s", exc)
            await asyncio.sleep(self.beat)

    async def tick(self) -> list[str]:
        """One beat: heartbeat, record the sessions again if this process was forgotten, end the sessions of stale
        processes (their names)."""
        now = self._now()
        beat = await self.db.collection(PROCESSES).update_one(
            {"_id": self.process}, {"$set": {"seenAt": now}}, upsert=True)
        if beat.upserted_id is not None:  # another process found this one stale and forgot its sessions
            self._forgotten = True
        if self._forgotten and self._recorded:
            await self.db.collection(SESSIONS).bulk_write(
                [UpdateOne({"_id": lsid["id"]}, {"$set": {"process": self.process, "lsid": lsid}}, upsert=True)
                 for lsid in list(self._recorded.values())], ordered=False)
        self._forgotten = False
        return await self._reap(now - self.stale)

    async def _reap(self, cutoff: datetime) -> list[str]:
        stale = await self.db.find(PROCESSES, {"seenAt": {"$lt": cutoff}, "_id": {"$ne": self.process}})
        reaped = []
        for process in stale:
            name = process["_id"]
            sessions = await self.db.find(SESSIONS, {"process": name})
            if sessions:
                await self.db.admin_command({"killSessions": [s["lsid"] for s in sessions]})
                log.warning("ended %d session(s) of %s, whose heartbeat stopped %s ago", len(sessions), name,
                            self._now() - process["seenAt"])
            await self.db.collection(SESSIONS).delete_many({"process": name})
            await self.db.collection(PROCESSES).delete_one({"_id": name, "seenAt": {"$lt": cutoff}})
            reaped.append(name)
        return reaped
