"""Schema-driven fuzzing of every query and mutation (issue #13, item 7): no input may break the gateway.

The generator reads the code's schema (`resolvers.schema.sdl()`, the SDL `gateway schema` prints and
schema.graphql holds) and, for every field of `Query` and `Mutation`, builds operations whose arguments come
from the argument types: input objects (required fields, some optional ones, now and then a missing or unknown
one), enums, lists (empty, short, a bare item, nulls, longer than `GATEWAY_MAX_INPUT_LIST`), nullability (explicit
nulls, absent keys, null for a non-null) and the scalars String, ID, Int, Float, Boolean, Date and DateTime (any
other custom scalar is fuzzed as a String). Values mix what the domain accepts (the demo's real ids, templates,
emails, locales, time zones, real cursors) with hostile ones: lone surrogates, NUL and control characters, U+202E,
100 000-character strings, ints at and past the 32-bit edges, 2**53, 10**30 and 5 000 digits, NaN and infinities
(as JSON's `NaN`/`Infinity` tokens, which Python's parser takes), dates at the calendar's edges and malformed
ones, forged ids (right prefix and wrong body, other prefixes, Mongo operators as strings), forged cursors (junk
base64, base64 of JSON arrays) and the real ids of tenants the caller may not see (a sub-partner sending its
parent's and its sibling's ids).

Each argument travels as an inline literal, as a variable, or as a literal with variables inside it (the
coercion paths differ), sometimes through a variable's default; strings are written plainly, with escapes or
as block strings. Queries go over POST or GET (`variables` in the query string, percent-encoded, sometimes as
invalid UTF-8); mutations over POST (now and then over GET, which must be 405). Callers: a partner full_admin, a
sub-partner admin, a read-only admin, a platform_admin, a compliance reviewer and the suspended sub-partner's
admin. The selection is small and valid: `__typename`, the scalar fields and one level of objects (mutation
payloads: the entity and `errors { code message field }`), now and then a nested connection with fuzzed args.

The property, for every request:
- never an HTTP 5xx, and always a JSON body;
- every top-level error has an `extensions.code`, and it is never INTERNAL;
- a refused mutation (HTTP refusal, a null root field, or a payload with `errors` and no entity), every precheck
  (which never writes, R-PRE) and every query send no write command to the database (`CommandCounter.writes`, any
  collection). An accepted mutation's writes are undone document by document after the check (against a
  `Gateway.snapshot()` of the data), so every example starts from the same data: examples are independent,
  hypothesis can shrink a failure, and a run is reproducible.

How hypothesis meets the async fixtures: the test itself is async (pytest-asyncio, on the session loop that the
`gateway` and `demo` fixtures, the database clients and the ASGI app live on). It builds the demo data once, then
runs the `@given`-decorated *sync* function of each root field in a worker thread (`asyncio.to_thread`); each
example sends its request with `asyncio.run_coroutine_threadsafe` onto the test's loop and blocks its thread on
the result. The loop is never blocked (it awaits the thread) and every coroutine runs on the loop that owns the
clients. `strategy.example()` is not used: it warns outside `@given`, and warnings are errors here.

Budget: GATEWAY_FUZZ_EXAMPLES examples (default 330: 11 for each of the 30 root fields, at least 4
each; about half a minute here, most of it undoing accepted mutations; 3000 take 3 to 4 minutes). It runs on the
gateway's default driver (tests/conftest.py); tests/integration is where both drivers are compared.
Every root field gets its own hypothesis run, so every one is exercised whatever the total, and each failing field
is reported (an ExceptionGroup) with its shrunk request: operation, variables, caller, transport (hypothesis's
`note()`) and the answer. Runs are derandomized: the same examples every time, so a CI failure reproduces locally
with the same command and the suite never turns red by luck; set GATEWAY_FUZZ_SEED=<int> to explore others.

`test_without_hostility_the_generator_writes_valid_operations` checks the generator itself, without a database:
with every hostile choice off, what it writes for any root field parses, validates and its variables coerce (so a
schema change the generator cannot follow fails plainly, instead of the fuzzer quietly testing only validation).
"""

from __future__ import annotations

import asyncio
import base64
import copy
import gc
import json
import math
import os
import time
import urllib.parse
import warnings
from collections import Counter
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any, TypeVar

import graphql
import httpx
import hypothesis
import pytest
from graphql import (
    GraphQLEnumType,
    GraphQLField,
    GraphQLInputObjectType,
    GraphQLInputType,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLScalarType,
    GraphQLUnionType,
    get_named_type,
    is_leaf_type,
    is_required_argument,
    is_required_input_field,
)
from graphql.execution.values import get_variable_values
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st

from domain.store.driver import Driver
from resolvers.schema import sdl
from tests.api.bad_input import hostile
from tests.conftest import Demo, Gateway

