"""PyMongo's async client is the default driver; Motor (end of life since May 2026) is an optional extra."""

from __future__ import annotations

import importlib.util
import sys
import tomllib
from pathlib import Path

import pytest
from pymongo import AsyncMongoClient

from domain.store.driver import Database
from gateway.settings import SettingsError, load_settings

ROOT = Path(__file__).resolve().parents[2]


def without_motor(monkeypatch: pytest.MonkeyPatch) -> None:
    """As if Motor were not installed (the production image without the extra)."""
    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name.split(".")[0] == "motor" else real_find_spec(name, *a))
    for name in ("motor", "motor.motor_asyncio"):
        monkeypatch.setitem(sys.modules, name, None)  # `import motor...` raises ImportError


def test_the_gateway_uses_pymongo_unless_told_otherwise(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GATEWAY_DRIVER", raising=False)
    assert load_settings().driver == "pymongo"


def test_a_database_opens_with_pymongo_by_default() -> None:
    db = Database("mongodb://127.0.0.1:1/?directConnection=true", "nothing")  # no I/O until the first command
    assert db.driver == "pymongo" and db.client_class is AsyncMongoClient


def test_motor_is_an_optional_extra_of_the_package() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert not any(r.startswith("motor") for r in project["dependencies"])
    assert any(r.startswith("motor") for r in project["optional-dependencies"]["motor"])


def test_choosing_motor_without_it_installed_fails_at_start_up_saying_how_to_install_it(
        monkeypatch: pytest.MonkeyPatch) -> None:
    without_motor(monkeypatch)
    monkeypatch.setenv("GATEWAY_DRIVER", "motor")
    with pytest.raises(SettingsError) as refused:
        load_settings()
    assert "GATEWAY_DRIVER" in str(refused.value) and "wholesale-gateway[motor]" in str(refused.value)
    with pytest.raises(ImportError, match=r"wholesale-gateway\[motor\]"):
        Database("mongodb://127.0.0.1:1/?directConnection=true", "nothing", driver="motor")


def test_without_motor_the_default_driver_still_works(monkeypatch: pytest.MonkeyPatch) -> None:
    without_motor(monkeypatch)
    monkeypatch.delenv("GATEWAY_DRIVER", raising=False)
    assert load_settings().driver == "pymongo"
    assert Database("mongodb://127.0.0.1:1/?directConnection=true", "nothing").client_class is AsyncMongoClient
