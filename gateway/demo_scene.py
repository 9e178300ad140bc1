"""What the demo seed hands to the demo's feature scenes (gateway/demo_extras): the world it has built so far."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime

from domain.model.audit import Actor, acting, user_actor
from domain.model.clock import FixedClock
from domain.model.entities import OnboardingTemplate, Partner
from domain.model.principal import ROLE_SCOPES, Principal, Role
from domain.model.status import CustomerStatus
from domain.rules.tenancy import Caller
from domain.store.jobs import Worker
from domain.store.repositories import Repositories


@dataclass
class DemoCustomer:
    id: str
    target: CustomerStatus
    owner: Partner
    country: str
    packages: list[str]


@dataclass
class DemoScene:
    """Repositories on the seed's walking clock, its in-process worker, and the demo's orgs and customers.

    A scene sets the clock (somewhere in the last hour before `now`), writes through the services like the
    API does, and runs `worker.run_until_idle()` for what should have settled.
    """

    repos: Repositories
    clock: FixedClock
    worker: Worker
    now: datetime
    parent: Partner
    subs: list[Partner]
    templates: list[OnboardingTemplate]
    customers: list[DemoCustomer]

    def caller(self, owner: Partner) -> Caller:
        return Caller(Principal(f"admin@{owner.id}", owner.id, frozenset({Role.FULL_ADMIN}),
                                ROLE_SCOPES[Role.FULL_ADMIN]), owner)

    @property
    def platform(self) -> Caller:
        return Caller(Principal("ops@operator.example", None, frozenset({Role.PLATFORM_ADMIN}), frozenset()), None)

    async def run_jobs_of(self, *entity_ids: str) -> None:
        """Run the due jobs of these entities until none of them is due; every other job is left as the core demo
        set it (its in-flight customers must still be in flight when the gateway starts)."""
        for _ in range(50):
            ran = 0
            for docs in (await self.repos.jobs.of_entities(list(entity_ids))).values():
                for doc in docs:
                    if doc["status"] != "waiting" and (job := await self.worker.queue.claim(doc)) is not None:
                        await self.worker.run(job)
                        ran += 1
            if not ran:
                return

    def settled(self, owner: Partner | None = None) -> list[DemoCustomer]:
        """Customers that ended `provisioned`, optionally of one owner."""
        return [c for c in self.customers if c.target is CustomerStatus.PROVISIONED
                and (owner is None or c.owner.id == owner.id)]


Scene = Callable[[DemoScene], Awaitable[None]]


def acting_as(caller: Caller) -> AbstractContextManager[Actor]:
    """What the demo writes in this block is recorded as done by `caller`'s user (R-AUD-1), as if it came in a
    request with its token; without it the demo's changes show the gateway itself as their actor."""
    principal = caller.principal
    return acting(user_actor(principal.subject, principal.org_id, (r.value for r in principal.roles)))
