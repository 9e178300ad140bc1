"""Bad-input tables of the template and customer mutations (DOMAIN.md §4, §5)."""

from __future__ import annotations

from typing import Any

from tests.api.bad_input.hostile import (
    CONTROL,
    EMOJI,
    FORGED_CUSTOMER,
    FORGED_PARTNER,
    HOMOGLYPH_COUNTRY,
    HOMOGLYPH_EMAIL,
    INVISIBLE,
    JUNK_ID,
    LONG,
    NUL,
    OPERATOR,
    SCRIPT,
    WHERE,
    WHITESPACE,
)
from tests.api.bad_input.matrix import Drop, Group, Ref, bad, case, top

ON_BEHALF = "onBehalfOfSubPartnerOrgId"
ERRORS = "errors { code message field }"

TEMPLATE = f"""mutation($input: CreateOnboardingTemplateInput!, $for: ID) {{
  createOnboardingTemplate(input: $input, onBehalfOfSubPartnerOrgId: $for) {{ template {{ id }} {ERRORS} }} }}"""
PROVISION = f"""mutation($input: ProvisionCustomerInput!, $for: ID) {{
  provisionCustomer(input: $input, onBehalfOfSubPartnerOrgId: $for) {{ customer {{ id }} {ERRORS} }} }}"""
PRECHECK = f"""mutation($input: ProvisionCustomerInput!, $for: ID) {{
  precheckCustomerProvisioning(input: $input, onBehalfOfSubPartnerOrgId: $for) {{ ok info {{ code }} {ERRORS} }} }}"""
UPDATE = f"""mutation($id: ID!, $input: UpdateCustomerInput!, $for: ID) {{
  updateCustomer(id: $id, input: $input, onBehalfOfSubPartnerOrgId: $for) {{ customer {{ id }} {ERRORS} }} }}"""
DELETE = f"""mutation($id: ID!, $for: ID) {{
  deleteCustomer(id: $id, onBehalfOfSubPartnerOrgId: $for) {{ customer {{ id }} {ERRORS} }} }}"""
DECIDE = f"""mutation($id: ID!, $decision: RplDecision!, $note: String) {{
  decideRplReview(customerId: $id, decision: $decision, note: $note) {{ customer {{ id }} {ERRORS} }} }}"""
CONTACT = f"""mutation($id: ID!, $reached: Boolean!, $note: String) {{
  recordComplianceContactAttempt(customerId: $id, reached: $reached, note: $note) {{ customer {{ id }} {ERRORS} }} }}"""

ADDRESS = {"addressLine1": "1 Main Street", "city": "Springfield", "stateOrProvince": "IL",
           "zipOrPostalCode": "62701", "country": "US"}
LOCATION = {"name": "HQ", "address": ADDRESS, "timezone": "America/Chicago", "language": "en_US"}
PARAMS = "input.provisioningParameters"


NEW_CUSTOMER: dict[str, Any] = {"input": {
    "provisioningId": Ref("p.template"), "externalId": "BAD-INPUT-1",
    "packages": ["webex_calling", "webex_meetings"], "address": ADDRESS,
    "customerInfo": {"name": "Springfield Plumbing", "primaryEmail": "it@springfield.example", "language": "en"},
    "provisioningParameters": {"callingLocation": LOCATION, "meetingsTimezone": "America/Chicago"},
}, "for": None}


