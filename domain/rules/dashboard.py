"""Dashboard counts (DOMAIN.md §17, R-DASH-1): what a status dashboard shows first, as pure rules.

- What each field of `DashboardCounts` needs (`Part` → `Tally`), and the read scope each tally needs: every part
  needs the `_read` scope of each kind of entity it counts, the scope its list needs (customers: customers_read;
  subscribers and workspaces: subscribers_read, as `subscribers` and `Customer.workspaces` do). `retrying` counts
  all three kinds, so it needs both.
- Whose entities are counted (`dashboard_owner`): exactly the orgs the customer list reads (R-ORG-3), decided
  without loading the org a `subPartnerOrgId` names, so that the counts cost one database round trip.
- Shaping what the database returned into counts with every enum value present, zeros included (`shape`).

`retrying` (decision, R-DASH-2 terms): an entity (customer, subscriber or workspace) with a job of its own that has
failed at least once and is scheduled to run again: the job is `ready` (waiting for its `runAt`), has `attempts`
≥ 1 and keeps the failure as `lastError`. Its `backgroundWork` then shows `attempts` ≥ 1, a `lastError` and a
`nextAttemptAt`. Not retrying: a job under way (`running`), one parked until its customer settles, one rescheduled
only because it waits for something (no error), timers that are no work on the entity (the compliance deadline).
An entity with several such jobs counts once.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import Enum, auto
from typing import Any

from domain.model.principal import Scope
from domain.model.status import CustomerStatus, SubscriberStatus, WorkspaceStatus
from domain.rules.catalogue import CATALOGUE
from domain.rules.tenancy import OWNER, ROOT, Caller, _require_sub_partner_view


class Tally(Enum):
    """One count the database computes (a `$facet` of the one aggregation); the value names it there."""

    CUSTOMER_STATUS = "customerStatus"
    CUSTOMER_PACKAGE = "customerPackage"
    SUBSCRIBER_STATUS = "subscriberStatus"
    SUBSCRIBER_PACKAGE = "subscriberPackage"
    WORKSPACE_STATUS = "workspaceStatus"
    RETRYING = "retrying"


class Part(Enum):
    """A field of `DashboardCounts`, by its name in snake case, upper-cased."""

    CUSTOMERS = auto()
    CUSTOMERS_BY_STATUS = auto()
    CUSTOMERS_BY_PACKAGE = auto()
    SUBSCRIBERS = auto()
    SUBSCRIBERS_BY_STATUS = auto()
    SUBSCRIBERS_BY_PACKAGE = auto()
    WORKSPACES_BY_STATUS = auto()
    RETRYING = auto()

    @property
    def tally(self) -> Tally:
        return PART_TALLY[self]

    @classmethod
    def of_field(cls, graphql_name: str) -> Part | None:
        """The part a selected field of `DashboardCounts` names (`customersByStatus`); None for `__typename`."""
        snake = "".join(f"_{c}" if c.isupper() else c for c in graphql_name).upper()
        return cls.__members__.get(snake)


# What each field is made from: a total is the sum over the statuses.
PART_TALLY: Mapping[Part, Tally] = {
    Part.CUSTOMERS: Tally.CUSTOMER_STATUS, Part.CUSTOMERS_BY_STATUS: Tally.CUSTOMER_STATUS,
    Part.CUSTOMERS_BY_PACKAGE: Tally.CUSTOMER_PACKAGE,
    Part.SUBSCRIBERS: Tally.SUBSCRIBER_STATUS, Part.SUBSCRIBERS_BY_STATUS: Tally.SUBSCRIBER_STATUS,
    Part.SUBSCRIBERS_BY_PACKAGE: Tally.SUBSCRIBER_PACKAGE,
    Part.WORKSPACES_BY_STATUS: Tally.WORKSPACE_STATUS, Part.RETRYING: Tally.RETRYING,
}

# The read scopes a tally needs: those of the lists that show the entities it counts.
TALLY_SCOPES: Mapping[Tally, frozenset[Scope]] = {
    Tally.CUSTOMER_STATUS: frozenset({Scope.CUSTOMERS_READ}),
    Tally.CUSTOMER_PACKAGE: frozenset({Scope.CUSTOMERS_READ}),
    Tally.SUBSCRIBER_STATUS: frozenset({Scope.SUBSCRIBERS_READ}),
    Tally.SUBSCRIBER_PACKAGE: frozenset({Scope.SUBSCRIBERS_READ}),
    Tally.WORKSPACE_STATUS: frozenset({Scope.SUBSCRIBERS_READ}),
    Tally.RETRYING: frozenset({Scope.CUSTOMERS_READ, Scope.SUBSCRIBERS_READ}),
}


def tallies(parts: Iterable[Part]) -> frozenset[Tally]:
    return frozenset(part.tally for part in parts)


def missing_scope(caller: Caller, wanted: Iterable[Tally]) -> Scope | None:
    """The first read scope (in the order of `Scope`) the wanted tallies need and the caller lacks, if any."""
    needed = {scope for tally in wanted for scope in TALLY_SCOPES[tally]}
    return next((scope for scope in Scope if scope in needed and not caller.principal.can(scope)), None)


def dashboard_owner(caller: Caller, sub_partner_org_id: str | None, include_sub_partners: bool
                    ) -> dict[str, Any] | None:
    """The owner part of the counts' Mongo filter: the same orgs as `tenancy.list_scope` gives the lists (R-ORG-3);
    None when that is nothing. Raises Forbidden where the lists do (a parent naming sub-partners without full_admin).

    A named org is not loaded: its entities carry both their owner and their top-level partner, so "owned by the
    named org, under the caller" is one filter, and it matches nothing when the org is not the caller's own
    sub-partner (or does not exist), the empty answer the lists give (R-ORG-6).
    """
    if caller.org is None:
        return None
    own = caller.org.id
    if sub_partner_org_id is not None:
        if sub_partner_org_id == own:
            return {OWNER: own}
        if not caller.is_parent_partner:
            return None
        _require_sub_partner_view(caller)
        return {OWNER: sub_partner_org_id, ROOT: own}
    if include_sub_partners and caller.is_parent_partner:
        _require_sub_partner_view(caller)
        return {ROOT: own}
    return {OWNER: own}


@dataclass(frozen=True)
class Counts:
    """Every count of a dashboard; the per-value lists hold every enum value in the enum's order, zeros included."""

    customers: int
    customers_by_status: Sequence[tuple[CustomerStatus, int]]
    customers_by_package: Sequence[tuple[str, int]]
    subscribers: int
    subscribers_by_status: Sequence[tuple[SubscriberStatus, int]]
    subscribers_by_package: Sequence[tuple[str, int]]
    workspaces_by_status: Sequence[tuple[WorkspaceStatus, int]]
    retrying: int


