"""Bad-input tables of the workspace mutations (DOMAIN.md §14, R-WS-1/2; R-ORG-4…6)."""

from __future__ import annotations

from typing import Any

from tests.api.bad_input.customers import ERRORS, ON_BEHALF
from tests.api.bad_input.hostile import (
    ARABIC_DIGITS,
    CONTROL,
    EMOJI,
    FORGED_PARTNER,
    FULLWIDTH_DIGITS,
    INVISIBLE,
    JUNK_ID,
    LONG,
    NUL,
    OPERATOR,
    WHITESPACE,
)
from tests.api.bad_input.matrix import Drop, Group, Ref, bad, top

PROVISION = f"""mutation($input: ProvisionWorkspaceInput!, $for: ID) {{
  provisionWorkspace(input: $input, onBehalfOfSubPartnerOrgId: $for) {{ workspace {{ id }} {ERRORS} }} }}"""
UPDATE = f"""mutation($id: ID!, $input: UpdateWorkspaceInput!, $for: ID) {{
  updateWorkspace(id: $id, input: $input, onBehalfOfSubPartnerOrgId: $for) {{ workspace {{ id }} {ERRORS} }} }}"""
DELETE = f"""mutation($id: ID!, $for: ID) {{
  deleteWorkspace(id: $id, onBehalfOfSubPartnerOrgId: $for) {{ deletedId {ERRORS} }} }}"""

# p.workspace.customer holds common_area_calling and has workspaces (gateway/demo_extras/workspaces.py).
NEW_WORKSPACE: dict[str, Any] = {
    "input": {"customerId": Ref("p.workspace.customer"), "name": "Mail room phone", "extension": "4455"},
    "for": None}

PROVISION_CASES = (
    bad("input.name", "", "REQUIRED"),
    bad("input.name", WHITESPACE, "REQUIRED"),
    bad("input.name", INVISIBLE, "REQUIRED"),
    bad("input.name", "x" * 81, "TOO_LONG"),
    bad("input.name", LONG, "TOO_LONG"),
    bad("input.name", NUL, "VALIDATION_FAILED"),
    bad("input.name", CONTROL, "VALIDATION_FAILED"),
    bad("input.name", Ref("p.workspace.name"), "NAME_IN_USE"),
    top("input.name", None),
    top("input.name", Drop.KEY),
    bad("input.extension", "1", "INVALID_EXTENSION"),
    bad("input.extension", FULLWIDTH_DIGITS, "INVALID_EXTENSION"),
    bad("input.extension", ARABIC_DIGITS, "INVALID_EXTENSION"),
    bad("input.extension", EMOJI, "INVALID_EXTENSION"),
    bad("input.extension", Ref("p.workspace.extension"), "NUMBER_IN_USE"),
    bad("input.extension", None, "CALLING_NUMBER_REQUIRED", field="input.primaryPhoneNumber"),
    bad("input.extension", WHITESPACE, "CALLING_NUMBER_REQUIRED", field="input.primaryPhoneNumber"),
    top("input.extension", 4455),
    bad("input.primaryPhoneNumber", "555-1234", "INVALID_PHONE_NUMBER"),
    bad("input.primaryPhoneNumber", OPERATOR, "INVALID_PHONE_NUMBER"),
    bad("input.primaryPhoneNumber", "+493012345678", "INVALID_PHONE_NUMBER", note="not of the location's country"),
    bad("input.primaryPhoneNumber", Ref("p.workspace.phone"), "NUMBER_IN_USE"),
    bad("input.locationId", JUNK_ID, "NOT_FOUND"),
    bad("input.locationId", Ref("a.location"), "NOT_FOUND", note="a sub-partner's location"),
    bad("input.locationId", Ref("p.location.other"), "NOT_FOUND", note="another customer's location"),
    bad("input.customerId", Ref("p.customer"), "PACKAGE_NOT_ON_CUSTOMER", note="no common_area_calling"),
    bad("input.customerId", Ref("a.workspace.customer"), "NOT_FOUND", note="a sub-partner's customer"),
    bad("input.customerId", Ref("p.workspace.customer"), "NOT_FOUND", who="sub_a", note="the parent's customer"),
    bad("input.customerId", Ref("p.deleting"), "INVALID_STATE"),
    bad("input.customerId", "", "NOT_FOUND"),
    bad("input.customerId", OPERATOR, "NOT_FOUND"),
    bad("input.customerId", Ref("p.workspace"), "NOT_FOUND", note="a workspace's id"),
    bad("input.customerId", Ref("a.customer"), "SUB_PARTNER_SUSPENDED", field=None, who="sub_b"),
    bad("for", Ref("sub_a"), "NOT_FOUND", field="input.customerId", note="the parent's customer, for a sub-partner"),
    bad("for", Ref("sub_b"), "SUB_PARTNER_SUSPENDED", field=ON_BEHALF),
    bad("for", FORGED_PARTNER, "NOT_A_SUB_PARTNER", field=ON_BEHALF),
    top("input", {"$where": "1"}),
    top("input.name", "Mail room", "FORBIDDEN", who="reader"),
)

