"""The operator's onboarding of partners and sub-partners (platform_admin only)."""

from __future__ import annotations

from domain.model.changes import Change, EntityType
from domain.model.entities import OrgKind, Partner, SubPartnerState
from domain.model.errors import DomainError, ErrorCode, Forbidden
from domain.model.ids import Kind, new_id
from domain.model.principal import Role
from domain.rules.organisations import NewPartner as NewPartner
from domain.rules.organisations import NewSubPartner as NewSubPartner
from domain.rules.organisations import normalised_emails, partner_problems, sub_partner_problems
from domain.rules.tenancy import Caller
from domain.store.repositories import Repositories, Tx


def _require_platform_admin(caller: Caller) -> None:
    if not caller.principal.has(Role.PLATFORM_ADMIN):
        raise Forbidden("only a platform_admin may manage partners")


async def create_partner(repos: Repositories, caller: Caller, data: NewPartner) -> Partner:
    _require_platform_admin(caller)
    partner_problems(data).raise_if_any()
    partner = Partner(
        id=new_id(Kind.PARTNER),
        kind=OrgKind.PARTNER,
        name=data.name.strip(),
        subscription_id=data.subscription_id.strip(),
        delayed_billing_enabled=data.delayed_billing_enabled,
        route_to_market=data.route_to_market,
        notification_emails=normalised_emails(data.notification_emails),
        created_at=repos.clock.now(),
    )
    await repos.partners.insert(partner.to_doc())
    return partner


async def create_sub_partner(repos: Repositories, caller: Caller, parent_id: str, data: NewSubPartner) -> Partner:
    _require_platform_admin(caller)
    parent = await repos.partners.get(parent_id)
    sub_partner_problems(parent, data).raise_if_any()
    assert parent is not None
    now = repos.clock.now()
    sub_partner = Partner(
        id=new_id(Kind.PARTNER),
        kind=OrgKind.SUB_PARTNER,
        name=data.name.strip(),
        subscription_id=parent.subscription_id,
        parent_id=parent.id,
        provisioning_state=SubPartnerState.ACTIVE,
        billing_start_date=data.billing_start_date or now.date(),
        delayed_billing_enabled=parent.delayed_billing_enabled,
        admin_email=data.admin_email.strip().lower(),
        route_to_market=parent.route_to_market,  # R-TRI-1: inherited
        notification_emails=(data.admin_email.strip().lower(),),  # R-NOT-3: starts with its admin
        created_at=now,
    )
    await repos.partners.insert(sub_partner.to_doc())
    return sub_partner


async def set_sub_partner_state(
    repos: Repositories, caller: Caller, partner_id: str, state: SubPartnerState
) -> Partner:
    _require_platform_admin(caller)
    org = await repos.partners.get(partner_id)
    if org is None:
        raise DomainError.single(ErrorCode.NOT_FOUND, "no partner has this id", "id")
    if org.kind is not OrgKind.SUB_PARTNER:
        raise DomainError.single(ErrorCode.NOT_A_SUB_PARTNER, "only a sub-partner has a provisioning state", "id")
    if org.provisioning_state is state:
        return org

    async def write(tx: Tx) -> None:
        # R-EVT-1: the state change and its event commit together.
        version = await repos.partners.set_state(partner_id, state, session=tx.session)
        tx.record(Change(EntityType.SUB_PARTNER, org.id, org.id, org.root_id,
                         org.provisioning_state.value if org.provisioning_state else None, state.value, version))

    await repos.atomic(write)
    updated = await repos.partners.get(partner_id)
    assert updated is not None
    return updated
