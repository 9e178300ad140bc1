"""Bad-input tables of the partner and billing-report mutations (DOMAIN.md §1, §8)."""

from __future__ import annotations

from tests.api.bad_input.customers import ERRORS
from tests.api.bad_input.hostile import (
    CONTROL,
    EMOJI,
    FORGED_PARTNER,
    HOMOGLYPH_EMAIL,
    INVISIBLE,
    JUNK_ID,
    LONG,
    NUL,
    OPERATOR,
    WHITESPACE,
)
from tests.api.bad_input.matrix import Ctx, Group, Ref, bad, case, top
from tests.conftest import Gateway

CREATE_PARTNER = f"""mutation($input: CreatePartnerInput!) {{
  createPartner(input: $input) {{ partner {{ id }} {ERRORS} }} }}"""
CREATE_SUB_PARTNER = f"""mutation($parentId: ID!, $input: CreateSubPartnerInput!) {{
  createSubPartner(parentId: $parentId, input: $input) {{ partner {{ id }} {ERRORS} }} }}"""
SET_STATE = f"""mutation($id: ID!, $state: SubPartnerState!) {{
  setSubPartnerState(id: $id, state: $state) {{ partner {{ id }} {ERRORS} }} }}"""
CREATE_REPORT = f"""mutation($input: CreateBillingReportInput!) {{
  createBillingReport(input: $input) {{ report {{ id }} {ERRORS} }} }}"""
DELETE_REPORT = f"""mutation($id: ID!) {{ deleteBillingReport(id: $id) {{ deletedId {ERRORS} }} }}"""

PARTNER_CASES = (
    bad("input.name", "", "REQUIRED"),
    bad("input.name", WHITESPACE, "REQUIRED"),
    bad("input.name", INVISIBLE, "REQUIRED"),
    bad("input.name", LONG, "TOO_LONG"),
    bad("input.name", NUL, "VALIDATION_FAILED"),
    bad("input.name", CONTROL, "VALIDATION_FAILED"),
    bad("input.subscriptionId", "", "REQUIRED"),
    bad("input.subscriptionId", "x" * 101, "TOO_LONG"),
    bad("input.subscriptionId", "Sub\x00-1", "VALIDATION_FAILED"),
    top("input.subscriptionId", None),
    top("input.delayedBillingEnabled", "true"),
    top("input.name", 1),
    top("input.name", "Rogue Telecom", "FORBIDDEN", who="partner"),
    top("input.name", "Rogue Telecom", "FORBIDDEN", who="reviewer"),
    top(("input", "$set"), {"kind": "PLATFORM"}, note="an operator as a key"),
)

SUB_PARTNER_CASES = (
    bad("parentId", Ref("sub_a"), "VALIDATION_FAILED", note="a sub-partner cannot have sub-partners"),
    bad("parentId", FORGED_PARTNER, "NOT_FOUND"),
    bad("parentId", "", "NOT_FOUND"),
    bad("parentId", JUNK_ID, "NOT_FOUND"),
    bad("parentId", OPERATOR, "NOT_FOUND"),
    bad("parentId", Ref("p.customer"), "NOT_FOUND", note="a customer's id"),
    bad("input.name", "", "REQUIRED"),
    bad("input.name", LONG, "TOO_LONG"),
    bad("input.name", CONTROL, "VALIDATION_FAILED"),
    bad("input.adminEmail", "admin", "INVALID_EMAIL"),
    bad("input.adminEmail", HOMOGLYPH_EMAIL, "INVALID_EMAIL"),
    bad("input.adminEmail", "", "REQUIRED"),
    bad("input.adminEmail", f"{EMOJI}@bad-input.example", "INVALID_EMAIL"),
    top("input.billingStartDate", "2026-02-30"),
    top("input.billingStartDate", "0000-01-01"),
    top("input.billingStartDate", "tomorrow"),
    top("parentId", None),
    top("input.name", "Rogue Resellers", "FORBIDDEN", who="partner"),
)

STATE_CASES = (
    top("state", "deleted"),
    top("state", "SUSPENDED"),
    top("state", None),
    top("state", ["suspended"]),
    bad("id", Ref("partner"), "NOT_A_SUB_PARTNER", note="a top-level partner"),
    bad("id", FORGED_PARTNER, "NOT_FOUND"),
    bad("id", "", "NOT_FOUND"),
    bad("id", JUNK_ID, "NOT_FOUND"),
    bad("id", OPERATOR, "NOT_FOUND"),
    bad("id", Ref("a.customer"), "NOT_FOUND", note="a customer's id"),
    top("state", "active", "FORBIDDEN", who="partner", more={"id": Ref("sub_b")}),
    top("state", "suspended", "FORBIDDEN", who="sub_a"),
)

