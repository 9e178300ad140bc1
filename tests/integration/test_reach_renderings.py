"""Tenancy is one `Reach` value with two renderings (R-ORG-2/3/6): the Mongo filter the repositories send and the
predicate the live event feed applies must select exactly the same documents, on both drivers.

The decisions themselves (which caller gets which reach) are unit tests (tests/unit/test_tenancy.py); this checks
the renderings against what the database really does with the filter, on the seeded demo.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from domain.rules.tenancy import NOTHING, Reach
from domain.services.reads import EventCriteria, event_feed
from tests.conftest import Demo, Gateway

pytestmark = pytest.mark.read_only  # one gateway and demo per driver for the module (tests/conftest.py)

COLLECTIONS = ("customers", "subscribers", "locations", "templates", "events", "usage")


def _reaches(demo: Demo) -> list[Reach]:
    return [Reach.owner(demo.partner), Reach.root(demo.partner), Reach.owner(demo.sub_a), Reach.root(demo.sub_a),
            Reach.owner("org_nobody"), NOTHING]


async def test_r_org_6_a_reach_selects_the_same_documents_as_a_query_and_as_a_predicate(
        gateway: Gateway, demo: Demo) -> None:
    db = gateway.runtime.db
    assert db is not None
    seen: dict[Reach, int] = {}
    for collection in COLLECTIONS:
        every = await db.find(collection, {})
        assert every, f"the demo has no {collection}: the comparison would prove nothing"
        for reach in _reaches(demo):
            queried = sorted(d["_id"] for d in await db.find(collection, reach.filter()))
            admitted = sorted(d["_id"] for d in every if reach.admits(d))
            assert queried == admitted, (collection, reach)
            seen[reach] = seen.get(reach, 0) + len(queried)
    # Not vacuous: the partner's own, its family and a sub-partner's own each hold documents; nothing holds none.
    partner, family, sub_a = _reaches(demo)[:3]
    assert 0 < seen[partner] < seen[family] and 0 < seen[sub_a] < seen[family]
    assert seen[NOTHING] == 0 and seen[Reach.owner("org_nobody")] == 0


@pytest.mark.parametrize("criteria", [
    EventCriteria(), EventCriteria(entity_types=["CUSTOMER"]), EventCriteria(to_statuses=["provisioned", "error"]),
    EventCriteria(entity_types=["SUBSCRIBER"], to_statuses=["provisioned"]),
    EventCriteria(actions=["STATUS_CHANGE", "UPDATE", "PROGRESS", "CONSENT_EMAIL"]),
    EventCriteria(actions=["STATUS_CHANGE"], occurred_after=datetime(2000, 1, 1, tzinfo=UTC),
                  occurred_before=datetime(2100, 1, 1, tzinfo=UTC))])
async def test_r_evt_2_the_live_feed_and_its_replay_select_the_same_events(
        gateway: Gateway, demo: Demo, criteria: EventCriteria) -> None:
    db = gateway.runtime.db
    assert db is not None
    every = await db.find("events", {})
    for reach in _reaches(demo):
        accepts, replay = event_feed(reach, criteria)
        replayed = sorted(d["_id"] for d in await db.find("events", replay))
        assert replayed == sorted(d["_id"] for d in every if accepts(d)), (reach, criteria)
    accepts, replay = event_feed(Reach.root(demo.partner), criteria)
    assert any(accepts(d) for d in every), "the demo has no such event: the comparison would prove nothing"
