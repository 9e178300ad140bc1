"""The subscriber rules as pure functions (DOMAIN.md §6, §7): `plan_new_subscriber`, `plan_subscriber_update` and
`conflict_problems` over plain values.

Each test restates a refusal or a resolved value of tests/api/test_subscriber_rules.py with the facts the service would
have loaded: a provisioned customer of the demo partner holding webex_calling and webex_meetings, its headquarters in
the US, and what its other subscribers hold (`Holdings`). No database, no HTTP, no event loop, nothing mocked.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import pytest

from domain.model.entities import Address, Customer, Location, Subscriber
from domain.model.errors import ErrorCode
from domain.rules.subscribers import (
    Holdings,
    NewSubscriber,
    NewSubscriberFacts,
    SubscriberPlan,
    SubscriberUpdate,
    UpdateFacts,
    conflict_problems,
    needs_locations,
    plan_new_subscriber,
    plan_subscriber_update,
)
from domain.rules.validation import Problems

NOW = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)
OWNER = "ptn_demo"

Path = tuple[str, ...]
CUSTOMER_ID: Path = ("input", "customerId")
EMAIL: Path = ("input", "email")
PACKAGE: Path = ("input", "package")
PHONE: Path = ("input", "primaryPhoneNumber")
EXTENSION: Path = ("input", "extension")
LOCATION_ID: Path = ("input", "locationId")

US_ADDRESS = Address(address_line1="1 Main Street", city="Springfield", state_or_province="IL",
                     zip_or_postal_code="62701", country="US")


def _customer(packages: Mapping[str, str | tuple[str, int]] | None = None, *, status: str = "provisioned",
              country: str = "US") -> Customer:
    """A customer of the demo partner as stored (default: `customer_input`, provisioned, no limits)."""
    held = packages if packages is not None else {"webex_calling": "provisioned", "webex_meetings": "provisioned"}
    docs = []
    for name, state in held.items():
        package_status, limit = state if isinstance(state, tuple) else (state, None)
        docs.append({"name": name, "status": package_status, "limit": limit})
    return Customer.model_validate({
        "_id": "cus_c1", "ownerOrgId": OWNER, "rootOrgId": OWNER, "templateId": "tpl_us", "externalId": "C1",
        "name": "Springfield Plumbing C1", "primaryEmail": "it@springfield.example", "language": "en_US",
        "address": US_ADDRESS.model_copy(update={"country": country}), "packages": docs, "status": status,
        "version": 3, "createdAt": NOW, "updatedAt": NOW, "lastStatusChange": NOW})


def _location(id: str, country: str, *, headquarters: bool = False) -> dict[str, Any]:
    """A location document as the service reads it from the store."""
    return Location(id=id, customer_id="cus_c1", owner_org_id=OWNER, root_org_id=OWNER, name=id,
                    address=US_ADDRESS.model_copy(update={"country": country}), timezone="America/Chicago",
                    language="en_US", is_headquarters=headquarters, created_at=NOW).to_doc()


CUSTOMER = _customer()
HQ = "loc_hq"
LOCATIONS = (_location(HQ, "US", headquarters=True),)


def _new(email: str = "ada@example.com", *, package: str = "webex_calling", first_name: str = "Ada",
         last_name: str = "Lovelace", phone: str | None = None, extension: str | None = "2001",
         location_id: str | None = None, customer_id: str = "cus_c1") -> NewSubscriber:
    """tests.api.provisioning.subscriber_input, as the resolver hands it to the service."""
    return NewSubscriber(customer_id=customer_id, email=email, package=package, first_name=first_name,
                         last_name=last_name, primary_phone_number=phone, extension=extension,
                         location_id=location_id)


def _plan(data: NewSubscriber, *, customer: Customer | None = CUSTOMER, email_taken: bool = False,
          holdings: Holdings | None = None, locations: Sequence[Mapping[str, object]] = LOCATIONS
          ) -> SubscriberPlan:
    """As `check_new_subscriber` asks: locations only for a calling package; nothing more for a missing customer."""
    facts = NewSubscriberFacts(email_taken, customer, locations if needs_locations(data.package) else (),
                               holdings or Holdings())
    return plan_new_subscriber(data, facts)


def _current(package: str = "webex_calling", *, is_admin: bool = False, extension: str | None = "2002",
             phone: str | None = None, location_id: str | None = HQ) -> Subscriber:
    """A provisioned subscriber of CUSTOMER, as stored."""
    return Subscriber.model_validate({
        "_id": "sub_1", "customerId": "cus_c1", "ownerOrgId": OWNER, "rootOrgId": OWNER, "email": "user@example.com",
        "firstName": "Ada", "lastName": "Lovelace", "package": package, "primaryPhoneNumber": phone,
        "extension": extension, "locationId": location_id, "isAdmin": is_admin, "status": "provisioned",
        "version": 2, "createdAt": NOW, "lastStatusChange": NOW})


def _update(current: Subscriber, data: SubscriberUpdate, *, customer: Customer = CUSTOMER,
            holdings: Holdings | None = None) -> SubscriberPlan:
    locations = LOCATIONS if needs_locations(data.package) else ()
    return plan_subscriber_update(current, customer, data, UpdateFacts(locations, holdings or Holdings()))


def _problems(problems: Problems) -> list[tuple[str, Path | None]]:
    """(code, field) of every problem, sorted as the API tests compare them; every problem says something."""
    assert all(p.message for p in problems.items), problems.items
    return _sorted((p.code, p.field) for p in problems.items)


def _sorted(pairs: Iterable[tuple[ErrorCode, Path | None]]) -> list[tuple[str, Path | None]]:
    return sorted(((ErrorCode(code).value, field) for code, field in pairs), key=repr)


def _codes(plan: SubscriberPlan) -> list[str]:
    return sorted(p.code.value for p in plan.problems.items)


# ---------------------------------------------------------------- R-PRE: valid requests, every problem at once


def test_r_pre_valid_request_has_no_problems_and_is_placed_at_headquarters() -> None:
    plan = _plan(_new())
    assert plan.problems.items == []
    assert (plan.customer, plan.location_id) == (CUSTOMER, HQ)


def test_r_pre_reports_every_problem_at_once() -> None:
    plan = _plan(_new("not-an-email", last_name=" ", extension=None))
    fields = {p.code.value: p.field for p in plan.problems.items}
    assert set(fields) == {"INVALID_EMAIL", "REQUIRED", "CALLING_NUMBER_REQUIRED"}
    assert (fields["INVALID_EMAIL"], fields["REQUIRED"]) == (EMAIL, ("input", "lastName"))


def test_r_pre_reports_conflicts_with_stored_subscribers() -> None:
    plan = _plan(_new("ADA@example.com"), email_taken=True, holdings=Holdings(extension_taken=True))
    assert _problems(plan.problems) == _sorted([(ErrorCode.EMAIL_IN_USE, EMAIL),
                                                (ErrorCode.NUMBER_IN_USE, EXTENSION)])


LIMITED = _customer({"webex_calling": ("provisioned", 1), "webex_meetings": "provisioned"})


@pytest.mark.parametrize(("package", "code"), [
    ("webex_calling", "PACKAGE_LIMIT_REACHED"), ("webex_suite", "PACKAGE_NOT_ON_CUSTOMER")])
def test_r_pre_reports_package_rules_and_limits(package: str, code: str) -> None:
    held = 1 if package == "webex_calling" else 0  # the one subscriber the customer has holds webex_calling
    plan = _plan(_new("two@example.com", package=package, extension="2002"), customer=LIMITED,
                 holdings=Holdings(held=held))
    assert _codes(plan) == [code]


# ---------------------------------------------------------------- R-SUB-1: names and numbers


@pytest.mark.parametrize(("field", "blank"), [("firstName", ""), ("lastName", "   ")])
def test_r_sub_1_blank_name_is_required(field: str, blank: str) -> None:
    names = {"first_name": blank} if field == "firstName" else {"last_name": blank}
    assert _problems(_plan(_new(**names)).problems) == _sorted([(ErrorCode.REQUIRED, ("input", field))])


@pytest.mark.parametrize(("phone", "extension"), [(None, None), ("", "  ")])
def test_r_sub_1_calling_package_needs_a_number(phone: str | None, extension: str | None) -> None:
    plan = _plan(_new(phone=phone, extension=extension))
    assert _problems(plan.problems) == _sorted([(ErrorCode.CALLING_NUMBER_REQUIRED, PACKAGE)])


@pytest.mark.parametrize(("phone", "extension"), [("+13125550101", None), (None, "2002")])
def test_r_sub_1_a_phone_number_alone_or_an_extension_alone_is_enough(phone: str | None,
                                                                      extension: str | None) -> None:
    assert _plan(_new(phone=phone, extension=extension)).problems.items == []


def test_r_sub_1_meetings_package_needs_no_number() -> None:
    plan = _plan(_new("meet@example.com", package="webex_meetings", extension=None))
    assert plan.problems.items == []
    assert plan.location_id is None


@pytest.mark.parametrize("phone", ["3125550101", "+1 312-555-0101"])
def test_r_sub_1_phone_number_must_be_e164(phone: str) -> None:
    assert _problems(_plan(_new(phone=phone)).problems) == _sorted([(ErrorCode.INVALID_PHONE_NUMBER, PHONE)])


@pytest.mark.parametrize("phone", ["+999123456789", "+15550001234", "+1312555010"])
def test_r_sub_1_amended_a_number_must_exist_in_a_real_numbering_plan(phone: str) -> None:
    """+999 is no country code, 555 no North American area code, and the last is a digit short."""
    assert _problems(_plan(_new(phone=phone)).problems) == _sorted([(ErrorCode.INVALID_PHONE_NUMBER, PHONE)])


@pytest.mark.parametrize("phone", ["+4930901820", "+14165550123"])
def test_r_sub_1_amended_a_number_must_belong_to_the_locations_country(phone: str) -> None:
    """The customer's calling location is in the US: a Berlin number, or a +1 number of Toronto, is refused."""
    plan = _plan(_new(phone=phone))
    assert _problems(plan.problems) == _sorted([(ErrorCode.INVALID_PHONE_NUMBER, PHONE)])
    assert "US" in plan.problems.items[0].message


