"""Actors as events record them and as viewers see them (R-AUD-1, R-ORG-6 amended), and UPDATE field changes."""

from __future__ import annotations

from datetime import UTC, datetime

from domain.model.audit import (
    GATEWAY,
    Actor,
    ActorKind,
    FieldChange,
    acting,
    current_actor,
    field_changes,
    presented,
    stamped,
    system_actor,
    user_actor,
)
from domain.model.changes import Change, EntityType

PARENT_USER = user_actor("ann@parent", "org_parent", ["full_admin"], "req-1")
SUB_USER = user_actor("bob@sub", "org_sub", ["provisioning_admin", "full_admin"])
STAFF = user_actor("ops@operator", None, ["compliance_reviewer"], "req-2")


def test_r_aud_1_a_user_actor_keeps_sub_org_sorted_roles_and_request() -> None:
    assert SUB_USER.roles == ("full_admin", "provisioning_admin")
    assert Actor.from_doc(PARENT_USER.to_doc()) == PARENT_USER


def test_r_aud_1_acting_for_another_org_is_recorded_as_on_behalf_of_it() -> None:
    assert stamped(PARENT_USER, "org_sub").on_behalf_of == "org_sub"
    assert stamped(PARENT_USER, "org_parent") == PARENT_USER
    assert stamped(system_actor("rpl_review_timeout"), "org_sub") == system_actor("rpl_review_timeout")
    assert stamped(STAFF, "org_sub") == STAFF  # the operator's staff act for no org


def test_r_aud_1_a_sub_partner_sees_its_parent_as_parent_partner_without_ids() -> None:
    on_behalf = stamped(PARENT_USER, "org_sub")
    assert presented(on_behalf, "org_sub", viewer_is_sub_partner=True) == Actor(ActorKind.PARENT_PARTNER)
    assert presented(on_behalf, "org_parent", viewer_is_sub_partner=False) == on_behalf
    assert presented(SUB_USER, "org_sub", viewer_is_sub_partner=True) == SUB_USER
    assert presented(SUB_USER, "org_parent", viewer_is_sub_partner=False) == SUB_USER  # a parent sees its subs


def test_r_aud_1_platform_staff_show_by_role_only_and_timers_as_themselves() -> None:
    assert presented(STAFF, "org_parent", viewer_is_sub_partner=False) == Actor(
        ActorKind.PLATFORM, roles=("compliance_reviewer",))
    assert presented(STAFF, None, viewer_is_sub_partner=False) == STAFF
    timer = system_actor("rpl_review_timeout")
    assert presented(timer, "org_sub", viewer_is_sub_partner=True) == timer


def test_r_aud_1_events_take_the_ambient_actor_unless_given_one() -> None:
    change = Change(EntityType.CUSTOMER, "cus_1", "org_sub", "org_parent", None, "provisioning", 1)
    assert current_actor() == GATEWAY
    with acting(PARENT_USER):
        doc = change.to_doc(1, datetime(2026, 12, 7, tzinfo=UTC), None)
    assert doc["actor"]["sub"] == "ann@parent" and doc["actor"]["onBehalfOf"] == "org_sub"
    assert doc["action"] == "STATUS_CHANGE" and "changes" not in doc
    assert current_actor() == GATEWAY


def test_r_aud_1_update_changes_list_only_what_differs_json_encoded() -> None:
    before = {"name": "Acme", "address": {"city": "Rome"}, "limit": None}
    after = {"name": "Acme", "address": {"city": "Milan"}, "limit": 5}
    changes = field_changes(before, after)
    assert changes == [FieldChange("address", {"city": "Rome"}, {"city": "Milan"}), FieldChange("limit", None, 5)]
    assert [c.to_doc() for c in changes] == [
        {"field": "address", "from": '{"city": "Rome"}', "to": '{"city": "Milan"}'},
        {"field": "limit", "from": None, "to": "5"}]
    assert field_changes(before, after, ["name"]) == []
