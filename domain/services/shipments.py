"""Trial device shipments (DOMAIN.md §10, R-TRI-7): requested with a trial, shipped and delivered by the simulated
logistics side (domain.workflows.shipments), due back when the trial's devices end, returned as recorded by the
platform.

For the trials and orders slices, inside their own transaction:
- `shipped_types(repos, trial_id)` + `domain.rules.shipments.shipment_problems(...)`: check shipments beforehand;
- `request_shipments(repos, tx, trial, requests)`: store `requested` shipments and their logistics jobs;
- `start_returns(repos, tx, trial_id, at)`: the trial's devices end (its `endsAt`, conversion, deletion, `DEVICES`
  removed); everything still out becomes due back at `at` + 14 days.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from domain.model.changes import EntityType
from domain.model.customer_orgs import CustomerOrg
from domain.model.entities import Partner
from domain.model.errors import DomainError, ErrorCode, Forbidden
from domain.model.ids import Kind, new_id
from domain.model.jobs import ShipmentLogistics, ShipmentReturnOverdue
from domain.model.notifications import Notification, NotificationAudience, NotificationKind
from domain.model.principal import Role, Scope
from domain.model.shipments import DeviceShipment, ShipmentStatus, ShipmentTrial
from domain.model.trials import Trial
from domain.rules.shipments import (
    SHIP_AFTER,
    ShipmentRequest,
    due_now,
    ends_devices,
    return_due_at,
    return_problems,
    shipment_problems,
)
from domain.rules.tenancy import Caller, direct_scope
from domain.rules.validation import Problems
from domain.store.driver import DuplicateKey
from domain.store.repositories import Repositories, Tx

SHIPMENTS_FIELD = ("input", "shipments")


async def shipped_types(repos: Repositories, trial_id: str, *, session: Any = None) -> frozenset[str]:
    """The device types a trial has ever asked for (one shipment per type, ever: R-TRI-7)."""
    return frozenset(d["deviceType"] for d in await repos.shipments.of_trial(trial_id, session=session))


async def request_shipments(repos: Repositories, tx: Tx, trial: ShipmentTrial, requests: Sequence[ShipmentRequest],
                            *, field: tuple[str, ...] = SHIPMENTS_FIELD) -> list[DeviceShipment]:
    """R-TRI-7: store `requested` shipments of `trial` (refused with every problem, field paths under `field`), each
    with the logistics job that ships it in the background and its DEVICE_SHIPMENT event."""
    problems = Problems()
    cleaned = shipment_problems(requests, await shipped_types(repos, trial.id, session=tx.session), problems, *field)
    problems.raise_if_any()
    made: list[DeviceShipment] = []
    for request in cleaned:
        shipment = DeviceShipment(
            id=new_id(Kind.DEVICE_SHIPMENT), trial_id=trial.id, owner_org_id=trial.owner_org_id,
            root_org_id=trial.root_org_id, created_by=trial.created_by, device_type=request.device_type,
            quantity=request.quantity, address=request.address, status=ShipmentStatus.REQUESTED, version=1,
            created_at=tx.now, last_status_change=tx.now)
        try:
            await repos.shipments.insert(shipment.to_doc(), session=tx.session)
        except DuplicateKey:
            raise DomainError.single(ErrorCode.SHIPMENT_EXISTS, f"the trial already has a `{request.device_type}` "
                                     "shipment", *field) from None
        tx.record(shipment.change(None, reason="requested"))
        await tx.enqueue(ShipmentLogistics(shipment.id, shipment.version, tx.now + SHIP_AFTER))
        made.append(shipment)
    return made


async def start_returns(repos: Repositories, tx: Tx, trial_id: str, at: datetime | None = None
                        ) -> list[DeviceShipment]:
    """R-TRI-7: the trial's devices end (`at`, default now): every shipment still out is due back 14 days later.

    A delivered shipment becomes `return_due` at once; one in transit when it is delivered; one not shipped yet is
    never sent (it stays `requested`). Shipments whose devices already ended keep their due date."""
    end = at if at is not None else tx.now
    changed: list[DeviceShipment] = []
    for doc in await repos.shipments.of_trial(trial_id, session=tx.session):
        current = DeviceShipment.from_doc(doc)
        if not ends_devices(current):
            continue
        noted = {"device_end_at": end, "return_due_at": return_due_at(end)}
        if due_now(current.model_copy(update=noted)):
            updated, change = current.move(ShipmentStatus.RETURN_DUE, tx.now, reason="the trial's devices ended",
                                           **noted)
            await tx.enqueue(ShipmentReturnOverdue(updated.id, updated.return_due_at or tx.now))
        else:
            updated = current.revised(**noted)
            change = updated.change(current.status, reason="the trial's devices ended" + (
                ": never shipped" if current.status is ShipmentStatus.REQUESTED else ": due back on delivery"))
        await _store(repos, tx, current, updated)
        tx.record(change)
        changed.append(updated)
    return changed


async def record_device_return(repos: Repositories, caller: Caller, shipment_id: str,
                               serials: Sequence[str]) -> DeviceShipment:
    """R-TRI-7: the platform (Cisco's trial team) records a shipment back, with exactly the serials it shipped."""
    if not caller.principal.has(Role.PLATFORM_ADMIN):
        raise Forbidden("only a platform_admin records device returns")

    async def write(tx: Tx) -> DeviceShipment:
        doc = await repos.shipments.find_doc(shipment_id, session=tx.session)
        current = DeviceShipment.from_doc(doc) if doc is not None else None
        return_problems(current, serials).raise_if_any()
        assert current is not None
        returned, change = current.move(ShipmentStatus.RETURNED, tx.now, reason="returned",
                                        returned_at=tx.now)
        await _store(repos, tx, current, returned)
        await tx.cancel(ShipmentReturnOverdue(current.id, tx.now).job_id)
        tx.record(change)
        return returned

    return await repos.atomic(write)


async def _store(repos: Repositories, tx: Tx, current: DeviceShipment, updated: DeviceShipment) -> None:
    if not await repos.shipments.replace(updated.to_doc(), expected_version=current.version, session=tx.session):
        raise DomainError.single(ErrorCode.INVALID_STATE, "the shipment changed meanwhile; read it and retry",
                                 "shipmentId")


# ---------------------------------------------------------------- reads


def _visible_filter(caller: Caller) -> dict[str, object] | None:
    """R-ORG-2/3/6 for one shipment asked for by its tracking number (None: any, for platform_admin); a sales_admin
    sees those of the trials it created (R-TRI-2)."""
    if caller.principal.has(Role.PLATFORM_ADMIN):
        return None
    if not caller.principal.can(Scope.TRIALS_READ):
        raise Forbidden("this needs the trials_read scope")
    scope: dict[str, object] = dict(direct_scope(caller).filter())
    if caller.principal.has(Role.SALES_ADMIN) and not caller.principal.has(Role.FULL_ADMIN) \
            and not caller.principal.has(Role.READ_ONLY_ADMIN):
        scope["createdBy"] = caller.principal.subject
    return scope


async def shipment_by_tracking_number(repos: Repositories, caller: Caller, tracking_number: str
                                      ) -> DeviceShipment | None:
    """`deviceShipment(trackingNumber)`: another tenant's reads like a missing one (R-ORG-6)."""
    scope = _visible_filter(caller)
    doc = await repos.shipments.by_tracking_number(tracking_number.strip().upper(), scope)
    return DeviceShipment.from_doc(doc) if doc is not None else None


async def visible_shipments(repos: Repositories, caller: Caller, ids: Sequence[str]) -> list[DeviceShipment | None]:
    """Shipments by id as the caller may see them (`node(id)`), aligned to `ids`; another tenant's are None."""
    try:
        scope = _visible_filter(caller)
    except Forbidden:  # no trials scope: nothing of this kind is visible
        return [None for _ in ids]
    found = await repos.shipments.by_ids(ids, scope)
    return [DeviceShipment.from_doc(found[i]) if i in found else None for i in ids]


async def trial_of(repos: Repositories, shipment: DeviceShipment) -> Trial:
    """The trial of a shipment the caller already sees (a trial is never removed: it ends in a terminal status)."""
    doc = await repos.trials.find_doc(shipment.trial_id)
    assert doc is not None, f"shipment {shipment.id} has no trial"
    return Trial.from_doc(doc)


async def shipments_of_trials(repos: Repositories, trial_ids: Sequence[str]) -> list[list[DeviceShipment]]:
    """`Trial.shipments` for a batch of trials the caller already sees, aligned to `trial_ids`."""
    grouped = await repos.shipments.of_trials(trial_ids)
    return [[DeviceShipment.from_doc(d) for d in grouped.get(t, [])] for t in trial_ids]


# ---------------------------------------------------------------- notices (R-NOT-3/4)


def partner_admins(owner: Partner, creator_email: str | None) -> tuple[str, ...]:
    """R-NOT-3: the owner's notificationEmails and the trial's creator when that is an email."""
    emails = [e.strip().lower() for e in owner.notification_emails]
    if creator_email and "@" in creator_email:
        emails.append(creator_email.strip().lower())
    return tuple(dict.fromkeys(emails))


async def notice_facts(repos: Repositories, shipment: DeviceShipment, *, session: Any = None
                       ) -> tuple[Partner | None, Trial | None, CustomerOrg | None]:
    owner = await repos.partners.get(shipment.owner_org_id)
    trial_doc = await repos.trials.find_doc(shipment.trial_id, session=session)
    trial = Trial.from_doc(trial_doc) if trial_doc is not None else None
    org_doc = await repos.customer_orgs.find_doc(trial.org_id, session=session) if trial and trial.org_id else None
    return owner, trial, CustomerOrg.from_doc(org_doc) if org_doc is not None else None


async def notify_shipment(tx: Tx, kind: NotificationKind, shipment: DeviceShipment, owner: Partner | None,
                          trial: Trial | None, org: CustomerOrg | None) -> None:
    """DEVICE_SHIPPED (partner and customer admins) or DEVICE_RETURN_OVERDUE (partner admins), R-NOT-4."""
    if owner is None:
        return
    audiences: list[tuple[NotificationAudience, tuple[str, ...]]] = [
        (NotificationAudience.PARTNER_ADMINS, partner_admins(owner, trial.creator_email if trial else None))]
    if kind is NotificationKind.DEVICE_SHIPPED:
        customer = org.full_admin_emails if org is not None else ((trial.admin_email,) if trial else ())
        audiences.append((NotificationAudience.CUSTOMER_ADMINS, customer))
    facts = {"deviceType": shipment.device_type, "quantity": shipment.quantity,
             "trackingNumber": shipment.tracking_number,
             "companyName": trial.company_name if trial else "",
             "returnDueAt": shipment.return_due_at.isoformat() if shipment.return_due_at else None}
    for audience, to in audiences:
        await tx.notify(Notification(
            kind=kind, audience=audience, to=to, occasion=shipment.tracking_number or shipment.id,
            owner_org_id=shipment.owner_org_id, root_org_id=shipment.root_org_id,
            entity_type=EntityType.DEVICE_SHIPMENT, entity_id=shipment.id, created_by=shipment.created_by,
            facts=facts))
