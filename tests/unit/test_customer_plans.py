"""The customer rules as pure functions (DOMAIN.md §5): `plan_new_customer` and `plan_update` over plain values.

Each test restates a refusal or a resolved value of tests/api/test_customer_rules.py with the facts the service would
have loaded for that request: the demo partner (delayed billing on), its US template (en_US), no customer holding the
external id, today 2026-11-22. No database, no HTTP, no event loop, nothing mocked.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from domain.model.entities import Address, Customer, Location, OnboardingTemplate, PackageStatus, Partner
from domain.model.errors import ErrorCode
from domain.rules.customers import (
    CallingLocation,
    CustomerPlan,
    CustomerUpdate,
    NewCustomer,
    NewCustomerFacts,
    Parameters,
    UpdateFacts,
    UpdatePlan,
    plan_new_customer,
    plan_update,
)
from domain.rules.validation import Problems

TODAY = date(2026, 11, 22)
NOW = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)

Path = tuple[str, ...]
PROVISIONING_ID: Path = ("input", "provisioningId")
EXTERNAL_ID: Path = ("input", "externalId")
PACKAGES: Path = ("input", "packages")
ADDRESS_PATH: Path = ("input", "address")
INFO: Path = ("input", "customerInfo")
PARAMS: Path = ("input", "provisioningParameters")
LIMITS: Path = (*PARAMS, "limits")
BILLING_START: Path = ("input", "billingStartDate")
CALLING_AND_MEETINGS = ["webex_calling", "webex_meetings"]


def _partner(id: str, *, parent: Partner | None = None, delayed_billing: bool = True) -> Partner:
    return Partner.model_validate({
        "_id": id, "kind": "SUB_PARTNER" if parent else "PARTNER", "name": id, "subscriptionId": "Sub-DEMO-0001",
        "parentId": parent.id if parent else None, "provisioningState": "active" if parent else None,
        "delayedBillingEnabled": delayed_billing, "createdAt": NOW - timedelta(days=120)})


def _template(owner: Partner, country: str, language: str, auth_mode: str = "webex") -> OnboardingTemplate:
    return OnboardingTemplate.model_validate({
        "_id": f"tpl_{owner.id}_{country}", "ownerOrgId": owner.id, "rootOrgId": owner.root_id,
        "provisioningId": f"{owner.id}-{country}", "name": f"{owner.name} ({country})", "country": country,
        "language": language, "authMode": auth_mode, "restrictAdminInviteEmailsOnAttach": False,
        "disableWebexCalling1to1": False, "createdAt": NOW - timedelta(days=100)})


PARTNER = _partner("ptn_demo")
SUB_A = _partner("ptn_sub_a", parent=PARTNER)
PLAIN = _partner("ptn_plain", delayed_billing=False)  # delayed billing off (createPartner's default)
TEMPLATE_US = _template(PARTNER, "US", "en_US")
TEMPLATE_DE = _template(PARTNER, "DE", "de_DE", "partner_saml")
TEMPLATE_SUB_A = _template(SUB_A, "GB", "en_GB")
TEMPLATE_PLAIN = _template(PLAIN, "US", "en_US")

# tests.api.provisioning.customer_input, as the resolver hands it to the service.
ADDRESS = Address(address_line1="1 Main Street", city="Springfield", state_or_province="IL",
                  zip_or_postal_code="62701", country="US")
LOCATION = CallingLocation(name="HQ", address=ADDRESS, timezone="America/Chicago", language="en_US")
REQUEST = NewCustomer(
    provisioning_id=TEMPLATE_US.provisioning_id, external_id="NEW-1", packages=CALLING_AND_MEETINGS,
    address=ADDRESS, name="Springfield Plumbing NEW-1", primary_email="it@springfield.example", language="en",
    parameters=Parameters(calling_location=LOCATION, meetings_timezone="America/Chicago"))


def _request(**changes: Any) -> NewCustomer:
    return replace(REQUEST, **changes)


def _meetings_only(country: str = "US", language: str | None = None, external_id: str = "MEET-1") -> NewCustomer:
    """The API tests' `_meetings_only`: webex_meetings alone, no calling location. (The plans never read
    `provisioningId`: the template it names is a fact, passed to `_plan`.)"""
    return NewCustomer(
        provisioning_id="tpl-named-by-the-test", external_id=external_id, packages=["webex_meetings"],
        address=Address(address_line1="5 Market Square", city="Somewhere", country=country),
        name=f"Meeting House {external_id}", primary_email="it@meeting-house.example", language=language,
        parameters=Parameters(meetings_timezone="Europe/Berlin"))


def _with_params(data: NewCustomer, **params: Any) -> NewCustomer:
    return replace(data, parameters=replace(data.parameters, **params))


def _plan(data: NewCustomer, *, owner: Partner = PARTNER, template: OnboardingTemplate | None = TEMPLATE_US,
          taken: bool = False, today: date = TODAY) -> CustomerPlan:
    return plan_new_customer(owner, data, NewCustomerFacts(template=template, external_id_taken=taken, today=today))


def _day(offset: int) -> date:
    return TODAY + timedelta(days=offset)


def _customer(packages: Mapping[str, PackageStatus | tuple[PackageStatus, int]] | None = None, *,
              external_id: str = "NEW-1", meetings_timezone: str | None = "America/Chicago",
              billing_start: date | None = None, created: datetime = NOW) -> Customer:
    """A provisioned customer of the demo partner, as stored (default: calling and meetings, both provisioned)."""
    held = packages if packages is not None else dict.fromkeys(CALLING_AND_MEETINGS, PackageStatus.PROVISIONED)
    docs = []
    for name, state in held.items():
        status, limit = state if isinstance(state, tuple) else (state, None)
        docs.append({"name": name, "status": status, "limit": limit})
    return Customer.model_validate({
        "_id": "cus_1", "ownerOrgId": PARTNER.id, "rootOrgId": PARTNER.id, "templateId": TEMPLATE_US.id,
        "externalId": external_id, "name": f"Springfield Plumbing {external_id}",
        "primaryEmail": "it@springfield.example", "language": "en_US", "address": ADDRESS, "packages": docs,
        "meetingsTimezone": meetings_timezone, "billingStartDate": billing_start, "status": "provisioned",
        "version": 3, "createdAt": created, "updatedAt": created, "lastStatusChange": created})


HEADQUARTERS = Location(id="loc_hq", customer_id="cus_1", owner_org_id=PARTNER.id, root_org_id=PARTNER.id, name="HQ",
                        address=ADDRESS, timezone="America/Chicago", language="en_US", is_headquarters=True,
                        created_at=NOW).to_doc()


def _update(current: Customer, data: CustomerUpdate, *, assigned: Mapping[str, int] | None = None,
            taken: bool = False, locations: Sequence[Mapping[str, Any]] = (HEADQUARTERS,),
            today: date = TODAY) -> UpdatePlan:
    facts = UpdateFacts(assigned=assigned or {}, external_id_taken=taken, locations=locations, today=today)
    return plan_update(current, PARTNER, data, facts)


def _problems(problems: Problems) -> list[tuple[str, Path | None]]:
    """(code, field) of every problem, sorted as the API tests compare them; every problem says something."""
    assert all(p.message for p in problems.items), problems.items
    return _sorted((p.code, p.field) for p in problems.items)


def _sorted(pairs: Iterable[tuple[ErrorCode, Path | None]]) -> list[tuple[str, Path | None]]:
    return sorted(((ErrorCode(code).value, field) for code, field in pairs), key=repr)


# ---------------------------------------------------------------- R-PRE: valid requests, every problem at once


def test_r_pre_valid_request_has_no_problems_and_resolves_what_the_write_needs() -> None:
    plan = _plan(REQUEST)
    assert plan.problems.items == []
    assert plan.template == TEMPLATE_US
    assert (plan.language, plan.location_language) == ("en_US", "en_US")
    assert (plan.limits, plan.meetings_timezone) == (None, "America/Chicago")


def test_r_pre_reports_every_problem_at_once() -> None:
    data = _request(provisioning_id="00000000-0000-0000-0000-000000000000", external_id="EXT-1000",
                    address=ADDRESS.model_copy(update={"country": "XX"}), name="Dup Plumbing",
                    primary_email="it@dup.example", language="xx")
    assert _problems(_plan(data, template=None, taken=True).problems) == _sorted([
        (ErrorCode.TEMPLATE_NOT_FOUND, PROVISIONING_ID),
        (ErrorCode.DUPLICATE_EXTERNAL_ID, EXTERNAL_ID),
        (ErrorCode.INVALID_COUNTRY, (*ADDRESS_PATH, "country")),
        (ErrorCode.INVALID_LOCALE, (*INFO, "language")),
    ])


def test_r_pre_with_a_known_template_reports_locale_and_package_problems_together() -> None:
    data = _with_params(_request(external_id="EXT-1000", packages=["attendant_console", "webex_meetings"],
                                 name="Dup", primary_email="it@dup.example", language="xx"),
                        limits=[("webex_suite", 2)])
    assert _problems(_plan(data, taken=True).problems) == _sorted([
        (ErrorCode.DUPLICATE_EXTERNAL_ID, EXTERNAL_ID),
        (ErrorCode.PACKAGE_DEPENDENCY, PACKAGES),
        (ErrorCode.INVALID_LOCALE, (*INFO, "language")),
        (ErrorCode.PACKAGE_NOT_ON_CUSTOMER, LIMITS),
    ])


# ---------------------------------------------------------------- R-CUS-1 / §5: input validation


def test_r_cus_1_external_id_taken_by_the_owner_is_duplicate() -> None:
    """The refusal of the API's test_r_cus_1_refused_request_writes_nothing (which also proves no write)."""
    assert _problems(_plan(_request(external_id="EXT-1000"), taken=True).problems) == _sorted([
        (ErrorCode.DUPLICATE_EXTERNAL_ID, EXTERNAL_ID)])


