"""GraphiQL served by the gateway itself (gateway/assets.py): its files pinned under /assets/ (no CDN: it works
offline), under a strict Content-Security-Policy, and still there when the browser reloads an address that carries
the query. The page in a real browser: tests/browser/test_graphiql.py."""

from __future__ import annotations

import re

import pytest

from tests.conftest import Gateway

pytestmark = pytest.mark.read_only  # one gateway and demo for the module (tests/conftest.py)

NAVIGATION = {"accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
              "sec-fetch-mode": "navigate", "sec-fetch-dest": "document"}
QUERY = "{ viewer { orgId } }"


async def test_a_browser_gets_our_graphiql_page_whose_files_the_gateway_serves(gateway: Gateway) -> None:
    page = await gateway.http.get("/graphql", headers=NAVIGATION)
    assert page.status_code == 200 and page.headers["content-type"] == "text/html; charset=utf-8"
    policy = page.headers["content-security-policy"]
    assert "default-src 'none'" in policy and "script-src 'self';" in policy and "frame-ancestors 'none'" in policy
    assert page.headers["x-content-type-options"] == "nosniff"
    assert "https:" not in page.text and "http:" not in page.text  # nothing from a CDN

    files = re.findall(r'(?:src|href)="(/assets/[^"]+)"', page.text)
    assert {f.rsplit(".", 1)[-1] for f in files} == {"js", "css"}
    for url in files:
        response = await gateway.http.get(url)
        assert response.status_code == 200, url
        assert response.headers["content-type"].startswith("text/javascript" if url.endswith(".js") else "text/css")
        assert response.headers["x-content-type-options"] == "nosniff"
        # Pinned files are versioned in their path: cached for good; ours are revalidated (an upgrade shows at once).
        pinned = url.startswith("/assets/vendor/")
        assert response.headers["cache-control"] == ("public, max-age=31536000, immutable" if pinned else "no-cache")
        again = await gateway.http.get(url, headers={"if-none-match": response.headers["etag"]})
        assert again.status_code == 304, url


async def test_only_files_of_the_static_directory_are_served(gateway: Gateway) -> None:
    for path in ("/assets/%2e%2e/assets.py", "/assets/..%2fassets.py", "/assets/vendor/%2e%2e/%2e%2e/settings.py",
                 "/assets/nothing.js", "/assets/vendor"):
        assert (await gateway.http.get(path)).status_code == 404, path
    assert (await gateway.http.post("/assets/graphiql/graphiql.js")).status_code == 405
    # HTML served as a file gets the page policy too, without GraphiQL's inline styles.
    direct = await gateway.http.get("/assets/graphiql/index.html")
    assert direct.status_code == 200 and "style-src 'self';" in direct.headers["content-security-policy"]


async def test_a_reload_with_the_query_in_the_address_keeps_graphiql(gateway: Gateway) -> None:
    """GraphiQL writes `?query=…` into the address; reloading it (a navigation: no token) gets the page again."""
    for headers in (NAVIGATION, {"accept": NAVIGATION["accept"]}):
        response = await gateway.http.get("/graphql", params={"query": QUERY}, headers=headers)
        assert response.status_code == 200, response.text
        assert response.headers["content-type"] == "text/html; charset=utf-8"
        assert "content-security-policy" in response.headers


async def test_an_api_get_with_a_query_is_still_an_api_call(gateway: Gateway) -> None:
    token = gateway.token(None, "platform_admin")
    for accept in ("application/json", "application/graphql-response+json", "*/*"):
        answered = await gateway.http.get("/graphql", params={"query": "{ __typename }"},
                                          headers={"accept": accept, "authorization": f"Bearer {token}"})
        assert answered.status_code == 200 and answered.json()["data"] == {"__typename": "Query"}, accept
        refused = await gateway.http.get("/graphql", params={"query": "{ __typename }"}, headers={"accept": accept})
        assert refused.status_code == 401, accept
    # An API client that also accepts HTML but sends its token is answered as an API call.
    both = await gateway.http.get("/graphql", params={"query": "{ __typename }"},
                                  headers={"accept": "text/html, */*;q=0.5", "authorization": f"Bearer {token}"})
    assert both.status_code == 200 and both.json()["data"] == {"__typename": "Query"}
