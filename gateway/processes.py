"""Real gateway and SecantusDB processes, started, watched and stopped from asyncio (end-to-end tests, benchmarks).

* `GatewayProcess`: `python -m gateway serve [options]` on a data dir and a free loopback port; `start()` returns
  once /healthz answers and its start-up banner has been read in full. `GatewayCommand`: any other `gateway`
  command (`seed`, `token`, ...), `run()` to its end. `ServerProcess`: any program serving HTTP on a loopback port
  (ready when `ready_path` answers 200); `ChildProcess`: any program at all. All four are async context managers.
* `DatabaseProcess`: a SecantusDB process of the caller's own (`EmbeddedDatabase`, as a gateway starts its
  embedded one), with `restart()` after a `kill()`, and `async with`.
* `database_pids`, `kill_databases`, `wait_until_no_database`, `stop_databases`: the SecantusDB child a gateway
  starts for its data dir, found by its storage path (it runs in a session of its own, out of the gateway's group).
* `Processes`: everything one test or run started; `close()` stops all of it, newest first, then any database
  child left behind on a gateway's data dir.

Every child runs in a session of its own, so a signal to its process group reaches nothing of ours; its stdin is
closed and its stdout and stderr are read line by line into memory by tasks on the event loop, so pipes never fill.
Nothing here blocks the loop: processes are asyncio subprocesses and every wait is a sleep or an awaited exit
(looking processes up reads /proc, which is memory, not disk). Deadlines are failure bounds, never timing
assertions: `ProcessError` says what was waited for, with the output so far.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import os
import signal
import sys
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import Self, TypeVar

import httpx

from gateway.embedded import EmbeddedDatabase, EmbeddedDatabaseError, free_port

__all__ = [
    "ChildProcess", "DatabaseProcess", "GatewayCommand", "GatewayProcess", "ProcessError", "Processes",
    "ServerProcess", "child_env", "command_line", "database_pids", "free_port", "gateway_env", "kill_databases",
    "stop_databases", "wait_until_no_database",
]

REPO = Path(__file__).resolve().parents[1]  # the children's working directory: `python -m bench...` works there
START_DEADLINE_S = 60.0  # a server (and a gateway's database) must be serving by then
EXIT_DEADLINE_S = 60.0  # a process that should end must have ended by then
TERM_GRACE_S = 15.0  # SIGTERM, then SIGKILL
DATABASE_GRACE_S = 10.0  # a database left behind: this long after each of SIGTERM and SIGKILL
POLL_S = 0.2
STREAM_LIMIT = 1 << 20  # the longest output line read whole (a JSON log line with a traceback)
BANNER_START = "Wholesale gateway ready"  # the start-up log record of `gateway serve` (gateway/cli.py)

P = TypeVar("P", bound="ChildProcess")


class ProcessError(RuntimeError):
    """A process did not do what was waited for (serve, exit, go away) within its bound; the message says why."""


def child_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """This environment without any GATEWAY_ variable (so no GATEWAY_MONGODB_URI), unbuffered, then `extra`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GATEWAY_")}
    env["PYTHONUNBUFFERED"] = "1"
    env.update(extra or {})
    return env


def gateway_env(data_dir: Path, port: int | None = None, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """A gateway's environment: `child_env` with its data dir and port; `extra` (GATEWAY_ settings) wins."""
    own = {"GATEWAY_DATA_DIR": str(data_dir)} | ({"GATEWAY_PORT": str(port)} if port is not None else {})
    return child_env(own | dict(extra or {}))


# --- the SecantusDB processes of a data dir, whoever started them -------------------------------------------------


def database_pids(data_dir: Path) -> list[int]:
    """Live processes with `<data_dir>/db` as an argument: the SecantusDB serving it (`--storage-path <dir>/db`)."""
    needle = b"\0" + str(data_dir.resolve() / "db").encode() + b"\0"
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes()  # empty for a zombie: it holds nothing any more
        except OSError:
            continue
        if needle in b"\0" + cmdline:
            found.append(int(entry.name))
    return found


def command_line(pid: int) -> list[str]:
    """A process's arguments (empty once it is gone)."""
    try:
        return (Path("/proc") / str(pid) / "cmdline").read_bytes().decode(errors="replace").split("\0")
    except OSError:
        return []


def _signal_all(pids: Iterable[int], sig: signal.Signals) -> None:
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, sig)


def kill_databases(data_dir: Path, sparing: Iterable[int] = ()) -> list[int]:
    """SIGKILL, now, to the databases of `data_dir` other than `sparing`, as a crash would; their pids."""
    pids = [pid for pid in database_pids(data_dir) if pid not in set(sparing)]
    _signal_all(pids, signal.SIGKILL)
    return pids