@pytest.mark.parametrize(("changes", "problem"), [
    pytest.param({"name": "100% Plumbing", "primary_email": "it@plumbing.example", "language": None},
                 (ErrorCode.NAME_HAS_PERCENT, (*INFO, "name")), id="name_with_percent"),
    pytest.param({"address": ADDRESS.model_copy(update={"address_line1": "x" * 51})},
                 (ErrorCode.TOO_LONG, (*ADDRESS_PATH, "addressLine1")), id="address_line_of_51_characters"),
    pytest.param({"address": ADDRESS.model_copy(update={"country": "XX"})},
                 (ErrorCode.INVALID_COUNTRY, (*ADDRESS_PATH, "country")), id="unknown_country"),
    pytest.param({"name": "Plumbing", "primary_email": "not-an-email", "language": None},
                 (ErrorCode.INVALID_EMAIL, (*INFO, "primaryEmail")), id="bad_email"),
    pytest.param({"parameters": replace(REQUEST.parameters, meetings_timezone="Mars/Olympus")},
                 (ErrorCode.INVALID_TIMEZONE, (*PARAMS, "meetingsTimezone")), id="bad_timezone"),
])
def test_r_cus_1_input_problem_is_refused(changes: dict[str, Any], problem: tuple[ErrorCode, Path]) -> None:
    assert _problems(_plan(_request(**changes)).problems) == _sorted([problem])


