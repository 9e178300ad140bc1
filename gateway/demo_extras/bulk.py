"""Demo scene: bulk subscriber operations (R-BULK-1…4) on two of the partner's settled customers.

- a `bulkSubscriberOperations` batch of five rows that ended `completed_with_errors`: three new subscribers, one
  row refused for an email that is not an email, one DELETE refused for an email nobody of the customer has;
- a CSV import (as `importSubscribers` takes it) of four new subscribers that ended `completed`;
- a batch cancelled while it waited its turn: its rows are `skipped`.

Each is asked for by the partner's admin (the batches' `createdBy` and their subscribers' events name them);
only this scene's own jobs are run, so every batch and its new subscribers settle within the scene.
"""

from __future__ import annotations

from datetime import timedelta

from domain.model.batches import RowAction
from domain.model.entities import Partner
from domain.rules.bulk import RowOp
from domain.rules.catalogue import CATALOGUE, USER_PACKAGES
from domain.services import batches
from gateway.demo_scene import DemoCustomer, DemoScene, acting_as


def _package(customer: DemoCustomer) -> str | None:
    """A base package of the customer a user may hold; one without calling if it has one (no number needed)."""
    held = sorted((p for p in customer.packages if p in USER_PACKAGES), key=lambda p: CATALOGUE[p].calling)
    return held[0] if held else None


def _needs_number(package: str) -> bool:
    """A calling package needs a number (R-SUB-1): the scene gives its rows extensions of the 88xx/89xx range."""
    return CATALOGUE[package].calling


def _create(row: int, email: str, package: str, first: str, last: str, extension: str | None) -> RowOp:
    return RowOp(row_number=row, email=email, action=RowAction.CREATE, package=package, first_name=first,
                 last_name=last, extension=extension)


async def _run_jobs_of(s: DemoScene, entity_id: str) -> None:
    """Run the due jobs of one entity until none of them is due."""
    for _ in range(20):
        ran = 0
        for docs in (await s.repos.jobs.of_entities([entity_id])).values():
            for doc in docs:
                if doc["status"] != "waiting" and (job := await s.worker.queue.claim(doc)) is not None:
                    await s.worker.run(job)
                    ran += 1
        if not ran:
            return


async def _settle(s: DemoScene, batch_id: str) -> None:
    """The batch's job, then the jobs of the subscribers it created."""
    await _run_jobs_of(s, batch_id)
    for rows in [r async for r in s.repos.batch_rows.stream(batch_id)]:
        for row in rows:
            if row.get("subscriberId"):
                await _run_jobs_of(s, row["subscriberId"])


async def scene(s: DemoScene) -> None:
    owner: Partner = s.parent
    candidates = [(c, p) for c in s.settled(owner) if (p := _package(c)) is not None]
    if len(candidates) < 2:
        return  # a demo without two such customers has nothing to show here
    (first, package), (second, other) = candidates[:2]
    admin = s.caller(owner)
    number = _needs_number(package)

    def ext(n: int) -> str | None:
        return str(8800 + n) if number else None

    with acting_as(admin):
        done = await batches.submit_operations(s.repos, admin, first.id, [
            _create(1, "ines.moreau@bulk-demo.example", package, "Inès", "Moreau", ext(1)),
            _create(2, "kofi.mensah@bulk-demo.example", package, "Kofi", "Mensah", ext(2)),
            _create(3, "not-an-email", package, "No", "Email", ext(3)),
            _create(4, "lena.fischer@bulk-demo.example", package, "Lena", "Fischer", ext(4)),
            RowOp(row_number=5, email="left.long.ago@bulk-demo.example", action=RowAction.DELETE),
        ], dry_run=False, idempotency_key="demo-bulk-1", on_behalf_of=None)
    await _settle(s, done.id)

    s.clock.advance(timedelta(minutes=6))
    calling = _needs_number(other)
    rows = "".join(f"{email},{given},{family},,,{8900 + n if calling else ''},TRUE\n" for n, (email, given, family)
                   in enumerate([("maya.singh@bulk-demo.example", "Maya", "Singh"),
                                 ("omar.haddad@bulk-demo.example", "Omar", "Haddad"),
                                 ("sofia.rossi@bulk-demo.example", "Sofia", "Rossi"),
                                 ("tomas.novak@bulk-demo.example", "Tomáš", "Novák")]))
    csv = f"email,firstName,lastName,location,phoneNumber,extension,{other}\n{rows}"
    with acting_as(admin):
        imported = await batches.submit_import(s.repos, admin, second.id, csv, None, dry_run=False,
                                               idempotency_key=None, on_behalf_of=None)
    await _settle(s, imported.id)

    s.clock.advance(timedelta(minutes=4))
    with acting_as(admin):
        waiting = await batches.submit_operations(s.repos, admin, second.id, [
            _create(1, "yuki.tanaka@bulk-demo.example", other, "Yuki", "Tanaka", "8950" if calling else None),
            _create(2, "zoe.martin@bulk-demo.example", other, "Zoé", "Martin", "8951" if calling else None),
        ], dry_run=False, idempotency_key=None, on_behalf_of=None)
        s.clock.advance(timedelta(seconds=40))
        await batches.cancel_batch(s.repos, admin, waiting.id, None)