SCHEMA = graphql.build_schema(sdl())
assert SCHEMA.query_type is not None and SCHEMA.mutation_type is not None
ROOT_FIELDS: list[tuple[str, str]] = [
    *(("query", name) for name in SCHEMA.query_type.fields),
    *(("mutation", name) for name in SCHEMA.mutation_type.fields),
]
EXAMPLES = int(os.environ.get("GATEWAY_FUZZ_EXAMPLES", "330"))
PER_FIELD = max(4, EXAMPLES // len(ROOT_FIELDS))
SEED = os.environ.get("GATEWAY_FUZZ_SEED")

Draw = Callable[[st.SearchStrategy[Any]], Any]
T = TypeVar("T")

# ------------------------------------------------------------------------------------------------ hostile values

LONG = "x" * 100_000
LONG_WIDE = "é" * 100_000  # 200 000 bytes of UTF-8, 600 000 as JSON escapes (past the body limit: 413)
HOSTILE_TEXT: list[str] = [
    "\ud800", "\udfff", "a\ud800b", "\udc00\ud800", "", " ", hostile.NUL, "\x00", hostile.CONTROL, "\x7f\x85\x9b",
    hostile.RTL_OVERRIDE, hostile.INVISIBLE, hostile.WHITESPACE, hostile.EMOJI, LONG, LONG_WIDE, "a" * 256,
    hostile.OPERATOR, '{"$ne": null}', hostile.WHERE, hostile.SCRIPT, hostile.DOTTED, hostile.REGEX, hostile.REDOS,
    hostile.HOMOGLYPH_EMAIL, hostile.HOMOGLYPH_COUNTRY, hostile.FULLWIDTH_DIGITS, hostile.ARABIC_DIGITS, "null",
    "NaN", "1e400", "-0", "%s%n%x", "\\", '"', "'", "<script>alert(1)</script>", "../../etc/passwd", "\ufeff",
    "\uffff", "\U0010ffff", "\r\n\r\n", "=cmd|' /C calc'!A0", "100%", "\u0130\u0131\u00df\ufb03",
]
SUFFIXES = ["\ud800", "\x00", "\u202e", " ", "\n", "%", "\U0001f680", "\udfff"]
BIG_DIGITS = "9" * 5_000
BIG_INT = 10**5_000 - 1  # 5 000 nines: past Python's 4 300-digit limit for int <-> str conversions
HUGE = 10**4000
INT_EDGES: list[int] = [2**31 - 1, -(2**31), 2**31, -(2**31) - 1, 2**53, 2**53 + 1, -(2**53), 10**30, -(10**30),
                        2**63, 2**64, -1, 101, 1_000_000, BIG_INT, -BIG_INT]
NOT_INTS: list[Any] = [1.5, -0.0, math.nan, math.inf, -math.inf, 1e308, "5", "0x10", True, "", [1], {"$gt": 0}]
FLOATS: list[Any] = [math.nan, math.inf, -math.inf, 1e308, -1e308, 5e-324, -0.0, 2.0**53, 10**30, BIG_INT, "1.5",
                     "NaN", True]
CONFUSED: list[Any] = [{}, [], {"a": 1}, 0, "x", True, 1.5, [None], {"$gt": ""}]
DATETIMES = ["2026-11-01T00:00:00Z", "2026-11-22T09:00:00+00:00", "2026-11-21T12:30:00.123456+02:00",
             "2025-01-01T00:00:00-05:00"]
HOSTILE_DATETIMES: list[Any] = [
    "0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00", "0001-01-01T00:00:00", "9999-12-31T23:59:59.999999",
    "0001-01-01T00:00:00Z", "9999-12-31T23:59:59+00:00", "2026-13-01T00:00:00Z", "2026-02-30T00:00:00Z",
    "2026-11-22T24:00:00Z", "2026-11-22T09:00:00+25:00", "2026-11-22T09:00:00+14:00:01", "2026-11-22",
    "22/11/2026", "yesterday", "", "2026-11-22T09:00:00\ud800", "+12026-11-22T00:00:00Z", "-2026-11-22T00:00:00Z",
    "2026-W47-7", "\uff12\uff10\uff12\uff16-11-22T09:00:00Z", "2026-11-22 09:00:00", "2026-11-22T09:00:00\x00",
    1_700_000_000, 1.5, True,
]
DATES = ["2026-10-01", "2026-10-31", "2026-11-01", "2026-12-01", "2026-09-30", "2025-06-15", "2021-11-23"]
HOSTILE_DATES: list[Any] = [
    "0001-01-01", "9999-12-31", "2026-02-30", "2026-13-01", "2026-10-01T00:00:00", "20261001", "2026-W40",
    "", "-0001-01-01", "10000-01-01", "2026-1-1", "2026-10-01\x00", "2026-10-01\ud800", 20261001, True,
]

# Valid-looking text by the (lower-cased) name of the argument or input field it goes into: first match wins.
TEXT_POOLS: list[tuple[tuple[str, ...], list[str]]] = [
    (("country",), ["US", "GB", "DE", "CA", "JP", "FR", "AU", "us"]),
    (("language",), ["en", "en_US", "fr_CA", "de", "ja_JP", "es", "pt_BR"]),
    (("timezone",), ["America/Chicago", "Europe/London", "Asia/Tokyo", "UTC"]),
    (("phonenumber",), ["+14155550123", "+442071838750", "+1 415 555 0199", "+4930901820"]),
    (("extension",), ["1234", "5678", "0042", "12"]),
    (("tostatuses",), ["provisioned", "error", "provisioning", "deleting", "IN_PROGRESS"]),
    (("subscriptionid",), ["SUB-0001", "SUB-42"]),
    (("idpentityid",), ["https://idp.example/saml"]),
    (("idpname",), ["Okta", "Azure AD"]),
    (("zip",), ["62701", "SW1A 1AA"]),
    (("state",), ["IL", "ON"]),
    (("emergency",), ["ELIN-1"]),
    (("note",), ["looked fine", "called twice"]),
]
NAMES = ["Springfield Plumbing", "HQ", "Ana", "Silva", "1 Main Street", "Springfield", "Acme",
         "Zoë Ø'Brien-Łukasz", "Müller & Söhne GmbH"]
NEW_EMAILS = ["it@springfield.example", "new.user@acme-dental.example", "ops@northwind.example"]

CALLERS = ("partner", "sub", "reader", "platform", "reviewer", "suspended")


def _cursor(*payload: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(list(payload)).encode()).decode().rstrip("=")


FORGED_CURSORS: list[str] = [
    *hostile.FORGED_CURSORS.values(),
    base64.b64encode(bytes(range(256))).decode(), base64.urlsafe_b64encode(b"\xff" * 40).decode(), "====", "a",
    _cursor(), _cursor(1, 2, 3), _cursor("CREATED_DESC"), _cursor("CREATED_DESC", None, None),
    _cursor("CREATED_DESC", "x" * 10_000, "y"),
    base64.urlsafe_b64encode(f'["CREATED_DESC", {BIG_DIGITS}, "x"]'.encode()).decode(), _cursor(1e308, "x"),
    _cursor(-(2**63), "x"),
    _cursor("CREATED_DESC", {"t": "9999-12-31T23:59:59-14:00"}, "cus_" + "0" * 24),
    _cursor("CREATED_DESC", {"t": "0001-01-01T00:00:00+14:00"}, "cus_" + "0" * 24),
    _cursor("CREATED_DESC", [[[[]]]], "x"), _cursor("\ud800", "x"),
    base64.urlsafe_b64encode(b'["CREATED_DESC", NaN, "x"]').decode(), base64.urlsafe_b64encode(b"[1e400]").decode(),
]


def _forged_ids(real: list[str]) -> list[str]:
    """Ids of nothing: right prefix and wrong body, other prefixes, operators, other kinds' bodies."""
    forged = ["cus_" + "f" * 24, "cus_" + "g" * 24, "cus_" + "0" * 23, "cus_" + "0" * 25, "cus_", "_" + "0" * 24,
              "zzz_" + "0" * 24, "CUS_" + "a" * 24, "sub_" + "0" * 24, "ptn_" + "0" * 24, "tpl_" + "0" * 24,
              "loc_" + "0" * 24, "rpt_" + "0" * 24, "0" * 24, hostile.JUNK_ID, hostile.OPERATOR, '{"$ne": null}',
              "$where", "cus_" + "\ud800" * 24, "cus_" + "0" * 23 + "\x00", "cus_" + "a" * 100_000, "", " ", "null",
              "1", "-1"]
    for real_id in real[:3]:
        prefix, _, body = real_id.partition("_")
        forged += [f" {real_id}", f"{real_id}\n", real_id.upper(), f"{prefix}_{body[::-1]}", f"xyz_{body}", body,
                   f"{real_id}\ud800", f"{prefix}_{body[:-1]}\u202e"]
    return forged


# ----------------------------------------------------------------------------------------------- the demo's values


@dataclass
class Pools:
    """Everything real the generator draws from: ids by kind and owner, cursors, emails, tokens."""

    tokens: dict[str, str]
    scope: dict[str, set[str]]  # caller -> the org ids whose data it may name (own; a parent's sub-partners')
    ids: dict[str, list[tuple[str, str]]]  # kind -> (id, owner org)
    cursors: list[str]
    emails: list[str]
    external_ids: list[str]
    orgs: dict[str, str | None] = field(default_factory=dict)  # caller -> its own org (None: platform roles)
    customers: list[dict[str, Any]] = field(default_factory=list)  # id, owner, status, packages, locations
    forged_ids: list[str] = field(default_factory=list)

    def real_ids(self, kind: str | None, caller: str, *, own: bool) -> list[str]:
        kinds = [kind] if kind in self.ids else list(self.ids)
        # Templates are named by their owner only (a parent acts for a sub-partner with onBehalfOfSubPartnerOrgId).
        scope = ({self.orgs[caller]} if kind in ("template", "provisioning") and self.orgs[caller] else
                 self.scope[caller])
        return [i for k in kinds for i, owner in self.ids[k] if (owner in scope) == own]


async def collect_pools(gateway: Gateway, demo: Demo) -> Pools:
    tokens = {
        "partner": gateway.token(demo.partner, "full_admin"),
        "sub": gateway.token(demo.sub_a, "full_admin"),
        "reader": gateway.token(demo.partner, "read_only_admin"),
        "platform": gateway.token(None, "platform_admin"),
        "reviewer": gateway.token(None, "compliance_reviewer"),
        "suspended": gateway.token(demo.sub_b, "full_admin"),
    }
    everyone = {demo.partner, demo.sub_a, demo.sub_b}
    scope = {"partner": everyone, "reader": everyone, "sub": {demo.sub_a}, "suspended": {demo.sub_b},
             "platform": everyone, "reviewer": everyone}
    # Billing reports (the demo has none): one of the partner's and one of a sub-partner's, in progress.
    create = """mutation($input: CreateBillingReportInput!) { createBillingReport(input: $input) { report { id } } }"""
    for who in ("partner", "sub"):
        await gateway.execute(tokens[who], create, {"input": {"billingStartDate": "2026-10-01",
                                                              "billingEndDate": "2026-10-31", "type": "CUSTOMER"}})
    db = gateway.runtime.db
    assert db is not None
    docs = {name: await db.find(name, {}, sort=[("_id", 1)]) for name in
            ("partners", "templates", "customers", "locations", "subscribers", "billing_reports")}
    ids: dict[str, list[tuple[str, str]]] = {
        "partner": [(d["_id"], d["_id"]) for d in docs["partners"]],
        "template": [(d["_id"], d["ownerOrgId"]) for d in docs["templates"]],
        "provisioning": [(d["provisioningId"], d["ownerOrgId"]) for d in docs["templates"]],
        "customer": [(d["_id"], d["ownerOrgId"]) for d in docs["customers"]],
        "webex_org": [(d["orgId"], d["ownerOrgId"]) for d in docs["customers"] if d.get("orgId")],
        "location": [(d["_id"], d["ownerOrgId"]) for d in docs["locations"]],
        "subscriber": [(d["_id"], d["ownerOrgId"]) for d in docs["subscribers"]],
        "report": [(d["_id"], d["ownerOrgId"]) for d in docs["billing_reports"]],
    }
    assert all(ids.values()), {k: len(v) for k, v in ids.items()}
    # Real cursors of every list, as each caller gets them (a cursor of one caller is another's foreign one).
    cursors: list[Any] = []  # None where a caller may not read a list
    lists = ["customers", "subscribers", "provisioningEvents", "subPartners", "partners", "onboardingTemplates",
             "rplReviewQueue", "billingReports"]
    for token in tokens.values():
        for name in lists:
            body = (await gateway.post(token, f"{{ {name}(first: 1) {{ pageInfo {{ endCursor }} }} }}")).json()
            cursors.append(((body.get("data") or {}).get(name) or {}).get("pageInfo", {}).get("endCursor"))
        body = (await gateway.post(token, "{ eventsHead }")).json()
        cursors.append((body.get("data") or {}).get("eventsHead"))
    nested = """{ customers(first: 2) { edges { node {
        events(first: 1) { pageInfo { endCursor } } subscribers(first: 1) { pageInfo { endCursor } } } } } }"""
    for edge in (await gateway.execute(tokens["partner"], nested))["customers"]["edges"]:
        cursors += [edge["node"][name]["pageInfo"]["endCursor"] for name in ("events", "subscribers")]
    real_cursors = sorted({c for c in cursors if isinstance(c, str)})
    assert len(real_cursors) >= 5, real_cursors
    emails = [d["email"] for d in docs["subscribers"][:10]] + [d["primaryEmail"] for d in docs["customers"][:3]]
    external_ids = [d["externalId"] for d in docs["customers"][:8]]
    pools = Pools(tokens, scope, ids, real_cursors, emails, external_ids,
                  orgs={"partner": demo.partner, "reader": demo.partner, "sub": demo.sub_a, "suspended": demo.sub_b,
                        "platform": None, "reviewer": None})
    locations: dict[str, list[str]] = {}
    for d in docs["locations"]:
        locations.setdefault(d["customerId"], []).append(d["_id"])
    pools.customers = [{"id": d["_id"], "owner": d["ownerOrgId"], "status": d["status"],
                        "packages": [p["name"] for p in d["packages"]], "locations": locations.get(d["_id"], [])}
                       for d in docs["customers"]]
    pools.forged_ids = _forged_ids([i for i, _ in ids["customer"][:1] + ids["subscriber"][:1] + ids["partner"][:1]])
    return pools


# ------------------------------------------------------------------------------------------------- the generator


class EnumName(str):
    """An enum value: written bare in a document, as its name in JSON variables."""


@dataclass
class Gen:
    """What one example's generation needs: a `draw`, the pools, the caller and how hostile to be."""

    draw: Draw
    pools: Pools
    caller: str
    percent_hostile: int  # per decision point: 0 (everything plausible) .. 60

    def hostile(self) -> bool:
        # Shrinks towards 0, i.e. towards the plausible value, so a failure shrinks to its hostile part.
        return bool(self.draw(st.integers(0, 99)) >= 100 - self.percent_hostile)

    def chance(self, one_in: int) -> bool:
        return bool(self.draw(st.integers(0, one_in - 1)) == one_in - 1)

    def pick(self, values: list[T]) -> T:
        return self.draw(st.sampled_from(values))  # type: ignore[no-any-return]


def _key(path: tuple[str, ...]) -> str:
    return path[-1].lower() if path else ""


def id_kind(path: tuple[str, ...]) -> str | None:
    """Which kind of id an argument or input field holds, from its name (and the root field's)."""
    key, root = _key(path), path[0].lower()
    if key == "provisioningid":
        return "provisioning"
    if key == "orgid":
        return "webex_org"
    for word, kind in (("location", "location"), ("customer", "customer"), ("subpartner", "partner"),
                       ("parent", "partner"), ("subscriber", "subscriber")):
        if word in key:
            return kind
    if key == "id":
        for word, kind in (("subscriber", "subscriber"), ("customer", "customer"), ("report", "report"),
                           ("partner", "partner")):
            if word in root:
                return kind
    return None


def gen_id(g: Gen, path: tuple[str, ...]) -> str:
    kind = id_kind(path)
    own = g.pools.real_ids(kind, g.caller, own=True)
    if not g.hostile() and own:
        return g.pick(own)
    foreign = g.pools.real_ids(kind, g.caller, own=False)
    other_kinds = [i for k in g.pools.ids if k != kind for i, _ in g.pools.ids[k][:3]]
    choices = [g.pools.forged_ids, other_kinds, HOSTILE_TEXT, *([foreign] if foreign else [])]
    return g.pick(g.pick(choices))


def gen_text(g: Gen, path: tuple[str, ...]) -> str:
    key = _key(path)
    if key == "after":
        valid = g.pools.cursors
    elif "email" in key:
        valid = NEW_EMAILS + g.pools.emails
    elif "externalid" in key or key == "externalcustomerid":
        valid = ["NEW-1", "NEW-2", *g.pools.external_ids]
    else:
        valid = next((pool for words, pool in TEXT_POOLS if any(w in key for w in words)), NAMES)
    if not g.hostile():
        return g.pick(valid)
    how = g.pick(["hostile", "suffix", "text", "forged"])
    if how == "hostile":
        return g.pick(HOSTILE_TEXT)
    if how == "suffix":
        return g.pick(valid) + g.pick(SUFFIXES)
    if how == "forged":
        return g.pick(FORGED_CURSORS if key == "after" else g.pools.forged_ids)
    return g.draw(st.text(st.characters(exclude_categories=()), max_size=40))  # type: ignore[no-any-return]


def gen_scalar(g: Gen, scalar: GraphQLScalarType, path: tuple[str, ...]) -> Any:
    if g.hostile() and g.chance(6):
        return g.pick(CONFUSED)
    key = _key(path)
    match scalar.name:
        case "ID":
            return gen_id(g, path)
        case "Int":
            if not g.hostile():
                return g.pick([1, 0, 5, 50, 100] if key == "first" else [1, 10, 0, 1000, 42])
            return g.pick([g.pick(INT_EDGES), g.pick(NOT_INTS), g.draw(st.integers())])
        case "Float":
            return g.pick([0.0, 1.5, 100.0]) if not g.hostile() else g.pick(FLOATS)
        case "Boolean":
            return g.pick([True, False]) if not g.hostile() else g.pick(["true", 1, 0, "false", "yes"])
        case "DateTime":
            return g.pick(DATETIMES) if not g.hostile() else g.pick([*HOSTILE_DATETIMES, g.pick(HOSTILE_TEXT)])
        case "Date":
            return g.pick(DATES) if not g.hostile() else g.pick([*HOSTILE_DATES, g.pick(HOSTILE_TEXT)])
        case _:  # String, and any custom scalar
            return gen_text(g, path)


PACKAGE_SETS = [["webex_calling", "webex_meetings"], ["webex_meetings"], ["webex_calling_standard"],
                ["webex_voice", "cisco_calling_plan"], ["cx_essentials", "webex_calling"],
                ["webex_suite", "attendant_console"]]
SUBSCRIBER_PACKAGES = {"webex_calling", "webex_calling_standard", "webex_voice", "webex_meetings", "webex_suite",
                       "cx_essentials"}
CALLING = {"webex_calling", "webex_calling_standard", "webex_voice", "webex_suite", "cx_essentials"}


def _own_customers(g: Gen) -> list[dict[str, Any]]:
    org = g.pools.orgs[g.caller]
    own = [c for c in g.pools.customers if c["owner"] == org and c["status"] == "provisioned"
           and SUBSCRIBER_PACKAGES & set(c["packages"])]
    return own or [c for c in g.pools.customers if SUBSCRIBER_PACKAGES & set(c["packages"])]


def seed(g: Gen, type_name: str) -> dict[str, Any] | None:
    """A request the domain accepts, for the input types whose rules span fields (calling packages need a
    location, a subscriber a package of its customer...): the generator keeps most of it and regenerates the rest,
    so that fuzzed values also reach the writes, not only the validators."""
    n = g.draw(st.integers(1, 9_999))
    address = {"addressLine1": "1 Main Street", "city": "Springfield", "stateOrProvince": "IL",
               "zipOrPostalCode": "62701", "country": "US"}
    parameters = {"callingLocation": {"name": "HQ", "address": address, "timezone": "America/Chicago",
                                      "language": "en_US"}, "meetingsTimezone": "America/Chicago"}
    packages = [EnumName(p) for p in g.pick(PACKAGE_SETS)]
    match type_name:
        case "ProvisionCustomerInput":
            provisioning = g.pools.real_ids("provisioning", g.caller, own=True) or [i for i, _ in
                                                                                   g.pools.ids["provisioning"]]
            return {"provisioningId": g.pick(provisioning), "externalId": f"FUZZ-{n}", "packages": packages,
                    "address": address, "customerInfo": {"name": f"Fuzz Plumbing {n}",
                                                         "primaryEmail": f"it{n}@fuzz.example", "language": "en"},
                    "provisioningParameters": parameters}
        case "UpdateCustomerInput":
            return {"packages": packages, "provisioningParameters": parameters}
        case "ProvisionSubscriberInput":
            customer = g.pick(_own_customers(g))
            package = g.pick(sorted(SUBSCRIBER_PACKAGES & set(customer["packages"])))
            value = {"customerId": customer["id"], "email": f"fuzz.{n}@fuzz.example", "package": EnumName(package),
                     "firstName": "Ana", "lastName": "Silva"}
            if package in CALLING:
                value["extension"] = str(2000 + n % 7000)
                if customer["locations"]:
                    value["locationId"] = g.pick(customer["locations"])
            return value
        case "UpdateSubscriberInput":
            return {"package": EnumName(g.pick(sorted(SUBSCRIBER_PACKAGES)))}
        case "CreateOnboardingTemplateInput":
            return {"name": f"Fuzz template {n}", "country": "US", "language": "en"}
        case "CreatePartnerInput":
            return {"name": f"Fuzz Partner {n}", "subscriptionId": f"SUB-{n}"}
        case "CreateSubPartnerInput":
            return {"name": f"Fuzz Reseller {n}", "adminEmail": f"admin{n}@reseller.example"}
        case "CreateBillingReportInput":
            return {"billingStartDate": "2026-10-01", "billingEndDate": "2026-10-31",
                    "type": EnumName(g.pick(["PARTNER", "CUSTOMER", "USER"]))}
    return None


def gen_value(g: Gen, type_: GraphQLInputType, path: tuple[str, ...]) -> Any:
    """A value for an input position, as JSON would carry it (enum values as `EnumName`)."""
    if isinstance(type_, GraphQLNonNull):
        if g.hostile() and g.chance(4):
            return None
        return _gen_non_null(g, type_.of_type, path)
    if g.chance(20):  # an explicit null where null is allowed
        return None
    return _gen_non_null(g, type_, path)


def _gen_non_null(g: Gen, type_: Any, path: tuple[str, ...]) -> Any:
    if isinstance(type_, GraphQLList):
        if g.hostile():
            how = g.pick(["bare", "nulls", "nested", "over_limit", "huge"])
            if how in ("over_limit", "huge"):  # many copies of a plausible item (a copied 100 kB string is just slow)
                item = gen_value(Gen(g.draw, g.pools, g.caller, 0), type_.of_type, path)
                return [item] * (101 if how == "over_limit" else 1_000)
            item = gen_value(g, type_.of_type, path)
            return {"bare": item, "nulls": [None, item], "nested": [[item]]}[how]
        return [gen_value(g, type_.of_type, path) for _ in range(g.draw(st.integers(0, 3)))]
    if isinstance(type_, GraphQLInputObjectType):
        value: dict[str, Any] = {}
        base = seed(g, type_.name) if g.draw(st.booleans()) else None
        for name, input_field in type_.fields.items():
            required = is_required_input_field(input_field)
            if base is not None and name in base and not g.chance(8):
                value[name] = base[name]  # kept as it is valid (all 7 fields of a customer: 2 seeds in 5)
            elif ((required or (base is not None and name in base)) and not (g.hostile() and g.chance(4))) or (
                    not required and g.draw(st.booleans())):
                value[name] = gen_value(g, input_field.type, (*path, name))
        if g.hostile() and g.chance(4):
            value[g.pick(["bogus", "_id", "$where", "ownerOrgId"])] = g.pick(["x", 1, {"$gt": ""}])
        if g.hostile() and g.chance(8):
            return g.pick(CONFUSED)
        return value
    if isinstance(type_, GraphQLEnumType):
        names = list(type_.values)
        if not g.hostile():
            return EnumName(g.pick(names))
        name = g.pick(names)
        return g.pick([name, EnumName(name.upper()), EnumName(name.lower()), EnumName("bogus"), EnumName("null"),
                       EnumName("true"), EnumName(""), "\ud800", EnumName(name + "_x")])
    assert isinstance(type_, GraphQLScalarType), type_
    return gen_scalar(g, type_, path)


# ------------------------------------------------------------------------------------------------- the document


def _string_literal(g: Gen, text: str) -> str:
    style = g.pick(["plain", "escaped", "block"])
    if style == "block" and '"""' not in text and not text.endswith('"') and "\\" not in text:
        return f'"""{text}"""'
    out = []
    for ch in text:
        code = ord(ch)
        if ch in '"\\':
            out.append("\\" + ch)
        elif code < 0x20 or code == 0x7F or (style == "escaped" and code > 0x7E):
            if code > 0xFFFF:  # a surrogate pair, as JSON and GraphQL both write astral characters
                high, low = 0xD800 + ((code - 0x10000) >> 10), 0xDC00 + ((code - 0x10000) & 0x3FF)
                out.append(f"\\u{high:04X}\\u{low:04X}")
            else:
                out.append(f"\\u{code:04X}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def _bare_float(value: float) -> str:
    if math.isnan(value):
        return "NaN"  # no GraphQL literal is NaN: this is an enum-value token
    if math.isinf(value):
        return "1e400" if value > 0 else "-1e400"  # parses to an infinite float
    text = repr(value)
    return text if any(c in text for c in ".eE") else text + ".0"


@dataclass
class Document:
    """Variable definitions and values gathered while an operation is written."""

    definitions: list[str] = field(default_factory=list)
    variables: dict[str, Any] = field(default_factory=dict)

    def hoist(self, g: Gen, type_: GraphQLInputType, value: Any) -> str:
        name = f"v{len(self.definitions)}"
        declared = str(type_)
        if g.hostile() and g.chance(6):  # declared with another type: refused by validation
            declared = g.pick([str(getattr(type_, "of_type", type_)), "String", "[String]", "Int!", "Bogus"])
        how = g.pick(["send", "send", "send", "default", "absent"])
        if how == "default" and _constant(value):
            self.definitions.append(f"${name}: {declared} = {literal(g, value, None, self, hoist=0)}")
        elif how == "absent" and value is None:
            self.definitions.append(f"${name}: {declared}")  # declared, never sent
        else:
            self.definitions.append(f"${name}: {declared}")
            self.variables[name] = value
        return f"${name}"


def _constant(value: Any) -> bool:
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, list):
        return all(_constant(v) for v in value)
    if isinstance(value, dict):
        return all(_constant(v) for v in value.values())
    return True


def literal(g: Gen, value: Any, type_: GraphQLInputType | None, doc: Document, *, hoist: int) -> str:
    """`value` written into the document; with `hoist` (percent), parts of it become variables of their type."""
    if type_ is not None and hoist and g.draw(st.integers(0, 99)) < hoist:
        return doc.hoist(g, type_, value)
    inner = type_.of_type if isinstance(type_, GraphQLNonNull) else type_
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, EnumName):
        return str(value)
    if isinstance(value, int):
        return str(value) if abs(value) < HUGE else ("-" if value < 0 else "") + "9" * 5_000  # str() would refuse
    if isinstance(value, float):
        return _bare_float(value)
    if isinstance(value, str):
        return _string_literal(g, value)
    if isinstance(value, list):
        item_type = inner.of_type if isinstance(inner, GraphQLList) else None
        return "[" + ", ".join(literal(g, v, item_type, doc, hoist=hoist) for v in value) + "]"
    assert isinstance(value, dict), value
    fields = inner.fields if isinstance(inner, GraphQLInputObjectType) else {}
    parts = []
    for key, item in value.items():
        name = key if key.isidentifier() and key.isascii() else "_bad"
        parts.append(f"{name}: {literal(g, item, fields[key].type if key in fields else None, doc, hoist=hoist)}")
    return "{" + ", ".join(parts) + "}"


