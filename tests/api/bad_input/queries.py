"""Bad-input tables of every query that takes arguments: lookups by id, filters, page sizes and cursors.

Queries refuse with top-level errors (VALIDATION_FAILED naming `first`/`after`, or GraphQL's own);
an id or filter naming something the caller may not see answers as if it did not exist (R-ORG-6).
"""

from __future__ import annotations

from typing import Any

from tests.api.bad_input.hostile import (
    EMOJI,
    FORGED_CURSORS,
    FORGED_CUSTOMER,
    FORGED_PARTNER,
    JUNK_ID,
    LONG,
    NUL,
    OPERATOR,
    REDOS,
    REGEX,
    SCRIPT,
    WHERE,
    cursor,
)
from tests.api.bad_input.matrix import Case, Group, Ref, case, top
from tests.api.bad_input.organisations import with_reports

NODE = "query($id: ID!) { node(id: $id) { id } }"
CUSTOMER = "query($id: ID!) { customer(id: $id) { id name } }"
SUBSCRIBER = "query($id: ID!) { subscriber(id: $id) { id email } }"
REPORT = "query($id: ID!) { billingReport(id: $id) { id } }"
CUSTOMERS = """query($filter: CustomerFilter, $first: Int, $after: String, $orderBy: CustomerOrder) {
  customers(filter: $filter, first: $first, after: $after, orderBy: $orderBy) {
    totalCount edges { node { id name owner { id } } } } }"""
SUBSCRIBERS = """query($filter: SubscriberFilter, $first: Int, $after: String, $orderBy: SubscriberOrder) {
  subscribers(filter: $filter, first: $first, after: $after, orderBy: $orderBy) {
    totalCount edges { node { id email customer { id owner { id } } } } } }"""
EVENTS = """query($filter: EventFilter, $first: Int, $after: String) {
  provisioningEvents(filter: $filter, first: $first, after: $after) {
    totalCount edges { node { entityId customerId ownerOrgId } } } }"""
REPORTS = """query($filter: BillingReportFilter, $first: Int, $after: String, $orderBy: BillingReportOrder) {
  billingReports(filter: $filter, first: $first, after: $after, orderBy: $orderBy) {
    totalCount edges { node { id } } } }"""
ROWS = """query($id: ID!, $first: Int, $after: String) {
  billingReport(id: $id) { rows(first: $first, after: $after) { totalCount edges { cursor } } } }"""
SUB_PARTNERS = """query($state: SubPartnerState, $first: Int, $after: String) {
  subPartners(provisioningState: $state, first: $first, after: $after) { edges { node { id } } } }"""
PARTNERS = "query($first: Int, $after: String) { partners(first: $first, after: $after) { edges { node { id } } } }"
TEMPLATES = """query($first: Int, $after: String) {
  onboardingTemplates(first: $first, after: $after) { edges { node { id } } } }"""
QUEUE = "query($first: Int, $after: String) { rplReviewQueue(first: $first, after: $after) { edges { node { id } } } }"
CUSTOMER_EVENTS = """query($id: ID!, $first: Int, $after: String) {
  customer(id: $id) { events(first: $first, after: $after) { edges { node { entityId } } } } }"""
CUSTOMER_SUBSCRIBERS = """query($id: ID!, $filter: SubscriberFilter, $first: Int) {
  customer(id: $id) { subscribers(filter: $filter, first: $first) { edges { node { customer { id } } } } } }"""
VIEWER_CUSTOMERS = """query($filter: CustomerFilter) {
  viewer { partner { customers(filter: $filter) { edges { node { id owner { id } } } } } } }"""
VIEWER_SUB_PARTNERS = """query($state: SubPartnerState) {
  viewer { partner { subPartners(provisioningState: $state) { edges { node { id } } } } } }"""


NESTED_200: Any = []
for _ in range(199):
    NESTED_200 = [NESTED_200]


def _nested_literal(depth: int) -> str:
    return f"{{ customers(filter: {{status: {'[' * depth}provisioned{']' * depth}}}) {{ totalCount }} }}"


def _empty(at: str, value: Any, **kw: Any) -> Case:
    return case("empty", at, value, **kw)


