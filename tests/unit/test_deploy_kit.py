"""The deployment kit (docs/deploy/) cannot be run here (no containers): its files are parsed and checked against
the project instead. Every setting they give a gateway process is a real one with a valid value (the settings
themselves judge the configuration each container would see), every command they run is the project's, the
replica set, the API/worker split and the proxy are wired the way docs/operations.md says.
"""

from __future__ import annotations

import ast
import fnmatch
import re
import shlex
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import yaml  # type: ignore[import-untyped]
from starlette.routing import Mount

from domain.rules.bulk import MAX_CSV_BYTES
from gateway.settings import ENV_PREFIX, Settings, load_settings

ROOT = Path(__file__).resolve().parents[2]
KIT = ROOT / "docs" / "deploy"
OPERATOR_PATHS = {"/healthz", "/readyz", "/metrics"}
SETTING_NAME = re.compile(r"\bGATEWAY_[A-Z0-9_]*[A-Z0-9]\b")


def setting_names() -> set[str]:
    names = set()
    for name, info in Settings.model_fields.items():
        alias = info.validation_alias
        names.add(alias.upper() if isinstance(alias, str) else ENV_PREFIX + name.upper())
    return names


# ---- the files, parsed -------------------------------------------------------------------------------------------

@dataclass
class Instruction:
    keyword: str
    args: str


def dockerfile() -> list[Instruction]:
    text = re.sub(r"\\\n", " ", (KIT / "Dockerfile").read_text())
    lines = [line.strip() for line in text.splitlines()]
    return [Instruction(line.split(None, 1)[0].upper(), line.split(None, 1)[1])
            for line in lines if line and not line.startswith("#")]


def image_env() -> dict[str, str]:
    """The ENV of the final stage (the last FROM onwards)."""
    steps = dockerfile()
    last_from = max(i for i, step in enumerate(steps) if step.keyword == "FROM")
    env: dict[str, str] = {}
    for step in steps[last_from:]:
        if step.keyword == "ENV":
            env.update(tuple(item.split("=", 1)) for item in shlex.split(step.args))  # type: ignore[misc]
    return env


def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((KIT / "compose.yaml").read_text())
    return loaded


def env_file(path: Path) -> dict[str, str]:
    pairs = (line.split("=", 1) for line in path.read_text().splitlines() if line and not line.startswith("#"))
    return {key.strip(): value.strip() for key, value in pairs}


def gateway_services() -> dict[str, dict[str, Any]]:
    """The services running the project's image (built from docs/deploy/Dockerfile)."""
    return {name: svc for name, svc in compose()["services"].items()
            if svc.get("build", {}).get("dockerfile") == "docs/deploy/Dockerfile"}


def container_env(service: dict[str, Any]) -> dict[str, str]:
    """What a gateway container's environment holds: the image's ENV, the env_file (its example, with the secret
    an operator must fill in), then the service's own `environment`."""
    env = dict(image_env())
    files = service.get("env_file", [])
    for name in [files] if isinstance(files, str) else files:
        example = env_file(KIT / f"{name}.example")
        env.update(example)
        if not example.get("GATEWAY_JWT_SECRET"):
            env["GATEWAY_JWT_SECRET"] = "s" * 48  # the operator's to choose; left empty in the example on purpose
    env.update({k: str(v) for k, v in service.get("environment", {}).items()})
    return env


