"""Attaching Wholesale to an existing org (R-ATT-1…3) and restricted-by-partner settings (R-RBP-1…3), as pure rules:
the directory CSV and its users CSV, how an org's own users join,
who may be attached, when the org's admin must approve, the answer and its timer, settings."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from domain.model.entities import (
    Address,
    AttachApprovalState,
    AttachInfo,
    AuthMode,
    Customer,
    CustomerPackage,
    CustomerStatus,
    OnboardingTemplate,
    PackageStatus,
    PartnerAccess,
)
from domain.model.errors import DomainError, ErrorCode
from domain.model.status import CUSTOMER, can_move
from domain.rules.attach import (
    APPROVAL_WINDOW,
    NAME_KEPT,
    ORG_USER_SETTINGS_KEPT,
    AttachFacts,
    DirectoryOrg,
    OrgsFormatError,
    OrgUser,
    OrgUserTerms,
    SettingsUpdate,
    approval_requested,
    approval_timed_out,
    awaits_approval,
    customer_admin_problems,
    org_user_terms,
    parse_org_users_csv,
    parse_orgs_csv,
    plan_approval,
    plan_attach,
    plan_settings,
    with_org_users,
)
from domain.rules.subscribers import NewSubscriber

NOW = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)


def _org(**fields: Any) -> DirectoryOrg:
    return DirectoryOrg(**{"id": "org-1", "name": "Existing Org", **fields})


def _template(restrict_invites: bool = False) -> OnboardingTemplate:
    return OnboardingTemplate.model_validate({
        "_id": "tpl_1", "ownerOrgId": "org_p", "rootOrgId": "org_p", "provisioningId": "p-1", "name": "T",
        "country": "US", "language": "en_US", "authMode": "partner_saml",
        "restrictAdminInviteEmailsOnAttach": restrict_invites, "disableWebexCalling1to1": False,
        "createdAt": NOW - timedelta(days=10)})


def _customer(status: CustomerStatus = CustomerStatus.PENDING_CUSTOMER_APPROVAL, *,
              attach: AttachInfo | None = None, hybrid: bool = False, **fields: Any) -> Customer:
    return Customer.model_validate({
        "_id": "cus_1", "ownerOrgId": "org_p", "rootOrgId": "org_p", "templateId": "tpl_1", "externalId": "x-1",
        "orgId": "org-1", "name": "Existing Org", "primaryEmail": "a@acme.example", "language": "en_US",
        "address": Address(address_line1="1 Main St", city="Springfield", country="US"),
        "packages": [CustomerPackage(name="webex_meetings", status=PackageStatus.PROVISIONING)],
        "status": status, "attach": attach, "hybrid": hybrid, "version": 3, "createdAt": NOW, "updatedAt": NOW,
        "lastStatusChange": NOW, **fields})


def _pending(requested: datetime | None = NOW) -> AttachInfo:
    info = AttachInfo(approval_state=AttachApprovalState.PENDING, partner_access=PartnerAccess.PROVISIONING_ADMIN)
    return approval_requested(info, requested) if requested is not None else info


def _codes(plan_problems: Any) -> list[ErrorCode]:
    return [p.code for p in plan_problems.items]


# ------------------------------------------------------------------------------------------------ the directory


def test_r_att_1_the_directory_csv_reads_every_column_and_ignores_others() -> None:
    orgs = parse_orgs_csv(
        "id,name,users,verified_domains,claimed_domains,active_licence,trial,broadworks,flex,wholesale,auth_mode,x\n"
        "org-1,Big Co,250,big.example; BIG.example ;,,yes,no,0,true,,partner_oidc,ignored\n"
        "\n"
        "org-2,Small Co,,,,,,,,,,\n")
    assert orgs == [
        DirectoryOrg(id="org-1", name="Big Co", users=250, verified_domains=("big.example",), active_licence=True,
                     flex=True, auth_mode=AuthMode.PARTNER_OIDC),
        DirectoryOrg(id="org-2", name="Small Co")]


@pytest.mark.parametrize(("text", "message"), [
    ("name\nA\n", "line 1: the header has no id column"),
    ("id,name\norg-1,A\norg-1,B\n", "line 3: org org-1 is given twice"),
    ("id,name,users\norg-1,A,lots\n", "line 2: users must be a whole number"),
    ("id,name,trial\norg-1,A,maybe\n", "line 2: trial must be true or false"),
    ("id,name\n,A\n", "line 2: id is blank"),
    ("id,name,auth_mode\norg-1,A,ldap\n", "line 2: auth_mode must be one of"),
    ("", "line 1: no header row"),
])
def test_r_att_1_a_bad_directory_csv_is_refused_naming_its_line(text: str, message: str) -> None:
    with pytest.raises(OrgsFormatError) as refused:
        parse_orgs_csv(text)
    assert str(refused.value).startswith(message)


def test_r_att_1_directory_entries_survive_storage() -> None:
    org = _org(users=7, claimed_domains=("a.example",), broadworks=True, auth_mode=AuthMode.PARTNER_SAML)
    assert DirectoryOrg.from_doc(org.to_doc()) == org


# ------------------------------------------------------------------------------------------------ attach


def test_r_att_1_unknown_org_is_not_found() -> None:
    plan = plan_attach("Existing Org", _template(), AttachFacts(org=None, wholesale_elsewhere=False))
    assert [(p.code, p.field) for p in plan.problems.items] == [(ErrorCode.NOT_FOUND, ("input", "orgId"))]


@pytest.mark.parametrize("facts", [AttachFacts(_org(), wholesale_elsewhere=True),
                                   AttachFacts(_org(wholesale=True), wholesale_elsewhere=False),
                                   AttachFacts(None, wholesale_elsewhere=True)])
def test_r_att_1_an_org_already_wholesale_is_refused_whoever_holds_it(facts: AttachFacts) -> None:
    assert _codes(plan_attach("Existing Org", _template(), facts).problems) == [ErrorCode.ORG_ALREADY_WHOLESALE]


@pytest.mark.parametrize("org", [_org(trial=True), _org(broadworks=True)])
def test_r_att_1_trial_and_broadworks_orgs_are_not_attachable(org: DirectoryOrg) -> None:
    assert _codes(plan_attach("Existing Org", _template(), AttachFacts(org, False)).problems) == [
        ErrorCode.ORG_NOT_ATTACHABLE]


def test_r_att_1_the_org_keeps_its_name_with_a_warning() -> None:
    plan = plan_attach("Another Name", _template(), AttachFacts(_org(), False))
    assert not plan.problems.items and [w.code for w in plan.warnings] == [NAME_KEPT]
    assert plan_attach("Existing Org", _template(), AttachFacts(_org(), False)).warnings == []


@pytest.mark.parametrize(("org", "required"), [
    (_org(users=99), False), (_org(users=100), True), (_org(verified_domains=("a.example",)), True),
    (_org(claimed_domains=("a.example",)), True), (_org(), False)])
def test_r_att_2_approval_is_needed_from_100_users_or_any_verified_or_claimed_domain(
        org: DirectoryOrg, required: bool) -> None:
    plan = plan_attach("Existing Org", _template(), AttachFacts(org, False))
    assert plan.approval_required is required and org.approval_required is required
    assert plan.info is not None and plan.info.approval_state is (
        AttachApprovalState.PENDING if required else AttachApprovalState.NOT_REQUIRED)


def test_r_att_2_approval_needed_with_a_template_restricting_admin_invites_is_not_attachable() -> None:
    big = AttachFacts(_org(users=500), False)
    assert _codes(plan_attach("Existing Org", _template(restrict_invites=True), big).problems) == [
        ErrorCode.ORG_NOT_ATTACHABLE]
    silent = AttachFacts(_org(users=5), False)  # no approval asked: the restriction does not matter
    assert _codes(plan_attach("Existing Org", _template(restrict_invites=True), silent).problems) == []


@pytest.mark.parametrize(("active", "access"), [(True, PartnerAccess.PROVISIONING_ADMIN),
                                                 (False, PartnerAccess.FULL_ADMIN)])
def test_r_att_3_partner_access_is_full_admin_only_without_an_active_licence(
        active: bool, access: PartnerAccess) -> None:
    plan = plan_attach("Existing Org", _template(), AttachFacts(_org(active_licence=active), False))
    assert plan.info is not None and plan.info.partner_access is access


def test_r_att_2_status_machine_goes_through_pending_customer_approval() -> None:
    C = CustomerStatus
    assert can_move(CUSTOMER, C.PROVISIONING, C.PENDING_CUSTOMER_APPROVAL)
    assert can_move(CUSTOMER, C.PENDING_RPL_REVIEW, C.PENDING_CUSTOMER_APPROVAL)
    assert {t for t in C if can_move(CUSTOMER, C.PENDING_CUSTOMER_APPROVAL, t)} == {
        C.PROVISIONING, C.ERROR, C.DELETING}


def test_r_att_2_approval_is_asked_once_after_screening() -> None:
    waiting = _customer(CustomerStatus.PROVISIONING, attach=_pending(requested=None))
    assert awaits_approval(waiting)
    assert awaits_approval(waiting.model_copy(update={"status": CustomerStatus.PENDING_RPL_REVIEW}))
    assert not awaits_approval(waiting.model_copy(update={"attach": _pending()}))  # already asked
    assert not awaits_approval(_customer(CustomerStatus.PROVISIONING, attach=None))
    silent = AttachInfo(approval_state=AttachApprovalState.NOT_REQUIRED, partner_access=PartnerAccess.FULL_ADMIN)
    assert not awaits_approval(_customer(CustomerStatus.PROVISIONING, attach=silent))
    asked = approval_requested(_pending(requested=None), NOW)
    assert (asked.requested_at, asked.deadline) == (NOW, NOW + timedelta(days=10)) and APPROVAL_WINDOW.days == 10


def test_r_att_2_an_approval_gives_full_admin_access_and_a_decline_fails_the_customer() -> None:
    approved = plan_approval(_customer(attach=_pending()), True, "ops@example.com", "ok", NOW)
    assert approved.failure is None
    assert (approved.info.approval_state, approved.info.partner_access, approved.info.decided_at,
            approved.info.decided_by) == (AttachApprovalState.APPROVED, PartnerAccess.FULL_ADMIN, NOW,
                                          "ops@example.com")
    declined = plan_approval(_customer(attach=_pending()), False, "ops@example.com", None, NOW)
    assert declined.failure is not None and declined.failure.code == "ATTACH_APPROVAL_DECLINED"
    assert declined.info.approval_state is AttachApprovalState.DECLINED


@pytest.mark.parametrize("customer", [_customer(CustomerStatus.PROVISIONING, attach=_pending()),
                                      _customer(CustomerStatus.PENDING_CUSTOMER_APPROVAL, attach=None)])
def test_r_att_2_an_answer_only_counts_while_the_customer_waits_for_it(customer: Customer) -> None:
    with pytest.raises(DomainError) as refused:
        plan_approval(customer, True, "ops@example.com", None, NOW)
    assert [e.code for e in refused.value.errors] == [ErrorCode.INVALID_STATE]


def test_r_att_2_unanswered_for_10_days_times_out() -> None:
    waiting = _customer(attach=_pending(requested=NOW))
    assert approval_timed_out(waiting, NOW + timedelta(days=10) - timedelta(seconds=1)) is None
    failure = approval_timed_out(waiting, NOW + timedelta(days=10))
    assert failure is not None and failure.code == "ATTACH_APPROVAL_TIMEOUT"
    answered = waiting.model_copy(update={"status": CustomerStatus.PROVISIONING})
    assert approval_timed_out(answered, NOW + timedelta(days=11)) is None


# ------------------------------------------------------------------------------------------------ settings


def test_r_rbp_1_settings_report_only_what_changes() -> None:
    customer = _customer(CustomerStatus.PROVISIONED)
    assert plan_settings(customer, SettingsUpdate(restricted_by_partner_mode=False)) == {
        "restricted_by_partner_mode": False}
    assert plan_settings(customer, SettingsUpdate(restricted_by_partner_mode=True)) == {}
    assert plan_settings(customer, SettingsUpdate()) == {}


@pytest.mark.parametrize("status", [CustomerStatus.DELETING, CustomerStatus.ERROR])
def test_r_rbp_1_settings_cannot_change_while_deleting_or_in_error(status: CustomerStatus) -> None:
    with pytest.raises(DomainError) as refused:
        plan_settings(_customer(status), SettingsUpdate(restricted_by_partner_mode=False))
    assert [e.code for e in refused.value.errors] == [ErrorCode.INVALID_STATE]


@pytest.mark.parametrize("status", [s for s in CustomerStatus if s not in (CustomerStatus.DELETING,
                                                                          CustomerStatus.ERROR)])
def test_r_rbp_1_settings_change_in_any_other_status(status: CustomerStatus) -> None:
    assert plan_settings(_customer(status), SettingsUpdate(restricted_by_partner_mode=False))


def test_r_att_3_an_attached_customer_cannot_turn_restricted_mode_on() -> None:
    attached = _customer(CustomerStatus.PROVISIONED, attach=_pending(), restrictedByPartnerMode=False)
    with pytest.raises(DomainError) as refused:
        plan_settings(attached, SettingsUpdate(restricted_by_partner_mode=True))
    assert [(e.code, e.field) for e in refused.value.errors] == [
        (ErrorCode.SETTING_NOT_AVAILABLE, ("input", "restrictedByPartnerMode"))]
    assert plan_settings(attached, SettingsUpdate(restricted_by_partner_mode=False)) == {}


def test_r_rbp_3_only_a_hybrid_customer_may_restrict_enterprise_settings() -> None:
    with pytest.raises(DomainError) as refused:
        plan_settings(_customer(CustomerStatus.PROVISIONED), SettingsUpdate(restrict_enterprise_settings=True))
    assert [(e.code, e.field) for e in refused.value.errors] == [
        (ErrorCode.SETTING_NOT_AVAILABLE, ("input", "restrictEnterpriseSettings"))]
    hybrid = _customer(CustomerStatus.PROVISIONED, hybrid=True)
    assert plan_settings(hybrid, SettingsUpdate(restrict_enterprise_settings=True)) == {
        "restrict_enterprise_settings": True}


# ------------------------------------------------------------------------------------------------ org users (R-ATT-3)

USERS_CSV = """org_id,email,calling,number,extension
org-1,Ann@Existing.example,true,+14155550100,2100
org-1,bob@existing.example,false,,
org-1,cy@existing.example,yes,,2102
"""
ANN = OrgUser("ann@existing.example", True, "+14155550100", "2100")
ATTACHED = AttachInfo(approval_state=AttachApprovalState.NOT_REQUIRED, partner_access=PartnerAccess.FULL_ADMIN)


def _new(email: str = "ann@existing.example", package: str = "webex_calling", **fields: Any) -> NewSubscriber:
    return NewSubscriber(customer_id="cus_1", email=email, package=package, first_name="A", last_name="B", **fields)


def test_r_att_3_the_users_csv_gives_each_org_its_users() -> None:
    users = parse_org_users_csv(USERS_CSV, {"org-1", "org-2"})
    assert users == {"org-1": (ANN, OrgUser("bob@existing.example"),
                               OrgUser("cy@existing.example", True, None, "2102"))}
    orgs = with_org_users([_org(), _org(id="org-2")], users)
    assert orgs[0].user("ANN@existing.example") == ANN and orgs[1].org_users == ()
    assert DirectoryOrg.from_doc(orgs[0].to_doc()) == orgs[0]  # stored and read back whole
    assert "orgUsers" not in orgs[1].to_doc()  # an orgs file alone leaves stored users as they are


@pytest.mark.parametrize(("text", "message"), [
    ("email\nx@y.example\n", "line 1: the header has no org_id column"),
    ("org_id,email\norg-9,x@y.example\n", "line 2: org org-9 is not in the orgs file"),
    ("org_id,email\norg-1,not-an-email\n", "line 2:"),
    ("org_id,email\norg-1,x@y.example\norg-1,X@y.example\n", "line 3: x@y.example is given twice"),
    ("org_id,email,calling,number\norg-1,x@y.example,false,+14155550100\n", "line 2: only a Calling-entitled"),
    ("org_id,email,calling\norg-1,x@y.example,true\n", "line 2: a Calling-entitled user needs"),
    ("org_id,email,calling,number\norg-1,x@y.example,true,555\n", "line 2: number '555'"),
    ("org_id,email,calling,extension\norg-1,x@y.example,true,12a\n", "line 2: extension '12a'"),
])
def test_r_att_3_a_bad_users_csv_is_refused_naming_its_line(text: str, message: str) -> None:
    with pytest.raises(OrgsFormatError, match=message.replace("(", r"\(")):
        parse_org_users_csv(text, {"org-1"})


def test_r_att_3_a_calling_org_user_keeps_its_number_extension_and_location_with_a_warning() -> None:
    org = _org(org_users=(ANN,))
    given = _new("Ann@existing.example", primary_phone_number="+14155550199", extension="9", location_id="loc_2")
    terms = org_user_terms(_customer(CustomerStatus.PROVISIONED, attach=ATTACHED), org, given)
    assert terms.org_user
    assert (terms.data.primary_phone_number, terms.data.extension, terms.data.location_id) == (
        "+14155550100", "2100", None)
    assert [w.code for w in terms.warnings] == [ORG_USER_SETTINGS_KEPT]
    assert "primaryPhoneNumber, extension, locationId" in terms.warnings[0].message


def test_r_att_3_nothing_given_or_the_same_values_give_no_warning() -> None:
    customer, org = _customer(CustomerStatus.PROVISIONED, attach=ATTACHED), _org(org_users=(ANN,))
    for given in (_new(), _new(primary_phone_number="+14155550100", extension="2100")):
        terms = org_user_terms(customer, org, given)
        assert terms.org_user and terms.warnings == () and terms.data.extension == "2100"


def test_r_att_3_org_users_without_calling_or_a_calling_package_join_as_asked_without_consent() -> None:
    customer = _customer(CustomerStatus.PROVISIONED, attach=ATTACHED)
    org = _org(org_users=(ANN, OrgUser("bob@existing.example")))
    bob = _new("bob@existing.example", extension="77")
    assert org_user_terms(customer, org, bob) == OrgUserTerms(bob, org_user=True)
    meetings = _new(package="webex_meetings")
    assert org_user_terms(customer, org, meetings) == OrgUserTerms(meetings, org_user=True)


def test_r_att_3_only_an_attached_customer_and_only_the_orgs_users_get_org_user_terms() -> None:
    org = _org(org_users=(ANN,))
    created = _customer(CustomerStatus.PROVISIONED)  # not attached
    given = _new(extension="9")
    assert org_user_terms(created, org, given) == OrgUserTerms(given)
    stranger = _new("someone@else.example", extension="9")
    assert org_user_terms(_customer(CustomerStatus.PROVISIONED, attach=ATTACHED), org, stranger) == \
        OrgUserTerms(stranger)


def test_r_rbp_2_a_customer_admins_change_reaches_the_gateway_only_with_restricted_mode_off() -> None:
    off = _customer(CustomerStatus.PROVISIONED, restrictedByPartnerMode=False)
    assert customer_admin_problems(off, "boss@acme.example").items == []
    on = _customer(CustomerStatus.PROVISIONED)  # the default: on
    assert [(p.code, p.field) for p in customer_admin_problems(on, "boss@acme.example").items] == [
        (ErrorCode.SETTING_NOT_AVAILABLE, ("customerId",))]
    assert _codes(customer_admin_problems(off, "not an email")) == [ErrorCode.INVALID_EMAIL]
