"""The entities of the wholesale business, as the domain sees them (not as the API shows them)."""

from __future__ import annotations

from datetime import date, datetime
from enum import Enum
from typing import Any, Self

from pydantic import BaseModel, ConfigDict, Field

from domain.model.changes import DELETED, Change, EntityType, package_entity_id
from domain.model.ids import person_id_of
from domain.model.status import CUSTOMER, SUBSCRIBER, require_move
from domain.model.status import CustomerStatus as CustomerStatus
from domain.model.status import PackageStatus as PackageStatus
from domain.model.status import SubscriberStatus as SubscriberStatus


class OrgKind(str, Enum):
    PARTNER = "PARTNER"
    SUB_PARTNER = "SUB_PARTNER"


class RouteToMarket(str, Enum):
    """How a partner sells (R-TRI-1): Wholesale customers (§5 to §8) or resale trials and orders (§10, §12)."""

    WHOLESALE = "WHOLESALE"
    RESALE = "RESALE"


class SubPartnerState(str, Enum):
    ACTIVE = "active"
    SUSPENDED = "suspended"


class AuthMode(str, Enum):
    WEBEX = "webex"
    PARTNER_SAML = "partner_saml"
    PARTNER_OIDC = "partner_oidc"


class RplState(str, Enum):
    CLEAR = "clear"
    UNDER_REVIEW = "under_review"
    APPROVED = "approved"
    REJECTED = "rejected"
    TIMED_OUT = "timed_out"


# Subscribers in these states hold their package (count towards `assigned` and package limits).
HOLDING_STATUSES: tuple[SubscriberStatus, ...] = (
    SubscriberStatus.PROVISIONING,
    SubscriberStatus.PENDING_USER_MIGRATION,
    SubscriberStatus.PROVISIONED,
    SubscriberStatus.UPDATING,
)


class _Entity(BaseModel):
    model_config = ConfigDict(frozen=True, populate_by_name=True, extra="ignore")

    id: str = Field(alias="_id")

    @classmethod
    def from_doc(cls, doc: dict[str, Any]) -> Self:
        return cls.model_validate(doc)

    def to_doc(self) -> dict[str, Any]:
        doc = self.model_dump(by_alias=True, mode="python")
        # BSON has no calendar-date type: dates are stored as ISO strings, which also sort correctly.
        return {k: v.isoformat() if type(v) is date else v for k, v in doc.items()}


class Partner(_Entity):
    kind: OrgKind
    name: str
    subscription_id: str = Field(alias="subscriptionId")
    parent_id: str | None = Field(default=None, alias="parentId")
    provisioning_state: SubPartnerState | None = Field(default=None, alias="provisioningState")
    billing_start_date: date | None = Field(default=None, alias="billingStartDate")
    delayed_billing_enabled: bool = Field(default=False, alias="delayedBillingEnabled")
    admin_email: str | None = Field(default=None, alias="adminEmail")
    # R-TRI-1: set at creation, never changed; a sub-partner's is its parent's (copied when it is created).
    route_to_market: RouteToMarket = Field(default=RouteToMarket.WHOLESALE, alias="routeToMarket")
    # R-NOT-3: where partner-admin emails go (a sub-partner's start with its adminEmail).
    notification_emails: tuple[str, ...] = Field(default=(), alias="notificationEmails")
    version: int = 1
    created_at: datetime = Field(alias="createdAt")

    @property
    def root_id(self) -> str:
        """The top-level partner this org belongs to (itself for a partner)."""
        return self.parent_id or self.id


