"""`python -m bench`: the gateway's own cost (with Motor and PyMongo) and the mixed load, then one summary table.

Each part prints its own report as it finishes; the summary at the end gives one row per figure with the command
that measures it again. The provisioning, fan-out, billing and bulk-import benchmarks are longer and run on their own
(`python -m bench.provisioning`, `python -m bench.fanout`, `python -m bench.billing`, `python -m bench.bulk_import`).

    cd /work/main && .venv/bin/python -m bench            # about 5-6 minutes
    cd /work/main && .venv/bin/python -m bench --quick    # about 2-3 minutes: 20 s of load, fewer rounds
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from collections.abc import Callable

from bench import mixed_load, own_cost
from bench.support.cli import log
from bench.support.processes import raise_open_files_limit
from bench.support.stats import Figure, summary

QUICK_ROUNDS, QUICK_WARMUP, QUICK_SECONDS = 30, 10, 20.0


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--quick", action="store_true",
                        help=f"{QUICK_ROUNDS} measured rounds and {QUICK_SECONDS:g} s of load")
    parser.add_argument("--rounds", type=int, help="own-cost measured rounds (default 100, --quick 30)")
    parser.add_argument("--seconds", type=float, help="mixed-load length (default 120, --quick 20)")
    parser.add_argument("--skip", choices=["own-cost", "mixed-load"], action="append", default=[],
                        help="leave a part out (repeatable)")
    return parser.parse_args(argv)


def part_args(add: Callable[[argparse.ArgumentParser], None], values: list[str]) -> argparse.Namespace:
    """A part's own defaults, with `values` given as on its command line."""
    parser = argparse.ArgumentParser()
    add(parser)
    return parser.parse_args(values)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    raise_open_files_limit()
    started = time.monotonic()
    figures: list[Figure] = []
    if "own-cost" not in args.skip:
        values = []
        if args.quick or args.rounds is not None:
            values += ["--rounds", str(args.rounds if args.rounds is not None else QUICK_ROUNDS)]
        if args.quick:
            values += ["--warmup", str(QUICK_WARMUP)]
        result = asyncio.run(own_cost.measure(part_args(own_cost.add_arguments, values)))
        own_cost.report(result)
        figures += own_cost.figures(result, " ".join([own_cost.COMMAND, *values]))
    if "mixed-load" not in args.skip:
        values = []
        if args.quick or args.seconds is not None:
            values += ["--seconds", f"{args.seconds if args.seconds is not None else QUICK_SECONDS:g}"]
        load = asyncio.run(mixed_load.run(part_args(mixed_load.add_arguments, values)))
        mixed_load.report(load)
        figures += mixed_load.figures(load, " ".join([mixed_load.COMMAND, *values]))
    log(f"bench: done in {time.monotonic() - started:.0f} s")
    print()
    print("Summary (the machine is shared: runs vary; see each part's report above for how it was measured)")
    summary(figures)
    return 0


if __name__ == "__main__":
    sys.exit(main())
