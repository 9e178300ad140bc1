"""The background half of provisioning: job handlers that move customers and subscribers on.

Each handler looks at the entity's *current* state and does the next thing it needs, so running a
job twice (after a crash or a lost lease) does no harm: the Webex-side steps are idempotent, and
the final transaction re-reads the entity and only writes if it is still in the state the step
started from (and if this worker still holds the job's lease).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from domain.model.changes import DELETED, Change, EntityType, package_entity_id
from domain.model.entities import (
    Compliance,
    Customer,
    CustomerPackage,
    CustomerStatus,
    PackageStatus,
    ProvisioningError,
    RplMatch,
    RplState,
    Subscriber,
    SubscriberStatus,
)
from domain.model.jobs import AwaitMigration, ReviewTimeout, compliance_deadline_id
from domain.rules.rpl import Screener
from domain.services.compliance import (
    NON_COMPLIANCE_WINDOW,
    REVIEW_WINDOW,
    fail_unprovisioned,
)
from domain.services.customers import customer_change, deleted_change, package_change, start_deletion
from domain.services.subscribers import UNSETTLED, subscriber_change
from domain.store.driver import Document
from domain.store.engine import Engine, OrgCreationFailed, TemporaryFailure
from domain.store.jobs import GiveUp, Handler, Job, JobQueue, Retry
from domain.store.repositories import Repositories, Tx
from domain.store.usage import record_assignment, record_customer_removal, record_removal

log = logging.getLogger("gateway.workflows")

SETTLED_RETRY = timedelta(seconds=2)


class Stale(Exception):
    """The entity changed while the step ran; the job ends and the newer operation's job takes over."""


@dataclass
class ScreenerCache:
    """The screener over the current list, rebuilt only when the list's version changes."""

    repos: Repositories
    _version: int = -1
    _screener: Screener | None = field(default=None, repr=False)

    async def get(self) -> Screener:
        version = await self.repos.rpl.version()
        if self._screener is None or version != self._version:
            self._screener = Screener(await self.repos.rpl.all())
            self._version = version
        return self._screener


