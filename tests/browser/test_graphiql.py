"""GraphiQL in a real headless Chromium (issue #16 item 2): with nothing but the gateway reachable, the link `make run`
logs (`/graphql#token=…`) opens GraphiQL with the token already in its headers, so the schema loads at once; no
Content-Security-Policy violation; a reload (whose address GraphiQL has given a `?query=…`) keeps GraphiQL; and
without the link, pasting a token into the Headers tab is enough for the schema to load.

Waits are Playwright's polling `expect`, bounded; nothing here asserts how long anything takes.
"""

from __future__ import annotations

import re

from playwright.async_api import ConsoleMessage, Page, expect

from tests.browser.conftest import IsolatedPage, LiveGateway

WAIT_MS = 20_000  # a failure bound for what the page must show
DOCS = "button[aria-label='Show Documentation Explorer']"


async def show_docs(page: Page, expected: str = "Root Types") -> None:
    """Open the Docs pane (GraphiQL remembers an open pane across reloads) and wait for `expected`: by default, what
    it shows once the schema is fetched."""
    await expect(page.locator(".graphiql-container")).to_be_visible(timeout=WAIT_MS)
    explorer = page.locator(".graphiql-doc-explorer")
    if not await explorer.is_visible():
        await page.click(DOCS)
    await expect(explorer).to_contain_text(expected, timeout=WAIT_MS)


async def test_graphiql_loads_the_schema_offline_from_the_token_link_after_a_reload_and_a_pasted_token(
        live_gateway: LiveGateway, page: Page, isolated_page: IsolatedPage) -> None:
    problems: list[str] = []

    def console(message: ConsoleMessage) -> None:
        if message.type == "error" and "Content Security Policy" in message.text:
            problems.append(message.text)

    page.on("console", console)
    page.on("pageerror", lambda error: problems.append(f"uncaught: {error}"))
    token = live_gateway.gateway.token(live_gateway.demo.partner, "full_admin")

    await page.goto(f"{live_gateway.base_url}/graphql#token={token}")
    await expect(page.locator(".graphiql-container")).to_be_visible(timeout=WAIT_MS)
    assert "token" not in page.url  # the fragment is gone from the address bar (and was never sent)

    await show_docs(page)
    explorer = page.locator(".graphiql-doc-explorer")
    await explorer.locator("a", has_text=re.compile(r"^Query$")).first.click()
    await expect(explorer).to_contain_text("viewer", timeout=WAIT_MS)  # the root Query type's fields
    await expect(explorer).to_contain_text("customers", timeout=WAIT_MS)

    await page.click(".graphiql-execute-button")  # the default query, sent with the preset header
    await expect(page.locator(".result-window")).to_contain_text(live_gateway.demo.partner, timeout=WAIT_MS)
    await page.click("button[aria-label='Open settings dialog']")  # a dialog: GraphiQL adds styles at run time
    await expect(page.get_by_role("dialog")).to_be_visible(timeout=WAIT_MS)
    await page.keyboard.press("Escape")
    await expect(page).to_have_url(re.compile(r"/graphql\?query="), timeout=WAIT_MS)

    response = await page.reload()
    assert response is not None and response.status == 200
    assert response.headers["content-type"].startswith("text/html")
    await expect(page.locator(".graphiql-container")).to_be_visible(timeout=WAIT_MS)
    await show_docs(page)  # the headers were kept: the schema loads again

    # Without the link: no schema until a token is pasted into the Headers tab, then at once (no reload).
    await page.evaluate("localStorage.clear()")
    await page.goto(f"{live_gateway.base_url}/graphql")
    await show_docs(page, "Error fetching schema")
    await page.click("button[data-name='headers']")
    await page.locator(".graphiql-editor-tool .graphiql-editor:not(.hidden) .CodeMirror").first.click()
    await page.keyboard.press("Control+A")
    await page.keyboard.insert_text(f'{{"Authorization": "Bearer {token}"}}')
    await show_docs(page)

    assert problems == []
    assert isolated_page.refused == []
