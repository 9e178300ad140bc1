"""The live dashboard page (/dashboard, issue #16 items 6 and 7) in a real headless Chromium.

Every test's page can reach nothing but the gateway on the loopback (tests/browser/conftest.py aborts the rest);
waits are Playwright's polling `expect`, bounded, never sleeps; nothing here asserts how long anything takes.
"""

from __future__ import annotations

from datetime import timedelta

from playwright.async_api import Page, expect

from gateway import dashboard
from gateway.demo import DEMO_RESALE_PARTNER_ID
from tests.api.provisioning import customer_input, provision, provisioning_id
from tests.browser.conftest import IsolatedPage, LiveGateway
from tests.conftest import Gateway

WAIT_MS = 20_000  # a failure bound for what the page must show
expect.set_options(timeout=WAIT_MS)

COUNTS = "{ dashboardCounts { customers customersByStatus { status count } } }"
EVENTS = """query($after: String) {
  provisioningEvents(first: 100, after: $after) { pageInfo { hasNextPage endCursor } edges { cursor } }
}"""
PAGE_ONE = "{ customers(first: 25) { totalCount edges { node { id status } } } }"


def partner(live: LiveGateway) -> str:
    return live.gateway.token(live.demo.partner, "full_admin", subject="partner-admin@example.com")


async def open_dashboard(page: Page, live: LiveGateway, token: str) -> None:
    """Open /dashboard signed in with `token` (a `#token=` fragment) and wait until its live feed is up."""
    await page.goto(f"{live.base_url}/dashboard#token={token}")
    await expect(page.locator("#live-status")).to_have_attribute("data-state", "live")


