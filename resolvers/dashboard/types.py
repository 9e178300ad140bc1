"""`DashboardCounts` and its filter (DOMAIN.md §17, R-DASH-1), as the API shows them."""

from __future__ import annotations

import strawberry

from domain.rules.dashboard import Counts
from resolvers.enums import CustomerStatus, PackageName, SubscriberStatus, WorkspaceStatus


@strawberry.input(description="Which entities a dashboard counts: scoped as the lists are (R-ORG-3).")
class DashboardFilter:
    customer_id: strawberry.ID | None = strawberry.field(
        default=None, description="Only this customer's (one the caller cannot see counts as none: zeros).")
    sub_partner_org_id: strawberry.ID | None = strawberry.field(
        default=None, description="A parent naming one of its sub-partners (R-ORG-3).")
    include_sub_partners: bool | None = strawberry.field(
        default=False, description="A parent's own entities and all its sub-partners' (R-ORG-3).")


@strawberry.type
class CustomerStatusCount:
    status: CustomerStatus
    count: int


@strawberry.type
class SubscriberStatusCount:
    status: SubscriberStatus
    count: int


@strawberry.type
class WorkspaceStatusCount:
    status: WorkspaceStatus
    count: int


@strawberry.type
class PackageCount:
    package: PackageName
    count: int


@strawberry.type(description="What a status dashboard shows first (R-DASH-1): every count equals the `totalCount` "
                             "of the matching list; every enum value is present, zeros included.")
class DashboardCounts:
    customers: int = strawberry.field(description="Customers (every status).")
    customers_by_status: list[CustomerStatusCount]
    customers_by_package: list[PackageCount] = strawberry.field(
        description="Customers holding each package (listed in their `packages`, whatever its status).")
    subscribers: int = strawberry.field(description="Subscribers (every status).")
    subscribers_by_status: list[SubscriberStatusCount]
    subscribers_by_package: list[PackageCount] = strawberry.field(
        description="Subscribers holding each package: as their base package, or as an add-on (R-ADD-1).")
    workspaces_by_status: list[WorkspaceStatusCount]
    retrying: int = strawberry.field(
        description="Customers, subscribers and workspaces whose background work failed and waits to be tried "
                    "again: `backgroundWork` shows attempts ≥ 1, a `lastError` and a `nextAttemptAt` (R-DASH-2).")

    @classmethod
    def of(cls, counts: Counts) -> DashboardCounts:
        return cls(
            customers=counts.customers,
            customers_by_status=[CustomerStatusCount(status=s, count=n) for s, n in counts.customers_by_status],
            customers_by_package=[PackageCount(package=PackageName[p], count=n)
                                  for p, n in counts.customers_by_package],
            subscribers=counts.subscribers,
            subscribers_by_status=[SubscriberStatusCount(status=s, count=n) for s, n in counts.subscribers_by_status],
            subscribers_by_package=[PackageCount(package=PackageName[p], count=n)
                                    for p, n in counts.subscribers_by_package],
            workspaces_by_status=[WorkspaceStatusCount(status=s, count=n) for s, n in counts.workspaces_by_status],
            retrying=counts.retrying,
        )
