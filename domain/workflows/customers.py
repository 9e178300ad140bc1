"""The background half of a customer's life: screening, provisioning on the Webex side, review timers, deletion."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import timedelta

from domain.model.entities import (
    AttachApprovalState,
    Compliance,
    Customer,
    CustomerStatus,
    PackageStatus,
    ProvisioningError,
    RplMatch,
    RplState,
    Subscriber,
)
from domain.model.jobs import AttachApprovalTimeout, ReviewTimeout, compliance_deadline_id
from domain.model.workspaces import Workspace
from domain.rules.attach import approval_requested, approval_timed_out, awaits_approval
from domain.rules.compliance import NON_COMPLIANCE_WINDOW, REVIEW_WINDOW
from domain.rules.packages import settled_packages
from domain.rules.rpl import Screener
from domain.rules.subscribers import UNSETTLED
from domain.services.compliance import fail_unprovisioned
from domain.services.customers import start_deletion
from domain.store.engine import Engine, OrgCreationFailed, TemporaryFailure
from domain.store.jobs import Job, Retry, outside_work_done
from domain.store.repositories import Repositories, Tx
from domain.store.usage import CALLING_PLAN, record_calling_plan, record_customer_removal
from domain.workflows.common import Stale, Steps

log = logging.getLogger("gateway.workflows")


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
class CustomerSteps(Steps):
    engine: Engine
    screeners: ScreenerCache = field(init=False)

    def __post_init__(self) -> None:
        self.screeners = ScreenerCache(self.repos)

    async def _customer(self, customer_id: str) -> Customer | None:
        doc = await self.repos.customers.find_doc(customer_id)
        return Customer.from_doc(doc) if doc else None

    async def _current(self, tx: Tx, before: Customer) -> Customer:
        doc = await self.repos.customers.find_doc(before.id, session=tx.session)
        if doc is None or doc["version"] != before.version:
            raise Stale(before.id)
        return Customer.from_doc(doc)

    async def settle(self, job: Job) -> None:
        customer = await self._customer(job.entity_id)
        if customer is None:
            return await self.finish_only(job)
        try:
            if customer.status is CustomerStatus.DELETING:
                await self._delete(job, customer)
            elif customer.status in (CustomerStatus.PROVISIONING, CustomerStatus.UPDATING):
                cleared = False  # screened without a match, not yet written: recorded with the outcome below
                if job.payload.get("screen"):
                    screened = await self._screen(job, customer)
                    if screened is None:
                        cleared = True
                    elif screened.status is CustomerStatus.PENDING_RPL_REVIEW:
                        return None
                    else:
                        customer = screened
                if awaits_approval(customer):
                    if cleared:
                        customer = await self._record_clear(job, customer)
                    return await self._ask_approval(job, customer)
                await self._provision(job, customer, cleared=cleared)
            elif customer.status is CustomerStatus.PENDING_RPL_REVIEW and customer.compliance.state in (
                    RplState.APPROVED, RplState.REJECTED):
                if customer.compliance.state is RplState.APPROVED and awaits_approval(customer):
                    return await self._ask_approval(job, customer)
                await self._provision(job, customer)
            else:
                await self.finish_only(job)  # nothing left for this job: a newer one owns the customer
        except Stale:
            log.info("customer %s changed while job %s ran; leaving it to the newer job", customer.id, job.id)
            await self.finish_only(job)
        except TemporaryFailure as exc:
            raise Retry(str(exc)) from exc
        return None

    async def _screen(self, job: Job, customer: Customer) -> Customer | None:
        """R-RPL-1/2/4: screen the name in the billing country; a potential match stops for review.

        No match returns None and writes nothing: the clearance is recorded in the transaction that writes the
        step's outcome (`_clear`), which saves a transaction per customer. The Webex side is still only reached
        after the screening; a job run again after a crash screens again.
        """
        screener = await self.screeners.get()
        matches = screener.screen(customer.name, customer.address.country)
        if not matches:
            return None

        async def write(tx: Tx) -> Customer:
            current = await self._current(tx, customer)
            found = [RplMatch(entry_id=m.entry_id, list_name=m.list_name, entry_name=m.entry_name,
                              country=m.country, score=m.score) for m in matches]
            deadline = tx.now + REVIEW_WINDOW
            updated, change = current.move(
                CustomerStatus.PENDING_RPL_REVIEW, tx.now,
                reason=f"potential restricted-party match ({len(found)})",
                compliance=Compliance(state=RplState.UNDER_REVIEW, screened_at=tx.now, review_deadline=deadline,
                                      matches=found, non_compliant_since=current.compliance.non_compliant_since,
                                      contact_attempts=current.compliance.contact_attempts))
            await self.repos.customers.replace(updated, expected_version=current.version, session=tx.session)
            tx.record(change)
            await tx.enqueue(ReviewTimeout(current.id, deadline))
            await self.queue.finish(tx, job)
            return updated

        return await self.repos.atomic(write)

    @staticmethod
    async def _clear(tx: Tx, current: Customer) -> Customer:
        """The customer screened clear (not written): a flag from an earlier rejection is lifted (R-RPL-3)."""
        if current.compliance.non_compliant_since is not None:
            await tx.cancel(compliance_deadline_id(current.id))
        return current.revised(tx.now, compliance=Compliance(state=RplState.CLEAR, screened_at=tx.now),
                               warnings=[w for w in current.warnings if w.code != "NON_COMPLIANT"])

    async def _record_clear(self, job: Job, customer: Customer) -> Customer:
        """Write the clearance on its own, keeping the job (the path that asks for an attach approval next)."""
        async def write(tx: Tx) -> Customer:
            current = await self._current(tx, customer)
            updated = await self._clear(tx, current)
            await self.repos.customers.replace(updated, expected_version=current.version, session=tx.session)
            await self.queue.hold(tx, job, **{"payload.screen": False})
            return updated

        return await self.repos.atomic(write)

    async def _ask_approval(self, job: Job, customer: Customer) -> None:
        """R-ATT-2: screened (and reviewed): the attached org's admin is asked, with 10 days to answer."""
        async def write(tx: Tx) -> None:
            current = await self._current(tx, customer)
            assert current.attach is not None
            info = approval_requested(current.attach, tx.now)
            updated, change = current.move(CustomerStatus.PENDING_CUSTOMER_APPROVAL, tx.now, attach=info,
                                           reason="waiting for the org's admin to approve the attach")
            await self.repos.customers.replace(updated, expected_version=current.version, session=tx.session)
            tx.record(change)
            assert info.deadline is not None
            await tx.enqueue(AttachApprovalTimeout(current.id, info.deadline))
            await self.queue.finish(tx, job)

        await self.repos.atomic(write)

    async def _provision(self, job: Job, customer: Customer, *, cleared: bool = False) -> None:
        """The Webex side: create the org (once), assign new packages, remove dropped ones; `cleared`: the
        customer was screened clear just before, and its outcome records that too."""
        try:
            org_id = customer.org_id or await self.engine.create_org(customer.id, customer.external_id)
        except OrgCreationFailed as exc:
            error = exc.error

            async def fail(tx: Tx) -> None:
                current = await self._current(tx, customer)
                if cleared:
                    screened = await self._clear(tx, current)
                    await self.repos.customers.replace(screened, expected_version=current.version,
                                                       session=tx.session)
                    current = screened
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
        outside_work_done()  # what is left is the transaction below: the worker may start another job meanwhile

        async def write(tx: Tx) -> None:
            # From the copy the job read, not read again: the write below holds only over that very version.
            current = await self._clear(tx, customer) if cleared else customer
            packages, moves = settled_packages(current.packages, outcome)
            failed = any(p.status is PackageStatus.ERROR for p in packages)
            updated, change = current.move(
                CustomerStatus.PROVISIONED_WITH_ERRORS if failed else CustomerStatus.PROVISIONED, tx.now,
                org_id=org_id, packages=packages, errors=[])
            if not await self.repos.customers.write_state(updated, expected_version=customer.version,
                                                          session=tx.session):
                raise Stale(customer.id)
            tx.record(change)
            for package, before, to in moves:
                tx.record(updated.package_change(package, before, to))
            if any(package.name == CALLING_PLAN for package, _, _ in moves):
                await record_calling_plan(self.repos, tx, updated.id)  # R-ADD-2: billed per numbered user
            await tx.release_waiting(current.id)  # R-RPL-5: waiting subscribers go on
            await self.queue.finish(tx, job)

        await self.repos.atomic(write)

    async def _delete(self, job: Job, customer: Customer) -> None:
        """R-CUS-4: remove the org, its subscribers and locations; the events stay (billing history)."""
        await self.engine.delete_org(customer.id, customer.external_id)

        async def write(tx: Tx) -> None:
            current = await self._current(tx, customer)
            for doc in await self.repos.subscribers.of_customer(current.id, session=tx.session):
                tx.record(Subscriber.from_doc(doc).removal(reason="the customer was deleted"))
            await self.repos.subscribers.delete({"customerId": current.id}, session=tx.session)
            for doc in await self.repos.workspaces.of_customer(current.id, session=tx.session):
                tx.record(Workspace.from_doc(doc).removal(reason="the customer was deleted"))  # R-WS-2
            await self.repos.workspaces.delete({"customerId": current.id}, session=tx.session)
            await record_customer_removal(self.repos, tx, current.id)
            await self.repos.locations.delete({"customerId": current.id}, session=tx.session)
            if current.attach is not None and current.org_id is not None:  # R-ATT-3: the org may be re-attached
                await self.repos.org_directory.release(current.org_id, current.id, session=tx.session)
            await self.repos.customers.delete({"_id": current.id, "version": current.version}, session=tx.session)
            for change in current.removals():
                tx.record(change)
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

    async def attach_timeout(self, job: Job) -> None:
        """R-ATT-2: an approval unanswered after 10 days ends in `error` (ATTACH_APPROVAL_TIMEOUT)."""
        async def write(tx: Tx) -> None:
            doc = await self.repos.customers.find_doc(job.entity_id, session=tx.session)
            if doc is not None:
                customer = Customer.from_doc(doc)
                failure = approval_timed_out(customer, tx.now)
                if failure is not None and customer.attach is not None:
                    timed_out = customer.model_copy(update={"attach": customer.attach.model_copy(update={
                        "approval_state": AttachApprovalState.TIMED_OUT, "decided_at": tx.now})})
                    await fail_unprovisioned(self.repos, tx, timed_out, failure, customer.compliance)
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

    async def give_up(self, job: Job, failure: ProvisioningError) -> None:
        """A settle job that kept failing: the customer ends in `error` instead of waiting forever."""
        async def write(tx: Tx) -> None:
            doc = await self.repos.customers.find_doc(job.entity_id, session=tx.session)
            if doc is not None:
                customer = Customer.from_doc(doc)
                if customer.status in UNSETTLED:
                    await fail_unprovisioned(self.repos, tx, customer, failure, customer.compliance)
            await self.queue.finish(tx, job)

        await self.repos.atomic(write)
