"""The browser's files (gateway/assets.py): the pinned third-party files match their manifest, our GraphiQL page
loads nothing from elsewhere, and which requests to /graphql get the GraphiQL page (`wants_ide`)."""

from __future__ import annotations

import re

import pytest

from gateway.assets import GRAPHIQL_PAGE, MANIFEST, STATIC_DIR, VENDOR_DIR, check, page_csp, read_manifest
from gateway.middleware import wants_ide

BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8"


def test_every_vendored_file_has_the_sha256_of_the_manifest_and_nothing_else_is_vendored() -> None:
    assert check() == []
    pinned = read_manifest()
    listed = {entry.path.as_posix() for entry in pinned}
    on_disk = {p.relative_to(VENDOR_DIR).as_posix() for p in VENDOR_DIR.rglob("*") if p.is_file() and p != MANIFEST}
    assert on_disk == listed
    # Each package ships with its licence, and comes from the npm registry at an exact version.
    for entry in pinned:
        assert f"{entry.package}@{entry.version}/LICENSE" in listed
        assert re.fullmatch(r"\d+\.\d+\.\d+", entry.version), entry
        assert entry.source == f"https://registry.npmjs.org/{entry.package}/-/{entry.package}-{entry.version}.tgz"


def test_the_graphiql_page_loads_only_files_the_gateway_serves_and_has_no_inline_script() -> None:
    html = GRAPHIQL_PAGE.read_text()
    urls = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert urls and all(u.startswith("/assets/") or u == "data:," for u in urls), urls
    for url in urls:
        if url.startswith("/assets/"):
            assert (STATIC_DIR / url.removeprefix("/assets/")).is_file(), url
    assert "http:" not in html and "https:" not in html
    assert re.findall(r"<script(?![^>]*\bsrc=)[^>]*>", html) == []  # every script is a file (CSP: script-src 'self')
    assert re.findall(r"<[^>]*\son[a-z]+=", html) == []  # no inline event handler


def test_the_page_policy_allows_scripts_from_the_gateway_only_and_names_its_websocket() -> None:
    policy = dict(d.strip().split(" ", 1) for d in page_csp("127.0.0.1:8000").split(";"))
    assert policy["script-src"] == "'self'" and policy["default-src"] == "'none'"
    assert policy["connect-src"] == "'self' ws://127.0.0.1:8000 wss://127.0.0.1:8000"
    assert policy["frame-ancestors"] == "'none'" and policy["style-src"] == "'self'"
    assert "style-src 'self' 'unsafe-inline';" in page_csp("127.0.0.1:8000", inline_styles=True)  # GraphiQL's
    assert "ws:" not in page_csp("evil.example; script-src *")  # a malformed Host header is left out


def scope(query: str = "", accept: str = BROWSER_ACCEPT, method: str = "GET", **headers: str) -> dict[str, object]:
    raw = [(b"accept", accept.encode())] + [(k.replace("_", "-").encode(), v.encode()) for k, v in headers.items()]
    return {"type": "http", "method": method, "path": "/graphql", "query_string": query.encode(), "headers": raw}


@pytest.mark.parametrize(("request_scope", "ide"), [
    (scope(), True),
    # A reload of GraphiQL, whose address keeps the query: a navigation, with or without Sec-Fetch headers.
    (scope("query=%7Bviewer%7BorgId%7D%7D", sec_fetch_mode="navigate", sec_fetch_dest="document"), True),
    (scope("query=%7Bviewer%7BorgId%7D%7D"), True),
    # API calls stay API calls: they ask for JSON, send their token, or are not GETs.
    (scope("query=%7Bviewer%7BorgId%7D%7D", accept="application/json"), False),
    (scope("query=%7Bviewer%7BorgId%7D%7D", accept="application/graphql-response+json"), False),
    (scope("query=%7Bviewer%7BorgId%7D%7D", accept="*/*"), False),
    (scope("query=%7Bviewer%7BorgId%7D%7D", accept="text/html, application/json"), False),
    (scope("query=%7Bviewer%7BorgId%7D%7D", authorization="Bearer x", sec_fetch_mode="cors"), False),
    (scope("", accept="text/html, application/json"), False),
    (scope(method="POST"), False),
], ids=["page", "reload-navigation", "reload-no-fetch-metadata", "api-json", "api-graphql-response", "api-any",
        "api-json-and-html", "api-with-token", "no-query-but-json", "post"])
def test_which_requests_get_graphiql(request_scope: dict[str, object], ide: bool) -> None:
    assert wants_ide(request_scope) is ide