TEMPLATE_CASES = (
    bad("input.name", "", "REQUIRED"),
    bad("input.name", WHITESPACE, "REQUIRED"),
    bad("input.name", INVISIBLE, "REQUIRED"),
    bad("input.name", LONG, "TOO_LONG"),
    bad("input.name", NUL, "VALIDATION_FAILED"),
    bad("input.name", CONTROL, "VALIDATION_FAILED"),
    top("input.name", None),
    top("input.name", 42),
    top("input.name", ["a", "b"]),
    bad("input.country", "USA", "INVALID_COUNTRY"),
    bad("input.country", HOMOGLYPH_COUNTRY, "INVALID_COUNTRY"),
    bad("input.country", "\U0001f1fa\U0001f1f8", "INVALID_COUNTRY", note="a flag emoji"),
    bad("input.country", "", "INVALID_COUNTRY"),
    bad("input.country", "XX", "INVALID_COUNTRY"),
    bad("input.country", OPERATOR, "INVALID_COUNTRY"),
    bad("input.language", "english", "INVALID_LOCALE"),
    bad("input.language", "en-XX", "INVALID_LOCALE"),
    bad("input.language", "xx_XX", "INVALID_LOCALE"),
    bad("input.language", "en_US\u202e", "INVALID_LOCALE", note="an RTL override"),
    bad("input.language", LONG, "INVALID_LOCALE"),
    bad("input.language", "", "INVALID_LOCALE"),
    top("input.authMode", "saml"),
    top("input.authMode", "PARTNER_SAML"),
    bad("input.authMode", "partner_saml", "REQUIRED", field="input.idpEntityId"),
    bad("input.authMode", "partner_oidc", "REQUIRED", field="input.idpName"),
    bad("input.idpEntityId", "https://idp.example/saml", "VALIDATION_FAILED", note="only for partner_saml"),
    bad("input.idpName", "Okta", "VALIDATION_FAILED", note="only for partner_oidc"),
    bad("input.idpEntityId", LONG, "TOO_LONG", more={"input.authMode": "partner_saml"}),
    bad("input.brandName", LONG, "TOO_LONG"),
    bad("input.brandName", CONTROL, "VALIDATION_FAILED"),
    top("input.restrictAdminInviteEmailsOnAttach", "yes"),
    top("input.disableWebexCalling1to1", 1),
    bad("for", Ref("sub_b"), "NOT_A_SUB_PARTNER", field=ON_BEHALF, who="sub_a", note="a sibling"),
    bad("for", Ref("partner"), "NOT_A_SUB_PARTNER", field=ON_BEHALF, who="sub_a", note="its parent"),
    bad("for", JUNK_ID, "NOT_A_SUB_PARTNER", field=ON_BEHALF),
    bad("for", OPERATOR, "NOT_A_SUB_PARTNER", field=ON_BEHALF),
    bad("for", Ref("a.customer"), "NOT_A_SUB_PARTNER", field=ON_BEHALF, note="a customer's id"),
    top("input.name", "Read-only", "FORBIDDEN", who="reader"),
    top(("input", "$where"), "1", note="an operator as a key"),
    top(("input", "name.first"), "x", note="a key with a dot"),
)

