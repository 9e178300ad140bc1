"""Who sees what (R-ORG-2, R-ORG-3, R-ORG-6) as one `Reach` value: the decision, and its two renderings agreeing.

The Mongo rendering (`Reach.filter`) is what repositories put into queries; the predicate (`Reach.admits`) is what
the live event feed applies to each event. tests/integration/test_reach_renderings.py checks on a real database
that both select the same documents; here the decision itself is checked, without one.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from domain.model.entities import OrgKind, Partner, SubPartnerState
from domain.model.errors import Forbidden
from domain.model.principal import Principal, Role
from domain.rules.tenancy import NOTHING, Caller, Reach, can_see_partner, direct_scope, list_scope
from domain.services.reads import EventCriteria

T0 = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)


def _org(org_id: str, parent: str | None = None) -> Partner:
    return Partner(id=org_id, kind=OrgKind.SUB_PARTNER if parent else OrgKind.PARTNER, name=org_id,
                   subscription_id="sub-1", parent_id=parent, created_at=T0,
                   provisioning_state=SubPartnerState.ACTIVE if parent else None)


PARENT, SUB_A, SUB_B, OTHER_SUB = _org("p1"), _org("s1", "p1"), _org("s2", "p1"), _org("s9", "p9")


def _caller(org: Partner | None, *roles: Role) -> Caller:
    principal = Principal.from_claims("admin@example.com", org.id if org else None,
                                      [r.value for r in roles or (Role.FULL_ADMIN,)], None)
    return Caller(principal, org)


DOCS = [{"_id": "a", "ownerOrgId": "p1", "rootOrgId": "p1"}, {"_id": "b", "ownerOrgId": "s1", "rootOrgId": "p1"},
        {"_id": "c", "ownerOrgId": "s2", "rootOrgId": "p1"}, {"_id": "d", "ownerOrgId": "s9", "rootOrgId": "p9"}]


def _seen(reach: Reach) -> list[str]:
    return [d["_id"] for d in DOCS if reach.admits(d)]


def test_r_org_3_a_parent_sees_its_own_customers_by_default() -> None:
    reach = list_scope(_caller(PARENT), None, False, False)
    assert reach == Reach.owner("p1") and reach.filter() == {"ownerOrgId": "p1"} and _seen(reach) == ["a"]


def test_r_org_3_a_full_admin_parent_with_sub_partners_sees_the_whole_family() -> None:
    reach = list_scope(_caller(PARENT), None, False, True)
    assert reach.filter() == {"rootOrgId": "p1"} and _seen(reach) == ["a", "b", "c"]


def test_r_org_3_a_read_only_parent_may_not_include_its_sub_partners() -> None:
    with pytest.raises(Forbidden):
        list_scope(_caller(PARENT, Role.READ_ONLY_ADMIN), None, False, True)


def test_r_org_3_a_parent_naming_one_sub_partner_sees_only_that_one() -> None:
    reach = list_scope(_caller(PARENT), SUB_A, True, False)
    assert reach.filter() == {"ownerOrgId": "s1"} and _seen(reach) == ["b"]


def test_r_org_2_a_sub_partner_sees_only_its_own_even_when_it_asks_for_more() -> None:
    assert _seen(list_scope(_caller(SUB_A), None, False, True)) == ["b"]
    assert _seen(list_scope(_caller(SUB_A), SUB_A, True, False)) == ["b"]


@pytest.mark.parametrize(("caller", "named"), [(_caller(SUB_A), SUB_B), (_caller(PARENT), OTHER_SUB),
                                                (_caller(PARENT), None), (_caller(SUB_A), PARENT)])
def test_r_org_6_naming_an_org_out_of_reach_is_answered_like_naming_none(caller: Caller, named: Partner | None
                                                                         ) -> None:
    reach = list_scope(caller, named, True, False)
    assert reach is NOTHING and reach.is_nothing and _seen(reach) == []
    assert reach.filter() == {"_id": {"$in": []}}  # a query that matches nothing, not a missing filter


def test_r_org_6_platform_roles_and_callers_without_an_org_reach_nothing() -> None:
    assert list_scope(_caller(None, Role.PLATFORM_ADMIN), None, False, True) is NOTHING
    assert direct_scope(_caller(None, Role.COMPLIANCE_REVIEWER)) is NOTHING


def test_r_org_3_by_id_a_full_admin_parent_reaches_its_sub_partners_a_read_only_one_does_not() -> None:
    assert _seen(direct_scope(_caller(PARENT))) == ["a", "b", "c"]
    assert _seen(direct_scope(_caller(PARENT, Role.READ_ONLY_ADMIN))) == ["a"]
    assert _seen(direct_scope(_caller(SUB_A))) == ["b"]


def test_partners_are_seen_by_themselves_their_parent_and_the_platform_admin() -> None:
    assert can_see_partner(_caller(PARENT), SUB_A) and can_see_partner(_caller(SUB_A), SUB_A)
    assert not can_see_partner(_caller(SUB_A), SUB_B) and not can_see_partner(_caller(PARENT), OTHER_SUB)
    assert can_see_partner(_caller(None, Role.PLATFORM_ADMIN), OTHER_SUB)


EVENTS: list[dict[str, Any]] = [
    {"entityType": "CUSTOMER", "entityId": "cus_1", "customerId": "cus_1", "toStatus": "provisioned",
     "occurredAt": datetime(2026, 12, 1, 10, tzinfo=UTC)},
    {"entityType": "SUBSCRIBER", "entityId": "sub_1", "customerId": "cus_1", "toStatus": "error",
     "action": "STATUS_CHANGE", "actor": {"kind": "USER", "sub": "ann"}, "occurredAt": datetime(2026, 12, 1, 11)},
    {"entityType": "CUSTOMER", "entityId": "cus_2", "customerId": "cus_2", "toStatus": "error",
     "action": "STATUS_CHANGE", "actor": {"kind": "SYSTEM", "sub": None},
     "occurredAt": datetime(2026, 12, 1, 12, tzinfo=UTC)},
    {"entityType": "CUSTOMER", "entityId": "cus_2", "customerId": "cus_2", "toStatus": "error", "action": "UPDATE",
     "actor": {"kind": "USER", "sub": "bob"}, "occurredAt": datetime(2026, 12, 1, 13, tzinfo=UTC)},
]


def _matches(event: dict[str, Any], filter: dict[str, Any]) -> bool:
    """A small reading of the Mongo operators the criteria use, to hold the predicate against."""
    for path, condition in filter.items():
        value: Any = event
        for part in path.split("."):
            value = value.get(part) if isinstance(value, dict) else None
        if not isinstance(condition, dict):
            ok = value == condition
        elif "$in" in condition:
            ok = value in condition["$in"]
        elif "$nin" in condition:
            ok = value not in condition["$nin"]
        else:
            at = value.replace(tzinfo=UTC) if value.tzinfo is None else value
            ok = all(at > bound if op == "$gt" else at < bound for op, bound in condition.items())
        if not ok:
            return False
    return True


@pytest.mark.parametrize("criteria", [
    EventCriteria(), EventCriteria(entity_types=["CUSTOMER"]), EventCriteria(customer_ids=["cus_1"]),
    EventCriteria(to_statuses=["error"]), EventCriteria(entity_types=["CUSTOMER"], to_statuses=["error"]),
    EventCriteria(customer_ids=[]), EventCriteria(entity_ids=["cus_2"]), EventCriteria(actions=["UPDATE"]),
    EventCriteria(actions=["UPDATE", "STATUS_CHANGE"], entity_ids=["cus_2"]), EventCriteria(actions=[]),
    EventCriteria(actor_sub="ann"), EventCriteria(actions=["UPDATE"], actor_sub="bob"),
    EventCriteria(occurred_after=datetime(2026, 12, 1, 10, tzinfo=UTC)),
    EventCriteria(occurred_before=datetime(2026, 12, 1, 12, tzinfo=UTC), actions=["STATUS_CHANGE", "UPDATE"])])
def test_event_criteria_as_a_predicate_say_what_their_filter_says(criteria: EventCriteria) -> None:
    """R-AUD-2: the live feed's predicate and the history's filter select the same events."""
    expected = [e for e in EVENTS if _matches(e, criteria.to_filter())]
    assert [e for e in EVENTS if criteria.admits(e)] == expected


def test_r_aud_2_without_actions_only_status_changes_as_in_v1() -> None:
    """Events stored before actions were recorded count as status changes; an UPDATE needs asking for."""
    assert [e["entityId"] for e in EVENTS if EventCriteria().admits(e)] == ["cus_1", "sub_1", "cus_2"]
    assert [e["actor"]["sub"] for e in EVENTS if EventCriteria(actions=["UPDATE"]).admits(e)] == ["bob"]
