"""The garbage collector, tuned for a server: what start-up built is kept out of every later collection.

A started gateway holds hundreds of thousands of long-lived objects (the schema, its types, Strawberry's and
graphql-core's definitions, pydantic validators, the drivers). CPython's cyclic collector walks the objects of the
generation it collects; with the default thresholds a request of the dashboard triggers several young collections
and, every few requests, a full one that walks all of them again — measured at a quarter of the request's CPU.

`settle_heap`, once per process after start-up: a full collection, then `gc.freeze()` moves every surviving object
into the permanent generation (never walked again; they live as long as the process anyway), and the young
generation's threshold goes from 700 to `YOUNG_THRESHOLD` allocations, so requests trigger fewer, not larger,
collections. Reference counting frees almost everything a request allocates without the collector; cycles are still
collected, only less often.
"""

from __future__ import annotations

import gc
import logging

log = logging.getLogger(__name__)

YOUNG_THRESHOLD = 10_000
_settled = False


def settle_heap() -> bool:
    """Freeze what start-up built and raise the young threshold; once per process (True when it did it now)."""
    global _settled
    if _settled:
        return False
    _settled = True
    gc.collect()
    gc.freeze()
    _, older, oldest = gc.get_threshold()
    gc.set_threshold(YOUNG_THRESHOLD, older, oldest)
    log.info("heap settled: %d start-up objects frozen out of collections, young threshold %d",
             gc.get_freeze_count(), YOUNG_THRESHOLD)
    return True