def arguments(g: Gen, field_def: GraphQLField, path: tuple[str, ...], doc: Document) -> str:
    parts = []
    for name, argument in field_def.args.items():
        required = is_required_argument(argument)
        if not (required or g.draw(st.booleans())) or (required and g.hostile() and g.chance(6)):
            continue
        value = gen_value(g, argument.type, (*path, name))
        mode = g.pick(["variable", "literal", "mixed"])
        if mode == "variable":
            parts.append(f"{name}: {doc.hoist(g, argument.type, value)}")
        else:
            parts.append(f"{name}: {literal(g, value, argument.type, doc, hoist=30 if mode == 'mixed' else 0)}")
    if g.hostile() and g.chance(8):
        parts.append("bogus: 1")
    return f"({', '.join(parts)})" if parts else ""


def selection(g: Gen, type_: Any, doc: Document, depth: int, max_depth: int = 2,
              leave_out: frozenset[str] = frozenset()) -> str:
    """A small valid selection: `__typename`, the leaf fields, one level of objects (and now and then a connection
    field with fuzzed arguments, e.g. `Customer.subscribers(filter: ...)`)."""
    named = get_named_type(type_)
    if is_leaf_type(named):
        return ""
    parts = ["__typename"]
    if isinstance(named, GraphQLInterfaceType | GraphQLUnionType):
        if isinstance(named, GraphQLInterfaceType):
            parts += [n for n, f in named.fields.items() if is_leaf_type(get_named_type(f.type)) and not f.args]
        # Fragments select only the fields of one type across all of them (`billingStartDate` is `Date!` on a
        # billing report, `Date` on a customer: selecting both is a validation error).
        possible_types = SCHEMA.get_possible_types(named)
        types: dict[str, set[str]] = {}
        for possible in possible_types:
            for name, field_def in possible.fields.items():
                types.setdefault(name, set()).add(str(field_def.type))
        clashes = frozenset(name for name, kinds in types.items() if len(kinds) > 1)
        for possible in possible_types:
            parts.append(f"... on {possible.name} {selection(g, possible, doc, depth + 1, max_depth, clashes)}")
        return "{ " + " ".join(parts) + " }"
    assert isinstance(named, GraphQLObjectType)
    for name, field_def in named.fields.items():
        if name in leave_out or any(is_required_argument(a) for a in field_def.args.values()):
            continue
        leaf = is_leaf_type(get_named_type(field_def.type))
        if leaf:
            parts.append(name)
        elif not field_def.args and depth < max_depth:
            parts.append(f"{name} {selection(g, field_def.type, doc, depth + 1, max_depth)}")
        elif field_def.args and depth == 0 and g.chance(4):
            args = arguments(g, field_def, (name,), doc)
            parts.append(f"{name}{args} {selection(g, field_def.type, doc, depth + 1, max_depth=3)}")
    return "{ " + " ".join(parts) + " }"