def shape(raw: Mapping[str, Mapping[Any, int]]) -> Counts:
    """Counts from the tallies the database returned (`{tally value: {key: count}}`, the key a status or a package
    name); a tally that was not computed, or a value nobody has, counts zero. A total counts every entity, whatever
    its status."""
    def rows(tally: Tally) -> Mapping[Any, int]:
        return raw.get(tally.value) or {}

    customer_status, subscriber_status = rows(Tally.CUSTOMER_STATUS), rows(Tally.SUBSCRIBER_STATUS)
    customer_package, subscriber_package = rows(Tally.CUSTOMER_PACKAGE), rows(Tally.SUBSCRIBER_PACKAGE)
    workspace_status = rows(Tally.WORKSPACE_STATUS)
    return Counts(
        customers=sum(customer_status.values()),
        customers_by_status=[(s, customer_status.get(s.value, 0)) for s in CustomerStatus],
        customers_by_package=[(p, customer_package.get(p, 0)) for p in CATALOGUE],
        subscribers=sum(subscriber_status.values()),
        subscribers_by_status=[(s, subscriber_status.get(s.value, 0)) for s in SubscriberStatus],
        subscribers_by_package=[(p, subscriber_package.get(p, 0)) for p in CATALOGUE],
        workspaces_by_status=[(s, workspace_status.get(s.value, 0)) for s in WorkspaceStatus],
        retrying=sum(rows(Tally.RETRYING).values()),
    )
