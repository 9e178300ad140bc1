from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from domain.model.entities import OnboardingTemplate
from domain.rules.pagination import Order
from domain.store.driver import Session
from domain.store.repositories.base import KeptRepository

TEMPLATE_ORDER = Order("templates.created", (("createdAt", -1), ("_id", -1)))
# R-TPL-5: a retired template is kept (its customers still show it) but no list or lookup by name finds it.
ACTIVE: dict[str, Any] = {"retiredAt": None}


class TemplateRepository(KeptRepository[OnboardingTemplate]):
    """Onboarding templates; a page's templates are kept a moment (`recent_by_ids`)."""

    collection = "templates"
    model = OnboardingTemplate

    async def set_fields(self, entity_id: str, fields: Mapping[str, Any], *, session: Session | None = None) -> None:
        self.recent.forget([entity_id])
        await super().set_fields(entity_id, fields, session=session)

    async def by_provisioning_id(self, provisioning_id: str) -> OnboardingTemplate | None:
        """The template with this provisioningId, retired or not (the rules refuse a retired one)."""
        doc = await self.db.collection(self.collection).find_one({"provisioningId": provisioning_id})
        return OnboardingTemplate.from_doc(doc) if doc else None

    async def owned(self, template_id: str, owner_org_id: str, *, session: Session | None = None
                    ) -> OnboardingTemplate | None:
        """An active template of this owner; None for any other id (missing, foreign or retired: R-ORG-6)."""
        doc = await self.db.collection(self.collection).find_one(
            {"_id": template_id, "ownerOrgId": owner_org_id, **ACTIVE}, session=session)
        return OnboardingTemplate.from_doc(doc) if doc else None

    async def active_names(self, owner_org_id: str, *, excluding: str | None = None,
                           session: Session | None = None) -> list[str]:
        """The names of the owner's active templates (R-TPL-3), but `excluding`'s."""
        filter: dict[str, Any] = {"ownerOrgId": owner_org_id, **ACTIVE}
        if excluding is not None:
            filter["_id"] = {"$ne": excluding}
        docs = await self.db.find(self.collection, filter, projection={"name": 1}, session=session)
        return [str(d["name"]) for d in docs]

    async def replace_version(self, template: OnboardingTemplate, expected_version: int, *,
                              session: Session | None = None) -> bool:
        """Store `template` over the active one if that is still at `expected_version`; False if it moved on."""
        self.recent.forget([template.id])
        doc = template.to_doc()
        del doc["_id"]
        result = await self.db.collection(self.collection).update_one(
            {"_id": template.id, "version": expected_version, **ACTIVE}, {"$set": doc}, session=session)
        return bool(result.matched_count)
