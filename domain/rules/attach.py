"""Attaching Wholesale to an existing Webex org (DOMAIN.md §5.7, R-ATT-1…3) and the customer settings of
restricted-by-partner mode (§5.8, R-RBP-1…3): pure functions of the request, the org directory's entry and the
customer as it is.

The org directory is data (loaded from CSV, `gateway orgs load`); `parse_orgs_csv` reads it from text and names
the line of the first problem it finds. An org's own users (R-ATT-3) come from a second CSV (`--users`), read by
`parse_org_users_csv`.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from domain.model.entities import (
    AttachApprovalState,
    AttachInfo,
    AuthMode,
    Customer,
    CustomerStatus,
    OnboardingTemplate,
    PartnerAccess,
    ProvisioningError,
)
from domain.model.errors import ErrorCode
from domain.rules.phones import is_valid_number
from domain.rules.subscribers import NewSubscriber, needs_locations
from domain.rules.validation import Problems

# R-ATT-2: an org this large (seed: "100 or more" users) needs its admin's approval.
APPROVAL_USERS = 100
# R-ATT-2 (decision, as §10): how long the org's admin has to answer.
APPROVAL_WINDOW = timedelta(days=10)
DOMAIN_SEPARATOR = ";"
ORG_ID_FIELD = ("input", "orgId")
NAME_KEPT = "ORG_NAME_KEPT"
# R-ATT-3: the warning on a subscriber whose org-user settings won over the request's.
ORG_USER_SETTINGS_KEPT = "ORG_USER_SETTINGS_KEPT"


@dataclass(frozen=True)
class OrgUser:
    """One of an existing org's users (R-ATT-3): a Calling-entitled one has a number and/or an extension."""

    email: str
    calling: bool = False
    number: str | None = None
    extension: str | None = None

    def to_doc(self) -> dict[str, Any]:
        return {"email": self.email, "calling": self.calling, "number": self.number, "extension": self.extension}

    @classmethod
    def from_doc(cls, doc: Mapping[str, Any]) -> OrgUser:
        return cls(email=doc["email"], calling=bool(doc.get("calling")), number=doc.get("number"),
                   extension=doc.get("extension"))


@dataclass(frozen=True)
class DirectoryOrg:
    """An existing Webex org as the directory knows it."""

    id: str
    name: str
    users: int = 0
    verified_domains: tuple[str, ...] = ()
    claimed_domains: tuple[str, ...] = ()
    active_licence: bool = False  # the org holds an active (paid) licence
    trial: bool = False
    broadworks: bool = False
    flex: bool = False  # also holds Flex licences: a hybrid customer once attached (R-RBP-3)
    wholesale: bool = False  # already under Wholesale outside this gateway
    auth_mode: AuthMode = AuthMode.WEBEX
    # R-ATT-3: the org's users the directory knows by name (`users` is their count, which may be larger).
    org_users: tuple[OrgUser, ...] = ()

    def to_doc(self) -> dict[str, Any]:
        """Its document; `orgUsers` only when it has some, so a load without a users file keeps the stored ones."""
        doc = {"_id": self.id, "name": self.name, "users": self.users, "verifiedDomains": list(self.verified_domains),
               "claimedDomains": list(self.claimed_domains), "activeLicence": self.active_licence,
               "trial": self.trial, "broadworks": self.broadworks, "flex": self.flex, "wholesale": self.wholesale,
               "authMode": self.auth_mode.value}
        if self.org_users:
            doc["orgUsers"] = [u.to_doc() for u in self.org_users]
        return doc

    @classmethod
    def from_doc(cls, doc: Mapping[str, Any]) -> DirectoryOrg:
        return cls(id=doc["_id"], name=doc["name"], users=int(doc.get("users", 0)),
                   verified_domains=tuple(doc.get("verifiedDomains") or ()),
                   claimed_domains=tuple(doc.get("claimedDomains") or ()),
                   active_licence=bool(doc.get("activeLicence")), trial=bool(doc.get("trial")),
                   broadworks=bool(doc.get("broadworks")), flex=bool(doc.get("flex")),
                   wholesale=bool(doc.get("wholesale")), auth_mode=AuthMode(doc.get("authMode") or "webex"),
                   org_users=tuple(OrgUser.from_doc(u) for u in doc.get("orgUsers") or ()))

    def user(self, email: str) -> OrgUser | None:
        """The org's user with this email (case-insensitive), if the directory knows one."""
        folded = email.strip().lower()
        return next((u for u in self.org_users if u.email == folded), None)

    @property
    def approval_required(self) -> bool:
        """R-ATT-2: ≥ 100 users, a verified email domain or a claimed domain; otherwise the attach is silent."""
        return self.users >= APPROVAL_USERS or bool(self.verified_domains) or bool(self.claimed_domains)


