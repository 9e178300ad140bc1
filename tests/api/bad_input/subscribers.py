"""Bad-input tables of the subscriber mutations (DOMAIN.md §6, §7)."""

from __future__ import annotations

from typing import Any

from tests.api.bad_input.customers import ERRORS, ON_BEHALF
from tests.api.bad_input.hostile import (
    ARABIC_DIGITS,
    CONTROL,
    EMOJI,
    FORGED_PARTNER,
    FULLWIDTH_DIGITS,
    HOMOGLYPH_EMAIL,
    INVISIBLE,
    JUNK_ID,
    LONG,
    NUL,
    OPERATOR,
    RTL_OVERRIDE,
    SCRIPT,
    WHITESPACE,
)
from tests.api.bad_input.matrix import Drop, Group, Ref, bad, case, top

PROVISION = f"""mutation($input: ProvisionSubscriberInput!, $for: ID) {{
  provisionSubscriber(input: $input, onBehalfOfSubPartnerOrgId: $for) {{ subscriber {{ id }} {ERRORS} }} }}"""
PRECHECK = f"""mutation($input: ProvisionSubscriberInput!, $for: ID) {{
  precheckSubscriberProvisioning(input: $input, onBehalfOfSubPartnerOrgId: $for) {{ ok info {{ code }} {ERRORS} }} }}"""
UPDATE = f"""mutation($id: ID!, $input: UpdateSubscriberInput!, $for: ID) {{
  updateSubscriber(id: $id, input: $input, onBehalfOfSubPartnerOrgId: $for) {{ subscriber {{ id }} {ERRORS} }} }}"""
DELETE = f"""mutation($id: ID!, $for: ID) {{
  deleteSubscriber(id: $id, onBehalfOfSubPartnerOrgId: $for) {{ deletedId {ERRORS} }} }}"""


# p.customer holds webex_voice (a calling package) and has one location.
NEW_SUBSCRIBER: dict[str, Any] = {
    "input": {"customerId": Ref("p.customer"), "email": "new.person@springfield.example", "package": "webex_voice",
              "firstName": "Ada", "lastName": "Lovelace", "extension": "4321"},
    "for": None}


