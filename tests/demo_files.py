"""The seeded demo's documents as a file that the xdist workers of one test run share (tests/conftest.py DemoData).

The first worker to need a state of the demo takes its lock, seeds it and writes the file; a worker that asks
meanwhile waits for the lock and reads the file. The lock is an `fcntl.flock` on a file beside it, released when
its holder closes it or dies (a worker that fails to seed leaves no file: the next one seeds instead).

The documents are stored as BSON, decoded with the options of the gateway's clients (`tz_aware`), so that a copy
read from the file is the very documents a find on the seeded database returns: the same types (datetimes in
UTC, Decimal128, binary, ObjectId…), values and field order.
"""

from __future__ import annotations

import asyncio
import fcntl
import os
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import IO

import bson
import pytest
from bson.codec_options import CodecOptions

from domain.store.driver import Document

Documents = dict[str, list[Document]]
# What the gateway's clients decode with (domain/store/driver.py: `tz_aware=True`, the default document class).
CODEC_OPTIONS: CodecOptions[Document] = CodecOptions(tz_aware=True)


def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path | None:
    """A directory that every worker of this xdist run shares, or None without workers (nothing to share).

    xdist gives each worker a base temporary directory inside the run's own (`.../pytest-N/popen-gw0`), so the
    parent is the run's; the run's id (`PYTEST_XDIST_TESTRUNUID`) names the subdirectory, to be sure.
    """
    run = os.environ.get("PYTEST_XDIST_TESTRUNUID")
    if not run:
        return None
    shared = tmp_path_factory.getbasetemp().parent / f"demo-{run}"
    shared.mkdir(exist_ok=True)
    return shared


def write(path: Path, documents: Documents) -> None:
    """All collections in one file, a BSON document per stored document; renamed into place once complete."""
    partial = path.with_suffix(".partial")
    with partial.open("wb") as out:
        for name, docs in documents.items():
            for doc in docs:
                out.write(bson.encode({"c": name, "d": doc}, codec_options=CODEC_OPTIONS))
    partial.replace(path)


def read(path: Path) -> Documents:
    documents: Documents = {}
    with path.open("rb") as source:
        for entry in bson.decode_file_iter(source, CODEC_OPTIONS):
            documents.setdefault(entry["c"], []).append(entry["d"])
    return documents


def _locked(path: Path) -> IO[bytes]:
    handle = path.open("ab")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX)  # blocks until the holder closes it
    except BaseException:
        handle.close()
        raise
    return handle


async def read_or_write(path: Path, make: Callable[[], Awaitable[Documents]]) -> Documents:
    """The documents in `path`; made (and written there) by whichever worker asks first, under the file's lock.

    The lock is awaited in a thread, so that this worker's event loop (its servers, its clients' monitors) runs on.
    """
    lock = await asyncio.to_thread(_locked, path.with_suffix(".lock"))
    try:
        if await asyncio.to_thread(path.exists):
            return await asyncio.to_thread(read, path)
        documents = await make()
        await asyncio.to_thread(write, path, documents)
        return documents
    finally:
        lock.close()
