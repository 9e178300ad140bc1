"""What the benchmarks' command lines share: argument types, and progress lines on stderr."""

from __future__ import annotations

import argparse
import sys
from datetime import datetime


def log(message: str) -> None:
    print(f"[{datetime.now():%H:%M:%S}] {message}", file=sys.stderr, flush=True)


def positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def sizes(text: str) -> list[int]:
    try:
        values = [positive_int(part) for part in text.split(",") if part.strip()]
    except (ValueError, argparse.ArgumentTypeError):
        raise argparse.ArgumentTypeError("a comma-separated list of positive integers, e.g. 100,1000") from None
    if not values:
        raise argparse.ArgumentTypeError("at least one size")
    return values