def test_r_cus_1_address_line_of_50_characters_is_accepted() -> None:
    assert _plan(_request(address=ADDRESS.model_copy(update={"address_line1": "x" * 50}))).problems.items == []


def test_r_cus_1_every_input_problem_is_reported_at_once() -> None:
    data = _request(address=ADDRESS.model_copy(update={"address_line1": "y" * 51, "country": "ZZ"}),
                    name="50% Off Plumbing", primary_email="it@@plumbing", language=None,
                    parameters=Parameters(calling_location=replace(LOCATION, timezone="Nowhere/Nothing"),
                                          meetings_timezone="America/Chicago"))
    assert _problems(_plan(data).problems) == _sorted([
        (ErrorCode.TOO_LONG, (*ADDRESS_PATH, "addressLine1")),
        (ErrorCode.INVALID_COUNTRY, (*ADDRESS_PATH, "country")),
        (ErrorCode.NAME_HAS_PERCENT, (*INFO, "name")),
        (ErrorCode.INVALID_EMAIL, (*INFO, "primaryEmail")),
        (ErrorCode.INVALID_TIMEZONE, (*PARAMS, "callingLocation", "timezone")),
    ])


# ---------------------------------------------------------------- R-TPL-1: the template must be the owner's


@pytest.mark.parametrize(("owner", "template"), [
    pytest.param(PARTNER, None, id="unknown_provisioning_id"),
    pytest.param(PARTNER, TEMPLATE_SUB_A, id="parent_cannot_use_its_sub_partners_template"),
    pytest.param(SUB_A, TEMPLATE_US, id="sub_partner_cannot_use_its_parents_template"),
])
def test_r_tpl_1_template_not_found(owner: Partner, template: OnboardingTemplate | None) -> None:
    plan = _plan(_request(provisioning_id=template.provisioning_id if template else "0" * 8), owner=owner,
                 template=template)
    assert _problems(plan.problems) == _sorted([(ErrorCode.TEMPLATE_NOT_FOUND, PROVISIONING_ID)])
    assert plan.template is None


