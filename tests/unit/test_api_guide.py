"""docs/api-guide.md's error catalogue names every error code and websocket close code the gateway can send.

The codes are found in the source, not listed here, so that a new one cannot go undocumented: every `ErrorCode`
member (payload errors), and every code the gateway's own code emits as a top-level error or closes a socket with,
read from its syntax tree:
- a string (or a module constant holding one) given as `"code": ...` in a dict, as `code=...` in a call, as the
  `code` argument of a function or class of the same module called positionally, as a `code` parameter's default,
  as a class's `code` attribute, or returned first by `code_of` (resolvers/errors.py);
- an integer given as `code=` or as a `code` parameter's default is a websocket close code.
The close codes sent by the libraries underneath (Strawberry's protocol handlers, uvicorn) are listed below.
"""

from __future__ import annotations

import ast
import functools
import re
from collections.abc import Iterator
from pathlib import Path

from domain.model.errors import ErrorCode

ROOT = Path(__file__).resolve().parents[2]
GUIDE = ROOT / "docs" / "api-guide.md"
# Where top-level error codes and close codes are made: the transports, the resolvers' error mapping, the event hub.
SOURCES = [*sorted((ROOT / "gateway").rglob("*.py")), *sorted((ROOT / "resolvers").rglob("*.py")),
           ROOT / "domain" / "store" / "event_hub.py"]
# Sent by the libraries under the gateway: Strawberry's graphql-transport-ws handler (4401 subscribe before the
# acknowledgement, 4406 no known subprotocol, 4429 a second connection_init) and uvicorn (1007 text that is not UTF-8,
# 1009 a message too big).
LIBRARY_CLOSE_CODES = {1007, 1009, 4401, 4406, 4429}
CODE = re.compile(r"[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+|[A-Z]{4,}")


def catalogue() -> str:
    """The guide's "Error catalogue" section, up to the next second-level heading."""
    text = GUIDE.read_text()
    start = text.index("\n## Error catalogue")
    end = text.find("\n## ", start + 1)
    return text[start:end if end > 0 else len(text)]


def documented(section: str) -> set[str]:
    return set(re.findall(r"`([A-Z][A-Z0-9_]+|\d{4})`", section))


def _constants(trees: dict[Path, ast.Module]) -> dict[str, object]:
    """Module-level `NAME = <str or int>` of every scanned module (names are unique enough to resolve imports)."""
    found: dict[str, object] = {}
    for tree in trees.values():
        for node in tree.body:
            if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant):
                for target in node.targets:
                    if isinstance(target, ast.Name):
                        found[target.id] = node.value.value
    return found


def _code_positions(tree: ast.Module) -> dict[str, int]:
    """Functions and classes of a module taking a `code` argument: where it stands among the positional ones."""
    positions: dict[str, int] = {}
    for node in ast.walk(tree):
        function: ast.FunctionDef | ast.AsyncFunctionDef | None = None
        if isinstance(node, ast.ClassDef):
            function = next((n for n in node.body if isinstance(n, ast.FunctionDef) and n.name == "__init__"), None)
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            function = node
        if function is not None and isinstance(node, ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            names = [a.arg for a in function.args.posonlyargs + function.args.args if a.arg not in ("self", "cls")]
            if "code" in names:
                positions[node.name] = names.index("code")
    return positions


def _code_values(tree: ast.Module) -> Iterator[ast.expr]:
    """Every expression the module gives as an error's or a close frame's code."""
    positions = _code_positions(tree)
    for node in ast.walk(tree):
        if isinstance(node, ast.Dict):
            yield from (v for k, v in zip(node.keys, node.values, strict=True)
                        if isinstance(k, ast.Constant) and k.value == "code")
        elif isinstance(node, ast.Call):
            yield from (k.value for k in node.keywords if k.arg == "code")
            name = node.func.id if isinstance(node.func, ast.Name) else None
            if name in positions and len(node.args) > positions[name]:
                yield node.args[positions[name]]
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            arguments = node.args.posonlyargs + node.args.args
            defaults = dict(zip([a.arg for a in arguments][len(arguments) - len(node.args.defaults):],
                                node.args.defaults, strict=True))
            defaults |= {a.arg: d for a, d in zip(node.args.kwonlyargs, node.args.kw_defaults, strict=True) if d}
            if "code" in defaults:
                yield defaults["code"]
            if node.name == "code_of":
                yield from (r.value.elts[0] for r in ast.walk(node)
                            if isinstance(r, ast.Return) and isinstance(r.value, ast.Tuple))
        elif isinstance(node, ast.ClassDef):
            for item in node.body:
                if isinstance(item, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "code"
                                                        for t in item.targets):
                    yield item.value


@functools.cache
def emitted() -> tuple[frozenset[str], frozenset[int]]:
    """The top-level error codes and the websocket close codes the gateway's code sends."""
    trees = {path: ast.parse(path.read_text(), str(path)) for path in SOURCES}
    constants = _constants(trees)
    codes: set[str] = set()
    closes: set[int] = set()
    for tree in trees.values():
        for expression in _code_values(tree):
            value = expression.value if isinstance(expression, ast.Constant) else (
                constants.get(expression.id) if isinstance(expression, ast.Name) else None)
            if isinstance(value, str) and CODE.fullmatch(value):
                codes.add(value)
            elif isinstance(value, int) and not isinstance(value, bool) and 1000 <= value <= 4999:
                closes.add(value)
    return frozenset(codes), frozenset(closes)


def test_the_scan_finds_the_codes_it_is_meant_to_find() -> None:
    """A guard on the scan itself: codes made in each of the ways it reads."""
    codes, closes = emitted()
    assert {"UNAUTHENTICATED", "RATE_LIMITED", "QUERY_TOO_COMPLEX", "BAD_REQUEST", "TOO_MANY_SUBSCRIPTIONS",
            "SLOW_CONSUMER", "EVENTS_UNAVAILABLE", "INTERNAL", "GRAPHQL_VALIDATION_FAILED", "SERVICE_UNAVAILABLE",
            "CURSOR_EXPIRED", "UNSUPPORTED_MEDIA_TYPE"} <= codes, codes
    assert {1001, 4400, 4403, 4408, 4409} <= closes, closes


def test_every_error_code_is_in_the_guides_catalogue() -> None:
    section = catalogue()
    names = documented(section)
    codes, _ = emitted()
    missing_payload = sorted(c.value for c in ErrorCode if c.value not in names)
    assert not missing_payload, f"ErrorCode members missing from {GUIDE.name}'s error catalogue: {missing_payload}"
    missing = sorted(codes - names)
    assert not missing, f"top-level error codes the gateway sends, missing from {GUIDE.name}'s catalogue: {missing}"


def test_every_websocket_close_code_is_in_the_guides_catalogue() -> None:
    _, closes = emitted()
    names = documented(catalogue())
    missing = sorted(c for c in closes | LIBRARY_CLOSE_CODES if str(c) not in names)
    assert not missing, f"websocket close codes missing from {GUIDE.name}'s catalogue: {missing}"


def test_the_payload_table_lists_only_codes_the_schema_has() -> None:
    """A member removed from ErrorCode does not stay documented as a payload error."""
    section = catalogue()
    table = section[section.index("### Payload errors"):section.index("### Top-level errors")]
    rows = re.findall(r"^\| `([A-Z_]+)` \|", table, re.MULTILINE)
    assert rows and set(rows) <= {c.value for c in ErrorCode}, sorted(set(rows) - {c.value for c in ErrorCode})
    assert len(rows) == len(set(rows)), "a code is listed twice"
