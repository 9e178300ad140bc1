"""A typed Python client generated from `schema.graphql` by ariadne-codegen, used against a running gateway.

What docs/api-guide.md ("Typed clients") tells a dashboard developer to do, done once per session: generate the client
package from the committed schema and the operations in tests/codegen/operations (config:
tests/codegen/ariadne-codegen.toml) into a temporary folder, import it here, page through customers over HTTP and
follow the event feed over graphql-transport-ws (the app served by uvicorn on a free port, tests/api/live.py).

ariadne-codegen cannot share `.venv` (it needs graphql-core < 3.3, Strawberry 3.3), so it runs from a virtual
environment of its own, `.venv/codegen`, made on first use from the pins in `.ci/codegen.lock` and kept while it
matches them (a copy of the lock it was made from sits inside it). It is made under an exclusive file lock, so
parallel test workers never build it at once. The generated package needs only httpx, pydantic and websockets,
which `.venv` has.
"""

from __future__ import annotations

import fcntl
import hashlib
import importlib
import json
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import aclosing, contextmanager
from datetime import timedelta
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from tests.api.live import serving
from tests.api.provisioning import partner_token
from tests.conftest import NOW, Demo, Gateway

# Reads only: the module's shared gateway, with the demo as its first settle at NOW left it (so its latest events are
# within the 7 days a subscription may resume from; the seeded history is older).
pytestmark = [pytest.mark.read_only, pytest.mark.settled_demo]

ROOT = Path(__file__).resolve().parents[2]
LOCK = ROOT / ".ci" / "codegen.lock"  # the pinned versions of ariadne-codegen and its dependencies
CONFIG = ROOT / "tests" / "codegen" / "ariadne-codegen.toml"
VENV = ROOT / ".venv" / "codegen"
BUILT_FROM = VENV / "codegen.lock"  # the lock the venv was made from: another lock makes it again
CODEGEN = VENV / "bin" / "ariadne-codegen"
PACKAGE = "wholesale_client"
INSTALL_DEADLINE_S = 600.0  # a cold pip cache; a failure bound, as is waiting for another worker's install
LOCK_POLL_S = 0.2


def _lock_path() -> Path:
    checkout = hashlib.sha256(str(ROOT).encode()).hexdigest()[:16]  # one per checkout, outside it
    return Path(tempfile.gettempdir()) / f"wholesale-gateway-codegen-{checkout}.lock"


@contextmanager
def _exclusive(path: Path) -> Iterator[None]:
    """Hold an exclusive lock on `path` (flock: released by the kernel even if this process dies)."""
    with path.open("a") as handle:
        deadline = time.monotonic() + INSTALL_DEADLINE_S
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    pytest.fail(f"another test process held {path} (making {VENV}) for over "
                                f"{INSTALL_DEADLINE_S:.0f} s", pytrace=False)
                time.sleep(LOCK_POLL_S)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _run(*command: str | Path, cwd: Path = ROOT) -> None:
    done = subprocess.run([str(c) for c in command], cwd=cwd, capture_output=True, text=True,
                          timeout=INSTALL_DEADLINE_S, check=False)
    if done.returncode != 0:
        pytest.fail(f"`{' '.join(map(str, command))}` failed (exit {done.returncode}):\n{done.stdout}\n{done.stderr}",
                    pytrace=False)


def _current(pins: str) -> bool:
    return CODEGEN.is_file() and BUILT_FROM.is_file() and BUILT_FROM.read_text() == pins


