"""A command-counting guard: the dashboard query costs the same number of database commands for any page size."""

from __future__ import annotations

from collections import Counter

from tests.conftest import Demo, Gateway

DASHBOARD = """query($first: Int) {
  customers(first: $first, filter: {includeSubPartners: true}, orderBy: NAME_ASC) {
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
    gateway.commands.targets.clear()
    gateway.commands.enabled = True
    data = await gateway.execute(token, DASHBOARD, {"first": first})
    gateway.commands.enabled = False
    return Counter(gateway.commands.targets), len(data["customers"]["edges"])


async def test_dashboard_query_issues_the_same_commands_for_10_and_30_customers(gateway: Gateway, demo: Demo) -> None:
    token = gateway.token(demo.partner)
    # The first request of a token also reads its org (then known for a while: gateway.authentication.KnownOrgs).
    await gateway.execute(token, "{ viewer { orgId } }")
    small, small_rows = await _commands_for(gateway, token, 10)
    large, large_rows = await _commands_for(gateway, token, 30)
    assert (small_rows, large_rows) == (10, 30)
    # By name, the small page already mixes owners (a sub-partner has a parent to look up) and holds customers
    # with subscribers (each has a location and a customer to look up): both pages need every kind of lookup.
    assert small == large, f"first: 10 sent {dict(small)}, first: 30 sent {dict(large)}"
    # One command per kind of data, not per row: the list, the count and a handful of batched lookups (one of them
    # the workspaces holding `common_area_calling`, counted in `assigned`, R-WS-1).
    assert sum(large.values()) <= 13, dict(large)