def test_r_tpl_1_foreign_template_is_answered_like_a_missing_one() -> None:
    """R-ORG-6: the same problems, to the message, whether the template is someone else's or does not exist."""
    foreign = _plan(_request(provisioning_id=TEMPLATE_SUB_A.provisioning_id), template=TEMPLATE_SUB_A)
    missing = _plan(_request(provisioning_id="00000000-0000-0000-0000-000000000000"), template=None)
    assert foreign.problems.items == missing.problems.items != []
    assert (foreign.template, foreign.language) == (missing.template, missing.language)


# ---------------------------------------------------------------- R-LOC-1 / R-LOC-3: the customer's language


@pytest.mark.parametrize(("owner", "template", "country", "language", "expected"), [
    pytest.param(PARTNER, TEMPLATE_DE, "DE", "de", "de_DE", id="language_is_combined_with_the_template_country"),
    pytest.param(SUB_A, TEMPLATE_SUB_A, "GB", "en", "en_GB",
                 id="language_combined_with_a_sub_partners_template_country"),
    pytest.param(PARTNER, TEMPLATE_US, "US", "fr", "fr_FR",
                 id="unsupported_combination_falls_back_to_the_language_default"),
    pytest.param(PARTNER, TEMPLATE_US, "US", "pt_BR", "pt_BR", id="supported_locale_is_kept"),
])
def test_r_loc_1_language_is_resolved(owner: Partner, template: OnboardingTemplate, country: str,
                                      language: str | None, expected: str) -> None:
    plan = _plan(_meetings_only(country, language), owner=owner, template=template)
    assert plan.problems.items == []
    assert plan.language == expected


def test_r_loc_1_no_language_gives_the_template_language() -> None:
    german = _plan(_meetings_only("DE", external_id="MEET-DE"), template=TEMPLATE_DE)
    american = _plan(_meetings_only(external_id="MEET-US"), template=TEMPLATE_US)
    assert german.problems.items == american.problems.items == []
    assert (german.language, american.language) == ("de_DE", "en_US")


def test_r_loc_1_unknown_language_is_invalid_locale() -> None:
    plan = _plan(_meetings_only(language="xx"))
    assert _problems(plan.problems) == _sorted([(ErrorCode.INVALID_LOCALE, (*INFO, "language"))])


def test_r_loc_3_a_hyphenated_unsupported_locale_is_still_invalid_locale() -> None:
    plan = _plan(_meetings_only(language="en-XX"))
    assert _problems(plan.problems) == _sorted([(ErrorCode.INVALID_LOCALE, (*INFO, "language"))])


def test_r_loc_3_locales_as_the_rest_api_sends_them_resolve_to_ll_cc() -> None:
    data = _request(external_id="LOC-3", language="en_us",
                    parameters=replace(REQUEST.parameters, calling_location=replace(LOCATION, language="EN-us")))
    plan = _plan(data)
    assert plan.problems.items == []
    assert (plan.language, plan.location_language) == ("en_US", "en_US")


def test_r_loc_3_calling_location_language_is_checked_too() -> None:
    data = _request(parameters=replace(REQUEST.parameters, calling_location=replace(LOCATION, language="xx")))
    assert _problems(_plan(data).problems) == _sorted([
        (ErrorCode.INVALID_LOCALE, (*PARAMS, "callingLocation", "language"))])


# ---------------------------------------------------------------- R-CUS-3: calling location


def test_r_cus_3_calling_packages_without_a_calling_location_are_refused() -> None:
    plan = _plan(_request(parameters=Parameters(meetings_timezone="America/Chicago")))
    assert _problems(plan.problems) == _sorted([(ErrorCode.REQUIRED, (*PARAMS, "callingLocation"))])


def test_r_cus_3_meetings_only_customer_needs_no_calling_location() -> None:
    plan = _plan(_meetings_only())
    assert plan.problems.items == []
    assert (plan.location_language, plan.meetings_timezone) == (None, "Europe/Berlin")


def test_r_cus_3_adding_a_calling_package_without_a_location_is_refused() -> None:
    meetings_only = _customer({"webex_meetings": PackageStatus.PROVISIONED}, meetings_timezone="Europe/Berlin")
    plan = _update(meetings_only, CustomerUpdate(packages=CALLING_AND_MEETINGS), locations=[])
    assert _problems(plan.problems) == _sorted([(ErrorCode.REQUIRED, (*PARAMS, "callingLocation"))])


