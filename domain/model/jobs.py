"""Background work as typed commands: every kind of job the gateway runs, and what each one carries.

A use case never writes a job document itself: it hands one of these commands to its unit of work
(`await tx.enqueue(SettleCustomer(customer.id, "provision", customer.version, screen=True))`), and the
command is stored in the same transaction as the change that needs it. The command also names the job's
id, which makes enqueueing idempotent: the same step of the same entity version is one job, however often
it is asked for.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from typing import Any, ClassVar


class JobKind(str, Enum):
    """The kinds of job the worker knows; the value is what a job document stores."""

    SETTLE_CUSTOMER = "customer.settle"
    SETTLE_SUBSCRIBER = "subscriber.settle"
    SUBSCRIBER_MIGRATION = "subscriber.migration"
    SETTLE_WORKSPACE = "workspace.settle"
    RPL_REVIEW_TIMEOUT = "rpl.timeout"
    COMPLIANCE_DEADLINE = "compliance.deadline"
    ATTACH_APPROVAL_TIMEOUT = "attach.timeout"  # R-ATT-2: 10 days for the org's admin to answer
    GENERATE_REPORT = "billing.generate"
    DISCARD_REPORT = "billing.discard"
    PURGE_EVENTS = "events.purge"
    RUN_BATCH = "batch.run"  # R-BULK-3: one durable job per subscriber batch
    PUSH_CUSTOMER_SETTINGS = "customer.settings"  # R-RBP-2: the customer's settings passed to the Webex side
    PROVISION_TRIAL = "trial.provision"  # R-TRI-6: the simulated Webex side sets a trial up
    TRIAL_TIMER = "trial.timer"  # R-TRI-STATE, R-TRI-11: consent expiry, expiry notices, expiry, grace end
    SHIPMENT_LOGISTICS = "shipment.logistics"  # R-TRI-7: the simulated logistics side ships, then delivers
    SHIPMENT_RETURN_OVERDUE = "shipment.overdue"  # R-TRI-7: device end + 14 days
    ORDER_SETUP_START = "order.setup"  # R-ORD-STATE: placed → awaiting_setup at the requested start date
    ORDER_FOLLOW_UP = "order.follow_up"  # R-ORD-3: the one-day follow-up
    PROVISION_ORDER = "order.provision"  # R-ORD-7: the simulated Webex side provisions a set-up order


@dataclass(frozen=True)
class JobCommand:
    """One job to run for one entity: `run_at` None means now; `wait_for` parks it until that entity settles."""

    kind: ClassVar[JobKind]
    # A timer's name: its job acts as that timer of the system (R-AUD-1), not as whoever scheduled it.
    timer: ClassVar[str | None] = None
    entity_id: str

    @property
    def job_id(self) -> str:
        raise NotImplementedError

    @property
    def payload(self) -> Mapping[str, Any]:
        return {}

    @property
    def run_at(self) -> datetime | None:
        return None

    @property
    def wait_for(self) -> str | None:
        return None


@dataclass(frozen=True)
class SettleCustomer(JobCommand):
    """Move a customer on after `operation` (provision, update, reviewed, delete) of its `version`."""

    kind: ClassVar[JobKind] = JobKind.SETTLE_CUSTOMER
    operation: str
    version: int
    screen: bool | None = None  # R-RPL-1: screen the name first (None: the payload says nothing)

    @property
    def job_id(self) -> str:
        return f"customer:{self.entity_id}:{self.operation}:v{self.version}"

    @property
    def payload(self) -> Mapping[str, Any]:
        return {} if self.screen is None else {"screen": self.screen}


@dataclass(frozen=True)
class SettleSubscriber(JobCommand):
    """Move a subscriber on after `operation` of its `version`; parked until its customer settles (R-RPL-5)."""

    kind: ClassVar[JobKind] = JobKind.SETTLE_SUBSCRIBER
    operation: str
    version: int
    previous_package: str | None = None
    waiting_for: str | None = None

    @property
    def job_id(self) -> str:
        return f"subscriber:{self.entity_id}:{self.operation}:v{self.version}"

    @property
    def payload(self) -> Mapping[str, Any]:
        return {} if self.previous_package is None else {"previousPackage": self.previous_package}

    @property
    def wait_for(self) -> str | None:
        return self.waiting_for


@dataclass(frozen=True)
class SettleWorkspace(JobCommand):
    """Move a workspace on after `operation` of its `version`; parked until its customer settles (R-WS-2)."""

    kind: ClassVar[JobKind] = JobKind.SETTLE_WORKSPACE
    operation: str
    version: int
    waiting_for: str | None = None

    @property
    def job_id(self) -> str:
        return f"workspace:{self.entity_id}:{self.operation}:v{self.version}"

    @property
    def wait_for(self) -> str | None:
        return self.waiting_for


@dataclass(frozen=True)
class AwaitMigration(JobCommand):
    """R-SUB-3: settle a subscriber again once its free account consented (at `consent_at`)."""

    kind: ClassVar[JobKind] = JobKind.SUBSCRIBER_MIGRATION
    consent_at: datetime

    @property
    def job_id(self) -> str:
        return f"subscriber:{self.entity_id}:migration"

    @property
    def run_at(self) -> datetime | None:
        return self.consent_at


@dataclass(frozen=True)
class ReviewTimeout(JobCommand):
    """R-RPL-2: the end of a customer's review window."""

    kind: ClassVar[JobKind] = JobKind.RPL_REVIEW_TIMEOUT
    timer: ClassVar[str | None] = "rpl_review_timeout"
    deadline: datetime

    @property
    def job_id(self) -> str:
        return review_timeout_id(self.entity_id)

    @property
    def run_at(self) -> datetime | None:
        return self.deadline


