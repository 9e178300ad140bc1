"""Orders and the setup wizard (DOMAIN.md §12, R-ORD-1…8): a resale partner's order of A-WX or A-SPK for a customer,
set up by a link holder (the provisioning contact, a colleague or the customer) and then provisioned.

Usage for other slices (trials, notify, orgs): `Order` is the stored entity (`orders` collection, id `ord_…`);
`Order.move(to, at)` is the one way its status changes (checked against `ORDER_MOVES`, version bumped, with its
`ORDER` event); lines name `ResaleService`s (trials' enum; `DEVICES` is never ordered, R-ORD-1).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from enum import Enum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from domain.model.changes import Change, EntityType
from domain.model.entities import PartnerAccess, ProvisioningError, _Entity
from domain.model.status import require_move
from domain.model.trials import ResaleService


class ResaleOffer(str, Enum):
    """What was bought in Cisco Commerce (002 step 1)."""

    A_WX = "A_WX"
    A_SPK = "A_SPK"


class OrderStatus(str, Enum):
    PLACED = "placed"
    AWAITING_SETUP = "awaiting_setup"
    SET_UP = "set_up"
    PROVISIONING = "provisioning"
    ACTIVE = "active"
    ERROR = "error"


class SetupResponsibility(str, Enum):
    """Who runs the setup wizard (R-ORD-4, 002 steps 3-4)."""

    PARTNER = "PARTNER"
    PARTNER_COLLEAGUE = "PARTNER_COLLEAGUE"
    CUSTOMER = "CUSTOMER"


_O = OrderStatus
# R-ORD-STATE as data: every move an order may make; anything else is INVALID_STATE.
ORDER_MOVES: Mapping[OrderStatus, frozenset[OrderStatus]] = {
    _O.PLACED: frozenset({_O.AWAITING_SETUP}),
    _O.AWAITING_SETUP: frozenset({_O.SET_UP}),
    _O.SET_UP: frozenset({_O.PROVISIONING}),
    _O.PROVISIONING: frozenset({_O.ACTIVE, _O.ERROR}),
    _O.ACTIVE: frozenset(),
    _O.ERROR: frozenset(),
}
# States in which a setup link still works (R-NOT-6).
LINK_STATES: frozenset[OrderStatus] = frozenset({_O.AWAITING_SETUP, _O.SET_UP})


class OrderLine(BaseModel):
    model_config = ConfigDict(frozen=True, populate_by_name=True)

    service: ResaleService
    quantity: int


class OrderSetup(BaseModel):
    """What `completeOrderSetup` stored (R-ORD-5): only ever written whole, by the successful completion."""

    model_config = ConfigDict(frozen=True, populate_by_name=True)

    customer_admin_email: str = Field(alias="customerAdminEmail")
    existing_org_id: str | None = Field(default=None, alias="existingOrgId")
    new_org_name: str | None = Field(default=None, alias="newOrgName")
    new_org_country: str | None = Field(default=None, alias="newOrgCountry")
    subdomain: str | None = None
    meetings_site_url: str | None = Field(default=None, alias="meetingsSiteUrl")
    meetings_timezone: str | None = Field(default=None, alias="meetingsTimezone")
    calling_location: dict[str, Any] | None = Field(default=None, alias="callingLocation")
    completed_by: str = Field(alias="completedBy")  # the link holder's address or the partner admin's sub


class Order(_Entity):
    owner_org_id: str = Field(alias="ownerOrgId")
    root_org_id: str = Field(alias="rootOrgId")
    offer: ResaleOffer
    lines: tuple[OrderLine, ...]
    requested_start_date: date = Field(alias="requestedStartDate")
    provisioning_contact_email: str = Field(alias="provisioningContactEmail")
    setup_by: SetupResponsibility = Field(default=SetupResponsibility.PARTNER, alias="setupBy")
    # Where the current setup link was sent (the contact, a colleague or the customer admin).
    link_holder_email: str = Field(alias="linkHolderEmail")
    link_version: int = Field(default=0, alias="linkVersion")  # R-NOT-6 `lv`: a resend/handover revokes the old
    status: OrderStatus
    setup_email_sent_at: datetime | None = Field(default=None, alias="setupEmailSentAt")
    follow_up_sent: bool = Field(default=False, alias="followUpSent")
    meetings_site_url: str | None = Field(default=None, alias="meetingsSiteUrl")  # named by the order (R-TRI-10)
    setup: OrderSetup | None = None
    org_id: str | None = Field(default=None, alias="orgId")
    trial_id: str | None = Field(default=None, alias="trialId")
    # The owner's access to the customer org once provisioned: NONE after a CUSTOMER handover (R-ORD-4/7).
    partner_access: PartnerAccess = Field(default=PartnerAccess.FULL_ADMIN, alias="partnerAccess")
    billing_started_at: datetime | None = Field(default=None, alias="billingStartedAt")
    created_by: str = Field(alias="createdBy")  # the creator's `sub` (the sales_admin limit, R-TRI-2)
    creator_email: str | None = Field(default=None, alias="creatorEmail")  # R-NOT-3: partner admins + creator
    errors: tuple[ProvisioningError, ...] = ()
    version: int = 1
    created_at: datetime = Field(alias="createdAt")
    last_status_change: datetime = Field(alias="lastStatusChange")

    @property
    def services(self) -> tuple[ResaleService, ...]:
        return tuple(line.service for line in self.lines)

    @property
    def customer_admin_email(self) -> str | None:
        return self.setup.customer_admin_email if self.setup else None

    @property
    def subdomain(self) -> str | None:
        return self.setup.subdomain if self.setup else None

    @property
    def site_url(self) -> str | None:
        """The meetings site: named by the order (a conversion) or chosen in the wizard."""
        return self.meetings_site_url or (self.setup.meetings_site_url if self.setup else None)

    def updated(self, **update: Any) -> Order:
        """A copy with `update` applied and the version bumped (a change that is not a move)."""
        return self.model_copy(update={**update, "version": self.version + 1})

    def move(self, to: OrderStatus, at: datetime, *, reason: str | None = None, **update: Any
             ) -> tuple[Order, Change]:
        """The one way an order changes status (R-ORD-STATE): checked, version bumped, stamped, with its event."""
        require_move(ORDER_MOVES, self.status, to, "order")
        moved = self.model_copy(update={**update, "status": to, "version": self.version + 1,
                                        "last_status_change": at})
        return moved, moved.change(self.status, reason=reason)

    def change(self, from_status: OrderStatus | None, *, reason: str | None = None) -> Change:
        return Change(EntityType.ORDER, self.id, self.owner_org_id, self.root_org_id,
                      from_status.value if from_status else None, self.status.value, self.version,
                      errors=self.errors, reason=reason,
                      # createdBy: a sales_admin's feed holds the events of what it created (R-TRI-2)
                      details={"offer": self.offer.value, "createdBy": self.created_by,
                               **({"trialId": self.trial_id} if self.trial_id else {})})
