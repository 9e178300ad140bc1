"""The package catalogue (R-PKG-1…5), kept as one table so a new package is a data change."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PackageSpec:
    name: str
    sku: str
    description: str
    assignable_to_users: bool  # R-PKG-3: a subscriber's base package
    calling: bool  # R-PKG-4
    capabilities: frozenset[str]  # R-PKG-5
    requires_any_of: frozenset[str] = frozenset()  # R-PKG-2: add-on dependencies
    user_add_on: bool = False  # R-PKG-3 (amended 2026-12): a user add-on, held beside a subscriber's base package


_CALLING = frozenset({"call_basic", "call_std", "call_pro"})
_WEBEX_CALLING = _CALLING | {"messaging", "meet_basic"}

CATALOGUE: dict[str, PackageSpec] = {
    spec.name: spec
    for spec in (
        PackageSpec("common_area_calling", "A-WXCW-CA", "Webex Calling common area", False, False,
                    frozenset({"call_basic"})),
        PackageSpec("webex_calling", "A-WXCW-PRO", "Webex Calling professional", True, True, _WEBEX_CALLING),
        PackageSpec("webex_calling_standard", "A-WXCW-STD", "Webex Calling standard", True, True,
                    frozenset({"call_basic", "call_std"})),
        PackageSpec("webex_voice", "A-WXCW-VOICE", "Webex Voice", True, True, _CALLING),
        PackageSpec("webex_meetings", "A-WXCW-MTG", "Webex Meetings", True, False,
                    frozenset({"messaging", "meet_basic", "meet_full"})),
        PackageSpec("webex_suite", "A-WXCW-SUITE", "Webex Suite (calling and meetings)", True, True,
                    _WEBEX_CALLING | {"meet_full"}),
        PackageSpec("cx_essentials", "A-WXCW-CXE", "Webex Customer Assist (CX Essentials)", True, True,
                    _WEBEX_CALLING | {"customer_assist"}),
        # R-PKG-2 (amended 2026-12): webex_voice no longer carries the attendant console.
        PackageSpec("attendant_console", "A-WXCW-AC", "Attendant Console add-on", False, False, frozenset(),
                    frozenset({"webex_calling", "webex_suite", "cx_essentials"}), user_add_on=True),
        PackageSpec("cisco_calling_plan", "A-WXCW-CCP", "Cisco Calling Plan add-on", False, False, frozenset(),
                    frozenset({"common_area_calling", "webex_calling", "webex_suite", "webex_voice",
                               "cx_essentials", "webex_calling_standard"})),
    )
}

USER_PACKAGES: tuple[str, ...] = tuple(n for n, s in CATALOGUE.items() if s.assignable_to_users)
# Billed services that are not packages (R-SA-2, R-BIL-4 amended 2026-12): one-off charges by their ledger name,
# with their SKU and description (decision: the seeds name Setup Assist's SKUs but not their codes).
SERVICES: dict[str, tuple[str, str]] = {
    "setup_assist_express": ("A-WXCW-SA-EXPRESS", "Setup Assist Express (up to 5 seats, flat fee)"),
    "setup_assist_standard": ("A-WXCW-SA-STANDARD", "Setup Assist Standard (per seat)"),
}
USER_ADD_ONS: tuple[str, ...] = tuple(n for n, s in CATALOGUE.items() if s.user_add_on)


def is_downgrade(old: str, new: str) -> bool:
    """R-PKG-5: moving from `old` to `new` loses at least one capability (an unknown package is refused as such
    by the package rules, not judged here)."""
    if old not in CATALOGUE or new not in CATALOGUE:
        return False
    return bool(CATALOGUE[old].capabilities - CATALOGUE[new].capabilities)