UPDATE_CASES = (
    bad("id", "", "NOT_FOUND"),
    bad("id", JUNK_ID, "NOT_FOUND"),
    bad("id", OPERATOR, "NOT_FOUND"),
    bad("id", "wsp_" + "0" * 24, "NOT_FOUND"),
    bad("id", Ref("a.workspace"), "NOT_FOUND", note="a sub-partner's workspace"),
    bad("id", Ref("p.workspace"), "NOT_FOUND", who="sub_a", note="the parent's workspace"),
    bad("id", Ref("p.workspace.customer"), "NOT_FOUND", note="a customer's id"),
    bad("input.name", "", "REQUIRED"),
    bad("input.name", LONG, "TOO_LONG"),
    bad("input.name", NUL, "VALIDATION_FAILED"),
    bad("input.name", Ref("p.workspace.other.name"), "NAME_IN_USE"),
    bad("input.extension", "1", "INVALID_EXTENSION"),
    bad("input.extension", Ref("p.workspace.other.extension"), "NUMBER_IN_USE"),
    bad("input.primaryPhoneNumber", "", "CALLING_NUMBER_REQUIRED", more={"input.extension": ""},
        note="nothing left to call"),
    bad("input.primaryPhoneNumber", "12345", "INVALID_PHONE_NUMBER"),
    bad("input.locationId", JUNK_ID, "NOT_FOUND"),
    bad("input.locationId", Ref("p.location.other"), "NOT_FOUND", note="another customer's location"),
    bad("for", FORGED_PARTNER, "NOT_A_SUB_PARTNER", field=ON_BEHALF),
    top("input", [{"name": "Front desk phone"}]),
    top("id", None),
    top("input.name", "Front desk phone", "FORBIDDEN", who="reader"),
)

DELETE_CASES = (
    bad("id", "", "NOT_FOUND"),
    bad("id", JUNK_ID, "NOT_FOUND"),
    bad("id", OPERATOR, "NOT_FOUND"),
    bad("id", LONG, "NOT_FOUND"),
    bad("id", "wsp_" + "0" * 24, "NOT_FOUND"),
    bad("id", Ref("a.workspace"), "NOT_FOUND", note="a sub-partner's workspace"),
    bad("id", Ref("p.workspace"), "NOT_FOUND", who="sub_a", note="the parent's workspace"),
    bad("id", Ref("a.workspace"), "NOT_FOUND", who="sub_b", note="a sibling's workspace"),
    bad("id", Ref("p.customer"), "NOT_FOUND", note="a customer's id"),
    bad("for", Ref("sub_a"), "NOT_FOUND", field="id", note="the parent's workspace, for a sub-partner"),
    bad("for", JUNK_ID, "NOT_A_SUB_PARTNER", field=ON_BEHALF),
    top("id", None),
    top("id", {"$in": []}),
    top("id", Ref("p.workspace"), "FORBIDDEN", who="reader"),
)

GROUPS = (
    Group("provisionWorkspace", PROVISION, NEW_WORKSPACE, PROVISION_CASES),
    Group("updateWorkspace", UPDATE, {"id": Ref("p.workspace"), "input": {"name": "Front desk phone"}, "for": None},
          UPDATE_CASES),
    Group("deleteWorkspace", DELETE, {"id": Ref("p.workspace"), "for": None}, DELETE_CASES),
)
