"""A generated matrix of invalid and hostile inputs across every mutation and every argument-taking query.

Each group is one operation with a valid base request; each case changes one field of it. Whatever a
case sends, the answer has no 5xx, only the contract's codes, and its request writes nothing (no write command
reaches the database). The tables are in tests/api/bad_input/.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.api.bad_input import customers, organisations, queries, subscribers, workspaces
from tests.api.bad_input.demo_values import demo_context
from tests.api.bad_input.matrix import Group, contract_error_codes, run_group
from tests.conftest import Demo, Gateway

# The matrix sends hundreds of requests with one token: the rate limit is not what it tests.
pytestmark = pytest.mark.settings(rate_limit_per_second=0)

GROUPS: tuple[Group, ...] = (*customers.GROUPS, *subscribers.GROUPS, *organisations.GROUPS, *queries.GROUPS,
                             *workspaces.GROUPS)
CASES = [c for g in GROUPS for c in g.cases]
# Groups none of whose requests writes, their control included (queries, prechecks, a group without a control):
# they share the module's gateway and demo (`read_only`, tests/conftest.py), which also fails them if one wrote.
READING = ("precheckCustomerProvisioning", "precheckSubscriberProvisioning", "recordComplianceContactAttempt",
           "lookups by id", "customers", "subscribers", "provisioningEvents", "organisation lists", "nested lists")
READING_GROUPS = [g for g in GROUPS if g.name in READING]
WRITING_GROUPS = [g for g in GROUPS if g.name not in READING]


def test_the_matrix_has_at_least_100_hostile_inputs_across_every_group() -> None:
    print({g.name: len(g.cases) for g in GROUPS}, f"total {len(CASES)}")
    assert len(CASES) >= 100
    assert all(g.cases for g in GROUPS)
    assert len({g.name for g in GROUPS}) == len(GROUPS)
    assert {g.name for g in READING_GROUPS} == set(READING)


async def _check(gateway: Gateway, demo: Demo, shared_dir: Path, group: Group) -> None:
    ctx = await demo_context(gateway, demo)
    failures = await run_group(gateway, ctx, group, contract_error_codes(shared_dir))
    assert not failures, f"{len(failures)} of {len(group.cases)} cases of {group.name} failed:\n" + "\n".join(failures)


@pytest.mark.read_only
@pytest.mark.parametrize("group", READING_GROUPS, ids=lambda g: g.name)
async def test_hostile_input_to_an_operation_that_reads_gets_contract_errors_and_writes_nothing(
    gateway: Gateway, demo: Demo, shared_dir: Path, group: Group
) -> None:
    await _check(gateway, demo, shared_dir, group)


@pytest.mark.parametrize("group", WRITING_GROUPS, ids=lambda g: g.name)
async def test_hostile_input_gets_contract_errors_and_writes_nothing(
    gateway: Gateway, demo: Demo, shared_dir: Path, group: Group
) -> None:
    await _check(gateway, demo, shared_dir, group)
