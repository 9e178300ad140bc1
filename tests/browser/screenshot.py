"""`python -m tests.browser.screenshot [PATH]`: the dashboard on the demo, as a partner admin sees it, into PATH
(docs/dashboard.png by default), and how long the page took from load to its first data (measured in the browser
with the Performance API; printed, never asserted).

It runs `gateway serve` as `make run` does (dev settings, the demo seeded, the job worker on) in a temporary data
dir, signs a partner admin's token with `gateway token`, opens /dashboard in the system's headless Chromium (every
request to a host other than the loopback is aborted), waits for the live feed, opens the customer that is
retrying, provisions a customer through the API (so that events arrive live) and takes the picture once its
provisioning has ended.
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
from pathlib import Path

import httpx
from playwright.async_api import Route, async_playwright, expect

from gateway.demo import DEMO_PARTNER_ID
from gateway.processes import GatewayCommand, GatewayProcess, Processes
from tests.api.provisioning import PROVISION, customer_input
from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, LOOPBACK

DEFAULT_OUT = Path(__file__).resolve().parents[2] / "docs" / "dashboard.png"
RETRYING = "DASH-RETRY-1"  # the demo customer whose provisioning is being retried: background work to show


async def _loopback_only(route: Route) -> None:
    host = route.request.url.split("/")[2].rsplit(":", 1)[0] if "://" in route.request.url else ""
    if host in LOOPBACK:
        await route.continue_()
    else:
        await route.abort("blockedbyclient")


async def provision_one(graphql_url: str, token: str) -> str:
    """A new customer, through the API as any client would; its id."""
    headers = {"authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(headers=headers, timeout=30) as http:
        templates = (await http.post(graphql_url, json={
            "query": "{ onboardingTemplates(first: 1) { edges { node { provisioningId } } } }"})).json()
        template = templates["data"]["onboardingTemplates"]["edges"][0]["node"]["provisioningId"]
        data = customer_input(template, "SHOT-1")
        data["customerInfo"]["name"] = "Northwind Dental"
        answer = (await http.post(graphql_url, json={"query": PROVISION, "variables": {"input": data}})).json()
    customer_id: str = answer["data"]["provisionCustomer"]["customer"]["id"]
    return customer_id


async def capture(out: Path) -> float:
    """Take the screenshot into `out`; returns the milliseconds from navigation to the page's first data."""
    with tempfile.TemporaryDirectory(prefix="dashboard-shot-") as tmp:
        async with Processes() as processes:
            gateway = await processes.start(GatewayProcess(Path(tmp)))
            token_command = await processes.run(GatewayCommand(Path(tmp), "token", "--org", DEMO_PARTNER_ID,
                                                               "--role", "full_admin", "--sub", "ops@partner.example"))
            token = token_command.stdout.strip().splitlines()[-1]
            async with async_playwright() as driver:
                browser = await driver.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
                try:
                    context = await browser.new_context(viewport={"width": 1400, "height": 1000})
                    await context.route("**/*", _loopback_only)
                    page = await context.new_page()
                    await page.goto(f"{gateway.url}/dashboard#token={token}")
                    await expect(page.locator("#live-status")).to_have_attribute("data-state", "live", timeout=30_000)
                    await expect(page.locator("#tiles")).to_have_attribute("data-state", "ready")
                    first_data: float = await page.evaluate(
                        "performance.getEntriesByName('dashboard-first-data')[0].startTime")
                    row = page.locator("#customers tbody tr", has_text=RETRYING)
                    await (row if await row.count() else page.locator("#customers tbody tr").first).click()
                    await expect(page.locator("#history tbody tr").first).to_be_visible()
                    new = await provision_one(gateway.graphql_url, token)
                    await expect(page.locator(f'#customers tr[data-id="{new}"]')).to_have_attribute(
                        "data-status", "provisioned", timeout=60_000)
                    out.parent.mkdir(parents=True, exist_ok=True)
                    await page.screenshot(path=str(out), full_page=True)
                finally:
                    await browser.close()
    return first_data


def main(argv: list[str]) -> int:
    out = Path(argv[0]) if argv else DEFAULT_OUT
    first_data = asyncio.run(capture(out))
    print(f"wrote {out}; page load to first data: {first_data:.0f} ms (Performance API, in the browser)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
