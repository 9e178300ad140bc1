from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from resolvers.schema import sdl

ROOT = Path(__file__).resolve().parents[2]

READ_SIDE_TYPES = "Viewer,Partner,OnboardingTemplate,CustomerPackage,Location,Address,CallInNumber,PageInfo"
READ_SIDE_FIELDS = ",".join(
    f"Query.{f}" for f in
    ("viewer", "node", "subPartners", "onboardingTemplates", "customer", "customers", "subscriber", "subscribers",
     "partners")
)
MUTATION_FIELDS = ",".join(
    f"Mutation.{f}" for f in ("createOnboardingTemplate", "createPartner", "createSubPartner", "setSubPartnerState")
)


def test_committed_schema_matches_the_code() -> None:
    committed = (ROOT / "schema.graphql").read_text()
    assert committed == sdl(), "schema.graphql is stale: run `make schema` and review the API change"


def test_read_side_and_organisation_mutations_honour_the_contract(shared_dir: Path) -> None:
    result = subprocess.run(
        [sys.executable, str(shared_dir / "tools" / "contract_check.py"), str(ROOT / "schema.graphql"),
         "--only", READ_SIDE_TYPES + ",PartnerPayload,OnboardingTemplatePayload,UserError,CreatePartnerInput,"
         "CreateSubPartnerInput,CreateOnboardingTemplateInput,CustomerFilter,SubscriberFilter",
         "--fields", READ_SIDE_FIELDS + "," + MUTATION_FIELDS],
        capture_output=True, text=True, check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip().endswith("contract: honoured")


# Issue 3: every provisioning mutation and the types they use (billing and subscriptions come later).
PROVISIONING_TYPES = (
    "Customer,Subscriber,CustomerPayload,SubscriberPayload,DeletePayload,PrecheckResult,PrecheckInfo,"
    "ComplianceCheck,RplMatch,RplState,RplDecision,ProvisionCustomerInput,UpdateCustomerInput,AddressInput,"
    "CustomerInfoInput,CallingLocationInput,PackageLimitInput,ProvisioningParametersInput,ProvisionSubscriberInput,"
    "UpdateSubscriberInput,EntityType,EventFilter,ProvisioningEventConnection,ProvisioningEventEdge,ErrorCode"
)
PROVISIONING_FIELDS = ",".join(
    [f"Mutation.{f}" for f in (
        "provisionCustomer", "updateCustomer", "deleteCustomer", "precheckCustomerProvisioning",
        "provisionSubscriber", "updateSubscriber", "deleteSubscriber", "precheckSubscriberProvisioning",
        "decideRplReview", "recordComplianceContactAttempt")]
    + ["Query.rplReviewQueue", "Query.provisioningEvents"]
    + [f"ProvisioningEvent.{f}" for f in (
        "cursor", "entityType", "entityId", "customerId", "ownerOrgId", "fromStatus", "toStatus", "version",
        "errors", "reason", "occurredAt", "customer", "subscriber")]
)


def test_provisioning_mutations_and_their_types_honour_the_contract(shared_dir: Path) -> None:
    result = subprocess.run(
        [sys.executable, str(shared_dir / "tools" / "contract_check.py"), str(ROOT / "schema.graphql"),
         "--only", PROVISIONING_TYPES, "--fields", PROVISIONING_FIELDS],
        capture_output=True, text=True, check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip().endswith("contract: honoured")


# Issue 4: live status feeds.
def test_live_feed_types_honour_the_contract(shared_dir: Path) -> None:
    result = subprocess.run(
        [sys.executable, str(shared_dir / "tools" / "contract_check.py"), str(ROOT / "schema.graphql"),
         "--only", "Subscription,ProvisioningEvent,EventFilter,BillingReport,BillingRow,BillingRowConnection",
         "--fields", "Query.eventsHead"],
        capture_output=True, text=True, check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip().endswith("contract: honoured")


# Issue 5: billing completes the contract, so from here on the whole of it is checked.
def test_the_whole_contract_is_honoured(shared_dir: Path) -> None:
    result = subprocess.run(
        [sys.executable, str(shared_dir / "tools" / "contract_check.py"), str(ROOT / "schema.graphql")],
        capture_output=True, text=True, check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip().endswith("contract: honoured")
