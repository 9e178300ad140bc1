"""The data tables and pure checks of the resale journeys (domain/rules/resale.py) and the customer-org model."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from domain.model.customer_orgs import CustomerOrg, ManagingPartner, OrgAdmin, OrgLookup, ResaleService, SubdomainKind
from domain.model.entities import PartnerAccess
from domain.model.errors import ErrorCode
from domain.rules import resale
from domain.rules.validation import Problems

NOW = datetime(2026, 12, 1, tzinfo=UTC)


def codes(problems: Problems) -> list[ErrorCode]:
    return [p.code for p in problems.items]


def org(**fields: object) -> CustomerOrg:
    base: dict[str, object] = {"_id": "org_1", "name": "Acme", "country": "DE", "dataRegion": "EU",
                               "createdAt": NOW, "updatedAt": NOW}
    return CustomerOrg.model_validate({**base, **fields})


def test_r_tri_3_company_industry_country() -> None:
    """R-TRI-3: name ≤ 80 without '%', industry from the table in any case, a served country gives its region."""
    p = Problems()
    resale.check_company_name(p, "Acme 100%", "input", "companyName")
    resale.check_company_name(p, "x" * 81, "input", "companyName")
    resale.check_company_name(p, " ", "input", "companyName")
    assert codes(p) == [ErrorCode.NAME_HAS_PERCENT, ErrorCode.TOO_LONG, ErrorCode.REQUIRED]
    p = Problems()
    assert resale.check_industry(p, "  hEaLtHcArE ", "input", "industry") == "Healthcare"
    assert all(resale.check_industry(p, i.upper(), "i") == i for i in (
        "Education", "Finance", "Government", "Manufacturing", "Retail", "Technology", "Other"))
    assert resale.check_industry(p, "Alchemy", "input", "industry") is None
    assert codes(p) == [ErrorCode.VALIDATION_FAILED] and p.items[0].field == ("input", "industry")
    p = Problems()
    assert resale.region_of_country(p, "de", "input", "country") == "EU"
    assert resale.region_of_country(p, "US", "input", "country") == "US"
    assert resale.region_of_country(p, "JP", "input", "country") == "APJC"
    assert resale.region_of_country(p, "KP", "input", "country") is None  # a real country, not served
    assert resale.region_of_country(p, "ZZ", "input", "country") is None
    assert codes(p) == [ErrorCode.COUNTRY_NOT_SUPPORTED] * 2
    p = Problems()
    resale.check_timezone(p, "Europe/Oslo", "tz")
    resale.check_timezone(p, "Mars/Olympus", "tz")
    assert codes(p) == [ErrorCode.INVALID_TIMEZONE]


@pytest.mark.parametrize(("given", "expected"), [
    ("acme", "acme"), ("  ACME-Corp ", "acme-corp"), ("a1-" + "b" * 60, "a1-" + "b" * 60), ("x0x", "x0x"),
])
def test_r_ord_6_valid_names_are_lower_cased(given: str, expected: str) -> None:
    p = Problems()
    assert resale.check_subdomain(p, given, SubdomainKind.ENTERPRISE, "subdomain") == expected
    assert not p.items


@pytest.mark.parametrize("given", ["ab", "a" * 64, "-acme", "acme-", "ac_me", "acmé", "ac me", "acme.corp"])
def test_r_ord_6_invalid_names(given: str) -> None:
    """R-ORD-6: 3 to 63 of a-z 0-9 -, no leading or trailing '-' → SUBDOMAIN_INVALID."""
    p = Problems()
    assert resale.check_subdomain(p, given, SubdomainKind.ENTERPRISE, "input", "subdomain") is None
    assert codes(p) == [ErrorCode.SUBDOMAIN_INVALID] and p.items[0].field == ("input", "subdomain")


def test_r_ord_6_reserved_names_are_taken_in_their_namespace() -> None:
    p = Problems()
    assert resale.check_subdomain(p, "WWW", SubdomainKind.ENTERPRISE, "subdomain") is None
    assert resale.check_site(p, "webex.webex.com", "siteUrl") is None
    assert resale.check_subdomain(p, None, SubdomainKind.ENTERPRISE, "subdomain") is None
    assert codes(p) == [ErrorCode.SUBDOMAIN_TAKEN, ErrorCode.SITE_URL_TAKEN, ErrorCode.REQUIRED]
    assert resale.site_name_of_url(" Acme.WEBEX.com ") == "acme" and resale.site_url("Acme") == "acme.webex.com"
    p = Problems()
    assert resale.check_site(p, "acme.webex.com", "siteUrl") == "acme"


def test_r_tri_7_device_types_from_the_table() -> None:
    p = Problems()
    assert [resale.check_device_type(p, t, "d") for t in ("desk_phone", "HEADSET", "room_kit", "desk_pro")] == [
        "desk_phone", "headset", "room_kit", "desk_pro"]
    assert resale.check_device_type(p, "toaster", "input", "shipments", "0", "deviceType") is None
    assert codes(p) == [ErrorCode.UNKNOWN_DEVICE_TYPE]
    assert p.items[0].field == ("input", "shipments", "0", "deviceType")


def test_r_tri_4_trialable_services() -> None:
    """R-TRI-4: not bought and not trialled by another partner; a new org may trial everything; a partner's own
    trial of a service does not block it (TRIAL_EXISTS is the trials slice's)."""
    assert resale.trialable(None, "p1") == tuple(ResaleService)
    paid = org(purchasedServices=["MEETINGS"], partners=[
        {"partnerId": "p2", "access": "PROVISIONING_ADMIN", "trialServices": ["CALLING"]},
        {"partnerId": "p1", "access": "FULL_ADMIN", "trialServices": ["MESSAGING"]}])
    assert resale.trialable(paid, "p1") == (ResaleService.MESSAGING, ResaleService.DEVICES)
    assert resale.trialable(paid, "p2") == (ResaleService.CALLING, ResaleService.DEVICES)
    assert resale.not_trialable(paid, "p1", [ResaleService.CALLING, ResaleService.DEVICES, ResaleService.MEETINGS]
                                ) == (ResaleService.CALLING, ResaleService.MEETINGS)


def test_customer_org_facts() -> None:
    o = org(admins=[OrgAdmin(email="a@x.io"), OrgAdmin(email="b@x.io", full_admin=False)], users=["c@x.io"],
            meetingsSiteUrl="acme.webex.com",
            partners=[ManagingPartner(partner_id="p1", access=PartnerAccess.FULL_ADMIN),
                      ManagingPartner(partner_id="p2", access=PartnerAccess.NONE)])
    assert o.full_admin_emails == ("a@x.io",) and o.is_full_admin(" A@x.io") and not o.is_full_admin("b@x.io")
    assert o.member_emails == ("a@x.io", "b@x.io", "c@x.io")
    assert o.access_of("p1") is PartnerAccess.FULL_ADMIN and o.access_of("p3") is PartnerAccess.NONE
    assert o.managing_partner_ids == ("p1",) and o.site_name == "acme"
    assert CustomerOrg.from_doc(o.to_doc()) == o
    assert OrgLookup(org=None).is_new and OrgLookup(org=None).eligible
    assert not OrgLookup(org=o, wholesale=True).eligible and not OrgLookup(org=o, purging=True).eligible
