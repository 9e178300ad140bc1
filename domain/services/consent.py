"""Consent of existing free accounts (DOMAIN.md §7.1, R-CONS-1/2): resending the consent email, and the platform
recording the account owner's answer.

The first email goes out when the subscriber enters `pending_user_migration` (domain.workflows.subscribers). Each
send and each answer changes the subscriber (its `consent`, its version) and is an event, in one transaction.
"""

from __future__ import annotations

from domain.model.entities import ProvisioningError, Subscriber, SubscriberStatus
from domain.model.errors import DomainError, ErrorCode, Forbidden
from domain.model.jobs import AwaitMigration, SettleSubscriber
from domain.model.principal import Role, Scope
from domain.rules.consent import answer_problems, answered, consent_email_event, resend_problems, sent
from domain.rules.tenancy import Caller
from domain.services.acting import acting_owner
from domain.store.repositories import Repositories, Tx

FIELD = "subscriberId"
DECLINED = ProvisioningError(code=ErrorCode.USER_MIGRATION_DECLINED.value,
                             message="the owner of the existing account declined to move it into the organisation")


def _missing() -> DomainError:
    return DomainError.single(ErrorCode.NOT_FOUND, "no subscriber has this id", FIELD)


async def _fresh(repos: Repositories, tx: Tx, subscriber_id: str, owner_id: str | None) -> Subscriber:
    doc = await repos.subscribers.find_doc(subscriber_id, session=tx.session)
    if doc is None or (owner_id is not None and doc["ownerOrgId"] != owner_id):
        raise _missing()
    return Subscriber.from_doc(doc)


async def send_consent_email(repos: Repositories, caller: Caller, subscriber_id: str,
                             on_behalf_of: str | None) -> Subscriber:
    """R-CONS-1: send the consent email again (only while `pending_user_migration`, ≤ 3 in any 24 hours)."""
    owner = await acting_owner(repos, caller, on_behalf_of, Scope.SUBSCRIBERS_WRITE)
    doc = await repos.subscribers.owned_doc(subscriber_id, owner.id)
    if doc is None:  # another tenant's subscriber looks like a missing one
        raise _missing()
    problems = resend_problems(Subscriber.from_doc(doc), repos.clock.now(), FIELD)
    if problems:
        raise DomainError(problems)

    async def write(tx: Tx) -> Subscriber:
        current = await _fresh(repos, tx, subscriber_id, owner.id)
        again = resend_problems(current, tx.now, FIELD)  # a concurrent send may have used the last one
        if again:
            raise DomainError(again)
        updated = current.model_copy(update={"consent": sent(current.consent, tx.now),
                                             "version": current.version + 1})
        await repos.subscribers.replace(updated.to_doc(), session=tx.session)
        tx.record(consent_email_event(updated))
        return updated

    return await repos.atomic(write)


async def record_consent(repos: Repositories, caller: Caller, subscriber_id: str, accepted: bool) -> Subscriber:
    """R-CONS-2 (platform_admin): accepted → `provisioning` → `provisioned` (billing starts then); declined →
    `error` with USER_MIGRATION_DECLINED. The account directory's own consent timer is cancelled either way."""
    if not caller.principal.has(Role.PLATFORM_ADMIN):
        raise Forbidden("only a platform_admin may record a consent")
    doc = await repos.subscribers.find_doc(subscriber_id)
    if doc is None:
        raise _missing()
    problems = answer_problems(Subscriber.from_doc(doc), FIELD)
    if problems:
        raise DomainError(problems)

    async def write(tx: Tx) -> Subscriber:
        current = await _fresh(repos, tx, subscriber_id, None)
        again = answer_problems(current, FIELD)
        if again:
            raise DomainError(again)
        consent = answered(current.consent, tx.now, accepted)
        await tx.cancel(AwaitMigration(current.id, tx.now).job_id)
        if accepted:
            updated, change = current.move(SubscriberStatus.PROVISIONING, tx.now, consent=consent, errors=[])
            await tx.enqueue(SettleSubscriber(updated.id, "consent", updated.version))
        else:
            updated, change = current.move(SubscriberStatus.ERROR, tx.now, consent=consent, errors=[DECLINED],
                                           reason=ErrorCode.USER_MIGRATION_DECLINED.value)
        await repos.subscribers.replace(updated.to_doc(), session=tx.session)
        tx.record(change)
        return updated

    return await repos.atomic(write)
