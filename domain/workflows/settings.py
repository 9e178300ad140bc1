"""Passing a customer's settings to the Webex side (DOMAIN.md §5.8, R-RBP-2): restricted-by-partner mode and the
restriction of enterprise settings are stored by the gateway at once (R-RBP-1) and then handed to the org, which
is what lets or stops the customer's own admins managing users and packages."""

from __future__ import annotations

from dataclasses import dataclass

from domain.model.entities import Customer
from domain.store.engine import Engine, TemporaryFailure
from domain.store.jobs import Job, Retry
from domain.store.repositories import Tx
from domain.workflows.common import Steps


@dataclass
class SettingsSteps(Steps):
    engine: Engine

    async def push(self, job: Job) -> None:
        """The customer's current settings (a newer change's job pushes them again: the latest always wins)."""
        doc = await self.repos.customers.find_doc(job.entity_id)
        if doc is not None:
            customer = Customer.from_doc(doc)
            try:
                await self.engine.apply_org_settings(customer.id, customer.external_id, {
                    "restrictedByPartnerMode": customer.restricted_by_partner_mode,
                    "restrictEnterpriseSettings": customer.restrict_enterprise_settings}, customer.version)
            except TemporaryFailure as exc:
                raise Retry(str(exc)) from exc

        async def write(tx: Tx) -> None:
            await self.queue.finish(tx, job)

        await self.repos.atomic(write)