# Shared by provisionCustomer and its precheck, which must find exactly the same problems (R-PRE).
CUSTOMER_INPUT_CASES = (
    bad("input.provisioningId", "", "TEMPLATE_NOT_FOUND"),
    bad("input.provisioningId", Ref("a.template"), "TEMPLATE_NOT_FOUND", note="a sub-partner's template"),
    bad("input.provisioningId", Ref("p.template"), "TEMPLATE_NOT_FOUND", who="sub_a", note="the parent's template"),
    bad("input.provisioningId", OPERATOR, "TEMPLATE_NOT_FOUND"),
    bad("input.provisioningId", JUNK_ID, "TEMPLATE_NOT_FOUND"),
    bad("input.provisioningId", LONG, "TEMPLATE_NOT_FOUND"),
    top("input.provisioningId", {"$ne": None}),
    bad("input.externalId", "", "REQUIRED"),
    bad("input.externalId", WHITESPACE, "REQUIRED"),
    bad("input.externalId", LONG, "TOO_LONG"),
    bad("input.externalId", NUL, "VALIDATION_FAILED"),
    bad("input.externalId", Ref("p.customer.externalId"), "DUPLICATE_EXTERNAL_ID"),
    top("input.externalId", None),
    top("input.externalId", {"$gt": ""}),
    top("input.externalId", 12345),
    bad("input.packages", [], "REQUIRED"),
    bad("input.packages", ["webex_calling", "webex_calling", "webex_meetings"], "VALIDATION_FAILED"),
    bad("input.packages", ["attendant_console"], "PACKAGE_DEPENDENCY"),
    top("input.packages", ["WEBEX_CALLING"]),
    top("input.packages", ["webex_calling", None]),
    top("input.packages", ["webex_calling; drop"]),
    case("refused", "input.packages", ["webex_calling"] * 101, note="over 100 items"),
    bad("input.address.addressLine1", "x" * 51, "TOO_LONG"),
    bad("input.address.addressLine1", WHITESPACE, "REQUIRED"),
    bad("input.address.addressLine1", CONTROL, "VALIDATION_FAILED"),
    bad("input.address.city", LONG, "TOO_LONG"),
    bad("input.address.city", INVISIBLE, "REQUIRED"),
    bad("input.address.zipOrPostalCode", "9" * 21, "TOO_LONG"),
    bad("input.address.country", "USA", "INVALID_COUNTRY"),
    bad("input.address.country", HOMOGLYPH_COUNTRY, "INVALID_COUNTRY"),
    bad("input.address.country", "\uff35\uff33", "INVALID_COUNTRY", note="fullwidth US"),
    bad("input.address.country", "", "INVALID_COUNTRY"),
    bad("input.address.country", "U\x00", "INVALID_COUNTRY"),
    top("input.address.country", Drop.KEY),
    top("input.address", None),
    top("input.address", [ADDRESS]),
    top(("input", "address", "city.name"), "x", note="a key with a dot"),
    top("input.address.addressLine1", {"addressLine1": {"addressLine1": {"addressLine1": "deep"}}}),
    bad("input.customerInfo.name", "Acme 100% Plumbing", "NAME_HAS_PERCENT"),
    bad("input.customerInfo.name", "%", "NAME_HAS_PERCENT"),
    bad("input.customerInfo.name", "", "REQUIRED"),
    bad("input.customerInfo.name", INVISIBLE, "REQUIRED"),
    bad("input.customerInfo.name", LONG, "TOO_LONG"),
    bad("input.customerInfo.name", NUL, "VALIDATION_FAILED"),
    bad("input.customerInfo.name", CONTROL, "VALIDATION_FAILED"),
    bad("input.customerInfo.primaryEmail", "not-an-email", "INVALID_EMAIL"),
    bad("input.customerInfo.primaryEmail", HOMOGLYPH_EMAIL, "INVALID_EMAIL"),
    bad("input.customerInfo.primaryEmail", f"{EMOJI}@example.com", "INVALID_EMAIL"),
    bad("input.customerInfo.primaryEmail", "it@springfield", "INVALID_EMAIL"),
    bad("input.customerInfo.primaryEmail", "it@springfield.example\r\nBcc: all@example.com", "INVALID_EMAIL"),
    bad("input.customerInfo.primaryEmail", "a" * 250 + "@example.com", "INVALID_EMAIL"),
    bad("input.customerInfo.primaryEmail", "", "REQUIRED"),
    bad("input.customerInfo.primaryEmail", OPERATOR, "INVALID_EMAIL"),
    bad("input.customerInfo.language", "klingon", "INVALID_LOCALE"),
    bad("input.customerInfo.language", "en-XX", "INVALID_LOCALE"),
    bad("input.customerInfo.language", "xx_XX", "INVALID_LOCALE"),
    bad("input.customerInfo.language", "en_US\u202e", "INVALID_LOCALE"),
    bad("input.customerInfo.language", LONG, "INVALID_LOCALE"),
    top("input.customerInfo", "Springfield Plumbing"),
    bad(f"{PARAMS}.callingLocation", None, "REQUIRED", note="calling packages need it"),
    bad(f"{PARAMS}.callingLocation.timezone", "Mars/Olympus_Mons", "INVALID_TIMEZONE"),
    bad(f"{PARAMS}.callingLocation.timezone", "../../../etc/passwd", "INVALID_TIMEZONE"),
    bad(f"{PARAMS}.callingLocation.timezone", "UTC+05:00", "INVALID_TIMEZONE"),
    bad(f"{PARAMS}.callingLocation.timezone", "", "REQUIRED"),
    bad(f"{PARAMS}.callingLocation.language", "zz", "INVALID_LOCALE"),
    bad(f"{PARAMS}.callingLocation.name", "x" * 81, "TOO_LONG"),
    bad(f"{PARAMS}.callingLocation.address.country", "ZZ", "INVALID_COUNTRY"),
    bad(f"{PARAMS}.callingLocation.emergencyLocationIdentifier", "9" * 101, "TOO_LONG"),
    bad(f"{PARAMS}.meetingsTimezone", "Europe/Atlantis", "INVALID_TIMEZONE"),
    bad(f"{PARAMS}.meetingsTimezone", "europe/berlin", "INVALID_TIMEZONE"),
    bad(f"{PARAMS}.meetingsTimezone", EMOJI, "INVALID_TIMEZONE"),
    bad(f"{PARAMS}.limits", [{"package": "webex_calling", "limit": -1}], "VALIDATION_FAILED"),
    bad(f"{PARAMS}.limits", [{"package": "webex_suite", "limit": 5}], "PACKAGE_NOT_ON_CUSTOMER"),
    bad(f"{PARAMS}.limits", [{"package": "webex_calling", "limit": 5}] * 2, "VALIDATION_FAILED"),
    top(f"{PARAMS}.limits", [{"package": "webex_calling", "limit": 2**31}]),
    top(f"{PARAMS}.limits", [{"package": "webex_calling", "limit": 10**20}]),
    top(f"{PARAMS}.limits", [{"package": "webex_calling", "limit": 1.5}]),
    top(f"{PARAMS}.limits", [{"package": "webex_calling", "limit": "5"}]),
    case("refused", f"{PARAMS}.limits", [{"package": "webex_calling", "limit": 1}] * 101, note="over 100 items"),
    top("input.billingStartDate", "2026-02-30"),
    top("input.billingStartDate", "yesterday"),
    top("input.billingStartDate", "2026-12-01T00:00:00Z"),
    bad("input.billingStartDate", "2020-01-01", "BILLING_START_DATE_INVALID"),
    bad("input.billingStartDate", "9999-12-31", "BILLING_START_DATE_INVALID"),
    bad("for", Ref("sub_b"), "SUB_PARTNER_SUSPENDED", field=ON_BEHALF, note="a suspended sub-partner"),
    bad("for", FORGED_PARTNER, "NOT_A_SUB_PARTNER", field=ON_BEHALF),
    bad("for", JUNK_ID, "NOT_A_SUB_PARTNER", field=ON_BEHALF),
    bad("for", Ref("a.customer"), "NOT_A_SUB_PARTNER", field=ON_BEHALF, note="a customer's id"),
    bad("for", Ref("sub_b"), "NOT_A_SUB_PARTNER", field=ON_BEHALF, who="sub_a", note="a sibling"),
    bad("for", Ref("partner"), "NOT_A_SUB_PARTNER", field=ON_BEHALF, who="sub_a", note="its parent"),
    bad("input.provisioningId", Ref("b.template"), "SUB_PARTNER_SUSPENDED", field=None, who="sub_b"),
    top(("input", "$where"), "1", note="an operator as a key"),
    top("input", OPERATOR),
    top("input.customerInfo.customerInfo", {"customerInfo": {"name": "deep"}}, note="nested unknown keys"),
)