def test_r_cus_3_adding_a_calling_package_to_a_customer_with_a_location_needs_none() -> None:
    plan = _update(_customer(), CustomerUpdate(packages=["webex_calling", "webex_meetings", "webex_suite"]))
    assert plan.problems.items == []


# ---------------------------------------------------------------- R-CUS-2: update replaces the package list


def test_r_cus_2_update_plan_replaces_the_whole_package_list() -> None:
    plan = _update(_customer(), CustomerUpdate(packages=["webex_calling", "webex_suite"]))
    assert plan.problems.items == []
    assert [(p.name, p.status) for p in plan.packages] == [
        ("webex_calling", PackageStatus.PROVISIONED), ("webex_suite", PackageStatus.PROVISIONING)]
    assert [(p.name, p.status) for p in plan.removed] == [("webex_meetings", PackageStatus.DELETING)]


def test_r_cus_2_removing_a_package_a_subscriber_holds_is_package_in_use() -> None:
    held = {"webex_calling": 1}
    refused = _update(_customer(), CustomerUpdate(packages=["webex_meetings"]), assigned=held)
    assert _problems(refused.problems) == _sorted([(ErrorCode.PACKAGE_IN_USE, PACKAGES)])
    # The package nobody holds can still go.
    accepted = _update(_customer(), CustomerUpdate(packages=["webex_calling"]), assigned=held)
    assert accepted.problems.items == []
    assert [(p.name, p.status) for p in accepted.removed] == [("webex_meetings", PackageStatus.DELETING)]


def test_r_cus_2_external_id_of_another_customer_of_the_same_owner_is_duplicate() -> None:
    plan = _update(_customer(external_id="NEW-2"), CustomerUpdate(packages=CALLING_AND_MEETINGS, external_id="NEW-1"),
                   taken=True)
    assert _problems(plan.problems) == _sorted([(ErrorCode.DUPLICATE_EXTERNAL_ID, EXTERNAL_ID)])


def test_r_cus_2_external_id_kept_as_it_is_is_no_duplicate() -> None:
    """Only a changed `externalId` is looked up; the customer's own (even padded) is not a conflict with itself."""
    plan = _update(_customer(external_id="NEW-1"), CustomerUpdate(packages=CALLING_AND_MEETINGS,
                                                                   external_id=" NEW-1 "), taken=True)
    assert plan.problems.items == []
    assert plan.external_id == "NEW-1"


# ---------------------------------------------------------------- R-PKG-2 / R-PKG-6: package rules


@pytest.mark.parametrize(("packages", "problems"), [
    pytest.param(["attendant_console"], [(ErrorCode.PACKAGE_DEPENDENCY, PACKAGES)],
                 id="attendant_console_needs_a_calling_package"),
    pytest.param(["common_area_calling", "attendant_console"], [(ErrorCode.PACKAGE_DEPENDENCY, PACKAGES)],
                 id="attendant_console_is_not_satisfied_by_common_area_calling"),
    pytest.param(["webex_voice", "attendant_console"], [(ErrorCode.PACKAGE_DEPENDENCY, PACKAGES)],
                 id="amended_attendant_console_with_webex_voice_is_refused"),
    pytest.param(["webex_suite", "attendant_console"], [], id="attendant_console_with_webex_suite_is_accepted"),
    pytest.param(["cisco_calling_plan", "webex_meetings"], [(ErrorCode.PACKAGE_DEPENDENCY, PACKAGES)],
                 id="cisco_calling_plan_alone_is_refused"),
    pytest.param(["common_area_calling", "cisco_calling_plan"], [],
                 id="cisco_calling_plan_with_common_area_calling_is_accepted"),
])
def test_r_pkg_2_package_combinations(packages: list[str], problems: list[tuple[ErrorCode, Path]]) -> None:
    assert _problems(_plan(_request(packages=packages)).problems) == _sorted(problems)


def test_r_pkg_2_update_leaving_an_add_on_without_its_base_is_refused() -> None:
    current = _customer(dict.fromkeys(["webex_calling", "attendant_console", "webex_meetings"],
                                      PackageStatus.PROVISIONED))
    plan = _update(current, CustomerUpdate(packages=["attendant_console", "webex_meetings"]))
    assert _problems(plan.problems) == _sorted([(ErrorCode.PACKAGE_DEPENDENCY, PACKAGES)])