# ---------------------------------------------------------------------------------------------- the CSV


class OrgsFormatError(ValueError):
    """A directory CSV that cannot be loaded; the message names the problem and its 1-based line."""

    def __init__(self, message: str, line: int | None = None) -> None:
        super().__init__(f"line {line}: {message}" if line is not None else message)
        self.line = line


_TRUE = {"true", "yes", "y", "1"}
_FALSE = {"false", "no", "n", "0", ""}
_FLAGS = ("active_licence", "trial", "broadworks", "flex", "wholesale")


def _flag(value: str, column: str, line: int) -> bool:
    folded = value.strip().lower()
    if folded in _TRUE:
        return True
    if folded in _FALSE:
        return False
    raise OrgsFormatError(f"{column} must be true or false, not {value!r}", line)


def _domains(value: str) -> tuple[str, ...]:
    return tuple(dict.fromkeys(d.strip().lower() for d in value.split(DOMAIN_SEPARATOR) if d.strip()))


def _csv_rows(text: str, required: Sequence[str]) -> Iterator[tuple[int, dict[str, str]]]:
    """The data rows of CSV text with a header row (both directory files): (line, stripped cells by lower-case
    column name), blank lines skipped; a missing header, missing required column or unreadable CSV is refused."""
    reader = csv.reader(io.StringIO(text.removeprefix("\ufeff"), newline=""))
    columns: dict[str, int] | None = None
    line = 1
    try:
        for row in reader:
            start, line = line, reader.line_num + 1
            if not any(cell.strip() for cell in row):
                continue
            if columns is None:
                columns = {name.strip().lower(): i for i, name in enumerate(row) if name.strip()}
                missing = [c for c in required if c not in columns]
                if missing:
                    raise OrgsFormatError(f"the header has no {' and no '.join(missing)} column", start)
                continue
            yield start, {name: row[i].strip() if i < len(row) else "" for name, i in columns.items()}
    except csv.Error as exc:
        raise OrgsFormatError(f"unreadable CSV ({exc})", reader.line_num) from exc
    if columns is None:
        raise OrgsFormatError("no header row (the text is empty or only blank lines)", 1)


def parse_orgs_csv(text: str) -> list[DirectoryOrg]:
    """The org directory from CSV text with a header row.

    Required columns `id` and `name`; optional `users` (a whole number, blank = 0), `verified_domains` and
    `claimed_domains` (`;`-separated), the flags `active_licence`, `trial`, `broadworks`, `flex`, `wholesale`
    (true/false, yes/no, 1/0; blank = false) and `auth_mode` (webex, partner_saml, partner_oidc; blank = webex).
    Other columns are ignored, blank lines skipped; an id given twice is refused.
    """
    orgs: dict[str, DirectoryOrg] = {}
    for start, cells in _csv_rows(text, ("id", "name")):
        def cell(name: str, cells: Mapping[str, str] = cells) -> str:
            return cells.get(name, "")

        org_id, name = cell("id"), cell("name")
        for column, value in (("id", org_id), ("name", name)):
            if not value:
                raise OrgsFormatError(f"{column} is blank", start)
        if org_id in orgs:
            raise OrgsFormatError(f"org {org_id} is given twice", start)
        users_text = cell("users") or "0"
        if not users_text.isdigit():
            raise OrgsFormatError(f"users must be a whole number, not {users_text!r}", start)
        mode = cell("auth_mode").lower() or AuthMode.WEBEX.value
        if mode not in {m.value for m in AuthMode}:
            raise OrgsFormatError(f"auth_mode must be one of {', '.join(m.value for m in AuthMode)}", start)
        flags: dict[str, Any] = {f: _flag(cell(f), f, start) for f in _FLAGS}
        orgs[org_id] = DirectoryOrg(
            id=org_id, name=name, users=int(users_text), verified_domains=_domains(cell("verified_domains")),
            claimed_domains=_domains(cell("claimed_domains")), auth_mode=AuthMode(mode), **flags)
    return list(orgs.values())


