"""Bulk subscriber operations (DOMAIN.md §15, R-BULK-1…4): the pure part.

A batch is a list of `RowOp`s. How a row is judged is the single mutation's rule (`plan_new_subscriber`,
`plan_subscriber_update`, the status machine): this module only decides what each row asks for (`resolve`), turns
it into that mutation's request, and says what the batch's numbers, its result file and its idempotency key mean.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, fields, replace
from datetime import timedelta
from typing import Any

from domain.model.batches import BatchStatus, RowAction, RowStatus
from domain.model.entities import Subscriber
from domain.model.errors import DomainError, ErrorCode, FieldError
from domain.rules.subscribers import NewSubscriber, SubscriberUpdate

MAX_OPERATIONS = 25  # R-BULK-1: "add users manually" takes 25 at a time (seed 004)
MAX_CSV_ROWS = 10_000
MAX_CSV_BYTES = 5 * 1024 * 1024
CHUNK_ROWS = 100  # R-BULK-3: rows committed together
UPLOAD_TTL = timedelta(hours=24)
IDEMPOTENCY_TTL = timedelta(hours=24)
BATCH_RETENTION = timedelta(days=90)
RESULT_LINK_TTL = timedelta(minutes=30)

_KEY = re.compile(r"^[A-Za-z0-9._-]{1,64}$", re.ASCII)

# What the single mutation's field paths are called in a CSV file.
_CSV_FIELDS = {"primaryPhoneNumber": "phoneNumber", "locationId": "location"}


def normal_email(email: str) -> str:
    return email.strip().lower()


@dataclass(frozen=True)
class RowOp:
    """One row of a batch as asked for. `action` None (CSV): CREATE for a new email, UPDATE for this customer's.

    Absent values leave a subscriber's as they are on UPDATE. `add_ons` is a complete list (mutation);
    `add_on_changes` the add-ons a CSV row turns on (True) or off (False).
    """

    row_number: int
    email: str
    action: RowAction | None = None
    package: str | None = None
    add_ons: tuple[str, ...] | None = None
    add_on_changes: tuple[tuple[str, bool], ...] = ()
    first_name: str | None = None
    last_name: str | None = None
    phone: str | None = None
    extension: str | None = None
    location_id: str | None = None
    location: str | None = None  # CSV: a location's id or name
    problems: tuple[FieldError, ...] = ()  # found while reading the row
    from_csv: bool = False

    def to_doc(self) -> dict[str, Any]:
        doc = asdict(self)
        doc["action"] = self.action.value if self.action else None
        doc["problems"] = [{"code": p.code.value, "message": p.message, "field": list(p.field or ())}
                           for p in self.problems]
        doc["add_on_changes"] = [list(c) for c in self.add_on_changes]
        doc["add_ons"] = list(self.add_ons) if self.add_ons is not None else None
        return doc

    @classmethod
    def from_doc(cls, doc: Mapping[str, Any]) -> RowOp:
        values: dict[str, Any] = {f.name: doc.get(f.name) for f in fields(cls) if f.name in doc}
        values["action"] = RowAction(doc["action"]) if doc.get("action") else None
        values["problems"] = tuple(error_of(p) for p in doc.get("problems") or ())
        values["add_on_changes"] = tuple((str(a), bool(b)) for a, b in doc.get("add_on_changes") or ())
        values["add_ons"] = tuple(doc["add_ons"]) if doc.get("add_ons") is not None else None
        return cls(**values)


def error_doc(error: FieldError) -> dict[str, Any]:
    return {"code": error.code.value, "message": error.message, "field": list(error.field) if error.field else None}


def error_of(doc: Mapping[str, Any]) -> FieldError:
    field = doc.get("field")
    return FieldError(ErrorCode(doc["code"]), str(doc["message"]), tuple(field) if field else None)


def operations_problems(ops: Sequence[RowOp], *prefix: str) -> list[FieldError]:
    """R-BULK-1: 1 to 25 operations, no email twice (the later ones are named)."""
    if not 1 <= len(ops) <= MAX_OPERATIONS:
        return [FieldError(ErrorCode.TOO_LONG, f"a batch has 1 to {MAX_OPERATIONS} operations, not {len(ops)}",
                           (*prefix,))]
    seen: set[str] = set()
    problems: list[FieldError] = []
    for i, op in enumerate(ops):
        if op.email and op.email in seen:
            problems.append(FieldError(ErrorCode.DUPLICATE_IN_BATCH, "this email is in the batch more than once",
                                       (*prefix, str(i), "email")))
        seen.add(op.email)
    return problems


def duplicate_rows(ops: Sequence[RowOp]) -> list[RowOp]:
    """A CSV import: a row repeating an earlier row's email is refused (DUPLICATE_IN_BATCH); the first one runs."""
    seen: set[str] = set()
    out: list[RowOp] = []
    for op in ops:
        if op.email and op.email in seen:
            op = replace(op, problems=(*op.problems, FieldError(
                ErrorCode.DUPLICATE_IN_BATCH, "an earlier row has this email", ("email",))))
        seen.add(op.email)
        out.append(op)
    return out


def idempotency_key_problems(key: str | None, *field: str) -> list[FieldError]:
    if key is None or _KEY.match(key):
        return []
    return [FieldError(ErrorCode.VALIDATION_FAILED, "`idempotencyKey` is 1 to 64 of A-Z a-z 0-9 . _ -", field)]