@dataclass
class Request:
    kind: str  # query | mutation
    root: str
    caller: str
    document: str
    variables: dict[str, Any]
    operation_name: str | None
    method: str  # GET | POST
    ascii_json: bool  # False: lone surrogates go out as (invalid) UTF-8 bytes
    accept: str | None

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        """How hypothesis prints a failing example: abbreviated (it would print 100 kB strings whole)."""
        printer.text(repr(self))

    def __repr__(self) -> str:
        return (f"{self.method} {self.kind} {self.root} as {self.caller} (accept={self.accept}, "
                f"ascii_json={self.ascii_json}, operationName={self.operation_name!r})\n"
                f"  document: {_short(self.document, 2000)}\n"
                f"  variables: {_short(json.dumps(_printable(self.variables)), 2000)}")


@st.composite
def requests(draw: Draw, kind: str, root: str, pools: Pools, *, plausible: bool = False) -> Request:
    """One request to `root`; `plausible`: no hostile value at all (a valid document whose variables coerce)."""
    caller = draw(st.sampled_from(CALLERS))
    g = Gen(draw, pools, caller, 0 if plausible else draw(st.sampled_from([0, 0, 2, 5, 15, 50])))
    root_type = SCHEMA.query_type if kind == "query" else SCHEMA.mutation_type
    assert root_type is not None
    field_def = root_type.fields[root]
    doc = Document()
    args = arguments(g, field_def, (root,), doc)
    chosen = selection(g, field_def.type, doc, 0)
    name = g.pick([None, "Fuzz"])
    definitions = f"({', '.join(doc.definitions)})" if doc.definitions else ""
    header = f"{kind} {name or ''}{definitions}".strip()
    document = f"{header} {{ {root}{args} {chosen} }}"
    method = "GET" if (kind == "query" and draw(st.booleans())) or (kind == "mutation" and g.chance(20)) else "POST"
    request = Request(kind, root, caller, document, doc.variables, name if g.draw(st.booleans()) else None, method,
                      ascii_json=not g.chance(8),
                      accept=g.pick([None, "application/json", "application/graphql-response+json", "*/*"]))
    if method == "GET" and len(get_url(request)) > MAX_URL:
        request.method = "POST"  # no client or server takes such a URL (httpx stops at 64 KiB, h11 at 16 KiB)
    return request


