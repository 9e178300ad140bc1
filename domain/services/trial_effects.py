"""What a trial's changes do beyond the trial itself, inside the transaction of the change (DOMAIN.md §10, §13):
its emails (R-NOT-4), its timers (R-TRI-STATE clocks), and the end of its services in the org (R-TRI-9, R-TRI-11)."""

from __future__ import annotations

from datetime import datetime

from domain.model.changes import EntityType
from domain.model.customer_orgs import CustomerOrg, ResaleService
from domain.model.entities import Partner
from domain.model.jobs import TrialTimerDue
from domain.model.notifications import Link, LinkPurpose, Notification, NotificationAudience, NotificationKind
from domain.model.trials import NUMBERS_HELD, Trial, TrialStatus
from domain.rules.notifications import partner_admin_recipients, recipients
from domain.rules.resale import site_name_of_url
from domain.rules.trials import fire_time, timers_for
from domain.services import customer_orgs as orgs
from domain.services.shipments import start_returns
from domain.store.repositories import Repositories, Tx


def _day(at: datetime | None) -> str:
    return at.date().isoformat() if at is not None else ""


def facts(trial: Trial, owner: Partner | None) -> dict[str, str]:
    """The values every trial email may be rendered from (domain.rules.notifications.FACTS)."""
    return {"companyName": trial.company_name, "partnerName": owner.name if owner else "",
            "services": ", ".join(s.value for s in trial.services), "deadline": _day(trial.consent_deadline),
            "endsAt": _day(trial.ends_at), "graceEndsAt": _day(trial.grace_ends_at), "orgName": trial.company_name}


async def notify(tx: Tx, trial: Trial, owner: Partner | None, kind: NotificationKind,
                 audience: NotificationAudience, to: tuple[str, ...], occasion: str, link: Link | None = None) -> None:
    await tx.notify(Notification(
        kind=kind, audience=audience, to=to, occasion=occasion, owner_org_id=trial.owner_org_id,
        root_org_id=trial.root_org_id, entity_type=EntityType.TRIAL, entity_id=trial.id,
        created_by=trial.created_by, facts=facts(trial, owner), link=link))


async def ask_consent(tx: Tx, trial: Trial, owner: Partner, to: tuple[str, ...]) -> None:
    """R-TRI-5: the consent email, one signed link per recipient (R-NOT-6); a resend has a new link version."""
    await notify(tx, trial, owner, NotificationKind.TRIAL_CONSENT_REQUEST, NotificationAudience.CUSTOMER_ADMINS,
                 recipients(to), f"link-v{trial.link_version}",
                 Link(LinkPurpose.TRIAL_CONSENT, trial.id, trial.link_version, expires_at=trial.consent_deadline))


async def notify_both(tx: Tx, trial: Trial, owner: Partner | None, org: CustomerOrg | None, kind: NotificationKind,
                      occasion: str) -> None:
    """R-TRI-11: customer admins and, separately, partner admins (R-NOT-3)."""
    customers = org.full_admin_emails if org is not None else (trial.admin_email,)
    await notify(tx, trial, owner, kind, NotificationAudience.CUSTOMER_ADMINS, recipients(customers), occasion)
    if owner is not None:
        await notify(tx, trial, owner, kind, NotificationAudience.PARTNER_ADMINS,
                     partner_admin_recipients(owner, trial.creator_email), occasion)


async def schedule(tx: Tx, trial: Trial) -> None:
    """The timers of the trial's current state and dates; older ones stay and find nothing to do when they fire."""
    for timer, made_for in timers_for(trial):
        await tx.enqueue(TrialTimerDue(trial.id, timer.value, made_for, max(fire_time(timer, made_for), tx.now)))


async def end_services(repos: Repositories, tx: Tx, trial: Trial) -> Trial:
    """R-TRI-11 (grace end, `deleteTrial`): irreversibly, a trial-created org with nothing bought is purged, or the
    trial's services and access in an existing org end; devices go back; CALLING numbers stay held 15 days.
    A trial that never reached an org only frees the site name it had claimed."""
    if trial.org_id is not None and trial.status in (TrialStatus.ACTIVE, TrialStatus.EXPIRED):
        await orgs.end_trial(repos, tx, trial.org_id, trial.owner_org_id, trial.id)
    elif trial.meetings_site_url is not None:
        await orgs.release_site(repos, tx, site_name_of_url(trial.meetings_site_url), trial.id)
    if ResaleService.DEVICES in trial.services:
        await start_returns(repos, tx, trial.id)
    if ResaleService.CALLING in trial.services and trial.started_at is not None:
        held = tx.now + NUMBERS_HELD
        if trial.numbers_release_at is None or held < trial.numbers_release_at:
            return trial.model_copy(update={"numbers_release_at": held})
    return trial
