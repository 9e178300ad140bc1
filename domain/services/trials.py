"""Trials (DOMAIN.md §10): start, consent, extension, services, deletion, and the conversion hook for orders.

Each command loads what it judges, applies the pure rules of domain.rules.trials, then writes the trial, its `TRIAL`
event, its emails and its timers in one transaction. A sub-partner runs its own trials (R-TRI-2); a `sales_admin`
reaches only the trials it created; another tenant's trial is NOT_FOUND like a missing one (R-ORG-6).

For the orders slice: `mark_converted(repos, tx, trial_id, order_id)` inside its own transaction (R-TRI-10).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from domain.model.changes import Change
from domain.model.customer_orgs import ResaleService, SubdomainKind
from domain.model.entities import Partner, PartnerAccess
from domain.model.errors import DomainError, ErrorCode, Forbidden
from domain.model.ids import Kind, new_id
from domain.model.jobs import ProvisionTrial
from domain.model.notifications import LinkRefused
from domain.model.principal import LinkPurpose, Role, Scope
from domain.model.status import require_move
from domain.model.trials import TRIAL, ApprovalState, Trial, TrialStatus
from domain.rules.resale import site_name_of_url
from domain.rules.shipments import ShipmentRequest, shipment_problems
from domain.rules.tenancy import Caller, creator_limit
from domain.rules.trials import (
    MeetingsSettings,
    NewTrial,
    consent_deadline,
    dates_for,
    extension_end,
    plan_extension,
    plan_services,
    plan_start,
)
from domain.rules.validation import Problems
from domain.services import customer_orgs as orgs
from domain.services.acting import acting_owner
from domain.services.notifications import require_link
from domain.services.shipments import request_shipments, shipped_types, start_returns
from domain.services.trial_effects import ask_consent, end_services, schedule
from domain.store.driver import DuplicateKey
from domain.store.repositories import Repositories, Tx

SHIPMENTS = ("input", "shipments")


def _not_found() -> DomainError:
    return DomainError.single(ErrorCode.NOT_FOUND, "no trial has this id", "id")


def sales_limit(caller: Caller) -> str | None:
    """R-TRI-2: a sales_admin (without full or read-only admin) reaches only the trials it created."""
    return creator_limit(caller.principal)


async def _load(repos: Repositories, tx: Tx, caller: Caller, owner: Partner, trial_id: str) -> Trial:
    doc = await repos.trials.owned_doc(trial_id, owner.id, session=tx.session)
    limit = sales_limit(caller)
    if doc is None or (limit is not None and doc.get("createdBy") != limit):
        raise _not_found()
    return Trial.from_doc(doc)


async def store(repos: Repositories, tx: Tx, current: Trial, changed: Trial) -> None:
    """Write a changed trial (optimistically: a concurrent change makes this one retry) and its timers."""
    if not await repos.trials.replace(changed.to_doc(), expected_version=current.version, session=tx.session):
        raise DomainError.single(ErrorCode.INVALID_STATE, "the trial changed meanwhile; read it and retry", "id")
    await schedule(tx, changed)


async def _site_problem(repos: Repositories, problems: Problems, site: str | None, holder: str | None) -> None:
    """R-TRI-3: a Meetings site name in use is SITE_URL_TAKEN, reported with every other problem."""
    if site is not None:
        current = await repos.name_claims.holder(SubdomainKind.MEETINGS_SITE, site_name_of_url(site))
        if current is not None and current != holder:
            problems.add(ErrorCode.SITE_URL_TAKEN, "this Meetings site name is taken", "input", "meetings", "siteUrl")


@dataclass(frozen=True)
class StartTrial:
    trial: NewTrial
    shipments: Sequence[ShipmentRequest] = ()


async def start_trial(repos: Repositories, caller: Caller, data: StartTrial, on_behalf_of: str | None) -> Trial:
    """R-TRI-3/4: every problem at once, or a trial waiting for consent (R-TRI-5) or for its provisioning (R-TRI-6)."""
    owner = await acting_owner(repos, caller, on_behalf_of, Scope.TRIALS_WRITE)
    trial_id = new_id(Kind.TRIAL)

    async def write(tx: Tx) -> Trial:
        lookup = await orgs.lookup(repos, owner, data.trial.admin_email, session=tx.session)
        plan = plan_start(data.trial, lookup, owner.id)
        requests = shipment_problems(data.shipments, frozenset(), plan.problems, *SHIPMENTS)
        await _site_problem(repos, plan.problems, plan.site_url, None)
        email = data.trial.admin_email.strip().lower()
        key = f"{owner.id}:{plan.org_id or 'new:' + email}"
        if not plan.problems.items and await repos.trials.open_for(key, session=tx.session) is not None:
            plan.problems.add(ErrorCode.TRIAL_EXISTS, "this partner already has an open trial for this org",
                              "input", "adminEmail")
        plan.problems.raise_if_any()
        subject = caller.principal.subject
        trial = Trial(
            id=trial_id, owner_org_id=owner.id, root_org_id=owner.root_id, created_by=subject,
            creator_email=subject.lower() if "@" in subject else None,
            company_name=data.trial.company_name.strip(), admin_email=email, industry=plan.industry,
            country=plan.country, data_region=plan.data_region, org_id=plan.org_id, new_org=plan.new_org,
            services=plan.services, meetings_site_url=plan.site_url, meetings_timezone=plan.timezone,
            status=plan.status, version=1, created_at=tx.now, last_status_change=tx.now)
        if plan.status is TrialStatus.PENDING_CUSTOMER_CONSENT:
            trial = trial.model_copy(update={"consent_deadline": consent_deadline(tx.now), "link_version": 1})
        if plan.site_url is not None:  # held by the trial until its org has it (R-TRI-3, conflict (e))
            await orgs.claim_site(repos, tx, plan.site_url, trial.id, field="meetings")
        try:
            await repos.trials.insert(trial.to_doc(), session=tx.session)
        except DuplicateKey:
            raise DomainError.single(ErrorCode.TRIAL_EXISTS, "this partner already has an open trial for this org",
                                     "input", "adminEmail") from None
        tx.record(trial.change(None, reason="started"))
        if requests:
            await request_shipments(repos, tx, trial, requests)
        if trial.status is TrialStatus.PENDING_CUSTOMER_CONSENT:
            await ask_consent(tx, trial, owner, plan.consent_to)
            await schedule(tx, trial)
        else:
            await tx.enqueue(ProvisionTrial(trial.id, trial.version))
        return trial

    return await repos.atomic(write)


async def resend_consent(repos: Repositories, caller: Caller, trial_id: str, on_behalf_of: str | None) -> Trial:
    """R-TRI-5: a new link to the same people; the old link stops working; the deadline stays."""
    owner = await acting_owner(repos, caller, on_behalf_of, Scope.TRIALS_WRITE)

    async def write(tx: Tx) -> Trial:
        current = await _load(repos, tx, caller, owner, trial_id)
        if current.status is not TrialStatus.PENDING_CUSTOMER_CONSENT:
            raise DomainError.single(ErrorCode.INVALID_STATE, f"a `{current.status.value}` trial asks for no "
                                     "consent", "id")
        changed, change = current.amend(reason="consent request resent", link_version=current.link_version + 1)
        await store(repos, tx, current, changed)
        tx.record(change)
        lookup = await orgs.lookup(repos, owner, current.admin_email, session=tx.session)
        to = (current.admin_email,) if lookup.email_is_full_admin or lookup.org is None else \
            (current.admin_email, *lookup.org.full_admin_emails)
        await ask_consent(tx, changed, owner, to)
        return changed

    return await repos.atomic(write)


async def respond_to_consent(repos: Repositories, caller: Caller, trial_id: str, accept: bool,
                             grant_full_admin: bool) -> Trial:
    """R-TRI-5: a full admin of the org answers through its emailed link (R-NOT-6); accepting starts provisioning
    with the owner FULL_ADMIN (`grantFullAdmin`) or PROVISIONING_ADMIN; declining cancels the trial."""
    async def write(tx: Tx) -> Trial:
        doc = await repos.trials.find_doc(trial_id, session=tx.session)
        if doc is None:
            raise LinkRefused("this link does not open this trial")
        current = Trial.from_doc(doc)
        grant = require_link(caller, LinkPurpose.TRIAL_CONSENT, current.id, current.link_version)
        if current.status is not TrialStatus.PENDING_CUSTOMER_CONSENT or grant.owner_org_id != current.owner_org_id:
            raise LinkRefused("this trial no longer waits for an answer")
        org = await orgs.get(repos, current.org_id, session=tx.session) if current.org_id else None
        if org is None or not org.is_full_admin(grant.recipient):
            raise Forbidden("only a full admin of the organisation may answer")
        if accept:
            changed, change = current.move(TrialStatus.PENDING_PROVISIONING_DETAILS, tx.now,
                                           reason="consent given", grant_full_admin=grant_full_admin)
            await tx.enqueue(ProvisionTrial(changed.id, changed.version))
        else:
            changed, change = current.move(TrialStatus.CANCELLED, tx.now, reason="consent declined")
            await end_services(repos, tx, changed)
        await store(repos, tx, current, changed)
        tx.record(change)
        return changed

    return await repos.atomic(write)


async def extend_trial(repos: Repositories, caller: Caller, trial_id: str, on_behalf_of: str | None) -> Trial:
    """R-TRI-8: now + 30 days (an expired trial becomes active again); a DEVICES trial only asks platform_admin."""
    owner = await acting_owner(repos, caller, on_behalf_of, Scope.TRIALS_WRITE)

    async def write(tx: Tx) -> Trial:
        current = await _load(repos, tx, caller, owner, trial_id)
        problems, end, request = plan_extension(current, tx.now)
        problems.raise_if_any()
        assert end is not None
        if request:
            changed, change = current.amend(reason="extension requested", extension_request=ApprovalState.PENDING)
        else:
            changed, change = _extended(current, end, tx.now)
        await store(repos, tx, current, changed)
        tx.record(change)
        return changed

    return await repos.atomic(write)


def _extended(current: Trial, end: datetime, now: datetime, **update: Any) -> tuple[Trial, Change]:
    """The trial with its new end (R-TRI-8): an expired one becomes active again."""
    dates = dates_for(end, current.services)
    if current.status is TrialStatus.EXPIRED:
        return current.move(TrialStatus.ACTIVE, now, reason="extended", **dates, **update)
    return current.amend(reason="extended", **dates, **update)


async def decide_extension(repos: Repositories, caller: Caller, trial_id: str, approve: bool,
                           note: str | None = None) -> Trial:
    """R-TRI-8: platform_admin approves a device trial's extension (its end computed now) or rejects it."""
    if not caller.principal.has(Role.PLATFORM_ADMIN):
        raise Forbidden("only a platform_admin decides trial extensions")

    async def write(tx: Tx) -> Trial:
        doc = await repos.trials.find_doc(trial_id, session=tx.session)
        if doc is None:
            raise _not_found()
        current = Trial.from_doc(doc)
        if current.extension_request is not ApprovalState.PENDING:
            raise DomainError.single(ErrorCode.INVALID_STATE, "the trial has no extension request to decide", "id")
        if approve:
            problems = Problems()
            end = extension_end(current, tx.now, problems)
            problems.raise_if_any()
            assert end is not None
            changed, change = _extended(current, end, tx.now, extension_request=ApprovalState.APPROVED)
        else:
            changed, change = current.amend(reason="extension rejected", extension_request=ApprovalState.REJECTED)
        if note:  # the platform's note travels with the event
            change = replace(change, reason=f"{change.reason}: {note.strip()[:200]}")
        await store(repos, tx, current, changed)
        tx.record(change)
        return changed

    return await repos.atomic(write)


