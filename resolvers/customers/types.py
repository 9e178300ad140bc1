"""Customers, their packages and locations."""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Annotated

import strawberry

from domain.model import entities as models
from domain.model.entities import OnboardingTemplate, Partner
from domain.model.ids import license_id_of
from domain.rules.dialin import default_call_in_number
from domain.rules.locales import meetings_site_locale
from domain.store.driver import Document
from resolvers.background import BackgroundWork, background_work_of
from resolvers.common import Address, Connection, Node, ProvisioningError
from resolvers.context import Info
from resolvers.customers.attach import AttachInfoType
from resolvers.customers.locations import LocationType
from resolvers.enums import AuthMode, CustomerStatus, PackageName, PackageStatus, RplState, SubscriberOrder
from resolvers.loaders import made_once, now_or_later
from resolvers.subscribers.queries import counted_subscribers, nested_subscribers
from resolvers.subscribers.types import SubscriberConnection, SubscriberFilter
from resolvers.templates.types import OnboardingTemplateType

if TYPE_CHECKING:
    from resolvers.batches.types import SubscriberBatchConnection
    from resolvers.events.types import ProvisioningEventConnection
    from resolvers.workspaces.types import WorkspaceConnection

if TYPE_CHECKING:
    from resolvers.organisations.types import PartnerType
    from resolvers.setup_assist.types import SetupAssistRequestType


@strawberry.input
class CustomerFilter:
    external_id: str | None = None
    org_id: strawberry.ID | None = None
    status: list[CustomerStatus] | None = None
    name_contains: str | None = None
    sub_partner_org_id: strawberry.ID | None = strawberry.field(
        default=None, description="A parent naming one of its sub-partners (R-ORG-3).")
    include_sub_partners: bool | None = strawberry.field(
        default=False, description="A parent's own customers and all its sub-partners' (R-ORG-3).")


@strawberry.type
class RplMatch:
    list_name: str
    entry_name: str
    country: str | None
    score: float


@strawberry.type
class ContactAttempt:
    at: datetime
    reached: bool
    note: str | None


@strawberry.type
class ComplianceCheck:
    state: RplState
    screened_at: datetime | None
    review_deadline: datetime | None
    matches: list[RplMatch]
    decided_at: datetime | None
    note: str | None
    non_compliant_since: datetime | None = strawberry.field(
        description="Set while the customer is flagged after a rejected review (R-RPL-3).")
    contact_attempts: list[ContactAttempt]

    @classmethod
    def of(cls, c: models.Compliance) -> ComplianceCheck:
        return cls(
            state=c.state, screened_at=c.screened_at, review_deadline=c.review_deadline,
            matches=[RplMatch(list_name=m.list_name, entry_name=m.entry_name, country=m.country, score=m.score)
                     for m in c.matches],
            decided_at=c.decided_at, note=c.note, non_compliant_since=c.non_compliant_since,
            contact_attempts=[ContactAttempt(at=a.at, reached=a.reached, note=a.note) for a in c.contact_attempts],
        )


@strawberry.type
class CallInNumber:
    region: str
    country_code: str
    country: str


@strawberry.type(name="CustomerPackage")
class CustomerPackageType:
    customer_id: strawberry.Private[str]
    name: PackageName
    status: PackageStatus
    limit: int | None = strawberry.field(description="null = unlimited")
    errors: list[ProvisioningError]
    warnings: list[ProvisioningError]

    @strawberry.field(description="Subscribers holding this package now.")
    def assigned(self, info: Info) -> int:
        return now_or_later(info.context.loaders.assigned_by_customer, self.customer_id,  # type: ignore[return-value]
                            lambda counts: counts.get(self.name.value, 0))

    @strawberry.field(description="Its Webex licence ids; empty until it is provisioned (R-IDS-1).")
    def license_ids(self) -> list[strawberry.ID]:
        if self.status is not PackageStatus.PROVISIONED:
            return []
        return [strawberry.ID(license_id_of(self.customer_id, self.name.value))]