def parse_org_users_csv(text: str, org_ids: Collection[str]) -> dict[str, tuple[OrgUser, ...]]:
    """The users of the orgs of a directory load (R-ATT-3), by org id, from CSV text with a header row.

    Required columns `org_id` (one of `org_ids`: the orgs loaded with it) and `email`; optional `calling`
    (true/false, blank = false) and, for a Calling-entitled user only, `number` (E.164) and/or `extension`
    (digits) — at least one of them. An email given twice for one org is refused; errors name the line.
    """
    users: dict[str, dict[str, OrgUser]] = {}
    for start, cells in _csv_rows(text, ("org_id", "email")):
        users.setdefault(*_org_user(cells, org_ids, users, start))
    return {org_id: tuple(by_email.values()) for org_id, by_email in users.items()}


def _org_user(cells: Mapping[str, str], org_ids: Collection[str], users: dict[str, dict[str, OrgUser]],
              line: int) -> tuple[str, dict[str, OrgUser]]:
    org_id, email = cells.get("org_id", ""), cells.get("email", "").lower()
    if not org_id or not email:
        raise OrgsFormatError(f"{'org_id' if not org_id else 'email'} is blank", line)
    if org_id not in org_ids:
        raise OrgsFormatError(f"org {org_id} is not in the orgs file", line)
    if "@" not in email.strip("@"):
        raise OrgsFormatError(f"{email!r} is not an email address", line)
    known = users.get(org_id, {})
    if email in known:
        raise OrgsFormatError(f"{email} is given twice for org {org_id}", line)
    calling = _flag(cells.get("calling", ""), "calling", line)
    number, extension = cells.get("number") or None, cells.get("extension") or None
    if not calling and (number or extension):
        raise OrgsFormatError("only a Calling-entitled user (calling true) has a number or an extension", line)
    if calling and not (number or extension):
        raise OrgsFormatError("a Calling-entitled user needs a number or an extension", line)
    if number is not None and not is_valid_number(number):
        raise OrgsFormatError(f"number {number!r} is not a valid E.164 number", line)
    if extension is not None and not extension.isdigit():
        raise OrgsFormatError(f"extension {extension!r} must be digits", line)
    known[email] = OrgUser(email, calling, number, extension)
    return org_id, known


def with_org_users(orgs: Sequence[DirectoryOrg], users: Mapping[str, tuple[OrgUser, ...]]) -> list[DirectoryOrg]:
    """The orgs with the users a users file gives them (an org it does not name keeps what is stored)."""
    return [replace(o, org_users=users[o.id]) if o.id in users else o for o in orgs]


# ---------------------------------------------------------------------------------------------- attach (R-ATT)


@dataclass(frozen=True)
class AttachFacts:
    """What an attach request is judged against, loaded by the service before it asks."""

    org: DirectoryOrg | None  # the directory's entry for the requested org id, if any
    wholesale_elsewhere: bool  # a customer (anyone's) already holds this org


@dataclass
class AttachPlan:
    problems: Problems
    org: DirectoryOrg | None = None
    approval_required: bool = False
    info: AttachInfo | None = None
    warnings: list[ProvisioningError] = field(default_factory=list)


