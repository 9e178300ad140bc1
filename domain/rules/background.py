"""What an entity's background work looks like from outside (DOMAIN.md §17, R-DASH-2), as a pure function of its
status and the job documents that exist for it now.

A status feed shows `provisioning` for as long as the work lasts; this says why: which job runs or will run, how
often it failed, the last failure (an unexpected fault shown only as INTERNAL, its text stays in the log), when it
is tried next, and what the entity waits for instead of failing: its `customer` (R-RPL-5), an `rpl_review`
(R-RPL-2), a `customer_approval` (R-ATT-2) or the `user_consent` of a free account (R-CONS). Nothing to do and
nothing awaited: no background work (None).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from domain.model.entities import ProvisioningError
from domain.model.jobs import JobKind

# Statuses that wait for someone else's answer, and what the answer is.
WAITING_STATUSES: Mapping[str, str] = {
    "pending_rpl_review": "rpl_review",
    "pending_customer_approval": "customer_approval",
    "pending_user_migration": "user_consent",
}
# A job parked until another entity settles waits for its customer (subscribers, workspaces).
PARKED = "customer"
# The kind shown for an entity that waits with no job of its own (e.g. a consent nobody has given yet).
WAITING_KIND = "waiting"
# Jobs that are no work on the entity itself: a compliance timer of a provisioned customer, reports, retention.
NOT_WORK = frozenset({JobKind.COMPLIANCE_DEADLINE.value, JobKind.GENERATE_REPORT.value,
                      JobKind.DISCARD_REPORT.value, JobKind.PURGE_EVENTS.value})
MASKED_FAULT = ProvisioningError(code="INTERNAL", message="an unexpected error; the step is tried again")
_ORDER = {"running": 0, "ready": 1, "waiting": 2}


@dataclass(frozen=True)
class BackgroundWork:
    kind: str
    attempts: int  # failed attempts so far (a run under way is not one yet)
    last_error: ProvisioningError | None
    next_attempt_at: datetime | None
    waiting_for: str | None


def _last_error(job: Mapping[str, Any]) -> ProvisioningError | None:
    error = job.get("lastError")
    if not error:
        return None
    if job.get("lastErrorFault"):
        return MASKED_FAULT
    return ProvisioningError(code="TEMPORARY_FAILURE", message=str(error)[:500])


def background_work(status: str, jobs: Sequence[Mapping[str, Any]]) -> BackgroundWork | None:
    """The background work of an entity in `status` with these `jobs` (its own), or None when it is idle."""
    waiting = WAITING_STATUSES.get(status)
    work = [j for j in jobs if j.get("kind") not in NOT_WORK]
    if not work:
        return BackgroundWork(WAITING_KIND, 0, None, None, waiting) if waiting else None
    job = min(work, key=lambda j: (_ORDER.get(str(j.get("status")), 3), j.get("runAt") is None, j.get("runAt")))
    state = job.get("status")
    attempts = max(int(job.get("attempts") or 0) - (1 if state == "running" else 0), 0)
    if state == "waiting":
        waiting = waiting or PARKED
    elif job.get("retryWaitingFor"):
        waiting = waiting or str(job["retryWaitingFor"])
    next_at = job.get("runAt") if state == "ready" else None
    return BackgroundWork(str(job.get("kind")), attempts, _last_error(job), next_at, waiting)
