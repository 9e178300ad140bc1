"""The pure rules of bulk subscriber operations (DOMAIN.md §15): rows, CSV files, idempotency keys."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from domain.model.batches import BatchStatus, RowAction
from domain.model.entities import Subscriber, SubscriberStatus
from domain.model.errors import DomainError, ErrorCode
from domain.rules.bulk import (
    MAX_CSV_ROWS,
    RowOp,
    duplicate_rows,
    fingerprint,
    finished_status,
    idempotency_key_problems,
    idempotent_answer,
    operations_problems,
    resolve,
    row_errors,
    subscriber_update,
)
from domain.rules.csv_import import decode, parse_csv

NOW = datetime(2026, 12, 1, tzinfo=UTC)
HEADER = "email,firstName,lastName,location,phoneNumber,extension,webex_calling,webex_meetings,attendant_console\n"


def _subscriber(customer_id: str = "cus_1", **fields: object) -> Subscriber:
    values: dict[str, object] = dict(id="sub_1", customer_id=customer_id, owner_org_id="o", root_org_id="o",
                                     email="a@example.com", first_name="A", last_name="B", package="webex_calling",
                                     extension="1234", is_admin=False, status=SubscriberStatus.PROVISIONED,
                                     version=3, created_at=NOW, last_status_change=NOW)
    values.update(fields)
    return Subscriber(**values)


def _op(n: int, email: str, action: RowAction | None = RowAction.CREATE, **fields: object) -> RowOp:
    return RowOp(row_number=n, email=email, action=action, **fields)  # type: ignore[arg-type]


def test_r_bulk_1_a_batch_has_1_to_25_operations() -> None:
    assert [p.code for p in operations_problems([], "operations")] == [ErrorCode.TOO_LONG]
    many = [_op(i, f"u{i}@example.com") for i in range(26)]
    assert [p.code for p in operations_problems(many, "operations")] == [ErrorCode.TOO_LONG]
    assert operations_problems(many[:25], "operations") == []


def test_r_bulk_1_an_email_twice_is_duplicate_in_batch_at_the_later_row() -> None:
    ops = [_op(1, "a@example.com"), _op(2, "b@example.com"), _op(3, "a@example.com", RowAction.DELETE)]
    problems = operations_problems(ops, "operations")
    assert [(p.code, p.field) for p in problems] == [(ErrorCode.DUPLICATE_IN_BATCH, ("operations", "2", "email"))]


def test_r_bulk_2_a_new_email_creates_this_customers_updates_another_customers_is_email_in_use() -> None:
    op = _op(1, "a@example.com", None, package="webex_calling")
    assert resolve(op, "cus_1", None).action is RowAction.CREATE
    assert resolve(op, "cus_1", _subscriber()).action is RowAction.UPDATE
    other = resolve(op, "cus_1", _subscriber("cus_2"))
    assert [p.code for p in other.problems] == [ErrorCode.EMAIL_IN_USE]


def test_r_bulk_2_update_or_delete_of_an_email_this_customer_lacks_is_not_found() -> None:
    for holder in (None, _subscriber("cus_2")):  # another tenant's subscriber looks like none at all (R-ORG-6)
        resolved = resolve(_op(1, "a@example.com", RowAction.DELETE), "cus_1", holder)
        assert [p.code for p in resolved.problems] == [ErrorCode.NOT_FOUND]


def test_r_bulk_2_a_new_subscriber_needs_a_base_package() -> None:
    resolved = resolve(_op(1, "n@example.com", None, from_csv=True), "cus_1", None)
    assert [(p.code, p.field) for p in resolved.problems] == [(ErrorCode.REQUIRED, ("package",))]


def test_r_bulk_2_blank_cells_leave_an_update_unchanged() -> None:
    current = _subscriber(add_ons=["attendant_console"])
    update = subscriber_update(_op(1, current.email, RowAction.UPDATE, from_csv=True), current, None)
    assert (update.package, update.extension, update.primary_phone_number) == ("webex_calling", "1234", None)
    dropped = subscriber_update(_op(1, current.email, None, add_on_changes=(("attendant_console", False),)),
                                current, None)
    assert dropped.add_ons == ()


def test_r_bulk_2_the_csv_rows_their_actions_and_their_cells() -> None:
    ops = parse_csv(HEADER + "New@Example.com,Ann,Lee,,,2001,TRUE,,\n"
                    "old@example.com,,,,,,FALSE,FALSE,FALSE\n"
                    "both@example.com,A,B,,,2002,TRUE,TRUE,\n"
                    "bad@example.com,A,B,,,2003,yes,,\n"
                    "\n", "csv")
    assert [o.email for o in ops] == ["new@example.com", "old@example.com", "both@example.com", "bad@example.com"]
    assert (ops[0].action, ops[0].package, ops[0].extension) == (None, "webex_calling", "2001")
    assert ops[1].action is RowAction.DELETE  # every package FALSE deletes
    assert [p.code for p in ops[2].problems] == [ErrorCode.VALIDATION_FAILED]  # two base packages
    assert [(p.code, p.field) for p in ops[3].problems] == [(ErrorCode.VALIDATION_FAILED, ("webex_calling",))]


@pytest.mark.parametrize("text", [
    "", "email,firstName\n", "email,firstName,lastName,location,phoneNumber,extension\na,b,c,d,e,f\n",
    HEADER.replace("webex_meetings", "no_such_package") + "a@example.com,A,B,,,,TRUE,,\n",
    HEADER.replace("webex_meetings", "webex_calling") + "a@example.com,A,B,,,,TRUE,,\n",
    HEADER,  # no rows
    HEADER + "a@example.com,A,B\n",  # a short row
    HEADER + 'a@example.com,"A,B,,,,TRUE,,\n',  # an unterminated quote
])
def test_r_bulk_1_a_bad_header_or_file_is_csv_invalid(text: str) -> None:
    with pytest.raises(DomainError) as refused:
        parse_csv(text, "input", "csv")
    assert [(e.code, e.field) for e in refused.value.errors] == [(ErrorCode.CSV_INVALID, ("input", "csv"))]


def test_r_bulk_1_more_than_10000_rows_or_not_utf8_is_csv_invalid() -> None:
    rows = "".join(f"u{i}@example.com,A,B,,,,TRUE,,\n" for i in range(MAX_CSV_ROWS + 1))
    with pytest.raises(DomainError) as refused:
        parse_csv(HEADER + rows, "csv")
    assert refused.value.errors[0].code is ErrorCode.CSV_INVALID
    assert len(parse_csv(HEADER + rows[: rows.rindex("u10000@")], "csv")) == MAX_CSV_ROWS
    with pytest.raises(DomainError):
        decode((HEADER + "caf\xe9@example.com,A,B,,,,TRUE,,\n").encode("latin-1"), "uploadId")
    assert decode(b"\xef\xbb\xbf" + HEADER.encode(), "uploadId") == HEADER  # a byte-order mark is dropped


def test_r_bulk_2_a_repeated_email_in_a_file_refuses_the_later_row() -> None:
    ops = duplicate_rows(parse_csv(HEADER + "a@example.com,A,B,,,,TRUE,,\nA@example.com,A,B,,,,TRUE,,\n", "csv"))
    assert ops[0].problems == ()
    assert [p.code for p in ops[1].problems] == [ErrorCode.DUPLICATE_IN_BATCH]


def test_r_bulk_2_row_errors_are_named_as_the_file_names_them() -> None:
    from domain.model.errors import FieldError
    problems = [FieldError(ErrorCode.INVALID_PHONE_NUMBER, "x", ("input", "primaryPhoneNumber"))]
    assert row_errors(problems, True)[0].field == ("phoneNumber",)
    assert row_errors(problems, False)[0].field == ("primaryPhoneNumber",)


def test_r_bulk_4_idempotency_keys_their_shape_and_reuse() -> None:
    assert idempotency_key_problems("batch-2026.12_01", "idempotencyKey") == []
    for bad in ("", "x" * 65, "has space", "ünï"):
        assert [p.code for p in idempotency_key_problems(bad, "k")] == [ErrorCode.VALIDATION_FAILED]
    same = fingerprint("cus_1", False, "MUTATION", [{"email": "a@example.com"}])
    assert same == fingerprint("cus_1", False, "MUTATION", [{"email": "a@example.com"}])
    idempotent_answer(same, same)
    with pytest.raises(DomainError) as refused:
        idempotent_answer(same, fingerprint("cus_1", True, "MUTATION", [{"email": "a@example.com"}]), "k")
    assert refused.value.errors[0].code is ErrorCode.IDEMPOTENCY_KEY_REUSED


def test_r_bulk_3_a_batch_with_refused_rows_completes_with_errors() -> None:
    assert finished_status(0) is BatchStatus.COMPLETED
    assert finished_status(2) is BatchStatus.COMPLETED_WITH_ERRORS


def test_r_bulk_3_row_ops_survive_storage() -> None:
    op = parse_csv(HEADER + "a@example.com,A,B,HQ,,2001,TRUE,,TRUE\n", "csv")[0]
    assert RowOp.from_doc(op.to_doc()) == op
