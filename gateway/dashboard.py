"""The live dashboard page, `/dashboard` (issue #16): plain JavaScript modules and a stylesheet from
`gateway/static/dashboard/`, no build step, no CDN.

The page itself needs no token: it asks for one (pasted, or a `#token=` fragment) and sends it with every API call
and in the websocket's `connection_init`. Its files are served under `/assets/dashboard/` (gateway/assets.py); the
page is sent with a strict Content-Security-Policy: no inline script or style, connections to this origin and
websockets only, never framed, no forms posted anywhere.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

PAGE = Path(__file__).resolve().with_name("static") / "dashboard" / "index.html"
PATH = "/dashboard"
CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self' ws: wss:; img-src 'self' data:; "
       "base-uri 'none'; frame-ancestors 'none'; form-action 'none'")
HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-cache",  # revalidated on every use: an upgrade shows at once
}


@cache
def _html() -> bytes:
    return PAGE.read_bytes()


async def page(_: Request) -> Response:
    return Response(_html(), media_type="text/html; charset=utf-8", headers=HEADERS)


def routes() -> list[BaseRoute]:
    """`/dashboard` (and `/dashboard/`), for the app's routes list; its files come from the `/assets` mount."""
    return [Route(PATH, page, methods=["GET"]), Route(PATH + "/", page, methods=["GET"])]