@pytest.mark.parametrize(("limits", "problem"), [
    pytest.param([("webex_suite", 3)], (ErrorCode.PACKAGE_NOT_ON_CUSTOMER, LIMITS),
                 id="limit_for_a_package_not_on_the_customer"),
    pytest.param([("webex_calling", -1)], (ErrorCode.VALIDATION_FAILED, LIMITS), id="negative_limit"),
    pytest.param([("webex_calling", 2), ("webex_calling", 3)], (ErrorCode.VALIDATION_FAILED, LIMITS),
                 id="two_limits_for_one_package"),
])
def test_r_pkg_6_limit_is_refused(limits: list[tuple[str, int]], problem: tuple[ErrorCode, Path]) -> None:
    assert _problems(_plan(_with_params(REQUEST, limits=limits)).problems) == _sorted([problem])


def test_r_pkg_6_limits_are_resolved_for_the_write() -> None:
    plan = _plan(_with_params(REQUEST, limits=[("webex_calling", 5)]))
    assert plan.problems.items == []
    assert plan.limits == {"webex_calling": 5}


def test_r_pkg_6_update_changes_a_limit() -> None:
    plan = _update(_customer(), CustomerUpdate(packages=CALLING_AND_MEETINGS,
                                               parameters=Parameters(limits=[("webex_meetings", 7)])))
    assert plan.problems.items == []
    assert {p.name: p.limit for p in plan.packages} == {"webex_calling": None, "webex_meetings": 7}


def test_r_pkg_6_update_cannot_set_a_limit_below_the_current_holders() -> None:
    plan = _update(_customer(), CustomerUpdate(packages=CALLING_AND_MEETINGS,
                                               parameters=Parameters(limits=[("webex_calling", 1)])),
                   assigned={"webex_calling": 2})
    assert _problems(plan.problems) == _sorted([(ErrorCode.PACKAGE_LIMIT_REACHED, LIMITS)])


# ---------------------------------------------------------------- R-BILLSTART: delayed billing


@pytest.mark.parametrize(("offset", "problems"), [
    pytest.param(90, [], id="date_within_90_days_is_accepted"),
    pytest.param(0, [], id="today_is_accepted"),
    pytest.param(91, [(ErrorCode.BILLING_START_DATE_INVALID, BILLING_START)], id="date_91_days_ahead_is_invalid"),
    pytest.param(-1, [(ErrorCode.BILLING_START_DATE_INVALID, BILLING_START)], id="past_date_is_invalid"),
])
def test_r_billstart_window_on_provisioning(offset: int, problems: list[tuple[ErrorCode, Path]]) -> None:
    assert _problems(_plan(_request(billing_start_date=_day(offset))).problems) == _sorted(problems)


def test_r_billstart_partner_without_delayed_billing_is_refused() -> None:
    data = _request(provisioning_id=TEMPLATE_PLAIN.provisioning_id, billing_start_date=_day(10))
    refused = _plan(data, owner=PLAIN, template=TEMPLATE_PLAIN)
    assert _problems(refused.problems) == _sorted([(ErrorCode.DELAYED_BILLING_NOT_ENABLED, BILLING_START)])
    # The same request without a billing start is fine for this partner.
    assert _plan(replace(data, billing_start_date=None), owner=PLAIN, template=TEMPLATE_PLAIN).problems.items == []


@pytest.mark.parametrize(("stored", "today", "requested", "problems"), [
    pytest.param(None, 0, 10, [(ErrorCode.BILLING_ALREADY_STARTED, BILLING_START)],
                 id="change_after_billing_started_is_refused"),
    pytest.param(30, 0, 40, [], id="future_start_can_be_moved_before_it_arrives"),
    pytest.param(30, 0, 91, [(ErrorCode.BILLING_START_DATE_INVALID, BILLING_START)],
                 id="moved_start_must_stay_within_90_days_of_creation"),
    pytest.param(30, 30, 40, [(ErrorCode.BILLING_ALREADY_STARTED, BILLING_START)],
                 id="start_cannot_move_once_the_delayed_date_has_arrived"),
])
def test_r_billstart_moving_the_start_on_update(stored: int | None, today: int, requested: int,
                                                problems: list[tuple[ErrorCode, Path]]) -> None:
    """The customer was created on TODAY (with `stored` as its delayed start); the change is asked on `today`."""
    current = _customer(billing_start=_day(stored) if stored is not None else None)
    plan = _update(current, CustomerUpdate(packages=CALLING_AND_MEETINGS, billing_start_date=_day(requested)),
                   today=_day(today))
    assert _problems(plan.problems) == _sorted(problems)
    if not problems:
        assert plan.billing_start == _day(requested)

