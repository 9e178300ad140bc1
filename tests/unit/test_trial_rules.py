"""The trial rules as pure functions (DOMAIN.md §10): the state machine as data, start, extension, services, the
days remaining and the timers that re-check their trial when they fire."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from domain.model.changes import EntityType
from domain.model.customer_orgs import CustomerOrg, ManagingPartner, OrgAdmin, OrgLookup, ResaleService
from domain.model.entities import PartnerAccess
from domain.model.errors import DomainError, ErrorCode
from domain.model.trials import NON_TERMINAL, TERMINAL, TRIAL, ApprovalState, Trial, TrialStatus
from domain.rules.trials import (
    MeetingsSettings,
    NewTrial,
    TrialTimer,
    extension_end,
    fire_time,
    plan_extension,
    plan_services,
    plan_start,
    timer_applies,
    timers_for,
)
from domain.rules.validation import Problems

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
DAY = timedelta(days=1)
S = ResaleService
T = TrialStatus


def _trial(status: TrialStatus = T.ACTIVE, services: tuple[ResaleService, ...] = (S.MESSAGING,),
           **extra: Any) -> Trial:
    fields: dict[str, Any] = {
        "_id": "trl_1", "ownerOrgId": "ptn_r", "rootOrgId": "ptn_r", "createdBy": "sales@r", "companyName": "Acme",
        "adminEmail": "boss@acme.example", "industry": "Retail", "country": "DE", "dataRegion": "EU",
        "services": services, "status": status, "version": 3, "createdAt": NOW - 5 * DAY,
        "lastStatusChange": NOW - 5 * DAY}
    if status in (T.ACTIVE, T.EXPIRED):
        fields.update(startedAt=NOW - 5 * DAY, endsAt=NOW + 25 * DAY, graceEndsAt=NOW + 55 * DAY)
    fields.update(extra)
    return Trial.model_validate(fields)


def _org(access: PartnerAccess | None = None, purchased: tuple[ResaleService, ...] = (),
         others: tuple[ResaleService, ...] = ()) -> CustomerOrg:
    partners = []
    if access is not None:
        partners.append(ManagingPartner(partner_id="ptn_r", access=access))
    if others:
        partners.append(ManagingPartner(partner_id="ptn_other", access=PartnerAccess.PROVISIONING_ADMIN,
                                        trial_services=others))
    return CustomerOrg.model_validate({
        "_id": "org_1", "name": "Acme", "country": "DE", "dataRegion": "EU",
        "admins": [OrgAdmin(email="ceo@acme.example"), OrgAdmin(email="it@acme.example", full_admin=False)],
        "purchasedServices": purchased, "partners": partners, "createdAt": NOW, "updatedAt": NOW})


def _start(**overrides: Any) -> NewTrial:
    fields: dict[str, Any] = {"company_name": "Acme", "admin_email": "boss@acme.example", "industry": "retail",
                              "country": "de", "services": (S.MESSAGING,)}
    fields.update(overrides)
    return NewTrial(**fields)


def _codes(problems: Problems) -> dict[tuple[str, ...] | None, ErrorCode]:
    return {p.field: p.code for p in problems.items}


@pytest.mark.parametrize("current", list(TrialStatus))
@pytest.mark.parametrize("target", list(TrialStatus))
def test_r_tri_state_every_move_is_allowed_or_refused_by_the_table(current: TrialStatus,
                                                                    target: TrialStatus) -> None:
    """R-TRI-STATE: the allowed moves are exactly the spec's; any other is INVALID_STATE and changes nothing."""
    allowed = {
        (T.PENDING_PROVISIONING_DETAILS, T.ACTIVE), (T.PENDING_PROVISIONING_DETAILS, T.ERROR),
        (T.PENDING_CUSTOMER_CONSENT, T.PENDING_PROVISIONING_DETAILS), (T.PENDING_CUSTOMER_CONSENT, T.CANCELLED),
        (T.ACTIVE, T.EXPIRED), (T.EXPIRED, T.PURGED), (T.EXPIRED, T.ACTIVE),
        (T.ACTIVE, T.CONVERTED), (T.EXPIRED, T.CONVERTED),
    } | {(s, T.DELETED) for s in NON_TERMINAL}
    trial = _trial(current)
    if (current, target) in allowed:
        moved, change = trial.move(target, NOW, reason="why")
        assert (moved.status, moved.version, moved.last_status_change) == (target, 4, NOW)
        assert (change.entity_type, change.from_status, change.to_status, change.reason) == (
            EntityType.TRIAL, current.value, target.value, "why")
    else:
        with pytest.raises(DomainError) as refused:
            trial.move(target, NOW)
        assert refused.value.errors[0].code is ErrorCode.INVALID_STATE
    assert target in TRIAL[current] if (current, target) in allowed else target not in TRIAL[current]


def test_r_tri_state_terminal_states_are_hidden_and_release_the_open_key() -> None:
    assert TERMINAL == {T.CANCELLED, T.DELETED, T.CONVERTED, T.PURGED}
    assert _trial(T.ACTIVE).to_doc()["openKey"] == "ptn_r:new:boss@acme.example"
    assert _trial(T.ACTIVE, orgId="org_1").to_doc()["openKey"] == "ptn_r:org_1"
    assert "openKey" not in _trial(T.PURGED).to_doc()


