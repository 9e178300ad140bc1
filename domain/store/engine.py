"""The "Webex side" of provisioning: creating orgs, assigning licences, removing them.

In the real product this is Cisco's cloud; here it is a small simulation with a configurable
latency per step and injectable faults, so that every status path can be shown and tested:

- `calling_maintenance`: calling packages fail with Webex code 2560 (customer ends in
  `provisioned_with_errors`, the package in `error`);
- `org_create_failure`: the org cannot be created (customer ends in `error`);
- `transient`: the first attempt of each customer's or subscriber's step fails with a temporary
  error, so the job is retried with backoff.

A rule applies to every customer, or only to customers whose `externalId` starts with a prefix
(`calling_maintenance:EXT-9`). Rules come from settings (`GATEWAY_ENGINE_FAULTS`) and tests may
add their own.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import Enum

from domain.model.entities import ProvisioningError
from domain.rules.catalogue import CATALOGUE


class Fault(str, Enum):
    CALLING_MAINTENANCE = "calling_maintenance"
    ORG_CREATE_FAILURE = "org_create_failure"
    TRANSIENT = "transient"


@dataclass(frozen=True)
class FaultRule:
    fault: Fault
    external_id_prefix: str | None = None

    def applies(self, external_id: str) -> bool:
        return self.external_id_prefix is None or external_id.startswith(self.external_id_prefix)


def parse_fault_rules(text: str) -> list[FaultRule]:
    """`fault[:externalIdPrefix]`, comma-separated; raises ValueError naming an unknown fault."""
    rules = []
    for item in filter(None, (part.strip() for part in text.split(","))):
        name, _, prefix = item.partition(":")
        try:
            fault = Fault(name.strip())
        except ValueError:
            known = ", ".join(f.value for f in Fault)
            raise ValueError(f"unknown engine fault {name!r} (known: {known})") from None
        rules.append(FaultRule(fault, prefix.strip() or None))
    return rules


class TemporaryFailure(Exception):
    """The Webex side is temporarily unavailable; the step should be retried later."""


class OrgCreationFailed(Exception):
    def __init__(self, error: ProvisioningError) -> None:
        super().__init__(error.message)
        self.error = error


CALLING_MAINTENANCE = ProvisioningError(
    code="2560", message="Webex Calling is under maintenance; the package could not be provisioned")
_ORG_NAMESPACE = uuid.UUID("6f1c2a7e-8d9b-4c3a-9e21-5b7d0c4f8a10")


class Engine:
    def __init__(self, latency_seconds: float = 0.03, rules: Sequence[FaultRule] = ()) -> None:
        self.latency = latency_seconds
        self.rules: list[FaultRule] = list(rules)
        self._transient_done: set[str] = set()
        # R-RBP-2: the settings each customer's org got last, by customer id (what the Webex side enforces).
        self.org_settings: dict[str, dict[str, bool]] = {}

    def _faults(self, external_id: str) -> set[Fault]:
        return {r.fault for r in self.rules if r.applies(external_id)}

    async def _step(self, external_id: str, key: str) -> set[Fault]:
        if self.latency > 0:
            await asyncio.sleep(self.latency)
        faults = self._faults(external_id)
        if Fault.TRANSIENT in faults and key not in self._transient_done:
            self._transient_done.add(key)
            raise TemporaryFailure("the Webex side answered 503; retrying")
        return faults

    async def create_org(self, customer_id: str, external_id: str) -> str:
        """The customer's org id; the same for every retry of the same customer (idempotent)."""
        faults = await self._step(external_id, f"org:{customer_id}")
        if Fault.ORG_CREATE_FAILURE in faults:
            raise OrgCreationFailed(ProvisioningError(code="ORG_CREATE_FAILED",
                                                      message="the Webex org could not be created"))
        return str(uuid.uuid5(_ORG_NAMESPACE, customer_id))

    async def assign_package(self, customer_id: str, external_id: str, package: str) -> ProvisioningError | None:
        faults = await self._step(external_id, f"pkg:{customer_id}:{package}")
        spec = CATALOGUE.get(package)
        calling = spec is not None and (spec.calling or package == "common_area_calling")
        if Fault.CALLING_MAINTENANCE in faults and calling:
            return CALLING_MAINTENANCE
        return None

    async def remove_package(self, customer_id: str, external_id: str, package: str) -> None:
        await self._step(external_id, f"rm:{customer_id}:{package}")

    async def delete_org(self, customer_id: str, external_id: str) -> None:
        await self._step(external_id, f"del:{customer_id}")

    async def assign_user(self, subscriber_id: str, external_id: str) -> None:
        await self._step(external_id, f"user:{subscriber_id}")

    async def remove_user(self, subscriber_id: str, external_id: str) -> None:
        await self._step(external_id, f"rmuser:{subscriber_id}")

    async def apply_org_settings(self, customer_id: str, external_id: str, settings: Mapping[str, bool],
                                 version: int) -> None:
        """R-RBP-2: the customer's org now enforces these settings (a later version replaces an earlier one)."""
        await self._step(external_id, f"settings:{customer_id}:v{version}")
        self.org_settings[customer_id] = dict(settings)
