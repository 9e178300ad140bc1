"""What the own-cost and mixed-load benchmarks share: the dashboard query, field counting, in-process serving, figures.

Process helpers (free ports, stopping process groups, percentiles, log scanning) stay where they were first
written, in bench.provisioning and bench.fanout, and are imported from there.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, Literal

import uvicorn
from starlette.types import ASGIApp

from bench.provisioning import free_port

# The partner dashboard's first screen: 50 customers, each with its owner, its template, its packages (with how
# many subscribers hold each) and its subscriber count. Sub-partners' customers are included, so that owners differ.
DASHBOARD = """query Dashboard {
  customers(first: 50, filter: {includeSubPartners: true}) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges {
      cursor
      node {
        id externalId name status lastStatusChange
        owner { id name kind }
        template { id name country }
        packages { name status limit assigned }
        subscribers(first: 0) { totalCount }
      }
    }
  }
}"""
START_DEADLINE_S = 60.0  # uvicorn (and, for ours, its lifespan: the database connection) must be up by then


def count_fields(value: Any) -> int:
    """Resolved fields in a GraphQL `data` value: every key of every object (leaf or not), and each list item.

    `{"a": 1, "b": {"c": 2}}` is 3; `{"xs": [{"c": 1}, {"c": 2}]}` is 1 (xs) + 2 (items) + 2 (c) = 5.
    """
    if isinstance(value, dict):
        return sum(1 + count_fields(v) for v in value.values())
    if isinstance(value, list):
        return sum(1 + count_fields(v) for v in value)
    return 0


@asynccontextmanager
async def serving(app: ASGIApp, lifespan: Literal["on", "off"]) -> AsyncIterator[str]:
    """Serve `app` with uvicorn on a free loopback port, in this event loop; yields its base URL.

    Access logs are off: both sides of a comparison are served alike, and the terminal stays readable.
    """
    port = free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, lifespan=lifespan, log_level="warning",
                            access_log=False)
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    loop = asyncio.get_running_loop()
    deadline = loop.time() + START_DEADLINE_S
    while not server.started:  # uvicorn offers nothing to wait on
        if task.done():
            task.result()  # its exception, if it has one
            raise RuntimeError("uvicorn stopped before it started (see the log above)")
        if loop.time() > deadline:
            raise RuntimeError(f"uvicorn did not start within {START_DEADLINE_S:.0f} s")
        await asyncio.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, 60)


@dataclass(frozen=True)
class Figure:
    """One row of the summary table."""

    name: str
    value: str
    target: str
    command: str


def summary(figures: list[Figure]) -> None:
    """Print the figures as one table, with the command that measures each again."""
    columns = ("figure", "value", "target", "reproduce with")
    rows = [(f.name, f.value, f.target, f.command) for f in figures]
    widths = [max([len(c), *(len(r[i]) for r in rows)]) for i, c in enumerate(columns)]
    print("  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True)).rstrip())
    print("  ".join("-" * w for w in widths))
    for row in rows:
        print("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())


def fmt(value: float, digits: int = 1) -> str:
    return "n/a" if value != value else f"{value:.{digits}f}"  # NaN: no value


def ratio(numerator: float, denominator: float) -> float:
    """numerator ÷ denominator; NaN when either is missing or the denominator is not positive."""
    if numerator != numerator or denominator != denominator or denominator <= 0:
        return float("nan")
    return numerator / denominator