def test_r_tri_state_amending_keeps_the_status_and_names_the_reason() -> None:
    changed, change = _trial().amend(reason="extended", ends_at=NOW + 30 * DAY)
    assert (change.from_status, change.to_status, change.reason, changed.version) == ("active", "active",
                                                                                      "extended", 4)


def test_r_tri_3_start_reports_every_problem_at_once() -> None:
    data = _start(company_name="50% off" + "x" * 80, admin_email="nope", industry="Mining", country="ZZ",
                  services=(), meetings=MeetingsSettings("-bad-", "Mars/Base"), shipments=1)
    codes = _codes(plan_start(data, OrgLookup(org=None), "ptn_r").problems)
    assert codes == {
        ("input", "companyName"): ErrorCode.NAME_HAS_PERCENT, ("input", "adminEmail"): ErrorCode.INVALID_EMAIL,
        ("input", "industry"): ErrorCode.VALIDATION_FAILED, ("input", "country"): ErrorCode.COUNTRY_NOT_SUPPORTED,
        ("input", "services"): ErrorCode.REQUIRED, ("input", "meetings"): ErrorCode.VALIDATION_FAILED,
        ("input", "shipments"): ErrorCode.VALIDATION_FAILED,
        ("input", "meetings", "siteUrl"): ErrorCode.SUBDOMAIN_INVALID,
        ("input", "meetings", "timezone"): ErrorCode.INVALID_TIMEZONE}


def test_r_tri_3_a_new_org_starts_provisioning_with_canonical_values() -> None:
    data = _start(services=(S.MEETINGS, S.MESSAGING, S.MEETINGS),
                  meetings=MeetingsSettings("Acme-Trial.webex.com", "Europe/Berlin"))
    plan = plan_start(data, OrgLookup(org=None), "ptn_r")
    assert not plan.problems.items
    assert (plan.industry, plan.country, plan.data_region, plan.services, plan.site_url, plan.status,
            plan.new_org) == ("Retail", "DE", "EU", (S.MEETINGS, S.MESSAGING), "acme-trial.webex.com",
                              T.PENDING_PROVISIONING_DETAILS, True)
    missing = plan_start(_start(services=(S.MEETINGS,)), OrgLookup(org=None), "ptn_r").problems
    assert _codes(missing) == {("input", "meetings"): ErrorCode.REQUIRED}


def test_r_tri_4_an_existing_org_must_be_confirmed_and_offer_the_services() -> None:
    org = _org(purchased=(S.CALLING,), others=(S.MEETINGS,))
    lookup = OrgLookup(org=org, email_is_full_admin=False)
    plan = plan_start(_start(services=(S.CALLING, S.MEETINGS, S.MESSAGING),
                             meetings=MeetingsSettings("acme", "Europe/Berlin")), lookup, "ptn_r")
    assert _codes(plan.problems) == {("input", "confirmExistingOrgId"): ErrorCode.CONFIRMATION_REQUIRED,
                                     ("input", "services"): ErrorCode.SERVICE_NOT_TRIALABLE}
    assert "CALLING, MEETINGS" in plan.problems.items[1].message
    for refused in (OrgLookup(org=org, wholesale=True), OrgLookup(org=org, purging=True)):
        assert _codes(plan_start(_start(confirm_existing_org_id="org_1"), refused, "ptn_r").problems) == {
            ("input", "adminEmail"): ErrorCode.ORG_NOT_ELIGIBLE}
    stray = plan_start(_start(confirm_existing_org_id="org_9"), OrgLookup(org=None), "ptn_r").problems
    assert _codes(stray) == {("input", "confirmExistingOrgId"): ErrorCode.VALIDATION_FAILED}


def test_r_tri_5_an_unmanaged_org_consents_first_and_all_its_full_admins_are_asked() -> None:
    """R-TRI-5 / R-TRI-STATE: consent goes to the address and, when it is not a full admin, to every full admin;
    an org the owner already manages goes straight to provisioning."""
    unmanaged = plan_start(_start(confirm_existing_org_id="org_1"), OrgLookup(org=_org()), "ptn_r")
    assert (unmanaged.status, unmanaged.consent_to, unmanaged.org_id, unmanaged.new_org) == (
        T.PENDING_CUSTOMER_CONSENT, ("boss@acme.example", "ceo@acme.example"), "org_1", False)
    admin = plan_start(_start(admin_email="CEO@acme.example", confirm_existing_org_id="org_1"),
                       OrgLookup(org=_org(), email_is_full_admin=True), "ptn_r")
    assert admin.consent_to == ("ceo@acme.example",)
    managed = plan_start(_start(confirm_existing_org_id="org_1"),
                         OrgLookup(org=_org(PartnerAccess.FULL_ADMIN), partner_access=PartnerAccess.FULL_ADMIN),
                         "ptn_r")
    assert (managed.status, managed.consent_to) == (T.PENDING_PROVISIONING_DETAILS, ())