@dataclass
class Workflows:
    repos: Repositories
    queue: JobQueue
    engine: Engine
    screeners: ScreenerCache = field(init=False)

    def __post_init__(self) -> None:
        self.screeners = ScreenerCache(self.repos)

    def handlers(self) -> dict[str, Handler]:
        return {
            "customer.settle": self.settle_customer,
            "subscriber.settle": self.settle_subscriber,
            "subscriber.migration": self.settle_subscriber,
            "rpl.timeout": self.review_timeout,
            "compliance.deadline": self.compliance_deadline,
        }

    def give_ups(self) -> dict[str, GiveUp]:
        """The jobs whose entity ends in `error` once they kept failing; timers keep retrying instead."""
        return {kind: self._give_up for kind in ("customer.settle", "subscriber.settle", "subscriber.migration")}

    # ------------------------------------------------------------------ customers

    async def _customer(self, customer_id: str) -> Customer | None:
        doc = await self.repos.customers.find_doc(customer_id)
        return Customer.from_doc(doc) if doc else None

    async def _current(self, tx: Tx, before: Customer) -> Customer:
        doc = await self.repos.customers.find_doc(before.id, session=tx.session)
        if doc is None or doc["version"] != before.version:
            raise Stale(before.id)
        return Customer.from_doc(doc)

    async def _finish_only(self, job: Job) -> None:
        async def write(tx: Tx) -> None:
            await self.queue.finish(tx, job)

        await self.repos.atomic(write)

    async def settle_customer(self, job: Job) -> None:
        customer = await self._customer(job.entity_id)
        if customer is None:
            return await self._finish_only(job)
        try:
            if customer.status is CustomerStatus.DELETING:
                await self._delete(job, customer)
            elif customer.status in (CustomerStatus.PROVISIONING, CustomerStatus.UPDATING):
                if job.payload.get("screen"):
                    customer = await self._screen(job, customer)
                    if customer.status is CustomerStatus.PENDING_RPL_REVIEW:
                        return None
                await self._provision(job, customer)
            elif customer.status is CustomerStatus.PENDING_RPL_REVIEW and customer.compliance.state in (
                    RplState.APPROVED, RplState.REJECTED):
                await self._provision(job, customer)
            else:
                await self._finish_only(job)  # nothing left for this job: a newer one owns the customer
        except Stale:
            log.info("customer %s changed while job %s ran; leaving it to the newer job", customer.id, job.id)
            await self._finish_only(job)
        except TemporaryFailure as exc:
            raise Retry(str(exc)) from exc
        return None

    async def _screen(self, job: Job, customer: Customer) -> Customer:
        """R-RPL-1/2/4: screen the name in the billing country; a potential match stops for review."""
        screener = await self.screeners.get()
        matches = screener.screen(customer.name, customer.address.country)

        async def write(tx: Tx) -> Customer:
            current = await self._current(tx, customer)
            found = [RplMatch(entry_id=m.entry_id, list_name=m.list_name, entry_name=m.entry_name,
                              country=m.country, score=m.score) for m in matches]
            if found:
                deadline = tx.now + REVIEW_WINDOW
                flagged = current.compliance.non_compliant_since
                updated = current.model_copy(update={
                    "status": CustomerStatus.PENDING_RPL_REVIEW,
                    "compliance": Compliance(state=RplState.UNDER_REVIEW, screened_at=tx.now,
                                             review_deadline=deadline, matches=found, non_compliant_since=flagged,
                                             contact_attempts=current.compliance.contact_attempts),
                    "version": current.version + 1, "updated_at": tx.now, "last_status_change": tx.now})
                await self.repos.customers.replace(updated, expected_version=current.version, session=tx.session)
                tx.record(customer_change(updated, current.status,
                                          reason=f"potential restricted-party match ({len(found)})"))
                await tx.enqueue(ReviewTimeout(current.id, deadline))
                await self.queue.finish(tx, job)
                return updated
            # No match: clear, and a flag from an earlier rejection is lifted (R-RPL-3).
            warnings = [w for w in current.warnings if w.code != "NON_COMPLIANT"]
            if current.compliance.non_compliant_since is not None:
                await tx.cancel(compliance_deadline_id(current.id))
            updated = current.model_copy(update={
                "compliance": Compliance(state=RplState.CLEAR, screened_at=tx.now), "warnings": warnings,
                "version": current.version + 1, "updated_at": tx.now})
            await self.repos.customers.replace(updated, expected_version=current.version, session=tx.session)
            await self.queue.hold(tx, job, **{"payload.screen": False})
            return updated

        return await self.repos.atomic(write)

    async def _provision(self, job: Job, customer: Customer) -> None:
        """The Webex side: create the org (once), assign new packages, remove dropped ones."""
        try:
            org_id = customer.org_id or await self.engine.create_org(customer.id, customer.external_id)
        except OrgCreationFailed as exc:
            error = exc.error

            async def fail(tx: Tx) -> None:
                current = await self._current(tx, customer)
                await fail_unprovisioned(self.repos, tx, current, error, current.compliance)
                await self.queue.finish(tx, job)

            await self.repos.atomic(fail)
            return
        outcome: dict[str, ProvisioningError | None] = {}
        for package in customer.packages:
            if package.status is PackageStatus.PROVISIONING:
                outcome[package.name] = await self.engine.assign_package(customer.id, customer.external_id,
                                                                         package.name)
            elif package.status is PackageStatus.DELETING:
                await self.engine.remove_package(customer.id, customer.external_id, package.name)

        async def write(tx: Tx) -> None:
            current = await self._current(tx, customer)
            packages: list[CustomerPackage] = []
            changes: list[tuple[CustomerPackage, PackageStatus, str | None]] = []
            for package in current.packages:
                if package.status is PackageStatus.DELETING:
                    changes.append((package, PackageStatus.DELETING, DELETED))
                    continue
                if package.name in outcome:
                    error = outcome[package.name]
                    after = package.model_copy(update={
                        "status": PackageStatus.ERROR if error else PackageStatus.PROVISIONED,
                        "errors": [error] if error else []})
                    changes.append((after, package.status, None))
                    package = after
                packages.append(package)
            failed = any(p.status is PackageStatus.ERROR for p in packages)
            status = CustomerStatus.PROVISIONED_WITH_ERRORS if failed else CustomerStatus.PROVISIONED
            updated = current.model_copy(update={
                "status": status, "org_id": org_id, "packages": packages, "errors": [],
                "version": current.version + 1, "updated_at": tx.now, "last_status_change": tx.now})
            await self.repos.customers.replace(updated, expected_version=current.version, session=tx.session)
            tx.record(customer_change(updated, current.status))
            for package, before, to in changes:
                tx.record(package_change(updated, package, before, to))
            await tx.release_waiting(current.id)  # R-RPL-5: waiting subscribers go on
            await self.queue.finish(tx, job)

        await self.repos.atomic(write)

    async def _delete(self, job: Job, customer: Customer) -> None:
        """R-CUS-4: remove the org, its subscribers and locations; the events stay (billing history)."""
        await self.engine.delete_org(customer.id, customer.external_id)

        async def write(tx: Tx) -> None:
            current = await self._current(tx, customer)
            for doc in await self.repos.subscribers.of_customer(current.id, session=tx.session):
                sub = Subscriber.from_doc(doc)
                tx.record(subscriber_change(sub, sub.status, to=DELETED, version=sub.version + 1,
                                            reason="the customer was deleted"))
            await self.repos.subscribers.delete({"customerId": current.id}, session=tx.session)
            await record_customer_removal(self.repos, tx, current.id)
            await self.repos.locations.delete({"customerId": current.id}, session=tx.session)
            await self.repos.customers.delete({"_id": current.id, "version": current.version}, session=tx.session)
            for package in current.packages:
                tx.record(Change(EntityType.CUSTOMER_PACKAGE, package_entity_id(current.id, package.name),
                                 current.owner_org_id, current.root_org_id, package.status.value, DELETED,
                                 current.version + 1, customer_id=current.id, details={"package": package.name}))
            tx.record(deleted_change(current))
            await tx.release_waiting(current.id)
            await self.queue.finish(tx, job)

        await self.repos.atomic(write)

    async def review_timeout(self, job: Job) -> None:
        """R-RPL-2: a review undecided after 72 hours ends in `error` (RPL_REVIEW_TIMEOUT)."""
        async def write(tx: Tx) -> None:
            doc = await self.repos.customers.find_doc(job.entity_id, session=tx.session)
            if doc is not None:
                customer = Customer.from_doc(doc)
                if customer.status is CustomerStatus.PENDING_RPL_REVIEW and \
                        customer.compliance.state is RplState.UNDER_REVIEW:
                    await fail_unprovisioned(
                        self.repos, tx, customer,
                        ProvisioningError(code="RPL_REVIEW_TIMEOUT",
                                          message="the restricted-party review was not decided within 72 hours"),
                        customer.compliance.model_copy(update={"state": RplState.TIMED_OUT, "decided_at": tx.now}))
            await self.queue.finish(tx, job)

        await self.repos.atomic(write)

    async def compliance_deadline(self, job: Job) -> None:
        """R-RPL-3: still non-compliant 30 days after the flag → deprovisioning starts."""
        customer = await self._customer(job.entity_id)
        if customer is not None and customer.status in UNSETTLED:
            raise Retry("the customer is changing; checking again later", timedelta(minutes=5))

        async def write(tx: Tx) -> None:
            # Finished first: starting the deletion cancels this very timer.
            await self.queue.finish(tx, job)
            doc = await self.repos.customers.find_doc(job.entity_id, session=tx.session)
            if doc is not None:
                current = Customer.from_doc(doc)
                since = current.compliance.non_compliant_since
                if since is not None and current.status is not CustomerStatus.DELETING and \
                        tx.now >= since + NON_COMPLIANCE_WINDOW:
                    await start_deletion(self.repos, tx, current.id,
                                         reason="non-compliant for 30 days after a rejected review")

        await self.repos.atomic(write)

    # ------------------------------------------------------------------ subscribers

    async def settle_subscriber(self, job: Job) -> None:
        doc = await self.repos.subscribers.find_doc(job.entity_id)
        if doc is None:
            return await self._finish_only(job)
        subscriber = Subscriber.from_doc(doc)
        customer = await self._customer(subscriber.customer_id)
        if customer is None or customer.status is CustomerStatus.DELETING:
            return await self._finish_only(job)  # the customer's deletion takes its subscribers with it
        try:
            if subscriber.status is SubscriberStatus.DELETING:
                await self.engine.remove_user(subscriber.id, customer.external_id)
                await self._settle(job, subscriber, None)
            elif subscriber.status in (SubscriberStatus.PROVISIONING, SubscriberStatus.UPDATING):
                if customer.status in UNSETTLED:
                    raise Retry("waiting for the customer to settle", SETTLED_RETRY)
                await self._assign(job, subscriber, customer)
            elif subscriber.status is SubscriberStatus.PENDING_USER_MIGRATION:
                await self._settle(job, subscriber, SubscriberStatus.PROVISIONED)
            else:
                await self._finish_only(job)
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
        if account is not None and subscriber.status is SubscriberStatus.PROVISIONING:
            # R-SUB-3: an existing free account must consent before it joins the org.
            return await self._settle(job, subscriber, SubscriberStatus.PENDING_USER_MIGRATION,
                                      consent_at=account.get("consentAt"))
        return await self._settle(job, subscriber, SubscriberStatus.PROVISIONED)

    async def _settle(self, job: Job, subscriber: Subscriber, to: SubscriberStatus | None, *,
                      errors: list[ProvisioningError] | None = None, consent_at: datetime | None = None) -> None:
        """Write the subscriber's next status (None: it is removed), if it is still what the step saw."""
        async def write(tx: Tx) -> None:
            doc: Document | None = await self.repos.subscribers.find_doc(subscriber.id, session=tx.session)
            if doc is None or doc["version"] != subscriber.version:
                await self.queue.finish(tx, job)
                return
            if to is None:
                await self.repos.subscribers.delete({"_id": subscriber.id}, session=tx.session)
                await record_removal(self.repos, tx, subscriber.id)
                tx.record(subscriber_change(subscriber, subscriber.status, to=DELETED, version=subscriber.version + 1))
            else:
                updated = subscriber.model_copy(update={"status": to, "errors": errors or [],
                                                        "version": subscriber.version + 1,
                                                        "last_status_change": tx.now})
                await self.repos.subscribers.replace(updated.to_doc(), session=tx.session)
                if to is SubscriberStatus.PROVISIONED:
                    await record_assignment(self.repos, tx, updated)  # R-BIL-1: usage accrues from now
                tx.record(subscriber_change(updated, subscriber.status))
                if to is SubscriberStatus.PENDING_USER_MIGRATION and consent_at is not None:
                    await tx.enqueue(AwaitMigration(subscriber.id, consent_at))
            await self.queue.finish(tx, job)

        await self.repos.atomic(write)

    # ------------------------------------------------------------------ giving up

    async def _give_up(self, job: Job, error: str) -> None:
        """A job that kept failing: its entity ends in `error` instead of waiting forever."""
        failure = ProvisioningError(code="INTERNAL", message=f"provisioning failed repeatedly: {error}"[:500])

        async def write(tx: Tx) -> None:
            if job.kind == "customer.settle":
                doc = await self.repos.customers.find_doc(job.entity_id, session=tx.session)
                if doc is not None:
                    customer = Customer.from_doc(doc)
                    if customer.status in UNSETTLED:
                        await fail_unprovisioned(self.repos, tx, customer, failure, customer.compliance)
            elif job.kind.startswith("subscriber."):
                doc = await self.repos.subscribers.find_doc(job.entity_id, session=tx.session)
                if doc is not None:
                    sub = Subscriber.from_doc(doc)
                    if sub.status in (SubscriberStatus.PROVISIONING, SubscriberStatus.UPDATING):
                        failed = sub.model_copy(update={"status": SubscriberStatus.ERROR, "errors": [failure],
                                                        "version": sub.version + 1, "last_status_change": tx.now})
                        await self.repos.subscribers.replace(failed.to_doc(), session=tx.session)
                        tx.record(subscriber_change(failed, sub.status))
            await self.queue.finish(tx, job)

        await self.repos.atomic(write)