# ---------------------------------------------------------------------------------------------- sending and judging


def _short(text: str, limit: int = 600) -> str:
    return text if len(text) <= limit else f"{text[:limit]}… ({len(text)} chars)"


def _printable(value: Any) -> Any:
    if isinstance(value, str) and len(value) > 60:
        return f"{value[:20]}…({len(value)} chars)"
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= HUGE:
        return f"<{'-' if value < 0 else ''}{len(BIG_DIGITS)}-digit int>"
    if isinstance(value, list):
        return [_printable(v) for v in value] if len(value) <= 5 else [
            *(_printable(v) for v in value[:2]), f"…({len(value)} items)"]
    if isinstance(value, dict):
        return {k: _printable(v) for k, v in value.items()}
    if isinstance(value, float) and not math.isfinite(value):
        return repr(value)
    return value


_HUGE_MARK = "\x00huge-int\x00"


def _mark_huge(value: Any) -> Any:
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= HUGE:
        return _HUGE_MARK + ("-" if value < 0 else "")
    if isinstance(value, list):
        return [_mark_huge(v) for v in value]
    if isinstance(value, dict):
        return {k: _mark_huge(v) for k, v in value.items()}
    return value


def _json(value: Any, ascii_json: bool) -> bytes:
    """JSON as a hostile client writes it: NaN/Infinity tokens, 5 000-digit numbers (which `json.dumps` refuses)."""
    text = json.dumps(_mark_huge(value), ensure_ascii=ascii_json, allow_nan=True)
    text = text.replace(json.dumps(_HUGE_MARK + "-"), "-" + BIG_DIGITS).replace(json.dumps(_HUGE_MARK), BIG_DIGITS)
    return text.encode("utf-8", "surrogatepass")


