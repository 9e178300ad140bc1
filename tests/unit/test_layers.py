"""The import rules of ARCHITECTURE.md, made executable.

Outside: gateway → resolvers → domain. Inside `domain/`: `model` (plain values) ← `rules` (pure functions) ←
`services` and `workflows` (use cases) → `store` (everything that does I/O). Only `store` talks to MongoDB,
and only its driver module opens clients, sessions and cursors.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DRIVER_MODULE = ROOT / "domain" / "store" / "driver.py"
STORE = ROOT / "domain" / "store"
PURE = ("domain/model", "domain/rules")
USE_CASES = ("domain/services", "domain/workflows")


def _trees(package: str) -> list[tuple[Path, ast.AST]]:
    return [(path, ast.parse(path.read_text(), str(path))) for path in sorted((ROOT / package).rglob("*.py"))]


def _imports(package: str) -> list[tuple[Path, str]]:
    found: list[tuple[Path, str]] = []
    for path, tree in _trees(package):
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                found += [(path, alias.name) for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                found.append((path, node.module))
    return found


def _offenders(package: str, forbidden: tuple[str, ...]) -> list[str]:
    """Imports of `package` naming a forbidden top-level package or a forbidden module prefix (`domain.store`)."""
    def banned(module: str) -> bool:
        return any(module == f or module.startswith(f + ".") for f in forbidden)
    return [f"{p.relative_to(ROOT)}: {m}" for p, m in _imports(package) if banned(m)]


def test_domain_imports_neither_the_api_nor_the_web_layer() -> None:
    assert _offenders("domain", ("strawberry", "starlette", "uvicorn", "gateway", "resolvers")) == []


def test_resolvers_never_import_the_gateway_or_a_database_driver() -> None:
    assert _offenders("resolvers", ("gateway", "starlette", "motor", "pymongo", "bson")) == []


def test_model_and_rules_are_pure_they_import_no_storage_no_driver_and_no_asyncio() -> None:
    forbidden = ("domain.store", "domain.services", "domain.workflows", "pymongo", "motor", "bson", "asyncio")
    assert [o for package in PURE for o in _offenders(package, forbidden)] == []


def test_the_model_does_not_depend_on_the_rules() -> None:
    assert _offenders("domain/model", ("domain.rules",)) == []


def test_services_and_workflows_reach_the_database_only_through_repositories() -> None:
    # No driver import (its exceptions and the Document alias excepted), no `.db`, no collection, no pipeline.
    allowed_from_driver = {"Document", "DuplicateKey", "is_transient"}
    found: list[str] = []
    for package in USE_CASES:
        for path, tree in _trees(package):
            where = path.relative_to(ROOT)
            for node in ast.walk(tree):
                if isinstance(node, ast.ImportFrom) and node.module:
                    root = node.module.split(".")[0]
                    if root in ("pymongo", "motor", "bson"):
                        found.append(f"{where}: imports {node.module}")
                    if node.module == "domain.store.driver":
                        found += [f"{where}: imports {a.name} from the driver" for a in node.names
                                  if a.name not in allowed_from_driver]
                elif isinstance(node, ast.Attribute) and node.attr in (
                        "db", "collection", "aggregate", "aggregate_batches", "run_transaction"):
                    found.append(f"{where}:{node.lineno}: .{node.attr}")
    assert found == []


def _collection_names() -> set[str]:
    """Every collection the store names: a repository's `collection` and the store's upper-case name constants."""
    names: set[str] = set()
    for _, tree in _trees("domain/store"):
        for node in ast.walk(tree):
            if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant) and isinstance(
                    node.value.value, str):
                for target in node.targets:
                    if isinstance(target, ast.Name) and (target.id == "collection" or target.id.isupper()):
                        names.add(node.value.value)
    return {n for n in names if n.replace("_", "").isalpha() and n.islower()}


def test_no_module_outside_the_store_names_a_collection() -> None:
    collections = _collection_names()
    assert {"customers", "subscribers", "events", "jobs", "usage", "billing_rows"} <= collections
    found = sorted(
        f"{path.relative_to(ROOT)}:{node.lineno}: {node.value!r}"
        for package in ("domain", "resolvers", "gateway") for path, tree in _trees(package)
        if not path.is_relative_to(STORE) for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value in collections)
    assert found == []


def test_only_the_driver_module_imports_motor() -> None:
    users = [f"{p.relative_to(ROOT)}" for pkg in ("domain", "resolvers", "gateway")
             for p, m in _imports(pkg) if m.split(".")[0] == "motor"]
    assert users == [str(DRIVER_MODULE.relative_to(ROOT))]


def test_only_the_driver_module_opens_clients_sessions_or_cursors() -> None:
    markers = ("MongoClient(", "start_session(", ".watch(", ".to_list(", "start_transaction(")
    users = sorted(
        f"{p.relative_to(ROOT)}: {m}" for pkg in ("domain", "resolvers", "gateway") for p in (ROOT / pkg).rglob("*.py")
        if p != DRIVER_MODULE for m in markers if m in p.read_text()
    )
    assert users == []
