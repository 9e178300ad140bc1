"""One row of the bad-input matrix, how it is sent, and how its answer is judged.

A group is one mutation or query with a valid base request; each case changes one field of it (a
few change two) and says what the answer must be. Every answer, whatever the case expects, must also
be free of 5xx and non-contract codes, and its request must send no write to the database (any collection:
`CommandCounter.writes`, tests/conftest.py).
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import Any, Literal

import httpx

from tests.conftest import Gateway

# Top-level `extensions.code`s that the contract and resolvers/errors.py name for a refused request.
TOP_LEVEL_CODES = frozenset({"GRAPHQL_VALIDATION_FAILED", "BAD_USER_INPUT", "UNAUTHENTICATED", "FORBIDDEN",
                             "QUERY_TOO_COMPLEX", "RATE_LIMITED", "CURSOR_EXPIRED", "VALIDATION_FAILED"})

Expect = Literal["payload", "top", "refused", "answer", "accepted", "empty"]
FieldPath = tuple[str, ...]


def contract_error_codes(shared_dir: Path) -> frozenset[str]:
    """The `ErrorCode` enum of the contract and its v2 extensions: the only codes a payload error may carry."""
    text = (shared_dir / "spec" / "contract.graphql").read_text()
    match = re.search(r"enum\s+ErrorCode\s*\{([^}]*)\}", text)
    assert match is not None, "the contract has no ErrorCode enum"
    codes = set(re.sub(r"#[^\n]*", "", match.group(1)).split())
    v2 = shared_dir / "spec" / "contract-v2.graphql"
    if v2.exists():  # the 2026-12 additions (`extend enum ErrorCode { ... }`)
        for extension in re.findall(r"extend\s+enum\s+ErrorCode\s*\{([^}]*)\}", v2.read_text()):
            codes |= set(re.sub(r"#[^\n]*", "", extension).split())
    return frozenset(codes)


@dataclass(frozen=True)
class Ref:
    """A value known only once the demo is loaded (an id, an email, a cursor), by its name in `Ctx.values`."""

    name: str


class Drop(Enum):
    """Removes a key from the request (a required field left out)."""

    KEY = "drop"


@dataclass(frozen=True)
class Case:
    label: str
    edits: tuple[tuple[FieldPath, Any], ...]
    expect: Expect
    code: str | None = None  # a payload or top-level code the answer must include
    field: FieldPath | None = None  # a payload error must name exactly this input path
    who: str | None = None  # whose token sends it (default: the group's)
    document: str | None = None  # another operation than the group's
    hides: tuple[str, ...] = ()  # names of `Ctx.values` that must not appear anywhere in the answer


@dataclass(frozen=True)
class Group:
    name: str
    document: str
    base: dict[str, Any]  # a valid request; `Ref`s in it are resolved per run
    cases: tuple[Case, ...]
    who: str = "partner"
    control: bool = True  # the unchanged base request is accepted (so each case is one change from valid)
    prepare: Callable[[Gateway, Ctx], Awaitable[None]] | None = None


@dataclass
class Ctx:
    """The tokens and demo values a group's requests are built from."""

    tokens: dict[str, str]
    values: dict[str, str] = field(default_factory=dict)

    def resolve(self, value: Any) -> Any:
        if isinstance(value, Ref):
            return self.values[value.name]
        if isinstance(value, dict):
            return {k: self.resolve(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self.resolve(v) for v in value]
        return value


def _path(at: str | FieldPath) -> FieldPath:
    return tuple(at.split(".")) if isinstance(at, str) else at


def _short(value: Any) -> str:
    if isinstance(value, str) and len(value) > 40:
        return f"{value[:12]!r}… ({len(value)} chars)"
    if isinstance(value, list) and len(value) > 5:
        return f"[{_short(value[0])}, …] ({len(value)} items)"
    if isinstance(value, Ref):
        return f"<{value.name}>"
    if value is Drop.KEY:
        return "<left out>"
    return ascii(value) if isinstance(value, str) else repr(value)


_SAME: Any = object()


def case(expect: Expect, at: str | FieldPath, value: Any, *, code: str | None = None, field: Any = _SAME,
         who: str | None = None, note: str = "", more: Mapping[str, Any] | None = None,
         document: str | None = None, hides: tuple[str, ...] = ()) -> Case:
    """One row: `at` (a dotted path into the variables) set to `value`, plus any `more` edits."""
    edits = ((_path(at), value), *((_path(k), v) for k, v in (more or {}).items()))
    label = ", ".join(f"{'.'.join(p)} = {_short(v)}" for p, v in edits)
    label = f"{label} [{note}]" if note else label
    if who:
        label = f"{label} (as {who})"
    if field is _SAME:
        field = _path(at) if expect == "payload" else None
    return Case(label, edits, expect, code, _path(field) if field is not None else None, who, document, hides)


def bad(at: str | FieldPath, value: Any, code: str | None = None, **kw: Any) -> Case:
    """Refused inside the payload; by default an error names `at`."""
    return case("payload", at, value, code=code, **kw)


def top(at: str | FieldPath, value: Any, code: str | None = None, **kw: Any) -> Case:
    """Refused with a top-level error (GraphQL validation, coercion, authorisation, limits)."""
    return case("top", at, value, code=code, **kw)


def with_edits(base: dict[str, Any], edits: tuple[tuple[FieldPath, Any], ...]) -> dict[str, Any]:
    variables = copy.deepcopy(base)
    for path, value in edits:
        target = variables
        for key in path[:-1]:
            if not isinstance(target.get(key), dict):
                target[key] = {}
            target = target[key]
        if value is Drop.KEY:
            target.pop(path[-1], None)
        else:
            target[path[-1]] = value
    return variables


def _rows(value: Any) -> bool:
    """Whether an answer returned any object (a lookup's node, or an edge of a list)."""
    if isinstance(value, dict):
        if value.get("edges") or "id" in value:
            return True
        return any(_rows(v) for v in value.values())
    if isinstance(value, list):
        return any(_rows(v) for v in value)
    return False


def judge(response: httpx.Response, case: Case, codes: frozenset[str], ctx: Ctx) -> list[str]:
    """Everything wrong with one answer: the rules every answer keeps, then what this case expects."""
    if response.status_code >= 500:
        return [f"HTTP {response.status_code}"]
    try:
        body = response.json()
    except ValueError:
        return [f"HTTP {response.status_code} with a body that is not JSON"]
    problems: list[str] = []
    top_codes = [(e.get("extensions") or {}).get("code") for e in body.get("errors") or []]
    problems += [f"top-level code {c!r} is not one the contract names" for c in top_codes if c not in TOP_LEVEL_CODES]
    data = body.get("data") or {}
    payloads = [v for v in data.values() if isinstance(v, dict) and "errors" in v]
    errors = [e for p in payloads for e in p["errors"]]
    problems += [f"payload code {e['code']!r} is not in the contract's ErrorCode" for e in errors
                 if e["code"] not in codes]
    problems += [f"payload error {e['code']} has an empty field path {e['field']!r}" for e in errors
                 if e["field"] is not None and not (e["field"] and all(e["field"]))]
    problems += [f"the answer shows {name}" for name in case.hides if ctx.values[name] in response.text]
    refused_in_payload = bool(errors) and not top_codes and all(
        not v for p in payloads for k, v in p.items() if k != "errors")
    match case.expect:
        case "payload":
            if not refused_in_payload:
                problems.append("expected a refusal in the payload, with nothing returned")
        case "top":
            if not top_codes:
                problems.append("expected a top-level error")
        case "refused":
            if not (refused_in_payload or top_codes):
                problems.append("expected a refusal")
        case "accepted":
            if top_codes or errors:
                problems.append("expected the request to be accepted")
        case "empty":
            if top_codes or _rows(data):
                problems.append("expected an answer with nothing in it")
        case "answer":
            pass
    if case.code is not None and case.code not in [*top_codes, *(e["code"] for e in errors)]:
        problems.append(f"expected the code {case.code}")
    if case.field is not None and errors and list(case.field) not in [e["field"] for e in errors]:
        problems.append(f"expected an error naming {list(case.field)}")
    return problems


def _printable(value: Any) -> Any:
    if isinstance(value, str) and len(value) > 60:
        return f"{value[:20]}…({len(value)} chars)"
    if isinstance(value, list) and len(value) > 5:
        return [*(_printable(v) for v in value[:2]), f"…({len(value)} items)"]
    if isinstance(value, dict):
        return {k: _printable(v) for k, v in value.items()}
    return value


def describe(case: Case, variables: dict[str, Any], response: httpx.Response, problems: list[str]) -> str:
    return (f"- {case.label}: {'; '.join(problems)}\n    variables: {json.dumps(_printable(variables))}\n"
            f"    answer: HTTP {response.status_code} {response.text[:600]}")


async def run_group(gateway: Gateway, ctx: Ctx, group: Group, codes: frozenset[str]) -> list[str]:
    """Send every case of `group`; the failures, each with its request and answer (empty: all kept the rules)."""
    if group.prepare is not None:
        await group.prepare(gateway, ctx)
    failures: list[str] = []
    for row in group.cases:
        variables = ctx.resolve(with_edits(group.base, row.edits))
        writes = len(gateway.commands.writes)
        response = await gateway.post(ctx.tokens[row.who or group.who], row.document or group.document, variables)
        problems = judge(response, row, codes, ctx)
        if written := gateway.commands.writes[writes:]:
            problems.append(f"it wrote: {', '.join(written)}")
        if problems:
            failures.append(describe(row, variables, response, problems))
    if group.control:
        control = Case("control: the unchanged base request", (), "accepted")
        variables = ctx.resolve(group.base)
        response = await gateway.post(ctx.tokens[group.who], group.document, variables)
        if problems := judge(response, control, codes, ctx):
            failures.append(describe(control, variables, response, problems))
    return failures