MAX_URL = 60_000


def get_url(request: Request) -> str:
    """The GET form: `variables` as JSON in the query string, percent-encoded (a lone surrogate as invalid UTF-8)."""
    params = {"query": request.document}
    if request.variables:
        params["variables"] = _json(request.variables, request.ascii_json).decode("utf-8", "surrogatepass")
    if request.operation_name:
        params["operationName"] = request.operation_name
    query = urllib.parse.urlencode(params, quote_via=urllib.parse.quote, encoding="utf-8", errors="surrogatepass")
    return f"/graphql?{query}"


async def send(gateway: Gateway, pools: Pools, request: Request) -> httpx.Response:
    headers = {"authorization": f"Bearer {pools.tokens[request.caller]}"}
    if request.accept is not None:
        headers["accept"] = request.accept
    if request.method == "GET":
        return await gateway.http.get(get_url(request), headers=headers)
    body: dict[str, Any] = {"query": request.document, "variables": request.variables}
    if request.operation_name:
        body["operationName"] = request.operation_name
    headers["content-type"] = "application/json"
    return await gateway.http.post("/graphql", content=_json(body, request.ascii_json), headers=headers)


def judge(request: Request, response: httpx.Response) -> tuple[list[str], bool, str]:
    """What is wrong with an answer; whether it must have written nothing; a short outcome for the statistics."""
    if response.status_code >= 500:
        return [f"HTTP {response.status_code}"], True, f"http {response.status_code}"
    try:
        body = response.json()
    except ValueError:
        return [f"HTTP {response.status_code} with a body that is not JSON"], True, "not json"
    if not isinstance(body, dict):
        return [f"HTTP {response.status_code} with a body that is not a JSON object"], True, "not json"
    problems = []
    codes = []
    for error in body.get("errors") or []:
        code = (error.get("extensions") or {}).get("code") if isinstance(error, dict) else None
        codes.append(str(code))
        message = error.get("message", "") if isinstance(error, dict) else repr(error)
        if not code:
            problems.append(f"an error without extensions.code: {_short(json.dumps(error))}")
        elif code == "INTERNAL":
            problems.append(f"INTERNAL at {error.get('path')}: {_short(message, 300)}")
    root = (body.get("data") or {}).get(request.root)
    if response.status_code != 200:
        return problems, True, f"http {response.status_code}"
    if codes and root is None:
        return problems, True, f"top {'/'.join(sorted(set(codes)))}"
    if not isinstance(root, dict):  # a scalar (eventsHead), or null: nothing found or visible
        return problems, True, "answered" if not codes else f"answered with {'/'.join(sorted(set(codes)))}"
    if request.root.startswith("precheck"):
        return problems, True, "precheck"
    payload_errors = root.get("errors") or []
    returned = [v for k, v in root.items() if k not in ("errors", "__typename") and v not in (None, [], {})]
    refused = bool(payload_errors) and not returned
    if refused:
        return problems, True, "payload " + "/".join(sorted({str(e.get("code")) for e in payload_errors}))
    return problems, False, "accepted" if not codes else f"accepted with {'/'.join(sorted(set(codes)))}"


