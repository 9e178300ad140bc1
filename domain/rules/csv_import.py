"""Reading a subscriber import (R-BULK-2): UTF-8 CSV as RFC 4180 has it, one row per subscriber.

The header names `email`, `firstName`, `lastName`, `location`, `phoneNumber`, `extension` (any order, each once)
and one column per package (its catalogue name: a base package a user may hold, or a user add-on). A package cell
is `TRUE`, `FALSE` or blank (case and surrounding blanks do not matter).

What the file as a whole gets wrong — not UTF-8, not CSV, a bad header, a row of the wrong width, too big, too
many rows or none — refuses the import with `CSV_INVALID` (nothing is written). What one row gets wrong (a cell
that is not TRUE/FALSE, two base packages) is that row's refusal, reported with the batch's results.
"""

from __future__ import annotations

import csv
import io

from domain.model.batches import RowAction
from domain.model.errors import DomainError, ErrorCode, FieldError
from domain.rules.bulk import MAX_CSV_BYTES, MAX_CSV_ROWS, RowOp, normal_email
from domain.rules.catalogue import USER_ADD_ONS, USER_PACKAGES

FIXED_COLUMNS = ("email", "firstName", "lastName", "location", "phoneNumber", "extension")
PACKAGE_COLUMNS = (*USER_PACKAGES, *USER_ADD_ONS)
_CANONICAL = {name.lower(): name for name in (*FIXED_COLUMNS, *PACKAGE_COLUMNS)}


def _invalid(message: str, *field: str) -> DomainError:
    return DomainError.single(ErrorCode.CSV_INVALID, message, *field)


def decode(data: bytes, *field: str) -> str:
    """The text of an uploaded file: UTF-8 (a byte-order mark is allowed and dropped), at most 5 MiB."""
    if len(data) > MAX_CSV_BYTES:
        raise _invalid(f"the file is larger than {MAX_CSV_BYTES // (1024 * 1024)} MiB", *field)
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise _invalid(f"the file is not UTF-8 (byte {exc.start})", *field) from None


def _header(cells: list[str], *field: str) -> list[str]:
    names: list[str] = []
    for cell in cells:
        name = _CANONICAL.get(cell.strip().lower())
        if name is None:
            raise _invalid(f"unknown column `{cell.strip()[:60]}`: the columns are {', '.join(FIXED_COLUMNS)} and "
                           f"one per package ({', '.join(PACKAGE_COLUMNS)})", *field)
        if name in names:
            raise _invalid(f"the column `{name}` appears twice", *field)
        names.append(name)
    missing = [c for c in FIXED_COLUMNS if c not in names]
    if missing:
        raise _invalid(f"the header lacks {', '.join(missing)}", *field)
    if not any(c in PACKAGE_COLUMNS for c in names):
        raise _invalid("the header names no package column", *field)
    return names


def _flag(value: str) -> bool | str | None:
    """TRUE → True, FALSE → False, blank → None; anything else is returned as it is (the row's problem)."""
    text = value.strip().upper()
    if not text:
        return None
    if text in ("TRUE", "FALSE"):
        return text == "TRUE"
    return value


def _blank_to_none(value: str) -> str | None:
    return value.strip() or None


def row_op(number: int, cells: dict[str, str]) -> RowOp:
    """One data row as an operation; its action is left to who holds the email, except a row of all FALSE."""
    problems: list[FieldError] = []
    bases: list[str] = []
    add_ons: dict[str, bool] = {}
    flags: list[bool | None] = []
    for column in PACKAGE_COLUMNS:
        if column not in cells:
            continue
        flag = _flag(cells[column])
        if isinstance(flag, str):
            problems.append(FieldError(ErrorCode.VALIDATION_FAILED, f"`{column}` must be TRUE, FALSE or blank",
                                       (column,)))
            continue
        flags.append(flag)
        if flag is None:
            continue
        if column in USER_ADD_ONS:
            add_ons[column] = flag
        elif flag:
            bases.append(column)
    if len(bases) > 1:
        problems.append(FieldError(ErrorCode.VALIDATION_FAILED, f"a subscriber holds one base package, the row "
                                   f"names {len(bases)}: {', '.join(bases)}", (bases[1],)))
    delete = bool(flags) and all(f is False for f in flags)
    return RowOp(
        row_number=number, email=normal_email(cells["email"]), action=RowAction.DELETE if delete else None,
        package=bases[0] if len(bases) == 1 else None, add_on_changes=tuple(sorted(add_ons.items())),
        first_name=_blank_to_none(cells["firstName"]), last_name=_blank_to_none(cells["lastName"]),
        phone=_blank_to_none(cells["phoneNumber"]), extension=_blank_to_none(cells["extension"]),
        location=_blank_to_none(cells["location"]), problems=tuple(problems), from_csv=True)


def parse_csv(text: str, *field: str) -> list[RowOp]:
    """Every data row of an import, in file order (row 1 is the first row after the header); blank lines are
    skipped. Refuses the whole file with CSV_INVALID at `field` when it cannot be read as an import."""
    if len(text.encode("utf-8", "surrogatepass")) > MAX_CSV_BYTES:
        raise _invalid(f"the file is larger than {MAX_CSV_BYTES // (1024 * 1024)} MiB", *field)
    if "\x00" in text:
        raise _invalid("the file contains NUL characters: it is not a text CSV", *field)
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    ops: list[RowOp] = []
    try:
        header_cells = next(reader, None)
        if header_cells is None:
            raise _invalid("the file is empty", *field)
        header = _header(header_cells, *field)
        for cells in reader:
            if not any(c.strip() for c in cells):
                continue
            if len(cells) != len(header):
                raise _invalid(f"line {reader.line_num} has {len(cells)} fields, the header {len(header)}", *field)
            if len(ops) == MAX_CSV_ROWS:
                raise _invalid(f"the file has more than {MAX_CSV_ROWS} rows", *field)
            ops.append(row_op(len(ops) + 1, dict(zip(header, cells, strict=True))))
    except csv.Error as exc:
        raise _invalid(f"line {reader.line_num} is not valid CSV: {exc}", *field) from None
    if not ops:
        raise _invalid("the file has a header but no rows", *field)
    return ops