def _pages(document: str, who: str | None = None, other_list: str = "p.events.cursor") -> tuple[Case, ...]:
    """Page sizes and cursors that no list takes (DOMAIN: pages of at most 100, cursors are opaque)."""
    sizes = (top("first", -1, "VALIDATION_FAILED", document=document, who=who),
             top("first", 101, "VALIDATION_FAILED", document=document, who=who),
             top("first", 10**9, document=document, who=who, note="the page size or the cost limit"),
             top("first", 2**31, document=document, who=who, note="beyond GraphQL's Int"),
             top("first", 1.5, document=document, who=who),
             top("first", "10", document=document, who=who))
    cursors = tuple(top("after", value, "VALIDATION_FAILED", document=document, who=who, note=name)
                    for name, value in FORGED_CURSORS.items())
    return (*sizes, *cursors,
            top("after", Ref(other_list), "VALIDATION_FAILED", document=document, who=who, note="another list's"))


def _ids(document: str) -> tuple[Case, ...]:
    return tuple(_empty("id", value, document=document) for value in
                 ("", JUNK_ID, OPERATOR, FORGED_CUSTOMER, LONG, NUL, EMOJI, "cus_" + "\uff41" * 24))


LOOKUP_CASES = (
    *_ids(NODE), *_ids(CUSTOMER),
    _empty("id", JUNK_ID, document=SUBSCRIBER), _empty("id", OPERATOR, document=SUBSCRIBER),
    _empty("id", JUNK_ID, document=REPORT), _empty("id", OPERATOR, document=REPORT),
    _empty("id", Ref("b.customer"), who="sub_a", document=CUSTOMER, note="a sibling's customer"),
    _empty("id", Ref("a.customer"), who="sub_b", document=CUSTOMER, note="a sibling's customer"),
    _empty("id", Ref("p.customer"), who="sub_a", document=CUSTOMER, note="the parent's customer"),
    _empty("id", Ref("p.customer"), who="sub_a", document=NODE, note="the parent's customer"),
    _empty("id", Ref("partner"), who="sub_a", document=NODE, note="its parent"),
    _empty("id", Ref("sub_b"), who="sub_a", document=NODE, note="a sibling"),
    _empty("id", Ref("p.location"), who="sub_a", document=NODE, note="the parent's location"),
    _empty("id", Ref("b.template.id"), who="sub_a", document=NODE, note="a sibling's template"),
    _empty("id", Ref("b.subscriber"), who="sub_a", document=SUBSCRIBER, note="a sibling's subscriber"),
    _empty("id", Ref("p.subscriber"), who="sub_b", document=SUBSCRIBER, note="the parent's subscriber"),
    top("id", None, document=NODE),
    top("id", {"$gt": ""}, document=CUSTOMER),
    top("id", 1.5, document=SUBSCRIBER),
    top("id", [Ref("p.customer")], document=REPORT),
)

CUSTOMER_LIST_CASES = (
    _empty("filter.nameContains", REGEX, note="matched as text, not as a pattern"),
    _empty("filter.nameContains", REDOS),
    _empty("filter.nameContains", OPERATOR),
    _empty("filter.nameContains", WHERE),
    _empty("filter.nameContains", "%"),
    _empty("filter.nameContains", NUL),
    _empty("filter.nameContains", LONG),
    _empty("filter.nameContains", "." * 255, note="as long as a name may be, every character escaped"),
    _empty("filter.nameContains", EMOJI),
    _empty("filter.nameContains", SCRIPT),
    _empty("filter.externalId", OPERATOR),
    _empty("filter.externalId", WHERE),
    _empty("filter.orgId", OPERATOR),
    top("filter.externalId", {"$ne": None}),
    top("filter.orgId", {"$gt": ""}),
    top("filter.status", ["provisioned", "bogus"]),
    top("filter.status", ["PROVISIONED"]),
    case("answer", "filter.status", ["provisioned", "provisioned"], note="an item twice"),
    case("refused", "filter.status", ["provisioned"] * 101, note="over 100 items"),
    _empty("filter.subPartnerOrgId", Ref("sub_b"), who="sub_a", hides=("sub_b",), note="a sibling"),
    _empty("filter.subPartnerOrgId", Ref("partner"), who="sub_a", hides=("partner",), note="its parent"),
    case("answer", "filter.includeSubPartners", True, who="sub_a", hides=("sub_b", "partner")),
    _empty("filter.subPartnerOrgId", FORGED_PARTNER),
    _empty("filter.subPartnerOrgId", JUNK_ID),
    top("filter.includeSubPartners", "yes"),
    top("filter", {"nameContains": "a", "filter": {"filter": {"filter": {}}}}, note="nested unknown keys"),
    top("filter", [{"nameContains": "a"}]),
    top("filter.nameContains", NESTED_200, note="a list nested 200 deep"),
    top("first", 5, document=_nested_literal(50), note="a list literal nested 50 deep"),
    top("first", 5, document=_nested_literal(300), note="a list literal nested 300 deep"),
    top("orderBy", "NAME_DESC"),
    top("orderBy", "created_desc"),
    _empty("first", 0),
    *_pages(CUSTOMERS),
    case("answer", "after", Ref("b.customers.cursor"), who="sub_a", hides=("sub_b",), note="a sibling's cursor"),
    case("answer", "after", Ref("p.customers.cursor"), who="sub_a", hides=("partner",), note="the parent's cursor"),
    top("first", 0, document="{ customers(first: 99999999999) { totalCount } }", note="an Int literal out of range"),
)

