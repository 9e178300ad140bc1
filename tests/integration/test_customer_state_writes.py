"""A customer's state written from a copy read before a transaction (the provisioning job's outcome): it holds only
over that very version, and what is recorded beside the state without a new version survives it."""

from __future__ import annotations

from domain.model.entities import Customer, CustomerStatus
from domain.store.repositories import Tx
from tests.api.provisioning import customer_input, partner_token, provision, provisioning_id, subscriber_input
from tests.conftest import Demo, Gateway

PROVISION_SUBSCRIBER = """mutation($input: ProvisionSubscriberInput!) {
  provisionSubscriber(input: $input) { subscriber { id isAdmin } errors { code message field } } }"""


async def _copy(gateway: Gateway, customer_id: str) -> Customer:
    doc = await gateway.repos.customers.find_doc(customer_id)
    assert doc is not None
    return Customer.from_doc(doc)


async def _provisioned_from(gateway: Gateway, copy: Customer) -> bool:
    async def write(tx: Tx) -> bool:
        updated, _ = copy.move(CustomerStatus.PROVISIONED, tx.now)
        return await gateway.repos.customers.write_state(updated, expected_version=copy.version, session=tx.session)

    return await gateway.repos.atomic(write)


async def test_r_sub_2_the_admin_recorded_after_the_copy_was_read_survives_a_state_written_from_it(
        gateway: Gateway, demo: Demo) -> None:
    token = partner_token(gateway, demo)
    customer = await provision(gateway, token, customer_input(await provisioning_id(gateway, demo.partner), "W-1"))
    copy = await _copy(gateway, customer["id"])  # the job's read, before its outside work
    added = (await gateway.execute(token, PROVISION_SUBSCRIBER, {"input": subscriber_input(
        customer["id"], "first@example.com", extension="2001")}))["provisionSubscriber"]
    assert added["errors"] == [] and added["subscriber"]["isAdmin"] is True  # recorded without a new version
    assert copy.admin_subscriber_id is None

    assert await _provisioned_from(gateway, copy)
    [stored] = await gateway.repos.db.find("customers", {"_id": customer["id"]})
    assert (stored["status"], stored["version"]) == ("provisioned", copy.version + 1)
    assert stored["adminSubscriberId"] == added["subscriber"]["id"]
    assert "subscriberWrites" in stored  # the conflict marker too


async def test_a_state_written_from_a_copy_whose_version_moved_on_writes_nothing(
        gateway: Gateway, demo: Demo) -> None:
    token = partner_token(gateway, demo)
    customer = await provision(gateway, token, customer_input(await provisioning_id(gateway, demo.partner), "W-2"))
    copy = await _copy(gateway, customer["id"])
    newer = copy.revised(copy.created_at, name="Renamed meanwhile")
    assert await gateway.repos.atomic(lambda tx: gateway.repos.customers.write_state(
        newer, expected_version=copy.version, session=tx.session))

    assert not await _provisioned_from(gateway, copy)
    [stored] = await gateway.repos.db.find("customers", {"_id": customer["id"]})
    assert (stored["status"], stored["version"], stored["name"]) == ("provisioning", newer.version,
                                                                      "Renamed meanwhile")
