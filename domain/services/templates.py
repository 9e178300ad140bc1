"""Onboarding templates (DOMAIN.md §4): create, update (R-TPL-4) and retire (R-TPL-5).

Each is full_admin work of the owner, or of its parent acting for it (R-ORG-4). Every change bumps the
template's version and is recorded as an ONBOARDING_TEMPLATE event in the same transaction (R-EVT-1): the
creation (→ `active`), each update (UPDATE, with its field changes) and the retirement (→ `deleted`).
Customers copy what they need at onboarding, so no change of a template reaches a customer already onboarded.
"""

from __future__ import annotations

import uuid

from domain.model.audit import EventAction, field_changes
from domain.model.entities import TEMPLATE_ACTIVE, OnboardingTemplate, Partner
from domain.model.errors import DomainError, ErrorCode
from domain.model.ids import Kind, new_id
from domain.model.principal import Scope
from domain.rules.templates import UPDATABLE, cleaned, name_key, plan_template, plan_template_update
from domain.rules.templates import NewTemplate as NewTemplate
from domain.rules.templates import TemplateUpdate as TemplateUpdate
from domain.rules.tenancy import Caller
from domain.services.acting import acting_owner
from domain.store.driver import DuplicateKey
from domain.store.repositories import Repositories, Tx


def _name_in_use() -> DomainError:
    return DomainError.single(ErrorCode.NAME_IN_USE, "another template of this owner has this name", "input", "name")


async def _taken_names(repos: Repositories, owner: Partner, excluding: str | None = None) -> set[str]:
    return {name_key(n) for n in await repos.templates.active_names(owner.id, excluding=excluding)}


async def create_template(
    repos: Repositories, caller: Caller, data: NewTemplate, on_behalf_of: str | None
) -> OnboardingTemplate:
    # Creating a template is not provisioning: a suspended sub-partner keeps that (as before 2026-12); changing
    # one is refused to it like every other 2026-12 write but deletion (R-ORG-5).
    owner = await acting_owner(repos, caller, on_behalf_of, Scope.CUSTOMERS_WRITE, allow_suspended=True,
                               full_admin=True)
    problems, language = plan_template(data, await _taken_names(repos, owner))
    problems.raise_if_any()
    assert language is not None
    settings = cleaned(data, language)
    now = repos.clock.now()
    template = OnboardingTemplate(
        id=new_id(Kind.TEMPLATE), owner_org_id=owner.id, root_org_id=owner.root_id,
        provisioning_id=str(uuid.uuid4()), name=settings.name, country=settings.country, language=settings.language,
        auth_mode=settings.auth_mode, idp_entity_id=settings.idp_entity_id, idp_name=settings.idp_name,
        brand_name=settings.brand_name,
        restrict_admin_invite_emails_on_attach=settings.restrict_admin_invite_emails_on_attach,
        disable_webex_calling_1to1=settings.disable_webex_calling_1to1, sp_admin_email=settings.sp_admin_email,
        # R-TPL-3: the owner's wholesale subscription (a sub-partner's is its parent's), fixed for good.
        subscription_id=owner.subscription_id, pstn_vendor=settings.pstn_vendor, name_key=name_key(settings.name),
        version=1, created_at=now, updated_at=now,
    )

    async def write(tx: Tx) -> None:
        try:
            await repos.templates.insert(template.to_doc(), session=tx.session)
        except DuplicateKey:  # a concurrent creation took the name first
            raise _name_in_use() from None
        tx.record(template.change(None))

    await repos.atomic(write)
    return template


async def owned_template(repos: Repositories, owner: Partner, template_id: str) -> OnboardingTemplate:
    """An active template of `owner`; any other id is NOT_FOUND, whether it exists elsewhere or not (R-ORG-6)."""
    template = await repos.templates.owned(template_id, owner.id)
    if template is None:
        raise DomainError.single(ErrorCode.NOT_FOUND, "no onboarding template has this id", "id")
    return template


def _changed_meanwhile() -> DomainError:
    return DomainError.single(ErrorCode.INVALID_STATE, "the template changed meanwhile: read it again", "id")


async def update_template(
    repos: Repositories, caller: Caller, template_id: str, update: TemplateUpdate, on_behalf_of: str | None
) -> OnboardingTemplate:
    """R-TPL-4: any setting but provisioningId/subscriptionId; customers already onboarded keep theirs.

    An update that changes nothing writes nothing and returns the template as it is.
    """
    owner = await acting_owner(repos, caller, on_behalf_of, Scope.CUSTOMERS_WRITE, full_admin=True)
    current = await owned_template(repos, owner, template_id)
    plan = plan_template_update(current, update, await _taken_names(repos, owner, excluding=current.id))
    plan.problems.raise_if_any()
    if not plan.changed:
        return current
    now = repos.clock.now()
    updated = current.model_copy(update={**plan.changed, "name_key": name_key(plan.changed.get("name", current.name)),
                                         "version": current.version + 1, "updated_at": now})
    fields = [UPDATABLE[name] for name in UPDATABLE if name in plan.changed]

    async def write(tx: Tx) -> None:
        try:
            stored = await repos.templates.replace_version(updated, current.version, session=tx.session)
        except DuplicateKey:
            raise _name_in_use() from None
        if not stored:
            raise _changed_meanwhile()
        tx.record(updated.change(TEMPLATE_ACTIVE, action=EventAction.UPDATE,
                                 changes=field_changes(current.to_doc(), updated.to_doc(), fields)))

    await repos.atomic(write)
    return updated


async def delete_template(
    repos: Repositories, caller: Caller, template_id: str, on_behalf_of: str | None
) -> str:
    """R-TPL-5: retire the template: gone from lists, its provisioningId refused from now on (TEMPLATE_NOT_FOUND),
    still shown by the customers onboarded with it. A suspended sub-partner may do this (R-ORG-5)."""
    owner = await acting_owner(repos, caller, on_behalf_of, Scope.CUSTOMERS_WRITE, allow_suspended=True,
                               full_admin=True)
    current = await owned_template(repos, owner, template_id)
    now = repos.clock.now()
    retired = current.model_copy(update={"retired_at": now, "name_key": None, "version": current.version + 1,
                                         "updated_at": now})

    async def write(tx: Tx) -> None:
        if not await repos.templates.replace_version(retired, current.version, session=tx.session):
            raise _changed_meanwhile()
        tx.record(retired.change(TEMPLATE_ACTIVE))

    await repos.atomic(write)
    return current.id