def test_r_sub_1_amended_the_country_is_the_locations_not_the_customers() -> None:
    """A US customer with a Berlin branch: a Berlin number is right there, a Chicago number is not."""
    locations = (*LOCATIONS, _location("loc_berlin", "DE"))
    berlin = _plan(_new(phone="+4930901820", location_id="loc_berlin"), locations=locations)
    assert berlin.problems.items == []
    assert berlin.location_id == "loc_berlin"
    chicago = _plan(_new(phone="+13125550101", location_id="loc_berlin"), locations=locations)
    assert _problems(chicago.problems) == _sorted([(ErrorCode.INVALID_PHONE_NUMBER, PHONE)])
    assert "DE" in chicago.problems.items[0].message


def test_r_sub_1_amended_an_update_to_a_foreign_number_is_refused() -> None:
    current = _current(is_admin=True, phone="+13125550101", extension="2001")
    plan = _update(current, SubscriberUpdate(package="webex_calling", primary_phone_number="+4930901820"))
    assert _problems(plan.problems) == _sorted([(ErrorCode.INVALID_PHONE_NUMBER, PHONE)])


@pytest.mark.parametrize("extension", ["1", "12345678901"])
def test_r_sub_1_extension_must_be_2_to_10_digits(extension: str) -> None:
    assert _problems(_plan(_new(extension=extension)).problems) == _sorted([(ErrorCode.INVALID_EXTENSION, EXTENSION)])


