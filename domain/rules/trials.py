"""The rules of trials (DOMAIN.md §10): pure functions of a request, the trial and the facts loaded for them.

Start (R-TRI-3/4) reports every problem at once; extension (R-TRI-8) and services (R-TRI-9) are judged against the
stored trial; the timers (R-TRI-STATE, R-TRI-11) say what fires when, and whether a timer that fires still applies.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum

from domain.model.customer_orgs import CustomerOrg, OrgLookup, ResaleService
from domain.model.entities import PartnerAccess
from domain.model.errors import ErrorCode
from domain.model.trials import (
    CONSENT_WINDOW,
    DEVICE_TRIAL_MAX,
    GRACE,
    NUMBERS_HELD,
    TRIAL_LENGTH,
    WARNING_BEFORE,
    ApprovalState,
    Trial,
    TrialStatus,
)
from domain.rules.resale import (
    check_company_name,
    check_industry,
    check_site,
    check_timezone,
    not_trialable,
    region_of_country,
    site_url,
)
from domain.rules.validation import Problems


@dataclass(frozen=True)
class MeetingsSettings:
    site_url: str
    timezone: str


@dataclass(frozen=True)
class NewTrial:
    company_name: str
    admin_email: str
    industry: str
    country: str
    services: tuple[ResaleService, ...]
    confirm_existing_org_id: str | None = None
    meetings: MeetingsSettings | None = None
    shipments: int = 0  # how many shipments were asked for (the devices slice judges them)


@dataclass
class StartPlan:
    """What starting a trial makes (R-TRI-3/4/STATE), or its problems."""

    problems: Problems
    industry: str = ""
    country: str = ""
    data_region: str = ""
    services: tuple[ResaleService, ...] = ()
    site_url: str | None = None
    timezone: str | None = None
    org_id: str | None = None
    new_org: bool = True
    status: TrialStatus = TrialStatus.PENDING_PROVISIONING_DETAILS
    consent_to: tuple[str, ...] = field(default_factory=tuple)


def _services(problems: Problems, services: tuple[ResaleService, ...], meetings: MeetingsSettings | None,
              shipments: int, *path: str) -> tuple[ResaleService, ...]:
    """The de-duplicated services, with the settings each needs (R-TRI-3: ≥ 1; MEETINGS: site and time zone)."""
    unique = tuple(dict.fromkeys(services))
    if not unique:
        problems.add(ErrorCode.REQUIRED, "name at least one service", *path, "services")
    if ResaleService.MEETINGS in unique and meetings is None:
        problems.add(ErrorCode.REQUIRED, "`meetings` (site and time zone) is required with MEETINGS",
                     *path, "meetings")
    if ResaleService.MEETINGS not in unique and meetings is not None:
        problems.add(ErrorCode.VALIDATION_FAILED, "`meetings` is only for a trial with MEETINGS", *path, "meetings")
    if ResaleService.DEVICES not in unique and shipments:
        problems.add(ErrorCode.VALIDATION_FAILED, "`shipments` are only for a trial with DEVICES", *path, "shipments")
    return unique


def _meetings(problems: Problems, meetings: MeetingsSettings | None, *path: str) -> tuple[str | None, str | None]:
    if meetings is None:
        return None, None
    name = check_site(problems, meetings.site_url, *path, "meetings", "siteUrl")
    check_timezone(problems, meetings.timezone, *path, "meetings", "timezone")
    return (site_url(name) if name else None), meetings.timezone.strip()


def plan_start(data: NewTrial, lookup: OrgLookup, owner_id: str) -> StartPlan:
    """R-TRI-3/4: every problem of a new trial, or what it starts as: a new org, or an existing one managed by the
    owner (straight to provisioning), or one it does not manage (the customer's consent first, R-TRI-5)."""
    problems = Problems()
    plan = StartPlan(problems)
    check_company_name(problems, data.company_name, "input", "companyName")
    problems.email(data.admin_email, "input", "adminEmail")
    plan.industry = check_industry(problems, data.industry, "input", "industry") or ""
    plan.country = data.country.strip().upper()
    plan.data_region = region_of_country(problems, data.country, "input", "country") or ""
    plan.services = _services(problems, data.services, data.meetings, data.shipments, "input")
    plan.site_url, plan.timezone = _meetings(problems, data.meetings, "input")
    org = lookup.org
    if not lookup.eligible:
        problems.add(ErrorCode.ORG_NOT_ELIGIBLE, "this address belongs to an org that cannot take a trial "
                     "(a wholesale customer's, or one being purged)", "input", "adminEmail")
    elif org is not None:
        if data.confirm_existing_org_id != org.id:
            problems.add(ErrorCode.CONFIRMATION_REQUIRED, "this address belongs to an existing org: name it in "
                         "`confirmExistingOrgId` (see orgLookup)", "input", "confirmExistingOrgId")
        refused = not_trialable(org, owner_id, plan.services)
        if refused:
            problems.add(ErrorCode.SERVICE_NOT_TRIALABLE, "the org has bought these services or trials them with "
                         f"another partner: {', '.join(s.value for s in refused)}", "input", "services")
        plan.org_id = org.id
        plan.new_org = False
        if lookup.partner_access is PartnerAccess.NONE:  # R-TRI-STATE: an unmanaged org consents first
            plan.status = TrialStatus.PENDING_CUSTOMER_CONSENT
            email = data.admin_email.strip().lower()
            plan.consent_to = (email,) if lookup.email_is_full_admin else \
                tuple(dict.fromkeys([email, *org.full_admin_emails]))
    elif data.confirm_existing_org_id is not None:
        problems.add(ErrorCode.VALIDATION_FAILED, "this address belongs to no org: leave `confirmExistingOrgId` out",
                     "input", "confirmExistingOrgId")
    return plan


def consent_deadline(created: datetime) -> datetime:
    return created + CONSENT_WINDOW


def started(now: datetime, services: tuple[ResaleService, ...]) -> dict[str, datetime | None]:
    """R-TRI-6: the dates of a trial that becomes active now."""
    return dates_for(now + TRIAL_LENGTH, services)


def dates_for(ends_at: datetime, services: tuple[ResaleService, ...]) -> dict[str, datetime | None]:
    """R-TRI-STATE/11: the end, the grace end and (with CALLING) when the numbers are released."""
    grace = ends_at + GRACE
    return {"ends_at": ends_at, "grace_ends_at": grace,
            "numbers_release_at": grace + NUMBERS_HELD if ResaleService.CALLING in services else None}


EXTENDABLE: frozenset[TrialStatus] = frozenset({TrialStatus.ACTIVE, TrialStatus.EXPIRED})


def extension_end(trial: Trial, now: datetime, problems: Problems) -> datetime | None:
    """R-TRI-8: now + 30 days (not added to what is left), a DEVICES trial capped at startedAt + 120 days; a result
    not later than the current end is TRIAL_EXTENSION_LIMIT."""
    if trial.status not in EXTENDABLE or trial.ends_at is None or trial.started_at is None:
        problems.add(ErrorCode.INVALID_STATE, f"a `{trial.status.value}` trial cannot be extended", "id")
        return None
    end = now + TRIAL_LENGTH
    if ResaleService.DEVICES in trial.services:
        end = min(end, trial.started_at + DEVICE_TRIAL_MAX)
    if end <= trial.ends_at:
        problems.add(ErrorCode.TRIAL_EXTENSION_LIMIT, "the trial cannot end any later than it does now", "id")
        return None
    return end


def plan_extension(trial: Trial, now: datetime) -> tuple[Problems, datetime | None, bool]:
    """R-TRI-8: the problems, the new end, and whether it is only a request (DEVICES: platform_admin decides)."""
    problems = Problems()
    if trial.extension_request is ApprovalState.PENDING:
        problems.add(ErrorCode.EXTENSION_PENDING, "an extension request is waiting for a decision", "id")
        return problems, None, False
    end = extension_end(trial, now, problems)
    return problems, end, ResaleService.DEVICES in trial.services


@dataclass
class ServicesPlan:
    problems: Problems
    services: tuple[ResaleService, ...] = ()
    added: tuple[ResaleService, ...] = ()
    removed: tuple[ResaleService, ...] = ()
    site_url: str | None = None
    timezone: str | None = None


def plan_services(trial: Trial, services: tuple[ResaleService, ...], meetings: MeetingsSettings | None,
                  shipments: int, org: CustomerOrg | None, owner_id: str) -> ServicesPlan:
    """R-TRI-9: the complete new list (≥ 1, `active` only); additions pass R-TRI-3/4."""
    problems = Problems()
    plan = ServicesPlan(problems)
    if trial.status is not TrialStatus.ACTIVE:
        problems.add(ErrorCode.INVALID_STATE, f"a `{trial.status.value}` trial's services cannot change", "id")
    plan.services = tuple(dict.fromkeys(services))
    if not plan.services:
        problems.add(ErrorCode.REQUIRED, "name at least one service", "input", "services")
    plan.added = tuple(s for s in plan.services if s not in trial.services)
    plan.removed = tuple(s for s in trial.services if s not in plan.services)
    if ResaleService.MEETINGS in plan.added:
        if meetings is None:
            problems.add(ErrorCode.REQUIRED, "`meetings` (site and time zone) is required to add MEETINGS",
                         "input", "meetings")
        plan.site_url, plan.timezone = _meetings(problems, meetings, "input")
    elif meetings is not None:
        problems.add(ErrorCode.VALIDATION_FAILED, "`meetings` is only for adding MEETINGS", "input", "meetings")
    elif ResaleService.MEETINGS in plan.services:
        plan.site_url, plan.timezone = trial.meetings_site_url, trial.meetings_timezone
    if ResaleService.DEVICES not in plan.services and shipments:
        problems.add(ErrorCode.VALIDATION_FAILED, "`shipments` are only for a trial with DEVICES", "input",
                     "shipments")
    refused = not_trialable(org, owner_id, plan.added)
    if refused:
        problems.add(ErrorCode.SERVICE_NOT_TRIALABLE, "the org has bought these services or trials them with "
                     f"another partner: {', '.join(s.value for s in refused)}", "input", "services")
    return plan


class TrialTimer(str, Enum):
    """The durable timers of a trial (R-TRI-STATE, R-TRI-11); each is made for one date of the trial."""

    CONSENT_EXPIRY = "consent_expiry"
    EXPIRY_WARNING = "expiry_warning"
    EXPIRY = "expiry"
    GRACE_END = "grace_end"


# Which state and which date of the trial each timer was made for.
_TIMER_STATE: dict[TrialTimer, TrialStatus] = {
    TrialTimer.CONSENT_EXPIRY: TrialStatus.PENDING_CUSTOMER_CONSENT,
    TrialTimer.EXPIRY_WARNING: TrialStatus.ACTIVE,
    TrialTimer.EXPIRY: TrialStatus.ACTIVE,
    TrialTimer.GRACE_END: TrialStatus.EXPIRED,
}


def timer_date(trial: Trial, timer: TrialTimer) -> datetime | None:
    return {TrialTimer.CONSENT_EXPIRY: trial.consent_deadline, TrialTimer.EXPIRY_WARNING: trial.ends_at,
            TrialTimer.EXPIRY: trial.ends_at, TrialTimer.GRACE_END: trial.grace_ends_at}[timer]


def fire_time(timer: TrialTimer, made_for: datetime) -> datetime:
    return made_for - WARNING_BEFORE if timer is TrialTimer.EXPIRY_WARNING else made_for


def timer_applies(trial: Trial, timer: TrialTimer, made_for: datetime) -> bool:
    """A timer that fires does something only if the trial is still in the state and at the date it was made for
    (an extension, answer, resend, conversion or deletion meanwhile makes it a no-op: R-TRI-STATE clocks)."""
    return trial.status is _TIMER_STATE[timer] and timer_date(trial, timer) == made_for


def timers_for(trial: Trial) -> list[tuple[TrialTimer, datetime]]:
    """The timers a trial needs in its current state (enqueued after every change; an existing one is kept)."""
    if trial.status is TrialStatus.PENDING_CUSTOMER_CONSENT and trial.consent_deadline is not None:
        return [(TrialTimer.CONSENT_EXPIRY, trial.consent_deadline)]
    if trial.status is TrialStatus.ACTIVE and trial.ends_at is not None:
        return [(TrialTimer.EXPIRY_WARNING, trial.ends_at), (TrialTimer.EXPIRY, trial.ends_at)]
    if trial.status is TrialStatus.EXPIRED and trial.grace_ends_at is not None:
        return [(TrialTimer.GRACE_END, trial.grace_ends_at)]
    return []
