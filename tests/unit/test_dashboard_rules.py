"""Dashboard counts as pure rules (DOMAIN.md §17, R-DASH-1): whose entities are counted (the same as the lists,
R-ORG-3), which read scope each part needs, and every enum value in the answer, zeros included."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime
from typing import Any

import pytest

from domain.model.entities import OrgKind, Partner, SubPartnerState
from domain.model.errors import Forbidden
from domain.model.principal import Principal, Role, Scope
from domain.model.status import CustomerStatus, SubscriberStatus, WorkspaceStatus
from domain.rules.catalogue import CATALOGUE
from domain.rules.dashboard import Part, Tally, dashboard_owner, missing_scope, shape, tallies
from domain.rules.tenancy import Caller, list_scope

T0 = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)


def _org(org_id: str, parent: str | None = None) -> Partner:
    return Partner(id=org_id, kind=OrgKind.SUB_PARTNER if parent else OrgKind.PARTNER, name=org_id,
                   subscription_id="sub-1", parent_id=parent, created_at=T0,
                   provisioning_state=SubPartnerState.ACTIVE if parent else None)


ORGS = {o.id: o for o in (_org("p1"), _org("s1", "p1"), _org("s2", "p1"), _org("p9"), _org("s9", "p9"))}
DOCS = [{"ownerOrgId": o.id, "rootOrgId": o.root_id} for o in ORGS.values()]


def _caller(org: Partner | None, role: Role = Role.FULL_ADMIN, scopes: list[str] | None = None) -> Caller:
    return Caller(Principal.from_claims("admin@example.com", org.id if org else None, [role.value], scopes), org)


def _seen(decide: Any) -> list[dict[str, str]] | str:
    """The documents a decision lets through, or FORBIDDEN."""
    try:
        matches = decide()
    except Forbidden:
        return "FORBIDDEN"
    return [d for d in DOCS if matches(d)]


CALLERS = [_caller(ORGS["p1"]), _caller(ORGS["p1"], Role.READ_ONLY_ADMIN), _caller(ORGS["s1"]),
           _caller(ORGS["s1"], Role.READ_ONLY_ADMIN), _caller(None, Role.PLATFORM_ADMIN)]


@pytest.mark.parametrize(("caller", "named", "include"), list(itertools.product(
    CALLERS, [None, "p1", "s1", "s2", "p9", "s9", "nowhere"], [False, True])))
def test_r_dash_1_counts_reach_exactly_the_orgs_the_lists_reach(caller: Caller, named: str | None,
                                                                include: bool) -> None:
    """Without loading the named org, the counts' owner filter selects what `list_scope` (the lists) selects, and
    refuses where it refuses (R-ORG-3, R-ORG-6)."""
    def by_list() -> Any:
        return list_scope(caller, ORGS.get(named) if named else None, named is not None, include).admits

    def by_counts() -> Any:
        owner = dashboard_owner(caller, named, include)
        return lambda doc: owner is not None and all(doc.get(k) == v for k, v in owner.items())

    assert _seen(by_counts) == _seen(by_list)


def test_r_dash_1_each_field_names_its_part_and_needs_the_scope_of_its_list() -> None:
    fields = ["customers", "customersByStatus", "customersByPackage", "subscribers", "subscribersByStatus",
              "subscribersByPackage", "workspacesByStatus", "retrying"]
    parts = [Part.of_field(name) for name in fields]
    assert parts == list(Part) and Part.of_field("__typename") is None
    customers_only = _caller(ORGS["p1"], scopes=[Scope.CUSTOMERS_READ.value])
    allowed = {p for p in Part if missing_scope(customers_only, tallies([p])) is None}
    assert allowed == {Part.CUSTOMERS, Part.CUSTOMERS_BY_STATUS, Part.CUSTOMERS_BY_PACKAGE}
    subscribers_only = _caller(ORGS["p1"], scopes=[Scope.SUBSCRIBERS_READ.value])
    assert missing_scope(subscribers_only, tallies([Part.WORKSPACES_BY_STATUS, Part.SUBSCRIBERS])) is None
    assert missing_scope(subscribers_only, tallies([Part.RETRYING])) is Scope.CUSTOMERS_READ
    assert missing_scope(_caller(None, Role.COMPLIANCE_REVIEWER), tallies([Part.SUBSCRIBERS])) is (
        Scope.SUBSCRIBERS_READ)


def test_r_dash_1_every_enum_value_is_present_zeros_included() -> None:
    counts = shape({Tally.CUSTOMER_STATUS.value: {"provisioned": 3, "error": 1},
                    Tally.SUBSCRIBER_PACKAGE.value: {"attendant_console": 2, "webex_calling": 5},
                    Tally.RETRYING.value: {None: 4}})
    assert counts.customers == 4 and counts.subscribers == 0 and counts.retrying == 4
    assert [s for s, _ in counts.customers_by_status] == list(CustomerStatus)
    assert dict(counts.customers_by_status)[CustomerStatus.PROVISIONED] == 3
    assert dict(counts.customers_by_status)[CustomerStatus.UPDATING] == 0
    assert [p for p, _ in counts.subscribers_by_package] == list(CATALOGUE)
    assert dict(counts.subscribers_by_package) == {p: {"attendant_console": 2, "webex_calling": 5}.get(p, 0)
                                                   for p in CATALOGUE}
    assert [s for s, _ in counts.subscribers_by_status] == list(SubscriberStatus)
    assert counts.workspaces_by_status == [(s, 0) for s in WorkspaceStatus]
    assert counts.customers_by_package == [(p, 0) for p in CATALOGUE]


def test_r_dash_1_a_total_counts_entities_whatever_their_status() -> None:
    """A status the enum does not know (yet) still counts in the total, as the list's `totalCount` does."""
    assert shape({Tally.SUBSCRIBER_STATUS.value: {"provisioned": 2, "some_future_status": 1}}).subscribers == 3