@pytest.mark.parametrize("extension", ["10", "1234567890"])
def test_r_sub_1_extension_bounds_are_accepted(extension: str) -> None:
    assert _plan(_new(extension=extension)).problems.items == []


def test_r_sub_1_extension_is_unique_within_a_customer() -> None:
    plan = _plan(_new("second@example.com", extension="2001"), holdings=Holdings(extension_taken=True))
    assert _problems(plan.problems) == _sorted([(ErrorCode.NUMBER_IN_USE, EXTENSION)])


def test_r_sub_1_phone_number_is_unique_within_a_customer() -> None:
    plan = _plan(_new("second@example.com", extension="2002", phone="+13125550101"),
                 holdings=Holdings(phone_taken=True))
    assert _problems(plan.problems) == _sorted([(ErrorCode.NUMBER_IN_USE, PHONE)])


def test_r_sub_1_update_cannot_take_another_subscribers_extension() -> None:
    plan = _update(_current(extension="2002"), SubscriberUpdate(package="webex_calling", extension="2001"),
                   holdings=Holdings(extension_taken=True))
    assert _problems(plan.problems) == _sorted([(ErrorCode.NUMBER_IN_USE, EXTENSION)])


def test_r_sub_1_a_number_not_asked_for_is_never_in_use() -> None:
    """Holdings only speak of the numbers requested: without a phone number, a taken one is no conflict."""
    holdings = Holdings(phone_taken=True, extension_taken=True)
    assert conflict_problems(CUSTOMER, "webex_calling", None, None, holdings, "input") == []