@dataclass(frozen=True)
class ComplianceDeadline(JobCommand):
    """R-RPL-3: the end of a flagged org's 30 days to become compliant again."""

    kind: ClassVar[JobKind] = JobKind.COMPLIANCE_DEADLINE
    timer: ClassVar[str | None] = "compliance_deadline"
    deadline: datetime

    @property
    def job_id(self) -> str:
        return compliance_deadline_id(self.entity_id)

    @property
    def run_at(self) -> datetime | None:
        return self.deadline


@dataclass(frozen=True)
class AttachApprovalTimeout(JobCommand):
    """R-ATT-2: the end of an attached org's admin's 10 days to approve."""

    kind: ClassVar[JobKind] = JobKind.ATTACH_APPROVAL_TIMEOUT
    timer: ClassVar[str | None] = "attach_approval_timeout"
    deadline: datetime

    @property
    def job_id(self) -> str:
        return attach_timeout_id(self.entity_id)

    @property
    def run_at(self) -> datetime | None:
        return self.deadline


@dataclass(frozen=True)
class GenerateReport(JobCommand):
    kind: ClassVar[JobKind] = JobKind.GENERATE_REPORT

    @property
    def job_id(self) -> str:
        return f"billing:{self.entity_id}:generate"


@dataclass(frozen=True)
class DiscardReport(JobCommand):
    kind: ClassVar[JobKind] = JobKind.DISCARD_REPORT

    @property
    def job_id(self) -> str:
        return f"billing:{self.entity_id}:discard"


@dataclass(frozen=True)
class PurgeEvents(JobCommand):
    """R-EVT-2: the recurring retention job, one for all processes (its id is fixed)."""

    kind: ClassVar[JobKind] = JobKind.PURGE_EVENTS
    timer: ClassVar[str | None] = "event_retention"
    entity_id: str = "retention"

    @property
    def job_id(self) -> str:
        return JobKind.PURGE_EVENTS.value


@dataclass(frozen=True)
class RunBatch(JobCommand):
    """R-BULK-3: apply a subscriber batch's rows, chunk by chunk; parked behind the customer's previous batch."""

    kind: ClassVar[JobKind] = JobKind.RUN_BATCH
    waiting_for: str | None = None

    @property
    def job_id(self) -> str:
        return f"batch:{self.entity_id}:run"

    @property
    def wait_for(self) -> str | None:
        return self.waiting_for


@dataclass(frozen=True)
class PushCustomerSettings(JobCommand):
    """Pass a customer's settings (restricted-by-partner mode, R-RBP-2) as of its `version` to the Webex side."""

    kind: ClassVar[JobKind] = JobKind.PUSH_CUSTOMER_SETTINGS
    version: int

    @property
    def job_id(self) -> str:
        return f"customer:{self.entity_id}:settings:v{self.version}"


