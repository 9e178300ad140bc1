"""The background half of a workspace's life (R-WS-2): its place on the Webex side, then billing; its removal."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from domain.model.entities import Customer, CustomerStatus, PackageStatus, ProvisioningError
from domain.model.status import WorkspaceStatus
from domain.model.workspaces import WORKSPACE_PACKAGE, Workspace
from domain.rules.subscribers import UNSETTLED
from domain.store.engine import Engine, TemporaryFailure
from domain.store.jobs import Job, Retry
from domain.store.repositories import Tx
from domain.store.usage import record_workspace_assignment, record_workspace_removal
from domain.workflows.common import Steps

SETTLED_RETRY = timedelta(seconds=2)


@dataclass
class WorkspaceSteps(Steps):
    engine: Engine

    async def settle(self, job: Job) -> None:
        doc = await self.repos.workspaces.find_doc(job.entity_id)
        if doc is None:
            return await self.finish_only(job)
        workspace = Workspace.from_doc(doc)
        customer_doc = await self.repos.customers.find_doc(workspace.customer_id)
        customer = Customer.from_doc(customer_doc) if customer_doc else None
        if customer is None or customer.status is CustomerStatus.DELETING:
            return await self.finish_only(job)  # the customer's deletion takes its workspaces with it
        try:
            if workspace.status is WorkspaceStatus.DELETING:
                await self.engine.remove_user(workspace.id, customer.external_id)
                await self._settle(job, workspace, None)
            elif workspace.status in (WorkspaceStatus.PROVISIONING, WorkspaceStatus.UPDATING):
                if customer.status in UNSETTLED:
                    raise Retry("waiting for the customer to settle", SETTLED_RETRY)  # R-RPL-5
                await self._place(job, workspace, customer)
            else:
                await self.finish_only(job)
        except TemporaryFailure as exc:
            raise Retry(str(exc)) from exc
        return None

    async def _place(self, job: Job, workspace: Workspace, customer: Customer) -> None:
        if customer.status is CustomerStatus.ERROR:
            # The customer was never provisioned: its workspaces fail with its reason.
            return await self._settle(job, workspace, WorkspaceStatus.ERROR, errors=list(customer.errors) or [
                ProvisioningError(code="CUSTOMER_ERROR", message="the customer was not provisioned")])
        package = next((p for p in customer.packages if p.name == WORKSPACE_PACKAGE), None)
        if package is None or package.status is not PackageStatus.PROVISIONED:
            errors = list(package.errors) if package is not None and package.errors else [ProvisioningError(
                code="PACKAGE_NOT_PROVISIONED", message=f"the customer's `{WORKSPACE_PACKAGE}` is not provisioned")]
            return await self._settle(job, workspace, WorkspaceStatus.ERROR, errors=errors)
        await self.engine.assign_user(workspace.id, customer.external_id)
        return await self._settle(job, workspace, WorkspaceStatus.PROVISIONED)

    async def _settle(self, job: Job, workspace: Workspace, to: WorkspaceStatus | None, *,
                      errors: list[ProvisioningError] | None = None) -> None:
        """Write the workspace's next status (None: it is removed), if it is still what the step saw."""
        async def write(tx: Tx) -> None:
            doc = await self.repos.workspaces.find_doc(workspace.id, session=tx.session)
            if doc is None or doc["version"] != workspace.version:
                await self.queue.finish(tx, job)
                return
            if to is None:
                await self.repos.workspaces.delete({"_id": workspace.id}, session=tx.session)
                await record_workspace_removal(self.repos, tx, workspace.id)
                tx.record(workspace.removal())
            else:
                updated, change = workspace.move(to, tx.now, errors=errors or [])
                await self.repos.workspaces.replace(updated.to_doc(), session=tx.session)
                if to is WorkspaceStatus.PROVISIONED:
                    await record_workspace_assignment(self.repos, tx, updated)  # R-WS-2: billed from now
                tx.record(change)
            await self.queue.finish(tx, job)

        await self.repos.atomic(write)

    async def give_up(self, job: Job, failure: ProvisioningError) -> None:
        """A job that kept failing: the workspace ends in `error` instead of waiting forever."""
        async def write(tx: Tx) -> None:
            doc = await self.repos.workspaces.find_doc(job.entity_id, session=tx.session)
            if doc is not None:
                workspace = Workspace.from_doc(doc)
                if workspace.status in (WorkspaceStatus.PROVISIONING, WorkspaceStatus.UPDATING):
                    failed, change = workspace.move(WorkspaceStatus.ERROR, tx.now, errors=[failure])
                    await self.repos.workspaces.replace(failed.to_doc(), session=tx.session)
                    tx.record(change)
            await self.queue.finish(tx, job)

        await self.repos.atomic(write)
