"""Figures: percentiles, formatting, ratios, tables, and the database time of a request (pymongo command monitoring)."""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass

from pymongo.monitoring import CommandFailedEvent, CommandListener, CommandStartedEvent, CommandSucceededEvent


def percentile(values: list[float], fraction: float) -> float:
    """Nearest-rank percentile; NaN for no values."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = math.ceil(round(fraction * len(ordered), 9))  # rounded first: 0.99 * 100 is 98.99999999999999
    return ordered[min(max(rank, 1), len(ordered)) - 1]


def fmt(value: float | None, digits: int = 1) -> str:
    """A figure with `digits` decimals; "n/a" for none (None or NaN)."""
    return "n/a" if value is None or value != value else f"{value:.{digits}f}"


def ratio(numerator: float | None, denominator: float | None) -> float:
    """numerator ÷ denominator; NaN when either is missing or the denominator is not positive."""
    if numerator is None or denominator is None or numerator != numerator or denominator != denominator \
            or denominator <= 0:
        return float("nan")
    return numerator / denominator


def mib(kb: int | None) -> str:
    return "n/a" if kb is None else f"{kb / 1024:.1f}"


def _widths(columns: Sequence[str], rows: Sequence[Sequence[str]]) -> list[int]:
    return [max([len(c), *(len(r[i]) for r in rows)]) for i, c in enumerate(columns)]


def table(columns: list[str], rows: list[list[str]]) -> None:
    """Print a table, every column right-aligned to its widest cell."""
    widths = _widths(columns, rows)
    for row in [columns, *rows]:
        print("  ".join(c.rjust(w) for c, w in zip(row, widths, strict=True)))


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
    widths = _widths(columns, rows)
    print("  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True)).rstrip())
    print("  ".join("-" * w for w in widths))
    for row in rows:
        print("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())


class DatabaseTime(CommandListener):
    """The database commands since the last reset, each as the interval the driver waited for the server's reply.

    A request's commands overlap (DataLoaders batch concurrently), so their summed durations can exceed the
    request itself; `busy_us` is the union of the intervals: the wall time during which at least one command was
    in flight. Motor reports from its threads, PyMongo's async client from the event loop: hence the lock.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._intervals: list[tuple[int, int]] = []  # perf_counter_ns at send, at reply

    def reset(self) -> None:
        with self._lock:
            self._intervals = []

    def started(self, event: CommandStartedEvent) -> None:
        pass

    def succeeded(self, event: CommandSucceededEvent) -> None:
        self._add(event.duration_micros)

    def failed(self, event: CommandFailedEvent) -> None:
        self._add(event.duration_micros)

    def _add(self, micros: int) -> None:
        end = time.perf_counter_ns()
        with self._lock:
            self._intervals.append((end - micros * 1000, end))

    def read(self) -> tuple[float, float, int]:
        """(busy µs, summed µs, commands) since the last reset."""
        with self._lock:
            intervals = sorted(self._intervals)
        busy = 0
        reach = None  # the end of the merged run so far
        for start, end in intervals:
            if reach is None or start > reach:
                busy += end - start
                reach = end
            elif end > reach:
                busy += end - reach
                reach = end
        summed = sum(end - start for start, end in intervals)
        return busy / 1000, summed / 1000, len(intervals)
