"""Converting a trial to paid (DOMAIN.md §10 R-TRI-10): an order (§12) linked to the trial, placed in the same
transaction that marks the trial `converted` (its timers then find nothing to do). The trial's org, users and usage
are kept; the order's setup names one of the trial org's admins (CONVERSION_EMAIL_MISMATCH, R-ORD-5)."""

from __future__ import annotations

from domain.model.entities import OrgKind
from domain.model.errors import DomainError, ErrorCode
from domain.model.ids import Kind, new_id
from domain.model.orders import Order, ResaleOffer
from domain.model.principal import Scope
from domain.model.trials import ResaleService, Trial, TrialStatus
from domain.rules.orders import NewOrder, order_problems
from domain.rules.resale import site_name_of_url, site_url
from domain.rules.tenancy import Caller
from domain.rules.validation import Problems
from domain.services import customer_orgs
from domain.services.acting import acting_owner
from domain.services.orders import is_sales_limited, new_order, schedule_setup
from domain.services.trials import mark_converted
from domain.store.repositories import Repositories, Tx

CONVERTIBLE = frozenset({TrialStatus.ACTIVE, TrialStatus.EXPIRED})


def conversion_problems(trial: Trial, data: NewOrder, problems: Problems) -> str | None:
    """R-TRI-10 on top of R-ORD-1: the trial's state, and the Meetings site (A_SPK migrates the trial site, A_WX
    makes a new one while the trial's stays taken). Returns the site the order names, if any."""
    if trial.status not in CONVERTIBLE:
        problems.add(ErrorCode.INVALID_STATE, f"the trial is `{trial.status.value}`: only an active or expired trial "
                     "can be converted", "id")
    if ResaleService.MEETINGS not in {s for s, _ in data.lines} or data.meetings_site_url is None:
        return None
    wanted = site_name_of_url(data.meetings_site_url)
    trial_site = site_name_of_url(trial.meetings_site_url) if trial.meetings_site_url else None
    if data.offer is ResaleOffer.A_SPK and wanted != trial_site:
        problems.add(ErrorCode.SITE_URL_MISMATCH, "an A_SPK conversion keeps the trial's site: name it",
                     "order", "meetingsSiteUrl")
    if data.offer is ResaleOffer.A_WX and wanted == trial_site:
        problems.add(ErrorCode.SITE_URL_TAKEN, "an A_WX conversion makes a new site; the trial's name stays taken "
                     "while the trial site exists", "order", "meetingsSiteUrl")
    return site_url(wanted)


async def convert_trial(repos: Repositories, caller: Caller, trial_id: str, data: NewOrder,
                        on_behalf_of: str | None) -> Order:
    owner = await acting_owner(repos, caller, on_behalf_of, Scope.ORDERS_WRITE)
    if owner.kind is OrgKind.SUB_PARTNER and caller.org is not None and caller.org.id == owner.id:
        raise DomainError.single(ErrorCode.ORDER_VIA_PARENT, "a sub-partner's conversions are placed by its parent "
                                 "partner on its behalf")
    order_id = new_id(Kind.ORDER)

    async def write(tx: Tx) -> Order:
        doc = await repos.trials.owned_doc(trial_id, owner.id, session=tx.session)
        if doc is None or (is_sales_limited(caller) and doc.get("createdBy") != caller.principal.subject):
            raise DomainError.single(ErrorCode.NOT_FOUND, "no trial has this id", "id")
        trial = Trial.from_doc(doc)
        latest = trial.grace_ends_at.date() if trial.grace_ends_at else None
        problems = order_problems(data, tx.now.date(), "order", latest=latest, conversion=True)
        site = conversion_problems(trial, data, problems)
        problems.raise_if_any()
        order = new_order(order_id, owner, caller, data, tx, trial_id=trial.id).model_copy(
            update={"org_id": trial.org_id, "meetings_site_url": site})
        if site is not None and data.offer is ResaleOffer.A_WX:
            try:
                await customer_orgs.claim_site(repos, tx, site, order.id)
            except DomainError as e:
                raise DomainError.single(e.errors[0].code, e.errors[0].message, "order", "meetingsSiteUrl") from None
        await repos.orders.insert(order.to_doc(), session=tx.session)
        tx.record(order.change(None, reason="trial converted"))
        await mark_converted(repos, tx, trial.id, order.id)
        return await schedule_setup(repos, tx, order)

    return await repos.atomic(write)
