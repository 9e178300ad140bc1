"""Trials as the API shows them (DOMAIN.md §10).

For other areas: `TrialType.of(trial)`, and `trial_loaders(info).visible.load(id)` (a trial as the caller may see it,
batched) for fields such as `DeviceShipment.trial`, `Order.trial` and `ProvisioningEvent.trial`.
"""

from __future__ import annotations

import weakref
from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import strawberry
from strawberry.dataloader import DataLoader

from domain.model.customer_orgs import CustomerOrg, CustomerOrgStatus
from domain.model.trials import Trial
from domain.services import trial_reads
from domain.store.driver import Document
from resolvers.common import Connection, Node, ProvisioningError
from resolvers.context import Info
from resolvers.customer_orgs.types import CustomerOrgType
from resolvers.enums import ApprovalState, ResaleService, TrialStatus
from resolvers.loaders import Loaders

if TYPE_CHECKING:
    from resolvers.orders.types import OrderType
    from resolvers.organisations.types import PartnerType
    from resolvers.shipments.types import DeviceShipmentType


class TrialLoaders:
    """Per-request loaders: trials by id as the caller may see them; customer orgs of a page of trials."""

    def __init__(self, info: Info) -> None:
        self._info = info
        self.visible = DataLoader(self._visible)
        self.org = DataLoader(self._orgs)

    async def _visible(self, ids: list[str]) -> list[Trial | None]:
        """As `trial(id)` shows them; a caller who may read no trial gets None (as for a missing one)."""
        context = self._info.context
        return await trial_reads.visible_trials(context.repos, await context.caller(), ids)

    async def _orgs(self, ids: list[str]) -> list[CustomerOrg | None]:
        found = await self._info.context.repos.customer_orgs.many(ids)
        return [found.get(i) for i in ids]


_LOADERS: weakref.WeakKeyDictionary[Loaders, TrialLoaders] = weakref.WeakKeyDictionary()


def trial_loaders(info: Info) -> TrialLoaders:
    loaders = info.context.loaders
    found = _LOADERS.get(loaders)
    if found is None:
        found = _LOADERS[loaders] = TrialLoaders(info)
    return found


@strawberry.type(name="Trial", description="A trial of Webex services for a resale partner's customer (§10).")
class TrialType(Node):
    model: strawberry.Private[Trial]
    id: strawberry.ID
    company_name: str
    admin_email: str
    industry: str
    country: str
    data_region: str
    services: list[ResaleService]
    meetings_site_url: str | None
    meetings_timezone: str | None
    status: TrialStatus
    consent_deadline: datetime | None = strawberry.field(
        description="While the customer's consent is awaited: 10 days from the start (R-TRI-STATE).")
    started_at: datetime | None
    ends_at: datetime | None
    grace_ends_at: datetime | None = strawberry.field(description="endsAt + 30 days: conversion stays possible "
                                                                  "until then, then the purge (R-TRI-11).")
    numbers_release_at: datetime | None = strawberry.field(
        description="CALLING: the trial's numbers stay reserved until then (graceEndsAt + 15 days, R-TRI-11).")
    extension_request: ApprovalState | None = strawberry.field(
        description="A DEVICES trial's extension, decided by platform_admin (R-TRI-8).")
    created_by: str
    errors: list[ProvisioningError]
    version: int
    created_at: datetime
    last_status_change: datetime

    @classmethod
    def of_doc(cls, doc: Document) -> TrialType:
        return cls.of(Trial.from_doc(doc))

    @classmethod
    def of(cls, t: Trial) -> TrialType:
        return cls(model=t, id=strawberry.ID(t.id), company_name=t.company_name, admin_email=t.admin_email,
                   industry=t.industry, country=t.country, data_region=t.data_region, services=list(t.services),
                   meetings_site_url=t.meetings_site_url, meetings_timezone=t.meetings_timezone, status=t.status,
                   consent_deadline=t.consent_deadline, started_at=t.started_at, ends_at=t.ends_at,
                   grace_ends_at=t.grace_ends_at, numbers_release_at=t.numbers_release_at,
                   extension_request=t.extension_request, created_by=t.created_by,
                   errors=[ProvisioningError.of(e) for e in t.errors], version=t.version, created_at=t.created_at,
                   last_status_change=t.last_status_change)

    @strawberry.field(description="ceil((endsAt - now) / 24 h) while active, 0 after, null before (R-TRI-11).")
    def days_remaining(self, info: Info) -> int | None:
        return self.model.days_remaining(info.context.repos.clock.now())

    @strawberry.field(description="The customer's org: null until it is created or confirmed, and once purged.")
    async def org(self, info: Info) -> CustomerOrgType | None:
        if self.model.org_id is None:
            return None
        org = await trial_loaders(info).org.load(self.model.org_id)
        if org is None or org.status is CustomerOrgStatus.PURGED:
            return None
        caller = await info.context.caller()
        return CustomerOrgType.of(org, caller.org.id if caller.org else self.model.owner_org_id)

    @strawberry.field(description="The trial's device shipments (R-TRI-7).")
    async def shipments(self, info: Info
                        ) -> list[Annotated[DeviceShipmentType, strawberry.lazy("resolvers.shipments.types")]]:
        from resolvers.shipments.types import trial_shipments

        return await trial_shipments(info, self.model.id)

    @strawberry.field(description="The order this trial was converted by (R-TRI-10).")
    async def conversion_order(self, info: Info
                               ) -> Annotated[OrderType, strawberry.lazy("resolvers.orders.types")] | None:
        from resolvers.orders.types import OrderType

        if self.model.conversion_order_id is None:
            return None
        doc = await info.context.repos.orders.find_doc(self.model.conversion_order_id)
        return OrderType.of_doc(doc) if doc else None

    @strawberry.field(description="The partner or sub-partner that runs the trial.")
    async def owner(self, info: Info) -> Annotated[PartnerType, strawberry.lazy("resolvers.organisations.types")]:
        from resolvers.organisations.types import owning_partner

        return await owning_partner(info, self.model.owner_org_id, f"trial {self.model.id}")


@strawberry.type(name="TrialConnection")
class TrialConnection(Connection[TrialType]):
    pass
