"""The import rules of ARCHITECTURE.md, made executable: gateway → resolvers → domain, one driver module."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DRIVER_MODULE = ROOT / "domain" / "driver.py"


def _imports(package: str) -> list[tuple[Path, str]]:
    found: list[tuple[Path, str]] = []
    for path in sorted((ROOT / package).rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                found += [(path, alias.name) for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                found.append((path, node.module))
    return found


def _offenders(package: str, forbidden: tuple[str, ...]) -> list[str]:
    return [f"{p.relative_to(ROOT)}: {m}" for p, m in _imports(package) if m.split(".")[0] in forbidden]


def test_domain_imports_neither_the_api_nor_the_web_layer() -> None:
    assert _offenders("domain", ("strawberry", "starlette", "uvicorn", "gateway", "resolvers")) == []


def test_resolvers_never_import_the_gateway_or_a_database_driver() -> None:
    assert _offenders("resolvers", ("gateway", "starlette", "motor", "pymongo", "bson")) == []


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