SUBSCRIBER_LIST_CASES = (
    _empty("filter.email", OPERATOR),
    _empty("filter.email", WHERE),
    _empty("filter.email", REGEX),
    _empty("filter.email", NUL),
    _empty("filter.email", LONG),
    top("filter.email", {"$ne": None}),
    _empty("filter.customerId", Ref("a.customer"), hides=("a.customer",), note="a sub-partner's, not asked for"),
    _empty("filter.customerId", Ref("b.customer"), who="sub_a", hides=("b.customer",), note="a sibling's"),
    _empty("filter.customerId", Ref("p.customer"), who="sub_b", hides=("p.customer",), note="the parent's"),
    _empty("filter.externalCustomerId", Ref("b.customer.externalId"), who="sub_a", hides=("b.customer",)),
    _empty("filter.externalCustomerId", OPERATOR),
    _empty("filter.externalCustomerId", WHERE),
    _empty("filter.subPartnerOrgId", Ref("sub_b"), who="sub_a", hides=("sub_b",)),
    top("filter.lastStatusChangeAfter", "not a date"),
    top("filter.lastStatusChangeAfter", "2026-13-01T00:00:00Z"),
    top("filter.lastStatusChangeAfter", ""),
    _empty("filter.lastStatusChangeAfter", "9999-12-31T23:59:59+00:00"),
    case("answer", "filter.lastStatusChangeAfter", "0001-01-01T00:00:00+00:00"),
    top("filter.status", "bogus"),
    top("filter.package", "common_area_calling"),
    top("orderBy", "NAME_ASC"),
    *_pages(SUBSCRIBERS),
)

EVENT_CASES = (
    top("filter.entityTypes", ["CUSTOMERS"]),
    case("answer", "filter.entityTypes", ["CUSTOMER", "CUSTOMER"], note="an item twice"),
    case("refused", "filter.entityTypes", ["CUSTOMER"] * 101, note="over 100 items"),
    case("refused", "filter.customerIds", [f"cus_{i:024d}" for i in range(150)], note="over 100 items"),
    case("refused", "filter.toStatuses", ["provisioned"] * 101, note="over 100 items"),
    _empty("filter.customerIds", [Ref("b.customer")], who="sub_a", hides=("b.customer",), note="a sibling's"),
    _empty("filter.customerIds", [Ref("a.customer")], hides=("a.customer",), note="a sub-partner's, not asked for"),
    _empty("filter.customerIds", [OPERATOR]),
    top("filter.customerIds", [{"$gt": ""}]),
    _empty("filter.toStatuses", [OPERATOR]),
    _empty("filter.toStatuses", [WHERE]),
    _empty("filter.toStatuses", [REGEX]),
    _empty("filter.toStatuses", [NUL]),
    _empty("filter.subPartnerOrgId", Ref("sub_b"), who="sub_a", hides=("sub_b",)),
    top("filter.includeSubPartners", "true"),
    top("after", cursor("events", -1, "evt_x"), "VALIDATION_FAILED", note="a negative position"),
    top("after", cursor("events", "1", "evt_x"), "VALIDATION_FAILED", note="a position that is text"),
    top("after", cursor("events", 10**30, "evt_x"), "VALIDATION_FAILED", note="beyond 64 bits"),
    top("after", cursor("events", 1.5, "evt_x"), "VALIDATION_FAILED"),
    top("after", cursor("events", True, "evt_x"), "VALIDATION_FAILED"),
    top("after", cursor("events", {"$gt": 0}, "evt_x"), "VALIDATION_FAILED"),
    top("after", cursor("events", 2**62, "evt_x"), "VALIDATION_FAILED", note="a position after the head, unsealed"),
    case("answer", "after", Ref("b.events.cursor"), who="sub_a", hides=("sub_b",), note="a sibling's cursor"),
    *_pages(EVENTS, other_list="p.customers.cursor"),
)