Snapshot = dict[str, list[dict[str, Any]]]


async def restore(gateway: Gateway, baseline: Snapshot, after: Snapshot) -> None:
    """Undo an accepted mutation's writes: every document it added, changed or removed goes back as it was."""
    db = gateway.runtime.db
    assert db is not None
    for name, docs in baseline.items():
        if after[name] == docs:
            continue
        old = {d["_id"]: d for d in docs}
        new = {d["_id"]: d for d in after[name]}
        stale = [i for i, d in new.items() if old.get(i) != d]
        missing = [copy.deepcopy(d) for i, d in old.items() if new.get(i) != d]
        if stale:
            await db.collection(name).delete_many({"_id": {"$in": stale}})
        if missing:
            await db.collection(name).insert_many(missing)
    assert await gateway.snapshot() == baseline, "the fuzzer could not undo an accepted mutation"


@dataclass
class Run:
    """One fuzzing session: the data every example starts from, and what the examples got."""

    gateway: Gateway
    pools: Pools
    baseline: Snapshot
    outcomes: dict[str, Counter[str]] = field(default_factory=dict)
    writes: Counter[str] = field(default_factory=Counter)  # accepted mutations that wrote (and were undone)
    seconds: dict[str, float] = field(default_factory=dict)

    async def example(self, request: Request) -> tuple[list[str], str]:
        """The problems of one request, and its answer (for the report)."""
        writes = len(self.gateway.commands.writes)
        try:
            response = await send(self.gateway, self.pools, request)
        except Exception as exc:  # the ASGI transport hands the app's exception over (a server answers 500)
            self.outcomes.setdefault(request.root, Counter())["raised"] += 1
            return [f"the app raised {type(exc).__name__}: {_short(str(exc), 300)} (HTTP 500)"], repr(exc)[:600]
        problems, refused, outcome = judge(request, response)
        self.outcomes.setdefault(request.root, Counter())[outcome] += 1
        answer = f"HTTP {response.status_code} {_short(response.text, 1500)}"
        # A request that sent no write command to the database left it as it was (no job worker runs here): only
        # one that did is compared with the baseline, and undone.
        if written := self.gateway.commands.writes[writes:]:
            if refused:
                problems.append(f"refused ({outcome}) but it wrote: {', '.join(sorted(set(written)))}")
            after = await self.gateway.snapshot()
            if after != self.baseline:
                self.writes[request.root] += 1
                await restore(self.gateway, self.baseline, after)
        return problems, answer