# ---------------------------------------------------------------- R-SUB-2: the admin's package


@pytest.mark.parametrize(("is_admin", "packages", "change", "problems", "location"), [
    pytest.param(True, None, SubscriberUpdate(package="webex_meetings"),
                 [(ErrorCode.ADMIN_PACKAGE_DOWNGRADE, PACKAGE)], None, id="admin_package_cannot_be_downgraded"),
    pytest.param(False, None, SubscriberUpdate(package="webex_meetings"), [], None,
                 id="non_admin_may_be_downgraded"),
    pytest.param(True, ["webex_calling", "webex_meetings", "webex_suite"],
                 SubscriberUpdate(package="webex_suite", extension="2001"), [], HQ,
                 id="admin_may_move_to_a_package_losing_no_capability"),
])
def test_r_sub_2_admin_package_change(is_admin: bool, packages: list[str] | None, change: SubscriberUpdate,
                                      problems: list[tuple[ErrorCode, Path]], location: str | None) -> None:
    customer = _customer(dict.fromkeys(packages, "provisioned")) if packages else CUSTOMER
    plan = _update(_current(is_admin=is_admin, extension="2001" if is_admin else "2002"), change, customer=customer)
    assert _problems(plan.problems) == _sorted(problems)
    assert plan.location_id == location  # §6: a meetings subscriber has no calling location


# ---------------------------------------------------------------- §7: email unique across the system


def test_s7_email_in_use_is_refused() -> None:
    """Whether another subscriber anywhere has the email (any case) is the service's fact; the rule refuses it."""
    plan = _plan(_new("ada@example.com", extension="2002"), email_taken=True)
    assert _problems(plan.problems) == _sorted([(ErrorCode.EMAIL_IN_USE, EMAIL)])


# ---------------------------------------------------------------- R-PKG-7, R-PKG-6: packages


def test_r_pkg_7_package_must_be_one_of_the_customers() -> None:
    plan = _plan(_new(package="webex_suite"))
    assert _problems(plan.problems) == _sorted([(ErrorCode.PACKAGE_NOT_ON_CUSTOMER, PACKAGE)])


def test_r_pkg_7_update_to_a_package_the_customer_lacks_is_refused() -> None:
    plan = _update(_current(extension="2002"), SubscriberUpdate(package="webex_voice", extension="2002"))
    assert _problems(plan.problems) == _sorted([(ErrorCode.PACKAGE_NOT_ON_CUSTOMER, PACKAGE)])


def test_r_pkg_7_a_package_being_removed_from_the_customer_is_not_its_own() -> None:
    customer = _customer({"webex_calling": "provisioned", "webex_meetings": "deleting"})
    plan = _plan(_new(package="webex_meetings", extension=None), customer=customer)
    assert _problems(plan.problems) == _sorted([(ErrorCode.PACKAGE_NOT_ON_CUSTOMER, PACKAGE)])


