"""The browser's files, served by the gateway itself: no CDN, so GraphiQL and the dashboard work offline and under
a strict Content-Security-Policy.

- `/assets/<path>` serves `gateway/static/<path>` (Starlette's StaticFiles: no path leaves the directory, symlinks
  are not followed), each with its media type, `X-Content-Type-Options: nosniff` and a validator (ETag). Pinned
  third-party files live in versioned directories, `vendor/<package>@<version>/`, and are cached for a year
  (`immutable`); our own files are revalidated on every use (`no-cache`), so an upgrade shows at once.
- HTML is sent with `PAGE_CSP`: scripts and styles from this origin only, no inline script, no eval, connections
  to this origin (HTTP and websocket) only, never framed. The GraphiQL page alone also allows inline styles.
- The third-party files are the npm registry's distribution files, unmodified, at exact versions, with each
  package's licence: `vendor/MANIFEST.json` lists every file with its sha256. `python -m gateway.assets vendor`
  re-creates them from the manifest (with `npm pack`, refusing any file whose sha256 differs);
  `--update` writes the sha256 of what it fetched into the manifest instead (after changing a version).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import subprocess
import sys
import tarfile
import tempfile
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.routing import Mount
from starlette.staticfiles import NotModifiedResponse, PathLike, StaticFiles
from starlette.types import Scope

STATIC_DIR = Path(__file__).resolve().with_name("static")
VENDOR_DIR = STATIC_DIR / "vendor"
MANIFEST = VENDOR_DIR / "MANIFEST.json"
GRAPHIQL_PAGE = STATIC_DIR / "graphiql" / "index.html"
PREFIX = "/assets"

IMMUTABLE = "public, max-age=31536000, immutable"
REVALIDATE = "no-cache"
MEDIA_TYPES = {
    ".js": "text/javascript; charset=utf-8",
    ".mjs": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".html": "text/html; charset=utf-8",
    ".json": "application/json",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".ico": "image/x-icon",
    ".woff2": "font/woff2",
    ".txt": "text/plain; charset=utf-8",
    "": "text/plain; charset=utf-8",  # LICENSE
}
OTHER = "application/octet-stream"
PAGE_CSP = ("default-src 'none'; script-src 'self'; style-src 'self'{styles}; img-src 'self' data:; "
            "font-src 'self' data:; connect-src 'self'{websocket}; base-uri 'none'; frame-ancestors 'none'; "
            "form-action 'none'")
_HOST = re.compile(r"^[A-Za-z0-9.-]+(:\d{1,5})?$|^\[[0-9A-Fa-f:.]+\](:\d{1,5})?$")


def page_csp(host: str | None, *, inline_styles: bool = False) -> str:
    """The CSP of our pages. 'self' covers this origin's websocket in CSP 3 browsers; older ones (Safari) need the
    ws:// and wss:// origins spelled out, for the host the browser used (a malformed Host header gets neither).

    `inline_styles` for GraphiQL: its dialogs (Radix, react-remove-scroll) add <style> elements at run time, whose
    text varies (it holds the scrollbar's width), so no hash can allow them. Scripts never get it."""
    websocket = f" ws://{host} wss://{host}" if host and _HOST.match(host) else ""
    return PAGE_CSP.format(websocket=websocket, styles=" 'unsafe-inline'" if inline_styles else "")


def security_headers(request_headers: Headers, media_type: str, *, inline_styles: bool = False) -> dict[str, str]:
    headers = {"X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer"}
    if media_type.startswith("text/html"):
        headers["Content-Security-Policy"] = page_csp(request_headers.get("host"), inline_styles=inline_styles)
    return headers


class Assets(StaticFiles):
    """`gateway/static` (or `directory`) with our media types and caching headers."""

    def __init__(self, directory: Path = STATIC_DIR) -> None:
        super().__init__(directory=directory, follow_symlink=False)
        self.root = Path(directory).resolve()

    def file_response(self, full_path: PathLike, stat_result: os.stat_result, scope: Scope,
                      status_code: int = 200) -> Response:
        path = Path(full_path)
        media_type = MEDIA_TYPES.get(path.suffix.lower(), OTHER)
        request_headers = Headers(scope=scope)
        relative = path.resolve().relative_to(self.root).parts
        versioned = len(relative) > 2 and relative[0] == "vendor" and "@" in relative[1]
        headers = {**security_headers(request_headers, media_type),
                   "Cache-Control": IMMUTABLE if versioned else REVALIDATE}
        response = FileResponse(full_path, status_code=status_code, stat_result=stat_result, media_type=media_type,
                                headers=headers)
        if self.is_not_modified(response.headers, request_headers):
            return NotModifiedResponse(response.headers)
        return response


def mount(directory: Path = STATIC_DIR) -> Mount:
    """The `/assets` route, for the app's routes list."""
    return Mount(PREFIX, app=Assets(directory), name="assets")


@cache
def _graphiql_html() -> bytes:
    return GRAPHIQL_PAGE.read_bytes()


def graphiql_page(request: Request) -> Response:
    """Our GraphiQL page: the pinned files under /assets/ and our own script, no inline script, strict CSP."""
    media_type = MEDIA_TYPES[".html"]
    headers = {**security_headers(request.headers, media_type, inline_styles=True), "Cache-Control": REVALIDATE}
    return Response(_graphiql_html(), media_type=media_type, headers=headers)


# --- vendoring: the pinned third-party files -----------------------------------------------------------------------


@dataclass(frozen=True)
class Pinned:
    """One vendored file: `member` of the npm tarball of `package@version`, stored as `vendor/<package>@<version>/
    <file>`."""

    package: str
    version: str
    file: str
    member: str
    sha256: str
    source: str

    @property
    def path(self) -> Path:
        return Path(f"{self.package}@{self.version}") / self.file


def read_manifest(path: Path = MANIFEST) -> list[Pinned]:
    entries = json.loads(path.read_text(encoding="utf-8"))["files"]
    return [Pinned(e["package"], e["version"], e["file"], e["from"], e["sha256"], e["source"]) for e in entries]


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _npm_pack(spec: str, into: Path, npm: str) -> Path:
    out = subprocess.run([npm, "pack", "--json", "--pack-destination", str(into), spec], check=True,
                         capture_output=True, text=True).stdout
    filename: str = json.loads(out)[0]["filename"]
    return into / filename


def vendor(manifest: Path = MANIFEST, *, update: bool = False, npm: str = "npm") -> list[str]:
    """Fetch every package of the manifest with `npm pack` and write its listed files next to the manifest.

    Returns the problems: files whose sha256 differs from the manifest's (not written), unless `update`, which
    writes them and their new sha256 into the manifest."""
    pinned = read_manifest(manifest)
    target = manifest.parent
    problems: list[str] = []
    with tempfile.TemporaryDirectory() as tmp:
        tarballs: dict[str, Path] = {}
        updated: dict[Path, str] = {}
        for entry in pinned:
            spec = f"{entry.package}@{entry.version}"
            if spec not in tarballs:
                tarballs[spec] = _npm_pack(spec, Path(tmp), npm)
            with tarfile.open(tarballs[spec]) as archive:
                member = archive.extractfile(entry.member)
                if member is None:
                    problems.append(f"{spec}: no file {entry.member}")
                    continue
                data = member.read()
            digest = hashlib.sha256(data).hexdigest()
            if digest != entry.sha256 and not update:
                problems.append(f"{spec}/{entry.member}: sha256 {digest}, the manifest says {entry.sha256}")
                continue
            destination = target / entry.path
            destination.parent.mkdir(parents=True, exist_ok=True)
            destination.write_bytes(data)
            updated[entry.path] = digest
    if update:
        document = json.loads(manifest.read_text(encoding="utf-8"))
        for row in document["files"]:
            row["sha256"] = updated.get(Path(f"{row['package']}@{row['version']}") / row["file"], row["sha256"])
        manifest.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    return problems


def check(manifest: Path = MANIFEST) -> list[str]:
    """Files of the manifest that are missing or differ from its sha256."""
    problems = []
    for entry in read_manifest(manifest):
        path = manifest.parent / entry.path
        if not path.is_file():
            problems.append(f"missing: {entry.path}")
        elif sha256(path) != entry.sha256:
            problems.append(f"changed: {entry.path}")
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m gateway.assets",
                                     description="The pinned third-party browser files (gateway/static/vendor)")
    commands = parser.add_subparsers(dest="command", required=True)
    p_vendor = commands.add_parser("vendor", help="re-create the files of MANIFEST.json with `npm pack`")
    p_vendor.add_argument("--update", action="store_true",
                          help="write what was fetched and its sha256 into the manifest (after a version change)")
    commands.add_parser("check", help="compare the files with the manifest's sha256")
    args = parser.parse_args(argv)
    problems = vendor(update=args.update) if args.command == "vendor" else check()
    for problem in problems:
        print(problem, file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
