"""Setup Assist (DOMAIN.md §18, R-SA-1/2): a partner requests it for a location, the platform (Cisco) takes it on and
completes or cancels it; the partner may cancel it while it is submitted. Completion bills it once, that day.

Each command writes the request and its event (entity type SETUP_ASSIST_REQUEST) in one transaction.
"""

from __future__ import annotations

from typing import Any

from domain.model.entities import Customer, Partner
from domain.model.errors import DomainError, ErrorCode, Forbidden
from domain.model.ids import Kind, new_id
from domain.model.principal import Role, Scope
from domain.model.setup_assist import SetupAssistRequest as SetupAssistRequest
from domain.model.status import SetupAssistStatus
from domain.rules.catalogue import CATALOGUE
from domain.rules.setup_assist import NewSetupAssist as NewSetupAssist
from domain.rules.setup_assist import SetupAssistFacts, move_problems, plan_setup_assist
from domain.rules.tenancy import Caller
from domain.services.acting import acting_owner
from domain.store.driver import DuplicateKey
from domain.store.repositories import Repositories, Tx
from domain.store.usage import record_setup_assist

# R-SA-1: the seats are the location's calling subscribers (plus its workspaces).
CALLING_PACKAGES: tuple[str, ...] = tuple(n for n, s in CATALOGUE.items() if s.calling and s.assignable_to_users)


async def _facts(repos: Repositories, owner: Partner, location_id: str, session: Any = None
                 ) -> SetupAssistFacts:
    today = repos.clock.now().date()
    doc = await repos.locations.owned_doc(location_id, owner.id, session=session)
    if doc is None:  # another tenant's location is a missing one (R-ORG-6)
        return SetupAssistFacts(None, False, 0, today)
    customer_doc = await repos.customers.find_doc(doc["customerId"], session=session)
    if customer_doc is None:
        return SetupAssistFacts(None, False, 0, today)
    subscribers = await repos.locations.subscriber_counts([location_id], packages=CALLING_PACKAGES, active=True,
                                                          session=session)
    workspaces = await repos.locations.workspace_counts([location_id], active=True, session=session)
    return SetupAssistFacts(
        customer=Customer.from_doc(customer_doc),
        open_request=await repos.setup_assist.open_for(location_id, session=session) is not None,
        seats=subscribers.get(location_id, 0) + workspaces.get(location_id, 0), today=today)


async def request_setup_assist(repos: Repositories, caller: Caller, data: NewSetupAssist,
                               on_behalf_of: str | None) -> SetupAssistRequest:
    owner = await acting_owner(repos, caller, on_behalf_of, Scope.CUSTOMERS_WRITE, full_admin=True)
    plan_setup_assist(data, await _facts(repos, owner, data.location_id)).problems.raise_if_any()
    request_id = new_id(Kind.SETUP_ASSIST)

    async def write(tx: Tx) -> SetupAssistRequest:
        facts = await _facts(repos, owner, data.location_id, tx.session)
        plan = plan_setup_assist(data, facts)
        plan.problems.raise_if_any()
        assert facts.customer is not None
        request = SetupAssistRequest(
            id=request_id, customer_id=facts.customer.id, location_id=data.location_id, owner_org_id=owner.id,
            root_org_id=owner.root_id, sku=plan.sku, seats=plan.seats, contact_name=data.contact_name.strip(),
            contact_email=data.contact_email.strip().lower(), target_date=data.target_date,
            status=SetupAssistStatus.SUBMITTED, version=1, created_at=tx.now, last_status_change=tx.now,
            location_snapshot=await repos.locations.find_doc(data.location_id, session=tx.session) or {})
        try:
            await repos.setup_assist.insert(request.to_doc(), session=tx.session)
        except DuplicateKey:
            raise DomainError.single(ErrorCode.INVALID_STATE, "this location already has an open Setup Assist "
                                     "request", "input", "locationId") from None
        tx.record(request.change(None))
        return request

    return await repos.atomic(write)


async def _move(repos: Repositories, request_id: str, to: SetupAssistStatus, *, owner: Partner | None,
                reason: str) -> SetupAssistRequest:
    """Move a request (of `owner`, or any for the platform) to `to`; completion writes its billing row."""
    async def write(tx: Tx) -> SetupAssistRequest:
        doc = await repos.setup_assist.find_doc(request_id, session=tx.session)
        if doc is None or (owner is not None and doc["ownerOrgId"] != owner.id):
            raise DomainError.single(ErrorCode.NOT_FOUND, "no Setup Assist request has this id", "id")
        current = SetupAssistRequest.from_doc(doc)
        move_problems(current, to, by_platform=owner is None).raise_if_any()
        moved, change = current.move(to, tx.now, reason=reason)
        if not await repos.setup_assist.replace(moved.to_doc(), expected_version=current.version,
                                                session=tx.session):
            raise DomainError.single(ErrorCode.INVALID_STATE, "the request changed meanwhile; read it and retry", "id")
        if to is SetupAssistStatus.COMPLETED:
            await record_setup_assist(repos, tx, moved)  # R-SA-2: one billing row, on the day it was completed
        tx.record(change)
        return moved

    return await repos.atomic(write)


async def cancel_setup_assist(repos: Repositories, caller: Caller, request_id: str,
                              on_behalf_of: str | None) -> SetupAssistRequest:
    """R-SA-2: the partner withdraws a request while it is submitted (a suspended sub-partner too: it only removes)."""
    owner = await acting_owner(repos, caller, on_behalf_of, Scope.CUSTOMERS_WRITE, allow_suspended=True,
                               full_admin=True)
    return await _move(repos, request_id, SetupAssistStatus.CANCELLED, owner=owner, reason="cancelled by the partner")


async def set_setup_assist_status(repos: Repositories, caller: Caller, request_id: str,
                                  status: SetupAssistStatus) -> SetupAssistRequest:
    """R-SA-2: the platform (Cisco's Setup Assist team) moves a request along."""
    if not caller.principal.has(Role.PLATFORM_ADMIN):
        raise Forbidden("only a platform_admin may move a Setup Assist request")
    return await _move(repos, request_id, status, owner=None, reason=f"{status.value} by the platform")