@dataclass(frozen=True)
class TrialServices:
    services: tuple[ResaleService, ...]
    meetings: MeetingsSettings | None = None
    shipments: Sequence[ShipmentRequest] = ()


async def update_services(repos: Repositories, caller: Caller, trial_id: str, data: TrialServices,
                          on_behalf_of: str | None) -> Trial:
    """R-TRI-9: the complete new list (`active` only); additions pass R-TRI-3/4; MEETINGS removed frees the site;
    DEVICES removed starts the returns; new device types may ship."""
    owner = await acting_owner(repos, caller, on_behalf_of, Scope.TRIALS_WRITE)

    async def write(tx: Tx) -> Trial:
        current = await _load(repos, tx, caller, owner, trial_id)
        org = await orgs.get(repos, current.org_id, session=tx.session) if current.org_id else None
        plan = plan_services(current, data.services, data.meetings, len(data.shipments), org, owner.id)
        requests = shipment_problems(data.shipments, await shipped_types(repos, current.id, session=tx.session),
                                     plan.problems, *SHIPMENTS)
        if ResaleService.MEETINGS in plan.added:
            await _site_problem(repos, plan.problems, plan.site_url, current.org_id)
        plan.problems.raise_if_any()
        changed, change = current.amend(reason="services changed", services=plan.services,
                                        meetings_site_url=plan.site_url, meetings_timezone=plan.timezone,
                                        **dates_for(current.ends_at, plan.services) if current.ends_at else {})
        if current.org_id is not None:
            if plan.added:
                await orgs.add_services(repos, tx, current.org_id, owner.id, plan.added, purchased=False)
            if plan.removed:
                await orgs.remove_trial_services(repos, tx, current.org_id, owner.id, plan.removed)
            if ResaleService.MEETINGS in plan.removed:
                await orgs.delete_trial_site(repos, tx, current.org_id)
            if ResaleService.MEETINGS in plan.added and plan.site_url is not None:
                await orgs.set_meetings_site(repos, tx, current.org_id, plan.site_url)
        if ResaleService.DEVICES in plan.removed:
            await start_returns(repos, tx, current.id)
        if requests:
            await request_shipments(repos, tx, changed, requests)
        await store(repos, tx, current, changed)
        tx.record(change)
        return changed

    return await repos.atomic(write)