# Hostile but valid: a precheck shows they are taken as plain text, never as operators or patterns.
PRECHECK_ACCEPTS = (
    case("accepted", "input.customerInfo.name", "Café ☕ Zürich " + EMOJI),
    case("accepted", "input.customerInfo.name", "شركة السباكة", note="right-to-left text"),
    case("accepted", "input.customerInfo.name", "\u0410cme", note="a Cyrillic A"),
    case("accepted", "input.customerInfo.name", OPERATOR),
    case("accepted", "input.customerInfo.name", SCRIPT),
    case("accepted", "input.externalId", WHERE),
    case("accepted", "input.externalId", "a.b.$c"),
    case("accepted", "input.externalId", OPERATOR, note="matches no stored externalId"),
    case("accepted", "input.externalId", ".*", note="matches no stored externalId"),
)

UPDATE_CASES = (
    bad("id", "", "NOT_FOUND"),
    bad("id", Ref("a.customer"), "NOT_FOUND", note="a sub-partner's customer"),
    bad("id", Ref("p.customer"), "NOT_FOUND", who="sub_a", note="the parent's customer"),
    bad("id", Ref("b.customer"), "NOT_FOUND", who="sub_a", note="a sibling's customer"),
    bad("id", Ref("a.customer"), "SUB_PARTNER_SUSPENDED", field=None, who="sub_b"),
    bad("id", JUNK_ID, "NOT_FOUND"),
    bad("id", OPERATOR, "NOT_FOUND"),
    bad("id", FORGED_CUSTOMER, "NOT_FOUND"),
    bad("id", Ref("p.subscriber"), "NOT_FOUND", note="a subscriber's id"),
    bad("id", LONG, "NOT_FOUND"),
    bad("id", Ref("p.deleting"), "INVALID_STATE", field=None, note="a customer being deleted"),
    top("id", None),
    top("id", {"$gt": ""}),
    top("id", [Ref("p.customer")]),
    bad("input.packages", [], "REQUIRED"),
    bad("input.packages", ["webex_voice", "webex_voice", "cisco_calling_plan"], "VALIDATION_FAILED"),
    bad("input.packages", ["cisco_calling_plan"], "PACKAGE_IN_USE"),
    case("refused", "input.packages", ["webex_voice"] * 101, note="over 100 items"),
    top("input.packages", ["webex-voice"]),
    bad("input.externalId", WHITESPACE, "REQUIRED"),
    bad("input.externalId", LONG, "TOO_LONG"),
    bad("input.externalId", CONTROL, "VALIDATION_FAILED"),
    bad("input.externalId", Ref("p.customer.other.externalId"), "DUPLICATE_EXTERNAL_ID"),
    bad("input.address", {**ADDRESS, "country": "XX"}, "INVALID_COUNTRY", field="input.address.country"),
    bad("input.address", {**ADDRESS, "addressLine1": "x" * 51}, "TOO_LONG", field="input.address.addressLine1"),
    bad(f"{PARAMS}.meetingsTimezone", "Nowhere/Land", "INVALID_TIMEZONE"),
    bad(f"{PARAMS}.limits", [{"package": "webex_voice", "limit": -5}], "VALIDATION_FAILED"),
    bad(f"{PARAMS}.limits", [{"package": "webex_voice", "limit": 0}], "PACKAGE_LIMIT_REACHED",
        note="below the subscribers holding it"),
    bad(f"{PARAMS}.callingLocation", {**LOCATION, "timezone": "Moon/Base"}, "INVALID_TIMEZONE",
        field=f"{PARAMS}.callingLocation.timezone"),
    bad("input.billingStartDate", "2026-11-01", "BILLING_ALREADY_STARTED"),
    top("input.billingStartDate", "2026-11-31"),
    bad("for", JUNK_ID, "NOT_A_SUB_PARTNER", field=ON_BEHALF),
    bad("for", Ref("sub_a"), "NOT_FOUND", field="id", note="the parent's customer, acting for a sub-partner"),
    top("input", None),
)

