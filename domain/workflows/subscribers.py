"""The background half of a subscriber's life: assignment on the Webex side, consent of free accounts, removal."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from domain.model.entities import (
    ConsentState,
    Customer,
    CustomerStatus,
    PackageStatus,
    ProvisioningError,
    Subscriber,
    SubscriberStatus,
)
from domain.model.jobs import AwaitMigration
from domain.rules.consent import answered, consent_email_event, consented, sent
from domain.rules.subscribers import UNSETTLED
from domain.store.driver import Document
from domain.store.engine import Engine, TemporaryFailure
from domain.store.jobs import Job, Retry
from domain.store.repositories import Tx
from domain.store.usage import record_assignment, record_removal
from domain.workflows.common import Steps

SETTLED_RETRY = timedelta(seconds=2)


@dataclass
class SubscriberSteps(Steps):
    engine: Engine

    async def settle(self, job: Job) -> None:
        doc = await self.repos.subscribers.find_doc(job.entity_id)
        if doc is None:
            return await self.finish_only(job)
        subscriber = Subscriber.from_doc(doc)
        customer_doc = await self.repos.customers.find_doc(subscriber.customer_id)
        customer = Customer.from_doc(customer_doc) if customer_doc else None
        if customer is None or customer.status is CustomerStatus.DELETING:
            return await self.finish_only(job)  # the customer's deletion takes its subscribers with it
        try:
            if subscriber.status is SubscriberStatus.DELETING:
                await self.engine.remove_user(subscriber.id, customer.external_id)
                await self._settle(job, subscriber, None)
            elif subscriber.status in (SubscriberStatus.PROVISIONING, SubscriberStatus.UPDATING):
                if customer.status in UNSETTLED:
                    raise Retry("waiting for the customer to settle", SETTLED_RETRY, waiting_for="customer")
                await self._assign(job, subscriber, customer)
            elif subscriber.status is SubscriberStatus.PENDING_USER_MIGRATION:
                # The free account's owner agreed (the account directory's `consentAt` came): R-CONS-2.
                await self._settle(job, subscriber, SubscriberStatus.PROVISIONED,
                                   consent=answered(subscriber.consent, self.repos.clock.now(), True))
            else:
                await self.finish_only(job)
        except TemporaryFailure as exc:
            raise Retry(str(exc)) from exc
        return None

    async def _assign(self, job: Job, subscriber: Subscriber, customer: Customer) -> None:
        if customer.status is CustomerStatus.ERROR:
            # R-RPL-5: the customer was never provisioned; its subscribers fail with its reason.
            return await self._settle(job, subscriber, SubscriberStatus.ERROR, errors=list(customer.errors)
                                      or [ProvisioningError(code="CUSTOMER_ERROR",
                                                            message="the customer was not provisioned")])
        package = next((p for p in customer.packages if p.name == subscriber.package), None)
        if package is None or package.status is not PackageStatus.PROVISIONED:
            errors = list(package.errors) if package is not None and package.errors else [ProvisioningError(
                code="PACKAGE_NOT_PROVISIONED", message=f"the customer's `{subscriber.package}` is not provisioned")]
            return await self._settle(job, subscriber, SubscriberStatus.ERROR, errors=errors)
        await self.engine.assign_user(subscriber.id, customer.external_id)
        account = await self.repos.accounts.by_email(subscriber.email)
        if account is not None and subscriber.status is SubscriberStatus.PROVISIONING and not consented(subscriber) \
                and not subscriber.org_user:
            # R-SUB-3: an existing free account must consent before it joins the org (R-ATT-3: the attached org's
            # own users join without it).
            return await self._settle(job, subscriber, SubscriberStatus.PENDING_USER_MIGRATION,
                                      consent_at=account.get("consentAt"))
        return await self._settle(job, subscriber, SubscriberStatus.PROVISIONED)

    async def _settle(self, job: Job, subscriber: Subscriber, to: SubscriberStatus | None, *,
                      errors: list[ProvisioningError] | None = None, consent_at: datetime | None = None,
                      consent: ConsentState | None = None) -> None:
        """Write the subscriber's next status (None: it is removed), if it is still what the step saw."""
        async def write(tx: Tx) -> None:
            doc: Document | None = await self.repos.subscribers.find_doc(subscriber.id, session=tx.session)
            if doc is None or doc["version"] != subscriber.version:
                await self.queue.finish(tx, job)
                return
            if to is None:
                await self.repos.subscribers.delete({"_id": subscriber.id}, session=tx.session)
                await record_removal(self.repos, tx, subscriber.id)
                tx.record(subscriber.removal())
            else:
                state = consent or subscriber.consent
                if to is SubscriberStatus.PENDING_USER_MIGRATION:
                    state = sent(state, tx.now)  # R-CONS-1: entering it sends the consent email
                updated, change = subscriber.move(to, tx.now, errors=errors or [], consent=state)
                await self.repos.subscribers.replace(updated.to_doc(), session=tx.session)
                if to is SubscriberStatus.PROVISIONED:
                    await record_assignment(self.repos, tx, updated)  # R-BIL-1: usage accrues from now
                tx.record(change)
                if to is SubscriberStatus.PENDING_USER_MIGRATION:
                    tx.record(consent_email_event(updated))
                if to is SubscriberStatus.PENDING_USER_MIGRATION and consent_at is not None:
                    await tx.enqueue(AwaitMigration(subscriber.id, consent_at))
            await self.queue.finish(tx, job)

        await self.repos.atomic(write)

    async def give_up(self, job: Job, failure: ProvisioningError) -> None:
        """A job that kept failing: the subscriber ends in `error` instead of waiting forever."""
        async def write(tx: Tx) -> None:
            doc = await self.repos.subscribers.find_doc(job.entity_id, session=tx.session)
            if doc is not None:
                sub = Subscriber.from_doc(doc)
                if sub.status in (SubscriberStatus.PROVISIONING, SubscriberStatus.UPDATING):
                    failed, change = sub.move(SubscriberStatus.ERROR, tx.now, errors=[failure])
                    await self.repos.subscribers.replace(failed.to_doc(), session=tx.session)
                    tx.record(change)
            await self.queue.finish(tx, job)

        await self.repos.atomic(write)