def plan_attach(requested_name: str, template: OnboardingTemplate | None, facts: AttachFacts) -> AttachPlan:
    """R-ATT-1/2: whether the org may be attached, whether its admin must approve, and the attach as it starts."""
    problems = Problems()
    plan = AttachPlan(problems)
    org = facts.org
    if facts.wholesale_elsewhere or (org is not None and org.wholesale):
        problems.add(ErrorCode.ORG_ALREADY_WHOLESALE, "this org is already a Wholesale customer", *ORG_ID_FIELD)
        return plan
    if org is None:
        problems.add(ErrorCode.NOT_FOUND, "no existing org has this id", *ORG_ID_FIELD)
        return plan
    plan.org = org
    plan.approval_required = org.approval_required
    if org.trial or org.broadworks:
        problems.add(ErrorCode.ORG_NOT_ATTACHABLE,
                     f"a {'trial' if org.trial else 'BroadWorks'} org cannot be attached", *ORG_ID_FIELD)
    elif org.approval_required and template is not None and template.restrict_admin_invite_emails_on_attach:
        # (decision) the approval is asked of the org's admin by email, which the template forbids.
        problems.add(ErrorCode.ORG_NOT_ATTACHABLE, "this org's admin must approve, and the template restricts "
                     "admin invite emails on attach", *ORG_ID_FIELD)
    plan.info = AttachInfo(
        approval_state=AttachApprovalState.PENDING if org.approval_required else AttachApprovalState.NOT_REQUIRED,
        partner_access=PartnerAccess.PROVISIONING_ADMIN if org.active_licence else PartnerAccess.FULL_ADMIN)
    if requested_name.strip() != org.name:
        plan.warnings.append(ProvisioningError(
            code=NAME_KEPT, message=f"the org keeps its name `{org.name}`; the name given is not used"))
    return plan


@dataclass(frozen=True)
class OrgUserTerms:
    """How a new subscriber joins an attached org (R-ATT-3): the request as it applies, whether it is one of the
    org's own users (they join without consent) and the warnings it gets."""

    data: NewSubscriber
    org_user: bool = False
    warnings: tuple[ProvisioningError, ...] = ()


def org_user_terms(customer: Customer | None, org: DirectoryOrg | None, data: NewSubscriber) -> OrgUserTerms:
    """R-ATT-3: one of an attached org's users joins without consent; a Calling-entitled one with a calling package
    keeps its number and extension and its location (the org's existing one: the headquarters); what the request
    gave for them is ignored, with a warning when it differs."""
    user = org.user(data.email) if customer is not None and customer.attach is not None and org is not None else None
    if user is None:
        return OrgUserTerms(data)
    if not user.calling or not needs_locations(data.package):
        return OrgUserTerms(data, org_user=True)
    given = (_blank(data.primary_phone_number), _blank(data.extension), _blank(data.location_id))
    kept = replace(data, primary_phone_number=user.number, extension=user.extension, location_id=None)
    ignored = [name for name, value, own in zip(("primaryPhoneNumber", "extension", "locationId"), given,
                                                (user.number, user.extension, None), strict=True)
               if value is not None and value != own]
    warnings = (ProvisioningError(code=ORG_USER_SETTINGS_KEPT, message=(
        f"an existing Calling user of the org keeps its number, extension and location; {', '.join(ignored)} "
        "given in the request not used")),) if ignored else ()
    return OrgUserTerms(kept, org_user=True, warnings=warnings)


def _blank(value: str | None) -> str | None:
    return value.strip() if value is not None and value.strip() else None


def awaits_approval(customer: Customer) -> bool:
    """R-ATT-2: screened (and reviewed) but its org's admin has not yet been asked: the next step asks."""
    return (customer.attach is not None and customer.attach.approval_state is AttachApprovalState.PENDING
            and customer.attach.requested_at is None
            and customer.status in (CustomerStatus.PROVISIONING, CustomerStatus.PENDING_RPL_REVIEW))


def approval_requested(info: AttachInfo, now: datetime) -> AttachInfo:
    return info.model_copy(update={"requested_at": now, "deadline": now + APPROVAL_WINDOW})


@dataclass(frozen=True)
class ApprovalOutcome:
    info: AttachInfo
    failure: ProvisioningError | None  # declined: the customer ends in `error` with it


