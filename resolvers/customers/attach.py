"""The API side of attached orgs (R-ATT-1…3) and of a customer's restricted-by-partner settings (R-RBP-1…3)."""

from __future__ import annotations

from datetime import datetime

import strawberry

from domain.model import entities as models
from domain.services.attach import SettingsUpdate
from resolvers.enums import AttachApprovalState, PartnerAccess


@strawberry.type(name="AttachInfo")
class AttachInfoType:
    approval_state: AttachApprovalState
    requested_at: datetime | None = strawberry.field(description="When the org's admin was asked (R-ATT-2).")
    deadline: datetime | None = strawberry.field(description="Unanswered by then: `error` ATTACH_APPROVAL_TIMEOUT.")
    decided_at: datetime | None
    partner_access: PartnerAccess

    @classmethod
    def of(cls, info: models.AttachInfo) -> AttachInfoType:
        return cls(approval_state=info.approval_state, requested_at=info.requested_at, deadline=info.deadline,
                   decided_at=info.decided_at, partner_access=info.partner_access)


@strawberry.input
class CustomerSettingsInput:
    restricted_by_partner_mode: bool | None = strawberry.field(
        default=None, description="R-RBP-1; an attached customer cannot turn it on (SETTING_NOT_AVAILABLE).")
    restrict_enterprise_settings: bool | None = strawberry.field(
        default=None, description="R-RBP-3: only for a hybrid customer (SETTING_NOT_AVAILABLE).")

    def to_domain(self) -> SettingsUpdate:
        return SettingsUpdate(restricted_by_partner_mode=self.restricted_by_partner_mode,
                              restrict_enterprise_settings=self.restrict_enterprise_settings)