DELETE_CASES = (
    bad("id", "", "NOT_FOUND"),
    bad("id", Ref("a.customer"), "NOT_FOUND", note="a sub-partner's customer"),
    bad("id", Ref("p.customer"), "NOT_FOUND", who="sub_a", note="the parent's customer"),
    bad("id", Ref("a.customer"), "NOT_FOUND", who="sub_b", note="a sibling's customer"),
    bad("id", Ref("b.customer"), "NOT_FOUND", who="sub_a", note="a sibling's customer"),
    bad("id", JUNK_ID, "NOT_FOUND"),
    bad("id", OPERATOR, "NOT_FOUND"),
    bad("id", FORGED_CUSTOMER, "NOT_FOUND"),
    bad("id", Ref("p.template.id"), "NOT_FOUND", note="a template's id"),
    bad("id", Ref("p.deleting"), "INVALID_STATE", field=None, note="already being deleted"),
    bad("for", FORGED_PARTNER, "NOT_A_SUB_PARTNER", field=ON_BEHALF),
    bad("for", Ref("sub_a"), "NOT_FOUND", field="id", note="the parent's customer, acting for a sub-partner"),
    top("id", None),
    top("id", 1.5),
    top("id", True),
    top("id", Ref("p.customer"), "FORBIDDEN", who="reader"),
)