def fingerprint(customer_id: str, dry_run: bool, source: str, content: Any) -> str:
    """What a request asked for, so that a repeated idempotency key can be told apart from a reused one."""
    text = json.dumps([customer_id, dry_run, source, content], sort_keys=True, default=str, ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()


def idempotent_answer(stored_fingerprint: str | None, request_fingerprint: str, *field: str) -> None:
    """R-BULK-4: the same request under a key answers with its batch; another request under it is refused."""
    if stored_fingerprint != request_fingerprint:
        raise DomainError.single(ErrorCode.IDEMPOTENCY_KEY_REUSED,
                                 "this idempotencyKey was used in the last 24 hours for a different request", *field)


# --- judging one row ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Resolved:
    action: RowAction | None
    problems: list[FieldError]


def resolve(op: RowOp, customer_id: str, holder: Subscriber | None) -> Resolved:
    """What a row does, given the subscriber holding its email (None: nobody), or why it cannot be done."""
    if op.problems:
        return Resolved(op.action, list(op.problems))
    if not op.email:
        return Resolved(op.action, [FieldError(ErrorCode.REQUIRED, "`email` is required", ("email",))])
    action = op.action
    if holder is not None and holder.customer_id != customer_id:
        if action in (None, RowAction.CREATE):
            return Resolved(action or RowAction.CREATE, [FieldError(
                ErrorCode.EMAIL_IN_USE, "this email is already used by a subscriber (Webex 10022)", ("email",))])
        holder = None  # another customer's subscriber is none of this batch's business (R-ORG-6)
    if action is None:
        action = RowAction.UPDATE if holder is not None else RowAction.CREATE
    if action is not RowAction.CREATE and holder is None:
        return Resolved(action, [FieldError(ErrorCode.NOT_FOUND, "no subscriber of this customer has this email",
                                            ("email",))])
    if action is RowAction.CREATE and op.package is None:
        what = "one base package column TRUE" if op.from_csv else "a `package`"
        return Resolved(action, [FieldError(ErrorCode.REQUIRED, f"a new subscriber needs {what}", ("package",))])
    return Resolved(action, [])


def new_subscriber(op: RowOp, customer_id: str, location_id: str | None) -> NewSubscriber:
    """The single mutation's request a CREATE row stands for, its add-ons included (R-ADD-1)."""
    add_ons = op.add_ons if op.add_ons is not None else tuple(a for a, on in op.add_on_changes if on)
    return NewSubscriber(customer_id=customer_id, email=op.email, package=op.package or "",
                         first_name=op.first_name or "", last_name=op.last_name or "", primary_phone_number=op.phone,
                         extension=op.extension, location_id=location_id, add_ons=tuple(add_ons))


def subscriber_update(op: RowOp, current: Subscriber, location_id: str | None) -> SubscriberUpdate:
    """UPDATE: what the row names changes, what it leaves out stays (R-BULK-2: blank = unchanged)."""
    add_ons: tuple[str, ...] | None = op.add_ons
    if op.add_on_changes:
        held = set(current.add_ons)
        held |= {a for a, on in op.add_on_changes if on}
        held -= {a for a, on in op.add_on_changes if not on}
        add_ons = tuple(sorted(held))
    return SubscriberUpdate(
        package=op.package or current.package,
        primary_phone_number=op.phone if op.phone is not None else current.primary_phone_number,
        extension=op.extension if op.extension is not None else current.extension,
        location_id=location_id, add_ons=add_ons)


def match_location(value: str | None, locations: Sequence[Mapping[str, Any]]) -> tuple[str | None, bool]:
    """A CSV `location` cell: one of the customer's locations by id or by name (case-insensitive); (id, found)."""
    if value is None:
        return None, True
    for doc in locations:
        if doc["_id"] == value or str(doc.get("name", "")).strip().lower() == value.strip().lower():
            return str(doc["_id"]), True
    return None, False


def row_errors(problems: Sequence[FieldError], from_csv: bool) -> list[FieldError]:
    """The single mutation's problems as a row's: paths relative to the row, named as its file names them."""
    out: list[FieldError] = []
    for p in problems:
        path = tuple(p.field or ())
        if path[:1] == ("input",):
            path = path[1:]
        if from_csv:
            path = tuple(_CSV_FIELDS.get(part, part) for part in path)
        out.append(FieldError(p.code, p.message, path or None))
    return out


# --- the batch as a whole -------------------------------------------------------------------------------------


def finished_status(refused: int) -> BatchStatus:
    return BatchStatus.COMPLETED_WITH_ERRORS if refused else BatchStatus.COMPLETED


RESULT_COLUMNS = ("rowNumber", "action", "email", "status", "subscriberId", "errors")


def result_cells(row: Mapping[str, Any]) -> list[str]:
    """One line of a batch's result file (R-BULK-4): the row, what became of it, and why."""
    errors = "; ".join(
        f"{e['code']}: {e['message']}" + (f" ({'.'.join(e['field'])})" if e.get("field") else "")
        for e in row.get("errors") or ())
    return [str(row["rowNumber"]), row.get("action") or "", row.get("email") or "",
            row.get("status") or RowStatus.PENDING.value, row.get("subscriberId") or "", errors]
