"""Expected failures: stable codes (DOMAIN.md §11) carried as data, never as stack traces."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import Enum


class ErrorCode(str, Enum):
    VALIDATION_FAILED = "VALIDATION_FAILED"
    REQUIRED = "REQUIRED"
    TOO_LONG = "TOO_LONG"
    INVALID_EMAIL = "INVALID_EMAIL"
    INVALID_COUNTRY = "INVALID_COUNTRY"
    INVALID_LOCALE = "INVALID_LOCALE"
    INVALID_TIMEZONE = "INVALID_TIMEZONE"
    INVALID_PHONE_NUMBER = "INVALID_PHONE_NUMBER"
    INVALID_EXTENSION = "INVALID_EXTENSION"
    NAME_HAS_PERCENT = "NAME_HAS_PERCENT"
    UNKNOWN_PACKAGE = "UNKNOWN_PACKAGE"
    PACKAGE_DEPENDENCY = "PACKAGE_DEPENDENCY"
    PACKAGE_NOT_ON_CUSTOMER = "PACKAGE_NOT_ON_CUSTOMER"
    PACKAGE_NOT_ASSIGNABLE = "PACKAGE_NOT_ASSIGNABLE"
    PACKAGE_LIMIT_REACHED = "PACKAGE_LIMIT_REACHED"
    PACKAGE_IN_USE = "PACKAGE_IN_USE"
    ADMIN_PACKAGE_DOWNGRADE = "ADMIN_PACKAGE_DOWNGRADE"
    CALLING_NUMBER_REQUIRED = "CALLING_NUMBER_REQUIRED"
    NUMBER_IN_USE = "NUMBER_IN_USE"
    LOCATION_NOT_ALLOWED = "LOCATION_NOT_ALLOWED"
    DUPLICATE_EXTERNAL_ID = "DUPLICATE_EXTERNAL_ID"
    EMAIL_IN_USE = "EMAIL_IN_USE"
    TEMPLATE_NOT_FOUND = "TEMPLATE_NOT_FOUND"
    NOT_FOUND = "NOT_FOUND"
    INVALID_STATE = "INVALID_STATE"
    SUB_PARTNER_SUSPENDED = "SUB_PARTNER_SUSPENDED"
    NOT_A_SUB_PARTNER = "NOT_A_SUB_PARTNER"
    BILLING_START_DATE_INVALID = "BILLING_START_DATE_INVALID"
    DELAYED_BILLING_NOT_ENABLED = "DELAYED_BILLING_NOT_ENABLED"
    BILLING_ALREADY_STARTED = "BILLING_ALREADY_STARTED"
    REPORT_DATE_RANGE = "REPORT_DATE_RANGE"
    REPORT_EXISTS = "REPORT_EXISTS"
    RPL_REJECTED = "RPL_REJECTED"
    RPL_REVIEW_TIMEOUT = "RPL_REVIEW_TIMEOUT"
    CURSOR_EXPIRED = "CURSOR_EXPIRED"
    FORBIDDEN = "FORBIDDEN"
    # Added 2026-12 (DOMAIN.md §3.1, §4, §5.7-5.8, §6, §7.1, §14-§17)
    ORG_ALREADY_WHOLESALE = "ORG_ALREADY_WHOLESALE"
    ORG_NOT_ATTACHABLE = "ORG_NOT_ATTACHABLE"
    ATTACH_APPROVAL_DECLINED = "ATTACH_APPROVAL_DECLINED"
    ATTACH_APPROVAL_TIMEOUT = "ATTACH_APPROVAL_TIMEOUT"
    NAME_IN_USE = "NAME_IN_USE"
    LOCATION_IN_USE = "LOCATION_IN_USE"
    DUPLICATE_IN_BATCH = "DUPLICATE_IN_BATCH"
    CSV_INVALID = "CSV_INVALID"
    IDEMPOTENCY_KEY_REUSED = "IDEMPOTENCY_KEY_REUSED"
    CONSENT_EMAIL_LIMIT = "CONSENT_EMAIL_LIMIT"
    USER_MIGRATION_DECLINED = "USER_MIGRATION_DECLINED"
    SETTING_NOT_AVAILABLE = "SETTING_NOT_AVAILABLE"
    SETUP_ASSIST_LEAD_TIME = "SETUP_ASSIST_LEAD_TIME"
    # 2026-12, §10 trials, §12 orders, §13 notifications and webhooks
    ROUTE_TO_MARKET_MISMATCH = "ROUTE_TO_MARKET_MISMATCH"
    COUNTRY_NOT_SUPPORTED = "COUNTRY_NOT_SUPPORTED"
    CONFIRMATION_REQUIRED = "CONFIRMATION_REQUIRED"
    ORG_NOT_ELIGIBLE = "ORG_NOT_ELIGIBLE"
    SERVICE_NOT_TRIALABLE = "SERVICE_NOT_TRIALABLE"
    TRIAL_EXISTS = "TRIAL_EXISTS"
    SITE_URL_TAKEN = "SITE_URL_TAKEN"
    SITE_URL_MISMATCH = "SITE_URL_MISMATCH"
    UNKNOWN_DEVICE_TYPE = "UNKNOWN_DEVICE_TYPE"
    SHIPMENT_EXISTS = "SHIPMENT_EXISTS"
    SERIAL_MISMATCH = "SERIAL_MISMATCH"
    TRIAL_EXTENSION_LIMIT = "TRIAL_EXTENSION_LIMIT"
    EXTENSION_PENDING = "EXTENSION_PENDING"
    ORDER_VIA_PARENT = "ORDER_VIA_PARENT"
    REQUESTED_START_DATE_INVALID = "REQUESTED_START_DATE_INVALID"
    CONVERSION_EMAIL_MISMATCH = "CONVERSION_EMAIL_MISMATCH"
    SUBDOMAIN_INVALID = "SUBDOMAIN_INVALID"
    SUBDOMAIN_TAKEN = "SUBDOMAIN_TAKEN"
    WEBHOOK_URL_INVALID = "WEBHOOK_URL_INVALID"
    WEBHOOK_LIMIT_REACHED = "WEBHOOK_LIMIT_REACHED"


@dataclass(frozen=True)
class FieldError:
    """One problem with a request, pointing at the input field it concerns."""

    code: ErrorCode
    message: str
    field: tuple[str, ...] | None = None


@dataclass
class DomainError(Exception):
    """A refused request: every problem found, nothing written."""

    errors: Sequence[FieldError] = field(default_factory=list)

    def __str__(self) -> str:
        return "; ".join(f"{e.code.value}: {e.message}" for e in self.errors)

    @classmethod
    def single(cls, code: ErrorCode, message: str, *field_path: str) -> DomainError:
        return cls([FieldError(code, message, tuple(field_path) or None)])


class Forbidden(Exception):
    """The caller is authenticated but may not do this (role or scope missing)."""


class InvalidArgument(Exception):
    """A query argument (page size, cursor) is unusable; reported as a top-level error."""

    def __init__(self, message: str, argument: str) -> None:
        super().__init__(message)
        self.argument = argument


class CursorExpired(InvalidArgument):
    """A cursor older than the events' retention window: re-query, then resume from the current head (R-EVT-2)."""