def settings_of(service: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> Settings:
    import os
    for name in [n for n in os.environ if n.startswith(ENV_PREFIX)]:
        monkeypatch.delenv(name)
    for name, value in container_env(service).items():
        monkeypatch.setenv(name, value)
    return load_settings()


@dataclass
class Block:
    """An nginx directive: its name, arguments and, for a block (`server { ... }`), its children."""
    name: str
    args: list[str]
    children: list[Block] = field(default_factory=list)

    def all(self, name: str) -> list[Block]:
        return [child for child in self.children if child.name == name]

    def one(self, name: str) -> Block:
        (found,) = self.all(name)
        return found

    def walk(self) -> Iterator[Block]:
        for child in self.children:
            yield child
            yield from child.walk()


def nginx() -> Block:
    text = re.sub(r"#[^\n]*", "", (KIT / "nginx.conf").read_text())
    tokens = re.findall(r"'[^']*'|\"[^\"]*\"|[{};]|[^\s{};]+", text)
    root = Block("main", [])
    stack: list[Block] = [root]
    words: list[str] = []
    for token in tokens:
        if token == ";":
            stack[-1].children.append(Block(words[0], words[1:]))
            words = []
        elif token == "{":
            block = Block(words[0], words[1:])
            stack[-1].children.append(block)
            stack.append(block)
            words = []
        elif token == "}":
            stack.pop()
        else:
            words.append(token.strip("'\"") if token[0] in "'\"" else token)
    assert len(stack) == 1 and not words, "unbalanced nginx.conf"
    return root


def server() -> Block:
    return nginx().one("http").one("server")


def location_for(path: str) -> Block:
    """The location nginx picks for `path` (exact match first, then the longest prefix; the kit uses no regex)."""
    locations = server().all("location")
    for loc in locations:
        if loc.args[0] == "=" and loc.args[1] == path:
            return loc
    prefixes = [loc for loc in locations if loc.args[0] != "=" and path.startswith(loc.args[0])]
    return max(prefixes, key=lambda loc: len(loc.args[0]))


def effective(location: Block, name: str) -> list[Block]:
    """A directive as it applies in `location`: its own if it has one, else the server's (nginx's inheritance)."""
    return location.all(name) or server().all(name)


def size_bytes(value: str) -> int:
    number, unit = re.fullmatch(r"(\d+)([kKmM]?)", value).groups()  # type: ignore[union-attr]
    return int(number) * {"": 1, "k": 1024, "m": 1024 * 1024}[unit.lower()]


def seconds(value: str) -> float:
    number, unit = re.fullmatch(r"(\d+)(ms|s|m|h)?", value).groups()  # type: ignore[union-attr]
    return int(number) * {"ms": 0.001, "s": 1, None: 1, "m": 60, "h": 3600}[unit]


def api_services() -> dict[str, dict[str, Any]]:
    """The gateway services the proxy sends traffic to (its upstream's servers)."""
    upstream = nginx().one("http").one("upstream")
    hosts = {s.args[0].split(":")[0] for s in upstream.all("server")}
    return {name: svc for name, svc in gateway_services().items() if name in hosts}


# ---- the image ---------------------------------------------------------------------------------------------------

def test_the_image_installs_the_project_from_the_ci_lock_and_runs_it_unprivileged() -> None:
    steps = dockerfile()
    args = {a.split("=", 1)[0]: a.split("=", 1)[1] for s in steps if s.keyword == "ARG" for a in [s.args]}
    bases = {re.sub(r"\$\{(\w+)\}", lambda m: args[m.group(1)], s.args.split()[0]) for s in steps
             if s.keyword == "FROM"}
    assert bases and all(re.fullmatch(r"python:3\.11[.\d]*-slim(-\w+)?(@sha256:[0-9a-f]{64})?", b) for b in bases)

    installs = [s.args for s in steps if s.keyword == "RUN" and "pip install" in s.args]
    assert len(installs) == 1
    words = shlex.split(installs[0])
    assert words[words.index("-c") + 1] == ".ci/requirements.lock" and words[-1] == "."
    assert (ROOT / ".ci" / "requirements.lock").is_file()

    users = [s.args.strip() for s in steps if s.keyword == "USER"]
    assert users and users[-1] not in {"root", "0"}
    assert image_env()["GATEWAY_ENV"] == "prod"
    (check,) = [s.args for s in steps if s.keyword == "HEALTHCHECK"]
    assert "/healthz" in check


def test_everything_the_image_copies_exists_and_is_in_the_build_context() -> None:
    """Build context = the repository root, filtered by docs/deploy/Dockerfile.dockerignore (an allow-list)."""
    patterns = [p.strip() for p in (KIT / "Dockerfile.dockerignore").read_text().splitlines()
                if p.strip() and not p.startswith("#")]

    def sent(path: str) -> bool:
        excluded = False
        for pattern in patterns:
            bare = pattern.removeprefix("!").rstrip("/")
            parts = path.split("/")
            if any(fnmatch.fnmatch("/".join(parts[:n]), bare) for n in range(1, len(parts) + 1)):
                excluded = not pattern.startswith("!")
        return not excluded

    copied = [word for s in dockerfile() if s.keyword == "COPY" and "--from" not in s.args
              for word in shlex.split(s.args)[:-1]]
    assert copied
    for source in copied:
        assert (ROOT / source).exists(), source
        assert sent(source), f"{source} is left out of the build context"
    assert not sent(".venv/bin/python") and not sent(".data/dev-jwt-secret") and not sent(".git/HEAD")


def test_the_package_data_the_gateway_serves_is_declared_so_a_non_editable_install_has_it() -> None:
    """The image installs the project non-editable: files other than Python (the dashboard, GraphiQL's assets) are in
    it only if pyproject.toml declares them as package data."""
    data = [p.relative_to(ROOT / "gateway") for p in (ROOT / "gateway").rglob("*")
            if p.is_file() and p.suffix not in {".py", ".pyc"} and "__pycache__" not in p.parts]
    setuptools = tomllib.loads((ROOT / "pyproject.toml").read_text()).get("tool", {}).get("setuptools", {})
    declared = setuptools.get("package-data", {}).get("gateway", [])
    missing = [str(p) for p in data if not any(fnmatch.fnmatch(str(p), pattern) for pattern in declared)]
    assert missing == [], "add [tool.setuptools.package-data] gateway = [...] covering these"


# ---- settings and commands ---------------------------------------------------------------------------------------

def test_every_gateway_variable_the_kit_and_operations_guide_name_is_a_setting() -> None:
    known = setting_names()
    for path in [*(p for p in KIT.iterdir() if p.is_file()), ROOT / "docs" / "operations.md"]:
        unknown = set(SETTING_NAME.findall(path.read_text())) - known
        assert not unknown, f"{path.relative_to(ROOT)} names unknown settings {sorted(unknown)}"


def test_readme_documents_every_setting_and_only_settings() -> None:
    table = set(re.findall(r"^\| `(GATEWAY_[A-Z0-9_]+)` \|", (ROOT / "README.md").read_text(), re.MULTILINE))
    assert table == setting_names()


def test_each_gateway_container_starts_with_a_valid_production_configuration(monkeypatch: pytest.MonkeyPatch) -> None:
    services = gateway_services()
    assert set(api_services()) < set(services)
    for name, service in services.items():
        settings = settings_of(service, monkeypatch)
        assert settings.env == "prod" and settings.host == "0.0.0.0", name
        assert not settings.embedded, name


def test_every_command_the_kit_runs_with_the_image_is_the_projects(capsys: pytest.CaptureFixture[str]) -> None:
    from gateway.cli import main

    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    (entry,) = [s.args for s in dockerfile() if s.keyword == "ENTRYPOINT"]
    (default,) = [s.args for s in dockerfile() if s.keyword == "CMD"]
    program, *fixed = yaml.safe_load(entry)
    assert program in scripts and scripts[program] == "gateway.cli:main"
    commands = [yaml.safe_load(default), *(svc.get("command", yaml.safe_load(default))
                                           for svc in gateway_services().values())]
    assert all(not svc.get("entrypoint") for svc in gateway_services().values())
    for command in commands:
        assert [*fixed, *command] == ["serve"]
        with pytest.raises(SystemExit) as exit_:
            main([*fixed, *command, "--help"])  # an unknown command or option exits 2
        assert exit_.value.code == 0
    capsys.readouterr()


def test_the_graceful_stop_is_never_cut_short(monkeypatch: pytest.MonkeyPatch) -> None:
    cli = ast.parse((ROOT / "gateway" / "cli.py").read_text())
    (socket_wait,) = [ast.literal_eval(node.value) for node in ast.walk(cli) if isinstance(node, ast.Assign)
                      and any(isinstance(t, ast.Name) and t.id == "SOCKET_CLOSE_WAIT_S" for t in node.targets)]
    for name, service in gateway_services().items():
        grace = settings_of(service, monkeypatch).shutdown_grace_seconds
        assert seconds(service["stop_grace_period"]) > grace + socket_wait, name


# ---- the database ------------------------------------------------------------------------------------------------

def test_a_three_member_replica_set_that_the_uri_names_whole_with_majority_writes(
        monkeypatch: pytest.MonkeyPatch) -> None:
    services = compose()["services"]
    members = {name: svc for name, svc in services.items() if "--replSet" in svc.get("command", [])}
    assert len(members) == 3
    names = {svc["command"][svc["command"].index("--replSet") + 1] for svc in members.values()}
    assert len(names) == 1
    (replica_set,) = names

    script = (KIT / "mongo-init.js").read_text()
    assert set(re.findall(r'host: "([^"]+)"', script)) == {f"{m}:27017" for m in members}
    assert f'replSet = "{replica_set}"' in script
    (init,) = [svc for svc in services.values() if any("mongo-init.js" in v for v in svc.get("volumes", []))]
    assert set(init["depends_on"]) == set(members) and "rs.initiate" in script

    for name, service in gateway_services().items():
        uri = urlsplit(settings_of(service, monkeypatch).mongodb_uri or "")
        assert set(uri.netloc.rsplit("@", 1)[-1].split(",")) == {f"{m}:27017" for m in members}, name
        query = parse_qs(uri.query)
        assert query["replicaSet"] == [replica_set] and query["w"] == ["majority"], name
        assert service["depends_on"]["mongo-init"]["condition"] == "service_completed_successfully"


# ---- API processes, the worker, the proxy ------------------------------------------------------------------------

def test_the_proxy_sends_traffic_only_to_api_only_gateways_and_a_worker_runs_the_jobs(
        monkeypatch: pytest.MonkeyPatch) -> None:
    apis, services = api_services(), gateway_services()
    assert len(apis) == 2 and all(settings_of(svc, monkeypatch).workers == 0 for svc in apis.values())
    workers = {n: s for n, s in services.items() if n not in apis}
    assert workers and all(settings_of(svc, monkeypatch).workers > 0 for svc in workers.values())

    ports = {int(s.args[0].split(":")[1]) for s in nginx().one("http").one("upstream").all("server")}
    assert ports == {settings_of(svc, monkeypatch).port for svc in apis.values()}
    proxy = next(svc for svc in compose()["services"].values() if "nginx.conf" in " ".join(svc.get("volumes", [])))
    for name, service in workers.items():  # the worker serves HTTP too: out of the proxy's reach altogether
        assert not set(proxy["networks"]) & set(service["networks"]), name
    for name, service in apis.items():
        assert set(proxy["networks"]) & set(service["networks"]), name


def test_the_proxy_upgrades_websockets_and_keeps_them_open_longer_than_the_keepalive(
        monkeypatch: pytest.MonkeyPatch) -> None:
    graphql = location_for("/graphql")
    assert graphql.one("proxy_pass").args == ["http://" + nginx().one("http").one("upstream").args[0]]
    assert effective(graphql, "proxy_http_version")[0].args == ["1.1"]
    headers = {h.args[0].lower(): h.args[1] for h in effective(graphql, "proxy_set_header")}
    assert headers["upgrade"] == "$http_upgrade" and headers["host"] == "$http_host"
    upgrade_map = next(b for b in nginx().one("http").all("map") if b.args[1] == headers["connection"])
    assert upgrade_map.args[0] == "$http_upgrade"
    assert {c.name: c.args[0] for c in upgrade_map.children}["default"] == "upgrade"
    assert headers["x-request-id"].startswith("$")

    keepalive = max(settings_of(svc, monkeypatch).ws_keepalive_seconds for svc in api_services().values())
    for timeout in ("proxy_read_timeout", "proxy_send_timeout"):
        assert seconds(effective(graphql, timeout)[0].args[0]) > keepalive


def test_the_proxy_serves_every_public_route_and_hides_the_operator_endpoints(
        monkeypatch: pytest.MonkeyPatch) -> None:
    from gateway.app import create_app
    from gateway.runtime import Runtime

    settings = settings_of(next(iter(api_services().values())), monkeypatch)
    routes = create_app(Runtime(settings)).routes  # a path each route answers: {params} filled, under a mount
    paths = {re.sub(r"\{\w+\}", "x", route.path) + ("/x" if isinstance(route, Mount) else "")  # type: ignore[attr-defined]
             for route in routes}
    assert OPERATOR_PATHS < paths
    for path in paths:
        location = location_for(path)
        if path in OPERATOR_PATHS:
            assert not location.all("proxy_pass") and int(location.one("return").args[0]) >= 400, path
        else:
            assert location.all("proxy_pass"), f"{path} is not proxied"
    assert location_for("/dashboard").all("proxy_pass")


def test_the_proxy_accepts_the_bodies_the_gateway_accepts(monkeypatch: pytest.MonkeyPatch) -> None:
    limit = settings_of(next(iter(api_services().values())), monkeypatch).max_body_bytes
    assert size_bytes(effective(location_for("/graphql"), "client_max_body_size")[0].args[0]) == limit
    assert size_bytes(effective(location_for("/uploads"), "client_max_body_size")[0].args[0]) == MAX_CSV_BYTES