# Shared by provisionSubscriber and its precheck (R-PRE).
SUBSCRIBER_INPUT_CASES = (
    bad("input.email", "", "REQUIRED"),
    bad("input.email", WHITESPACE, "REQUIRED"),
    bad("input.email", "no-at-sign", "INVALID_EMAIL"),
    bad("input.email", "ada@@springfield.example", "INVALID_EMAIL"),
    bad("input.email", HOMOGLYPH_EMAIL, "INVALID_EMAIL"),
    bad("input.email", f"{EMOJI}@springfield.example", "INVALID_EMAIL"),
    bad("input.email", "ada\x00@springfield.example", "INVALID_EMAIL"),
    bad("input.email", LONG + "@springfield.example", "INVALID_EMAIL"),
    bad("input.email", OPERATOR, "INVALID_EMAIL"),
    bad("input.email", Ref("p.subscriber.email"), "EMAIL_IN_USE"),
    bad("input.email", Ref("p.subscriber.email.shouted"), "EMAIL_IN_USE", note="upper case, padded"),
    bad("input.email", Ref("a.subscriber.email"), "EMAIL_IN_USE", note="unique across every partner"),
    top("input.email", None),
    top("input.email", ["ada@springfield.example"]),
    bad("input.firstName", "", "REQUIRED"),
    bad("input.firstName", WHITESPACE, "REQUIRED"),
    bad("input.firstName", INVISIBLE, "REQUIRED"),
    bad("input.firstName", LONG, "TOO_LONG"),
    bad("input.firstName", NUL, "VALIDATION_FAILED"),
    bad("input.firstName", CONTROL, "VALIDATION_FAILED"),
    top("input.lastName", Drop.KEY),
    top("input.lastName", None),
    top("input.package", "common_area_calling", note="not a user package"),
    top("input.package", "WEBEX_VOICE"),
    top("input.package", OPERATOR),
    bad("input.package", "webex_suite", "PACKAGE_NOT_ON_CUSTOMER"),
    bad("input.extension", "1", "INVALID_EXTENSION"),
    bad("input.extension", "12345678901", "INVALID_EXTENSION"),
    bad("input.extension", "12a", "INVALID_EXTENSION"),
    bad("input.extension", "-12", "INVALID_EXTENSION"),
    bad("input.extension", FULLWIDTH_DIGITS, "INVALID_EXTENSION"),
    bad("input.extension", ARABIC_DIGITS, "INVALID_EXTENSION"),
    bad("input.extension", EMOJI, "INVALID_EXTENSION"),
    bad("input.extension", "12\x0034", "INVALID_EXTENSION"),
    bad("input.extension", Ref("p.subscriber.extension"), "NUMBER_IN_USE"),
    bad("input.extension", None, "CALLING_NUMBER_REQUIRED", field="input.package"),
    bad("input.extension", WHITESPACE, "CALLING_NUMBER_REQUIRED", field="input.package"),
    top("input.extension", 4321),
    bad("input.primaryPhoneNumber", "555-1234", "INVALID_PHONE_NUMBER"),
    bad("input.primaryPhoneNumber", "+0123456789", "INVALID_PHONE_NUMBER"),
    bad("input.primaryPhoneNumber", "+1" + "5" * 20, "INVALID_PHONE_NUMBER"),
    bad("input.primaryPhoneNumber", "+1" + FULLWIDTH_DIGITS * 3, "INVALID_PHONE_NUMBER"),
    bad("input.primaryPhoneNumber", "+1555\x001234567", "INVALID_PHONE_NUMBER"),
    bad("input.primaryPhoneNumber", OPERATOR, "INVALID_PHONE_NUMBER"),
    bad("input.primaryPhoneNumber", Ref("p.admin.phone"), "NUMBER_IN_USE"),
    bad("input.locationId", Ref("p.location.other"), "NOT_FOUND", note="another customer's location"),
    bad("input.locationId", Ref("a.location"), "NOT_FOUND", note="a sub-partner's location"),
    bad("input.locationId", JUNK_ID, "NOT_FOUND"),
    bad("input.locationId", Ref("p.location"), "LOCATION_NOT_ALLOWED",
        more={"input.customerId": Ref("p.meetings"), "input.package": "webex_meetings", "input.extension": None}),
    bad("input.customerId", Ref("a.customer"), "NOT_FOUND", note="a sub-partner's customer"),
    bad("input.customerId", Ref("p.customer"), "NOT_FOUND", who="sub_a", note="the parent's customer"),
    bad("input.customerId", Ref("p.deleting"), "INVALID_STATE"),
    bad("input.customerId", "", "NOT_FOUND"),
    bad("input.customerId", OPERATOR, "NOT_FOUND"),
    bad("input.customerId", Ref("p.subscriber"), "NOT_FOUND", note="a subscriber's id"),
    bad("input.customerId", Ref("a.customer"), "SUB_PARTNER_SUSPENDED", field=None, who="sub_b"),
    bad("for", Ref("sub_a"), "NOT_FOUND", field="input.customerId", note="the parent's customer, for a sub-partner"),
    bad("for", Ref("sub_b"), "SUB_PARTNER_SUSPENDED", field=ON_BEHALF),
    bad("for", FORGED_PARTNER, "NOT_A_SUB_PARTNER", field=ON_BEHALF),
    top(("input", "email.address"), "x", note="a key with a dot"),
    top("input", {"$where": "1"}),
    top("input.firstName", "Ada", "FORBIDDEN", who="reader"),
)

PRECHECK_ACCEPTS = (
    case("accepted", "input.firstName", "Zoë " + EMOJI),
    case("accepted", "input.lastName", "ليلى", note="right-to-left text"),
    case("accepted", "input.lastName", RTL_OVERRIDE),
    case("accepted", "input.firstName", "\u0410da", note="a Cyrillic A"),
    case("accepted", "input.firstName", OPERATOR),
    case("accepted", "input.lastName", SCRIPT),
    case("accepted", "input.email", "ada+test@springfield.example"),
)

