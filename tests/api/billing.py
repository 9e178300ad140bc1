"""Shared requests and a small tenancy of the billing tests (not a test module itself).

Every test builds its own usage on a fresh partner with two sub-partners, with the clock set to the
instants the hand-computed figures name, so no demo usage blurs the numbers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from domain.rules.catalogue import CATALOGUE
from tests.api.provisioning import (
    DELETE_SUBSCRIBER,
    PROVISION_SUBSCRIBER,
    UPDATE_SUBSCRIBER,
    customer_input,
    provision,
    subscriber_input,
)
from tests.conftest import NOW, Gateway

ROW_FIELDS = """
  partnerName partnerOrgId subscriptionId serviceName sku description consumptionStartDate consumptionEndDate
  quantity customerOrgId customerExternalId locationId subscriberId userId workspaceId
"""
REPORT_FIELDS = f"""
  id billingStartDate billingEndDate type status createdBy version rowCount downloadUrl
  errors {{ code message }} subPartner {{ id name }}
  rows(first: 100) {{ totalCount pageInfo {{ hasNextPage endCursor }} edges {{ node {{ {ROW_FIELDS} }} }} }}
"""
CREATE_REPORT = f"""
mutation($input: CreateBillingReportInput!) {{
  createBillingReport(input: $input) {{ report {{ {REPORT_FIELDS} }} errors {{ code message field }} }}
}}"""
DELETE_REPORT = """
mutation($id: ID!) { deleteBillingReport(id: $id) { deletedId errors { code message field } } }
"""
REPORT = f"query($id: ID!) {{ billingReport(id: $id) {{ {REPORT_FIELDS} }} }}"
REPORTS = """
query($filter: BillingReportFilter, $orderBy: BillingReportOrder, $first: Int, $after: String) {
  billingReports(filter: $filter, orderBy: $orderBy, first: $first, after: $after) {
    totalCount pageInfo { hasNextPage endCursor }
    edges { node { id billingStartDate billingEndDate type status subPartner { id } } }
  }
}"""
CREATE_PARTNER = """
mutation($input: CreatePartnerInput!) { createPartner(input: $input) { partner { id } errors { code field } } }
"""
CREATE_SUB_PARTNER = """
mutation($parent: ID!, $input: CreateSubPartnerInput!) {
  createSubPartner(parentId: $parent, input: $input) { partner { id } errors { code field } }
}"""
CREATE_TEMPLATE = """
mutation($input: CreateOnboardingTemplateInput!) {
  createOnboardingTemplate(input: $input) { template { provisioningId } errors { code field } }
}"""
CUSTOMER_PACKAGES = ["webex_calling", "webex_suite", "webex_meetings"]


def at(day: int, hour: int = 0, minute: int = 0, month: int = 11) -> datetime:
    """An instant of November 2026 (UTC); the tests' "today" is 22 November."""
    return datetime(2026, month, day, hour, minute, tzinfo=UTC)