DECIDE_CASES = (
    bad("note", LONG, "TOO_LONG"),
    bad("note", NUL, "VALIDATION_FAILED"),
    bad("note", CONTROL, "VALIDATION_FAILED"),
    top("decision", "MAYBE"),
    top("decision", "approve"),
    top("decision", None),
    top("decision", 1),
    bad("id", Ref("p.customer"), "INVALID_STATE", field="customerId", note="no review waiting"),
    bad("id", FORGED_CUSTOMER, "NOT_FOUND", field="customerId"),
    bad("id", "", "NOT_FOUND", field="customerId"),
    bad("id", OPERATOR, "NOT_FOUND", field="customerId"),
    bad("id", JUNK_ID, "NOT_FOUND", field="customerId"),
    top("id", None),
    top("decision", "APPROVE", "FORBIDDEN", who="partner"),
    top("decision", "REJECT", "FORBIDDEN", who="sub_a"),
    top("decision", "APPROVE", "FORBIDDEN", who="platform"),
)

CONTACT_CASES = (
    bad("note", "x" * 2001, "TOO_LONG"),
    bad("note", NUL, "VALIDATION_FAILED"),
    bad("id", Ref("p.customer"), "INVALID_STATE", field="customerId", note="not flagged as non-compliant"),
    bad("id", Ref("p.deleting"), "INVALID_STATE", field="customerId"),
    bad("id", FORGED_CUSTOMER, "NOT_FOUND", field="customerId"),
    bad("id", OPERATOR, "NOT_FOUND", field="customerId"),
    top("reached", "yes"),
    top("reached", None),
    top("reached", 0),
    top("reached", False, "FORBIDDEN", who="partner"),
)


GROUPS = (
    Group("createOnboardingTemplate", TEMPLATE,
          {"input": {"name": "Bad input template", "country": "US", "language": "en_US"}, "for": None},
          TEMPLATE_CASES),
    Group("provisionCustomer", PROVISION, NEW_CUSTOMER, CUSTOMER_INPUT_CASES),
    Group("precheckCustomerProvisioning", PRECHECK, NEW_CUSTOMER, (*CUSTOMER_INPUT_CASES, *PRECHECK_ACCEPTS)),
    Group("updateCustomer", UPDATE,
          {"id": Ref("p.customer"), "input": {"packages": ["webex_voice", "cisco_calling_plan"]}, "for": None},
          UPDATE_CASES),
    Group("deleteCustomer", DELETE, {"id": Ref("p.customer"), "for": None}, DELETE_CASES),
    Group("decideRplReview", DECIDE, {"id": Ref("p.pending"), "decision": "APPROVE", "note": None},
          DECIDE_CASES, who="reviewer"),
    # The demo has no customer flagged non-compliant, so no contact attempt can be accepted (no control).
    Group("recordComplianceContactAttempt", CONTACT, {"id": Ref("p.customer"), "reached": False, "note": None},
          CONTACT_CASES, who="reviewer", control=False),
)
