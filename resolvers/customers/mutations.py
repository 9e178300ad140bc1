"""Customer provisioning mutations (DOMAIN.md §5): answered at once, finished in the background (R-CUS-1)."""

from __future__ import annotations

from datetime import date

import strawberry

from domain.model import entities as models
from domain.model.errors import FieldError
from domain.services import attach, compliance, customers
from resolvers.common import UserError, refused_as
from resolvers.context import Info
from resolvers.customers.types import CustomerType
from resolvers.enums import Decision, PackageName


@strawberry.input
class AddressInput:
    address_line1: str
    address_line2: str | None = None
    city: str
    state_or_province: str | None = None
    zip_or_postal_code: str | None = None
    country: str

    def to_model(self) -> models.Address:
        return models.Address(address_line1=self.address_line1, address_line2=self.address_line2, city=self.city,
                              state_or_province=self.state_or_province, zip_or_postal_code=self.zip_or_postal_code,
                              country=self.country)


@strawberry.input
class CustomerInfoInput:
    name: str
    primary_email: str
    language: str | None = None


@strawberry.input
class CallingLocationInput:
    name: str
    address: AddressInput
    timezone: str
    language: str
    emergency_location_identifier: str | None = None


@strawberry.input
class PackageLimitInput:
    package: PackageName
    limit: int


@strawberry.input
class ProvisioningParametersInput:
    calling_location: CallingLocationInput | None = None
    meetings_timezone: str | None = None
    limits: list[PackageLimitInput] | None = None

    def to_domain(self) -> customers.Parameters:
        loc = self.calling_location
        return customers.Parameters(
            calling_location=customers.CallingLocation(
                name=loc.name, address=loc.address.to_model(), timezone=loc.timezone, language=loc.language,
                emergency_location_identifier=loc.emergency_location_identifier) if loc is not None else None,
            meetings_timezone=self.meetings_timezone,
            limits=[(limit.package.value, limit.limit) for limit in self.limits] if self.limits is not None else None,
        )


@strawberry.input
class ProvisionCustomerInput:
    provisioning_id: strawberry.ID
    external_id: str
    packages: list[PackageName]
    address: AddressInput
    customer_info: CustomerInfoInput
    provisioning_parameters: ProvisioningParametersInput | None = None
    billing_start_date: date | None = None
    org_id: strawberry.ID | None = strawberry.field(
        default=None, description="Attach Wholesale to this existing org instead of creating one (R-ATT-1).")

    def to_domain(self) -> customers.NewCustomer:
        return customers.NewCustomer(
            provisioning_id=str(self.provisioning_id), external_id=self.external_id,
            packages=[p.value for p in self.packages], address=self.address.to_model(),
            name=self.customer_info.name, primary_email=self.customer_info.primary_email,
            language=self.customer_info.language,
            parameters=self.provisioning_parameters.to_domain() if self.provisioning_parameters
            else customers.Parameters(),
            billing_start_date=self.billing_start_date,
            org_id=str(self.org_id) if self.org_id is not None else None,
        )


@strawberry.input
class UpdateCustomerInput:
    packages: list[PackageName] = strawberry.field(description="The complete list (R-CUS-2).")
    external_id: str | None = None
    address: AddressInput | None = None
    provisioning_parameters: ProvisioningParametersInput | None = None
    billing_start_date: date | None = None


@strawberry.type
class CustomerPayload:
    customer: CustomerType | None
    errors: list[UserError]


@strawberry.type
class PrecheckInfo:
    code: int
    description: str


@strawberry.type
class PrecheckResult:
    ok: bool
    info: list[PrecheckInfo]
    errors: list[UserError]
    attach_approval_required: bool | None = strawberry.field(
        default=None, description="With `orgId`: whether the org's admin must approve (R-ATT-2); null otherwise.")

    @classmethod
    def of(cls, problems: list[FieldError], attach_approval_required: bool | None = None) -> PrecheckResult:
        if problems:
            return cls(ok=False, info=[], errors=[UserError.of(p) for p in problems],
                       attach_approval_required=attach_approval_required)
        code, description = customers.SUCCESS_INFO
        return cls(ok=True, info=[PrecheckInfo(code=code, description=description)], errors=[],
                   attach_approval_required=attach_approval_required)