REPORT_LIST_CASES = (
    top("filter.billingStartDate", "2026-02-30"),
    top("filter.billingStartDate", "July"),
    top("filter.billingEndDate", OPERATOR),
    top("filter.type", "MONTHLY"),
    top("filter.status", "DONE"),
    _empty("filter.subPartnerOrgId", Ref("sub_a"), who="sub_b", hides=("a.report",), note="a sibling"),
    _empty("filter.subPartnerOrgId", Ref("partner"), who="sub_a", hides=("p.report",), note="its parent"),
    _empty("filter.subPartnerOrgId", FORGED_PARTNER),
    _empty("filter.subPartnerOrgId", JUNK_ID),
    top("orderBy", "CREATED_ASC"),
    *_pages(REPORTS),
    _empty("id", Ref("a.report"), who="sub_b", document=REPORT, hides=("a.report",), note="a sibling's report"),
    _empty("id", Ref("p.report"), who="sub_a", document=REPORT, hides=("p.report",), note="the parent's report"),
    *(top(at, value, "VALIDATION_FAILED", document=ROWS, more={"id": Ref("p.report.done")}, note="report rows")
      for at, value in (("first", -1), ("first", 101), ("after", FORGED_CURSORS["operator values"]),
                        ("after", Ref("p.customers.cursor")))),
)

ORGANISATION_LIST_CASES = (
    top("state", "deleted"),
    top("state", "ACTIVE"),
    _empty("state", "active", who="sub_a", hides=("sub_b",), note="a sub-partner has no sub-partners"),
    *_pages(SUB_PARTNERS),
    top("first", 10, "FORBIDDEN", document=PARTNERS, note="partners are for the platform"),
    *_pages(PARTNERS, who="platform"),
    *_pages(TEMPLATES),
    top("first", 10, "FORBIDDEN", document=QUEUE, note="the review queue is for reviewers"),
    top("first", 101, "VALIDATION_FAILED", document=QUEUE, who="reviewer"),
    top("after", FORGED_CURSORS["$where value"], "VALIDATION_FAILED", document=QUEUE, who="reviewer"),
    top("state", "bogus", document=VIEWER_SUB_PARTNERS),
)

NESTED_CASES = (
    *(top(at, value, "VALIDATION_FAILED", document=CUSTOMER_EVENTS, note="a customer's events")
      for at, value in (("first", -1), ("first", 101), ("after", "!!!"), ("after", Ref("p.customers.cursor")),
                        ("after", cursor("events", 10**30, "evt_x")))),
    case("answer", "filter.customerId", Ref("a.customer"), document=CUSTOMER_SUBSCRIBERS, hides=("a.customer",),
         note="another customer's subscribers under this one"),
    case("answer", "filter.externalCustomerId", OPERATOR, document=CUSTOMER_SUBSCRIBERS),
    top("first", 101, "VALIDATION_FAILED", document=CUSTOMER_SUBSCRIBERS),
    top("filter.status", "bogus", document=CUSTOMER_SUBSCRIBERS),
    case("answer", "filter.subPartnerOrgId", Ref("sub_b"), document=VIEWER_CUSTOMERS, who="sub_a", hides=("sub_b",)),
    case("answer", "filter.includeSubPartners", True, document=VIEWER_CUSTOMERS, who="sub_a",
         hides=("sub_b", "partner")),
    top("filter.nameContains", {"$regex": ".*"}, document=VIEWER_CUSTOMERS),
)

GROUPS = (
    Group("lookups by id", CUSTOMER, {"id": Ref("p.customer")}, LOOKUP_CASES),
    Group("customers", CUSTOMERS, {"first": 5}, CUSTOMER_LIST_CASES),
    Group("subscribers", SUBSCRIBERS, {"first": 5}, SUBSCRIBER_LIST_CASES),
    Group("provisioningEvents", EVENTS, {"first": 5}, EVENT_CASES),
    Group("billingReports", REPORTS, {"first": 5}, REPORT_LIST_CASES, prepare=with_reports),
    Group("organisation lists", SUB_PARTNERS, {"first": 5}, ORGANISATION_LIST_CASES),
    Group("nested lists", CUSTOMER_EVENTS, {"id": Ref("p.customer"), "first": 5}, NESTED_CASES),
)