@pytest.fixture(scope="session")
def ariadne_codegen() -> Path:
    """The ariadne-codegen executable of `.venv/codegen`, made (again) when missing or not from the current lock."""
    if not LOCK.is_file():
        pytest.fail(f"{LOCK} is missing: it pins ariadne-codegen and its dependencies for this test", pytrace=False)
    pins = LOCK.read_text()
    with _exclusive(_lock_path()):  # checked under the lock too: another worker may be half way through
        if not _current(pins):
            BUILT_FROM.unlink(missing_ok=True)
            _run(sys.executable, "-m", "venv", "--clear", VENV)
            _run(VENV / "bin" / "python", "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                 "--constraint", LOCK, "ariadne-codegen")
            BUILT_FROM.write_text(pins)  # last: a venv without it is made again
    return CODEGEN


@pytest.fixture(scope="module")
def client_package(ariadne_codegen: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ModuleType]:
    """The client generated from schema.graphql and tests/codegen/operations, imported from a temporary folder."""
    target = tmp_path_factory.mktemp("codegen")
    config = target / "ariadne-codegen.toml"
    lines = [f'target_package_path = "{target}"' if line.startswith("target_package_path") else line
             for line in CONFIG.read_text().splitlines()]
    config.write_text("\n".join(lines) + "\n")
    _run(ariadne_codegen, "client", "--config", config)  # run from the root: the config's paths are relative to it
    sys.path.insert(0, str(target))
    try:
        yield importlib.import_module(PACKAGE)
    finally:
        sys.path.remove(str(target))
        for name in [m for m in sys.modules if m == PACKAGE or m.startswith(f"{PACKAGE}.")]:
            del sys.modules[name]


def raising_feed_errors(package: Any) -> Any:
    """The generated client, but a subscription's `next` carrying errors raises them (docs/api-guide.md).

    The generated base client yields only a `next`'s `data`: a feed that ends with an error (CURSOR_EXPIRED,
    SLOW_CONSUMER, EVENTS_UNAVAILABLE: `data` null, then `complete`) would just end, its code and cursor lost.
    """
    class Client(package.Client):  # type: ignore[misc]
        async def _handle_ws_message(self, message: Any, websocket: Any, expected_type: Any = None) -> Any:
            decoded = json.loads(message)
            payload = decoded.get("payload")
            if decoded.get("type") == "next" and isinstance(payload, dict) and payload.get("errors"):
                raise package.GraphQLClientGraphQLMultiError.from_errors_dicts(
                    errors_dicts=payload["errors"], data=payload.get("data"))
            return await super()._handle_ws_message(message, websocket, expected_type)
    return Client


async def test_the_generated_python_client_pages_through_customers_and_resumes_the_event_feed(
        gateway: Gateway, demo: Demo, client_package: Any) -> None:
    token = partner_token(gateway, demo)
    async with serving(gateway.app) as ws_url:
        client = raising_feed_errors(client_package)(
            url=ws_url.replace("ws://", "http://"), headers={"Authorization": f"Bearer {token}"},
            ws_url=ws_url, ws_connection_init_payload={"authorization": f"Bearer {token}"})
        async with client:
            # The paging loop of the guide: `after` = the last page's `endCursor` while `hasNextPage`.
            ids: list[str] = []
            after = None
            while True:
                page = (await client.customers_page(first=7, after=after)).customers
                ids += [edge.node.id for edge in page.edges]
                if not page.page_info.has_next_page:
                    break
                after = page.page_info.end_cursor
            assert len(ids) == len(set(ids)) == page.total_count > 7, ids
            assert {type(edge.node.status) for edge in page.edges} == {client_package.CustomerStatus}

            # A refusal is an exception carrying the top-level errors, with their `extensions.code`.
            with pytest.raises(client_package.GraphQLClientGraphQLMultiError) as refused:
                await client.customers_page(first=101)
            assert [e.extensions["code"] for e in refused.value.errors] == ["VALIDATION_FAILED"]

            # Resuming the feed after a cursor replays every later event once, in commit order, then goes on live.
            recent = client_package.EventFilter(occurredAfter=NOW - timedelta(hours=1))
            history = [e.node for e in (await client.recent_events(first=5, filter_=recent)).provisioning_events.edges]
            assert len(history) == 5, history
            received = []
            async for event in client.follow_events(after=history[1].cursor):
                received.append(event.provisioning_events)
                if len(received) == 3:  # the feed ends when the socket closes (1001: the gateway shuts down)
                    assert await gateway.app.state.graphql.close_sockets() == 1

            # A cursor from before the 7 days a feed may resume from: CURSOR_EXPIRED, raised with the subclass above.
            oldest = (await client.recent_events(first=1)).provisioning_events.edges[0].node
            with pytest.raises(client_package.GraphQLClientGraphQLMultiError) as expired:
                async with aclosing(client.follow_events(after=oldest.cursor)) as feed:
                    async for _ in feed:
                        pass
            assert [e.extensions["code"] for e in expired.value.errors] == ["CURSOR_EXPIRED"]
    # The replay went on past these (the settle's other events) until the close: each once, in commit order.
    assert [(e.cursor, e.entity_id, e.to_status, e.occurred_at) for e in received[:3]] == [
        (h.cursor, h.entity_id, h.to_status, h.occurred_at) for h in history[2:]]
    assert len({e.cursor for e in received}) == len(received)
    assert isinstance(received[0].entity_type, client_package.EntityType)
