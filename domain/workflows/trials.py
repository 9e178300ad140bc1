"""A trial's background work (DOMAIN.md §10): its provisioning by the simulated Webex side (R-TRI-6) and its timers
(R-TRI-STATE, R-TRI-11). Each re-reads the trial in its transaction and does nothing if it moved on meanwhile."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from domain.model.customer_orgs import ResaleService
from domain.model.entities import Partner, PartnerAccess, ProvisioningError
from domain.model.errors import DomainError
from domain.model.notifications import NotificationAudience, NotificationKind
from domain.model.trials import ApprovalState, Trial, TrialStatus
from domain.rules.notifications import recipients
from domain.rules.resale import site_name_of_url
from domain.rules.trials import TrialTimer, started, timer_applies
from domain.services import customer_orgs as orgs
from domain.services.shipments import start_returns
from domain.services.trial_effects import end_services, notify, notify_both
from domain.services.trials import consent_access, store
from domain.store.jobs import Job
from domain.store.repositories import Tx
from domain.workflows.common import Steps


@dataclass
class TrialSteps(Steps):
    async def _trial(self, tx: Tx, trial_id: str) -> Trial | None:
        doc = await self.repos.trials.find_doc(trial_id, session=tx.session)
        return Trial.from_doc(doc) if doc is not None else None

    async def _owner(self, trial: Trial) -> Partner | None:
        return await self.repos.partners.get(trial.owner_org_id)

    async def provision(self, job: Job) -> None:
        """R-TRI-6: a new org is made with the admin as first full admin (CUSTOMER_ADMIN_WELCOME) and the owner
        FULL_ADMIN; an existing org gets the services and the owner its access (TRIAL_STARTED if it managed it
        already). Then the trial is active for 30 days. A refusal of the Webex side ends the trial in `error`."""
        try:
            await self.repos.atomic(lambda tx: self._provision(tx, job))
        except DomainError as exc:
            refused = exc
        else:
            return
        await self.repos.atomic(lambda tx: self._fail(tx, job, refused))

    async def _provision(self, tx: Tx, job: Job) -> None:
        current = await self._trial(tx, job.entity_id)
        if current is not None and current.status is TrialStatus.PENDING_PROVISIONING_DETAILS:
            owner = await self._owner(current)
            site = site_name_of_url(current.meetings_site_url) if current.meetings_site_url else None
            welcome: tuple[NotificationKind, tuple[str, ...]] | None
            if current.org_id is None:
                org = await orgs.create_org(self.repos, tx, orgs.NewCustomerOrg(
                    name=current.company_name, country=current.country, admin_email=current.admin_email,
                    partner_id=current.owner_org_id, site=site, claim_holder=current.id,
                    trial_services=current.services, trial_id=current.id))
                welcome = (NotificationKind.CUSTOMER_ADMIN_WELCOME, (current.admin_email,))
            else:
                org = await orgs.add_services(self.repos, tx, current.org_id, current.owner_org_id, current.services,
                                              purchased=False)
                managed = org.access_of(current.owner_org_id) is not PartnerAccess.NONE
                if not managed:
                    await orgs.set_partner_access(self.repos, tx, org.id, current.owner_org_id,
                                                  consent_access(current), via_trial=True)
                if site is not None:
                    await orgs.transfer_claims(self.repos, tx, current.id, org.id)
                    await orgs.set_meetings_site(self.repos, tx, org.id, site)
                welcome = (NotificationKind.TRIAL_STARTED, org.full_admin_emails) if managed else None
            active, change = current.move(TrialStatus.ACTIVE, tx.now, reason="provisioned", org_id=org.id,
                                          started_at=tx.now, **started(tx.now, current.services))
            await store(self.repos, tx, current, active)
            tx.record(change)
            if welcome is not None:
                await notify(tx, active, owner, welcome[0], NotificationAudience.CUSTOMER_ADMINS,
                             recipients(welcome[1]), "started")
        await self.queue.finish(tx, job)

    async def _fail(self, tx: Tx, job: Job, refused: DomainError) -> None:
        current = await self._trial(tx, job.entity_id)
        if current is not None and current.status is TrialStatus.PENDING_PROVISIONING_DETAILS:
            errors = tuple(ProvisioningError(code=e.code.value, message=e.message[:500]) for e in refused.errors)
            failed, change = current.move(TrialStatus.ERROR, tx.now, reason="provisioning failed", errors=errors)
            ended = await end_services(self.repos, tx, failed)
            await store(self.repos, tx, current, ended)
            tx.record(change)
        await self.queue.finish(tx, job)

    async def timer(self, job: Job) -> None:
        """One of a trial's time limits (TrialTimer), if the trial is still where and when it was made for."""
        name = TrialTimer(job.payload["timer"])
        made_for = datetime.fromisoformat(job.payload["madeFor"])

        async def write(tx: Tx) -> None:
            current = await self._trial(tx, job.entity_id)
            if current is not None and timer_applies(current, name, made_for):
                await self._fire(tx, current, name)
            await self.queue.finish(tx, job)

        await self.repos.atomic(write)

    async def _fire(self, tx: Tx, current: Trial, name: TrialTimer) -> None:
        owner = await self._owner(current)
        org = await orgs.get(self.repos, current.org_id, session=tx.session) if current.org_id else None
        occasion = current.ends_at.isoformat() if current.ends_at else ""
        if name is TrialTimer.CONSENT_EXPIRY:  # R-TRI-STATE: 10 days without an answer
            changed, change = current.move(TrialStatus.CANCELLED, tx.now, reason="consent not given in 10 days")
            changed = await end_services(self.repos, tx, changed)
        elif name is TrialTimer.EXPIRY_WARNING:  # R-TRI-11: 7 days before the end
            await notify_both(tx, current, owner, org, NotificationKind.TRIAL_EXPIRY_WARNING, occasion)
            return
        elif name is TrialTimer.EXPIRY:  # R-TRI-11: the end; the grace begins
            changed, change = current.move(TrialStatus.EXPIRED, tx.now, reason="trial period ended")
            await notify_both(tx, changed, owner, org, NotificationKind.TRIAL_EXPIRED, occasion)
            if ResaleService.DEVICES in current.services:
                await start_returns(self.repos, tx, current.id, current.ends_at)
        else:  # R-TRI-11: the grace ends; users are told, then the trial's end is applied, irreversibly
            users = org.member_emails if org is not None else ()
            await notify(tx, current, owner, NotificationKind.TRIAL_ACCESS_ENDED, NotificationAudience.USERS,
                         recipients(users), occasion)
            void = ApprovalState.VOID if current.extension_request is ApprovalState.PENDING else \
                current.extension_request
            ended = await end_services(self.repos, tx, current)
            changed, change = ended.move(TrialStatus.PURGED, tx.now, reason="grace period ended",
                                         extension_request=void)
        await store(self.repos, tx, current, changed)
        tx.record(change)