Example = Coroutine[Any, Any, tuple[list[str], str]]


def fuzz_field(run: Run, kind: str, root: str, call: Callable[[Example], tuple[list[str], str]]) -> None:
    """Hypothesis's run over one root field (in a worker thread; `call` runs a coroutine on the test's loop)."""

    @settings(max_examples=PER_FIELD, deadline=None, derandomize=SEED is None, database=None, print_blob=False,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                     HealthCheck.large_base_example, HealthCheck.filter_too_much])
    @given(request=requests(kind, root, run.pools))
    def fuzz(request: Request) -> None:
        note(repr(request))
        problems, answer = call(run.example(request))
        note(f"answer: {answer}")
        assert not problems, f"{kind} {root}: " + "; ".join(problems)

    (hypothesis.seed(int(SEED))(fuzz) if SEED is not None else fuzz)()


# --------------------------------------------------------------------------------------------------------- the test


def _fake_pools() -> Pools:
    """Pools with made-up ids, for checking the generator without a database."""
    owners = ["ptn_" + "a" * 24, "ptn_" + "b" * 24]
    ids = {kind: [(f"{kind[:3]}_{i:024x}", owners[i % 2]) for i in range(4)]
           for kind in ("partner", "template", "provisioning", "customer", "webex_org", "location", "subscriber",
                        "report")}
    customers = [{"id": i, "owner": owner, "status": "provisioned", "packages": ["webex_calling", "webex_meetings"],
                  "locations": ["loc_" + "0" * 24]} for i, owner in ids["customer"]]
    return Pools({c: "token" for c in CALLERS}, {c: {owners[0]} for c in CALLERS}, ids, ["Y3Vyc29y"],
                 ["ana@example.com"], ["EXT-1"], orgs={c: owners[0] for c in CALLERS}, customers=customers,
                 forged_ids=_forged_ids([ids["customer"][0][0]]))


@settings(max_examples=300, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(data=st.data())
def test_without_hostility_the_generator_writes_valid_operations(data: st.DataObject) -> None:
    """The generator's own check (no database): with every hostile choice off, the operation it writes for any root
    field parses, validates against the schema and its variables coerce. So the fuzzer's hostile values are each
    one step from a valid request, and a schema change that the generator does not follow fails here, plainly."""
    kind, root = data.draw(st.sampled_from(ROOT_FIELDS), label="root field")
    request = data.draw(requests(kind, root, _fake_pools(), plausible=True), label="request")
    document = graphql.parse(request.document)
    assert graphql.validate(SCHEMA, document) == []
    operation = document.definitions[0]
    assert isinstance(operation, graphql.OperationDefinitionNode)
    coerced = get_variable_values(SCHEMA, operation.variable_definitions or [], request.variables)
    assert not isinstance(coerced, list), coerced  # a list of errors


@pytest.mark.settings(rate_limit_per_second=0)  # thousands of requests with a handful of tokens
async def test_no_input_breaks_any_query_or_mutation(gateway: Gateway, demo: Demo, driver: Driver) -> None:
    pools = await collect_pools(gateway, demo)
    run = Run(gateway, pools, await gateway.snapshot())
    loop = asyncio.get_running_loop()

    def call(coroutine: Example) -> tuple[list[str], str]:
        return asyncio.run_coroutine_threadsafe(coroutine, loop).result(timeout=300)

    failures: list[Exception] = []
    with warnings.catch_warnings():
        if driver == "pymongo":
            # PyMongo's async client leaks sockets to the database (PYTHON-5867; the `driver` fixture ignores them at
            # teardown). 3000-example runs met 4-12 of them, collected by a garbage collection in the middle of the
            # test, which would fail it. None came while idle, nor in slower traced runs collecting garbage every
            # few examples (no request pointed at), so timing in the driver, not an input. Ignored as that fixture
            # does, on this driver only.
            warnings.filterwarnings("ignore", "unclosed <socket.socket", ResourceWarning)
        for kind, root in ROOT_FIELDS:
            started = time.perf_counter()
            try:
                await asyncio.to_thread(fuzz_field, run, kind, root, call)
            except Exception as exc:  # every root field is fuzzed; each failure is reported with its own example
                failures.append(exc)
            run.seconds[root] = time.perf_counter() - started
        gc.collect()
    summary = {root: dict(counter) for root, counter in run.outcomes.items()}
    print(f"\n{PER_FIELD} examples per root field, {sum(sum(c.values()) for c in run.outcomes.values())} requests:")
    for root, counter in summary.items():
        print(f"  {root} ({run.seconds.get(root, 0):.1f} s): {counter}"
              + (f", wrote {run.writes[root]}" if run.writes[root] else ""))
    if failures:
        raise ExceptionGroup(f"{len(failures)} of {len(ROOT_FIELDS)} root fields failed", failures)
    assert set(run.outcomes) == {root for _, root in ROOT_FIELDS}
    # The generator reaches past validation: some mutations were accepted (and undone).
    assert sum(run.writes.values()) > 0, summary