@strawberry.type(name="Customer")
class CustomerType(Node):
    model: strawberry.Private[models.Customer]
    id: strawberry.ID
    external_id: str
    org_id: strawberry.ID | None = strawberry.field(description="null until provisioned")
    name: str
    primary_email: str
    language: str = strawberry.field(description="Normalised 5-character locale (R-LOC-1).")
    address: Address
    status: CustomerStatus
    errors: list[ProvisioningError]
    warnings: list[ProvisioningError]
    billing_start_date: date | None
    restricted_by_partner_mode: bool
    version: int
    created_at: datetime
    updated_at: datetime
    last_status_change: datetime

    @classmethod
    def of_doc(cls, doc: Document) -> CustomerType:
        return cls.of(models.Customer.from_doc(doc))

    @classmethod
    def of(cls, c: models.Customer) -> CustomerType:
        return cls(
            model=c, id=strawberry.ID(c.id), external_id=c.external_id,
            org_id=strawberry.ID(c.org_id) if c.org_id else None, name=c.name, primary_email=c.primary_email,
            language=c.language, address=Address.of(c.address), status=c.status,
            errors=[ProvisioningError.of(e) for e in c.errors], warnings=[ProvisioningError.of(e) for e in c.warnings],
            billing_start_date=c.billing_start_date, restricted_by_partner_mode=c.restricted_by_partner_mode,
            version=c.version, created_at=c.created_at, updated_at=c.updated_at,
            last_status_change=c.last_status_change,
        )

    @strawberry.field(description="Restricted-party screening (R-RPL-1…3).")
    def compliance(self) -> ComplianceCheck:
        return ComplianceCheck.of(self.model.compliance)

    @strawberry.field(description="The authentication mode it was onboarded with (R-TPL-2: later template "
                                  "changes do not apply); an attached org's own (R-ATT-3).")
    def auth_mode(self) -> AuthMode:
        return self.model.auth_mode

    @strawberry.field(description="How Wholesale was attached to its existing org (R-ATT); null for an org the "
                                  "gateway created.")
    def attach(self) -> AttachInfoType | None:
        return AttachInfoType.of(self.model.attach) if self.model.attach is not None else None

    @strawberry.field(description="Its org also holds Flex licences (R-RBP-3).")
    def hybrid(self) -> bool:
        return self.model.hybrid

    @strawberry.field(description="Numbers, PSTN, app call priority and recording restricted (R-RBP-3).")
    def restrict_enterprise_settings(self) -> bool:
        return self.model.restrict_enterprise_settings

    @strawberry.field(description="Its status changes, in commit order.")
    async def events(
        self, info: Info, first: int | None = 50, after: str | None = None
    ) -> Annotated[ProvisioningEventConnection, strawberry.lazy("resolvers.events.types")]:
        from resolvers.events.queries import customer_events

        return await customer_events(info, self.model.id, first, after)

    @strawberry.field(description="The meetings-site locale (R-LOC-2).")
    def meetings_site_locale(self) -> str:
        return meetings_site_locale(self.model.language)

    @strawberry.field(description="What it waits for while it is not settled; null when idle (R-DASH-2).")
    def background_work(self, info: Info) -> BackgroundWork | None:
        return background_work_of(info, self.model.id, self.model.status.value)  # type: ignore[return-value]

    @strawberry.field(description="From the billing-address country (R-DIAL).")
    def default_call_in_number(self) -> CallInNumber:
        n = default_call_in_number(self.model.address.country)
        return CallInNumber(region=n.region, country_code=n.country_code, country=n.country)

    @strawberry.field
    def packages(self) -> list[CustomerPackageType]:
        return [
            CustomerPackageType(
                customer_id=self.model.id, name=PackageName(p.name), status=p.status,
                limit=p.limit, errors=[ProvisioningError.of(e) for e in p.errors],
                warnings=[ProvisioningError.of(e) for e in p.warnings],
            )
            for p in self.model.packages
        ]

    # Sync resolvers that may hand back an awaitable: answered at once when the list prefetched them.
    @strawberry.field
    def template(self, info: Info) -> OnboardingTemplateType:
        made = info.context.loaders.made
        return now_or_later(info.context.loaders.template_by_id, self.model.template_id,  # type: ignore[return-value]
                            lambda template: self._template(template, made))

    def _template(self, template: OnboardingTemplate | None, made: dict[tuple[str, str], object]
                  ) -> OnboardingTemplateType:
        assert template is not None, f"customer {self.model.id} names a missing template"
        return made_once(made, "template", template.id, lambda: OnboardingTemplateType.of(template))

    @strawberry.field(description="The partner or sub-partner that owns it.")
    def owner(self, info: Info) -> Annotated[PartnerType, strawberry.lazy("resolvers.organisations.types")]:
        made = info.context.loaders.made
        return now_or_later(info.context.loaders.partner_by_id, self.model.owner_org_id,  # type: ignore[return-value]
                            lambda owner: self._owner(owner, made))

    def _owner(self, owner: Partner | None, made: dict[tuple[str, str], object]) -> PartnerType:
        from resolvers.organisations.types import PartnerType

        assert owner is not None, f"customer {self.model.id} names a missing owner"
        return made_once(made, "partner", owner.id, lambda: PartnerType.of(owner))

    @strawberry.field
    async def locations(self, info: Info) -> list[LocationType]:
        docs = await info.context.loaders.locations_by_customer.load(self.model.id)
        return [LocationType.of_doc(d) for d in docs]

    @strawberry.field(description="Its Setup Assist requests, newest first (R-SA-1).")
    async def setup_assist_requests(
        self, info: Info
    ) -> list[Annotated[SetupAssistRequestType, strawberry.lazy("resolvers.setup_assist.types")]]:
        from resolvers.setup_assist.types import SetupAssistRequestType, setup_assist_loaders

        docs = await setup_assist_loaders(info).by_customer.load(self.model.id)
        return [SetupAssistRequestType.of_doc(d) for d in docs]

    @strawberry.field
    def subscribers(
        self, info: Info,
        filter: SubscriberFilter | None = None, first: int | None = 50, after: str | None = None,
        order_by: SubscriberOrder | None = SubscriberOrder["CREATED_DESC"],
    ) -> SubscriberConnection:
        # At once when only its count is asked for and the page prefetched it; else an awaitable (awaited by the
        # executor).
        counted = counted_subscribers(info, self.model, filter, first, after)
        if counted is not None:
            return counted
        return nested_subscribers(info, self.model, filter, first, after, order_by)  # type: ignore[return-value]

    @strawberry.field(description="Its common-area workspaces, oldest first (R-WS-1).")
    async def workspaces(
        self, info: Info, first: int | None = 50, after: str | None = None
    ) -> Annotated[WorkspaceConnection, strawberry.lazy("resolvers.workspaces.types")]:
        from resolvers.workspaces.types import customer_workspaces

        return await customer_workspaces(info, self.model.id, first, after)

    @strawberry.field(description="Its bulk subscriber batches, newest first (R-BULK-3).")
    async def subscriber_batches(
        self, info: Info, first: int | None = 50, after: str | None = None
    ) -> Annotated[SubscriberBatchConnection, strawberry.lazy("resolvers.batches.types")]:
        from resolvers.batches.types import customer_batches

        return await customer_batches(info, self.model.id, first, after)


@strawberry.type
class CustomerConnection(Connection[CustomerType]):
    pass


