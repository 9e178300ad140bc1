"""The servers a benchmark runs, and what it reads of them.

Processes (`gateway serve`, the naive broadcast server) are gateway.processes'; `started` runs one for the body of
a `with` and turns what went wrong into report notes: a forced stop or an odd exit code, a database child left
behind, warnings, errors and non-200 answers in its output and in its embedded database's log. Servers in this
process (`serving`: uvicorn on this event loop) are for the comparisons that share one loop. Also: a scratch
directory per run, the open-files limit, and memory and CPU readings from /proc.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import resource
import shutil
import socket
import tempfile
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Literal, TypeVar

import uvicorn
from starlette.types import ASGIApp

from gateway.processes import GatewayProcess, Processes, ServerProcess, free_port

TERM_GRACE_S = 20.0  # SIGTERM, then SIGKILL (a gateway's graceful shutdown may take 15 s: GracefulServer)
IN_PROCESS_START_S = 60.0  # uvicorn (and, for ours, its lifespan: the database connection) must be up by then
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
S = TypeVar("S", bound=ServerProcess)


@contextlib.contextmanager
def scratch(prefix: str, keep: bool, notes: list[str]) -> Iterator[Path]:
    """A temporary directory for one run (data, logs); removed afterwards unless `keep` (then noted)."""
    base = Path(tempfile.mkdtemp(prefix=prefix))
    try:
        yield base
    finally:
        if keep:
            notes.append(f"kept {base}")
        else:
            shutil.rmtree(base, ignore_errors=True)


@contextlib.asynccontextmanager
async def started(server: S, notes: list[str], within_s: float, log_dir: Path) -> AsyncIterator[S]:
    """`server` started and serving for the body; then stopped, with what went wrong added to `notes`. Its output
    is written to `log_dir` (kept with the run's scratch directory)."""
    processes = Processes()
    try:
        yield await processes.start(server, within_s)
    finally:
        notes += await processes.close()
        (log_dir / f"{server.name.replace(' ', '-')}.log").write_text(server.output)
        notes += problems_in_output(server.output_lines, f"{server.name} output")
        if isinstance(server, GatewayProcess) and (database_log := server.data_dir / "secantusd.log").exists():
            notes += problems_in_output(database_log.read_text(errors="replace").splitlines(), "database log")


def problems_in_output(lines: list[str], label: str) -> list[str]:
    """Warnings, errors and non-200 answers in a process's output, each traceback shortened to its exception."""
    statuses: Counter[str] = Counter()
    problems: list[str] = []
    in_traceback = False
    for line in lines:
        if in_traceback:
            if line[:1] in (" ", "\t", "") or line.startswith(("Traceback", "During handling", "The above")):
                continue
            problems[-1] += f" -> {line.strip()}"  # the exception that ends the traceback
            in_traceback = False
            continue
        access = re.search(r'"(?:GET|POST) \S+ HTTP/[\d.]+" (\d{3})', line)
        if access:
            statuses[access.group(1)] += 1
        elif line.startswith("Traceback"):
            in_traceback = True
            if not problems:
                problems.append("traceback")
        elif re.search(r"\b(WARNING|ERROR|CRITICAL)\b", line):
            problems.append(line.strip())
    notes = []
    odd = {code: count for code, count in statuses.items() if code != "200"}
    if odd:
        notes.append(f"{label}: HTTP answers other than 200: {odd}")
    if problems:
        notes.append(f"{label}: {len(problems)} warning/error(s), first ones:")
        notes += [f"    {line[:400]}" for line in problems[:8]]
    return notes


class _Server(uvicorn.Server):
    """Uvicorn, with an event set once it has started (it offers none of its own)."""

    def __init__(self, config: uvicorn.Config) -> None:
        super().__init__(config)
        self.up = asyncio.Event()

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        if self.started:
            self.up.set()


@contextlib.asynccontextmanager
async def serving(app: ASGIApp, lifespan: Literal["on", "off"]) -> AsyncIterator[str]:
    """Serve `app` with uvicorn on a free loopback port, in this event loop; yields its base URL.

    Access logs are off: both sides of a comparison are served alike, and the terminal stays readable.
    """
    port = free_port()
    server = _Server(uvicorn.Config(app, host="127.0.0.1", port=port, lifespan=lifespan, log_level="warning",
                                    access_log=False))
    task = asyncio.create_task(server.serve())
    up = asyncio.create_task(server.up.wait())
    await asyncio.wait([task, up], timeout=IN_PROCESS_START_S, return_when=asyncio.FIRST_COMPLETED)
    if not up.done():
        up.cancel()
        if task.done():
            task.result()  # its exception, if it has one
            raise RuntimeError("uvicorn stopped before it started (see the log above)")
        raise RuntimeError(f"uvicorn did not start within {IN_PROCESS_START_S:.0f} s")
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, 60)


def raise_open_files_limit() -> tuple[int, int]:
    """Soft RLIMIT_NOFILE up to the hard limit, in this process and so in every child it starts."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or soft < hard:
        target = hard if hard != resource.RLIM_INFINITY else max(soft, 1 << 20)
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)


def proc_status(pid: int, key: str) -> int | None:
    """A `kB` figure of /proc/<pid>/status (VmRSS, VmHWM), in KiB."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        return None
    return None


def cpu_seconds(pid: int) -> float | None:
    """utime + stime of a process (its own threads, not its children)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS  # fields 14 and 15 of stat(5)


def open_files_limit(pid: int) -> str:
    try:
        for line in Path(f"/proc/{pid}/limits").read_text().splitlines():
            if line.startswith("Max open files"):
                soft, hard = line.split()[3:5]
                return f"{soft}/{hard}"
    except (OSError, ValueError):
        pass
    return "?"