async def delete_trial(repos: Repositories, caller: Caller, trial_id: str, on_behalf_of: str | None) -> Trial:
    """R-TRI-11: a non-terminal trial is deleted and its end applied at once (no users' notice); a suspended
    sub-partner may delete (R-TRI-2)."""
    owner = await acting_owner(repos, caller, on_behalf_of, Scope.TRIALS_WRITE, allow_suspended=True)

    async def write(tx: Tx) -> Trial:
        current = await _load(repos, tx, caller, owner, trial_id)
        require_move(TRIAL, current.status, TrialStatus.DELETED, "trial")  # before any effect
        ended = await end_services(repos, tx, current)
        changed, change = ended.move(TrialStatus.DELETED, tx.now, reason="deleted by the partner")
        await store(repos, tx, current, changed)
        tx.record(change)
        return changed

    return await repos.atomic(write)


async def mark_converted(repos: Repositories, tx: Tx, trial_id: str, order_id: str) -> Trial:
    """R-TRI-10, for the orders slice inside its transaction: the trial (`active` or `expired`, else INVALID_STATE)
    becomes `converted`, linked to the order; its timers find nothing to do any more; its devices go back (R-TRI-7).
    The org, its users and the trial services stay until the order is active (the orders slice ends those)."""
    doc = await repos.trials.find_doc(trial_id, session=tx.session)
    if doc is None:
        raise _not_found()
    current = Trial.from_doc(doc)
    changed, change = current.move(TrialStatus.CONVERTED, tx.now, reason="converted to an order",
                                   conversion_order_id=order_id, extension_request=ApprovalState.VOID
                                   if current.extension_request is ApprovalState.PENDING else current.extension_request)
    if ResaleService.DEVICES in current.services:
        await start_returns(repos, tx, current.id)
    await store(repos, tx, current, changed)
    tx.record(change)
    return changed


# The owner's access after consent (R-TRI-5).
def consent_access(trial: Trial) -> PartnerAccess:
    return PartnerAccess.FULL_ADMIN if trial.grant_full_admin else PartnerAccess.PROVISIONING_ADMIN
