"""The write side of workspaces (DOMAIN.md §14, R-WS-1/2): provision, update, delete.

Like subscribers: every problem is found first (R-PRE), then the workspace, its job and its event are written in
one transaction that checks the conflicts (name, numbers, the package limit) again on what it reads, and writes the
customer document, so two concurrent requests for one customer (workspaces or subscribers, which share the numbers)
conflict and are serialised. The Webex side happens in `domain.workflows.workspaces`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from domain.model.entities import Customer, Partner
from domain.model.errors import DomainError, ErrorCode
from domain.model.ids import Kind, new_id
from domain.model.jobs import SettleWorkspace
from domain.model.principal import Scope
from domain.model.status import WORKSPACE, WorkspaceStatus, require_move
from domain.model.workspaces import Workspace, name_key
from domain.rules.subscribers import CLOSED, UNSETTLED, blank_to_none
from domain.rules.tenancy import Caller, direct_scope
from domain.rules.workspaces import NewWorkspace as NewWorkspace
from domain.rules.workspaces import (
    WorkspaceFacts,
    WorkspaceHoldings,
    WorkspacePlan,
    changed,
    conflict_problems,
    plan_new_workspace,
    plan_workspace_update,
)
from domain.rules.workspaces import WorkspaceUpdate as WorkspaceUpdate
from domain.services.acting import acting_owner
from domain.services.customers import owned_customer
from domain.store.driver import Document, DuplicateKey
from domain.store.repositories import Repositories, Tx


async def numbers_taken(repos: Repositories, customer_id: str, phone: str | None, extension: str | None,
                        exclude: str | None, *, session: Any = None) -> tuple[bool, bool]:
    """Whether a subscriber or a workspace of the customer (other than `exclude`) has the number, the extension
    (R-WS-1: unique per customer across both)."""
    async def taken(field: str, value: str | None) -> bool:
        if value is None:
            return False
        return (await repos.subscribers.number_taken(customer_id, field, value, exclude, session=session)
                or await repos.workspaces.taken(customer_id, field, value, exclude, session=session))

    return await taken("primaryPhoneNumber", phone), await taken("extension", extension)


async def _holdings(repos: Repositories, customer: Customer, name: str, phone: str | None, extension: str | None,
                    exclude: str | None, *, session: Any = None) -> WorkspaceHoldings:
    phone_taken, extension_taken = await numbers_taken(repos, customer.id, phone, extension, exclude,
                                                       session=session)
    return WorkspaceHoldings(
        held=await repos.workspaces.holding(customer.id, session=session) if exclude is None else 0,
        name_taken=bool(name) and await repos.workspaces.taken(customer.id, "nameKey", name_key(name), exclude,
                                                               session=session),
        phone_taken=phone_taken, extension_taken=extension_taken)


async def _locations(repos: Repositories, customer: Customer) -> list[Document]:
    return (await repos.locations.by_customers([customer.id])).get(customer.id, [])


def _duplicate(exc: DuplicateKey) -> DomainError:
    """A unique index refused the write: someone took the name or a number meanwhile."""
    keys = set((exc.details or {}).get("keyPattern", {}) or {})
    field = next((f for f in ("primaryPhoneNumber", "extension") if f in keys), None)
    if field is not None:
        return DomainError.single(ErrorCode.NUMBER_IN_USE, "a subscriber or workspace of this customer has this "
                                  "number", "input", field)
    return DomainError.single(ErrorCode.NAME_IN_USE, "another workspace of this customer has this name",
                              "input", "name")


async def check_new_workspace(repos: Repositories, owner: Partner, data: NewWorkspace) -> WorkspacePlan:
    doc = await repos.customers.owned_doc(data.customer_id, owner.id)
    customer = Customer.from_doc(doc) if doc is not None else None
    if customer is None or customer.status in CLOSED:
        return plan_new_workspace(data, WorkspaceFacts(customer))
    phone, extension = blank_to_none(data.primary_phone_number), blank_to_none(data.extension)
    return plan_new_workspace(data, WorkspaceFacts(
        customer, await _locations(repos, customer),
        await _holdings(repos, customer, " ".join(data.name.split()), phone, extension, None)))


async def _touch_customer(repos: Repositories, tx: Tx, customer_id: str) -> Customer:
    """The customer as the transaction reads it, written so that concurrent requests for it conflict."""
    doc = await repos.customers.find_doc(customer_id, session=tx.session)
    if doc is None:
        raise DomainError.single(ErrorCode.NOT_FOUND, "no customer has this id", "input", "customerId")
    customer = Customer.from_doc(doc)
    if customer.status in CLOSED:
        raise DomainError.single(ErrorCode.INVALID_STATE, f"the customer is `{customer.status.value}`",
                                 "input", "customerId")
    await repos.customers.set_fields(customer.id, {"subscriberWrites": tx.now}, session=tx.session)
    return customer


async def provision_workspace(repos: Repositories, caller: Caller, data: NewWorkspace,
                              on_behalf_of: str | None) -> Workspace:
    """R-WS-1/2: answers at once with the workspace in `provisioning`; it waits for its customer to settle."""
    owner = await acting_owner(repos, caller, on_behalf_of, Scope.SUBSCRIBERS_WRITE)
    plan = await check_new_workspace(repos, owner, data)
    plan.problems.raise_if_any()
    assert plan.customer is not None and plan.location_id is not None
    location_id = plan.location_id
    workspace_id = new_id(Kind.WORKSPACE)

    async def write(tx: Tx) -> Workspace:
        customer = await _touch_customer(repos, tx, data.customer_id)
        holdings = await _holdings(repos, customer, plan.name, plan.primary_phone_number, plan.extension, None,
                                   session=tx.session)
        problems = conflict_problems(customer, plan.name, plan.primary_phone_number, plan.extension, holdings,
                                     "input")
        if problems:
            raise DomainError(problems)
        workspace = Workspace(
            id=workspace_id, customer_id=customer.id, owner_org_id=customer.owner_org_id,
            root_org_id=customer.root_org_id, name=plan.name, name_key=name_key(plan.name),
            primary_phone_number=plan.primary_phone_number, extension=plan.extension, location_id=location_id,
            status=WorkspaceStatus.PROVISIONING, version=1, created_at=tx.now, last_status_change=tx.now)
        try:
            await repos.workspaces.insert(workspace.to_doc(), session=tx.session)
        except DuplicateKey as exc:
            raise _duplicate(exc) from None
        wait = customer.id if customer.status in UNSETTLED else None
        await tx.enqueue(SettleWorkspace(workspace.id, "provision", 1, waiting_for=wait))
        tx.record(workspace.change(None))
        return workspace

    return await repos.atomic(write)


async def owned_workspace(repos: Repositories, owner: Partner, workspace_id: str) -> Workspace:
    """A workspace of `owner`; any other id is NOT_FOUND, whether it exists elsewhere or not (R-ORG-6)."""
    doc = await repos.workspaces.owned_doc(workspace_id, owner.id)
    if doc is None:
        raise DomainError.single(ErrorCode.NOT_FOUND, "no workspace has this id", "id")
    return Workspace.from_doc(doc)


async def update_workspace(repos: Repositories, caller: Caller, workspace_id: str, data: WorkspaceUpdate,
                           on_behalf_of: str | None) -> Workspace:
    """R-WS-1/2: `provisioned` → `updating` → `provisioned` | `error`; a change of nothing changes nothing."""
    owner = await acting_owner(repos, caller, on_behalf_of, Scope.SUBSCRIBERS_WRITE)
    current = await owned_workspace(repos, owner, workspace_id)
    require_move(WORKSPACE, current.status, WorkspaceStatus.UPDATING, "workspace")
    customer = await owned_customer(repos, owner, current.customer_id)
    if customer.status in CLOSED or customer.status in UNSETTLED:
        raise DomainError.single(ErrorCode.INVALID_STATE, f"the customer is `{customer.status.value}`", "id")
    probe = plan_workspace_update(current, customer, data, WorkspaceFacts(customer))
    plan = plan_workspace_update(current, customer, data, WorkspaceFacts(
        customer, await _locations(repos, customer),
        await _holdings(repos, customer, probe.name, probe.primary_phone_number, probe.extension, current.id)))
    plan.problems.raise_if_any()
    if not changed(current, plan):
        return current
    assert plan.location_id is not None
    location_id = plan.location_id

    async def write(tx: Tx) -> Workspace:
        doc = await repos.workspaces.find_doc(current.id, session=tx.session)
        if doc is None or doc["version"] != current.version:
            raise DomainError.single(ErrorCode.INVALID_STATE, "the workspace changed meanwhile; read it and retry",
                                     "id")
        fresh = await _touch_customer(repos, tx, customer.id)
        holdings = await _holdings(repos, fresh, plan.name, plan.primary_phone_number, plan.extension, current.id,
                                   session=tx.session)
        again = conflict_problems(
            fresh, plan.name if name_key(plan.name) != current.name_key else "",
            plan.primary_phone_number if plan.primary_phone_number != current.primary_phone_number else None,
            plan.extension if plan.extension != current.extension else None, holdings, "input", new=False)
        if again:
            raise DomainError(again)
        updated, change = current.move(WorkspaceStatus.UPDATING, tx.now, name=plan.name, name_key=name_key(plan.name),
                                       primary_phone_number=plan.primary_phone_number, extension=plan.extension,
                                       location_id=location_id, errors=[])
        try:
            await repos.workspaces.replace(updated.to_doc(), session=tx.session)
        except DuplicateKey as exc:
            raise _duplicate(exc) from None
        await tx.enqueue(SettleWorkspace(updated.id, "update", updated.version))
        tx.record(change)
        update = updated.update_event(current)
        if update is not None:
            tx.record(update)  # R-AUD-1: what changed, before and after
        return updated

    return await repos.atomic(write)


async def delete_workspace(repos: Repositories, caller: Caller, workspace_id: str,
                           on_behalf_of: str | None) -> Workspace:
    """R-WS-2: → `deleting` → removed (billing ends when the Webex side removed it). Allowed while suspended."""
    owner = await acting_owner(repos, caller, on_behalf_of, Scope.SUBSCRIBERS_WRITE, allow_suspended=True)
    current = await owned_workspace(repos, owner, workspace_id)
    require_move(WORKSPACE, current.status, WorkspaceStatus.DELETING, "workspace")

    async def write(tx: Tx) -> Workspace:
        doc = await repos.workspaces.find_doc(current.id, session=tx.session)
        if doc is None:
            raise DomainError.single(ErrorCode.NOT_FOUND, "no workspace has this id", "id")
        updated, change = Workspace.from_doc(doc).move(WorkspaceStatus.DELETING, tx.now)
        await repos.workspaces.replace(updated.to_doc(), session=tx.session)
        await tx.enqueue(SettleWorkspace(updated.id, "delete", updated.version))
        tx.record(change)
        return updated

    return await repos.atomic(write)



async def visible_workspaces(repos: Repositories, caller: Caller, ids: Sequence[str]) -> list[Document | None]:
    """Workspaces by id as this caller may see them (R-ORG-6): like subscribers, with the subscribers' read scope."""
    scope = direct_scope(caller)
    if scope.is_nothing or not caller.principal.can(Scope.SUBSCRIBERS_READ):
        return [None] * len(ids)
    docs = await repos.workspaces.by_ids(ids, scope.filter())
    return [docs.get(i) for i in ids]