@dataclass(frozen=True)
class ShipmentLogistics(JobCommand):
    """R-TRI-7: the simulated logistics side moves a shipment on from its `version` (ships, then delivers)."""

    kind: ClassVar[JobKind] = JobKind.SHIPMENT_LOGISTICS
    timer: ClassVar[str | None] = "device_logistics"
    version: int
    at: datetime

    @property
    def job_id(self) -> str:
        return f"shipment:{self.entity_id}:logistics:v{self.version}"

    @property
    def run_at(self) -> datetime | None:
        return self.at


@dataclass(frozen=True)
class ShipmentReturnOverdue(JobCommand):
    """R-TRI-7: a shipment not returned by its `returnDueAt` becomes return_overdue."""

    kind: ClassVar[JobKind] = JobKind.SHIPMENT_RETURN_OVERDUE
    timer: ClassVar[str | None] = "device_return_overdue"
    due_at: datetime

    @property
    def job_id(self) -> str:
        return f"shipment:{self.entity_id}:overdue"

    @property
    def run_at(self) -> datetime | None:
        return self.due_at


@dataclass(frozen=True)
class OrderSetupStart(JobCommand):
    """R-ORD-STATE / R-ORD-2: at the requested start date's 00:00 UTC the order awaits its setup (email sent)."""

    kind: ClassVar[JobKind] = JobKind.ORDER_SETUP_START
    timer: ClassVar[str | None] = "order_setup_start"
    at: datetime

    @property
    def job_id(self) -> str:
        return f"order:{self.entity_id}:setup"

    @property
    def run_at(self) -> datetime | None:
        return self.at


@dataclass(frozen=True)
class OrderFollowUp(JobCommand):
    """R-ORD-3: the follow-up at `at` (a resend makes a later one; the earlier finds nothing due and ends)."""

    kind: ClassVar[JobKind] = JobKind.ORDER_FOLLOW_UP
    timer: ClassVar[str | None] = "order_follow_up"
    at: datetime

    @property
    def job_id(self) -> str:
        return f"order:{self.entity_id}:follow-up:{self.at.isoformat()}"

    @property
    def run_at(self) -> datetime | None:
        return self.at


@dataclass(frozen=True)
class ProvisionOrder(JobCommand):
    """R-ORD-7: provision a `provisioning` order of `version` on the (simulated) Webex side."""

    kind: ClassVar[JobKind] = JobKind.PROVISION_ORDER
    version: int

    @property
    def job_id(self) -> str:
        return f"order:{self.entity_id}:provision:v{self.version}"



@dataclass(frozen=True)
class ProvisionTrial(JobCommand):
    """R-TRI-6: the simulated Webex side creates or updates a trial's org, then the trial is active."""

    kind: ClassVar[JobKind] = JobKind.PROVISION_TRIAL
    version: int

    @property
    def job_id(self) -> str:
        return f"trial:{self.entity_id}:provision:v{self.version}"


@dataclass(frozen=True)
class TrialTimerDue(JobCommand):
    """One time limit of a trial (domain.rules.trials.TrialTimer `name`), made for one of its dates: on firing it
    re-reads the trial and does nothing if the state or that date changed (an extension makes a new one)."""

    kind: ClassVar[JobKind] = JobKind.TRIAL_TIMER
    timer: ClassVar[str | None] = "trial_timer"
    name: str
    made_for: datetime
    fires_at: datetime

    @property
    def job_id(self) -> str:
        return f"trial:{self.entity_id}:{self.name}:{self.made_for.isoformat()}"

    @property
    def payload(self) -> Mapping[str, Any]:
        return {"timer": self.name, "madeFor": self.made_for.isoformat()}

    @property
    def run_at(self) -> datetime | None:
        return self.fires_at

def review_timeout_id(customer_id: str) -> str:
    return f"rpl-timeout:{customer_id}"


def compliance_deadline_id(customer_id: str) -> str:
    return f"compliance-deadline:{customer_id}"


def attach_timeout_id(customer_id: str) -> str:
    return f"attach-timeout:{customer_id}"
