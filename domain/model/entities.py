"""The entities of the wholesale business, as the domain sees them (not as the API shows them)."""

from __future__ import annotations

from datetime import date, datetime
from enum import Enum
from typing import Any, Self

from pydantic import BaseModel, ConfigDict, Field


class OrgKind(str, Enum):
    PARTNER = "PARTNER"
    SUB_PARTNER = "SUB_PARTNER"


class SubPartnerState(str, Enum):
    ACTIVE = "active"
    SUSPENDED = "suspended"


class AuthMode(str, Enum):
    WEBEX = "webex"
    PARTNER_SAML = "partner_saml"
    PARTNER_OIDC = "partner_oidc"


class CustomerStatus(str, Enum):
    PROVISIONING = "provisioning"
    PENDING_RPL_REVIEW = "pending_rpl_review"
    PROVISIONED = "provisioned"
    PROVISIONED_WITH_ERRORS = "provisioned_with_errors"
    UPDATING = "updating"
    DELETING = "deleting"
    ERROR = "error"


class PackageStatus(str, Enum):
    PROVISIONING = "provisioning"
    PROVISIONED = "provisioned"
    DELETING = "deleting"
    ERROR = "error"


class SubscriberStatus(str, Enum):
    PROVISIONING = "provisioning"
    PENDING_USER_MIGRATION = "pending_user_migration"
    PROVISIONED = "provisioned"
    UPDATING = "updating"
    DELETING = "deleting"
    ERROR = "error"


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
    version: int
    created_at: datetime = Field(alias="createdAt")
    updated_at: datetime = Field(alias="updatedAt")
    last_status_change: datetime = Field(alias="lastStatusChange")


class Location(_Entity):
    customer_id: str = Field(alias="customerId")
    owner_org_id: str = Field(alias="ownerOrgId")
    root_org_id: str = Field(alias="rootOrgId")
    name: str
    address: Address
    timezone: str
    language: str
    is_headquarters: bool = Field(alias="isHeadquarters")
    created_at: datetime = Field(alias="createdAt")


class Subscriber(_Entity):
    customer_id: str = Field(alias="customerId")
    owner_org_id: str = Field(alias="ownerOrgId")
    root_org_id: str = Field(alias="rootOrgId")
    email: str
    first_name: str = Field(alias="firstName")
    last_name: str = Field(alias="lastName")
    package: str
    primary_phone_number: str | None = Field(default=None, alias="primaryPhoneNumber")
    extension: str | None = None
    location_id: str | None = Field(default=None, alias="locationId")
    is_admin: bool = Field(alias="isAdmin")
    status: SubscriberStatus
    errors: list[ProvisioningError] = []
    version: int
    created_at: datetime = Field(alias="createdAt")
    last_status_change: datetime = Field(alias="lastStatusChange")