UPDATE_CASES = (
    bad("id", "", "NOT_FOUND"),
    bad("id", Ref("a.subscriber"), "NOT_FOUND", note="a sub-partner's subscriber"),
    bad("id", Ref("p.subscriber"), "NOT_FOUND", who="sub_a", note="the parent's subscriber"),
    bad("id", Ref("b.subscriber"), "NOT_FOUND", who="sub_a", note="a sibling's subscriber"),
    bad("id", JUNK_ID, "NOT_FOUND"),
    bad("id", OPERATOR, "NOT_FOUND"),
    bad("id", Ref("p.customer"), "NOT_FOUND", note="a customer's id"),
    bad("input.package", "webex_suite", "PACKAGE_NOT_ON_CUSTOMER"),
    top("input.package", "cisco_calling_plan"),
    top("input.package", None),
    bad("input.extension", "1", "INVALID_EXTENSION"),
    bad("input.extension", FULLWIDTH_DIGITS, "INVALID_EXTENSION"),
    bad("input.extension", Ref("p.admin.extension"), "NUMBER_IN_USE", note="the admin's extension"),
    bad("input.extension", None, "CALLING_NUMBER_REQUIRED", field="input.package"),
    bad("input.primaryPhoneNumber", "12345", "INVALID_PHONE_NUMBER"),
    bad("input.locationId", Ref("p.location.other"), "NOT_FOUND", note="another customer's location"),
    bad("input.package", "webex_calling_standard", "ADMIN_PACKAGE_DOWNGRADE",
        more={"id": Ref("p.admin"), "input.extension": Ref("p.admin.extension")}),
    bad("for", FORGED_PARTNER, "NOT_A_SUB_PARTNER", field=ON_BEHALF),
    top("input", [{"package": "webex_voice"}]),
)

DELETE_CASES = (
    bad("id", "", "NOT_FOUND"),
    bad("id", Ref("a.subscriber"), "NOT_FOUND", note="a sub-partner's subscriber"),
    bad("id", Ref("p.subscriber"), "NOT_FOUND", who="sub_a", note="the parent's subscriber"),
    bad("id", Ref("a.subscriber"), "NOT_FOUND", who="sub_b", note="a sibling's subscriber"),
    bad("id", Ref("b.subscriber"), "NOT_FOUND", who="sub_a", note="a sibling's subscriber"),
    bad("id", JUNK_ID, "NOT_FOUND"),
    bad("id", OPERATOR, "NOT_FOUND"),
    bad("id", "sub_" + "0" * 24, "NOT_FOUND"),
    bad("id", Ref("p.customer"), "NOT_FOUND", note="a customer's id"),
    bad("id", LONG, "NOT_FOUND"),
    bad("for", Ref("sub_a"), "NOT_FOUND", field="id", note="the parent's subscriber, for a sub-partner"),
    bad("for", JUNK_ID, "NOT_A_SUB_PARTNER", field=ON_BEHALF),
    top("id", None),
    top("id", {"$in": []}),
    top("id", Ref("p.subscriber"), "FORBIDDEN", who="reader"),
)

GROUPS = (
    Group("provisionSubscriber", PROVISION, NEW_SUBSCRIBER, SUBSCRIBER_INPUT_CASES),
    Group("precheckSubscriberProvisioning", PRECHECK, NEW_SUBSCRIBER,
          (*SUBSCRIBER_INPUT_CASES, *PRECHECK_ACCEPTS)),
    Group("updateSubscriber", UPDATE,
          {"id": Ref("p.subscriber"), "input": {"package": "webex_voice", "extension": Ref("p.subscriber.extension")},
           "for": None},
          UPDATE_CASES),
    Group("deleteSubscriber", DELETE, {"id": Ref("p.subscriber"), "for": None}, DELETE_CASES),
)