REPORT_CASES = (
    bad("input.billingEndDate", "2026-09-30", "REPORT_DATE_RANGE", field="input.billingStartDate",
        note="ends before it starts"),
    bad("input.billingEndDate", "2026-11-22", "REPORT_DATE_RANGE", note="ends today"),
    bad("input.billingEndDate", "2027-01-31", "REPORT_DATE_RANGE"),
    bad("input.billingStartDate", "2020-01-01", "REPORT_DATE_RANGE", note="over five years ago"),
    bad("input.billingStartDate", "0001-01-01", "REPORT_DATE_RANGE"),
    top("input.billingStartDate", "2026-02-29"),
    top("input.billingStartDate", "2026/10/01"),
    top("input.billingStartDate", ""),
    top("input.billingStartDate", "10/01/2026"),
    top("input.billingStartDate", LONG),
    top("input.billingStartDate", "+99999-01-01"),
    top("input.billingStartDate", 20261001),
    top("input.billingEndDate", None),
    top("input.type", "MONTHLY"),
    top("input.type", "partner"),
    bad("input.subPartnerOrgId", FORGED_PARTNER, "NOT_FOUND"),
    bad("input.subPartnerOrgId", JUNK_ID, "NOT_FOUND"),
    bad("input.subPartnerOrgId", OPERATOR, "NOT_FOUND"),
    bad("input.subPartnerOrgId", Ref("a.customer"), "NOT_FOUND", note="a customer's id"),
    bad("input.subPartnerOrgId", Ref("partner"), "NOT_FOUND", who="sub_a", note="its parent"),
    bad("input.subPartnerOrgId", Ref("sub_b"), "NOT_FOUND", who="sub_a", note="a sibling"),
    bad("input.billingStartDate", "2026-09-01", "REPORT_EXISTS", field="input",
        more={"input.billingEndDate": "2026-09-30"}, note="a completed report covers it"),
    case("answer", "input.billingStartDate", "2026-08-01", more={"input.billingEndDate": "2026-08-31"},
         note="replays a report in progress"),
    top("input.type", "PARTNER", "FORBIDDEN", who="reader"),
)

DELETE_REPORT_CASES = (
    bad("id", Ref("a.report"), "NOT_FOUND", who="sub_b", note="a sibling's report"),
    bad("id", Ref("p.report"), "NOT_FOUND", who="sub_a", note="the parent's report"),
    bad("id", "", "NOT_FOUND"),
    bad("id", JUNK_ID, "NOT_FOUND"),
    bad("id", OPERATOR, "NOT_FOUND"),
    bad("id", "rpt_" + "0" * 24, "NOT_FOUND"),
    bad("id", Ref("p.customer"), "NOT_FOUND", note="a customer's id"),
    bad("id", LONG, "NOT_FOUND"),
    top("id", None),
    top("id", Ref("p.report"), "FORBIDDEN", who="reader"),
    top("id", Ref("p.report"), "FORBIDDEN", who="platform"),
)


async def _report(gateway: Gateway, token: str, start: str, end: str) -> str:
    data = await gateway.execute(token, CREATE_REPORT, {"input": {"billingStartDate": start, "billingEndDate": end}})
    assert data["createBillingReport"]["errors"] == [], data
    report_id: str = data["createBillingReport"]["report"]["id"]
    return report_id


async def with_reports(gateway: Gateway, ctx: Ctx) -> None:
    """A completed report of the partner's (September), one in progress (August), and one of sub_a's (August)."""
    ctx.values["p.report.done"] = await _report(gateway, ctx.tokens["partner"], "2026-09-01", "2026-09-30")
    await gateway.settle()
    ctx.values["p.report"] = await _report(gateway, ctx.tokens["partner"], "2026-08-01", "2026-08-31")
    ctx.values["a.report"] = await _report(gateway, ctx.tokens["sub_a"], "2026-08-01", "2026-08-31")


GROUPS = (
    Group("createPartner", CREATE_PARTNER,
          {"input": {"name": "Bad Input Telecom", "subscriptionId": "Sub-BAD-0001"}},
          PARTNER_CASES, who="platform"),
    Group("createSubPartner", CREATE_SUB_PARTNER,
          {"parentId": Ref("partner"),
           "input": {"name": "Bad Input Resellers", "adminEmail": "admin@bad-input.example"}},
          SUB_PARTNER_CASES, who="platform"),
    Group("setSubPartnerState", SET_STATE, {"id": Ref("sub_a"), "state": "suspended"}, STATE_CASES,
          who="platform"),
    Group("createBillingReport", CREATE_REPORT,
          {"input": {"billingStartDate": "2026-10-01", "billingEndDate": "2026-10-31", "type": "PARTNER"}},
          REPORT_CASES, prepare=with_reports),
    Group("deleteBillingReport", DELETE_REPORT, {"id": Ref("p.report")}, DELETE_REPORT_CASES,
          prepare=with_reports),
)