def test_r_tri_8_extension_is_now_plus_30_days_capped_for_devices() -> None:
    trial = _trial()
    problems, end, request = plan_extension(trial, NOW + 10 * DAY)
    assert (problems.items, end, request) == ([], NOW + 40 * DAY, False)
    expired = _trial(T.EXPIRED, endsAt=NOW - DAY)
    assert plan_extension(expired, NOW)[1] == NOW + 30 * DAY  # our choice: an expired trial may be extended
    devices = _trial(services=(S.DEVICES,), startedAt=NOW - 100 * DAY, endsAt=NOW + 5 * DAY)
    problems, end, request = plan_extension(devices, NOW)
    assert (end, request) == (NOW + 20 * DAY, True)  # startedAt + 120 days
    capped = _trial(services=(S.DEVICES,), startedAt=NOW - 100 * DAY, endsAt=NOW + 20 * DAY)
    assert _codes(plan_extension(capped, NOW)[0]) == {("id",): ErrorCode.TRIAL_EXTENSION_LIMIT}
    pending = _trial(services=(S.DEVICES,), extensionRequest=ApprovalState.PENDING)
    assert _codes(plan_extension(pending, NOW)[0]) == {("id",): ErrorCode.EXTENSION_PENDING}
    problems = Problems()
    assert extension_end(_trial(T.PENDING_PROVISIONING_DETAILS), NOW, problems) is None
    assert _codes(problems) == {("id",): ErrorCode.INVALID_STATE}


def test_r_tri_9_services_replace_the_list_and_additions_pass_the_start_checks() -> None:
    trial = _trial(services=(S.MESSAGING, S.MEETINGS), orgId="org_1", meetingsSiteUrl="acme.webex.com",
                   meetingsTimezone="Europe/Berlin")
    org = _org(PartnerAccess.FULL_ADMIN, purchased=(S.CALLING,))
    plan = plan_services(trial, (S.MESSAGING, S.CALLING, S.DEVICES), None, 0, org, "ptn_r")
    assert _codes(plan.problems) == {("input", "services"): ErrorCode.SERVICE_NOT_TRIALABLE}
    plan = plan_services(trial, (S.DEVICES, S.MEETINGS), None, 1, org, "ptn_r")
    assert (plan.problems.items, plan.added, plan.removed, plan.site_url) == (
        [], (S.DEVICES,), (S.MESSAGING,), "acme.webex.com")
    refused = plan_services(_trial(T.EXPIRED), (), MeetingsSettings("x", "y"), 1, None, "ptn_r").problems
    assert _codes(refused) == {("id",): ErrorCode.INVALID_STATE, ("input", "services"): ErrorCode.REQUIRED,
                               ("input", "meetings"): ErrorCode.VALIDATION_FAILED,
                               ("input", "shipments"): ErrorCode.VALIDATION_FAILED}
    add_meetings = plan_services(_trial(), (S.MEETINGS,), None, 0, None, "ptn_r").problems
    assert _codes(add_meetings) == {("input", "meetings"): ErrorCode.REQUIRED}


def test_r_tri_11_days_remaining_is_rounded_up_while_active_then_zero() -> None:
    trial = _trial(endsAt=NOW + 7 * DAY + timedelta(hours=1))
    assert trial.days_remaining(NOW) == 8
    assert trial.days_remaining(NOW + 7 * DAY) == 1
    assert _trial(T.EXPIRED).days_remaining(NOW) == 0
    assert _trial(T.PENDING_CUSTOMER_CONSENT).days_remaining(NOW) is None
    assert _trial(T.CANCELLED).days_remaining(NOW) is None


def test_r_tri_11_timers_fire_only_for_the_state_and_date_they_were_made_for() -> None:
    """Every time limit is a timer that re-reads its trial: an extension or a status change makes an old one a no-op."""
    trial = _trial()
    assert timers_for(trial) == [(TrialTimer.EXPIRY_WARNING, trial.ends_at), (TrialTimer.EXPIRY, trial.ends_at)]
    assert trial.ends_at is not None and trial.grace_ends_at is not None
    assert fire_time(TrialTimer.EXPIRY_WARNING, trial.ends_at) == trial.ends_at - 7 * DAY
    assert timer_applies(trial, TrialTimer.EXPIRY, trial.ends_at)
    extended = trial.model_copy(update={"ends_at": trial.ends_at + 10 * DAY})
    assert not timer_applies(extended, TrialTimer.EXPIRY, trial.ends_at)
    expired = _trial(T.EXPIRED)
    assert timers_for(expired) == [(TrialTimer.GRACE_END, expired.grace_ends_at)]
    assert not timer_applies(expired, TrialTimer.EXPIRY_WARNING, trial.ends_at)
    consent = _trial(T.PENDING_CUSTOMER_CONSENT, consentDeadline=NOW + 10 * DAY)
    assert timers_for(consent) == [(TrialTimer.CONSENT_EXPIRY, NOW + 10 * DAY)]
    assert timers_for(_trial(T.DELETED)) == []
