"""The one way entities change status (R-CUS-STATE, R-SUB-3, R-BIL-3) and the event each move records (R-EVT-1)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from domain.model.changes import DELETED, EntityType
from domain.model.entities import (
    Address,
    Customer,
    CustomerPackage,
    CustomerStatus,
    PackageStatus,
    ProvisioningError,
    Subscriber,
    SubscriberStatus,
)
from domain.model.errors import DomainError, ErrorCode
from domain.model.jobs import (
    AttachApprovalTimeout,
    AwaitMigration,
    ComplianceDeadline,
    DiscardReport,
    GenerateReport,
    JobKind,
    OrderFollowUp,
    OrderSetupStart,
    ProvisionOrder,
    ProvisionTrial,
    PurgeEvents,
    PushCustomerSettings,
    ReviewTimeout,
    RunBatch,
    SettleCustomer,
    SettleSubscriber,
    SettleWorkspace,
    ShipmentLogistics,
    ShipmentReturnOverdue,
    TrialTimerDue,
)
from domain.rules.billing import ReportStatus, report_moved, report_removal
from domain.rules.packages import settled_packages

T0 = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)
LATER = T0 + timedelta(minutes=5)


def _customer(status: CustomerStatus = CustomerStatus.PROVISIONING, **fields: object) -> Customer:
    return Customer.model_validate({
        "_id": "cus_1", "ownerOrgId": "org_sub", "rootOrgId": "org_root", "templateId": "tpl_1", "externalId": "x-1",
        "name": "Acme", "primaryEmail": "a@acme.example", "language": "en_US",
        "address": Address(address_line1="1 Main St", city="Springfield", country="US"),
        "packages": [CustomerPackage(name="webex_calling", status=PackageStatus.PROVISIONING),
                     CustomerPackage(name="webex_meetings", status=PackageStatus.DELETING)],
        "status": status, "version": 3, "createdAt": T0, "updatedAt": T0, "lastStatusChange": T0, **fields})


def _subscriber(status: SubscriberStatus = SubscriberStatus.PROVISIONING) -> Subscriber:
    return Subscriber.model_validate({
        "_id": "sub_1", "customerId": "cus_1", "ownerOrgId": "org_sub", "rootOrgId": "org_root",
        "email": "ann@acme.example", "firstName": "Ann", "lastName": "Lee", "package": "webex_calling",
        "isAdmin": False, "status": status, "version": 2, "createdAt": T0, "lastStatusChange": T0,
        "errors": [ProvisioningError(code="X", message="earlier")] if status is SubscriberStatus.ERROR else []})


def test_r_cus_state_a_move_bumps_the_version_stamps_the_time_and_says_so_in_its_event() -> None:
    before = _customer()
    after, change = before.move(CustomerStatus.PROVISIONED, LATER, org_id="org-webex-1")
    assert (after.status, after.version, after.updated_at, after.last_status_change, after.org_id) == (
        CustomerStatus.PROVISIONED, 4, LATER, LATER, "org-webex-1")
    assert before.status is CustomerStatus.PROVISIONING and before.version == 3  # values: the original is unchanged
    assert (change.entity_type, change.entity_id, change.owner_org_id, change.root_org_id) == (
        EntityType.CUSTOMER, "cus_1", "org_sub", "org_root")
    assert (change.from_status, change.to_status, change.version, change.customer_id) == (
        "provisioning", "provisioned", 4, "cus_1")


def test_r_cus_state_an_illegal_move_is_refused_with_invalid_state_and_changes_nothing() -> None:
    before = _customer(CustomerStatus.DELETING)
    with pytest.raises(DomainError) as refused:
        before.move(CustomerStatus.UPDATING, LATER)
    assert [e.code for e in refused.value.errors] == [ErrorCode.INVALID_STATE]
    assert before.status is CustomerStatus.DELETING and before.version == 3


def test_a_revision_bumps_the_version_but_keeps_the_status_and_its_time() -> None:
    after = _customer(CustomerStatus.PROVISIONED).revised(LATER, external_id="x-2")
    assert (after.status, after.version, after.external_id, after.updated_at, after.last_status_change) == (
        CustomerStatus.PROVISIONED, 4, "x-2", LATER, T0)


def test_r_evt_1_a_removed_customer_says_deleted_for_each_package_then_for_itself() -> None:
    changes = _customer(CustomerStatus.DELETING).removals()
    assert [(c.entity_type, c.entity_id, c.from_status, c.to_status, c.version) for c in changes] == [
        (EntityType.CUSTOMER_PACKAGE, "cus_1:webex_calling", "provisioning", DELETED, 4),
        (EntityType.CUSTOMER_PACKAGE, "cus_1:webex_meetings", "deleting", DELETED, 4),
        (EntityType.CUSTOMER, "cus_1", "deleting", DELETED, 4),
    ]


def test_r_sub_3_subscriber_moves_follow_the_machine_and_carry_the_package() -> None:
    after, change = _subscriber().move(SubscriberStatus.PENDING_USER_MIGRATION, LATER)
    assert (after.status, after.version, after.last_status_change) == (
        SubscriberStatus.PENDING_USER_MIGRATION, 3, LATER)
    assert (change.from_status, change.to_status, change.details) == (
        "provisioning", "pending_user_migration", {"package": "webex_calling"})
    with pytest.raises(DomainError):
        _subscriber(SubscriberStatus.ERROR).move(SubscriberStatus.PROVISIONED, LATER)


def test_a_removed_subscriber_says_deleted_with_its_reason() -> None:
    change = _subscriber(SubscriberStatus.ERROR).removal(reason="the customer was deleted")
    assert (change.from_status, change.to_status, change.version, change.reason) == (
        "error", DELETED, 3, "the customer was deleted")
    assert [e.code for e in change.errors] == ["X"]


def test_settled_packages_apply_the_outcome_and_drop_the_packages_being_removed() -> None:
    error = ProvisioningError(code="LICENSE", message="no licence")
    packages = [CustomerPackage(name="webex_calling", status=PackageStatus.PROVISIONING),
                CustomerPackage(name="webex_meetings", status=PackageStatus.DELETING),
                CustomerPackage(name="webex_suite", status=PackageStatus.PROVISIONING),
                CustomerPackage(name="common_area_calling", status=PackageStatus.PROVISIONED)]
    kept, moves = settled_packages(packages, {"webex_calling": None, "webex_suite": error})
    assert [(p.name, p.status, p.errors) for p in kept] == [
        ("webex_calling", PackageStatus.PROVISIONED, []), ("webex_suite", PackageStatus.ERROR, [error]),
        ("common_area_calling", PackageStatus.PROVISIONED, [])]
    assert [(p.name, before, to) for p, before, to in moves] == [
        ("webex_calling", PackageStatus.PROVISIONING, None), ("webex_meetings", PackageStatus.DELETING, DELETED),
        ("webex_suite", PackageStatus.PROVISIONING, None)]


REPORT = {"_id": "rpt_1", "ownerOrgId": "org_sub", "rootOrgId": "org_root", "type": "PARTNER",
          "billingStartDate": "2026-10-01", "billingEndDate": "2026-10-31", "status": "IN_PROGRESS",
          "activeKey": "k", "errors": [], "version": 1}


def test_r_bil_3_a_completed_report_keeps_blocking_an_equal_one_a_failed_one_does_not() -> None:
    done, change = report_moved(REPORT, ReportStatus.COMPLETED, rowCount=7)
    assert (done["status"], done["version"], done["rowCount"], done["activeKey"]) == ("COMPLETED", 2, 7, "k")
    assert (change.from_status, change.to_status, change.details["billingEndDate"]) == (
        "IN_PROGRESS", "COMPLETED", "2026-10-31")
    failed, change = report_moved(REPORT, ReportStatus.FAILED, errors=[{"code": "INTERNAL", "message": "boom"}])
    assert "activeKey" not in failed and [e.code for e in change.errors] == ["INTERNAL"]
    assert REPORT["activeKey"] == "k"  # the stored document it came from is untouched
    with pytest.raises(DomainError):
        report_moved(done, ReportStatus.FAILED)
    assert (report_removal(done).to_status, report_removal(done).version) == (DELETED, 3)


def test_every_job_command_has_its_own_kind_and_a_stable_id() -> None:
    commands = [SettleCustomer("cus_1", "update", 4, screen=True), SettleSubscriber("sub_1", "delete", 3),
                AwaitMigration("sub_1", LATER), ReviewTimeout("cus_1", LATER), ComplianceDeadline("cus_1", LATER),
                GenerateReport("rpt_1"), DiscardReport("rpt_1"), PurgeEvents()]
    commands.append(SettleWorkspace("wsp_1", "provision", 1))  # R-WS-2
    commands.append(RunBatch("bat_1"))  # R-BULK-3
    commands.append(AttachApprovalTimeout("cus_1", LATER))  # R-ATT-2
    commands.append(PushCustomerSettings("cus_1", 7))  # R-RBP-2
    commands += [ShipmentLogistics("shp_1", 2, LATER), ShipmentReturnOverdue("shp_1", LATER)]  # R-TRI-7
    orders = [OrderSetupStart("ord_1", LATER), OrderFollowUp("ord_1", LATER), ProvisionOrder("ord_1", 3)]  # R-ORD
    assert [c.job_id for c in orders] == ["order:ord_1:setup", f"order:ord_1:follow-up:{LATER.isoformat()}",
                                          "order:ord_1:provision:v3"]
    commands_and_orders = [*commands, *orders]
    trials = [ProvisionTrial("trl_1", 2), TrialTimerDue("trl_1", "expiry", LATER, LATER)]  # R-TRI-6, R-TRI-11
    assert [c.job_id for c in trials] == ["trial:trl_1:provision:v2", f"trial:trl_1:expiry:{LATER.isoformat()}"]
    commands_and_orders += trials
    assert {c.kind for c in commands_and_orders} == set(JobKind)
    assert [c.job_id for c in commands] == [
        "customer:cus_1:update:v4", "subscriber:sub_1:delete:v3", "subscriber:sub_1:migration", "rpl-timeout:cus_1",
        "compliance-deadline:cus_1", "billing:rpt_1:generate", "billing:rpt_1:discard", "events.purge",
        "workspace:wsp_1:provision:v1", "batch:bat_1:run", "attach-timeout:cus_1", "customer:cus_1:settings:v7",
        "shipment:shp_1:logistics:v2", "shipment:shp_1:overdue"]
    assert commands[0].payload == {"screen": True} and SettleCustomer("cus_1", "delete", 5).payload == {}
    assert SettleSubscriber("sub_1", "update", 3, previous_package="webex_calling").payload == {
        "previousPackage": "webex_calling"}
    assert SettleSubscriber("sub_1", "provision", 1, waiting_for="cus_1").wait_for == "cus_1"
    assert ReviewTimeout("cus_1", LATER).run_at == LATER and GenerateReport("rpt_1").run_at is None