async def _databases_gone(data_dir: Path, sparing: set[int], within_s: float) -> list[int]:
    """Wait up to `within_s` for the databases of `data_dir` (but `sparing`) to be gone; those still there."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within_s
    while True:  # processes of another parent: nothing to wait on but their absence
        pids = [pid for pid in database_pids(data_dir) if pid not in sparing]
        if not pids or loop.time() >= deadline:
            return pids
        await asyncio.sleep(POLL_S)


async def wait_until_no_database(data_dir: Path, sparing: Iterable[int] = (), within_s: float = EXIT_DEADLINE_S
                                 ) -> None:
    """Wait until no database of `data_dir` (other than `sparing`) runs; ProcessError after `within_s`."""
    if pids := await _databases_gone(data_dir, set(sparing), within_s):
        raise ProcessError(f"database processes still running: {pids}")


async def stop_databases(data_dir: Path, sparing: Iterable[int] = (), grace_s: float = TERM_GRACE_S) -> list[str]:
    """Wait up to `grace_s` for the databases of `data_dir` to be gone (their gateway stops them, and Linux sends
    them SIGTERM when it dies); then SIGTERM, and SIGKILL, whatever lingers. Returns what had to be done."""
    spared = set(sparing)
    notes = []
    pids = await _databases_gone(data_dir, spared, grace_s)
    for sig in (signal.SIGTERM, signal.SIGKILL):
        if not pids:
            break
        notes.append(f"embedded database {pids} still running after its gateway stopped: sent {sig.name}")
        _signal_all(pids, sig)
        pids = await _databases_gone(data_dir, spared, DATABASE_GRACE_S)
    return notes


# --- child processes ----------------------------------------------------------------------------------------------


class ChildProcess:
    """One program run as a child in a session of its own, its output collected line by line as it comes.

    `start()` (or `async with`) starts it and waits until it is ready (for this class: at once); `run()` waits for
    its end instead. `stop()` is SIGTERM then, after `term_grace_s`, SIGKILL to its group; `kill()` is SIGKILL now.
    """

    def __init__(self, argv: Sequence[str], env: Mapping[str, str] | None = None, *, name: str | None = None,
                 term_grace_s: float = TERM_GRACE_S) -> None:
        self.argv = list(argv)
        self.env = dict(env) if env is not None else child_env()
        self.name = name or Path(self.argv[0]).name
        self.term_grace_s = term_grace_s
        self.stdout_lines: list[str] = []
        self.stderr_lines: list[str] = []
        self.output_lines: list[str] = []  # both streams, in the order their lines were read
        self.forced = False  # `stop()` had to SIGKILL it
        self._process: asyncio.subprocess.Process | None = None
        self._readers: list[asyncio.Task[None]] = []

    def __str__(self) -> str:
        return f"{self.name} (pid {self.pid})" if self._process is not None else self.name

    # starting

    async def spawn(self) -> Self:
        """Start the process, without waiting for anything."""
        if self._process is not None:
            raise ProcessError(f"{self} was started already")
        process = await asyncio.create_subprocess_exec(
            *self.argv, env=self.env, cwd=REPO, stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE, start_new_session=True, limit=STREAM_LIMIT)
        assert process.stdout is not None and process.stderr is not None
        self._process = process
        self._readers = [asyncio.create_task(self._pump(process.stdout, self.stdout_lines)),
                         asyncio.create_task(self._pump(process.stderr, self.stderr_lines))]
        return self

    async def _pump(self, stream: asyncio.StreamReader, sink: list[str]) -> None:
        async for line in stream:
            text = line.decode(errors="replace").rstrip("\n")
            sink.append(text)
            self.output_lines.append(text)

    async def wait_until_ready(self, within_s: float = START_DEADLINE_S) -> None:
        """Until it can be used (a server: until it serves). Nothing to wait for here."""

    async def start(self, within_s: float = START_DEADLINE_S) -> Self:
        """Start it and wait until it is ready; ProcessError (it is left running: `stop()` it) if it is not."""
        await self.spawn()
        await self.wait_until_ready(within_s)
        return self

    async def run(self, within_s: float = EXIT_DEADLINE_S) -> int:
        """Start it and wait for its end: its exit code."""
        await self.spawn()
        return await self.wait(within_s)

    # watching

    def _started(self) -> asyncio.subprocess.Process:
        if self._process is None:
            raise ProcessError(f"{self.name} was not started")
        return self._process

    @property
    def pid(self) -> int:
        return self._started().pid

    @property
    def running(self) -> bool:
        return self._started().returncode is None

    @property
    def returncode(self) -> int | None:
        """The exit code (negative: the signal that ended it); None while it runs."""
        return self._started().returncode

    @property
    def stdout(self) -> str:
        return "\n".join(self.stdout_lines)

    @property
    def stderr(self) -> str:
        return "\n".join(self.stderr_lines)

    @property
    def output(self) -> str:
        """Everything it wrote, both streams, in the order read."""
        return "\n".join(self.output_lines)

    def describe(self) -> str:
        """Its output so far, for a failure's message."""
        return f"stdout:\n{self.stdout}\nstderr:\n{self.stderr}"

    # ending

    def send_signal(self, sig: signal.Signals) -> None:
        """A signal to the process itself (not its group), e.g. SIGINT as Ctrl-C would."""
        with contextlib.suppress(ProcessLookupError):
            self._started().send_signal(sig)

    def kill(self) -> None:
        """SIGKILL to its whole process group, now, without waiting (as a crash would); `wait()` for its end."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.pid, signal.SIGKILL)

    async def wait(self, within_s: float = EXIT_DEADLINE_S) -> int:
        """Its exit code, once its output is read in full; if it has not ended within the bound, it is stopped
        and ProcessError raised."""
        try:
            code = await asyncio.wait_for(self._started().wait(), within_s)
        except TimeoutError:
            await self.stop()
            raise ProcessError(f"`{self.name}` did not exit within {within_s:.0f} s\n{self.describe()}") from None
        await asyncio.gather(*self._readers)
        return code

    async def stop(self) -> int:
        """SIGTERM; SIGKILL to its process group if it still runs after `term_grace_s`. Its exit code."""
        process = self._started()
        if process.returncode is None:
            self.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(process.wait(), self.term_grace_s)
            except TimeoutError:
                self.forced = True
                self.kill()
        code = await process.wait()
        await asyncio.gather(*self._readers)
        return code

    async def __aenter__(self) -> Self:
        await self.spawn()
        try:
            await self.wait_until_ready()
        except BaseException:
            await self.stop()
            raise
        return self

    async def __aexit__(self, kind: type[BaseException] | None, error: BaseException | None,
                        traceback: TracebackType | None) -> None:
        await self.stop()


class ServerProcess(ChildProcess):
    """A program serving HTTP on the loopback `port`: ready once `ready_path` answers 200 (and `output_ready()`)."""

    ready_path = "/readyz"

    def __init__(self, argv: Sequence[str], env: Mapping[str, str] | None = None, *, port: int,
                 name: str | None = None, term_grace_s: float = TERM_GRACE_S) -> None:
        super().__init__(argv, env, name=name, term_grace_s=term_grace_s)
        self.port = port
        self.url = f"http://127.0.0.1:{port}"

    def output_ready(self) -> bool:
        """Whether its output shows it ready; a subclass waits for a line here."""
        return True

    async def wait_until_ready(self, within_s: float = START_DEADLINE_S) -> None:
        """Until `ready_path` answers 200 and `output_ready()`; ProcessError if it exits first or the bound passes."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within_s
        async with httpx.AsyncClient(base_url=self.url, timeout=2.0, trust_env=False) as http:
            while True:
                if not self.running:
                    code = await self.wait()
                    raise ProcessError(f"`{self.name}` exited with {code} before serving\n{self.describe()}")
                with contextlib.suppress(httpx.HTTPError):
                    if (await http.get(self.ready_path)).status_code == 200 and self.output_ready():
                        return
                if loop.time() > deadline:
                    raise ProcessError(f"`{self.name}` was not ready within {within_s:.0f} s\n{self.describe()}")
                await asyncio.sleep(POLL_S)


