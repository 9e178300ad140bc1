"""User add-ons (DOMAIN.md §3 R-PKG-3 amended 2026-12, §3.1 R-ADD-1): what a subscriber may hold beside its one base
package, as pure functions of the request, the customer and how many other subscribers hold each add-on.

A subscriber's `addOns` is a complete list: on an update, a list replaces the one held and no list keeps it. Each
add-on must be a user add-on (the catalogue says which: today only `attendant_console`), one of the customer's
packages, within the customer's limit for it, and its base package must be one the add-on needs. A change of base
package that would leave a held add-on without what it needs is refused: the add-on has to be dropped in the same
request.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence

from domain.model.entities import Customer, PackageStatus
from domain.model.errors import ErrorCode, FieldError
from domain.rules.catalogue import CATALOGUE


def customer_holdings(customer: Customer) -> dict[str, int | None]:
    """The customer's packages that subscribers may take (those not being removed), each with its limit."""
    return {p.name: p.limit for p in customer.packages if p.status is not PackageStatus.DELETING}


def _needs(add_on: str, base: str) -> str | None:
    """Why `base` cannot carry `add_on` (None: it can)."""
    needs = CATALOGUE[add_on].requires_any_of
    if needs and base not in needs:
        return f"`{add_on}` needs a base package of {', '.join(sorted(needs))}, not `{base}`"
    return None


def add_on_problems(add_ons: Sequence[str], base: str, customer: Customer, held: Mapping[str, int],
                    kept: Collection[str] = (), *prefix: str) -> list[FieldError]:
    """Every problem of the complete list `add_ons` for a subscriber whose base package is `base` (R-ADD-1).

    `held`: how many *other* subscribers of the customer hold each add-on now; `kept`: the add-ons the subscriber
    already holds, which its limit does not count again (a limit lowered since then does not take one away).
    """
    path = (*prefix, "addOns")
    problems: list[FieldError] = []
    if len(set(add_ons)) != len(add_ons):
        problems.append(FieldError(ErrorCode.VALIDATION_FAILED, "an add-on is listed twice", path))
    on_customer = customer_holdings(customer)
    for add_on in dict.fromkeys(add_ons):
        spec = CATALOGUE.get(add_on)
        if spec is None:
            problems.append(FieldError(ErrorCode.UNKNOWN_PACKAGE, f"`{add_on}` is not a package", path))
        elif not spec.user_add_on:
            problems.append(FieldError(ErrorCode.PACKAGE_NOT_ASSIGNABLE,
                                       f"`{add_on}` is not a user add-on (the only one is attendant_console)", path))
        elif add_on not in on_customer:
            problems.append(FieldError(ErrorCode.PACKAGE_NOT_ON_CUSTOMER,
                                       f"the customer does not have `{add_on}`", path))
        elif (why := _needs(add_on, base)) is not None:
            problems.append(FieldError(ErrorCode.PACKAGE_DEPENDENCY, why, path))
        elif add_on not in kept and (limit := on_customer[add_on]) is not None and held.get(add_on, 0) >= limit:
            problems.append(FieldError(ErrorCode.PACKAGE_LIMIT_REACHED,
                                       f"`{add_on}` is limited to {limit} subscribers", path))
    return problems


def base_change_problems(current_add_ons: Sequence[str], base: str, *prefix: str) -> list[FieldError]:
    """An update that keeps the add-ons held (no `addOns` given) but changes the base package: the new base must
    still carry every one of them (R-ADD-1: a base change breaking an add-on must drop it, in the same request)."""
    return [FieldError(ErrorCode.PACKAGE_DEPENDENCY, f"{why}: drop it (`addOns`) to change the package",
                       (*prefix, "package"))
            for add_on in current_add_ons if add_on in CATALOGUE and (why := _needs(add_on, base)) is not None]


def with_add_ons(base: str, add_ons: Sequence[str]) -> list[str]:
    """Every package a subscriber holds: its base first, then its add-ons (REST `packages`)."""
    return [base, *add_ons]
