from __future__ import annotations

from pathlib import Path

import pytest

from gateway.settings import SettingsError, load_settings


def test_defaults_use_the_embedded_database(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("GATEWAY_MONGODB_URI", "GATEWAY_PORT", "GATEWAY_ENV", "GATEWAY_DATA_DIR"):
        monkeypatch.delenv(name, raising=False)
    settings = load_settings()
    assert settings.embedded and settings.port == 8000 and settings.data_dir == Path(".data")


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"GATEWAY_PORT": "eighty"}, "GATEWAY_PORT"),
        ({"GATEWAY_PORT": "70000"}, "GATEWAY_PORT"),
        ({"GATEWAY_ENV": "staging"}, "GATEWAY_ENV"),
        ({"GATEWAY_DATABASE": "no spaces/allowed"}, "GATEWAY_DATABASE"),
        ({"GATEWAY_MONGODB_URI": "postgres://x"}, "GATEWAY_MONGODB_URI"),
        ({"GATEWAY_ENV": "prod", "GATEWAY_MONGODB_URI": "mongodb://db/?replicaSet=rs0"}, "GATEWAY_JWT_SECRET"),
        ({"GATEWAY_ENV": "prod", "GATEWAY_JWT_SECRET": "x" * 40}, "GATEWAY_MONGODB_URI"),
        ({"GATEWAY_ENV": "prod", "GATEWAY_JWT_SECRET": "short", "GATEWAY_MONGODB_URI": "mongodb://db"},
         "GATEWAY_JWT_SECRET"),
    ],
)
def test_bad_values_fail_naming_the_variable(monkeypatch: pytest.MonkeyPatch, env: dict[str, str], named: str) -> None:
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    with pytest.raises(SettingsError) as refused:
        load_settings()
    assert named in str(refused.value)


def test_prod_with_explicit_values_starts(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GATEWAY_ENV", "prod")
    monkeypatch.setenv("GATEWAY_JWT_SECRET", "s" * 40)
    monkeypatch.setenv("GATEWAY_MONGODB_URI", "mongodb://db1,db2/?replicaSet=rs0")
    assert load_settings().env == "prod"


def test_dev_secret_is_kept_in_the_data_dir(tmp_path: Path) -> None:
    first = load_settings(data_dir=tmp_path).signing_secret()
    assert len(first) >= 32
    assert load_settings(data_dir=tmp_path).signing_secret() == first


PROD = {"GATEWAY_ENV": "prod", "GATEWAY_JWT_SECRET": "s" * 40, "GATEWAY_MONGODB_URI": "mongodb://db/?replicaSet=rs0"}


@pytest.mark.parametrize(("env", "exposed"), [({}, True), ({"GATEWAY_ENV": "dev"}, True), (PROD, False)],
                         ids=["default", "dev", "prod"])
def test_graphiql_and_introspection_are_on_in_dev_and_off_in_prod(
        monkeypatch: pytest.MonkeyPatch, env: dict[str, str], exposed: bool) -> None:
    for name in ("GATEWAY_ENV", "GATEWAY_GRAPHIQL", "GATEWAY_INTROSPECTION"):
        monkeypatch.delenv(name, raising=False)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    settings = load_settings()
    assert (settings.graphiql, settings.introspection) == (exposed, exposed)


@pytest.mark.parametrize("base", [{"GATEWAY_ENV": "dev"}, PROD], ids=["dev", "prod"])
@pytest.mark.parametrize("value", [True, False])
def test_an_explicit_graphiql_or_introspection_setting_wins_over_the_environment_default(
        monkeypatch: pytest.MonkeyPatch, base: dict[str, str], value: bool) -> None:
    for key, text in {**base, "GATEWAY_GRAPHIQL": str(value).lower(), "GATEWAY_INTROSPECTION": str(int(value))}.items():
        monkeypatch.setenv(key, text)
    settings = load_settings()
    assert (settings.graphiql, settings.introspection) == (value, value)


@pytest.mark.parametrize("name", ["GATEWAY_GRAPHIQL", "GATEWAY_INTROSPECTION"])
def test_a_graphiql_or_introspection_value_that_is_not_a_boolean_is_refused(
        monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    monkeypatch.setenv(name, "sometimes")
    with pytest.raises(SettingsError) as refused:
        load_settings()
    assert name in str(refused.value)
