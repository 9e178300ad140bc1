from __future__ import annotations

from domain.model.entities import OnboardingTemplate
from domain.rules.pagination import Order
from domain.store.repositories.base import Repository

TEMPLATE_ORDER = Order("templates.created", (("createdAt", -1), ("_id", -1)))


class TemplateRepository(Repository):
    collection = "templates"

    async def by_provisioning_id(self, provisioning_id: str) -> OnboardingTemplate | None:
        doc = await self.db.collection(self.collection).find_one({"provisioningId": provisioning_id})
        return OnboardingTemplate.from_doc(doc) if doc else None
