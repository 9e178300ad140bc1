"""Orders and the setup wizard (DOMAIN.md §12, R-ORD-1…8): placing an order, the setup email and its link, resend and
hand-over, the all-or-nothing completion and provisioning. Each command writes the order, its `ORDER` event, its
emails (outbox) and timers in one transaction; the timers and provisioning run in domain/workflows/orders.py."""

from __future__ import annotations

from typing import Any

from domain.model.changes import EntityType
from domain.model.entities import OrgKind, Partner, PartnerAccess, SubPartnerState
from domain.model.errors import DomainError, ErrorCode, Forbidden
from domain.model.ids import Kind, new_id
from domain.model.jobs import OrderFollowUp, OrderSetupStart, ProvisionOrder
from domain.model.notifications import Link, LinkRefused, Notification, NotificationAudience, NotificationKind
from domain.model.orders import LINK_STATES, Order, OrderLine, OrderStatus, SetupResponsibility
from domain.model.principal import LinkPurpose, Role, Scope
from domain.rules.orders import NewOrder as NewOrder
from domain.rules.orders import SetupData as SetupData
from domain.rules.orders import (
    follow_up_at,
    handover_problems,
    order_problems,
    partner_runs_wizard,
    resend_problems,
    setup_starts_at,
)
from domain.rules.tenancy import Caller, direct_scope
from domain.services.acting import acting_owner
from domain.services.notifications import partner_admin_recipients, require_link
from domain.services.order_setup import check_setup, claim_names
from domain.store.repositories import Repositories, Tx


def _changed_meanwhile() -> DomainError:
    return DomainError.single(ErrorCode.INVALID_STATE, "the order changed meanwhile; read it and retry", "id")


def _not_found() -> DomainError:
    return DomainError.single(ErrorCode.NOT_FOUND, "no order has this id", "id")


def is_sales_limited(caller: Caller) -> bool:
    """R-TRI-2: a sales_admin (without a broader role) sees and changes only the orders it created."""
    roles = caller.principal.roles
    return Role.SALES_ADMIN in roles and not roles & {Role.FULL_ADMIN, Role.READ_ONLY_ADMIN}


def visible_filter(caller: Caller) -> dict[str, Any] | None:
    """R-ORD-8: what orders a caller may see (None: none). A setup link holder sees only its order, while the link
    is current; partners as R-ORG-2/3/6 with the sales_admin limit."""
    link = caller.principal.link
    if link is not None:
        if link.purpose is not LinkPurpose.ORDER_SETUP:
            return None
        return {"_id": link.entity_id, "linkVersion": link.version, "status": {"$in": [s.value for s in LINK_STATES]}}
    if caller.org is None or not caller.principal.can(Scope.ORDERS_READ):
        return None
    reach = direct_scope(caller).filter()
    if is_sales_limited(caller):
        reach["createdBy"] = caller.principal.subject
    return reach


async def save(repos: Repositories, tx: Tx, current: Order, changed: Order) -> None:
    if not await repos.orders.replace(changed.to_doc(), expected_version=current.version, session=tx.session):
        raise _changed_meanwhile()


async def send_setup_email(repos: Repositories, tx: Tx, order: Order) -> None:
    """R-ORD-2 / R-NOT-4: ORDER_SETUP to the link holder with a setup link of the order's current link version."""
    owner = await repos.partners.get(order.owner_org_id)
    await tx.notify(Notification(
        kind=NotificationKind.ORDER_SETUP, audience=NotificationAudience.PROVISIONING_CONTACT,
        to=(order.link_holder_email,), occasion=f"link-v{order.link_version}", owner_org_id=order.owner_org_id,
        root_org_id=order.root_org_id, entity_type=EntityType.ORDER, entity_id=order.id, created_by=order.created_by,
        facts=_facts(order, owner), link=Link(LinkPurpose.ORDER_SETUP, order.id, order.link_version)))
    if (at := follow_up_at(order)) is not None and not order.follow_up_sent:
        await tx.enqueue(OrderFollowUp(order.id, at))


def _facts(order: Order, owner: Partner | None) -> dict[str, Any]:
    return {"partnerName": owner.name if owner else "your partner", "offer": order.offer.value,
            "requestedStartDate": order.requested_start_date.isoformat()}


