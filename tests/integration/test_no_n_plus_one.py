"""A command-counting guard: the dashboard query costs the same number of database commands for any page size."""

from __future__ import annotations

from collections import Counter

from tests.conftest import Demo, Gateway

DASHBOARD = """query($first: Int) {
  customers(first: $first, filter: {includeSubPartners: true}) {
    totalCount
    edges { node {
      id name status language meetingsSiteLocale defaultCallInNumber { countryCode }
      owner { id name kind parent { id } }
      template { id name provisioningId }
      packages { name status limit assigned }
      locations { id name }
      subscribers(first: 5) { totalCount edges { node { id email status location { id } customer { id } } } }
    } }
  }
}"""


async def _commands_for(gateway: Gateway, token: str, first: int) -> tuple[Counter[str], int]:
    gateway.commands.commands.clear()
    gateway.commands.enabled = True
    data = await gateway.execute(token, DASHBOARD, {"first": first})
    gateway.commands.enabled = False
    return Counter(gateway.commands.commands), len(data["customers"]["edges"])


async def test_dashboard_query_issues_the_same_commands_for_5_and_30_customers(gateway: Gateway, demo: Demo) -> None:
    token = gateway.token(demo.partner)
    # The first request of a token also reads its org (then known for a while: gateway.authentication.KnownOrgs).
    await gateway.execute(token, "{ viewer { orgId } }")
    small, small_rows = await _commands_for(gateway, token, 5)
    large, large_rows = await _commands_for(gateway, token, 30)
    assert (small_rows, large_rows) == (5, 30)
    assert small == large, f"first: 5 sent {dict(small)}, first: 30 sent {dict(large)}"
    # One command per kind of data, not per row: the list, the count and a handful of batched lookups.
    assert sum(large.values()) <= 12, dict(large)