class GatewayProcess(ServerProcess):
    """`python -m gateway serve [options]` on `data_dir` (the embedded database's home unless `env` names
    GATEWAY_MONGODB_URI), on `port` or a free one; `env` holds GATEWAY_ settings. Ready once /healthz answers
    and its start-up banner (which holds the dev tokens) has been read in full."""

    ready_path = "/healthz"

    def __init__(self, data_dir: Path, *options: str, env: Mapping[str, str] | None = None, port: int | None = None,
                 term_grace_s: float = TERM_GRACE_S) -> None:
        port = free_port() if port is None else port
        super().__init__([sys.executable, "-m", "gateway", "serve", *options], gateway_env(data_dir, port, env),
                         port=port, name="gateway", term_grace_s=term_grace_s)
        self.data_dir = data_dir
        self.graphql_url = f"{self.url}/graphql"
        self.ws_url = f"ws://127.0.0.1:{port}/graphql"

    def output_ready(self) -> bool:
        return any(line.startswith("  Try:") or "Issue a token with" in line for line in self.banner())

    def banner(self) -> list[str]:
        """The start-up banner's lines, from its log record: one JSON line, or a text line and its indented ones."""
        lines = self.stderr_lines
        for i, line in enumerate(lines):
            if line.startswith("{"):
                record = json.loads(line)
                if record["logger"] == "gateway" and record["message"].startswith(BANNER_START):
                    message: str = record["message"]
                    return message.splitlines()
            elif f" gateway: {BANNER_START}" in line:
                rest = itertools.takewhile(lambda text: text.startswith("  "), lines[i + 1:])
                return [line[line.index(BANNER_START):], *rest]
        return []

    def database_pids(self) -> list[int]:
        """Its embedded database (a child in a session of its own): one while it serves, none without."""
        return database_pids(self.data_dir)


