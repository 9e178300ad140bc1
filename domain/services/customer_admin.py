"""What a customer's own admins do on the Webex side, as it reaches the gateway (DOMAIN.md §5.8, R-RBP-2).

With restricted-by-partner mode off, a customer's admins may add Wholesale users and change their packages in
Webex. The Webex side reports each such change here; it becomes the same subscriber change a partner's request
makes — the same rules, limits, events and billing (`provision_for` / `update_for`) — acted by `CUSTOMER_ADMIN`
(the admin's email as `sub`). While the mode is on, the customer's admins cannot make these changes: a report of
one is refused with SETTING_NOT_AVAILABLE and nothing is written.

There is no API for this: the simulated engine's side (the demo, the tests) calls it, as a Webex integration would.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from domain.model.audit import Actor, ActorKind, acting
from domain.model.entities import Customer, OrgKind, Partner, SubPartnerState, Subscriber
from domain.model.errors import DomainError, ErrorCode
from domain.rules.attach import customer_admin_problems
from domain.rules.subscribers import NewSubscriber, SubscriberUpdate, needs_locations
from domain.services.subscribers import provision_for, update_for
from domain.store.repositories import Repositories

__all__ = ["customer_admin_actor", "customer_admin_adds_subscriber", "customer_admin_changes_package"]


def customer_admin_actor(admin_email: str) -> Actor:
    """R-AUD-1 / R-RBP-2: a customer's own admin, known by email; it belongs to no partner org."""
    return Actor(ActorKind.CUSTOMER_ADMIN, sub=admin_email.strip().lower(), org_id=None)


async def _admins_customer(repos: Repositories, customer_id: str, admin_email: str) -> tuple[Customer, Partner]:
    """The customer whose admin acts, and the org owning it (whose rules apply, R-ORG-5 included)."""
    doc = await repos.customers.find_doc(customer_id)
    if doc is None:
        raise DomainError.single(ErrorCode.NOT_FOUND, "no customer has this id", "customerId")
    customer = Customer.from_doc(doc)
    customer_admin_problems(customer, admin_email).raise_if_any()
    owner = await repos.partners.get(customer.owner_org_id)
    if owner is None:
        raise DomainError.single(ErrorCode.NOT_FOUND, "no customer has this id", "customerId")
    if owner.kind is OrgKind.SUB_PARTNER and owner.provisioning_state is SubPartnerState.SUSPENDED:
        raise DomainError.single(ErrorCode.SUB_PARTNER_SUSPENDED, "the customer's sub-partner is suspended: its "
                                 "subscribers may only be deleted")
    return customer, owner


async def customer_admin_adds_subscriber(repos: Repositories, customer_id: str, admin_email: str,
                                         data: NewSubscriber) -> Subscriber:
    """R-RBP-2: the customer's admin added a Wholesale user in Webex; provisioned as the partner's request would be
    (R-SUB, R-PKG-6 limits, R-ATT-3 org users), its events acted by CUSTOMER_ADMIN."""
    customer, owner = await _admins_customer(repos, customer_id, admin_email)
    with acting(customer_admin_actor(admin_email)):
        return await provision_for(repos, owner, replace(data, customer_id=customer.id))


async def customer_admin_changes_package(repos: Repositories, subscriber_id: str, admin_email: str, package: str,
                                         add_ons: Sequence[str] | None = None) -> Subscriber:
    """R-RBP-2: the customer's admin changed a user's package (and, given, its add-ons: the full list) in Webex; its
    number and extension stay, and its location while the package has calling. The same update as the partner's,
    acted by CUSTOMER_ADMIN."""
    doc = await repos.subscribers.find_doc(subscriber_id)
    if doc is None:
        raise DomainError.single(ErrorCode.NOT_FOUND, "no subscriber has this id", "id")
    current = Subscriber.from_doc(doc)
    _, owner = await _admins_customer(repos, current.customer_id, admin_email)
    update = SubscriberUpdate(package=package, primary_phone_number=current.primary_phone_number,
                              extension=current.extension,
                              location_id=current.location_id if needs_locations(package) else None,
                              add_ons=tuple(add_ons) if add_ons is not None else None)
    with acting(customer_admin_actor(admin_email)):
        return await update_for(repos, owner, current.id, update)
