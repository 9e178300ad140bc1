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
                    frozenset({"webex_calling", "webex_suite", "cx_essentials"})),
        PackageSpec("cisco_calling_plan", "A-WXCW-CCP", "Cisco Calling Plan add-on", False, False, frozenset(),
                    frozenset({"common_area_calling", "webex_calling", "webex_suite", "webex_voice",
                               "cx_essentials", "webex_calling_standard"})),
    )
}

USER_PACKAGES: tuple[str, ...] = tuple(n for n, s in CATALOGUE.items() if s.assignable_to_users)


def is_downgrade(old: str, new: str) -> bool:
    """R-PKG-5: moving from `old` to `new` loses at least one capability (an unknown package is refused as such
    by the package rules, not judged here)."""
    if old not in CATALOGUE or new not in CATALOGUE:
        return False
    return bool(CATALOGUE[old].capabilities - CATALOGUE[new].capabilities)