@dataclass
class Tenancy:
    """A partner (delayed billing on) with sub-partners A and B, each with a template; tokens for all three."""

    gateway: Gateway
    partner: str
    sub_a: str
    sub_b: str
    templates: dict[str, str]
    extensions: dict[str, str | None] = field(default_factory=dict)

    def token(self, org: str, *roles: str) -> str:
        return self.gateway.token(org, *(roles or ("full_admin",)))

    async def customer(self, org: str, external_id: str, when: datetime, **overrides: Any) -> dict[str, Any]:
        """A customer of `org`, provisioned (and settled) at `when`."""
        self.gateway.clock.set(when)
        data = customer_input(self.templates[org], external_id, packages=CUSTOMER_PACKAGES, **overrides)
        customer = await provision(self.gateway, self.token(org), data)
        await self.gateway.settle()
        return customer

    async def subscriber(self, org: str, customer_id: str, email: str, when: datetime,
                         package: str = "webex_calling") -> str:
        """A subscriber holding `package` from `when` on."""
        self.gateway.clock.set(when)
        extension = str(2000 + len(self.extensions)) if CATALOGUE[package].calling else None
        result = await self.gateway.execute(self.token(org), PROVISION_SUBSCRIBER, {"input": subscriber_input(
            customer_id, email, package=package, extension=extension)})
        assert result["provisionSubscriber"]["errors"] == [], result
        await self.gateway.settle()
        subscriber_id: str = result["provisionSubscriber"]["subscriber"]["id"]
        self.extensions[subscriber_id] = extension
        return subscriber_id

    async def change_package(self, org: str, subscriber_id: str, package: str, when: datetime) -> None:
        self.gateway.clock.set(when)
        result = await self.gateway.execute(self.token(org), UPDATE_SUBSCRIBER, {
            "id": subscriber_id, "input": {"package": package, "extension": self.extensions[subscriber_id]}})
        assert result["updateSubscriber"]["errors"] == [], result
        await self.gateway.settle()

    async def remove(self, org: str, subscriber_id: str, when: datetime) -> None:
        self.gateway.clock.set(when)
        result = await self.gateway.execute(self.token(org), DELETE_SUBSCRIBER, {"id": subscriber_id})
        assert result["deleteSubscriber"]["errors"] == [], result
        await self.gateway.settle()

    async def create(self, token: str, start: str, end: str, kind: str = "PARTNER",
                     sub_partner: str | None = None, when: datetime = NOW) -> dict[str, Any]:
        """Create a report (at the tests' "today") that must be accepted; returns it as answered."""
        self.gateway.clock.set(when)
        result = (await self.gateway.execute(token, CREATE_REPORT, {"input": {
            "billingStartDate": start, "billingEndDate": end, "type": kind, "subPartnerOrgId": sub_partner}})
        )["createBillingReport"]
        assert result["errors"] == [], result
        report: dict[str, Any] = result["report"]
        return report

    async def generated(self, token: str, start: str, end: str, kind: str = "PARTNER",
                        sub_partner: str | None = None) -> dict[str, Any]:
        """Create a report, run the background work, and read it back COMPLETED."""
        created = await self.create(token, start, end, kind, sub_partner)
        await self.gateway.settle()
        report: dict[str, Any] = (await self.gateway.execute(token, REPORT, {"id": created["id"]}))["billingReport"]
        assert report["status"] == "COMPLETED", report
        assert report["rows"]["pageInfo"]["hasNextPage"] is False  # every test report fits one page
        return report


def rows(report: dict[str, Any]) -> list[dict[str, Any]]:
    return [e["node"] for e in report["rows"]["edges"]]


async def tenancy(gateway: Gateway) -> Tenancy:
    gateway.clock.set(at(1, month=10))
    platform = gateway.token(None, "platform_admin")
    created = await gateway.execute(platform, CREATE_PARTNER, {"input": {
        "name": "Ledger Telecom", "subscriptionId": "Sub-LEDGER-1", "delayedBillingEnabled": True}})
    partner = created["createPartner"]["partner"]["id"]
    subs = []
    for name, start in (("Alpha Resale", "2026-11-02"), ("Beta Resale", None)):
        made = await gateway.execute(platform, CREATE_SUB_PARTNER, {"parent": partner, "input": {
            "name": name, "adminEmail": f"admin@{name.split()[0].lower()}.example", "billingStartDate": start}})
        assert made["createSubPartner"]["errors"] == [], made
        subs.append(made["createSubPartner"]["partner"]["id"])
    templates = {}
    for org in (partner, *subs):
        made = await gateway.execute(gateway.token(org, "full_admin"), CREATE_TEMPLATE, {"input": {
            "name": "US", "country": "US", "language": "en_US"}})
        assert made["createOnboardingTemplate"]["errors"] == [], made
        templates[org] = made["createOnboardingTemplate"]["template"]["provisioningId"]
    return Tenancy(gateway, partner, subs[0], subs[1], templates)
