"""Package rules over data already loaded (R-PKG-2, R-PKG-3, R-PKG-5…7, R-SUB-1, R-SUB-2)."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from domain.model.changes import DELETED
from domain.model.entities import CustomerPackage, PackageStatus, ProvisioningError
from domain.model.errors import ErrorCode, FieldError
from domain.rules.catalogue import CATALOGUE, is_downgrade
from domain.rules.phones import is_number_of, is_valid_number

# ASCII digits only: `\d` alone also matches fullwidth and Arabic-Indic digits, which no dial plan takes.
_EXTENSION = re.compile(r"^\d{2,10}$", re.ASCII)


def customer_package_problems(packages: Sequence[str], *field: str) -> list[FieldError]:
    """The package list of a customer: known, not repeated, add-ons with what they need (R-PKG-2)."""
    problems: list[FieldError] = []
    path = tuple(field) or None
    if not packages:
        return [FieldError(ErrorCode.REQUIRED, "at least one package is required", path)]
    unknown = [p for p in packages if p not in CATALOGUE]
    problems += [FieldError(ErrorCode.UNKNOWN_PACKAGE, f"`{p}` is not a package", path) for p in unknown]
    if len(set(packages)) != len(packages):
        problems.append(FieldError(ErrorCode.VALIDATION_FAILED, "a package is listed twice", path))
    present = set(packages)
    for name in present - set(unknown):
        needs = CATALOGUE[name].requires_any_of
        if needs and not needs & present:
            problems.append(FieldError(
                ErrorCode.PACKAGE_DEPENDENCY,
                f"`{name}` needs one of {', '.join(sorted(needs))} on the same customer", path))
    return problems


def limit_problems(limits: Mapping[str, int], packages: Sequence[str], *field: str) -> list[FieldError]:
    """R-PKG-6: limits apply to the customer's own packages and are not negative."""
    path = tuple(field) or None
    problems = [FieldError(ErrorCode.PACKAGE_NOT_ON_CUSTOMER, f"`{p}` has a limit but is not a package of the "
                           "customer", path) for p in limits if p not in packages]
    problems += [FieldError(ErrorCode.VALIDATION_FAILED, f"the limit of `{p}` must not be negative", path)
                 for p, n in limits.items() if n < 0]
    return problems


def assignment_problems(
    package: str, customer_packages: Sequence[str], limit: int | None, assigned: int, *field: str
) -> list[FieldError]:
    """A subscriber's package: a user package (R-PKG-3) of its customer (R-PKG-7) within the limit (R-PKG-6)."""
    path = tuple(field) or None
    spec = CATALOGUE.get(package)
    if spec is None:
        return [FieldError(ErrorCode.UNKNOWN_PACKAGE, f"`{package}` is not a package", path)]
    if not spec.assignable_to_users:
        return [FieldError(ErrorCode.PACKAGE_NOT_ASSIGNABLE, f"`{package}` cannot be assigned to a user", path)]
    if package not in customer_packages:
        return [FieldError(ErrorCode.PACKAGE_NOT_ON_CUSTOMER, f"the customer does not have `{package}`", path)]
    if limit is not None and assigned >= limit:
        return [FieldError(ErrorCode.PACKAGE_LIMIT_REACHED, f"`{package}` is limited to {limit} subscribers", path)]
    return []


def calling_problems(
    package: str, phone: str | None, extension: str | None, location_id: str | None, *prefix: str
) -> list[FieldError]:
    """R-SUB-1 numbers, and §6: a location only for calling packages."""
    problems: list[FieldError] = []
    if phone is not None and not is_valid_number(phone):
        problems.append(FieldError(ErrorCode.INVALID_PHONE_NUMBER, "`primaryPhoneNumber` must be an existing number "
                                   "in E.164 form (+ country code and number)", (*prefix, "primaryPhoneNumber")))
    if extension is not None and not _EXTENSION.match(extension):
        problems.append(FieldError(ErrorCode.INVALID_EXTENSION, "`extension` must be 2 to 10 digits",
                                   (*prefix, "extension")))
    spec = CATALOGUE.get(package)
    if spec is not None and spec.calling and phone is None and extension is None:
        problems.append(FieldError(ErrorCode.CALLING_NUMBER_REQUIRED,
                                   f"`{package}` needs a primaryPhoneNumber or an extension", (*prefix, "package")))
    if spec is not None and not spec.calling and location_id is not None:
        problems.append(FieldError(ErrorCode.LOCATION_NOT_ALLOWED, f"`{package}` has no calling location",
                                   (*prefix, "locationId")))
    return problems


def number_country_problems(phone: str | None, country: str, *prefix: str) -> list[FieldError]:
    """R-SUB-1 (amended 2026-12): a valid number must belong to the country of the subscriber's location."""
    if phone is None or not is_valid_number(phone) or is_number_of(phone, country):
        return []
    return [FieldError(ErrorCode.INVALID_PHONE_NUMBER, f"`primaryPhoneNumber` is not a number of {country}, the "
                       "country of the subscriber's location", (*prefix, "primaryPhoneNumber"))]


def admin_change_problems(is_admin: bool, old: str, new: str, *field: str) -> list[FieldError]:
    """R-SUB-2: an admin's package may not be downgraded (R-PKG-5)."""
    if is_admin and is_downgrade(old, new):
        return [FieldError(ErrorCode.ADMIN_PACKAGE_DOWNGRADE,
                           f"the customer's admin cannot move from `{old}` to `{new}`: it loses capabilities",
                           tuple(field) or None)]
    return []


def settled_packages(packages: list[CustomerPackage], outcome: dict[str, ProvisioningError | None]
                     ) -> tuple[list[CustomerPackage], list[tuple[CustomerPackage, PackageStatus, str | None]]]:
    """The packages after a provisioning step (`outcome`: each assigned package's error, None when it worked),
    and their moves (package, from, to: None for its own new status, DELETED for one that was removed)."""
    kept: list[CustomerPackage] = []
    moves: list[tuple[CustomerPackage, PackageStatus, str | None]] = []
    for package in packages:
        if package.status is PackageStatus.DELETING:
            moves.append((package, PackageStatus.DELETING, DELETED))
            continue
        if package.name in outcome:
            error = outcome[package.name]
            after = package.model_copy(update={"status": PackageStatus.ERROR if error else PackageStatus.PROVISIONED,
                                               "errors": [error] if error else []})
            moves.append((after, package.status, None))
            package = after
        kept.append(package)
    return kept, moves
