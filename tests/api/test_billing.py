"""Usage and billing (DOMAIN.md §8): the ledger, reports at three levels, scoping, dates, duplicates.

Every figure is computed by hand from the instants the test sets on the clock ("today" is 2026-11-22).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import defaultdict
from datetime import timedelta
from typing import Any

import pytest
from gql import GraphQLRequest

from domain.model.ids import person_id_of
from domain.model.jobs import JobKind
from domain.rules.catalogue import CATALOGUE
from domain.store.jobs import Job
from tests.api.billing import (
    CREATE_REPORT,
    CUSTOMER_PACKAGES,
    DELETE_REPORT,
    REPORT,
    REPORTS,
    Tenancy,
    at,
    rows,
    tenancy,
)
from tests.api.live import serving, subscribers_reach, ws_client
from tests.api.provisioning import DELETE, UPDATE, refused
from tests.conftest import NOW, Demo, Gateway


@pytest.fixture
async def t(gateway: Gateway) -> Tenancy:
    return await tenancy(gateway)


def by_package(report_rows: list[dict[str, Any]]) -> dict[str, float]:
    totals: dict[str, float] = defaultdict(float)
    for row in report_rows:
        totals[row["serviceName"]] += row["quantity"]
    return {k: round(v, 6) for k, v in totals.items()}


async def test_r_bil_1_a_day_counts_the_fraction_of_it_the_package_was_assigned(t: Tenancy) -> None:
    customer = await t.customer(t.partner, "FRACTION-1", at(1))
    subscriber = await t.subscriber(t.partner, customer["id"], "ada@fraction.example", at(1, 12))
    await t.remove(t.partner, subscriber, at(3, 6))
    token = t.token(t.partner)

    report = await t.generated(token, "2026-11-01", "2026-11-03", "USER")
    [row] = rows(report)
    # 12:00 on day 1 to 06:00 on day 3: 0.5 + 1 + 0.25.
    assert row["quantity"] == 1.75
    assert (row["consumptionStartDate"], row["consumptionEndDate"]) == ("2026-11-01", "2026-11-03")
    # R-BIL-4 (amended 2026-12): `userId` is the subscriber's person id.
    assert (row["subscriberId"], row["userId"], row["serviceName"]) == (subscriber, person_id_of(subscriber),
                                                                       "webex_calling")
    # A period's quantity is the sum of its days: each day on its own.
    for day, expected in (("2026-11-01", 0.5), ("2026-11-02", 1.0), ("2026-11-03", 0.25)):
        [single] = rows(await t.generated(token, day, day, "USER"))
        assert (single["quantity"], single["consumptionStartDate"], single["consumptionEndDate"]) == (
            expected, day, day)
    # Nothing after the removal.
    assert rows(await t.generated(token, "2026-11-04", "2026-11-10", "USER")) == []


async def test_r_bil_1_a_mid_day_package_change_splits_the_day_between_two_packages(t: Tenancy) -> None:
    customer = await t.customer(t.partner, "SPLIT-1", at(1))
    subscriber = await t.subscriber(t.partner, customer["id"], "bo@split.example", at(1))
    await t.change_package(t.partner, subscriber, "webex_suite", at(2, 18))

    report = await t.generated(t.token(t.partner), "2026-11-01", "2026-11-03", "USER")
    got = {r["serviceName"]: (r["quantity"], r["consumptionStartDate"], r["consumptionEndDate"]) for r in rows(report)}
    # Day 1 whole and 18 hours of day 2 on calling; the last 6 hours of day 2 and day 3 on the suite.
    assert got == {"webex_calling": (1.75, "2026-11-01", "2026-11-02"),
                   "webex_suite": (1.25, "2026-11-02", "2026-11-03")}


async def test_r_bil_1_usage_before_a_delayed_billing_start_is_not_billed(t: Tenancy) -> None:
    customer = await t.customer(t.partner, "DELAYED-1", at(1), billingStartDate="2026-11-03")
    await t.subscriber(t.partner, customer["id"], "cy@delayed.example", at(1, 6))
    [row] = rows(await t.generated(t.token(t.partner), "2026-11-01", "2026-11-04", "CUSTOMER"))
    # Assigned from 06:00 on day 1, billed from day 3: days 3 and 4.
    assert (row["quantity"], row["consumptionStartDate"], row["consumptionEndDate"]) == (2.0, "2026-11-03",
                                                                                       "2026-11-04")


async def test_r_bil_1_moving_the_billing_start_and_the_external_id_later_changes_what_reports_show(
        t: Tenancy) -> None:
    customer = await t.customer(t.partner, "MOVED-1", at(1), billingStartDate="2026-11-06")
    await t.subscriber(t.partner, customer["id"], "hu@moved.example", at(1))
    # Before its billing has started, the customer's billing start moves earlier and it gets a new external id.
    t.gateway.clock.set(at(2))
    result = await t.gateway.execute(t.token(t.partner), UPDATE, {"id": customer["id"], "for": None, "input": {
        "packages": CUSTOMER_PACKAGES, "externalId": "MOVED-2", "billingStartDate": "2026-11-04"}})
    assert result["updateCustomer"]["errors"] == [], result
    await t.gateway.settle()
    [row] = rows(await t.generated(t.token(t.partner), "2026-11-01", "2026-11-07", "CUSTOMER"))
    # Held since 1 Nov, billed from the new start: 4, 5, 6 and 7 Nov.
    assert (row["quantity"], row["consumptionStartDate"], row["customerExternalId"]) == (4.0, "2026-11-04",
                                                                                          "MOVED-2")


async def test_r_bil_1_usage_before_the_sub_partners_billing_start_is_not_billed(t: Tenancy) -> None:
    # Sub-partner A's billing starts on 2 November; its customer's own date is not delayed.
    customer = await t.customer(t.sub_a, "ALPHA-1", at(1))
    await t.subscriber(t.sub_a, customer["id"], "di@alpha.example", at(1))
    [row] = rows(await t.generated(t.token(t.sub_a), "2026-11-01", "2026-11-02"))
    assert (row["quantity"], row["consumptionStartDate"]) == (1.0, "2026-11-02")


async def test_r_bil_1_deleting_the_customer_ends_its_subscribers_usage(t: Tenancy) -> None:
    customer = await t.customer(t.partner, "GONE-1", at(1))
    await t.subscriber(t.partner, customer["id"], "ed@gone.example", at(1))
    await t.subscriber(t.partner, customer["id"], "flo@gone.example", at(1), package="webex_meetings")
    t.gateway.clock.set(at(2, 12))
    result = await t.gateway.execute(t.token(t.partner), DELETE, {"id": customer["id"], "for": None})
    assert result["deleteCustomer"]["errors"] == [], result
    await t.gateway.settle()
    report = await t.generated(t.token(t.partner), "2026-11-01", "2026-11-05", "CUSTOMER")
    assert by_package(rows(report)) == {"webex_calling": 1.5, "webex_meetings": 1.5}
    # The customer is gone; its rows still say who it was.
    assert {r["customerExternalId"] for r in rows(report)} == {"GONE-1"}


async def test_r_bil_4_the_three_levels_give_the_same_total_per_package(t: Tenancy) -> None:
    first = await t.customer(t.partner, "LEVELS-1", at(1))
    second = await t.customer(t.partner, "LEVELS-2", at(1))
    a = await t.subscriber(t.partner, first["id"], "a@levels.example", at(1, 8))
    await t.subscriber(t.partner, first["id"], "b@levels.example", at(2), package="webex_meetings")
    c = await t.subscriber(t.partner, second["id"], "c@levels.example", at(3, 12))
    await t.change_package(t.partner, a, "webex_suite", at(4))
    await t.remove(t.partner, c, at(5, 18))
    token = t.token(t.partner)
    levels = {kind: rows(await t.generated(token, "2026-11-01", "2026-11-07", kind))
              for kind in ("PARTNER", "CUSTOMER", "USER")}

    # a: calling 1 Nov 08:00 → 4 Nov (2.666667), suite 4 → 8 Nov (4); b: meetings 2 → 8 Nov (6);
    # c: calling 3 Nov 12:00 → 5 Nov 18:00 (2.25).
    expected = {"webex_calling": round(16 / 24 + 2 + 2.25, 6), "webex_suite": 4.0, "webex_meetings": 6.0}
    for kind, level_rows in levels.items():
        assert by_package(level_rows) == pytest.approx(expected, abs=2e-6), kind
    assert len(levels["PARTNER"]) == 3 and len(levels["CUSTOMER"]) == 4 and len(levels["USER"]) == 4
    # Report order: partner, package, customer, user.
    keys = [(r["partnerName"], r["serviceName"], r["customerExternalId"], r["userId"]) for r in levels["USER"]]
    assert keys == sorted(keys)
    # R-BIL-4 columns: the catalogue's SKU and description; the partner; customer and user columns by level.
    for row in levels["USER"]:
        spec = CATALOGUE[row["serviceName"]]
        assert (row["sku"], row["description"]) == (spec.sku, spec.description)
        assert (row["partnerName"], row["partnerOrgId"], row["subscriptionId"]) == (
            "Ledger Telecom", t.partner, "Sub-LEDGER-1")
        assert row["customerExternalId"] in {"LEVELS-1", "LEVELS-2"} and row["customerOrgId"]
        assert row["subscriberId"] and row["userId"] == person_id_of(row["subscriberId"])
    customer_row = next(r for r in levels["CUSTOMER"] if r["customerExternalId"] == "LEVELS-1")
    located = await t.gateway.execute(token, "query($id: ID!) { customer(id: $id) { orgId locations { id } } }",
                                      {"id": first["id"]})
    assert customer_row["customerOrgId"] == located["customer"]["orgId"]
    assert customer_row["locationId"] == located["customer"]["locations"][0]["id"]
    assert customer_row["subscriberId"] is None and customer_row["userId"] is None
    assert all(r["customerOrgId"] is None and r["subscriberId"] is None for r in levels["PARTNER"])


async def test_r_bil_2_sub_partner_reports_hold_only_their_customers(t: Tenancy) -> None:
    own = await t.customer(t.partner, "OWN-1", at(3))
    alpha = await t.customer(t.sub_a, "ALPHA-2", at(3))
    beta = await t.customer(t.sub_b, "BETA-1", at(3))
    await t.subscriber(t.partner, own["id"], "own@own.example", at(3))
    await t.subscriber(t.sub_a, alpha["id"], "al@alpha.example", at(3))
    await t.subscriber(t.sub_a, alpha["id"], "am@alpha.example", at(4), package="webex_meetings")
    await t.subscriber(t.sub_b, beta["id"], "be@beta.example", at(3, 12))

    for_alpha = await t.generated(t.token(t.partner), "2026-11-01", "2026-11-05", "USER", t.sub_a)
    assert {r["customerExternalId"] for r in rows(for_alpha)} == {"ALPHA-2"}
    assert {r["partnerOrgId"] for r in rows(for_alpha)} == {t.sub_a}
    assert for_alpha["subPartner"]["id"] == t.sub_a
    assert by_package(rows(for_alpha)) == {"webex_calling": 3.0, "webex_meetings": 2.0}
    # It is the sub-partner's report as much as the parent's (R-BIL-3): A sees it and cannot make a second one.
    seen = (await t.gateway.execute(t.token(t.sub_a), REPORT, {"id": for_alpha["id"]}))["billingReport"]
    assert rows(seen) == rows(for_alpha)
    errors = await refused(t.gateway, t.token(t.sub_a), CREATE_REPORT, {"input": {
        "billingStartDate": "2026-11-01", "billingEndDate": "2026-11-05", "type": "USER"}})
    assert [e["code"] for e in errors] == ["REPORT_EXISTS"]
    # Generated again by A itself, the report is the same, row for row.
    await t.gateway.execute(t.token(t.sub_a), DELETE_REPORT, {"id": for_alpha["id"]})
    alpha_own = await t.generated(t.token(t.sub_a), "2026-11-01", "2026-11-05", "USER")
    assert alpha_own["id"] != for_alpha["id"] and alpha_own["subPartner"]["id"] == t.sub_a
    assert rows(alpha_own) == rows(for_alpha)
    for_alpha_customers = await t.generated(t.token(t.partner), "2026-11-01", "2026-11-05", "CUSTOMER", t.sub_a)
    # The parent's full report covers every org, each org's usage on its own rows.
    everything = await t.generated(t.token(t.partner), "2026-11-01", "2026-11-05", "PARTNER")
    got = {(r["partnerOrgId"], r["serviceName"]): r["quantity"] for r in rows(everything)}
    assert got == {(t.partner, "webex_calling"): 3.0, (t.sub_a, "webex_calling"): 3.0,
                   (t.sub_a, "webex_meetings"): 2.0, (t.sub_b, "webex_calling"): 2.5}
    assert {r["partnerName"] for r in rows(everything)} == {"Ledger Telecom", "Alpha Resale", "Beta Resale"}

    # A sub-partner sees its own reports only, and cannot name its sibling.
    assert (await t.gateway.execute(t.token(t.sub_b), REPORT, {"id": alpha_own["id"]}))["billingReport"] is None
    errors = await refused(t.gateway, t.token(t.sub_b), CREATE_REPORT, {"input": {
        "billingStartDate": "2026-11-01", "billingEndDate": "2026-11-05", "subPartnerOrgId": t.sub_a}})
    assert [(e["code"], e["field"]) for e in errors] == [("NOT_FOUND", ["input", "subPartnerOrgId"])]
    errors = await refused(t.gateway, t.token(t.sub_b), DELETE_REPORT, {"id": alpha_own["id"]})
    assert [(e["code"], e["field"]) for e in errors] == [("NOT_FOUND", ["id"])]
    sibling = await t.gateway.execute(t.token(t.sub_b), REPORTS, {"filter": {"subPartnerOrgId": t.sub_a}})
    assert sibling["billingReports"]["edges"] == []
    listed = await t.gateway.execute(t.token(t.sub_a), REPORTS, {})
    assert {e["node"]["id"] for e in listed["billingReports"]["edges"]} == {alpha_own["id"],
                                                                            for_alpha_customers["id"]}
    # The parent lists its own reports, or one sub-partner's when it names it (R-BIL-6).
    mine = await t.gateway.execute(t.token(t.partner), REPORTS, {})
    assert [e["node"]["id"] for e in mine["billingReports"]["edges"]] == [everything["id"]]
    named = await t.gateway.execute(t.token(t.partner), REPORTS, {"filter": {"subPartnerOrgId": t.sub_a}})
    assert named["billingReports"]["totalCount"] == 2


async def test_r_bil_2_periods_outside_the_rules_are_refused_with_report_date_range(t: Tenancy) -> None:
    token = t.token(t.partner)
    t.gateway.clock.set(NOW)
    cases = {
        ("2026-11-05", "2026-11-01"): ["input", "billingStartDate"],  # starts after it ends
        ("2026-11-01", "2026-11-22"): ["input", "billingEndDate"],  # ends today
        ("2026-11-01", "2027-01-31"): ["input", "billingEndDate"],  # ends in the future
        ("2021-11-21", "2021-12-31"): ["input", "billingStartDate"],  # more than five years ago
    }
    for (start, end), field in cases.items():
        errors = await refused(t.gateway, token, CREATE_REPORT, {"input": {
            "billingStartDate": start, "billingEndDate": end}})
        assert [(e["code"], e["field"]) for e in errors] == [("REPORT_DATE_RANGE", field)], (start, end)
    # The edges themselves are allowed: exactly five years back, ending yesterday.
    report = await t.create(token, "2021-11-22", "2026-11-21")
    assert report["status"] == "IN_PROGRESS"
    # A date that is not a date is refused by the schema, before anything runs.
    errors = await t.gateway.errors(token, CREATE_REPORT, {"input": {
        "billingStartDate": "2026-02-30", "billingEndDate": "2026-03-01"}})
    assert "billingStartDate" in errors[0]["message"]


async def test_r_bil_3_equal_reports_in_progress_are_shared_completed_block_failed_do_not(t: Tenancy) -> None:
    token = t.token(t.partner)
    first = await t.create(token, "2026-11-01", "2026-11-10", "CUSTOMER")
    assert (first["status"], first["downloadUrl"], first["rowCount"]) == ("IN_PROGRESS", None, 0)
    async with t.gateway.writes_nothing("an equal report asked for again"):
        again = await t.create(token, "2026-11-01", "2026-11-10", "CUSTOMER")
    assert again["id"] == first["id"]  # returned as is, nothing written
    other_type = await t.create(token, "2026-11-01", "2026-11-10", "USER")
    assert other_type["id"] != first["id"]
    await t.gateway.settle()

    errors = await refused(t.gateway, token, CREATE_REPORT, {"input": {
        "billingStartDate": "2026-11-01", "billingEndDate": "2026-11-10", "type": "CUSTOMER"}})
    assert [e["code"] for e in errors] == ["REPORT_EXISTS"]
    deleted = await t.gateway.execute(token, DELETE_REPORT, {"id": first["id"]})
    assert deleted["deleteBillingReport"] == {"deletedId": first["id"], "errors": []}
    assert (await t.gateway.execute(token, REPORT, {"id": first["id"]}))["billingReport"] is None
    regenerated = await t.create(token, "2026-11-01", "2026-11-10", "CUSTOMER")
    assert regenerated["id"] != first["id"] and regenerated["status"] == "IN_PROGRESS"

    # A report whose generation keeps failing is given up on: it ends FAILED, with the reason, and blocks nothing.
    worker = t.gateway.runtime.worker
    assert worker is not None

    async def broken(job: Job) -> None:
        raise RuntimeError("the database went away")

    original = dict(worker.handlers)
    worker.handlers = {**original, JobKind.GENERATE_REPORT: broken}
    for _ in range(worker.max_attempts):
        await t.gateway.settle()
        t.gateway.clock.advance(timedelta(minutes=2))
    worker.handlers = original
    failed = (await t.gateway.execute(token, REPORT, {"id": regenerated["id"]}))["billingReport"]
    assert failed["status"] == "FAILED" and failed["downloadUrl"] is None
    assert failed["errors"][0]["code"] == "INTERNAL" and "went away" in failed["errors"][0]["message"]
    retried = await t.create(token, "2026-11-01", "2026-11-10", "CUSTOMER")
    assert retried["id"] not in (regenerated["id"], first["id"])


async def test_r_bil_3_report_status_changes_are_events_on_the_provisioning_stream(t: Tenancy) -> None:
    token = t.token(t.partner)
    report = await t.generated(token, "2026-11-01", "2026-11-02")
    await t.gateway.execute(token, DELETE_REPORT, {"id": report["id"]})
    query = """{ provisioningEvents(filter: {entityTypes: [BILLING_REPORT]}) { edges { node {
        entityType entityId ownerOrgId fromStatus toStatus version } } } }"""
    events = [e["node"] for e in (await t.gateway.execute(token, query))["provisioningEvents"]["edges"]]
    assert [(e["fromStatus"], e["toStatus"], e["version"]) for e in events] == [
        (None, "IN_PROGRESS", 1), ("IN_PROGRESS", "COMPLETED", 2), ("COMPLETED", "deleted", 3)]
    assert {(e["entityType"], e["entityId"], e["ownerOrgId"]) for e in events} == {
        ("BILLING_REPORT", report["id"], t.partner)}
    # A sub-partner does not see its parent's report events.
    theirs = (await t.gateway.execute(t.token(t.sub_a), query))["provisioningEvents"]["edges"]
    assert theirs == []


async def test_r_bil_6_reports_are_listed_with_exact_filters_and_orders(t: Tenancy) -> None:
    token = t.token(t.partner)
    # A minute apart: ids are random (R-ORG-6), so only the creation time orders CREATED_DESC.
    made = [await t.create(token, start, end, kind, when=NOW + timedelta(minutes=i)) for i, (start, end, kind) in
            enumerate((("2026-10-01", "2026-10-31", "PARTNER"), ("2026-09-01", "2026-11-15", "USER"),
                       ("2026-11-01", "2026-11-10", "CUSTOMER")))]
    await t.gateway.settle()
    failed_one = await t.create(token, "2026-08-01", "2026-08-31", "PARTNER",  # stays IN_PROGRESS
                                when=NOW + timedelta(minutes=3))

    async def ids(**variables: Any) -> list[str]:
        data = await t.gateway.execute(token, REPORTS, variables)
        return [e["node"]["id"] for e in data["billingReports"]["edges"]]

    assert await ids() == [failed_one["id"], made[1]["id"], made[0]["id"], made[2]["id"]]  # by start date
    assert await ids(orderBy="BILLING_END_DATE") == [failed_one["id"], made[0]["id"], made[2]["id"], made[1]["id"]]
    assert await ids(orderBy="CREATED_DESC") == [failed_one["id"], made[2]["id"], made[1]["id"], made[0]["id"]]
    assert (await ids(orderBy="STATUS"))[0:3] == sorted(r["id"] for r in made)  # COMPLETED before IN_PROGRESS
    assert await ids(filter={"type": "USER"}) == [made[1]["id"]]
    assert await ids(filter={"billingStartDate": "2026-10-01"}) == [made[0]["id"]]
    assert await ids(filter={"billingEndDate": "2026-11-10"}) == [made[2]["id"]]
    assert await ids(filter={"status": "IN_PROGRESS"}) == [failed_one["id"]]
    assert await ids(filter={"billingStartDate": "2026-10-02"}) == []  # exact, not "from"
    page = await t.gateway.execute(token, REPORTS, {"first": 2})
    rest = await t.gateway.execute(token, REPORTS, {"first": 2, "after": page["billingReports"]["pageInfo"][
        "endCursor"]})
    assert [e["node"]["id"] for e in page["billingReports"]["edges"] + rest["billingReports"]["edges"]] == \
        await ids()


async def test_billing_reports_need_the_billing_scopes(t: Tenancy) -> None:
    reader = t.gateway.token(t.partner, "full_admin", scopes=["wholesale_billing_reports_read"])
    errors = await t.gateway.errors(reader, CREATE_REPORT, {"input": {
        "billingStartDate": "2026-11-01", "billingEndDate": "2026-11-02"}})
    assert errors[0]["extensions"]["code"] == "FORBIDDEN"
    blind = t.gateway.token(t.partner, "full_admin", scopes=["wholesale_customers_read"])
    errors = await t.gateway.errors(blind, REPORTS, {})
    assert errors[0]["extensions"]["code"] == "FORBIDDEN"


async def test_the_demo_has_90_days_of_usage_to_report_on(gateway: Gateway, demo: Demo) -> None:
    repos = gateway.repos
    earliest = await repos.db.find("usage", {}, sort=[("start", 1)], limit=1)
    assert earliest and earliest[0]["start"] <= NOW - timedelta(days=90)
    token = gateway.token(demo.partner, "full_admin")
    start, end = (NOW - timedelta(days=90)).date().isoformat(), (NOW - timedelta(days=1)).date().isoformat()
    created = (await gateway.execute(token, CREATE_REPORT, {"input": {
        "billingStartDate": start, "billingEndDate": end, "type": "CUSTOMER"}}))["createBillingReport"]
    assert created["errors"] == []
    await gateway.settle()
    report = (await gateway.execute(token, REPORT, {"id": created["report"]["id"]}))["billingReport"]
    assert report["status"] == "COMPLETED" and report["rowCount"] >= 10
    assert {r["partnerOrgId"] for r in rows(report)} == {demo.partner, demo.sub_a, demo.sub_b}
    assert all(r["quantity"] > 0 for r in rows(report))


async def test_r_bil_3_a_dashboard_watches_its_report_complete_over_a_websocket(t: Tenancy) -> None:
    token = t.token(t.partner)
    subscription = """subscription { provisioningEvents(filter: {entityTypes: [BILLING_REPORT]}) {
        entityId fromStatus toStatus billingReport { status rowCount downloadUrl } } }"""
    # The stream is closed before the client: left open, the client would wait for its `complete` for 10 s.
    async with (serving(t.gateway.app) as url, ws_client(url, token) as session,
                contextlib.aclosing(session.subscribe(GraphQLRequest(subscription))) as stream):
        first = asyncio.ensure_future(anext(stream))
        await subscribers_reach(t.gateway.runtime.hub, 1)
        report = await t.create(token, "2026-11-01", "2026-11-02")
        created = (await asyncio.wait_for(first, 30))["provisioningEvents"]
        await t.gateway.settle()
        completed = (await asyncio.wait_for(anext(stream), 30))["provisioningEvents"]
    assert (created["entityId"], created["fromStatus"], created["toStatus"]) == (report["id"], None, "IN_PROGRESS")
    assert (completed["entityId"], completed["fromStatus"], completed["toStatus"]) == (
        report["id"], "IN_PROGRESS", "COMPLETED")
    # The event resolves the report as it is now, with a link to it served over plain HTTP.
    assert completed["billingReport"]["status"] == "COMPLETED"
    assert completed["billingReport"]["downloadUrl"].startswith(f"{url.replace('ws://', 'http://').split('/graphql')[0]}/")


async def test_a_report_whose_worker_died_mid_way_is_finished_by_another_without_its_partial_rows(t: Tenancy) -> None:
    customer = await t.customer(t.partner, "CRASH-1", at(1))
    await t.subscriber(t.partner, customer["id"], "gi@crash.example", at(1))
    token = t.token(t.partner)
    report = await t.create(token, "2026-11-01", "2026-11-03", "USER")
    worker = t.gateway.runtime.worker
    assert worker is not None
    # A worker claims the job, stores a partial row, and dies without finishing or releasing it.
    [job_doc] = [d for d in await worker.queue.due(10) if d["entityId"] == report["id"]]
    assert await worker.queue.claim(job_doc) is not None
    await t.gateway.repos.billing_rows.insert_many([{"_id": f"{report['id']}:1", "reportId": report["id"], "n": 1,
                                                     "partnerName": "half-written"}])
    await t.gateway.settle()
    pending = (await t.gateway.execute(token, REPORT, {"id": report["id"]}))["billingReport"]
    assert pending["status"] == "IN_PROGRESS" and rows(pending) == []  # partial rows are never shown
    # Its lease runs out; another worker takes the job over.
    t.gateway.clock.advance(timedelta(minutes=5))
    await t.gateway.settle()
    done = (await t.gateway.execute(token, REPORT, {"id": report["id"]}))["billingReport"]
    assert done["status"] == "COMPLETED" and done["rowCount"] == 1
    assert [(r["partnerName"], r["quantity"]) for r in rows(done)] == [("Ledger Telecom", 3.0)]


async def test_r_org_6_r_aud_1_a_sub_partner_sees_its_parent_partner_not_the_parent_admin_as_report_creator(
        t: Tenancy) -> None:
    """The parent sees which of its admins created a report for a sub-partner; the sub-partner sees only that its
    parent partner did (R-AUD-1: PARENT_PARTNER, no ids). Each org sees its own admins as they are."""
    from gateway.auth import issue_token
    from tests.conftest import JWT_SECRET

    def admin(org: str, subject: str) -> str:
        return issue_token(JWT_SECRET, subject=subject, org=org, roles=["full_admin"], ttl=timedelta(hours=1))

    boss, alpha = admin(t.partner, "boss@ledger.example"), admin(t.sub_a, "admin@alpha.example")
    created = await t.create(boss, "2026-11-01", "2026-11-05", "USER", t.sub_a)
    assert created["createdBy"] == "boss@ledger.example"

    async def creator(token: str, report_id: str) -> str:
        report = (await t.gateway.execute(token, REPORT, {"id": report_id}))["billingReport"]
        through_node = (await t.gateway.execute(token, "query($id: ID!) { node(id: $id) { ... on BillingReport { "
                                                       "createdBy } } }", {"id": report_id}))["node"]
        assert through_node["createdBy"] == report["createdBy"]
        return str(report["createdBy"])

    assert await creator(boss, created["id"]) == "boss@ledger.example"
    assert await creator(alpha, created["id"]) == "PARENT_PARTNER"
    # Asking for the same report while it is in progress answers with the parent's one: still no name.
    again = (await t.gateway.execute(alpha, CREATE_REPORT, {"input": {
        "billingStartDate": "2026-11-01", "billingEndDate": "2026-11-05", "type": "USER"}}))["createBillingReport"]
    assert (again["report"]["id"], again["report"]["createdBy"]) == (created["id"], "PARENT_PARTNER")
    # Nor through the report's events.
    query = """{ provisioningEvents(filter: {entityTypes: [BILLING_REPORT]}) { edges { node {
        billingReport { id createdBy } } } } }"""
    seen = [e["node"]["billingReport"] for e in (await t.gateway.execute(alpha, query))["provisioningEvents"]["edges"]]
    assert seen == [{"id": created["id"], "createdBy": "PARENT_PARTNER"}]

    own = await t.create(alpha, "2026-11-01", "2026-11-05", "CUSTOMER")
    assert own["createdBy"] == "admin@alpha.example"
    assert await creator(alpha, own["id"]) == "admin@alpha.example"
    assert await creator(boss, own["id"]) == "admin@alpha.example"
