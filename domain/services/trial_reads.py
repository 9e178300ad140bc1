"""Reading trials (DOMAIN.md §10): `trial(id)` and `trials(...)`, narrowed to what the caller may see (R-TRI-2):
a partner's own (a parent's full_admin also its sub-partners', asked for explicitly, R-ORG-3), a sales_admin only
those it created, platform_admin all, a consent link holder only its trial; anything else reads as missing."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from domain.model.errors import Forbidden, InvalidArgument
from domain.model.principal import Role, Scope
from domain.model.trials import NON_TERMINAL, ApprovalState, Trial, TrialStatus
from domain.rules.filters import all_of
from domain.rules.pagination import PageRequest
from domain.rules.resale import COMPANY_NAME_MAX_LENGTH
from domain.rules.tenancy import Caller, direct_scope, list_scope
from domain.services.reads import Listing, Ownership, empty
from domain.services.trials import sales_limit
from domain.store.driver import Document
from domain.store.repositories import Repositories
from domain.store.repositories.trials import TRIAL_ORDERS

MAX_EXPIRING_WITHIN_DAYS = 3650


@dataclass(frozen=True)
class TrialCriteria:
    statuses: Sequence[TrialStatus] | None = None  # None: the non-terminal ones
    expiring_within_days: int | None = None
    extension_pending: bool | None = None
    company_name_contains: str | None = None


def _criteria_filter(criteria: TrialCriteria, repos: Repositories) -> dict[str, Any]:
    statuses = criteria.statuses if criteria.statuses is not None else sorted(NON_TERMINAL)
    filter: dict[str, Any] = {"status": {"$in": [s.value for s in statuses]}}
    if criteria.expiring_within_days is not None:
        days = criteria.expiring_within_days
        if not 0 <= days <= MAX_EXPIRING_WITHIN_DAYS:
            raise InvalidArgument(f"`expiringWithinDays` must be between 0 and {MAX_EXPIRING_WITHIN_DAYS}",
                                  "expiringWithinDays")
        filter = {"$and": [filter, {"status": TrialStatus.ACTIVE.value,
                                    "endsAt": {"$lte": repos.clock.now() + timedelta(days=days)}}]}
    if criteria.extension_pending is not None:
        pending = ApprovalState.PENDING.value
        filter["extensionRequest"] = pending if criteria.extension_pending else {"$ne": pending}
    if criteria.company_name_contains:
        filter["companyName"] = {"$regex": re.escape(criteria.company_name_contains), "$options": "i"}
    return filter


async def _reach(repos: Repositories, caller: Caller, ownership: Ownership) -> dict[str, Any]:
    principal = caller.principal
    if principal.has(Role.PLATFORM_ADMIN):  # Cisco's trial team reads every trial (R-TRI-2)
        return {"ownerOrgId": ownership.sub_partner_org_id} if ownership.sub_partner_org_id else {}
    if caller.org is None or not principal.can(Scope.TRIALS_READ):
        raise Forbidden("reading trials needs the trials_read scope of a partner")
    if (limit := sales_limit(caller)) is not None:
        if ownership.sub_partner_org_id not in (None, caller.org.id):
            return {"_id": {"$in": []}}
        return {"ownerOrgId": caller.org.id, "createdBy": limit}
    named = ownership.sub_partner_org_id
    sub_partner = await repos.partners.get(named) if named is not None else None
    return list_scope(caller, sub_partner, named is not None, ownership.include_sub_partners).filter()


async def trials(repos: Repositories, caller: Caller, criteria: TrialCriteria, ownership: Ownership, order: str,
                 request: PageRequest) -> Listing:
    reach = await _reach(repos, caller, ownership)
    if len(criteria.company_name_contains or "") > COMPANY_NAME_MAX_LENGTH:
        return empty(request)
    base = all_of(reach, _criteria_filter(criteria, repos))
    page = await repos.trials.page(base, TRIAL_ORDERS[order], request)
    return Listing(page, lambda: repos.trials.count(base))


def _admits(caller: Caller, doc: Document) -> bool:
    """Whether the caller sees this trial (the one rule of `trial(id)`, node, events and loaders)."""
    principal = caller.principal
    if principal.link is not None:  # a consent link opens its own trial only
        return bool(principal.link.entity_id == doc["_id"])
    if principal.has(Role.PLATFORM_ADMIN):
        return True
    limit = sales_limit(caller)
    return direct_scope(caller).admits(doc) and (limit is None or doc.get("createdBy") == limit)


def _require_reader(caller: Caller) -> None:
    principal = caller.principal
    if principal.link is None and not principal.has(Role.PLATFORM_ADMIN) and (
            caller.org is None or not principal.can(Scope.TRIALS_READ)):
        raise Forbidden("reading trials needs the trials_read scope of a partner")


async def trial(repos: Repositories, caller: Caller, trial_id: str) -> Trial | None:
    _require_reader(caller)
    doc = await repos.trials.find_doc(trial_id)
    return Trial.from_doc(doc) if doc is not None and _admits(caller, doc) else None


async def visible_trials(repos: Repositories, caller: Caller, ids: Sequence[str]) -> list[Trial | None]:
    """A batch of trials as the caller sees them, in one query (None: missing, or not the caller's to see)."""
    principal = caller.principal
    if principal.link is None and not principal.has(Role.PLATFORM_ADMIN) and (
            caller.org is None or not principal.can(Scope.TRIALS_READ)):
        return [None] * len(ids)
    found = await repos.trials.by_ids(ids)
    return [Trial.from_doc(found[i]) if i in found and _admits(caller, found[i]) else None for i in ids]
