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


def review_timeout_id(customer_id: str) -> str:
    return f"rpl-timeout:{customer_id}"


def compliance_deadline_id(customer_id: str) -> str:
    return f"compliance-deadline:{customer_id}"


def attach_timeout_id(customer_id: str) -> str:
    return f"attach-timeout:{customer_id}"