async def follow_up_email(repos: Repositories, tx: Tx, order: Order) -> None:
    """R-ORD-3: once, to the contact and the partner admins."""
    owner = await repos.partners.get(order.owner_org_id)
    common: dict[str, Any] = {
        "kind": NotificationKind.ORDER_SETUP_FOLLOW_UP, "occasion": "follow-up", "owner_org_id": order.owner_org_id,
        "root_org_id": order.root_org_id, "entity_type": EntityType.ORDER, "entity_id": order.id,
        "created_by": order.created_by, "facts": _facts(order, owner)}
    await tx.notify(Notification(audience=NotificationAudience.PROVISIONING_CONTACT, to=(order.link_holder_email,),
                                 **common))
    if owner is not None:
        await tx.notify(Notification(audience=NotificationAudience.PARTNER_ADMINS,
                                     to=partner_admin_recipients(owner, order.creator_email), **common))


async def start_setup(repos: Repositories, tx: Tx, order: Order) -> Order:
    """R-ORD-STATE: `placed` -> `awaiting_setup`, with the first setup link and email (R-ORD-2)."""
    moved, change = order.move(OrderStatus.AWAITING_SETUP, tx.now, reason="the requested start date has come",
                               link_version=order.link_version + 1, setup_email_sent_at=tx.now)
    tx.record(change)
    await send_setup_email(repos, tx, moved)
    return moved


async def create_order(repos: Repositories, caller: Caller, data: NewOrder, on_behalf_of: str | None) -> Order:
    """R-ORD-1: a full_admin or sales_admin of a RESALE partner; a sub-partner's order only through its parent."""
    owner = await acting_owner(repos, caller, on_behalf_of, Scope.ORDERS_WRITE)
    if owner.kind is OrgKind.SUB_PARTNER and caller.org is not None and caller.org.id == owner.id:
        raise DomainError.single(ErrorCode.ORDER_VIA_PARENT, "a sub-partner's orders are placed by its parent partner "
                                 "on its behalf")
    order_problems(data, repos.clock.now().date(), "input").raise_if_any()
    order_id = new_id(Kind.ORDER)

    async def write(tx: Tx) -> Order:
        order = new_order(order_id, owner, caller, data, tx)
        await repos.orders.insert(order.to_doc(), session=tx.session)
        tx.record(order.change(None, reason="order placed"))
        return await schedule_setup(repos, tx, order)

    return await repos.atomic(write)


def new_order(order_id: str, owner: Partner, caller: Caller, data: NewOrder, tx: Tx, *,
              trial_id: str | None = None) -> Order:
    contact = data.provisioning_contact_email.strip().lower()
    subject = caller.principal.subject
    return Order(
        id=order_id, owner_org_id=owner.id, root_org_id=owner.root_id, offer=data.offer,
        lines=tuple(OrderLine(service=s, quantity=q) for s, q in data.lines),
        requested_start_date=data.requested_start_date, provisioning_contact_email=contact,
        link_holder_email=contact, status=OrderStatus.PLACED, created_by=subject,
        creator_email=subject if "@" in subject else None, trial_id=trial_id,
        meetings_site_url=data.meetings_site_url, created_at=tx.now, last_status_change=tx.now)


async def schedule_setup(repos: Repositories, tx: Tx, order: Order) -> Order:
    """The setup starts at the requested start date's 00:00 UTC: at once when that has passed."""
    at = setup_starts_at(order.requested_start_date)
    if at <= tx.now:
        started = await start_setup(repos, tx, order)
        await repos.orders.replace(started.to_doc(), expected_version=order.version, session=tx.session)
        return started
    await tx.enqueue(OrderSetupStart(order.id, at))
    return order


async def _partner_order(repos: Repositories, caller: Caller, order_id: str, tx: Tx, owner: Partner | None = None
                         ) -> Order:
    """An order the (partner) caller may change: its owner's (R-ORG-6) and, for a sales_admin, its own."""
    if caller.org is None or not caller.principal.can(Scope.ORDERS_WRITE):
        raise Forbidden("this needs the orders_write scope of a full_admin or sales_admin")
    reach = {"ownerOrgId": owner.id} if owner is not None else direct_scope(caller).filter()
    if is_sales_limited(caller):
        reach["createdBy"] = caller.principal.subject
    doc = await repos.orders.find_within(order_id, reach, session=tx.session)
    if doc is None:
        raise _not_found()
    order = Order.from_doc(doc)
    if owner is None:
        found = await repos.partners.get(order.owner_org_id)
        if found is not None and found.kind is OrgKind.SUB_PARTNER and \
                found.provisioning_state is SubPartnerState.SUSPENDED:
            raise DomainError.single(ErrorCode.SUB_PARTNER_SUSPENDED, "the order's sub-partner is suspended")
    return order