class GatewayCommand(ChildProcess):
    """Another `gateway` command (`seed`, `token ...`, `rpl load ...`) on `data_dir`, e.g. `await command.run()`."""

    def __init__(self, data_dir: Path, *args: str, env: Mapping[str, str] | None = None) -> None:
        super().__init__([sys.executable, "-m", "gateway", *args], gateway_env(data_dir, None, env),
                         name=f"gateway {args[0]}" if args else "gateway")
        self.data_dir = data_dir


# --- a database of one's own --------------------------------------------------------------------------------------


class DatabaseProcess(EmbeddedDatabase):
    """A SecantusDB process of the caller's own, its storage and log in `data_dir`, on a free loopback port kept
    across restarts (clients holding `url` reconnect): for gateways given GATEWAY_MONGODB_URI, and for faults."""

    @property
    def url(self) -> str:
        return self.uri

    async def restart(self, within_s: float = START_DEADLINE_S) -> str:
        """Start it again after a `kill()` or `stop()`, on its port and storage; a start that fails at once (the
        port not free yet) is tried again until the bound."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within_s
        while True:
            try:
                return await self.start()
            except EmbeddedDatabaseError as exc:
                if loop.time() >= deadline:
                    raise ProcessError(f"SecantusDB did not come back on port {self.port}: {exc}") from exc
                await asyncio.sleep(POLL_S)

    @property
    def output(self) -> str:
        """Its log (warnings and errors), read from its file."""
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(self, kind: type[BaseException] | None, error: BaseException | None,
                        traceback: TracebackType | None) -> None:
        await self.stop()


# --- everything a test or a run started ---------------------------------------------------------------------------


class Processes:
    """The processes one test or run started, stopped together by `close()` (or on leaving `async with`).

    Database processes already running on a gateway's data dir when it was started are not ours: they are spared.
    """

    def __init__(self) -> None:
        self.started: list[ChildProcess] = []
        self._others: dict[Path, set[int]] = {}  # database processes running on a data dir before we came

    async def spawn(self, process: P) -> P:
        """Start `process` and keep it for `close()`, without waiting for anything."""
        if isinstance(process, GatewayProcess | GatewayCommand):
            self._others.setdefault(process.data_dir, set(database_pids(process.data_dir)))
        await process.spawn()
        self.started.append(process)
        return process

    async def start(self, process: P, within_s: float = START_DEADLINE_S) -> P:
        """Start `process` and wait until it is ready (a gateway: until it serves)."""
        await self.spawn(process)
        await process.wait_until_ready(within_s)
        return process

    async def run(self, process: P, within_s: float = EXIT_DEADLINE_S) -> P:
        """Start `process` and wait for its end (its exit code is `process.returncode`)."""
        await self.spawn(process)
        await process.wait(within_s)
        return process

    async def close(self) -> list[str]:
        """Stop every process, newest first, then the database children they left behind. Returns what did not go
        as it should (a process that had to be killed or exited oddly, a database that had to be stopped); a
        database that outlives even SIGKILL raises ProcessError."""
        notes = []
        for process in reversed(self.started):
            code = await process.stop()
            if process.forced:
                notes.append(f"{process.name} pid {process.pid} ignored SIGTERM for {process.term_grace_s:.0f} s: "
                             "killed")
            elif code not in (0, -signal.SIGTERM):
                notes.append(f"the {process.name} exited with code {code}")
        for data_dir, others in self._others.items():
            notes += await stop_databases(data_dir, others)
            await wait_until_no_database(data_dir, others, DATABASE_GRACE_S)
        return notes

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, kind: type[BaseException] | None, error: BaseException | None,
                        traceback: TracebackType | None) -> None:
        await self.close()
