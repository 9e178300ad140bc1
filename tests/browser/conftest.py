"""Fixtures of the browser tests: one headless Chromium per session (the distribution's, driven by Playwright) and
a gateway served over a real loopback socket, with the demo data, that the browser's pages talk to.

* `chromium`: the session's browser (`/usr/bin/chromium`, or `GATEWAY_TEST_CHROMIUM`);
* `page`: a fresh page of its own context in which every request to a host other than the loopback is aborted
  (and recorded in `isolated_page.refused`; its console errors in `isolated_page.errors`), so that a page that
  works proves it needs nothing but the gateway;
* `live_gateway`: the test's gateway (tests/conftest.py `Gateway`: `execute`, `settle`, `token`) on a fresh copy of
  the demo (settled: no work in flight), served by uvicorn in this process and event loop on a free loopback port;
  `base_url` is where the browser goes; `restart()` stops the server and its app, and serves a new app on the same
  port and database, as a restarted gateway process would be.

The server shares the test's event loop, so a test drives the job queue (`gateway.settle()`) while the page watches.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import uvicorn
from playwright.async_api import Browser, BrowserContext, Page, Playwright, Route, async_playwright

from domain.store.driver import Driver
from tests.api.live import free_port
from tests.conftest import Demo, DemoData, Gateway, open_gateway

CHROMIUM = os.environ.get("GATEWAY_TEST_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1", "[::1]"})
START_DEADLINE_S = 30.0  # a failure bound, not a timing assertion


def chromium_missing() -> str | None:
    if Path(CHROMIUM).is_file():
        return None
    return f"no Chromium at {CHROMIUM}: install the distribution's `chromium` package (or set GATEWAY_TEST_CHROMIUM)"


@pytest.fixture(scope="session")
async def playwright_driver() -> AsyncIterator[Playwright]:
    async with async_playwright() as driver:
        yield driver


@pytest.fixture(scope="session")
async def chromium(playwright_driver: Playwright) -> AsyncIterator[Browser]:
    """The session's one headless Chromium. Without the distribution's package the browser tests fail, saying
    what to install (`.ci/run` installs it; `apt-get install chromium` on Debian)."""
    if missing := chromium_missing():
        pytest.fail(missing, pytrace=False)
    browser = await playwright_driver.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
    yield browser
    await browser.close()


class IsolatedPage:
    """A page whose context lets requests reach loopback hosts only; the rest are aborted and listed in `refused`."""

    def __init__(self, context: BrowserContext, page: Page) -> None:
        self.context = context
        self.page = page
        self.refused: list[str] = []
        self.errors: list[str] = []  # uncaught exceptions and console errors (a CSP violation is one)
        page.on("pageerror", lambda error: self.errors.append(f"uncaught: {error}"))
        page.on("console", lambda message: self.errors.append(f"console: {message.text}")
                if message.type == "error" else None)

    async def _guard(self, route: Route) -> None:
        url = route.request.url
        host = urlsplit(url).hostname or ""
        if url.startswith(("data:", "blob:", "about:")) or host in LOOPBACK:
            await route.continue_()
        else:
            self.refused.append(url)
            await route.abort("blockedbyclient")


@pytest.fixture
async def isolated_page(chromium: Browser) -> AsyncIterator[IsolatedPage]:
    context = await chromium.new_context(viewport={"width": 1280, "height": 860})
    page = await context.new_page()
    isolated = IsolatedPage(context, page)
    await context.route("**/*", isolated._guard)
    try:
        yield isolated
    finally:
        await context.close()


@pytest.fixture
def page(isolated_page: IsolatedPage) -> Page:
    """A fresh page that can reach nothing but loopback hosts (`isolated_page.refused` lists what it tried)."""
    return isolated_page.page


class LiveGateway:
    """A gateway app on a database of its own with the demo, served on a loopback port that survives `restart()`."""

    def __init__(self, mongo_uri: str, driver: Driver, data_dir: Path, demo_data: DemoData) -> None:
        self.mongo_uri = mongo_uri
        self.driver = driver
        self.data_dir = data_dir
        self.demo_data = demo_data
        self.database = f"t_{uuid.uuid4().hex[:12]}"
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.demo = Demo("", "", "")
        self._stack: AsyncExitStack | None = None
        self._gateway: Gateway | None = None
        self._server: uvicorn.Server | None = None
        self._task: asyncio.Task[None] | None = None

    @property
    def gateway(self) -> Gateway:
        assert self._gateway is not None, "the gateway is stopped"
        return self._gateway

    async def start(self, *, seed: bool = False, advance: timedelta | None = None) -> None:
        """Open the app (its clock `advance`d past the tests' NOW, if given) and serve it on the port."""
        stack = AsyncExitStack()
        self._gateway = await stack.enter_async_context(
            open_gateway(self.mongo_uri, self.driver, self.data_dir, database=self.database))
        self._stack = stack
        if advance is not None:
            self._gateway.clock.advance(advance)
        if seed:  # settled: no work in flight, so a test's `settle()` runs only what the test started
            self.demo = await self.demo_data.copy_into(self._gateway, settled=True)
        config = uvicorn.Config(self._gateway.app, host="127.0.0.1", port=self.port, lifespan="off",
                                log_level="warning", ws_ping_interval=None)
        self._server = uvicorn.Server(config)
        self._task = asyncio.create_task(self._server.serve())
        loop = asyncio.get_running_loop()
        deadline = loop.time() + START_DEADLINE_S
        while not self._server.started:  # uvicorn offers no event to wait on
            assert loop.time() < deadline and not self._task.done(), "uvicorn did not start"
            await asyncio.sleep(0.02)

    async def stop(self) -> None:
        """Stop serving (open websockets are closed, as by a gateway shutting down) and close the app."""
        if self._server is not None and self._task is not None:
            await self.gateway.app.state.graphql.close_sockets()
            self._server.should_exit = True
            await asyncio.wait_for(self._task, START_DEADLINE_S)
        self._server = self._task = None
        if self._stack is not None:
            await self._stack.aclose()
        self._stack = self._gateway = None

    async def restart(self, while_down: Callable[[Gateway], Awaitable[None]] | None = None,
                      advance: timedelta | None = None) -> None:
        """Stop; run `while_down` with an unserved app on the same database (what it writes, connected pages miss);
        serve a new app on the same port and database (its clock `advance`d, if given)."""
        await self.stop()
        if while_down is not None:
            async with open_gateway(self.mongo_uri, self.driver, self.data_dir, database=self.database) as offline:
                await while_down(offline)
        await self.start(advance=advance)


@pytest.fixture
async def live_gateway(mongo_uri: str, driver: Driver, tmp_path: Path, demo_data: DemoData
                       ) -> AsyncIterator[LiveGateway]:
    """The test's gateway over a real socket, with a copy of the demo as its first settle leaves it."""
    live = LiveGateway(mongo_uri, driver, tmp_path, demo_data)
    await live.start(seed=True)
    try:
        yield live
    finally:
        await live.stop()
