"""Who a provisioning write is done for (R-ORG-4), and whether that org may do it (R-ORG-5)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from domain.model.entities import OrgKind, Partner, SubPartnerState
from domain.model.errors import DomainError, ErrorCode, FieldError, Forbidden
from domain.model.principal import Scope
from domain.rules.organisations import route_problem
from domain.rules.tenancy import Caller
from domain.rules.validation import Problems
from domain.store.repositories import Repositories

ON_BEHALF = "onBehalfOfSubPartnerOrgId"


async def acting_owner(
    repos: Repositories, caller: Caller, on_behalf_of: str | None, scope: Scope, *, allow_suspended: bool = False,
    full_admin: bool = False,
) -> Partner:
    """The org that will own the result: the caller's own, or one of its sub-partners (R-ORG-4).

    Acting for a sub-partner needs full_admin; naming anything but one's own sub-partner is refused
    the same way whether or not the org exists (R-ORG-6). A suspended sub-partner may only delete
    (R-ORG-5: deletions pass `allow_suspended`), whether it acts itself or its parent acts for it.
    `full_admin` asks for that role even when acting for oneself.
    """
    if caller.org is None or (full_admin and not caller.principal.is_full_admin):
        raise Forbidden("this operation needs the full_admin role of a partner or sub-partner")
    if not caller.principal.can(scope):
        raise Forbidden(f"this needs the {scope.value} scope")
    owner = caller.org
    if on_behalf_of is not None and on_behalf_of != caller.org.id:
        if not caller.principal.is_full_admin:
            raise Forbidden("acting for a sub-partner needs the full_admin role")
        target = await repos.partners.get(on_behalf_of)
        if target is None or not caller.owns_sub_partner(target):
            raise DomainError.single(ErrorCode.NOT_A_SUB_PARTNER, "this org is not one of your sub-partners",
                                     ON_BEHALF)
        owner = target
    if (mismatch := route_problem(owner, scope)) is not None:  # R-TRI-1
        raise DomainError.single(ErrorCode.ROUTE_TO_MARKET_MISMATCH, mismatch)
    if (not allow_suspended and owner.kind is OrgKind.SUB_PARTNER
            and owner.provisioning_state is SubPartnerState.SUSPENDED):
        path = (ON_BEHALF,) if owner.id != caller.org.id else ()
        raise DomainError.single(ErrorCode.SUB_PARTNER_SUSPENDED,
                                 "the sub-partner is suspended: it may only delete customers and subscribers", *path)
    return owner


async def precheck(repos: Repositories, caller: Caller, on_behalf_of: str | None, scope: Scope,
                   problems_for: Callable[[Partner], Awaitable[Problems]]) -> list[FieldError]:
    """Every problem a provisioning request would be refused with, at once and without writing (R-PRE): those of
    who it is done for first (a refusal there is the whole answer), then `problems_for` that owner."""
    try:
        owner = await acting_owner(repos, caller, on_behalf_of, scope)
    except DomainError as e:
        return list(e.errors)
    return (await problems_for(owner)).items
