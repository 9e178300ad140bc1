"""Records read a moment ago (domain.store.recent) and what makes the gateway read them again."""

from __future__ import annotations

from tests.conftest import Demo, Gateway


async def test_an_event_of_a_sub_partner_or_template_forgets_what_was_read_of_it_a_moment_ago(
        gateway: Gateway, demo: Demo) -> None:
    """domain.store.recent: another process's change reaches this one as an event, which forgets the record."""
    repos = gateway.repos
    [sub] = (await repos.partners.recent_by_ids([demo.sub_a])).values()
    assert gateway.runtime.db is not None
    await gateway.runtime.db.collection("partners").update_one({"_id": demo.sub_a}, {"$set": {"name": "Renamed"}})
    assert (await repos.partners.recent_one(demo.sub_a)) == sub  # read a moment ago: not read again
    repos.forget_changed({"entityType": "CUSTOMER", "entityId": demo.sub_a})  # another kind: kept
    assert (await repos.partners.recent_one(demo.sub_a)) == sub
    repos.forget_changed({"entityType": "SUB_PARTNER", "entityId": demo.sub_a})
    renamed = await repos.partners.recent_one(demo.sub_a)
    assert renamed is not None and renamed.name == "Renamed"