def test_r_pkg_6_limit_refuses_one_subscriber_too_many() -> None:
    """The customer limits webex_calling to 1 and one subscriber holds it; its other package has no limit."""
    full = _plan(_new("two@example.com", extension="2002"), customer=LIMITED, holdings=Holdings(held=1))
    assert _problems(full.problems) == _sorted([(ErrorCode.PACKAGE_LIMIT_REACHED, PACKAGE)])
    meetings = _plan(_new("three@example.com", package="webex_meetings", extension=None), customer=LIMITED)
    assert meetings.problems.items == []


def test_r_pkg_6_update_into_a_full_package_is_refused() -> None:
    user = _current("webex_meetings", extension=None, location_id=None)
    plan = _update(user, SubscriberUpdate(package="webex_calling", extension="2002"), customer=LIMITED,
                   holdings=Holdings(held=1))
    assert _problems(plan.problems) == _sorted([(ErrorCode.PACKAGE_LIMIT_REACHED, PACKAGE)])


def test_r_pkg_6_a_subscriber_keeping_its_package_is_not_counted_again() -> None:
    """A change that keeps the package does not ask for a place under its limit (the service counts nothing)."""
    plan = _update(_current(extension="2002"), SubscriberUpdate(package="webex_calling", extension="2003"),
                   customer=LIMITED, holdings=Holdings(held=5))
    assert plan.problems.items == []


# ---------------------------------------------------------------- §6: locations


def test_s6_meetings_subscriber_with_a_location_is_refused() -> None:
    plan = _plan(_new("meet@example.com", package="webex_meetings", extension=None, location_id=HQ))
    assert _problems(plan.problems) == _sorted([(ErrorCode.LOCATION_NOT_ALLOWED, LOCATION_ID)])


@pytest.mark.parametrize("location_id", [None, HQ], ids=["implicit", "explicit"])
def test_s6_calling_subscriber_defaults_to_headquarters(location_id: str | None) -> None:
    plan = _plan(_new(location_id=location_id))
    assert plan.problems.items == []
    assert plan.location_id == HQ


def test_s6_meetings_subscriber_has_no_location() -> None:
    assert _plan(_new("meet@example.com", package="webex_meetings", extension=None)).location_id is None


@pytest.mark.parametrize("location_id", ["loc_" + "0" * 24, "loc_other_customers_hq", "loc_another_orgs"])
def test_s6_location_not_of_the_customer_is_not_found(location_id: str) -> None:
    """The service hands over the customer's own locations only; any other id is not one of them."""
    plan = _plan(_new(location_id=location_id))
    assert _problems(plan.problems) == _sorted([(ErrorCode.NOT_FOUND, LOCATION_ID)])


# ---------------------------------------------------------------- customers that take no subscribers


@pytest.mark.parametrize("status", ["error", "deleting"])
def test_r_cus_state_closed_customer_takes_no_subscribers(status: str) -> None:
    plan = _plan(_new(extension="4001"), customer=_customer(status=status))
    assert _problems(plan.problems) == _sorted([(ErrorCode.INVALID_STATE, CUSTOMER_ID)])


def test_r_org_6_a_customer_the_owner_does_not_have_is_not_found() -> None:
    """The service looks the customer up among the owner's only; absent, it is NOT_FOUND (and nothing that needs
    the customer is judged)."""
    plan = _plan(_new(extension="4001"), customer=None)
    assert _problems(plan.problems) == _sorted([(ErrorCode.NOT_FOUND, CUSTOMER_ID)])
    assert plan.customer is None


def test_r_sub_2_an_admin_moved_to_an_unknown_package_is_told_so_instead_of_failing() -> None:
    # Found when the rule became a pure function: the downgrade check looked the new package up in the catalogue
    # and raised KeyError for an admin (the GraphQL enum keeps such names out today; the rule must not rely on it).
    plan = _update(_current(is_admin=True), SubscriberUpdate(package="webex_nonexistent"))
    assert "UNKNOWN_PACKAGE" in _codes(plan) and "ADMIN_PACKAGE_DOWNGRADE" not in _codes(plan)