async def event_ids_after(gateway: Gateway, token: str, cursor: str) -> list[str]:
    """The ids (cursors) of every event `token` may see after `cursor`, as the API lists them."""
    ids: list[str] = []
    while True:
        page = (await gateway.execute(token, EVENTS, {"after": cursor}))["provisioningEvents"]
        ids += [edge["cursor"] for edge in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            return ids
        cursor = page["pageInfo"]["endCursor"]


async def test_page_loads_with_nothing_but_the_gateway(live_gateway: LiveGateway, isolated_page: IsolatedPage
                                                       ) -> None:
    """The page, its scripts and its data come from the gateway alone; the token leaves the address bar; the tiles
    show `dashboardCounts` and the table the first page of customers."""
    page, gateway, token = isolated_page.page, live_gateway.gateway, partner(live_gateway)
    response = await page.goto(f"{live_gateway.base_url}/dashboard#token={token}")
    assert response is not None and response.status == 200
    assert response.headers["content-security-policy"] == dashboard.CSP  # no inline script or style, no framing
    expected = (await gateway.execute(token, PAGE_ONE))["customers"]
    rows = page.locator("#customers tbody tr")
    await expect(rows).to_have_count(len(expected["edges"]))
    for edge in expected["edges"]:
        await expect(rows.locator(f"xpath=self::*[@data-id='{edge['node']['id']}']")).to_have_attribute(
            "data-status", edge["node"]["status"])
    await expect(page.locator("#customers-total")).to_have_text(f"({expected['totalCount']})")
    await expect(page.locator("#live-status")).to_have_attribute("data-state", "live")
    counts = (await gateway.execute(token, COUNTS))["dashboardCounts"]
    await expect(page.locator('[data-tile="customers"] .count')).to_have_text(str(counts["customers"]))
    for entry in counts["customersByStatus"]:
        await expect(page.locator(f'[data-tile="{entry["status"]}"] .count')).to_have_text(str(entry["count"]))
    assert "#token" not in page.url

    # A sub-partner's admin sees its own customers only (R-ORG-2), and no sub-partners switch.
    sub_token = gateway.token(live_gateway.demo.sub_a, "full_admin", subject="sub-admin@example.com")
    own = (await gateway.execute(sub_token, PAGE_ONE))["customers"]
    assert own["edges"] and {e["node"]["id"] for e in own["edges"]} != {e["node"]["id"] for e in expected["edges"]}
    sub_page = await isolated_page.context.new_page()
    await open_dashboard(sub_page, live_gateway, sub_token)
    sub_rows = sub_page.locator("#customers tbody tr")
    await expect(sub_rows).to_have_count(len(own["edges"]))
    assert sorted(await sub_rows.evaluate_all("rows => rows.map(row => row.dataset.id)")) == sorted(
        edge["node"]["id"] for edge in own["edges"])
    await expect(sub_page.locator("#filter-subs")).to_be_hidden()
    await expect(page.locator("#filter-subs")).to_be_visible()
    assert isolated_page.refused == [] and isolated_page.errors == []
    await page.locator("#customers tbody tr").first.click()
    await expect(page.locator("#history tbody tr").first).to_be_visible()
    first_data = await page.evaluate("performance.getEntriesByName('dashboard-first-data')[0].startTime")
    print(f"dashboard: page load to first data {first_data:.0f} ms (in the browser, Performance API)")


async def test_a_provisioned_customer_appears_and_becomes_provisioned_without_a_reload(
        live_gateway: LiveGateway, isolated_page: IsolatedPage) -> None:
    """R-EVT-2 on the page: the new customer's row appears, then changes in place as its provisioning ends."""
    page, gateway, token = isolated_page.page, live_gateway.gateway, partner(live_gateway)
    await open_dashboard(page, live_gateway, token)
    customer = await provision(gateway, token, customer_input(await provisioning_id(gateway, live_gateway.demo.partner),
                                                              "BROWSER-1"))
    row = page.locator(f'#customers tr[data-id="{customer["id"]}"]')
    await expect(row).to_have_attribute("data-status", "provisioning")
    await gateway.settle()
    await expect(row).to_have_attribute("data-status", "provisioned")
    await expect(page.locator("body")).to_have_attribute("data-loads", "1")  # never reloaded its data
    assert isolated_page.refused == [] and isolated_page.errors == []


async def test_a_reviewers_approval_moves_the_customer_out_of_review_on_the_partners_page(
        live_gateway: LiveGateway, isolated_page: IsolatedPage) -> None:
    """R-RPL-2: the reviewer approves on the review page; the partner's open page shows the customer leave review."""
    page, gateway, token = isolated_page.page, live_gateway.gateway, partner(live_gateway)
    waiting = (await gateway.execute(token, '{ customers(filter: {status: [pending_rpl_review]}, first: 1) '
                                            '{ edges { node { id } } } }'))["customers"]["edges"][0]["node"]["id"]
    await open_dashboard(page, live_gateway, token)
    await page.select_option("#filter-status", "pending_rpl_review")  # the table's filter
    await page.locator("#filter button[type=submit]").click()
    in_review = (await gateway.execute(token, '{ customers(filter: {status: [pending_rpl_review]}) { totalCount } }'
                                       ))["customers"]["totalCount"]
    await expect(page.locator("#customers tbody tr[data-status=pending_rpl_review]")).to_have_count(in_review)
    await expect(page.locator("#customers tbody tr")).to_have_count(in_review)
    row = page.locator(f'#customers tr[data-id="{waiting}"]')

    reviewer = await isolated_page.context.new_page()
    await reviewer.goto(f"{live_gateway.base_url}/dashboard#token={gateway.token(None, 'compliance_reviewer')}")
    await expect(reviewer.locator("#live-status")).to_have_attribute("data-state", "polling")  # no org: no feed
    await reviewer.locator(f'#review-queue tr[data-id="{waiting}"] button.approve').click()
    await expect(reviewer.locator(f'#review-queue tr[data-id="{waiting}"]')).to_have_count(0)

    await gateway.settle()  # the approval lets provisioning continue (a job), out of review
    await expect(row).not_to_have_attribute("data-status", "pending_rpl_review")
    await expect(row).to_have_attribute("data-status", "provisioned")
    assert isolated_page.refused == [] and isolated_page.errors == []


async def test_after_a_gateway_restart_the_page_resumes_and_shows_each_missed_event_once(
        live_gateway: LiveGateway, isolated_page: IsolatedPage) -> None:
    """R-EVT-2: the page shows "reconnecting" while the gateway is down, resumes after its last cursor, and each
    event (live before, missed while down, live after) is in its event log exactly once."""
    page, gateway, token = isolated_page.page, live_gateway.gateway, partner(live_gateway)
    template = await provisioning_id(gateway, live_gateway.demo.partner)
    head = (await gateway.execute(token, "{ eventsHead }"))["eventsHead"]
    await open_dashboard(page, live_gateway, token)
    before = await provision(gateway, token, customer_input(template, "BEFORE-1"))
    await expect(page.locator(f'#event-log li[data-entity-id="{before["id"]}"]')).to_have_count(1)
    missed: list[str] = []

    async def while_down(offline: Gateway) -> None:
        await expect(page.locator("#live-status")).to_have_attribute("data-state", "reconnecting")
        for n in range(2):
            missed.append((await provision(offline, token, customer_input(template, f"MISSED-{n}")))["id"])

    await live_gateway.restart(while_down)
    await expect(page.locator("#live-status")).to_have_attribute("data-state", "live")
    for customer in missed:  # replayed: in the log, and on the first page of the table without a reload
        await expect(page.locator(f'#customers tr[data-id="{customer}"]')).to_have_attribute(
            "data-status", "provisioning")
    await live_gateway.gateway.settle()  # and live again: everything in flight moves on
    expected = await event_ids_after(live_gateway.gateway, token, head)
    log = page.locator("#event-log li[data-event-id]")
    await expect(log).to_have_count(len(expected))
    shown = await log.evaluate_all("items => items.map(item => item.dataset.eventId)")
    assert sorted(shown) == sorted(expected)  # each one, once
    await expect(page.locator("body")).to_have_attribute("data-loads", "1")
    assert isolated_page.refused == []


async def test_a_cursor_too_old_to_resume_from_makes_the_page_reload_its_data(
        live_gateway: LiveGateway, isolated_page: IsolatedPage) -> None:
    """R-EVT-2 (amended): CURSOR_EXPIRED on resuming, and the page reloads its data and goes on from the head."""
    page, gateway, token = isolated_page.page, live_gateway.gateway, partner(live_gateway)
    template = await provisioning_id(gateway, live_gateway.demo.partner)
    await open_dashboard(page, live_gateway, token)
    missed: list[str] = []

    async def while_down(offline: Gateway) -> None:
        await expect(page.locator("#live-status")).to_have_attribute("data-state", "reconnecting")
        missed.append((await provision(offline, token, customer_input(template, "MISSED-OLD")))["id"])

    await live_gateway.restart(while_down, advance=timedelta(days=8))  # the missed event is now too old to replay
    await expect(page.locator("body")).to_have_attribute("data-loads", "2")
    await expect(page.locator(f'#customers tr[data-id="{missed[0]}"]')).to_have_attribute("data-status", "provisioning")
    await expect(page.locator("#event-log li.gap")).to_have_count(1)
    await expect(page.locator("#event-log li[data-event-id]")).to_have_count(0)  # not replayed: reloaded
    await expect(page.locator("#live-status")).to_have_attribute("data-state", "live")
    await live_gateway.gateway.settle()  # live from the new head
    await expect(page.locator(f'#customers tr[data-id="{missed[0]}"]')).to_have_attribute("data-status", "provisioned")
    assert isolated_page.refused == []


async def test_r_tri_11_a_sales_admin_sees_its_trials_days_remaining_and_those_expiring_soon(
        live_gateway: LiveGateway, isolated_page: IsolatedPage) -> None:
    """R-TRI-11, R-TRI-2: a resale sales admin's page is its trials (those it created), soonest end first, with the
    days remaining and the count of those ending within 7 days; it has no customers table and no event feed."""
    page, gateway = isolated_page.page, live_gateway.gateway
    token = gateway.token(DEMO_RESALE_PARTNER_ID, "sales_admin", subject="sales@fjord-cloud.example")
    expected = await gateway.execute(token, """{ trials(first: 50) { edges { node { id daysRemaining } } }
      expiring: trials(filter: { expiringWithinDays: 7 }) { totalCount } }""")
    edges = expected["trials"]["edges"]
    assert edges and expected["expiring"]["totalCount"] >= 1  # the demo's Hardanger Hotels ends in 3 days
    await page.goto(f"{live_gateway.base_url}/dashboard#token={token}")
    rows = page.locator("#trials tbody tr")
    await expect(rows).to_have_count(len(edges))
    assert await rows.evaluate_all("rows => rows.map(row => row.dataset.id)") == [e["node"]["id"] for e in edges]
    for edge in edges:
        days = edge["node"]["daysRemaining"]
        await expect(page.locator(f'#trials tr[data-id="{edge["node"]["id"]}"] .days')).to_have_text(
            "—" if days is None else str(days))
    await expect(page.locator("#trials-expiring .count")).to_have_text(str(expected["expiring"]["totalCount"]))
    await expect(page.locator("#trials tr.expiring")).to_have_count(expected["expiring"]["totalCount"])
    await expect(page.locator("#partner-view")).to_be_hidden()
    await expect(page.locator("#live-status")).to_have_attribute("data-state", "polling")
    assert isolated_page.refused == [] and isolated_page.errors == []
