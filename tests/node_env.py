"""Node.js for the tests that run npm packages (graphql-ws, graphql-http): `node`, with tests/node installed.

Node.js is required, not optional: without `node` (and `npm`, to install tests/node once) those tests fail
with a message that says what to install. The install (`npm ci` from the lock file) runs under an exclusive
file lock, so parallel test workers (pytest-xdist) never run it at once: one installs, the others wait for it
and then find the packages in place.
"""

from __future__ import annotations

import asyncio
import fcntl
import hashlib
import json
import shutil
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest

NODE_DIR = Path(__file__).resolve().parent / "node"
INSTALL_DEADLINE_S = 600.0  # `npm ci` on a cold cache; a failure bound, as is waiting for another worker's install
LOCK_POLL_S = 0.2


def _required(program: str) -> str:
    found = shutil.which(program)
    if found is None:
        pytest.fail(f"`{program}` is not on PATH: these tests run npm packages with Node.js "
                    "(v20 or later, with npm). Install Node.js, e.g. from https://nodejs.org or your package manager.",
                    pytrace=False)
    return found


def _installed() -> bool:
    dependencies = json.loads((NODE_DIR / "package.json").read_text())["dependencies"]
    return all((NODE_DIR / "node_modules" / name / "package.json").is_file() for name in dependencies)


def _lock_path() -> Path:
    # Outside the repository (nothing to ignore or clean up), one per checkout.
    checkout = hashlib.sha256(str(NODE_DIR).encode()).hexdigest()[:16]
    return Path(tempfile.gettempdir()) / f"wholesale-gateway-npm-{checkout}.lock"


@asynccontextmanager
async def _exclusive(path: Path) -> AsyncIterator[None]:
    """Hold an exclusive lock on `path` (flock: released by the kernel even if this process dies)."""
    with path.open("a") as handle:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + INSTALL_DEADLINE_S
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if loop.time() > deadline:
                    pytest.fail(f"another test process held {path} (installing {NODE_DIR}) for over "
                                f"{INSTALL_DEADLINE_S:.0f} s", pytrace=False)
                await asyncio.sleep(LOCK_POLL_S)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


async def _npm_ci() -> None:
    npm = _required("npm")
    process = await asyncio.create_subprocess_exec(
        npm, "ci", "--no-audit", "--no-fund", cwd=NODE_DIR,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
    try:
        output, _ = await asyncio.wait_for(process.communicate(), INSTALL_DEADLINE_S)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    if process.returncode != 0 or not _installed():
        pytest.fail(f"`npm ci` in {NODE_DIR} failed (exit {process.returncode}):\n"
                    f"{output.decode(errors='replace')}", pytrace=False)


async def node_with_packages() -> str:
    """The `node` executable, once tests/node's packages are installed (`npm ci` from its lock file when missing)."""
    executable = _required("node")
    # Checked under the lock too: while another worker runs `npm ci`, node_modules is half written.
    async with _exclusive(_lock_path()):
        if not _installed():
            await _npm_ci()
    return executable