class OnboardingTemplate(_Entity):
    owner_org_id: str = Field(alias="ownerOrgId")
    root_org_id: str = Field(alias="rootOrgId")
    provisioning_id: str = Field(alias="provisioningId")
    name: str
    country: str
    language: str
    auth_mode: AuthMode = Field(alias="authMode")
    idp_entity_id: str | None = Field(default=None, alias="idpEntityId")
    idp_name: str | None = Field(default=None, alias="idpName")
    brand_name: str | None = Field(default=None, alias="brandName")
    restrict_admin_invite_emails_on_attach: bool = Field(alias="restrictAdminInviteEmailsOnAttach")
    disable_webex_calling_1to1: bool = Field(alias="disableWebexCalling1to1")
    created_at: datetime = Field(alias="createdAt")
    # R-TPL-3 (2026-12). `subscription_id`: the owner's at creation, fixed (None: stored before, the owner's);
    # `name_key`: the folded name, set while the template is active (unique per owner, NAME_IN_USE).
    sp_admin_email: str | None = Field(default=None, alias="spAdminEmail")
    subscription_id: str | None = Field(default=None, alias="subscriptionId")
    pstn_vendor: str | None = Field(default=None, alias="pstnVendor")
    name_key: str | None = Field(default=None, alias="nameKey")
    version: int = 1
    updated_at: datetime | None = Field(default=None, alias="updatedAt")
    # R-TPL-5: a deleted template is retired, not removed: hidden from lists, unusable, still its customers'.
    retired_at: datetime | None = Field(default=None, alias="retiredAt")

    @property
    def status(self) -> str:
        """What its events say it is: `active`, or `deleted` once retired (R-TPL-5)."""
        return DELETED if self.retired_at is not None else TEMPLATE_ACTIVE

    def change(self, from_status: str | None, **update: Any) -> Change:
        """The event of this template (as it is now) having come from `from_status` (None: it is new)."""
        return Change(EntityType.ONBOARDING_TEMPLATE, self.id, self.owner_org_id, self.root_org_id, from_status,
                      self.status, self.version, **update)


TEMPLATE_ACTIVE = "active"


class Address(BaseModel):
    model_config = ConfigDict(frozen=True, populate_by_name=True, extra="ignore")

    address_line1: str = Field(alias="addressLine1")
    address_line2: str | None = Field(default=None, alias="addressLine2")
    city: str
    state_or_province: str | None = Field(default=None, alias="stateOrProvince")
    zip_or_postal_code: str | None = Field(default=None, alias="zipOrPostalCode")
    country: str


class ProvisioningError(BaseModel):
    model_config = ConfigDict(frozen=True)

    code: str
    message: str