def plan_approval(customer: Customer, approved: bool, by: str, note: str | None, now: datetime) -> ApprovalOutcome:
    """R-ATT-2: the org admin's answer, recorded by a platform_admin; only while the customer waits for it."""
    problems = Problems()
    if customer.attach is None or customer.status is not CustomerStatus.PENDING_CUSTOMER_APPROVAL:
        problems.add(ErrorCode.INVALID_STATE, f"the customer is `{customer.status.value}`, not waiting for its "
                     "org's approval", "customerId")
    problems.text(note, 2000, "note", required=False, multiline=True)
    problems.raise_if_any()
    assert customer.attach is not None
    decided = {"decided_at": now, "decided_by": by, "note": note}
    if approved:  # (decision) an approving admin grants the partner full admin access
        return ApprovalOutcome(customer.attach.model_copy(update={
            **decided, "approval_state": AttachApprovalState.APPROVED, "partner_access": PartnerAccess.FULL_ADMIN}),
            None)
    return ApprovalOutcome(
        customer.attach.model_copy(update={**decided, "approval_state": AttachApprovalState.DECLINED}),
        ProvisioningError(code=ErrorCode.ATTACH_APPROVAL_DECLINED.value,
                          message="the org's admin declined the Wholesale attach"))


def approval_timed_out(customer: Customer, now: datetime) -> ProvisioningError | None:
    """R-ATT-2: still unanswered at the deadline → the failure the customer ends with (None: nothing to do)."""
    info = customer.attach
    if (customer.status is not CustomerStatus.PENDING_CUSTOMER_APPROVAL or info is None
            or info.approval_state is not AttachApprovalState.PENDING or info.deadline is None
            or now < info.deadline):
        return None
    return ProvisioningError(code=ErrorCode.ATTACH_APPROVAL_TIMEOUT.value,
                             message="the org's admin did not answer within 10 days")


# ---------------------------------------------------------------------------------------------- settings (R-RBP)


@dataclass(frozen=True)
class SettingsUpdate:
    restricted_by_partner_mode: bool | None = None
    restrict_enterprise_settings: bool | None = None


SETTINGS_FIELDS: Sequence[str] = ("restrictedByPartnerMode", "restrictEnterpriseSettings")


def plan_settings(customer: Customer, update: SettingsUpdate) -> dict[str, bool]:
    """R-RBP-1…3: the settings fields that change (empty: none), or refused. Not in `deleting`/`error`; an attached
    customer cannot turn restricted mode on (R-ATT-3), and only a hybrid one may restrict enterprise settings."""
    problems = Problems()
    if customer.status in (CustomerStatus.DELETING, CustomerStatus.ERROR):
        problems.add(ErrorCode.INVALID_STATE, f"the settings of a customer in `{customer.status.value}` cannot "
                     "change", "customerId")
        problems.raise_if_any()
    if update.restricted_by_partner_mode and customer.attach is not None:
        problems.add(ErrorCode.SETTING_NOT_AVAILABLE, "restricted-by-partner mode is not available for an attached "
                     "org", "input", "restrictedByPartnerMode")
    if update.restrict_enterprise_settings and not customer.hybrid:
        problems.add(ErrorCode.SETTING_NOT_AVAILABLE, "enterprise settings can only be restricted for a hybrid "
                     "customer (one also holding Flex licences)", "input", "restrictEnterpriseSettings")
    problems.raise_if_any()
    changed: dict[str, bool] = {}
    if update.restricted_by_partner_mode is not None and \
            update.restricted_by_partner_mode != customer.restricted_by_partner_mode:
        changed["restricted_by_partner_mode"] = update.restricted_by_partner_mode
    if update.restrict_enterprise_settings is not None and \
            update.restrict_enterprise_settings != customer.restrict_enterprise_settings:
        changed["restrict_enterprise_settings"] = update.restrict_enterprise_settings
    return changed


def customer_admin_problems(customer: Customer, admin_email: str) -> Problems:
    """R-RBP-2: a change the customer's own admin made on the Webex side may reach the gateway only while
    restricted-by-partner mode is off (on: its admins cannot manage users or packages). (decision) Refused with
    SETTING_NOT_AVAILABLE, as turning the mode on is for an attached org: the operation is not available to them."""
    problems = Problems()
    problems.email(admin_email, "adminEmail")
    if customer.restricted_by_partner_mode:
        problems.add(ErrorCode.SETTING_NOT_AVAILABLE, "restricted-by-partner mode is on: the customer's admins "
                     "cannot manage users or packages", "customerId")
    return problems