async def wizard_order(repos: Repositories, caller: Caller, order_id: str, tx: Tx) -> tuple[Order, str]:
    """R-ORD-4: the order and who runs its wizard: the link holder (its address), or while the setup is the
    partner's, the owner's full_admin / the creating sales_admin (its `sub`)."""
    link = caller.principal.link
    if link is not None:
        doc = await repos.orders.find_doc(order_id, session=tx.session)
        if doc is None:
            raise LinkRefused("this link does not open this order")
        order = Order.from_doc(doc)
        require_link(caller, LinkPurpose.ORDER_SETUP, order.id, order.link_version)
        if order.status not in LINK_STATES:
            raise LinkRefused("this order's setup is over")
        return order, link.recipient
    order = await _partner_order(repos, caller, order_id, tx)
    if not partner_runs_wizard(order):
        raise DomainError.single(ErrorCode.INVALID_STATE, "the setup was handed over to the customer: the partner no "
                                 "longer runs it", "id")
    return order, caller.principal.subject


async def resend_setup_email(repos: Repositories, caller: Caller, order_id: str, contact: str | None,
                             on_behalf_of: str | None) -> Order:
    """R-ORD-2: a new link (the old one revoked), optionally to a new contact (an alias -> a person)."""
    owner = await acting_owner(repos, caller, on_behalf_of, Scope.ORDERS_WRITE)

    async def write(tx: Tx) -> Order:
        order = await _partner_order(repos, caller, order_id, tx, owner)
        resend_problems(order, contact).raise_if_any()
        update: dict[str, Any] = {"link_version": order.link_version + 1, "setup_email_sent_at": tx.now}
        if contact is not None:
            address = contact.strip().lower()
            update["link_holder_email"] = address
            if order.setup_by is SetupResponsibility.PARTNER:
                update["provisioning_contact_email"] = address
        changed = order.updated(**update)
        await save(repos, tx, order, changed)
        tx.record(changed.change(order.status, reason="setup email resent"))
        await send_setup_email(repos, tx, changed)
        return changed

    return await repos.atomic(write)


async def hand_over_setup(repos: Repositories, caller: Caller, order_id: str, to: SetupResponsibility,
                          email: str) -> Order:
    """R-ORD-4: a new link to a colleague or the customer admin (old revoked); after CUSTOMER the partner gets NONE."""
    async def write(tx: Tx) -> Order:
        order, _ = await wizard_order(repos, caller, order_id, tx)
        handover_problems(order, to, email).raise_if_any()
        update: dict[str, Any] = {"setup_by": to, "link_holder_email": email.strip().lower(),
                                  "link_version": order.link_version + 1, "setup_email_sent_at": tx.now}
        if to is SetupResponsibility.CUSTOMER:
            update["partner_access"] = PartnerAccess.NONE
        changed = order.updated(**update)
        await save(repos, tx, order, changed)
        tx.record(changed.change(order.status, reason=f"setup handed over to {to.value}"))
        await send_setup_email(repos, tx, changed)
        return changed

    return await repos.atomic(write)


async def complete_order_setup(repos: Repositories, caller: Caller, order_id: str, data: SetupData) -> Order:
    """R-ORD-5: steps 5-10 at once; every problem reported together; nothing stored unless it all succeeds. The
    subdomain and site are claimed in the same transaction (a unique index: of two racing wizards one wins)."""
    async def write(tx: Tx) -> Order:
        order, by = await wizard_order(repos, caller, order_id, tx)
        setup = await check_setup(repos, tx, order, data, by)
        await claim_names(repos, tx, order, setup)
        moved, change = order.move(OrderStatus.SET_UP, tx.now, reason="setup completed", setup=setup,
                                   org_id=setup.existing_org_id)
        await save(repos, tx, order, moved)
        tx.record(change)
        return moved

    return await repos.atomic(write)


async def provision_order(repos: Repositories, caller: Caller, order_id: str) -> Order:
    """R-ORD-7: `set_up` -> `provisioning` (callers as R-ORD-4); the Webex side then works in the background."""
    async def write(tx: Tx) -> Order:
        order, _ = await wizard_order(repos, caller, order_id, tx)
        moved, change = order.move(OrderStatus.PROVISIONING, tx.now, reason="provisioning started")
        await save(repos, tx, order, moved)
        tx.record(change)
        await tx.enqueue(ProvisionOrder(moved.id, moved.version))
        return moved

    return await repos.atomic(write)