def _payload(customer: models.Customer) -> CustomerPayload:
    return CustomerPayload(customer=CustomerType.of(customer), errors=[])


@strawberry.type
class CustomerMutations:
    @strawberry.mutation(description="Validates and answers at once with the customer in `provisioning` (R-CUS-1).")
    @refused_as(CustomerPayload)
    async def provision_customer(
        self, info: Info, input: ProvisionCustomerInput, on_behalf_of_sub_partner_org_id: strawberry.ID | None = None,
    ) -> CustomerPayload:
        customer = await customers.provision_customer(
            info.context.repos, await info.context.caller(), input.to_domain(), on_behalf_of_sub_partner_org_id)
        return _payload(customer)

    @strawberry.mutation(description="Replaces the package list (R-CUS-2); the customer moves to `updating`.")
    @refused_as(CustomerPayload)
    async def update_customer(
        self, info: Info, id: strawberry.ID, input: UpdateCustomerInput,
        on_behalf_of_sub_partner_org_id: strawberry.ID | None = None,
    ) -> CustomerPayload:
        data = customers.CustomerUpdate(
            packages=[p.value for p in input.packages], external_id=input.external_id,
            address=input.address.to_model() if input.address else None,
            parameters=input.provisioning_parameters.to_domain() if input.provisioning_parameters else None,
            billing_start_date=input.billing_start_date,
        )
        customer = await customers.update_customer(
            info.context.repos, await info.context.caller(), id, data, on_behalf_of_sub_partner_org_id)
        return _payload(customer)

    @strawberry.mutation(description="Starts deprovisioning (R-CUS-4); the customer moves to `deleting`.")
    @refused_as(CustomerPayload)
    async def delete_customer(
        self, info: Info, id: strawberry.ID, on_behalf_of_sub_partner_org_id: strawberry.ID | None = None,
    ) -> CustomerPayload:
        customer = await customers.delete_customer(
            info.context.repos, await info.context.caller(), id, on_behalf_of_sub_partner_org_id)
        return _payload(customer)

    @strawberry.mutation(description="Every problem of a provisioning request at once; never writes (R-PRE).")
    async def precheck_customer_provisioning(
        self, info: Info, input: ProvisionCustomerInput, on_behalf_of_sub_partner_org_id: strawberry.ID | None = None,
    ) -> PrecheckResult:
        problems = await customers.precheck_customer(
            info.context.repos, await info.context.caller(), input.to_domain(), on_behalf_of_sub_partner_org_id)
        required = await attach.approval_required(info.context.repos, input.org_id) if input.org_id else None
        return PrecheckResult.of(problems, required)

    @strawberry.mutation(description="compliance_reviewer: approve or reject a potential restricted-party match "
                                     "(R-RPL-2).")
    @refused_as(CustomerPayload)
    async def decide_rpl_review(
        self, info: Info, customer_id: strawberry.ID, decision: Decision, note: str | None = None,
    ) -> CustomerPayload:
        customer = await compliance.decide(info.context.repos, await info.context.caller(), customer_id, decision,
                                           note)
        return _payload(customer)

    @strawberry.mutation(description="compliance_reviewer: record an attempt to reach the partner of a "
                                     "non-compliant customer (R-RPL-3).")
    @refused_as(CustomerPayload)
    async def record_compliance_contact_attempt(
        self, info: Info, customer_id: strawberry.ID, reached: bool, note: str | None = None,
    ) -> CustomerPayload:
        customer = await compliance.record_contact_attempt(
            info.context.repos, await info.context.caller(), customer_id, reached, note)
        return _payload(customer)