class CustomerPackage(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    name: str
    status: PackageStatus
    limit: int | None = None
    errors: list[ProvisioningError] = []
    warnings: list[ProvisioningError] = []


class RplMatch(BaseModel):
    model_config = ConfigDict(frozen=True, populate_by_name=True, extra="ignore")

    entry_id: str = Field(alias="entryId")
    list_name: str = Field(alias="listName")
    entry_name: str = Field(alias="entryName")
    country: str | None = None
    score: float


class ContactAttempt(BaseModel):
    model_config = ConfigDict(frozen=True, populate_by_name=True, extra="ignore")

    at: datetime
    reached: bool
    note: str | None = None
    by: str


class Compliance(BaseModel):
    """The restricted-party screening of a customer (R-RPL-1…3)."""

    model_config = ConfigDict(frozen=True, populate_by_name=True, extra="ignore")

    state: RplState = RplState.CLEAR
    screened_at: datetime | None = Field(default=None, alias="screenedAt")
    review_deadline: datetime | None = Field(default=None, alias="reviewDeadline")
    matches: list[RplMatch] = []
    decided_at: datetime | None = Field(default=None, alias="decidedAt")
    decided_by: str | None = Field(default=None, alias="decidedBy")
    note: str | None = None
    # R-RPL-3: set while a provisioned customer is flagged non-compliant.
    non_compliant_since: datetime | None = Field(default=None, alias="nonCompliantSince")
    contact_attempts: list[ContactAttempt] = Field(default=[], alias="contactAttempts")


class AttachApprovalState(str, Enum):
    """R-ATT-2: where the attached org's admin stands on the partner's request."""

    NOT_REQUIRED = "not_required"
    PENDING = "pending"
    APPROVED = "approved"
    DECLINED = "declined"
    TIMED_OUT = "timed_out"


class PartnerAccess(str, Enum):
    """The partner's administrative access to a customer's org (R-ATT-3)."""

    FULL_ADMIN = "FULL_ADMIN"
    PROVISIONING_ADMIN = "PROVISIONING_ADMIN"
    NONE = "NONE"


class AttachInfo(BaseModel):
    """How Wholesale was attached to an existing org (R-ATT-1…3); absent for an org the gateway created."""

    model_config = ConfigDict(frozen=True, populate_by_name=True, extra="ignore")

    approval_state: AttachApprovalState = Field(alias="approvalState")
    partner_access: PartnerAccess = Field(alias="partnerAccess")
    # Set when the approval request goes out (the customer enters `pending_customer_approval`).
    requested_at: datetime | None = Field(default=None, alias="requestedAt")
    deadline: datetime | None = None
    decided_at: datetime | None = Field(default=None, alias="decidedAt")
    decided_by: str | None = Field(default=None, alias="decidedBy")
    note: str | None = None


class Customer(_Entity):
    owner_org_id: str = Field(alias="ownerOrgId")
    root_org_id: str = Field(alias="rootOrgId")
    template_id: str = Field(alias="templateId")
    external_id: str = Field(alias="externalId")
    org_id: str | None = Field(default=None, alias="orgId")
    name: str
    primary_email: str = Field(alias="primaryEmail")
    language: str
    address: Address
    packages: list[CustomerPackage]
    meetings_timezone: str | None = Field(default=None, alias="meetingsTimezone")
    billing_start_date: date | None = Field(default=None, alias="billingStartDate")
    restricted_by_partner_mode: bool = Field(default=True, alias="restrictedByPartnerMode")
    status: CustomerStatus
    errors: list[ProvisioningError] = []
    warnings: list[ProvisioningError] = []
    compliance: Compliance = Compliance()
    # R-TPL-2: the template's authentication mode at onboarding; later template changes do not apply.
    auth_mode: AuthMode = Field(default=AuthMode.WEBEX, alias="authMode")
    admin_subscriber_id: str | None = Field(default=None, alias="adminSubscriberId")
    # R-ATT / R-RBP (2026-12): how it was attached (None: created by the gateway), whether its org also holds
    # Flex licences (R-RBP-3), and the restriction only such a hybrid customer may get.
    attach: AttachInfo | None = None
    hybrid: bool = False
    restrict_enterprise_settings: bool = Field(default=False, alias="restrictEnterpriseSettings")
    version: int
    created_at: datetime = Field(alias="createdAt")
    updated_at: datetime = Field(alias="updatedAt")
    last_status_change: datetime = Field(alias="lastStatusChange")

    def move(self, to: CustomerStatus, at: datetime, *, reason: str | None = None,
             **fields: Any) -> tuple[Customer, Change]:
        """The one way a customer changes status (R-CUS-STATE): checked against the machine, its version bumped,
        its times stamped, `fields` applied; returns the customer as it becomes and the event that says so."""
        require_move(CUSTOMER, self.status, to, "customer")
        moved = self.model_copy(update={**fields, "status": to, "version": self.version + 1, "updated_at": at,
                                        "last_status_change": at})
        return moved, moved.change(self.status, reason=reason)

    def revised(self, at: datetime, **fields: Any) -> Customer:
        """The customer with `fields` changed and its version bumped, its status as it is (no event)."""
        return self.model_copy(update={**fields, "version": self.version + 1, "updated_at": at})

    def change(self, from_status: CustomerStatus | None, *, reason: str | None = None) -> Change:
        """The event of this customer having come from `from_status` (None: it is new) to its status."""
        return Change(EntityType.CUSTOMER, self.id, self.owner_org_id, self.root_org_id,
                      from_status.value if from_status else None, self.status.value, self.version,
                      customer_id=self.id, errors=list(self.errors), reason=reason)

    def package_change(self, package: CustomerPackage, from_status: PackageStatus | None,
                       to_status: str | None = None) -> Change:
        """The event of one of its packages having moved (to `to_status`, or the package's own status)."""
        return Change(EntityType.CUSTOMER_PACKAGE, package_entity_id(self.id, package.name), self.owner_org_id,
                      self.root_org_id, from_status.value if from_status else None, to_status or package.status.value,
                      self.version, customer_id=self.id, errors=list(package.errors),
                      details={"package": package.name})

    def removals(self) -> list[Change]:
        """The last events of a customer whose deletion completed: each of its packages', then its own."""
        gone = self.version + 1
        return [*(Change(EntityType.CUSTOMER_PACKAGE, package_entity_id(self.id, p.name), self.owner_org_id,
                         self.root_org_id, p.status.value, DELETED, gone, customer_id=self.id,
                         details={"package": p.name}) for p in self.packages),
                Change(EntityType.CUSTOMER, self.id, self.owner_org_id, self.root_org_id, self.status.value, DELETED,
                       gone, customer_id=self.id)]


class Location(_Entity):
    customer_id: str = Field(alias="customerId")
    owner_org_id: str = Field(alias="ownerOrgId")
    root_org_id: str = Field(alias="rootOrgId")
    name: str
    address: Address
    timezone: str
    language: str
    is_headquarters: bool = Field(alias="isHeadquarters")
    # R-LOCN-1 (2026-12): the emergency (E911) location id, and a version bumped by every change of the location.
    emergency_location_identifier: str | None = Field(default=None, alias="emergencyLocationIdentifier")
    # R-TPL-4: the cloud-connected PSTN vendor of the customer's template when it was onboarded (HQ only).
    pstn_vendor: str | None = Field(default=None, alias="pstnVendor")
    version: int = 1
    created_at: datetime = Field(alias="createdAt")


class ConsentState(BaseModel):
    """R-CONS-1/2: the consent emails of a subscriber whose free account must agree to join the org, and the answer.

    `recent_sends` keeps the times of the last sends (at most the rolling window's limit) for CONSENT_EMAIL_LIMIT.
    """

    model_config = ConfigDict(frozen=True, populate_by_name=True, extra="ignore")

    emails_sent: int = Field(default=0, alias="emailsSent")
    last_email_sent_at: datetime | None = Field(default=None, alias="lastEmailSentAt")
    recent_sends: list[datetime] = Field(default_factory=list, alias="recentSends")
    answered_at: datetime | None = Field(default=None, alias="answeredAt")
    accepted: bool | None = None


class Subscriber(_Entity):
    customer_id: str = Field(alias="customerId")
    owner_org_id: str = Field(alias="ownerOrgId")
    root_org_id: str = Field(alias="rootOrgId")
    email: str
    first_name: str = Field(alias="firstName")
    last_name: str = Field(alias="lastName")
    package: str
    # R-PKG-3 / R-ADD-1: the user add-ons beside the one base package (attendant_console is the only one).
    add_ons: list[str] = Field(default_factory=list, alias="addOns")
    primary_phone_number: str | None = Field(default=None, alias="primaryPhoneNumber")
    extension: str | None = None
    location_id: str | None = Field(default=None, alias="locationId")
    # R-IDS-1: the Webex person id, minted the first time the subscriber is provisioned, kept from then on.
    person_id: str | None = Field(default=None, alias="personId")
    is_admin: bool = Field(alias="isAdmin")
    status: SubscriberStatus
    # R-CONS-1/2: set once the subscriber entered `pending_user_migration` (None: it never did).
    consent: ConsentState | None = None
    errors: list[ProvisioningError] = []
    # R-ATT-3 (2026-12): one of its attached org's own users (joins without consent), and what it was told.
    org_user: bool = Field(default=False, alias="orgUser")
    warnings: list[ProvisioningError] = []
    version: int
    created_at: datetime = Field(alias="createdAt")
    last_status_change: datetime = Field(alias="lastStatusChange")

    def move(self, to: SubscriberStatus, at: datetime, *, reason: str | None = None,
             **fields: Any) -> tuple[Subscriber, Change]:
        """The one way a subscriber changes status (R-SUB-3): checked against the machine, its version bumped,
        stamped, `fields` applied; returns the subscriber as it becomes and the event that says so."""
        require_move(SUBSCRIBER, self.status, to, "subscriber")
        if to is SubscriberStatus.PROVISIONED and self.person_id is None:
            fields = {"person_id": person_id_of(self.id), **fields}
        moved = self.model_copy(update={**fields, "status": to, "version": self.version + 1,
                                        "last_status_change": at})
        return moved, moved.change(self.status, reason=reason)

    def change(self, from_status: SubscriberStatus | None, *, reason: str | None = None) -> Change:
        """The event of this subscriber having come from `from_status` (None: it is new) to its status."""
        return Change(EntityType.SUBSCRIBER, self.id, self.owner_org_id, self.root_org_id,
                      from_status.value if from_status else None, self.status.value, self.version,
                      customer_id=self.customer_id, errors=list(self.errors), reason=reason,
                      details={"package": self.package})

    def removal(self, *, reason: str | None = None) -> Change:
        """The last event of a subscriber that left (its deletion completed, or its customer's)."""
        return Change(EntityType.SUBSCRIBER, self.id, self.owner_org_id, self.root_org_id, self.status.value,
                      DELETED, self.version + 1, customer_id=self.customer_id, errors=list(self.errors),
                      reason=reason, details={"package": self.package})
